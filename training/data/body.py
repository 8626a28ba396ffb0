"""Measure the reference body of the mocap (hpe3d_ros.skeleton.REFERENCE_BONE_SUM_M and
REFERENCE_HEIGHT_M): `hpe3d ingest --measure-body`."""
from __future__ import annotations

import numpy as np

from hpe3d_ros import skeleton

# Skull base (the Bandai Head joint) to the top of the head, as a stature fraction: the ear canal
# sits at about 0.93 of stature and the skull base about 0.03 below it (Winter, Biomechanics and
# Motor Control of Human Movement, segment heights; Drillis & Contini).
HEAD_TOP_FRACTION = 0.10
HEAD_TOP_ALLOWANCE_M = 0.16  # 0.10 x ~1.6 m


def standing_mask(
    joints: np.ndarray, straight: float = 0.995, upright: float = 0.995, floor_tol_m: float = 0.005
) -> np.ndarray:
    """Frames (N,) with both legs straight and vertical, the pelvis-to-head line vertical and both
    ankles at their lowest height (feet on the floor)."""
    j = np.asarray(joints, dtype=np.float64)
    z = j[..., 2]
    names = skeleton.JOINT_NAMES
    ok = np.ones(j.shape[0], dtype=bool)
    ankle_floor = np.percentile(np.minimum(z[:, names.index("left_ankle")], z[:, names.index("right_ankle")]), 1)
    for side in ("left", "right"):
        hip, knee, ankle = (names.index(f"{side}_{p}") for p in ("hip", "knee", "ankle"))
        leg = np.linalg.norm(j[:, hip] - j[:, knee], axis=-1) + np.linalg.norm(j[:, knee] - j[:, ankle], axis=-1)
        ok &= (z[:, hip] - z[:, ankle]) / leg > straight
        ok &= np.abs(z[:, ankle] - ankle_floor) < floor_tol_m
    up = j[:, skeleton.HEAD] - j[:, skeleton.ROOT]
    ok &= up[:, 2] / np.linalg.norm(up, axis=-1) > upright
    return ok


def measure_reference_body(joints: np.ndarray, head_top_m: float = HEAD_TOP_ALLOWANCE_M) -> dict:
    """Bone-length sum (mean over all frames) and standing height (head joint above the floor in
    standing frames plus ``head_top_m``) of world poses (N, 16, 3) with the floor at z = 0."""
    j = np.asarray(joints, dtype=np.float64)
    sums = skeleton.bone_lengths(j).sum(-1)
    stand = standing_mask(j)
    if not stand.any():
        raise ValueError("no standing frames found (legs straight, torso upright, feet on the floor)")
    s = j[stand]
    heights = {n: float(np.median(s[:, i, 2])) for i, n in enumerate(skeleton.JOINT_NAMES)}
    head = heights["head"]
    return {
        "frames": int(j.shape[0]),
        "bone_sum_m_mean": float(sums.mean()),
        "bone_sum_m_std": float(sums.std()),
        "bone_sum_m_min": float(sums.min()),
        "bone_sum_m_max": float(sums.max()),
        "standing_frames": int(stand.sum()),
        "standing_joint_height_m": heights,
        "head_top_allowance_m": head_top_m,
        "height_m": head + head_top_m,
    }
