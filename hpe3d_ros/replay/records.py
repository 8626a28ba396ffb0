"""What a replay (or the demo's recorder) knows about each input frame: the input of the report."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from .. import skeleton

J = skeleton.NUM_JOINTS


@dataclass
class FrameRecord:
    """One input frame (an image, or a 2D keypoint message) and what came out of it.

    ``status``: 'processed', 'dropped' (replaced by a newer frame while the pipeline was busy) or
    'error' (``reason`` says why). Timings are seconds per stage (decode, detect, map, lift, publish,
    total); ``latency_s`` is end to end: from the frame's arrival to its outputs being written (for
    the demo: from the image stamp to the recorder receiving the skeletons).
    """

    index: int
    stamp_ns: int
    arrival_ns: int
    status: str = "processed"
    reason: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    latency_s: float | None = None
    track_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    joints: np.ndarray = field(default_factory=lambda: np.zeros((0, J, 3)))  # optical frame, metres
    upright: np.ndarray = field(default_factory=lambda: np.zeros((0, J, 3)))
    confidence: np.ndarray = field(default_factory=lambda: np.zeros((0, J)))
    plausibility: np.ndarray = field(default_factory=lambda: np.zeros(0))  # NaN where the model has none
    elevation: np.ndarray = field(default_factory=lambda: np.zeros(0))  # radians
    keypoints_px: np.ndarray | None = None  # (P, 16, 2) the 2D people, when known
    gt_joints: np.ndarray | None = None  # (G, 16, 3) ground truth in the optical frame, metres
    scene: dict | None = None  # the scene stage's per-person arrays (``scene_arrays``), when it ran
    gt_camera: tuple | None = None  # (R_B_O (3, 3), camera position (3,)) in the true ground frame, when known

    @property
    def people(self) -> int:
        return int(len(self.track_ids))


def scene_arrays(people: Sequence) -> dict | None:
    """The scene stage's results of a frame's people as arrays (None when a person has no ``state``):
    ``position``, ``prior_position``, ``ground_position`` (P, 3) pelvis in the optical frame (placed; by the
    height prior alone; by the ground plane alone, NaN without it), ``method`` (P,) index into
    ``scene.placement.METHODS``, ``heading``, ``heading_confidence``, ``heading_raw`` (P,) radians in the
    ground frame, ``velocity`` (P, 3) in the ground frame, ``velocity_confidence``, ``head_yaw`` (P,),
    ``base_from_optical`` (P, 3, 3) the ground frame's rotation used."""
    from ..scene.placement import METHODS

    states = [getattr(p, "state", None) for p in people]
    if not people or any(s is None for s in states):
        return None
    return {
        "position": np.array([s.position_optical for s in states]),
        "prior_position": np.array([s.prior_position_optical for s in states]),
        "ground_position": np.array([s.ground_position_optical for s in states]),
        "method": np.array([METHODS.index(s.placement.method) for s in states]),
        "heading": np.array([s.heading for s in states]),
        "heading_confidence": np.array([s.heading_confidence for s in states]),
        "heading_raw": np.array([s.heading_raw for s in states]),
        "velocity": np.array([s.velocity_base for s in states]),
        "velocity_confidence": np.array([s.velocity_confidence for s in states]),
        "head_yaw": np.array([s.head.yaw for s in states]),
        "base_from_optical": np.array([s.base_from_optical for s in states]),
    }


def record_from_people(index: int, stamp_ns: int, arrival_ns: int, people: Sequence, timings: dict[str, float],
                       latency_s: float | None) -> FrameRecord:
    """A processed FrameRecord from pipeline Person3D objects."""
    n = len(people)
    kp = [p.keypoints_px for p in people]
    return FrameRecord(
        index=index, stamp_ns=int(stamp_ns), arrival_ns=int(arrival_ns), status="processed", timings=dict(timings),
        latency_s=latency_s,
        track_ids=np.array([int(p.track_id) for p in people], dtype=np.int64),
        joints=np.array([p.joints_optical for p in people], dtype=np.float64).reshape(n, J, 3),
        upright=np.array([p.joints_upright for p in people], dtype=np.float64).reshape(n, J, 3),
        confidence=np.array([p.confidence for p in people], dtype=np.float64).reshape(n, J),
        plausibility=np.array([np.nan if p.plausibility is None else p.plausibility for p in people], dtype=np.float64),
        elevation=np.array([p.elevation for p in people], dtype=np.float64),
        keypoints_px=np.array(kp, dtype=np.float64).reshape(n, J, 2) if n and all(k is not None for k in kp) else None,
        scene=scene_arrays(people),
    )


def record_from_skeletons(index: int, stamp_ns: int, arrival_ns: int, sk: dict, latency_s: float | None) -> FrameRecord:
    """A processed FrameRecord from ``node.skeleton_msgs.read_skeletons`` output."""
    return FrameRecord(
        index=index, stamp_ns=int(stamp_ns), arrival_ns=int(arrival_ns), status="processed", latency_s=latency_s,
        track_ids=sk["track_id"], joints=sk["joints_optical"], upright=sk["joints_upright"],
        confidence=sk["confidence"], plausibility=sk["plausibility"], elevation=sk["elevation"],
        keypoints_px=sk.get("keypoints_px"),
    )
