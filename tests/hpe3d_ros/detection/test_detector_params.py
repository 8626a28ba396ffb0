"""Detector parameter dataclasses (both kinds): defaults, ranges, choices, unknown keys; scan regions and
the landmark smoother (pure numpy)."""
from __future__ import annotations

import numpy as np
import pytest

from hpe3d_ros.detection import DetectorParams
from hpe3d_ros.detection.params import NanoDetParams
from hpe3d_ros.detection.person_regions import scan_regions


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


@pytest.mark.parametrize("cls", [DetectorParams, NanoDetParams])
def test_every_kind_round_trips_its_defaults(cls):
    p = cls()
    assert cls.from_dict(p.to_dict()) == p


@pytest.mark.parametrize(
    "bad, needle",
    [
        ({"landmark_model": "huge"}, "landmark_model"),
        ({"tiles": 3}, "tiles"),
        ({"input_size": 2000}, "input_size"),
        ({"min_keep_confidence": -0.1}, "min_keep_confidence"),
        ({"scan_tiles": 0.5}, "scan_tiles"),  # a MediaPipe parameter is unknown to NanoDet
        ({"box_retry_scales": "2.0;1.25"}, "box_retry_scales"),
        ({"box_retry_scales": "0.5"}, "box_retry_scales"),
        ({"box_retry_scales": 2.0}, "box_retry_scales"),
    ],
)
def test_nanodet_parameters_name_the_field(bad, needle):
    with pytest.raises(ValueError, match=needle):
        NanoDetParams.from_dict(bad)


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


def test_box_retry_scales_read_as_numbers():
    assert NanoDetParams().retry_scales() == (2.0, 1.25)
    assert NanoDetParams(box_retry_scales="").retry_scales() == ()
    assert NanoDetParams(box_retry_scales=" 2.0, 1.25 ").retry_scales() == (2.0, 1.25)
