"""Rendering mocap to 2D through virtual cameras, and detector noise."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hpe3d_ros import camera, skeleton
from training.data import render
from training.data.bvh import load_bvh_positions


@pytest.fixture(scope="module")
def poses(fixtures_dir: Path) -> np.ndarray:
    pos, names, _ = load_bvh_positions(
        fixtures_dir / "bandai" / "dataset-2" / "data" / "dataset-2_walk-turn-left_elderly_004.bvh.gz"
    )
    return skeleton.from_mocap(pos, names)


def test_render_shapes_and_geometry(poses: np.ndarray):
    cfg = render.default_camera_config()
    out = render.render(poses, cfg, seed=5)
    n = len(poses)
    assert out["keypoints"].shape == (n, 16, 2) and out["intrinsics"].shape == (n, 3, 3)
    assert out["joints_cam"].shape == (n, 16, 3) and out["elevation"].shape == (n,) and out["azimuth"].shape == (n,)
    # projections are consistent with the returned 3D and K
    np.testing.assert_allclose(camera.project(out["joints_cam"], out["intrinsics"]), out["keypoints"], atol=1e-3)
    # the camera looks at the root: the root projects to the principal point
    np.testing.assert_allclose(out["keypoints"][:, 0], out["intrinsics"][:, :2, 2], atol=1e-3)
    # 3D is a rigid motion of the world pose: bone lengths kept
    np.testing.assert_allclose(skeleton.bone_lengths(out["joints_cam"]), skeleton.bone_lengths(poses), atol=1e-5)
    # everything in front of the camera and inside the image
    w, h = cfg.image_size
    assert out["joints_cam"][..., 2].min() >= 0.5
    assert out["keypoints"][..., 0].min() >= 0 and out["keypoints"][..., 0].max() <= w - 1
    assert out["keypoints"][..., 1].min() >= 0 and out["keypoints"][..., 1].max() <= h - 1
    # upright check: with elevation e, rotating back gives a head above the pelvis (optical y down)
    upright = camera.upright_from_optical(out["joints_cam"].astype(np.float64), out["elevation"].astype(np.float64))
    assert np.all(upright[:, skeleton.HEAD, 1] < upright[:, 0, 1])


def test_render_is_deterministic_per_seed(poses: np.ndarray):
    a = render.render(poses, seed=1)
    b = render.render(poses, seed=1)
    c = render.render(poses, seed=2)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    assert not np.allclose(a["azimuth"], c["azimuth"])


def test_render_resamples_invalid_cameras(poses: np.ndarray):
    # close cameras with a narrow field of view: many first draws cut the body off and are resampled
    cfg = camera.VirtualCameraConfig(distance_m=(2.0, 6.0), hfov_deg=(30.0, 60.0))
    out = render.render(poses, cfg, seed=0, max_tries=200)
    w, h = cfg.image_size
    assert np.all((out["keypoints"] >= 0) & (out["keypoints"] <= [w - 1, h - 1]))
    impossible = camera.VirtualCameraConfig(distance_m=(0.6, 0.7), hfov_deg=(20.0, 21.0))
    with pytest.raises(ValueError, match="found no valid camera"):
        render.render(poses[:3], impossible, seed=0, max_tries=3)


def test_render_rejects_bad_input():
    with pytest.raises(ValueError, match=r"shape \(N, 16, 3\)"):
        render.render(np.zeros((2, 17, 3)))
    bad = np.zeros((1, 16, 3))
    bad[0, 3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        render.render(bad)


def test_elevation_follows_the_configured_views(poses: np.ndarray):
    many = np.repeat(poses[:1], 3000, axis=0)
    out = render.render(many, seed=3)
    deg = np.degrees(out["elevation"])
    assert -10.0 - 1e-4 <= deg.min() and deg.max() <= 60.0 + 1e-4
    for v, name in enumerate(render.default_camera_config().views):
        mean = render.default_camera_config().views[name]["mean_deg"]
        assert abs(np.median(deg[out["view"] == v]) - mean) < 3.0


def test_detector_noise(poses: np.ndarray):
    kp = render.render(poses, seed=0)["keypoints"]
    many = np.repeat(kp, 50, axis=0)
    noisy, scores = render.detector_noise(many, None, np.random.default_rng(0), jitter_px=4.0, drop_prob=0.1)
    assert noisy.shape == many.shape and scores.shape == many.shape[:2]
    dropped = scores == 0
    assert 0.07 < dropped.mean() < 0.13
    # a dropped joint sits at its neighbour's noisy position
    i, j = np.nonzero(dropped & ~dropped[:, render.DROP_NEIGHBOUR])
    np.testing.assert_array_equal(noisy[i, j], noisy[i, render.DROP_NEIGHBOUR[j]])
    # kept joints: jitter scales with person size, confidence falls with error
    size = (many.max(1) - many.min(1)).max(-1)
    err = np.linalg.norm(noisy - many, axis=-1)
    kept = ~dropped
    sigma = 4.0 * size[:, None] / render.SIZE_REF_PX * render.JOINT_JITTER[None]
    ratio = err[kept] / sigma[kept]
    assert 1.1 < np.mean(ratio) < 1.4  # Rayleigh mean sqrt(pi/2) = 1.25
    assert np.all((scores[kept] > 0) & (scores[kept] <= 1))
    assert np.corrcoef(ratio, scores[kept])[0, 1] < -0.5
    # zero noise is the identity
    same, s1 = render.detector_noise(
        kp, np.full(kp.shape[:2], 0.5), np.random.default_rng(0), jitter_px=0.0, drop_prob=0.0
    )
    np.testing.assert_allclose(same, kp, atol=1e-4)
    np.testing.assert_allclose(s1, 0.5)
    with pytest.raises(ValueError, match="scores must have shape"):
        render.detector_noise(kp, np.ones((2, 16)), np.random.default_rng(0))


def test_camera_settings_file(tmp_path: Path):
    s = render.load_camera_settings()
    assert s["cameras"].image_size == (640, 480) and set(s["cameras"].views) == {"in_car", "robot", "cctv"}
    assert s["render"]["min_depth_m"] > 0 and 0 <= s["detector_noise"]["drop_prob"] < 1
    bad = tmp_path / "cams.yaml"
    bad.write_text("cameras:\n  zoom: 3\n")
    with pytest.raises(ValueError, match=r"cams.yaml: cameras: unknown virtual camera settings: \['zoom'\]"):
        render.load_camera_settings(bad)
