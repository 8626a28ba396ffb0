"""Fuzz: any K and image size give either a plausible camera or a named reason, and the pipeline's K for a
frame is always finite and plausible (the field-of-view fallback otherwise). Regressions of issue 13: focal
length 5e-324, 1e308, cx = 1e9 and a 0x0 CameraInfo, all taken as a camera before."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sensor_msgs.msg import CameraInfo

from hpe3d_ros import camera
from hpe3d_ros.pipeline import frame_intrinsics
from hpe3d_ros.ros_convert import camera_info_intrinsics, camera_info_msg
from tests.fuzz import fuzz

ANY_FLOAT = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([0.0, 5e-324, 1e308, -1.0, 1e9]))
SIZE = st.integers(0, 20000)


@fuzz(500)
@given(k=st.lists(ANY_FLOAT, min_size=9, max_size=9), width=SIZE, height=SIZE)
def test_any_k_is_a_plausible_camera_or_a_reason(k, width, height):
    problem = camera.intrinsics_problem(np.array(k), width, height)
    assert isinstance(problem, str)
    if not problem:
        kk = np.array(k).reshape(3, 3)
        hfov, vfov = camera.fov_deg(kk, width, height)
        lo, hi = camera.PLAUSIBLE_FOV_DEG
        assert np.isfinite(kk).all() and lo <= hfov <= hi and lo <= vfov <= hi


@fuzz(300)
@given(fx=ANY_FLOAT, fy=ANY_FLOAT, cx=ANY_FLOAT, cy=ANY_FLOAT, width=st.integers(1, 4096), height=st.integers(1, 4096))
def test_the_frame_k_is_always_finite(fx, fy, cx, cy, width, height):
    """The K given when it is plausible, else the field-of-view fallback (finite for any image size)."""
    k, problem = frame_intrinsics(camera.intrinsics_matrix(fx, fy, cx, cy), width, height, 60.0)
    assert np.isfinite(k).all() and k[0, 0] > 0 and k[1, 1] > 0
    if problem:
        np.testing.assert_allclose(k, camera.intrinsics_from_fov(width, height, 60.0))
    else:
        assert not camera.intrinsics_problem(k, width, height)


@pytest.mark.parametrize("k, size, words", [
    (camera.intrinsics_matrix(5e-324, 5e-324, 320, 240), (640, 480), "field of view"),
    (camera.intrinsics_matrix(1e308, 1e308, 320, 240), (640, 480), "field of view"),
    (camera.intrinsics_matrix(500, 500, 1e9, 240), (640, 480), "principal point"),
    (camera.intrinsics_matrix(500, 500, 320, 240), (0, 0), "0x0"),
    (camera.intrinsics_matrix(500, 500, 320, 240), (1280, 720), "1280x720"),
    (np.zeros((3, 3)), (640, 480), "not positive"),
])
def test_camera_info_regressions_fall_back_with_a_reason(k, size, words):
    info = camera_info_msg(k, size[0], size[1], 0, "cam")
    got, why = camera_info_intrinsics(info, 640, 480)
    assert got is None and words in why


def test_real_cameras_are_accepted():
    for w, h, fov in ((640, 480, 60), (1920, 1080, 90), (1280, 720, 120), (4096, 3072, 8), (320, 240, 160)):
        k = camera.intrinsics_from_fov(w, h, fov)
        assert camera.intrinsics_problem(k, w, h) == ""
        got, why = camera_info_intrinsics(camera_info_msg(k, w, h, 0, "cam"), w, h)
        assert why == "" and np.allclose(got, k)
    k = camera.intrinsics_matrix(615.3, 615.9, 331.2, 243.7)  # a RealSense D435 colour camera
    assert camera.intrinsics_problem(k, 640, 480) == ""


def test_a_malformed_camera_info_is_a_reason_not_an_exception():
    info = CameraInfo(width=640, height=480)
    info.k = [1.0] * 9
    got, why = camera_info_intrinsics(info, 640, 480)
    assert got is None and why
