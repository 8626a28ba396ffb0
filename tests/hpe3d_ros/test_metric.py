"""Metric recovery: height prior scaling and the root translation fit."""
from __future__ import annotations

import numpy as np
import pytest

from hpe3d_ros import camera, metric, skeleton
from hpe3d_ros import normalization as N


def test_scale_to_height_matches_the_reference_body():
    shape = np.random.default_rng(0).normal(size=(4, 16, 3))
    out = metric.scale_to_height(shape, skeleton.REFERENCE_HEIGHT_M)
    np.testing.assert_allclose(skeleton.bone_lengths(out).sum(-1), skeleton.REFERENCE_BONE_SUM_M)
    taller = metric.scale_to_height(shape, 2 * skeleton.REFERENCE_HEIGHT_M)
    np.testing.assert_allclose(taller, 2 * out)
    with pytest.raises(ValueError):
        metric.scale_to_height(shape, 0.0)


def test_root_translation_is_recovered_exactly():
    rng = np.random.default_rng(1)
    pose = rng.normal(size=(5, 16, 3)) * 0.3
    cams = camera.sample_cameras(5, pose[:, 0], camera.VirtualCameraConfig(), rng)
    pc = cams.to_optical(pose)
    uv = camera.project(pc, cams.intrinsics)
    t = metric.solve_root_translation(N.root_center(pc), uv, cams.intrinsics)
    np.testing.assert_allclose(t, pc[:, 0], atol=1e-6)
    # zero-weight joints do not pull the fit
    uv_bad = uv.copy()
    uv_bad[:, 3] += 200.0
    w = np.ones((5, 16))
    w[:, 3] = 0.0
    t2 = metric.solve_root_translation(N.root_center(pc), uv_bad, cams.intrinsics, weights=w)
    np.testing.assert_allclose(t2, pc[:, 0], atol=1e-3)
