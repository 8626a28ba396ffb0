"""The camera's elevation from the people it sees (scene/horizon.py): mocap poses of the bundled fixture,
of varied statures, on flat ground in front of cameras of known pitch and height, projected with noise."""
from __future__ import annotations

import math

import numpy as np
import pytest

from hpe3d_ros import camera, skeleton
from hpe3d_ros.scene.horizon import PeopleHorizon, fit_elevation, stands_upright

from .scene_fixtures import fixture_pose_ground, mounted, place_person, to_optical

K = camera.intrinsics_from_fov(1280, 720, 70.0)


def _observe(horizon: PeopleHorizon, rng, pitch: float, height: float, distances, noise: float = 0.01) -> int:
    """People at ``distances`` (metres) seen by the camera; returns how many were in view."""
    mount, _ = mounted(height, pitch)
    seen = 0
    for dist in distances:
        bearing = rng.uniform(-0.45, 0.45)
        pose = place_person(fixture_pose_ground(int(rng.integers(0, 3000))), float(rng.normal(1.70, 0.08)),
                            (dist * math.cos(bearing), dist * math.sin(bearing)), rng.uniform(-np.pi, np.pi))
        opt = to_optical(mount, pose)
        px = camera.project(opt, K)
        if opt[:, 2].min() < 0.3 or not ((px >= 0).all() and (px[:, 0] < 1280).all() and (px[:, 1] < 720).all()):
            continue
        px = px + rng.normal(0.0, noise * np.ptp(px[:, 1]), px.shape)  # 2D noise, a share of the person's height
        seen += 1
        horizon.observe(px, np.ones(16), opt, K)
    return seen


@pytest.mark.parametrize("pitch_deg, height", [(2.0, 1.3), (12.0, 2.5), (35.0, 6.0)])
def test_people_at_different_distances_give_the_cameras_elevation(pitch_deg, height):
    rng = np.random.default_rng(int(pitch_deg))
    horizon = PeopleHorizon(window=600, min_observations=60)
    _observe(horizon, rng, math.radians(pitch_deg), height, rng.uniform(4.0, 35.0, 600))
    assert len(horizon.foot) >= 60
    e = horizon.estimate()
    assert e is not None and abs(math.degrees(e) - pitch_deg) < 0.5
    assert 0.0 < horizon.std < math.radians(1.0)
    # a re-fit searches around the last estimate and finds the same
    assert horizon.estimate() == pytest.approx(e, abs=math.radians(0.1))


def test_people_at_one_distance_do_not_determine_it():
    rng = np.random.default_rng(5)
    horizon = PeopleHorizon(min_observations=30)
    _observe(horizon, rng, math.radians(5.0), 1.3, np.full(300, 12.0))
    assert len(horizon.foot) >= 30
    assert horizon.estimate() is None and horizon.value is None and horizon.std == math.inf


def test_only_people_standing_upright_are_observed():
    stand = fixture_pose_ground(0)
    assert stands_upright(stand)
    crouch = stand.copy()
    for knee in ("left_knee", "right_knee"):
        crouch[skeleton.JOINT_NAMES.index(knee), 0] += 0.25  # knees forward: bent legs
    crouch[[skeleton.JOINT_NAMES.index(a) for a in ("left_ankle", "right_ankle")], 2] += 0.15
    assert not stands_upright(crouch)
    horizon = PeopleHorizon()
    px = camera.project(to_optical(mounted(1.3, 0.0)[0], place_person(crouch, 1.7, (8.0, 0.0), 0.0)), K)
    assert not horizon.observe(px, np.ones(16), crouch, K)
    scores = np.ones(16)
    scores[skeleton.JOINT_NAMES.index("left_ankle")] = 0.2  # an ankle not seen well
    px = camera.project(to_optical(mounted(1.3, 0.0)[0], place_person(stand, 1.7, (8.0, 0.0), 0.0)), K)
    assert not horizon.observe(px, scores, stand, K)
    bow = stand.copy()
    upper = [skeleton.JOINT_NAMES.index(n) for n in skeleton.JOINT_NAMES if n not in
             ("pelvis", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle")]
    pelvis = stand[skeleton.ROOT]
    bow[upper] = pelvis + (stand[upper] - pelvis) @ camera.rot_y(math.radians(50.0)).T  # bent forward at the hips
    assert not stands_upright(bow)
    assert horizon.observe(px, np.ones(16), stand, K) and len(horizon.foot) == 1


def test_fit_needs_observations_and_bad_settings_are_named():
    assert math.isnan(fit_elevation(np.zeros(2), np.zeros(2)))
    with pytest.raises(ValueError, match="min_depth_ratio"):
        PeopleHorizon(min_depth_ratio=0.5)


def test_a_moved_camera_is_a_jump_and_the_estimate_follows_it():
    rng = np.random.default_rng(7)
    horizon = PeopleHorizon(window=600, min_observations=60)
    _observe(horizon, rng, math.radians(2.0), 1.3, rng.uniform(4.0, 35.0, 400))
    assert abs(math.degrees(horizon.estimate()) - 2.0) < 0.5 and horizon.jumps == 0
    for _ in range(3):  # re-mounted, looking down: three fits in a row disagree before the old ones go
        assert horizon.jumps == 0
        _observe(horizon, rng, math.radians(20.0), 3.0, rng.uniform(4.0, 35.0, 70))
        e = horizon.estimate()
    assert horizon.jumps == 1 and abs(math.degrees(e) - 20.0) < 1.0
