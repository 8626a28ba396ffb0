"""The 2D detector error model (training.data.error_model): the shipped fitted file, the sampler's
statistics against the file's, swaps, derived joints, and bad files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hpe3d_ros import skeleton
from training.data import error_model

N = skeleton.JOINT_NAMES.index
BINS = ("all", "<50", "50-100", "100-200", ">200")


def person(n: int, box_px: float) -> np.ndarray:
    """``n`` copies of a vertical line of 16 keypoints whose box is ``box_px`` tall."""
    kp = np.zeros((n, 16, 2))
    kp[:, :, 0] = 300.0
    kp[:, :, 1] = 100.0 + np.linspace(0.0, box_px / error_model.BOX_OVER_KEYPOINT_EXTENT, 16)[None]
    return kp


def write_model(path, core_sd: float, total_sd: float | None = None, tail: float = 0.0, swap: float = 0.0, n: int = 50):
    total_sd = core_sd if total_sd is None else total_sd
    joint = {
        "n": n,
        "mean": [0.0, 0.0],
        "cov": [[total_sd**2, 0.0], [0.0, total_sd**2]],
        "core": {"mean": [0.0, 0.0], "cov": [[core_sd**2, 0.0], [0.0, core_sd**2]]},
        "heavy_tail_fraction": tail,
    }
    d = {
        "joint_order": list(skeleton.JOINT_NAMES),
        "joints": {j: {b: joint for b in BINS} for j in skeleton.JOINT_NAMES},
        "swap_rate": {p: {b: {"n": n, "swap_rate": swap} for b in BINS} for p in error_model.SWAP_PAIRS},
    }
    path.write_text(json.dumps(d))
    return path


def test_the_shipped_model_loads_with_provenance():
    m = error_model.load_error_model()
    assert set(m.models) == set(error_model.SIZE_BINS_PX)
    assert "BlazePose" in m.front_end and "coco" in m.data.lower()
    # small people are detected worse than large ones
    small, large = m.models["<50"], m.models[">200"]
    sd = lambda mod: np.sqrt(np.diagonal(mod.core_cov, axis1=1, axis2=2)).mean()  # noqa: E731
    assert sd(small) > sd(large)


def test_core_statistics_and_mixture_moments(tmp_path):
    m = error_model.load_error_model(write_model(tmp_path / "m.json", core_sd=0.02, total_sd=0.06, tail=0.2))
    kp = person(20000, 150.0)
    out, scores, swapped = m.apply(kp, np.random.default_rng(0))
    k = N("left_knee")
    err = (out[:, k] - kp[:, k]) / 150.0
    # the mixture's overall sd is the file's total sd; its median stays near the core's
    np.testing.assert_allclose(err.std(axis=0), 0.06, rtol=0.05)
    assert np.median(np.abs(err[:, 0])) < 0.6 * 0.06
    assert not swapped.any() and (scores > 0).all() and (scores <= 1).all()
    # derived joints follow the layout's rules from the noisy detections
    np.testing.assert_allclose(out[:, N("pelvis")], 0.5 * (out[:, N("left_hip")] + out[:, N("right_hip")]), atol=1e-3)
    np.testing.assert_allclose(out[:, N("spine")], 0.5 * (out[:, N("pelvis")] + out[:, N("thorax")]), atol=1e-3)


def test_swaps_exchange_left_and_right(tmp_path):
    m = error_model.load_error_model(write_model(tmp_path / "m.json", core_sd=1e-6, swap=1.0))
    kp = person(10, 150.0)
    kp[:, :, 0] += np.arange(16)[None] * 3.0  # every joint at its own x
    out, _, swapped = m.apply(kp, np.random.default_rng(0))
    assert swapped.all()
    np.testing.assert_allclose(out[:, N("left_knee")], kp[:, N("right_knee")], atol=0.1)
    np.testing.assert_allclose(out[:, N("right_wrist")], kp[:, N("left_wrist")], atol=0.1)
    np.testing.assert_allclose(out[:, N("head")], kp[:, N("head")], atol=0.1)


def test_sparse_bins_fall_back_to_all(tmp_path):
    p = write_model(tmp_path / "m.json", core_sd=0.02)
    d = json.loads(p.read_text())
    for j in skeleton.JOINT_NAMES:
        d["joints"][j]["<50"] = {**d["joints"][j]["<50"], "n": 3, "core": {"mean": [0, 0], "cov": [[1, 0], [0, 1]]}}
    p.write_text(json.dumps(d))
    m = error_model.load_error_model(p)
    np.testing.assert_allclose(m.models["<50"].core_cov, m.models[">200"].core_cov)


def test_bad_files_name_the_problem(tmp_path):
    p = tmp_path / "m.json"
    with pytest.raises(FileNotFoundError, match="not found"):
        error_model.load_error_model(p)
    p.write_text("{")
    with pytest.raises(ValueError, match="not valid JSON"):
        error_model.load_error_model(p)
    p.write_text(json.dumps({"joint_order": ["pelvis"]}))
    with pytest.raises(ValueError, match="joint_order"):
        error_model.load_error_model(p)
    write_model(p, 0.02)
    d = json.loads(p.read_text())
    for b in BINS:
        del d["joints"]["head"][b]["core"]
    p.write_text(json.dumps(d))
    with pytest.raises(ValueError, match="joints.head"):
        error_model.load_error_model(p)
