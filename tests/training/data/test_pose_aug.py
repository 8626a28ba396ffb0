"""Pose-diversity augmentation (training.data.pose_aug): FK-exact, grounded, seeded, anatomically signed."""

import numpy as np
import pytest

from hpe3d_ros import skeleton
from training.data import pose_aug
from training.data.batches import _rest_pose, synthetic_poses


def _bones(x: np.ndarray) -> np.ndarray:
    return np.stack(
        [np.linalg.norm(x[:, j] - x[:, p], axis=-1) for j, p in enumerate(skeleton.PARENTS) if p >= 0], axis=1
    )


def test_bone_lengths_and_floor_are_kept():
    poses = synthetic_poses(500, seed=3)
    out = pose_aug.augment_poses(poses, pose_aug.PoseAugmentation(arm_swap=0.5), np.random.default_rng(0))
    np.testing.assert_allclose(_bones(out), _bones(poses), atol=1e-5)
    np.testing.assert_allclose(out[..., 2].min(axis=1), poses[..., 2].min(axis=1), atol=1e-5)
    assert np.isfinite(out).all()
    # the poses did change, by a plausible amount
    moved = np.linalg.norm(out - poses, axis=-1).max(axis=1)
    assert np.median(moved) > 0.05 and moved.max() < 1.5


def test_knees_bend_backwards_and_elbows_forwards():
    rest = np.repeat(_rest_pose()[None], 200, axis=0).astype(np.float32)  # faces +x (left +y, up +z)
    only_knees = pose_aug.PoseAugmentation(
        hip_deg=0, knee_flex_deg=60, shoulder_deg=0, elbow_flex_deg=0, neck_deg=0, lean_deg=0, arm_swap=0
    )
    out = pose_aug.augment_poses(rest, only_knees, np.random.default_rng(1))
    for knee, ankle in (("right_knee", "right_ankle"), ("left_knee", "left_ankle")):
        k, a = skeleton.JOINT_NAMES.index(knee), skeleton.JOINT_NAMES.index(ankle)
        shin_x = out[:, a, 0] - out[:, k, 0]
        assert (shin_x <= (rest[:, a, 0] - rest[:, k, 0]) + 1e-6).all()  # the ankle moved back, never forward
    only_elbows = pose_aug.PoseAugmentation(
        hip_deg=0, knee_flex_deg=0, shoulder_deg=0, elbow_flex_deg=60, neck_deg=0, lean_deg=0, arm_swap=0
    )
    out = pose_aug.augment_poses(rest, only_elbows, np.random.default_rng(2))
    w = skeleton.JOINT_NAMES.index("left_wrist")
    assert (out[:, w, 0] >= rest[:, w, 0] - 1e-6).all()  # the forearm comes forwards


def test_lean_is_forwards():
    rest = np.repeat(_rest_pose()[None], 50, axis=0).astype(np.float32)
    lean = pose_aug.PoseAugmentation(
        hip_deg=0, knee_flex_deg=0, shoulder_deg=0, elbow_flex_deg=0, neck_deg=0, lean_deg=40, arm_swap=0
    )
    out = pose_aug.augment_poses(rest, lean, np.random.default_rng(3))
    assert (out[:, skeleton.HEAD, 0] >= rest[:, skeleton.HEAD, 0] - 1e-6).all()


def test_mix_is_seeded_and_keeps_the_other_frames():
    poses = synthetic_poses(400, seed=4)
    aug = pose_aug.PoseAugmentation(fraction=0.25, seed=7)
    a, b = pose_aug.mix(poses, aug), pose_aug.mix(poses, aug)
    np.testing.assert_array_equal(a, b)
    changed = np.abs(a - poses).max(axis=(1, 2)) > 1e-6
    assert 0.15 < changed.mean() < 0.35


@pytest.mark.parametrize(
    "bad, match",
    [({"fraction": 1.5}, "fraction"), ({"knee_flex_deg": -5}, "knee_flex_deg"), ({"knees": 3}, "unknown keys")],
)
def test_bad_settings_are_named(bad, match):
    with pytest.raises(ValueError, match=match):
        pose_aug.PoseAugmentation.from_dict(bad)


def test_off_when_absent_or_disabled():
    assert pose_aug.PoseAugmentation.from_dict({}) is None
    assert pose_aug.PoseAugmentation.from_dict({"enabled": False, "fraction": 0.5}) is None
    assert pose_aug.PoseAugmentation.from_dict({"fraction": 0.0}) is None
