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
