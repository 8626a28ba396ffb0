"""Joint-definition augmentation (training.data.joint_defs)."""

from __future__ import annotations

import numpy as np
import pytest

from hpe3d_ros import skeleton
from tests.training.data.test_crossdata import standing_pose
from training.data import joint_defs

N = skeleton.JOINT_NAMES.index


def test_points_move_about_their_centres_and_nothing_else():
    p = np.repeat(standing_pose()[None], 3, axis=0)
    out = joint_defs.apply_definitions(
        p, np.array([1.0, 1.5, 0.8]), np.array([1.0, 1.4, 0.8]), np.array([0.0, 0.12, 0.0])
    )
    np.testing.assert_allclose(out[0], p[0])
    hip_w = np.linalg.norm(out[:, N("left_hip")] - out[:, N("right_hip")], axis=-1)
    np.testing.assert_allclose(hip_w / hip_w[0], [1.0, 1.5, 0.8])
    sh_w = np.linalg.norm(out[:, N("left_shoulder")] - out[:, N("right_shoulder")], axis=-1)
    np.testing.assert_allclose(sh_w / sh_w[0], [1.0, 1.4, 0.8])
    # the midline joints stay, so pelvis/thorax/spine keep the layout's rules
    for j in ("pelvis", "thorax", "spine", "left_knee", "left_elbow", "right_wrist"):
        np.testing.assert_allclose(out[:, N(j)], p[:, N(j)])
    np.testing.assert_allclose(out[:, N("pelvis")], 0.5 * (out[:, N("left_hip")] + out[:, N("right_hip")]))
    torso = np.linalg.norm(p[1, N("thorax")] - p[1, N("pelvis")])
    neck = lambda q: np.linalg.norm(q[N("head")] - q[N("thorax")])  # noqa: E731
    assert neck(out[1]) == pytest.approx(neck(p[1]) + 0.12 * torso)


def test_sampling_ranges_and_config():
    d = joint_defs.JointDefinitions.from_dict({"hip_scale": [0.9, 1.2], "prob": 0.5})
    f = d.sample(4000, np.random.default_rng(0))
    on = f["hip_scale"] != 1.0
    assert 0.45 < on.mean() < 0.55
    assert f["hip_scale"][on].min() >= 0.9 and f["hip_scale"][on].max() <= 1.2
    assert (f["head_shift"][~on] == 0).all()
    assert joint_defs.JointDefinitions.from_dict({}) is None
    assert joint_defs.JointDefinitions.from_dict({"enabled": False}) is None
    with pytest.raises(ValueError, match="unknown keys"):
        joint_defs.JointDefinitions.from_dict({"hips": [1, 2]})
    with pytest.raises(ValueError, match="low <= high"):
        joint_defs.JointDefinitions.from_dict({"shoulder_scale": [1.5, 1.0]})
