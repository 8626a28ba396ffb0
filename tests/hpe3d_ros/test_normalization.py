"""Normalisations: scale conventions, numpy/torch agreement, lift/project inverses, depth targets."""
from __future__ import annotations

import numpy as np
import pytest

from hpe3d_ros import camera, skeleton
from hpe3d_ros import normalization as N


def _poses(n=6, seed=0):
    rng = np.random.default_rng(seed)
    pose = rng.normal(size=(n, 16, 3)) * 0.25
    cams = camera.sample_cameras(n, pose[:, 0], camera.VirtualCameraConfig(), rng)
    pc = cams.to_optical(pose)
    return pc, pc[..., :2] / pc[..., 2:3]


def test_scales():
    _, xy = _poses()
    t, _ = N.normalize_2d(xy, "tipsy")
    np.testing.assert_allclose(np.abs(t).reshape(len(t), -1).max(1), 1.0, atol=1e-6)
    e, _ = N.normalize_2d(xy, "elepose")
    np.testing.assert_allclose(np.linalg.norm(e[:, skeleton.HEAD], axis=-1), 1 / N.ELEPOSE_DEPTH_OFFSET, atol=1e-6)
    np.testing.assert_allclose(e[:, skeleton.ROOT], 0)


@pytest.mark.parametrize("kind", N.KINDS)
def test_numpy_and_torch_agree(kind):
    torch = pytest.importorskip("torch")
    _, xy = _poses()
    n_np, s_np = N.normalize_2d(xy, kind)
    n_t, s_t = N.normalize_2d(torch.tensor(xy), kind)
    np.testing.assert_allclose(n_t.numpy(), n_np, atol=1e-12)
    d = np.random.default_rng(1).normal(size=(len(xy), 16))
    np.testing.assert_allclose(
        N.lift_to_3d(n_t, torch.tensor(d), kind).numpy(), N.lift_to_3d(n_np, d, kind), atol=1e-12
    )


@pytest.mark.parametrize("kind", N.KINDS)
def test_project_normalized_inverts_lift(kind):
    _, xy = _poses()
    norm, _ = N.normalize_2d(xy, kind)
    d = np.random.default_rng(2).normal(size=(len(xy), 16)) * 0.1
    d[:, skeleton.ROOT] = 0.0
    np.testing.assert_allclose(N.project_normalized(N.lift_to_3d(norm, d, kind), kind), norm, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("kind", N.KINDS)
def test_depth_targets_recover_the_shape_up_to_scale(kind):
    pc, xy = _poses(n=20)
    norm, _ = N.normalize_2d(xy, kind)
    shape = N.lift_to_3d(norm, N.depth_target(pc, kind), kind)
    gt = N.root_center(pc)
    k = (shape * gt).sum((1, 2)) / (shape * shape).sum((1, 2))
    err = np.linalg.norm(shape * k[:, None, None] - gt, axis=-1).mean()
    assert err < 0.03  # metres; only perspective effects remain (people of ~0.5 m at 3-12 m)


def test_unknown_kind():
    with pytest.raises(ValueError, match="unknown normalisation"):
        N.normalize_2d(np.zeros((1, 16, 2)), "other")
