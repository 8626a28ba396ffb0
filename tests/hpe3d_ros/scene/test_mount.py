"""The camera's mounting: the pose in the base frame, the elevation it implies, the ground's direction."""
from __future__ import annotations

import numpy as np
import pytest

from hpe3d_ros import camera
from hpe3d_ros.scene.mount import Mount, rpy_matrix
from hpe3d_ros.scene.params import MountParams


@pytest.mark.parametrize("roll", [0.0, 0.2, -0.3])
@pytest.mark.parametrize("yaw", [0.0, 1.0, -2.5])
@pytest.mark.parametrize("pitch", [-0.1, 0.0, 0.05, 0.6])
def test_the_elevation_is_the_mount_pitch_for_any_roll_and_yaw(roll, pitch, yaw):
    m = Mount.from_params(MountParams(mode="full", z=1.4, roll=roll, pitch=pitch, yaw=yaw))
    assert m.elevation == pytest.approx(pitch, abs=1e-12)
    assert m.height == pytest.approx(1.4)
    assert np.allclose(m.rotation @ m.rotation.T, np.eye(3)) and np.linalg.det(m.rotation) == pytest.approx(1.0)


def test_optical_axes_in_the_base_frame_of_a_level_camera():
    m = Mount.from_params(MountParams(mode="full", x=2.0, y=0.5, z=1.3))
    # 10 m straight ahead on the optical axis is 10 m forward in the base frame, at the camera's height
    assert np.allclose(m.to_base(np.array([0.0, 0.0, 10.0])), [12.0, 0.5, 1.3])
    # optical x (right) is base -y, optical y (down) is base -z
    assert np.allclose(m.vectors_to_base(np.eye(3)), [[0, -1, 0], [0, 0, -1], [1, 0, 0]])
    assert np.allclose(m.down_optical, [0, 1, 0])


def test_a_camera_yawed_left_sees_ahead_to_its_left():
    m = Mount.from_params(MountParams(mode="full", z=1.0, yaw=np.pi / 2))
    assert np.allclose(m.to_base(np.array([0.0, 0.0, 5.0])), [0.0, 5.0, 1.0], atol=1e-12)


@pytest.mark.parametrize("e", [-0.1, 0.0, 0.3, 0.9])
def test_without_a_mount_the_ground_frame_is_the_levelled_camera_of_the_upright_convention(e):
    m = Mount.from_params(MountParams(mode="none", z=5.0, roll=0.3, yaw=1.0), elevation=e)
    assert not m.height_known and np.allclose(m.translation, 0.0)
    # gravity in the optical frame is the upright frame's y axis (hpe3d_ros.camera)
    assert np.allclose(m.down_optical, camera.rot_x(e) @ np.array([0.0, 1.0, 0.0]))
    pts = np.random.default_rng(0).normal(size=(16, 3))
    up = camera.upright_from_optical(pts, e)  # x right, y down, z forward (horizontal)
    assert np.allclose(m.to_base(pts), np.stack([up[:, 2], -up[:, 0], -up[:, 1]], -1))


def test_with_a_known_height_the_estimated_elevation_replaces_the_pitch_parameter():
    p = MountParams(mode="height", z=1.2, pitch=0.4, roll=0.1, yaw=0.2)
    m = Mount.from_params(p, elevation=0.05)
    assert m.height_known and m.elevation == pytest.approx(0.05)
    assert np.allclose(m.rotation, rpy_matrix(0.1, 0.05, 0.2) @ camera.OPTICAL_FROM_WORLD.T)


def test_covariance_and_vectors_round_trip():
    m = Mount.from_params(MountParams(mode="full", z=1.2, pitch=0.1, roll=0.05, yaw=0.7))
    a = np.random.default_rng(1).normal(size=(3, 3))
    cov = a @ a.T
    cb = m.covariance_to_base(cov)
    assert np.allclose(np.linalg.eigvalsh(cb), np.linalg.eigvalsh(cov))
    v = np.array([0.3, -1.0, 2.0])
    assert np.allclose(m.vectors_to_optical(m.vectors_to_base(v)), v)
