"""The one joint layout of hpe3d_ros, shared by the runtime and the training code.

Every joint is defined by a rule that each source (MediaPipe BlazePose landmarks, Bandai Namco
mocap joints) can apply, so that 2D joints at inference mean what they meant in training.
The table is rendered into docs/joint_layout.md by ``layout_table_markdown``; a test keeps the two
in step.

Rules:
- ``("avg", (a, b, ...))``: the mean of source points ``a, b, ...`` (landmark indices for
  MediaPipe, BVH joint names for mocap).
- ``("mid", (i, j))``: the midpoint of two joints of this layout (by name), derived after the others.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

LAYOUT_ID = "hpe3d16-v1"


@dataclass(frozen=True)
class Joint:
    """One joint of the layout."""

    index: int
    name: str
    parent: int  # -1 for the root
    mirror: int  # index of the left/right counterpart (itself on the midline)
    part: str  # "torso" or "legs" (TIPSy's two generators)
    mediapipe: tuple  # rule, see module docstring
    mocap: tuple  # rule, see module docstring


# MediaPipe BlazePose landmark indices (33 landmarks).
MP = {
    "nose": 0, "left_ear": 7, "right_ear": 8,
    "left_shoulder": 11, "right_shoulder": 12, "left_elbow": 13, "right_elbow": 14,
    "left_wrist": 15, "right_wrist": 16, "left_hip": 23, "right_hip": 24,
    "left_knee": 25, "right_knee": 26, "left_ankle": 27, "right_ankle": 28,
}
NUM_MEDIAPIPE_LANDMARKS = 33

JOINTS: tuple[Joint, ...] = (
    Joint(0, "pelvis", -1, 0, "torso", ("avg", (MP["left_hip"], MP["right_hip"])), ("avg", ("UpperLeg_L", "UpperLeg_R"))),
    Joint(1, "right_hip", 0, 4, "legs", ("avg", (MP["right_hip"],)), ("avg", ("UpperLeg_R",))),
    Joint(2, "right_knee", 1, 5, "legs", ("avg", (MP["right_knee"],)), ("avg", ("LowerLeg_R",))),
    Joint(3, "right_ankle", 2, 6, "legs", ("avg", (MP["right_ankle"],)), ("avg", ("Foot_R",))),
    Joint(4, "left_hip", 0, 1, "legs", ("avg", (MP["left_hip"],)), ("avg", ("UpperLeg_L",))),
    Joint(5, "left_knee", 4, 2, "legs", ("avg", (MP["left_knee"],)), ("avg", ("LowerLeg_L",))),
    Joint(6, "left_ankle", 5, 3, "legs", ("avg", (MP["left_ankle"],)), ("avg", ("Foot_L",))),
    Joint(7, "spine", 0, 7, "torso", ("mid", ("pelvis", "thorax")), ("mid", ("pelvis", "thorax"))),
    Joint(8, "thorax", 7, 8, "torso", ("avg", (MP["left_shoulder"], MP["right_shoulder"])), ("avg", ("UpperArm_L", "UpperArm_R"))),
    Joint(9, "head", 8, 9, "torso", ("avg", (MP["left_ear"], MP["right_ear"])), ("avg", ("Head",))),
    Joint(10, "left_shoulder", 8, 13, "torso", ("avg", (MP["left_shoulder"],)), ("avg", ("UpperArm_L",))),
    Joint(11, "left_elbow", 10, 14, "torso", ("avg", (MP["left_elbow"],)), ("avg", ("LowerArm_L",))),
    Joint(12, "left_wrist", 11, 15, "torso", ("avg", (MP["left_wrist"],)), ("avg", ("Hand_L",))),
    Joint(13, "right_shoulder", 8, 10, "torso", ("avg", (MP["right_shoulder"],)), ("avg", ("UpperArm_R",))),
    Joint(14, "right_elbow", 13, 11, "torso", ("avg", (MP["right_elbow"],)), ("avg", ("LowerArm_R",))),
    Joint(15, "right_wrist", 14, 12, "torso", ("avg", (MP["right_wrist"],)), ("avg", ("Hand_R",))),
)

NUM_JOINTS = len(JOINTS)
JOINT_NAMES: tuple[str, ...] = tuple(j.name for j in JOINTS)
PARENTS: tuple[int, ...] = tuple(j.parent for j in JOINTS)
MIRROR: tuple[int, ...] = tuple(j.mirror for j in JOINTS)
ROOT = 0
HEAD = JOINT_NAMES.index("head")
TORSO: tuple[int, ...] = tuple(j.index for j in JOINTS if j.part == "torso")
LEGS: tuple[int, ...] = tuple(j.index for j in JOINTS if j.part == "legs")
BONES: tuple[tuple[int, int], ...] = tuple((j.parent, j.index) for j in JOINTS if j.parent >= 0)
# Mocap joints that the rules read (the Bandai Namco skeleton's names).
MOCAP_JOINTS_USED: tuple[str, ...] = tuple(
    sorted({n for j in JOINTS if j.mocap[0] == "avg" for n in j.mocap[1]})
)

# Reference body, measured on the Bandai Namco skeleton (one body proportion for all clips; see
# docs/data.md "The reference body" for the command): REFERENCE_BONE_SUM_M is the mean over all
# 416,845 frames of the sum of the layout's 15 bone lengths (3.363 m; std 4 mm, from spine flexion
# and shoulder motion); REFERENCE_HEIGHT_M is that body's standing height: the head joint's height
# above the mocap floor in standing frames (1.415 m) plus a 0.16 m head-top allowance (the Head
# joint sits at the skull base; skull base to vertex is about 0.10 of stature).
REFERENCE_HEIGHT_M = 1.58
REFERENCE_BONE_SUM_M = 3.363


def _apply_rules(points: np.ndarray, source: str, lookup: Mapping) -> np.ndarray:
    out = np.full(points.shape[:-2] + (NUM_JOINTS, points.shape[-1]), np.nan, dtype=np.float64)
    for joint in JOINTS:
        kind, args = getattr(joint, source)
        if kind == "avg":
            idx = [lookup[a] for a in args]
            out[..., joint.index, :] = points[..., idx, :].mean(axis=-2)
    for joint in JOINTS:
        kind, args = getattr(joint, source)
        if kind == "mid":
            a, b = (JOINT_NAMES.index(n) for n in args)
            out[..., joint.index, :] = 0.5 * (out[..., a, :] + out[..., b, :])
    return out


def from_mediapipe(landmarks: np.ndarray) -> np.ndarray:
    """Map MediaPipe landmarks (..., 33, C) to the layout (..., 16, C) by the documented rules.

    C may be 2 (pixels), 3 or include a trailing score channel; every channel is averaged the same
    way except that scores should be combined with ``scores_from_mediapipe``.
    """
    landmarks = np.asarray(landmarks, dtype=np.float64)
    if landmarks.ndim < 2 or landmarks.shape[-2] != NUM_MEDIAPIPE_LANDMARKS:
        raise ValueError(f"expected (..., {NUM_MEDIAPIPE_LANDMARKS}, C) MediaPipe landmarks, got {landmarks.shape}")
    return _apply_rules(landmarks, "mediapipe", {i: i for i in range(NUM_MEDIAPIPE_LANDMARKS)})


def scores_from_mediapipe(visibility: np.ndarray) -> np.ndarray:
    """Per-joint confidence (..., 16) from MediaPipe per-landmark scores (..., 33).

    A derived joint is as confident as its weakest source landmark.
    """
    visibility = np.asarray(visibility, dtype=np.float64)
    if visibility.shape[-1] != NUM_MEDIAPIPE_LANDMARKS:
        raise ValueError(f"expected (..., {NUM_MEDIAPIPE_LANDMARKS}) scores, got {visibility.shape}")
    out = np.empty(visibility.shape[:-1] + (NUM_JOINTS,), dtype=np.float64)
    for joint in JOINTS:
        kind, args = joint.mediapipe
        if kind == "avg":
            out[..., joint.index] = visibility[..., list(args)].min(axis=-1)
    for joint in JOINTS:
        kind, args = joint.mediapipe
        if kind == "mid":
            a, b = (JOINT_NAMES.index(n) for n in args)
            out[..., joint.index] = np.minimum(out[..., a], out[..., b])
    return out


def from_mocap(positions: np.ndarray, joint_names: Sequence[str]) -> np.ndarray:
    """Map mocap joint positions (..., K, 3) named ``joint_names`` to the layout (..., 16, 3)."""
    lookup = {name: i for i, name in enumerate(joint_names)}
    missing = [n for n in MOCAP_JOINTS_USED if n not in lookup]
    if missing:
        raise KeyError(f"mocap skeleton lacks joints required by layout {LAYOUT_ID}: {missing}")
    return _apply_rules(np.asarray(positions, dtype=np.float64), "mocap", lookup)


def bone_lengths(joints: np.ndarray) -> np.ndarray:
    """Bone lengths (..., 15) in the order of ``BONES``."""
    parents = np.array([b[0] for b in BONES])
    children = np.array([b[1] for b in BONES])
    return np.linalg.norm(joints[..., children, :] - joints[..., parents, :], axis=-1)


def layout_description() -> dict:
    """A JSON-able description of the layout, written into every model manifest."""
    return {
        "id": LAYOUT_ID,
        "joints": list(JOINT_NAMES),
        "parents": list(PARENTS),
        "mirror": list(MIRROR),
        "torso": list(TORSO),
        "legs": list(LEGS),
        "root": ROOT,
        "head": HEAD,
        "hash": layout_hash(),
    }


def layout_hash() -> str:
    """A short hash of everything that defines the layout, rules included."""
    blob = json.dumps(
        [[j.index, j.name, j.parent, j.mirror, j.part, j.mediapipe, j.mocap] for j in JOINTS], sort_keys=True
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _rule_text(rule: tuple, source: str) -> str:
    kind, args = rule
    if kind == "mid":
        return f"midpoint of {args[0]} and {args[1]}"
    if source == "mediapipe":
        inv = {v: k for k, v in MP.items()}
        names = [f"{inv.get(a, a)} ({a})" for a in args]
    else:
        names = list(args)
    return names[0] if len(names) == 1 else "mean of " + " and ".join(names)


def layout_table_markdown() -> str:
    """The joint table as Markdown (docs/joint_layout.md embeds exactly this)."""
    lines = [
        "| index | name | parent | mirror | part | MediaPipe BlazePose rule | Bandai Namco mocap rule |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for j in JOINTS:
        parent = JOINT_NAMES[j.parent] if j.parent >= 0 else "-"
        lines.append(
            f"| {j.index} | {j.name} | {parent} | {JOINT_NAMES[j.mirror]} | {j.part} | "
            f"{_rule_text(j.mediapipe, 'mediapipe')} | {_rule_text(j.mocap, 'mocap')} |"
        )
    return "\n".join(lines) + "\n"
