"""Evaluate a lifter model on an evaluation set: 2D in pixels -> model -> metric shapes -> metrics.

An evaluation set is a dict of per-pose arrays (contract 4, ``training.data.evalset.load_eval_set``):
keypoints (N,16,2) px, intrinsics (N,3,3), scores (N,16), joints3d (N,16,3) camera-frame metres,
elevation (N,) rad, content (N,) str, clip (N,) str. ``load_eval_file`` reads the same keys from an
.npz so that any set (a user's own, a test's) can be evaluated.

Predicted root-relative shapes (normalisation units) become metres with the body-height prior
``hpe3d_ros.metric.scale_to_height`` and are compared with the root-centred ground truth.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hpe3d_ros import metric, skeleton
from hpe3d_ros import pose_metrics as metrics

J = skeleton.NUM_JOINTS
EVAL_KEYS = ("keypoints", "intrinsics", "scores", "joints3d", "elevation", "content", "clip")
REQUIRED_KEYS = ("keypoints", "intrinsics", "joints3d")
# Camera-elevation bands of the JSON's per_elevation (degrees, [low, high)): the in-car, robot and
# elevated CCTV views of the default virtual cameras (hpe3d_ros.camera.VirtualCameraConfig).
ELEVATION_BANDS_DEG = {"below_10deg": (-90.0, 10.0), "10_to_30deg": (10.0, 30.0), "30deg_and_above": (30.0, 90.0)}


@dataclass
class Prediction:
    """What a model predicted for every pose of an evaluation set."""

    shape: np.ndarray  # (N, 16, 3) root-relative, normalisation units (optical axes)
    joints_m: np.ndarray  # (N, 16, 3) root-relative metres (shape scaled by the height prior)
    elevation: np.ndarray | None  # (N,) radians, None when the model has no elevation output
    nll: np.ndarray | None  # (N,) plausibility, None when the model has no nll output
    backend: str
    normalization: str


def validate_eval_set(data: dict, where: str = "evaluation set") -> dict:
    """Check shapes and values of an evaluation set; fill optional keys; raise ValueError naming the field."""
    for key in REQUIRED_KEYS:
        if key not in data:
            raise ValueError(f"{where}: missing field {key!r} (has {sorted(data)})")
    out = {k: np.asarray(v) for k, v in data.items()}
    kp = out["keypoints"]
    if kp.ndim != 3 or kp.shape[1:] != (J, 2):
        raise ValueError(f"{where}: field 'keypoints' must be (N, {J}, 2), got {kp.shape}")
    n = kp.shape[0]
    if n == 0:
        raise ValueError(f"{where}: holds no poses")
    expected = {"joints3d": (n, J, 3), "scores": (n, J), "elevation": (n,), "content": (n,), "clip": (n,)}
    k = out["intrinsics"]
    if k.shape == (3, 3):
        out["intrinsics"] = np.broadcast_to(k, (n, 3, 3)).copy()
    elif k.shape != (n, 3, 3):
        raise ValueError(f"{where}: field 'intrinsics' must be (3, 3) or ({n}, 3, 3), got {k.shape}")
    out.setdefault("scores", np.ones((n, J)))
    out.setdefault("content", np.full(n, "all"))
    out.setdefault("clip", np.full(n, ""))
    for key, shape in expected.items():
        if key in out and out[key].shape != shape:
            raise ValueError(f"{where}: field {key!r} must be {shape}, got {out[key].shape}")
    for key in ("keypoints", "intrinsics", "joints3d", "scores", "elevation"):
        if key in out and not np.all(np.isfinite(out[key].astype(np.float64))):
            raise ValueError(f"{where}: field {key!r} holds NaN or inf")
    z = out["joints3d"][..., 2]
    if np.any(z <= 0):
        raise ValueError(f"{where}: field 'joints3d' must be camera-frame points in front of the camera (z > 0)")
    return out


def load_eval_file(path: str | Path) -> dict:
    """An evaluation set from an .npz holding the keys of ``EVAL_KEYS``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such evaluation file")
    with np.load(path, allow_pickle=False) as z:
        data = {k: z[k] for k in z.files}
    return validate_eval_set(data, str(path))


def load_split(split: str, noise: str | None = None) -> dict:
    """The deterministic evaluation set of ``split`` ("test", "val", "fixture") from training.data.evalset,
    with ``noise`` None, "detector" (the fitted detector error model) or "mild" (the earlier 3 px jitter)."""
    try:
        from .data.evalset import load_eval_set
    except ImportError as e:
        raise FileNotFoundError(
            f"evaluation splits are not available ({e}); pass an evaluation file with --data"
        ) from e
    where = f"split {split!r}" + (f" ({noise} noise)" if noise else "")
    return validate_eval_set(load_eval_set(split, noise=noise), where)


def subset(data: dict, limit: int | None) -> dict:
    """At most ``limit`` poses, evenly spaced over the set (so every content keeps its share)."""
    n = len(data["keypoints"])
    if limit is None or limit >= n:
        return data
    if limit < 1:
        raise ValueError(f"--limit must be at least 1, got {limit}")
    idx = np.unique(np.linspace(0, n - 1, limit).round().astype(int))
    return {k: v[idx] for k, v in data.items()}


def predict(
    model_path: str | Path,
    data: dict,
    backend: str = "auto",
    height_m: float = metric.DEFAULT_BODY_HEIGHT_M,
    batch_size: int = 4096,
) -> Prediction:
    """Run a model (ONNX with manifest, or a training checkpoint) through ``hpe3d_ros.lifting.Lifter``."""
    from hpe3d_ros.lifting import Lifter

    lifter = Lifter(model_path, backend=backend)
    try:
        shapes, elevations, nlls = [], [], []
        n = len(data["keypoints"])
        for start in range(0, n, batch_size):
            sl = slice(start, start + batch_size)
            res = lifter.lift(data["keypoints"][sl], data["intrinsics"][sl], data["scores"][sl], height_m=height_m)
            shapes.append(res.shape)
            elevations.append(res.elevation)
            if res.plausibility is not None:
                nlls.append(res.plausibility)
        shape = np.concatenate(shapes)
        return Prediction(
            shape=shape,
            joints_m=metric.scale_to_height(shape, height_m),
            elevation=np.concatenate(elevations) if lifter.has_elevation else None,
            nll=np.concatenate(nlls) if lifter.has_plausibility else None,
            backend=lifter.backend_name,
            normalization=lifter.normalization,
        )
    finally:
        lifter.close()


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation (ties get their average rank); NaN when either side is constant."""
    from scipy.stats import rankdata

    ra = rankdata(np.asarray(a, dtype=np.float64))
    rb = rankdata(np.asarray(b, dtype=np.float64))
    ra -= ra.mean()
    rb -= rb.mean()
    den = math.sqrt(float((ra * ra).sum() * (rb * rb).sum()))
    return float((ra * rb).sum() / den) if den > 0 else float("nan")


def elevation_error_deg(pred_rad: np.ndarray, gt_rad: np.ndarray) -> float:
    """Mean absolute elevation error in degrees."""
    return float(np.degrees(np.abs(np.asarray(pred_rad) - np.asarray(gt_rad))).mean())


def score(pred: Prediction, data: dict) -> tuple[dict, dict]:
    """Metrics of a prediction against an evaluation set.

    Returns ``(result, per_pose)``: ``result`` holds ``metrics.METRIC_KEYS``, ``per_joint_mm``,
    ``per_content`` (content -> metric keys), ``per_elevation`` (``ELEVATION_BANDS_DEG`` band ->
    metric keys, when the set has elevations), ``elevation_err_deg`` and ``spearman_nll_pa`` (None
    when the model lacks that output or the set lacks elevation); ``per_pose`` holds per-pose arrays
    (mpjpe_mm, pa_mpjpe_mm, joint_err_mm, pred_m, gt_m) for the report.
    """
    gt_m = metrics.root_center(data["joints3d"])
    pred_m = metrics.root_center(pred.joints_m)
    errors = metrics.pose_errors(pred_m, gt_m)
    result: dict = metrics.summarize(errors)
    result["per_joint_mm"] = [float(v) for v in errors["joint_err_mm"].mean(axis=0)]
    content = np.asarray(data["content"]).astype(str)
    result["per_content"] = {c: metrics.summarize(errors, content == c) for c in np.unique(content)}
    if "elevation" in data:
        deg = np.degrees(np.asarray(data["elevation"], dtype=np.float64))
        result["per_elevation"] = {
            name: metrics.summarize(errors, (deg >= lo) & (deg < hi)) for name, (lo, hi) in ELEVATION_BANDS_DEG.items()
        }
    pa_pose = errors["pa_joint_err_mm"].mean(axis=1)
    result["elevation_err_deg"] = (
        elevation_error_deg(pred.elevation, data["elevation"])
        if pred.elevation is not None and "elevation" in data
        else None
    )
    result["spearman_nll_pa"] = spearman(pred.nll, pa_pose) if pred.nll is not None else None
    per_pose = {
        "mpjpe_mm": errors["joint_err_mm"].mean(axis=1),
        "pa_mpjpe_mm": pa_pose,
        "joint_err_mm": errors["joint_err_mm"],
        "pred_m": pred_m,
        "gt_m": gt_m,
    }
    return result, per_pose
