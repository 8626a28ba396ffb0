"""The runtime's default model (config/lift.yaml model_file_path): present with its manifest, marked
non-commercial, depth + elevation + plausibility outputs, and it lifts the bundled evaluation
fixture (works on a fresh clone: the model and the fixture are in the repository)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import yaml

from hpe3d_ros import metric
from training import evaluation

REPO = Path(__file__).resolve().parents[2]


def _default_model() -> Path:
    params = yaml.safe_load((REPO / "config" / "lift.yaml").read_text())["/**"]["ros__parameters"]
    return REPO / params["model_file_path"]


def test_default_model_manifest_marks_license_and_outputs():
    model = _default_model()
    assert model.is_file() and model.with_suffix(".json").is_file(), model
    manifest = json.loads(model.with_suffix(".json").read_text())
    assert manifest["training"]["license"] == "CC BY-NC 4.0" and manifest["training"]["non_commercial"] is True
    assert [o["name"] for o in manifest["outputs"]] == ["depth", "elevation", "nll"]
    assert manifest["training"]["method"] == "ours"  # the unsupervised default, not a supervised baseline


def test_default_model_lifts_the_fixture_better_than_a_flat_pose():
    data = evaluation.load_split("fixture")
    pred = evaluation.predict(_default_model(), data, backend="onnxruntime")
    result, per_pose = evaluation.score(pred, data)
    flat_shape = pred.shape * np.array([1.0, 1.0, 0.0])  # the same 2D, every depth thrown away
    flat = evaluation.Prediction(
        shape=flat_shape,
        joints_m=metric.scale_to_height(flat_shape),
        elevation=None,
        nll=None,
        backend="none",
        normalization=pred.normalization,
    )
    flat_result, _ = evaluation.score(flat, data)
    # A lifter must beat throwing the depth away, predict the camera elevation and flag bad poses.
    assert result["pa_mpjpe_mm"] < 0.6 * flat_result["pa_mpjpe_mm"], (result["pa_mpjpe_mm"], flat_result["pa_mpjpe_mm"])
    assert result["elevation_err_deg"] < 15.0
    assert result["spearman_nll_pa"] > 0.2
    assert np.all(np.isfinite(pred.nll)) and pred.backend == "onnxruntime"
