"""Cross-dataset benchmark (training.data.crossdata): its cameras (independent, off-axis, rolled,
level views included), the settings file, and the HDM05 set when ../shared has it."""

from __future__ import annotations

import numpy as np
import pytest

from hpe3d_ros import camera, skeleton
from training.data import crossdata, hdm05

N = skeleton.JOINT_NAMES.index


def standing_pose() -> np.ndarray:
    """A simple standing body (16, 3), world metres, floor at z = 0, facing +x."""
    p = np.zeros((16, 3))
    p[N("left_hip")], p[N("right_hip")] = [0, 0.09, 0.92], [0, -0.09, 0.92]
    p[N("left_knee")], p[N("right_knee")] = [0, 0.09, 0.50], [0, -0.09, 0.50]
    p[N("left_ankle")], p[N("right_ankle")] = [0, 0.09, 0.08], [0, -0.09, 0.08]
    p[N("left_shoulder")], p[N("right_shoulder")] = [0, 0.19, 1.42], [0, -0.19, 1.42]
    p[N("left_elbow")], p[N("right_elbow")] = [0, 0.22, 1.12], [0, -0.22, 1.12]
    p[N("left_wrist")], p[N("right_wrist")] = [0.05, 0.22, 0.86], [0.05, -0.22, 0.86]
    p[N("head")] = [0, 0, 1.56]
    p[N("pelvis")] = 0.5 * (p[N("left_hip")] + p[N("right_hip")])
    p[N("thorax")] = 0.5 * (p[N("left_shoulder")] + p[N("right_shoulder")])
    p[N("spine")] = 0.5 * (p[N("pelvis")] + p[N("thorax")])
    return p


@pytest.fixture(scope="module")
def views():
    cfg = crossdata.CrossCameraConfig()
    poses = np.repeat(standing_pose()[None], 600, axis=0)
    return cfg, poses, crossdata.sample_views(poses, cfg, np.random.default_rng(5))


def test_cameras_follow_their_regimes(views):
    cfg, _, r = views
    names = list(cfg.views)
    for k, name in enumerate(names):
        m = r["view"] == k
        assert m.sum() > 100
        v = cfg.views[name]
        e = np.degrees(r["elevation"][m])
        assert e.min() >= v.elevation_deg[0] - 1e-6 and e.max() <= v.elevation_deg[1] + 1e-6
        assert r["camera_height"][m].min() >= v.height_m[0] and r["camera_height"][m].max() <= v.height_m[1]
        assert r["distance"][m].min() >= v.distance_m[0] and r["distance"][m].max() <= v.distance_m[1]
    assert np.abs(np.degrees(r["roll"])).max() <= cfg.roll_deg + 1e-9
    assert np.abs(np.degrees(r["roll"])).max() > 0.8 * cfg.roll_deg
    f = r["intrinsics"][:, 0, 0]
    assert f.min() >= cfg.focal_px[0] and f.max() <= cfg.focal_px[1]
    hfov = 2 * np.degrees(np.arctan(0.5 * r["image_size"][:, 0] / f))
    assert hfov.max() <= cfg.max_hfov_deg + 1e-9


def test_projection_is_consistent_and_inside_the_image(views):
    _, _, r = views
    kp = camera.project(r["joints_cam"], r["intrinsics"])
    np.testing.assert_allclose(kp, r["keypoints"], atol=1e-6)
    assert (r["joints_cam"][..., 2] >= 0.5).all()
    assert (
        (kp >= 0).all()
        and (kp[..., 0] < r["image_size"][:, None, 0]).all()
        and (kp[..., 1] < r["image_size"][:, None, 1]).all()
    )
    # bones keep their lengths: the camera is a rigid transform
    np.testing.assert_allclose(
        skeleton.bone_lengths(r["joints_cam"]), skeleton.bone_lengths(standing_pose()[None]).repeat(600, 0), atol=1e-9
    )


def test_people_are_off_the_optical_axis(views):
    _, _, r = views
    xy = camera.pixels_to_normalized(r["keypoints"][:, :1], r["intrinsics"])[:, 0]
    off = np.degrees(np.arctan(np.linalg.norm(xy, axis=-1)))
    assert np.median(off) > 5.0  # the training cameras put the root exactly on the axis (0 deg)


def test_elevation_is_the_pitch_whatever_the_roll():
    rot = crossdata.camera_rotation(np.array([0.3, -2.0]), np.radians([12.0, 45.0]), np.radians([5.0, -4.0]))
    np.testing.assert_allclose(np.degrees(crossdata.gravity_elevation(rot)), [12.0, 45.0], atol=1e-9)
    # with no roll the runtime's convention holds: gravity in the optical frame is rot_x(e) (0, 1, 0)
    r0 = crossdata.camera_rotation(np.array([1.0]), np.radians([20.0]), np.array([0.0]))
    e = np.radians(20.0)
    np.testing.assert_allclose(r0[0] @ [0, 0, -1], [0, np.cos(e), np.sin(e)], atol=1e-12)


def test_sampling_is_deterministic_and_independent_of_the_training_cameras(views):
    cfg, poses, r = views
    again = crossdata.sample_views(poses, cfg, np.random.default_rng(5))
    for k in r:
        np.testing.assert_array_equal(r[k], again[k])
    other = crossdata.sample_views(poses, cfg, np.random.default_rng(6))
    assert not np.allclose(r["keypoints"], other["keypoints"])


def test_impossible_regime_raises():
    cfg = crossdata.CrossCameraConfig(views={"x": crossdata.ViewRegime((0, 1), (50.0, 51.0), (1.0, 1.1))}, max_tries=3)
    with pytest.raises(ValueError, match="no valid camera"):
        crossdata.sample_views(standing_pose()[None], cfg, np.random.default_rng(0))


def test_config_rules():
    cfg = crossdata.load_config()
    assert len(cfg["hdm05"]["test_actors"]) >= 2
    assert not set(cfg["hdm05"]["test_actors"]) & set(cfg["hdm05"]["train_actors"])
    assert cfg["noise"]["model"].endswith("config/detector_error_model.json")


@pytest.mark.parametrize(
    "text, match",
    [
        ("hdm05: {test_actors: [bk, mm], train_actors: [mm, bd]}\n", "both test and train"),
        ("hdm05: {test_actors: [bk]}\n", "at least two"),
        ("hdm05: {test_actors: [bk, mm]}\ncameras: {zoom: 2}\n", "unknown cross-dataset camera"),
        ("hdm05: {test_actors: [bk, xx]}\n", "unknown HDM05 actors"),
        ("hdm05: {test_actors: [bk, mm]}\nnoise: {fitted: m.json}\n", "noise: unknown keys"),
    ],
)
def test_bad_config_names_the_problem(tmp_path, text, match):
    bad = tmp_path / "c.yaml"
    bad.write_text(text)
    with pytest.raises(ValueError, match=match):
        crossdata.load_config(bad)


# ---- the HDM05 set (skips without ../shared) ----------------------------------------------------


@pytest.fixture(scope="module")
def cross_set(tmp_path_factory):
    if hdm05.hdm05_dir() is None:
        pytest.skip("../shared/data/hdm05-subset is not available")
    cache = tmp_path_factory.mktemp("cache")
    return (
        crossdata.build_set(cache=cache),
        crossdata.build_set(cache=cache),
        crossdata.build_set(noisy=True, cache=cache),
    )


@pytest.mark.usefixtures("cross_set")
def test_validation_set_holds_only_the_training_actors(tmp_path):
    cfg = crossdata.load_config()
    v = crossdata.build_set(actors="train", cache=tmp_path)
    assert set(np.unique(v["actor"])) == set(cfg["hdm05"]["train_actors"])
    assert not set(np.unique(v["actor"])) & set(cfg["hdm05"]["test_actors"])


def test_set_holds_only_the_held_out_actors(cross_set):
    d, again, noisy = cross_set
    cfg = crossdata.load_config()
    assert set(np.unique(d["actor"])) == set(cfg["hdm05"]["test_actors"])
    assert set(np.unique(d["view"])) == {"level", "robot", "cctv"}
    for k in ("keypoints", "joints3d", "elevation", "intrinsics"):
        np.testing.assert_array_equal(d[k], again[k])
    assert not np.allclose(d["keypoints"], noisy["keypoints"])
    np.testing.assert_array_equal(d["joints3d"], noisy["joints3d"])
    np.testing.assert_array_equal(noisy["person_px"], d["person_px"])  # size bins of the true person
    lvl = d["view"] == "level"
    assert np.degrees(d["elevation"][lvl]).max() <= 10.0 + 1e-4
