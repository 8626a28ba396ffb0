"""Landmark-gap measurement (training.studies.landmark_gap): the ratios on hand-made points, and
MediaPipe on real COCO people (skips without ../shared)."""

from __future__ import annotations

import numpy as np
import pytest

from hpe3d_ros import paths
from training.studies import landmark_gap


def test_ratios_of_a_hand_made_body():
    pts = {
        "left_hip": np.array([0.1, 0.0]),
        "right_hip": np.array([-0.1, 0.0]),
        "left_shoulder": np.array([0.2, 0.5]),
        "right_shoulder": np.array([-0.2, 0.5]),
        "left_ear": np.array([0.07, 0.7]),
        "right_ear": np.array([-0.07, 0.7]),
        "nose": np.array([0.0, 0.68]),
    }
    r = landmark_gap.ratios(pts)
    assert r["hip_width"] == pytest.approx(0.4)
    assert r["shoulder_width"] == pytest.approx(0.8)
    assert r["ears_above_shoulders"] == pytest.approx(0.4)
    assert r["nose_above_shoulders"] == pytest.approx(0.36)


def test_mediapipe_on_real_people():
    shared = paths.shared_dir()
    coco = shared / "data" / "coco-person-mini" if shared else None
    if coco is None or not coco.is_dir():
        pytest.skip("../shared/data/coco-person-mini is not available")
    recs = landmark_gap.run_mediapipe(coco, min_box_px=150, limit=4)
    assert len(recs) == 4
    res = landmark_gap.measure_mediapipe(recs)
    hw = res["mediapipe_world_3d"]["hip_width"]["median"]
    sw = res["mediapipe_world_3d"]["shoulder_width"]["median"]
    assert 0.2 < hw < sw < 1.2  # adults: hips narrower than shoulders, both below the torso length
