"""The joint layout: structure, and the same rules applied to MediaPipe landmarks and mocap joints."""
from __future__ import annotations

import numpy as np
import pytest

from hpe3d_ros import skeleton as sk


def test_layout_is_a_tree_rooted_at_the_pelvis():
    assert sk.NUM_JOINTS == 16 and sk.PARENTS[sk.ROOT] == -1
    for j, p in enumerate(sk.PARENTS):
        if j != sk.ROOT:
            assert 0 <= p < sk.NUM_JOINTS and p != j
    assert len(sk.BONES) == 15


def test_mirror_is_an_involution_that_swaps_left_and_right():
    for j, m in enumerate(sk.MIRROR):
        assert sk.MIRROR[m] == j
        name = sk.JOINT_NAMES[j]
        if name.startswith("left_"):
            assert sk.JOINT_NAMES[m] == "right_" + name[5:]
        elif not name.startswith("right_"):
            assert m == j


def test_torso_and_legs_partition_the_joints():
    assert sorted(sk.TORSO + sk.LEGS) == list(range(sk.NUM_JOINTS))
    assert sk.ROOT in sk.TORSO


def test_mediapipe_rules():
    rng = np.random.default_rng(0)
    lm = rng.normal(size=(3, 33, 2))
    out = sk.from_mediapipe(lm)
    np.testing.assert_allclose(out[:, 0], (lm[:, 23] + lm[:, 24]) / 2)  # pelvis: mid-hips
    np.testing.assert_allclose(out[:, 8], (lm[:, 11] + lm[:, 12]) / 2)  # thorax: mid-shoulders
    np.testing.assert_allclose(out[:, 7], (out[:, 0] + out[:, 8]) / 2)  # spine: mid pelvis-thorax
    np.testing.assert_allclose(out[:, 9], (lm[:, 7] + lm[:, 8]) / 2)  # head: mid-ears
    np.testing.assert_allclose(out[:, 12], lm[:, 15])  # left wrist
    with pytest.raises(ValueError, match="33"):
        sk.from_mediapipe(np.zeros((17, 2)))


def test_scores_take_the_weakest_source_landmark():
    vis = np.linspace(0.0, 1.0, 33)
    s = sk.scores_from_mediapipe(vis)
    assert s[0] == min(vis[23], vis[24])
    assert s[7] == min(s[0], s[8])


def test_mocap_rules_and_unknown_skeleton():
    names = list(sk.MOCAP_JOINTS_USED) + ["Toes_L"]
    pos = np.arange(len(names) * 3, dtype=float).reshape(len(names), 3)
    out = sk.from_mocap(pos, names)
    i = {n: k for k, n in enumerate(names)}
    np.testing.assert_allclose(out[0], (pos[i["UpperLeg_L"]] + pos[i["UpperLeg_R"]]) / 2)
    np.testing.assert_allclose(out[9], pos[i["Head"]])
    with pytest.raises(KeyError, match="Hand_R"):
        sk.from_mocap(pos[:-1], [n for n in names if n != "Hand_R"] + ["Other"])


def test_layout_hash_is_in_the_description_and_stable():
    d = sk.layout_description()
    assert d["hash"] == sk.layout_hash() and d["joints"] == list(sk.JOINT_NAMES)


def test_every_source_has_one_valid_rule_per_joint():
    for src in sk.SOURCES.values():
        assert set(src.rules) == set(sk.JOINT_NAMES)
    broken = sk.Source("broken", "Broken", {n: sk.avg(0) for n in sk.JOINT_NAMES[:-1]})
    saved = dict(sk.SOURCES)
    try:
        sk.SOURCES["broken"] = broken
        with pytest.raises(ValueError, match=r"source 'broken'.*none for \['right_wrist'\]"):
            sk._check_sources()
    finally:
        sk.SOURCES.clear()
        sk.SOURCES.update(saved)


def test_a_new_source_is_one_entry_and_keeps_the_layout_hash(monkeypatch):
    """A 2D detector with COCO-17 keypoints: its rules map onto the same joints without touching JOINTS."""
    coco = {"nose": 0, "left_ear": 3, "right_ear": 4, "left_shoulder": 5, "right_shoulder": 6, "left_elbow": 7,
            "right_elbow": 8, "left_wrist": 9, "right_wrist": 10, "left_hip": 11, "right_hip": 12, "left_knee": 13,
            "right_knee": 14, "left_ankle": 15, "right_ankle": 16}
    direct = {n: sk.avg(coco[n]) for n in sk.JOINT_NAMES if n in coco}
    rules = {
        **direct,
        "pelvis": sk.avg(coco["left_hip"], coco["right_hip"]),
        "spine": sk.mid("pelvis", "thorax"),
        "thorax": sk.avg(coco["left_shoulder"], coco["right_shoulder"]),
        "head": sk.avg(coco["left_ear"], coco["right_ear"]),
    }
    before = sk.layout_hash()
    monkeypatch.setitem(
        sk.SOURCES,
        "coco17",
        sk.Source("coco17", "COCO-17", rules, num_points=17, point_names={v: k for k, v in coco.items()}),
    )
    sk._check_sources()
    kp = np.random.default_rng(1).normal(size=(2, 17, 2))
    out = sk.from_source(kp, "coco17")
    np.testing.assert_allclose(out[:, 0], (kp[:, 11] + kp[:, 12]) / 2)
    np.testing.assert_allclose(out[:, 7], (out[:, 0] + out[:, 8]) / 2)
    vis = np.linspace(0.0, 1.0, 17)
    assert sk.scores_from_source(vis, "coco17")[9] == min(vis[3], vis[4])
    assert sk.layout_hash() == before  # the model contract does not depend on which detector feeds it
    header = sk.layout_table_markdown().splitlines()[0]
    assert header.endswith("| MediaPipe BlazePose rule | Bandai Namco mocap rule | COCO-17 rule |")
    assert "| mean of left_ear (3) and right_ear (4) |" in sk.layout_table_markdown().splitlines()[11]


def test_the_hash_changes_when_a_hashed_rule_changes(monkeypatch):
    before = sk.layout_hash()
    mp = sk.SOURCES["mediapipe"]
    monkeypatch.setitem(
        sk.SOURCES,
        "mediapipe",
        sk.Source(mp.name, mp.title, {**mp.rules, "head": sk.avg(sk.MP["nose"])}, mp.num_points, mp.point_names),
    )
    assert sk.layout_hash() != before
