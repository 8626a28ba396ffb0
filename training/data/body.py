"""Measure bodies in the joint layout: the reference body of the mocap
(hpe3d_ros.skeleton.REFERENCE_BONE_SUM_M and REFERENCE_HEIGHT_M: `hpe3d ingest --measure-body`), the
layout's bone groups of any body (``layout_groups``) and a stature from standing frames (``stature``).

Bone groups (``GROUPS``; left and right averaged): 'hip' pelvis to hip joint (half the hip width),
'thigh', 'shin', 'torso' pelvis to thorax, 'neck' thorax to the head point, 'shoulder' thorax to
shoulder joint (half the shoulder width), 'upper_arm', 'forearm'. They are what
training.data.bodies varies and training.data.hdm05.Retarget sets.
"""
from __future__ import annotations

import numpy as np

from hpe3d_ros import skeleton

# Skull base (the Bandai Head joint) to the top of the head, as a stature fraction: the ear canal
# sits at about 0.93 of stature and the skull base about 0.03 below it (Winter, Biomechanics and
# Motor Control of Human Movement, segment heights; Drillis & Contini).
HEAD_TOP_FRACTION = 0.10
HEAD_TOP_ALLOWANCE_M = 0.16  # 0.10 x ~1.6 m


# Median layout bone-group lengths (m) of the Bandai skeleton, the one body of the Bandai clips
# (all 416,845 frames agree within 2 mm except torso and shoulder, which follow the spine and
# shoulder motion; 'neck' ends at the skull base, Bandai's Head joint). Recompute with
# ``{g: np.median(v) for g, v in layout_groups(mocap.load_split("train").joints).items()}``.
BANDAI_GROUPS_M = {"hip": 0.065, "thigh": 0.391, "shin": 0.410, "torso": 0.396, "neck": 0.103, "shoulder": 0.100,
                   "upper_arm": 0.243, "forearm": 0.223}
GROUPS = tuple(BANDAI_GROUPS_M)
# The skull base (the layout's head point for Bandai and HDM05) sits at about 0.90 of stature.
SKULL_BASE_STATURE_FRACTION = 1.0 - HEAD_TOP_FRACTION


def layout_groups(joints: np.ndarray) -> dict[str, np.ndarray]:
    """Per-pose lengths (...,) of the layout's bone groups (``GROUPS``, left/right averaged), metres."""
    n = skeleton.JOINT_NAMES.index

    def d(a: str, b: str) -> np.ndarray:
        return np.linalg.norm(joints[..., n(a), :] - joints[..., n(b), :], axis=-1)

    return {
        "hip": 0.5 * (d("pelvis", "left_hip") + d("pelvis", "right_hip")),
        "thigh": 0.5 * (d("left_hip", "left_knee") + d("right_hip", "right_knee")),
        "shin": 0.5 * (d("left_knee", "left_ankle") + d("right_knee", "right_ankle")),
        "torso": d("pelvis", "thorax"),
        "neck": d("thorax", "head"),
        "shoulder": 0.5 * (d("thorax", "left_shoulder") + d("thorax", "right_shoulder")),
        "upper_arm": 0.5 * (d("left_shoulder", "left_elbow") + d("right_shoulder", "right_elbow")),
        "forearm": 0.5 * (d("left_elbow", "left_wrist") + d("right_elbow", "right_wrist")),
    }


def standing_mask(joints: np.ndarray, straight: float = 0.995, upright: float = 0.995, floor_tol_m: float = 0.005,
                  floor: str = "all") -> np.ndarray:
    """Frames (N,) with both legs straight and vertical, the pelvis-to-head line vertical and both
    ankles at their lowest height (feet on the floor). The floor height: ``floor='all'`` the 1st
    percentile of the lower ankle over all frames; ``'upright'`` the 5th percentile among the frames
    that pass the leg and torso tests (for bodies that also lie on the floor, e.g. HDM05)."""
    j = np.asarray(joints, dtype=np.float64)
    z = j[..., 2]
    names = skeleton.JOINT_NAMES
    ankles = [names.index("left_ankle"), names.index("right_ankle")]
    ok = np.ones(j.shape[0], dtype=bool)
    for side in ("left", "right"):
        hip, knee, ankle = (names.index(f"{side}_{p}") for p in ("hip", "knee", "ankle"))
        leg = np.linalg.norm(j[:, hip] - j[:, knee], axis=-1) + np.linalg.norm(j[:, knee] - j[:, ankle], axis=-1)
        ok &= (z[:, hip] - z[:, ankle]) / leg > straight
    up = j[:, skeleton.HEAD] - j[:, skeleton.ROOT]
    ok &= up[:, 2] / np.linalg.norm(up, axis=-1) > upright
    if floor == "all":
        ankle_floor = np.percentile(z[:, ankles].min(axis=1), 1)
    elif floor == "upright":
        if not ok.any():
            return ok
        ankle_floor = np.percentile(z[ok][:, ankles].min(axis=1), 5)
    else:
        raise ValueError(f"floor must be 'all' or 'upright', got {floor!r}")
    return ok & (np.abs(z[:, ankles] - ankle_floor) < floor_tol_m).all(axis=1)


def stature(joints: np.ndarray) -> dict:
    """Standing measurements of one body whose head point is the skull base (Bandai, HDM05): median
    heights (m above the mocap floor) over its standing frames (legs within about 18 degrees of
    straight: HDM05 actors stand with bent knees) of the ankles, hips, shoulders and the skull base,
    and the stature estimate skull base / ``SKULL_BASE_STATURE_FRACTION``."""
    j = np.asarray(joints, dtype=np.float64)
    st = standing_mask(j, straight=0.95, upright=0.99, floor_tol_m=0.03, floor="upright")
    if not st.any():
        raise ValueError("no standing frames (legs near straight and vertical, torso upright, feet on the floor)")
    n = skeleton.JOINT_NAMES.index
    s = j[st]
    out = {
        "standing_frames": int(st.sum()),
        "ankle_z": float(np.median(s[:, [n("left_ankle"), n("right_ankle")], 2])),
        "hip_z": float(np.median(s[:, [n("left_hip"), n("right_hip")], 2])),
        "shoulder_z": float(np.median(s[:, [n("left_shoulder"), n("right_shoulder")], 2])),
        "skull_base_z": float(np.median(s[:, skeleton.HEAD, 2])),
    }
    out["stature_m"] = out["skull_base_z"] / SKULL_BASE_STATURE_FRACTION
    return out


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
