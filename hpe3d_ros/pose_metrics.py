"""3D pose metrics: the one way this project measures 3D error (see docs/metrics.md).

All functions take predictions and ground truth as (N, J, 3) arrays in metres (one pose per row,
the project's joint layout) and return millimetres, or fractions for PCK/AUC. They are vectorised
numpy: a 40k-pose test split evaluates in well under a second.

Inputs are compared as given: callers root-centre both sides first (``evaluate`` does). Each
``*_per_pose`` function returns one value per pose; the plain function is its mean over poses.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from . import skeleton

PCK_THRESHOLD_MM = 150.0
AUC_THRESHOLDS_MM = np.linspace(0.0, 150.0, 31)  # 0, 5, ..., 150 mm (Mehta et al., 3DHP protocol)
CPS_MAX_MM = 300.0
METRIC_KEYS = ("mpjpe_mm", "n_mpjpe_mm", "pa_mpjpe_mm", "pck3d", "auc", "cps", "bone_err_mm", "n_poses")


def _check(pred: np.ndarray, gt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pred = np.asarray(pred, dtype=np.float64)
    gt = np.asarray(gt, dtype=np.float64)
    if pred.ndim == 2:
        pred = pred[None]
    if gt.ndim == 2:
        gt = gt[None]
    if pred.ndim != 3 or pred.shape[-1] != 3:
        raise ValueError(f"predictions must be (N, J, 3), got {pred.shape}")
    if pred.shape != gt.shape:
        raise ValueError(f"predictions {pred.shape} and ground truth {gt.shape} differ in shape")
    if not (np.all(np.isfinite(pred)) and np.all(np.isfinite(gt))):
        raise ValueError("predictions or ground truth contain NaN or inf")
    return pred, gt


def joint_errors(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Per-joint Euclidean errors (N, J) in mm, without any alignment."""
    pred, gt = _check(pred, gt)
    return 1000.0 * np.linalg.norm(pred - gt, axis=-1)


def mpjpe_per_pose(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Mean per-joint position error of each pose (N,) in mm."""
    return joint_errors(pred, gt).mean(axis=-1)


def mpjpe(pred: np.ndarray, gt: np.ndarray) -> float:
    """MPJPE in mm: mean Euclidean joint error over all joints and poses (no alignment)."""
    return float(mpjpe_per_pose(pred, gt).mean())


def scale_align(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Each predicted pose times its least-squares optimal scale ``<p, g> / <p, p>`` (Rhodin et al.)."""
    pred, gt = _check(pred, gt)
    num = np.einsum("njc,njc->n", pred, gt)
    den = np.einsum("njc,njc->n", pred, pred)
    return pred * (num / np.maximum(den, 1e-12))[:, None, None]


def n_mpjpe_per_pose(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """MPJPE (N,) in mm after scaling each prediction optimally onto its ground truth."""
    return mpjpe_per_pose(scale_align(pred, gt), gt)


def n_mpjpe(pred: np.ndarray, gt: np.ndarray) -> float:
    """N-MPJPE in mm (Rhodin et al. 2018): MPJPE after per-pose optimal scale alignment."""
    return float(n_mpjpe_per_pose(pred, gt).mean())


def procrustes_align(pred: np.ndarray, gt: np.ndarray, return_transform: bool = False):
    """Similarity-align each predicted pose onto its ground truth (Umeyama 1991).

    Finds scale ``s``, a proper rotation ``R`` (det +1: a mirrored pose is NOT mirrored back) and
    translation ``t`` minimising ``sum_j |s R p_j + t - g_j|^2``. Returns the aligned poses (N, J, 3),
    and with ``return_transform`` also ``(s (N,), R (N,3,3), t (N,3))``.
    """
    pred, gt = _check(pred, gt)
    mu_p = pred.mean(axis=1, keepdims=True)
    mu_g = gt.mean(axis=1, keepdims=True)
    p0 = pred - mu_p
    g0 = gt - mu_g
    cov = np.einsum("nji,njk->nik", g0, p0)  # sum_j g_j p_j^T, (N,3,3)
    u, sig, vt = np.linalg.svd(cov)
    d = np.sign(np.linalg.det(u @ vt))
    d[d == 0] = 1.0
    fix = np.ones_like(sig)
    fix[:, -1] = d  # flip the weakest axis when the best orthogonal map is a reflection
    rot = np.einsum("nij,nj,njk->nik", u, fix, vt)
    var_p = np.einsum("njc,njc->n", p0, p0)
    scale = (sig * fix).sum(axis=-1) / np.maximum(var_p, 1e-12)
    aligned = scale[:, None, None] * np.einsum("nik,njk->nji", rot, p0) + mu_g
    if return_transform:
        trans = mu_g[:, 0] - scale[:, None] * np.einsum("nik,nk->ni", rot, mu_p[:, 0])
        return aligned, (scale, rot, trans)
    return aligned


def pa_mpjpe_per_pose(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """MPJPE (N,) in mm after Procrustes alignment (scale, rotation, translation) of each pose."""
    return mpjpe_per_pose(procrustes_align(pred, gt), gt)


def pa_mpjpe(pred: np.ndarray, gt: np.ndarray) -> float:
    """PA-MPJPE in mm (protocol 2): MPJPE after per-pose similarity (Procrustes) alignment."""
    return float(pa_mpjpe_per_pose(pred, gt).mean())


def pck3d(pred: np.ndarray, gt: np.ndarray, threshold_mm: float = PCK_THRESHOLD_MM) -> float:
    """PCK3D: fraction of joints whose error is at most ``threshold_mm`` (Mehta et al. 2017)."""
    return float((joint_errors(pred, gt) <= threshold_mm).mean())


def auc(pred: np.ndarray, gt: np.ndarray, thresholds_mm: Sequence[float] = AUC_THRESHOLDS_MM) -> float:
    """AUC of PCK3D over thresholds 0..150 mm in 5 mm steps, as a fraction in [0, 1]."""
    return _auc_from_errors(joint_errors(pred, gt), np.asarray(thresholds_mm, dtype=np.float64))


def _auc_from_errors(err: np.ndarray, thresholds: np.ndarray) -> float:
    flat = np.sort(err.ravel())
    below = np.searchsorted(flat, thresholds, side="right")  # count of errors <= t
    return float((below / max(flat.size, 1)).mean())


def cps_per_pose(pred: np.ndarray, gt: np.ndarray, max_mm: float = CPS_MAX_MM) -> np.ndarray:
    """Each pose's contribution to CPS: ``max_mm - min(worst PA-aligned joint error, max_mm)``."""
    worst = joint_errors(procrustes_align(pred, gt), gt).max(axis=-1)
    return max_mm - np.minimum(worst, max_mm)


def cps(pred: np.ndarray, gt: np.ndarray, max_mm: float = CPS_MAX_MM) -> float:
    """Correct Poses Score in mm (Wandt et al., CanonPose 2021): ``integral_0^300 PCPS(t) dt`` where
    PCPS(t) is the fraction of poses whose every joint is within t after Procrustes alignment.

    Computed exactly: the integral of a step function per pose is ``300 - min(worst error, 300)``.
    A perfect model scores 300.
    """
    return float(cps_per_pose(pred, gt, max_mm).mean())


def bone_length_error_per_pose(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Mean absolute bone-length difference (N,) in mm over the layout's bones."""
    pred, gt = _check(pred, gt)
    if pred.shape[1] != skeleton.NUM_JOINTS:
        raise ValueError(f"bone lengths need the {skeleton.NUM_JOINTS}-joint layout, got {pred.shape[1]} joints")
    return 1000.0 * np.abs(skeleton.bone_lengths(pred) - skeleton.bone_lengths(gt)).mean(axis=-1)


def bone_length_error(pred: np.ndarray, gt: np.ndarray) -> float:
    """Bone-length error in mm: mean absolute difference of bone lengths over bones and poses."""
    return float(bone_length_error_per_pose(pred, gt).mean())


def pose_errors(pred: np.ndarray, gt: np.ndarray) -> dict[str, np.ndarray]:
    """Everything ``evaluate`` needs, computed once: per-joint errors (N, J) without and after
    Procrustes alignment, per-pose N-MPJPE (N,) and bone-length errors (N,), all in mm."""
    pred, gt = _check(pred, gt)
    return {
        "joint_err_mm": joint_errors(pred, gt),
        "pa_joint_err_mm": joint_errors(procrustes_align(pred, gt), gt),
        "n_mpjpe_mm": n_mpjpe_per_pose(pred, gt),
        "bone_err_mm": bone_length_error_per_pose(pred, gt)
        if pred.shape[1] == skeleton.NUM_JOINTS
        else np.full(len(pred), np.nan),
    }


def summarize(errors: dict[str, np.ndarray], index: np.ndarray | slice = slice(None)) -> dict[str, float]:
    """The metric dict (``METRIC_KEYS``) of the poses ``index`` from ``pose_errors`` output."""
    err = errors["joint_err_mm"][index]
    pa = errors["pa_joint_err_mm"][index]
    n = int(err.shape[0])
    if n == 0:
        return {k: (0 if k == "n_poses" else float("nan")) for k in METRIC_KEYS}
    return {
        "mpjpe_mm": float(err.mean()),
        "n_mpjpe_mm": float(errors["n_mpjpe_mm"][index].mean()),
        "pa_mpjpe_mm": float(pa.mean()),
        "pck3d": float((err <= PCK_THRESHOLD_MM).mean()),
        "auc": _auc_from_errors(err, AUC_THRESHOLDS_MM),
        "cps": float((CPS_MAX_MM - np.minimum(pa.max(axis=-1), CPS_MAX_MM)).mean()),
        "bone_err_mm": float(errors["bone_err_mm"][index].mean()),
        "n_poses": n,
    }


def root_center(points: np.ndarray) -> np.ndarray:
    """Subtract each pose's root joint (the layout's pelvis)."""
    points = np.asarray(points, dtype=np.float64)
    return points - points[:, skeleton.ROOT : skeleton.ROOT + 1]


def evaluate(
    pred: np.ndarray, gt: np.ndarray, groups: Sequence | np.ndarray | None = None, root_align: bool = True
) -> dict:
    """All metrics of predictions against ground truth (both (N, J, 3) metres).

    Both sides are root-centred first (``root_align``), so MPJPE is protocol 1. Returns the keys of
    ``METRIC_KEYS`` plus ``per_joint_mm`` (J mean errors) and, when ``groups`` (N labels, e.g. the
    content of each pose) is given, ``per_group``: label -> the same metric keys.
    """
    pred, gt = _check(pred, gt)
    if root_align:
        pred, gt = root_center(pred), root_center(gt)
    errors = pose_errors(pred, gt)
    out: dict = summarize(errors)
    out["per_joint_mm"] = [float(v) for v in errors["joint_err_mm"].mean(axis=0)]
    if groups is not None:
        labels = np.asarray(groups)
        if labels.shape != (len(pred),):
            raise ValueError(f"groups must hold one label per pose ({len(pred)}), got shape {labels.shape}")
        out["per_group"] = {str(g): summarize(errors, labels == g) for g in np.unique(labels)}
    return out
