"""Camera model: frames, projection round trips, elevation convention, virtual cameras."""
from __future__ import annotations

import numpy as np
import pytest

from hpe3d_ros import camera


def test_rotations_are_proper():
    for r in (camera.rot_x(0.3), camera.rot_y(-1.1), camera.rot_z(2.0), camera.optical_from_world_rotation(0.7, 0.4)):
        np.testing.assert_allclose(r @ r.T, np.eye(3), atol=1e-12)
        assert np.linalg.det(r) == pytest.approx(1.0)


def test_world_to_optical_axes():
    r = camera.optical_from_world_rotation(0.0, 0.0)
    np.testing.assert_allclose(r @ [1, 0, 0], [0, 0, 1])  # forward -> z
    np.testing.assert_allclose(r @ [0, 1, 0], [-1, 0, 0])  # left -> -x
    np.testing.assert_allclose(r @ [0, 0, 1], [0, -1, 0])  # up -> -y


def test_camera_looking_down_sees_the_horizon_above_the_centre():
    r = camera.optical_from_world_rotation(0.0, np.radians(30))
    ahead = r @ [1.0, 0, 0]
    assert ahead[1] < 0  # y down: above the image centre


def test_upright_frame_puts_gravity_on_y():
    e = np.radians([0.0, 20.0, 55.0])
    r = camera.optical_from_world_rotation(np.zeros(3), e)
    up_optical = np.einsum("nij,j->ni", r, [0.0, 0.0, 1.0])[:, None, :]
    up = camera.upright_from_optical(up_optical, e)[:, 0]
    np.testing.assert_allclose(up, np.tile([0, -1.0, 0], (3, 1)), atol=1e-12)
    back = camera.optical_from_upright(camera.upright_from_optical(up_optical, e), e)
    np.testing.assert_allclose(back, up_optical, atol=1e-12)


def test_projection_round_trip():
    k = camera.intrinsics_from_fov(640, 480, 60.0)
    pts = np.array([[[0.2, -0.1, 3.0], [-1.0, 0.5, 6.0]]])
    uv = camera.project(pts, k)
    xy = camera.pixels_to_normalized(uv, k)
    np.testing.assert_allclose(xy, pts[..., :2] / pts[..., 2:], atol=1e-12)
    np.testing.assert_allclose(camera.normalized_to_pixels(xy, k), uv, atol=1e-9)
    np.testing.assert_allclose(camera.project(np.array([[0, 0, 5.0]]), k), [[319.5, 239.5]])


def test_calibration_checks():
    assert camera.is_calibrated(camera.intrinsics_from_fov(640, 480, 70))
    assert not camera.is_calibrated(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="field of view"):
        camera.intrinsics_from_fov(640, 480, 0.5)


def test_virtual_cameras_aim_at_the_root_and_are_seeded():
    cfg = camera.VirtualCameraConfig()
    roots = np.random.default_rng(1).normal(size=(50, 3))
    a = camera.sample_cameras(50, roots, cfg, np.random.default_rng(3))
    b = camera.sample_cameras(50, roots, cfg, np.random.default_rng(3))
    np.testing.assert_array_equal(a.elevation, b.elevation)
    opt = a.to_optical(roots[:, None, :])[:, 0]
    np.testing.assert_allclose(opt[:, :2], 0, atol=1e-9)
    assert np.all((opt[:, 2] >= cfg.distance_m[0]) & (opt[:, 2] <= cfg.distance_m[1]))
    assert np.all(np.degrees(a.elevation) <= cfg.elevation_max_deg + 1e-9)
    with pytest.raises(ValueError, match="unknown"):
        camera.VirtualCameraConfig.from_dict({"nope": 1})
