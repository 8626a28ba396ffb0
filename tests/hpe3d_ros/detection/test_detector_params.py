"""DetectorParams: defaults, ranges, unknown keys, and the tracking helpers (pure numpy)."""
from __future__ import annotations

import numpy as np
import pytest

from hpe3d_ros.detection import DetectorParams
from hpe3d_ros.detection.person_regions import scan_regions
from hpe3d_ros.detection.tracking import assign, box_iomin, box_iou


def test_defaults_are_in_range_and_round_trip():
    p = DetectorParams()
    assert DetectorParams.from_dict(p.to_dict()) == p
    assert p.max_people >= 1 and 0 < p.min_detection_confidence < 1


@pytest.mark.parametrize(
    "bad, needle",
    [
        ({"max_people": 0}, "max_people"),
        ({"max_people": 2.5}, "max_people"),
        ({"min_keypoint_confidence": 1.5}, "min_keypoint_confidence"),
        ({"detect_every_n_frames": "3"}, "detect_every_n_frames"),
        ({"smooth_landmarks": 1}, "smooth_landmarks"),
        ({"max_peple": 3}, "max_peple"),
    ],
)
def test_bad_parameters_name_the_field(bad, needle):
    with pytest.raises(ValueError, match=needle):
        DetectorParams.from_dict(bad)


def test_integer_valued_floats_are_accepted():
    assert DetectorParams(max_people=3.0).max_people == 3


def test_box_iou_and_containment():
    a = np.array([[0, 0, 10, 10]])
    b = np.array([[5, 0, 15, 10], [20, 20, 30, 30], [2, 2, 4, 4]])
    np.testing.assert_allclose(box_iou(a, b)[0], [50 / 150, 0.0, 4 / 100])
    np.testing.assert_allclose(box_iomin(a, b)[0], [0.5, 0.0, 1.0])


def test_assign_matches_by_hip_distance_and_leaves_far_detections_new():
    tracks = np.array([[100.0, 100.0], [300.0, 100.0]])
    radii = np.array([50.0, 50.0])
    dets = np.array([[305.0, 98.0], [600.0, 100.0], [102.0, 101.0]])
    pairs, new = assign(tracks, radii, dets, np.array([50.0, 50.0, 50.0]), 0.35)
    assert sorted(pairs) == [(0, 2), (1, 0)]
    assert new == [1]
    assert assign(tracks[:0], radii[:0], dets, np.full(3, 50.0), 0.35) == ([], [0, 1, 2])


def test_scan_regions_cover_the_frame():
    regions = scan_regions(640, 480, 0.6)
    assert regions[0] == (0, 0, 640, 480)
    covered = np.zeros((480, 640), bool)
    for x0, y0, x1, y1 in regions[1:]:
        assert x1 - x0 == y1 - y0 == 288
        covered[y0:y1, x0:x1] = True
    assert covered.all()
    assert scan_regions(640, 480, 0.0) == [(0, 0, 640, 480)]


def test_landmark_smoother_holds_still_and_follows_motion():
    from hpe3d_ros.detection.smoothing import LandmarkSmoother

    rng = np.random.default_rng(0)
    base = np.zeros((33, 4))
    base[:, 0] = rng.uniform(100, 200, 33)
    base[:, 1] = rng.uniform(100, 400, 33)
    base[:, 3] = 0.9
    f = LandmarkSmoother.for_landmarks()
    np.testing.assert_allclose(f(base), base)  # first frame passes through
    np.testing.assert_allclose(f(base), base)  # a still person stays put
    jitter = base.copy()
    jitter[:, :2] += rng.normal(0, 1.0, (33, 2))
    out = f(jitter)
    assert np.abs(out[:, :2] - base[:, :2]).mean() < 0.5 * np.abs(jitter[:, :2] - base[:, :2]).mean()  # jitter damped
    np.testing.assert_allclose(out[:, 3], base[:, 3])  # visibility low-passed (constant here)
    f.reset()
    moved = base.copy()
    for step in range(1, 31):  # walking right at 10 px per frame
        moved[:, 0] = base[:, 0] + 10 * step
        out = f(moved)
    lag = float(np.mean(moved[:, 0] - out[:, 0]))
    assert 0 <= lag < 10, f"the filter lags {lag:.1f} px behind a steady motion"
