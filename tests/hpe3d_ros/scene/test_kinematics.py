"""Per-track heading and walking velocity."""
from __future__ import annotations

import math

import numpy as np
import pytest

from hpe3d_ros import camera
from hpe3d_ros.scene.kinematics import Kinematics, angle_difference, body_heading
from hpe3d_ros.scene.params import TrackingParams

NS = 1_000_000_000


def _t_pose_facing_x() -> np.ndarray:
    """Hips and shoulders of a person facing +x (their left is +y), z up."""
    j = np.zeros((16, 3))
    j[1], j[4] = [0, -0.1, 0.9], [0, 0.1, 0.9]  # right hip, left hip
    j[13], j[10] = [0, -0.18, 1.4], [0, 0.18, 1.4]  # right shoulder, left shoulder
    return j


@pytest.mark.parametrize("yaw", [0.0, 0.7, -2.0, math.pi - 0.01])
def test_body_heading_is_the_way_the_torso_faces(yaw):
    j = _t_pose_facing_x() @ camera.rot_z(yaw).T
    h, c = body_heading(j, np.ones(16))
    assert float(angle_difference(h, yaw)) == pytest.approx(0.0, abs=1e-9)
    assert c == pytest.approx(1.0)


def test_heading_confidence_falls_with_weak_joints_and_disagreeing_hips_and_shoulders():
    j = _t_pose_facing_x()
    scores = np.ones(16)
    scores[13] = 0.4
    assert body_heading(j, scores)[1] == pytest.approx(0.4)
    twisted = j.copy()
    twisted[[10, 13]] = twisted[[10, 13]] @ camera.rot_z(1.2).T  # shoulders turned 69 degrees against the hips
    assert body_heading(twisted, np.ones(16))[1] < 0.5
    vertical = j.copy()
    vertical[[1, 4, 10, 13], :2] = 0.0  # no horizontal extent: unknown
    assert math.isnan(body_heading(vertical, np.ones(16))[0])


def test_a_walk_gives_its_velocity_and_a_jump_or_gap_restarts_the_filter():
    rng = np.random.default_rng(0)
    kin = Kinematics(TrackingParams())
    v = np.array([1.2, -0.5])
    cov = np.eye(2) * 0.15**2
    out = []
    for i in range(90):
        t = i / 30
        pos = np.array([10.0, 2.0]) + v * t + rng.normal(0, 0.15, 2)
        out.append(kin.update(7, int(t * NS), pos, cov, 0.3, 0.8))
    assert np.linalg.norm(out[-1].velocity - v) < 0.25
    assert out[-1].velocity_confidence > out[1].velocity_confidence
    assert float(angle_difference(out[-1].heading, 0.3)) == pytest.approx(0.0, abs=1e-9)
    assert out[-1].heading_confidence == pytest.approx(0.8, abs=0.02)
    jumped = kin.update(7, int(3.0 * NS), np.array([30.0, 2.0]), cov, 0.3, 0.8)  # id switch: start afresh
    assert np.allclose(jumped.velocity, 0.0) and np.allclose(jumped.filtered_position, [30.0, 2.0])
    later = kin.update(7, int(10.0 * NS), np.array([30.5, 2.0]), cov, 0.3, 0.8)
    assert np.allclose(later.velocity, 0.0)
    kin.prune(int(20.0 * NS))
    assert not kin.tracks


def test_a_standing_person_has_no_velocity_and_flips_are_averaged_out():
    rng = np.random.default_rng(1)
    kin = Kinematics(TrackingParams(heading_time_constant_s=0.5))
    for i in range(60):
        flip = i % 10 == 0  # one frame in ten the lifter confuses front and back
        m = kin.update(1, int(i / 30 * NS), np.array([5.0, 0.0]) + rng.normal(0, 0.05, 2), np.eye(2) * 0.05**2,
                       1.0 + (math.pi if flip else 0.0), 0.9)
    assert np.linalg.norm(m.velocity) < 0.2
    assert float(angle_difference(m.heading, 1.0)) == pytest.approx(0.0, abs=0.05)
