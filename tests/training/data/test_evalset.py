"""Evaluation sets: the bundled fixture (fresh clone), cached val/test sets (built from the bundled
clips here; from the full data when present)."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from hpe3d_ros import camera, normalization, skeleton
from training.data import evalset, mocap


def check_contract(d: dict) -> int:
    n = d["keypoints"].shape[0]
    assert n > 0
    assert d["keypoints"].shape == (n, 16, 2)
    assert d["intrinsics"].shape == (n, 3, 3)
    assert d["scores"].shape == (n, 16)
    assert d["joints3d"].shape == (n, 16, 3)
    assert d["elevation"].shape == (n,) and d["content"].shape == (n,) and d["clip"].shape == (n,)
    assert d["content"].dtype.kind == "U" and d["clip"].dtype.kind == "U"
    for k in ("keypoints", "intrinsics", "scores", "joints3d", "elevation"):
        assert np.isfinite(d[k]).all(), k
    return n


def test_fixture_loads_without_shared_data():
    d = evalset.load_eval_set("fixture")
    n = check_contract(d)
    assert 2000 <= n <= 5000
    assert evalset.fixture_path().stat().st_size < 1_200_000
    assert (evalset.fixture_path().parent / "NOTICE.md").is_file()
    # the 2D is the projection of the 3D
    np.testing.assert_allclose(camera.project(d["joints3d"], d["intrinsics"]), d["keypoints"], atol=1e-2)
    # test-split contents only, several of them; bones of the one Bandai body
    assert {"bow", "walk"} <= set(d["content"])
    np.testing.assert_allclose(skeleton.bone_lengths(d["joints3d"]).sum(-1), skeleton.REFERENCE_BONE_SUM_M, atol=0.1)
    assert np.all(d["scores"] == 1.0)
    # supervised targets are computable and lift back to the 3D shape up to scale
    xy = camera.pixels_to_normalized(d["keypoints"], d["intrinsics"])
    norm, _ = normalization.normalize_2d(xy, "tipsy")
    depth = normalization.depth_target(d["joints3d"].astype(np.float64), "tipsy")
    assert np.isfinite(depth).all() and norm.shape == (n, 16, 2)


def test_fixture_mild_noise_is_deterministic_and_different():
    clean = evalset.load_eval_set("fixture")
    a = evalset.load_eval_set("fixture", noise="mild")
    b = evalset.load_eval_set("fixture", noise="mild")
    np.testing.assert_array_equal(a["keypoints"], b["keypoints"])
    np.testing.assert_array_equal(a["scores"], b["scores"])
    err = np.linalg.norm(a["keypoints"] - clean["keypoints"], axis=-1)
    assert 0.3 < np.median(err) < 10.0
    assert (a["scores"] == 0).any() and (a["scores"] < 1).all()
    np.testing.assert_array_equal(a["joints3d"], clean["joints3d"])


def test_fixture_detector_noise_is_deterministic_larger_and_keeps_the_true_size():
    clean = evalset.load_eval_set("fixture")
    a = evalset.load_eval_set("fixture", noise="detector")
    b = evalset.load_eval_set("fixture", noise="detector")
    np.testing.assert_array_equal(a["keypoints"], b["keypoints"])
    mild = evalset.load_eval_set("fixture", noise="mild")
    err = np.linalg.norm(a["keypoints"] - clean["keypoints"], axis=-1)
    assert np.median(err) > np.median(np.linalg.norm(mild["keypoints"] - clean["keypoints"], axis=-1))
    extent = (clean["keypoints"].max(1) - clean["keypoints"].min(1)).max(-1)
    np.testing.assert_allclose(a["person_px"], extent, rtol=1e-6)
    np.testing.assert_array_equal(a["joints3d"], clean["joints3d"])
    with pytest.raises(ValueError, match="unknown noise"):
        evalset.load_eval_set("fixture", noise="heavy")


def test_unknown_split():
    with pytest.raises(ValueError, match="unknown evaluation split 'train'"):
        evalset.load_eval_set("train")


@pytest.fixture()
def small_data(fixtures_dir: Path, tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "bandai"
    shutil.copytree(fixtures_dir / "bandai", root)
    return root, tmp_path / "cache"


def test_test_set_is_cached_subsampled_and_deterministic(small_data):
    root, cache = small_data
    d = evalset.load_eval_set("test", data_root=root, cache=cache)
    n = check_contract(d)
    assert n == 11  # 105 frames of the one test clip, every 10th
    assert set(d["content"]) == {"walk-turn-left"} and set(d["clip"]) == {"dataset-2_walk-turn-left_elderly_004"}
    cached = list((cache / "evalsets").glob("test-*.npz"))
    assert len(cached) == 1
    again = evalset.load_eval_set("test", data_root=root, cache=cache)
    for k in evalset.KEYS:
        np.testing.assert_array_equal(d[k], again[k])
    # rebuilt from scratch (cache removed): the same numbers
    shutil.rmtree(cache / "evalsets")
    fresh = evalset.load_eval_set("test", data_root=root, cache=cache)
    for k in evalset.KEYS:
        np.testing.assert_array_equal(d[k], fresh[k])
    # the 3D is the mocap of those frames, moved rigidly into the camera
    frames = mocap.load_split("test", subsample=evalset.EVAL_SUBSAMPLE, data_root=root, cache=cache)
    np.testing.assert_allclose(skeleton.bone_lengths(d["joints3d"]), skeleton.bone_lengths(frames.joints), atol=1e-5)


def test_corrupt_cached_set_is_rebuilt(small_data):
    root, cache = small_data
    d = evalset.load_eval_set("test", data_root=root, cache=cache)
    path = next((cache / "evalsets").glob("test-*.npz"))
    path.write_bytes(b"not a zip")
    again = evalset.load_eval_set("test", data_root=root, cache=cache)
    np.testing.assert_array_equal(d["keypoints"], again["keypoints"])


def test_make_fixture(small_data, tmp_path: Path):
    root, cache = small_data
    out = evalset.make_fixture(tmp_path / "fx.npz", data_root=root, cache=cache, size=5)
    d = evalset._read(out)
    assert check_contract(d) == 5


def test_full_eval_sets(bandai_dir: Path):
    """With the full data: val/test sizes keep an evaluation quick, and the fixture is a subset of test."""
    test = evalset.load_eval_set("test", data_root=bandai_dir)
    val = evalset.load_eval_set("val", data_root=bandai_dir)
    assert check_contract(test) == 6661 and check_contract(val) == 5831
    assert not set(test["clip"]) & set(val["clip"])
    fx = evalset.load_eval_set("fixture")
    index = {(c, f): i for i, (c, f) in enumerate(zip(test["clip"], test["frame"]))}
    rows = [index[(c, f)] for c, f in zip(fx["clip"], fx["frame"])]  # KeyError: fixture not from this test set
    # same 2D and 3D: the fixture is current (rebuild with `hpe3d ingest --make-fixture` otherwise)
    np.testing.assert_allclose(fx["keypoints"], test["keypoints"][rows], atol=1e-4)
    np.testing.assert_allclose(fx["joints3d"], test["joints3d"][rows], atol=1e-5)
