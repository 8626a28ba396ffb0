"""Ground-plane placement and its fusion with the body-height prior, on mocap people of known size."""
from __future__ import annotations

import math

import numpy as np
import pytest

from hpe3d_ros import camera
from hpe3d_ros.scene.params import PlacementParams
from hpe3d_ros.scene.placement import fuse, ground_scale, position_covariance

from .scene_fixtures import BANDAI_ANKLE_RATIO, fixture_pose_ground, mounted, place_person, to_optical

K = camera.intrinsics_from_fov(1280, 720, 70.0)
PRIOR_H = 1.70
PARAMS = PlacementParams(ankle_height_ratio=BANDAI_ANKLE_RATIO)


def _seen(stature, dist, bearing=0.0, height=1.3, pitch=0.03, index=0):
    mount, _ = mounted(height, pitch)
    pose = place_person(fixture_pose_ground(index), stature, (dist * math.cos(bearing), dist * math.sin(bearing)), 0.4)
    truth = to_optical(mount, pose)
    kp = camera.project(truth, K)
    prior = truth * (PRIOR_H / stature)  # an exact lifter placed by the height prior: same projection
    return mount, truth, kp, prior


@pytest.mark.parametrize("stature", [1.5, 1.7, 1.95])
@pytest.mark.parametrize("dist", [4.0, 12.0, 35.0])
def test_the_ground_plane_recovers_the_true_size_and_distance(stature, dist):
    mount, truth, kp, prior = _seen(stature, dist, bearing=0.2)
    s_g, sigma, _, _ = ground_scale(prior, np.ones(16), kp, K, 720, mount.down_optical, mount.height, 0.0, PRIOR_H,
                                    PARAMS)
    assert s_g == pytest.approx(stature / PRIOR_H, rel=0.01)  # the two feet are averaged: one is 1-2 cm up
    assert 0 < sigma < 0.2
    placed = fuse((s_g, sigma), PARAMS)
    assert placed.method == "fused" and placed.rel_std < min(sigma, PARAMS.height_prior_rel_std)
    # the fused distance lies between the prior's and the ground's, nearer the more certain one
    assert min(1.0, s_g) - 1e-12 <= placed.scale <= max(1.0, s_g) + 1e-12


def test_the_ground_estimate_is_uncertain_far_away_with_an_uncertain_pitch():
    near = _seen(1.7, 5.0)
    far = _seen(1.7, 35.0)
    pitch_std = math.radians(1.0)
    s_near = ground_scale(near[3], np.ones(16), near[2], K, 720, near[0].down_optical, 1.3, pitch_std, PRIOR_H, PARAMS)
    s_far = ground_scale(far[3], np.ones(16), far[2], K, 720, far[0].down_optical, 1.3, pitch_std, PRIOR_H, PARAMS)
    assert s_far.sigma > 4 * s_near.sigma  # the angle error grows with distance squared, the prior's linearly
    assert fuse(s_far, PARAMS).rel_std == pytest.approx(PARAMS.height_prior_rel_std, rel=0.1)


def test_feet_not_seen_or_off_the_plane_leave_the_prior():
    mount, truth, kp, prior = _seen(1.7, 8.0)
    scores = np.ones(16)
    scores[[3, 6]] = 0.1  # ankles not detected
    assert math.isnan(ground_scale(prior, scores, kp, K, 720, mount.down_optical, 1.3, 0.0, PRIOR_H, PARAMS)[0])
    assert fuse((math.nan, math.nan), PARAMS).method == "prior"
    # feet at the bottom edge of the image: the person is cut off, the foot point is not the foot
    cut = kp.copy()
    cut[[3, 6], 1] = 719.0
    assert math.isnan(ground_scale(prior, np.ones(16), cut, K, 720, mount.down_optical, 1.3, 0.0, PRIOR_H, PARAMS)[0])
    # standing on a 0.6 m platform: the plane says "far smaller than anyone", the gate keeps the prior
    s_g = ground_scale(prior, np.ones(16), kp, K, 720, mount.down_optical, 1.3 + 0.6, 0.0, PRIOR_H, PARAMS)
    placed = fuse(s_g, PARAMS)
    assert placed.method == "gated" and placed.scale == 1.0 and placed.gate > PARAMS.gate_chi2


def test_a_camera_below_the_feet_gives_no_ground_constraint():
    mount, truth, kp, prior = _seen(1.7, 6.0, height=0.05 + 0.01, pitch=0.0)
    assert math.isnan(ground_scale(prior, np.ones(16), kp, K, 720, mount.down_optical, 0.06, 0.0, PRIOR_H, PARAMS)[0])


def test_position_covariance_is_long_along_the_line_of_sight():
    p = np.array([3.0, 0.5, 20.0])
    cov = position_covariance(p, 0.05, 0.04)
    u = p / np.linalg.norm(p)
    assert float(u @ cov @ u) == pytest.approx((0.05 * np.linalg.norm(p)) ** 2)
    side = np.cross(u, [0, 1, 0])
    side /= np.linalg.norm(side)
    assert float(side @ cov @ side) == pytest.approx(0.04**2)


@pytest.mark.parametrize("dist", [6.0, 25.0])
def test_the_feet_measure_the_pitch_when_the_height_is_known(dist):
    """A camera believed level that looks 1.5 degrees down: the residual of a person of the prior's stature
    is that 1.5 degrees, known better the farther the person."""
    from hpe3d_ros.scene.mount import Mount
    from hpe3d_ros.scene.params import MountParams
    from hpe3d_ros.scene.placement import elevation_residual

    true_pitch = math.radians(1.5)
    mount, truth, kp, prior = _seen(PRIOR_H, dist, pitch=true_pitch)
    believed = Mount.from_params(MountParams(mode="height", z=1.3), elevation=0.0)
    prior_believed = prior  # the same skeleton: placement by the prior does not depend on the pitch
    fit = ground_scale(prior_believed, np.ones(16), kp, K, 720, believed.down_optical, 1.3, 0.0, PRIOR_H, PARAMS)
    delta, sigma = elevation_residual(fit, 1.3, PARAMS)
    assert delta == pytest.approx(true_pitch, abs=0.1 * true_pitch)
    assert sigma == pytest.approx(1.3 * PARAMS.height_prior_rel_std / dist, rel=0.3)
