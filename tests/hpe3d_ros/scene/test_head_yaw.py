"""Head yaw relative to the camera from BlazePose-like face landmarks of a head at a known orientation."""
from __future__ import annotations

import math

import numpy as np
import pytest

from hpe3d_ros import camera
from hpe3d_ros.scene.head_yaw import head_yaw
from hpe3d_ros.scene.kinematics import angle_difference

from .scene_fixtures import mounted, to_optical

K = camera.intrinsics_from_fov(1280, 720, 70.0)
# face points in the head's frame (x: the way the face points, y: the head's left, z: up), metres
FACE = {0: (0.10, 0.0, -0.03), 2: (0.08, 0.032, 0.0), 5: (0.08, -0.032, 0.0), 7: (0.0, 0.075, 0.0),
        8: (0.0, -0.075, 0.0)}


def _landmarks(head_xy, face_yaw, mount, visibility=None) -> np.ndarray:
    lm = np.zeros((33, 4))
    centre = np.array([head_xy[0], head_xy[1], 1.6])
    z_ref = float(to_optical(mount, centre)[2])
    for i, p in FACE.items():
        pb = centre + camera.rot_z(face_yaw) @ np.asarray(p)
        po = to_optical(mount, pb)
        uv = camera.project(po[None], K)[0]
        lm[i] = (uv[0], uv[1], (po[2] - z_ref) * K[0, 0] / z_ref, 1.0 if visibility is None else visibility.get(i, 1.0))
    return lm


@pytest.mark.parametrize("bearing", [0.0, 0.5, -0.45])
@pytest.mark.parametrize("rel", [0.0, 0.4, -0.8, 1.4])
def test_yaw_relative_to_the_line_of_sight(bearing, rel):
    mount, _ = mounted(1.3, 0.05)
    head = (6.0 * math.cos(bearing), 6.0 * math.sin(bearing))
    to_cam = math.atan2(-head[1], -head[0])  # the direction from the head to the camera, in the base frame
    res = head_yaw(_landmarks(head, to_cam + rel, mount), K, mount.down_optical)
    assert float(angle_difference(res.yaw, rel)) == pytest.approx(0.0, abs=0.03)
    assert res.confidence > 0.9
    assert res.looking == (abs(rel) <= math.radians(20.0))


def test_hidden_ears_fall_back_to_the_eyes_and_no_face_is_unknown():
    mount, _ = mounted(1.3, 0.05)
    res = head_yaw(_landmarks((8.0, 0.0), math.pi + 0.3, mount, {7: 0.1}), K, mount.down_optical)
    assert float(angle_difference(res.yaw, 0.3)) == pytest.approx(0.0, abs=0.05)
    back = head_yaw(_landmarks((8.0, 0.0), 0.0, mount, {0: 0.0, 2: 0.0, 5: 0.0}), K, mount.down_optical)
    assert abs(float(angle_difference(back.yaw, math.pi))) < 0.05 and back.confidence == pytest.approx(0.7)
    assert math.isnan(head_yaw(None, K, mount.down_optical).yaw)
    assert math.isnan(head_yaw(np.zeros((33, 4)), K, mount.down_optical).yaw)
