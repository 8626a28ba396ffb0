"""The replay report's numbers on synthetic frame records whose answers are known by construction."""
from __future__ import annotations

import json

import numpy as np
import pytest

from hpe3d_ros import skeleton
from hpe3d_ros.replay.records import FrameRecord
from hpe3d_ros.replay.report import analyse, write_report

J = skeleton.NUM_JOINTS
DT_NS = 100_000_000  # 10 fps


def _body(offset) -> np.ndarray:
    rng = np.random.default_rng(0)
    base = rng.normal(0, 0.3, (J, 3))
    base[:, 2] = 0
    return base + np.asarray(offset, dtype=np.float64)


def _rec(i, people: dict[int, np.ndarray], status="processed", gt=None, timings=None):
    ids = np.array(sorted(people), dtype=np.int64)
    joints = np.stack([people[t] for t in ids]) if len(ids) else np.zeros((0, J, 3))
    return FrameRecord(
        i,
        1_000 + i * DT_NS,
        1_000 + i * DT_NS,
        status=status,
        timings=timings or {"total": 0.01 * (i + 1)},
        latency_s=0.02,
        track_ids=ids if status == "processed" else ids[:0],
        joints=joints if status == "processed" else joints[:0],
        upright=joints if status == "processed" else joints[:0],
        confidence=np.ones((len(ids), J)),
        plausibility=np.full(len(ids), 3.0),
        elevation=np.full(len(ids), 0.1),
        gt_joints=gt,
    )


def test_jitter_is_the_joint_acceleration_of_a_track():
    a = 2.0  # m/s^2 along x for the whole body: zero pose jitter, root acceleration exactly a
    frames = [_rec(i, {1: _body([0.5 * a * (i * 0.1) ** 2, 0, 5])}) for i in range(10)]
    r = analyse(frames)
    assert r["jitter"]["root_acceleration_m_s2"]["p50"] == pytest.approx(a, rel=1e-6)
    assert r["jitter"]["pose_acceleration_m_s2"]["max"] == pytest.approx(0.0, abs=1e-9)
    assert r["bone_length_stability"]["tracks"]["1"]["std_mm_mean"] == pytest.approx(0.0, abs=1e-6)
    assert r["tracks"]["count"] == 1 and r["tracks"]["lengths"] == {"1": 10}


def test_bone_length_changes_show_as_instability():
    frames = []
    for i in range(8):
        scale = 1.0 + (0.1 if i % 2 else -0.1)
        frames.append(_rec(i, {3: _body([0, 0, 5]) * np.array([scale, scale, 1]) + np.array([0, 0, 5 - 5 * 1])}))
    r = analyse(frames)
    b = r["bone_length_stability"]["tracks"]["3"]
    assert b["cv_mean"] > 0.05 and b["std_mm_mean"] > 5.0


def test_counts_people_drops_and_estimated_id_switches():
    frames = []
    for i in range(12):
        if i == 5:
            frames.append(_rec(i, {}, status="dropped"))
            continue
        people = {1 if i < 5 else 2: _body([0.01 * i, 0, 5])}  # the same person comes back under a new id
        if i >= 8:
            people[7] = _body([3, 0, 8])  # somebody else, far away
        frames.append(_rec(i, people))
    r = analyse(frames)
    assert r["frames"]["in"] == 12 and r["frames"]["processed"] == 11 and r["frames"]["dropped"] == 1
    assert r["people_per_frame"]["histogram"] == {"1": 7, "2": 4}
    assert r["tracks"]["count"] == 3 and r["tracks"]["id_switches_estimated"] == 1
    assert r["latency_ms"]["total"]["n"] == 11 and r["latency_ms"]["end_to_end"]["p50"] == pytest.approx(20.0)
    assert r["elevation_deg"]["p50"] == pytest.approx(np.degrees(0.1))
    assert r["accuracy"] is None


def test_accuracy_matches_people_to_ground_truth_by_root(tmp_path):
    gt_a, gt_b = _body([0, 0, 5]), _body([2, 0, 9])
    frames = []
    for i in range(4):
        # predictions listed in the opposite order of the ground truth; b is 10 cm off along x (all joints)
        frames.append(_rec(i, {1: gt_b + [0.1, 0, 0], 2: gt_a}, gt=np.stack([gt_a, gt_b])))
    r = write_report(frames, tmp_path, {"test": True})
    acc = r["accuracy"]
    assert acc["matched"] == 8 and acc["missed"] == 0
    assert acc["mpjpe_mm"] == pytest.approx(0.0, abs=1e-6)  # root-centred: a pure shift is no pose error
    assert acc["root_position_error_mm"]["max"] == pytest.approx(100.0)
    assert json.loads((tmp_path / "report.json").read_text())["accuracy"]["matched"] == 8
    assert {"latency.png", "timeline.png", "accuracy.png"} <= {p.name for p in tmp_path.iterdir()}
