"""The one joint layout of hpe3d_ros, shared by the runtime and the training code.

Every joint is defined by a rule that each source (MediaPipe BlazePose landmarks, Bandai Namco
mocap joints, ...) can apply, so that 2D joints at inference mean what they meant in training.
``JOINTS`` holds the layout's structure; ``SOURCES`` holds, per source, one rule per joint (a new
source, e.g. another 2D detector's keypoints, is one more ``Source`` entry: no joint row changes).
The table is rendered into docs/joint_layout.md by ``layout_table_markdown``; a test keeps the two
in step.

Rules:
- ``("avg", (a, b, ...))``: the mean of source points ``a, b, ...`` (landmark indices for
  MediaPipe, BVH joint names for mocap).
- ``("mid", (i, j))``: the midpoint of two joints of this layout (by name), derived after the others.

``layout_hash`` covers the structure and the rules of ``HASHED_SOURCES`` (the sources the shipped
models were defined with: every model manifest records it, engines/*.json); adding a source does not
change it, changing one of those rules does (and then every manifest must be rewritten).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
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


JOINTS: tuple[Joint, ...] = (
    Joint(0, "pelvis", -1, 0, "torso"),
    Joint(1, "right_hip", 0, 4, "legs"),
    Joint(2, "right_knee", 1, 5, "legs"),
    Joint(3, "right_ankle", 2, 6, "legs"),
    Joint(4, "left_hip", 0, 1, "legs"),
    Joint(5, "left_knee", 4, 2, "legs"),
    Joint(6, "left_ankle", 5, 3, "legs"),
    Joint(7, "spine", 0, 7, "torso"),
    Joint(8, "thorax", 7, 8, "torso"),
    Joint(9, "head", 8, 9, "torso"),
    Joint(10, "left_shoulder", 8, 13, "torso"),
    Joint(11, "left_elbow", 10, 14, "torso"),
    Joint(12, "left_wrist", 11, 15, "torso"),
    Joint(13, "right_shoulder", 8, 10, "torso"),
    Joint(14, "right_elbow", 13, 11, "torso"),
    Joint(15, "right_wrist", 14, 12, "torso"),
)


def avg(*points) -> tuple:
    """Rule: the mean of these source points."""
    return ("avg", tuple(points))


def mid(joint_a: str, joint_b: str) -> tuple:
    """Rule: the midpoint of two joints of this layout (derived after the ``avg`` joints)."""
    return ("mid", (joint_a, joint_b))


@dataclass(frozen=True)
class Source:
    """A kind of points the layout is derived from, with one rule per joint (keyed by joint name)."""

    name: str  # key of SOURCES
    title: str  # column heading of the joint table
    rules: Mapping[str, tuple]
    num_points: int | None = None  # index-addressed sources (landmark arrays): their point count
    point_names: Mapping = field(default_factory=dict)  # readable names of source points, for the table


# MediaPipe BlazePose landmark indices (33 landmarks).
MP = {
    "nose": 0, "left_ear": 7, "right_ear": 8,
    "left_shoulder": 11, "right_shoulder": 12, "left_elbow": 13, "right_elbow": 14,
    "left_wrist": 15, "right_wrist": 16, "left_hip": 23, "right_hip": 24,
    "left_knee": 25, "right_knee": 26, "left_ankle": 27, "right_ankle": 28,
}
NUM_MEDIAPIPE_LANDMARKS = 33

SOURCES: dict[str, Source] = {
    "mediapipe": Source(
        "mediapipe",
        "MediaPipe BlazePose",
        {
            "pelvis": avg(MP["left_hip"], MP["right_hip"]),
            "right_hip": avg(MP["right_hip"]),
            "right_knee": avg(MP["right_knee"]),
            "right_ankle": avg(MP["right_ankle"]),
            "left_hip": avg(MP["left_hip"]),
            "left_knee": avg(MP["left_knee"]),
            "left_ankle": avg(MP["left_ankle"]),
            "spine": mid("pelvis", "thorax"),
            "thorax": avg(MP["left_shoulder"], MP["right_shoulder"]),
            "head": avg(MP["left_ear"], MP["right_ear"]),
            "left_shoulder": avg(MP["left_shoulder"]),
            "left_elbow": avg(MP["left_elbow"]),
            "left_wrist": avg(MP["left_wrist"]),
            "right_shoulder": avg(MP["right_shoulder"]),
            "right_elbow": avg(MP["right_elbow"]),
            "right_wrist": avg(MP["right_wrist"]),
        },
        num_points=NUM_MEDIAPIPE_LANDMARKS,
        point_names={v: k for k, v in MP.items()},
    ),
    "mocap": Source(
        "mocap",
        "Bandai Namco mocap",
        {
            "pelvis": avg("UpperLeg_L", "UpperLeg_R"),
            "right_hip": avg("UpperLeg_R"),
            "right_knee": avg("LowerLeg_R"),
            "right_ankle": avg("Foot_R"),
            "left_hip": avg("UpperLeg_L"),
            "left_knee": avg("LowerLeg_L"),
            "left_ankle": avg("Foot_L"),
            "spine": mid("pelvis", "thorax"),
            "thorax": avg("UpperArm_L", "UpperArm_R"),
            "head": avg("Head"),
            "left_shoulder": avg("UpperArm_L"),
            "left_elbow": avg("LowerArm_L"),
            "left_wrist": avg("Hand_L"),
            "right_shoulder": avg("UpperArm_R"),
            "right_elbow": avg("LowerArm_R"),
            "right_wrist": avg("Hand_R"),
        },
    ),
}
HASHED_SOURCES = ("mediapipe", "mocap")


def _check_sources() -> None:
    names = {j.name for j in JOINTS}
    for src in SOURCES.values():
        missing, extra = names - set(src.rules), set(src.rules) - names
        if missing or extra:
            raise ValueError(
                f"source {src.name!r}: rules for {sorted(extra)} (no such joints), none for {sorted(missing)}"
            )
        for joint, (kind, args) in src.rules.items():
            if kind not in ("avg", "mid") or not args or (kind == "mid" and not set(args) <= names):
                raise ValueError(f"source {src.name!r}, joint {joint!r}: bad rule {(kind, args)!r}")


_check_sources()

NUM_JOINTS = len(JOINTS)
JOINT_NAMES: tuple[str, ...] = tuple(j.name for j in JOINTS)
PARENTS: tuple[int, ...] = tuple(j.parent for j in JOINTS)
MIRROR: tuple[int, ...] = tuple(j.mirror for j in JOINTS)
ROOT = 0
HEAD = JOINT_NAMES.index("head")
TORSO: tuple[int, ...] = tuple(j.index for j in JOINTS if j.part == "torso")
LEGS: tuple[int, ...] = tuple(j.index for j in JOINTS if j.part == "legs")
BONES: tuple[tuple[int, int], ...] = tuple((j.parent, j.index) for j in JOINTS if j.parent >= 0)


def source_points_used(source: str) -> tuple:
    """The source points that ``source``'s rules read, sorted."""
    return tuple(sorted({p for kind, args in SOURCES[source].rules.values() if kind == "avg" for p in args}))


# Mocap joints that the rules read (the Bandai Namco skeleton's names).
MOCAP_JOINTS_USED: tuple[str, ...] = source_points_used("mocap")

# Reference body, measured on the Bandai Namco skeleton (one body proportion for all clips; see
# docs/data.md "The reference body" for the command): REFERENCE_BONE_SUM_M is the mean over all
# 416,845 frames of the sum of the layout's 15 bone lengths (3.363 m; std 4 mm, from spine flexion
# and shoulder motion); REFERENCE_HEIGHT_M is that body's standing height: the head joint's height
# above the mocap floor in standing frames (1.415 m) plus a 0.16 m head-top allowance (the Head
# joint sits at the skull base; skull base to vertex is about 0.10 of stature).
REFERENCE_HEIGHT_M = 1.58
REFERENCE_BONE_SUM_M = 3.363


def from_source(points: np.ndarray, source: str, lookup: Mapping | None = None) -> np.ndarray:
    """Map source points (..., K, C) to the layout (..., 16, C) by ``source``'s rules; ``lookup`` maps a
    rule's point (index or name) to its position along axis -2 (default: the point is the index)."""
    rules = SOURCES[source].rules
    points = np.asarray(points, dtype=np.float64)
    out = np.full(points.shape[:-2] + (NUM_JOINTS, points.shape[-1]), np.nan, dtype=np.float64)
    for joint in JOINTS:
        kind, args = rules[joint.name]
        if kind == "avg":
            idx = [lookup[a] for a in args] if lookup is not None else list(args)
            out[..., joint.index, :] = points[..., idx, :].mean(axis=-2)
    for joint in JOINTS:
        kind, args = rules[joint.name]
        if kind == "mid":
            a, b = (JOINT_NAMES.index(n) for n in args)
            out[..., joint.index, :] = 0.5 * (out[..., a, :] + out[..., b, :])
    return out


def scores_from_source(scores: np.ndarray, source: str, lookup: Mapping | None = None) -> np.ndarray:
    """Per-joint confidence (..., 16) from per-point scores (..., K): a joint is as confident as its
    weakest source point (a ``mid`` joint as the weaker of its two joints)."""
    rules = SOURCES[source].rules
    scores = np.asarray(scores, dtype=np.float64)
    out = np.empty(scores.shape[:-1] + (NUM_JOINTS,), dtype=np.float64)
    for joint in JOINTS:
        kind, args = rules[joint.name]
        if kind == "avg":
            idx = [lookup[a] for a in args] if lookup is not None else list(args)
            out[..., joint.index] = scores[..., idx].min(axis=-1)
    for joint in JOINTS:
        kind, args = rules[joint.name]
        if kind == "mid":
            a, b = (JOINT_NAMES.index(n) for n in args)
            out[..., joint.index] = np.minimum(out[..., a], out[..., b])
    return out


def from_mediapipe(landmarks: np.ndarray) -> np.ndarray:
    """Map MediaPipe landmarks (..., 33, C) to the layout (..., 16, C) by the documented rules.

    C may be 2 (pixels), 3 or include a trailing score channel; every channel is averaged the same
    way except that scores should be combined with ``scores_from_mediapipe``.
    """
    landmarks = np.asarray(landmarks, dtype=np.float64)
    if landmarks.ndim < 2 or landmarks.shape[-2] != NUM_MEDIAPIPE_LANDMARKS:
        raise ValueError(f"expected (..., {NUM_MEDIAPIPE_LANDMARKS}, C) MediaPipe landmarks, got {landmarks.shape}")
    return from_source(landmarks, "mediapipe")


def scores_from_mediapipe(visibility: np.ndarray) -> np.ndarray:
    """Per-joint confidence (..., 16) from MediaPipe per-landmark scores (..., 33).

    A derived joint is as confident as its weakest source landmark.
    """
    visibility = np.asarray(visibility, dtype=np.float64)
    if visibility.shape[-1] != NUM_MEDIAPIPE_LANDMARKS:
        raise ValueError(f"expected (..., {NUM_MEDIAPIPE_LANDMARKS}) scores, got {visibility.shape}")
    return scores_from_source(visibility, "mediapipe")


def from_mocap(positions: np.ndarray, joint_names: Sequence[str]) -> np.ndarray:
    """Map mocap joint positions (..., K, 3) named ``joint_names`` to the layout (..., 16, 3)."""
    lookup = {name: i for i, name in enumerate(joint_names)}
    missing = [n for n in MOCAP_JOINTS_USED if n not in lookup]
    if missing:
        raise KeyError(f"mocap skeleton lacks joints required by layout {LAYOUT_ID}: {missing}")
    return from_source(positions, "mocap", lookup)


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
    """A short hash of everything that defines the layout: the structure and the rules of ``HASHED_SOURCES``."""
    blob = json.dumps(
        [
            [j.index, j.name, j.parent, j.mirror, j.part, *(SOURCES[s].rules[j.name] for s in HASHED_SOURCES)]
            for j in JOINTS
        ],
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _rule_text(rule: tuple, source: Source) -> str:
    kind, args = rule
    if kind == "mid":
        return f"midpoint of {args[0]} and {args[1]}"
    names = [f"{source.point_names[a]} ({a})" if a in source.point_names else str(a) for a in args]
    return names[0] if len(names) == 1 else "mean of " + " and ".join(names)


def layout_table_markdown() -> str:
    """The joint table as Markdown, one rule column per source (docs/joint_layout.md embeds exactly this)."""
    sources = list(SOURCES.values())
    lines = [
        "| index | name | parent | mirror | part | " + " | ".join(f"{s.title} rule" for s in sources) + " |",
        "| --- | --- | --- | --- | --- | " + " | ".join("---" for _ in sources) + " |",
    ]
    for j in JOINTS:
        parent = JOINT_NAMES[j.parent] if j.parent >= 0 else "-"
        rules = " | ".join(_rule_text(s.rules[j.name], s) for s in sources)
        lines.append(f"| {j.index} | {j.name} | {parent} | {JOINT_NAMES[j.mirror]} | {j.part} | {rules} |")
    return "\n".join(lines) + "\n"
