"""Parameters of the 2D pose detector, with their defaults and ranges in one place.

The node reads them from config/lift.yaml (``detector:`` mapping, passed as ``PoseDetector(**params)``).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Mapping


def _meta(description: str, lo: float | None = None, hi: float | None = None) -> dict:
    """Field metadata: the description, and the range of a number."""
    return {"description": " ".join(description.split())} | ({} if lo is None else {"range": (lo, hi)})


@dataclass
class DetectorParams:
    """Settings of ``PoseDetector``: each field's ``metadata`` holds its ``description`` and, for a
    number, its ``range`` (lo, hi); the node declares them as parameter descriptors
    (hpe3d_ros.node.params) and ``__post_init__`` checks the ranges."""

    max_people: int = field(default=5, metadata=_meta(
        """most people reported per frame (1..20). With 1 the detector runs MediaPipe BlazePose on the whole
        frame in tracking mode (its own person detector re-finds a lost person): the fastest path. With
        more, the BlazePose person detector finds people and each person is followed by the landmark
        model on a region derived from their previous landmarks.""", 1, 20))
    min_detection_confidence: float = field(default=0.5, metadata=_meta(
        "minimum score (0..1) of the person detector for a new person.", 0.0, 1.0))
    min_tracking_confidence: float = field(default=0.5, metadata=_meta(
        """minimum pose-presence score (0..1) of the landmark model to keep tracking a person in their
        region; below it the track is lost and the person detector looks for the person again.""", 0.0, 1.0))
    min_keypoint_confidence: float = field(default=0.3, metadata=_meta(
        "joints whose score (0..1) is below this get score 0 (still returned, with their estimated position).",
        0.0, 1.0))
    detect_every_n_frames: int = field(default=5, metadata=_meta(
        """run the person detector on one scan region every N frames (1..1000) while fewer than
        ``max_people`` are tracked; tracked people are followed in between.""", 1, 1000))
    max_missed_frames: int = field(default=10, metadata=_meta(
        """a track that found no person for more frames than this expires (0..1000); a person re-found
        before that keeps its id.""", 0, 1000))
    crop_margin: float = field(default=0.25, metadata=_meta(
        """border around a person's body square for the landmark model's region, as a fraction of its side
        (0..2; several-people path). 0.25 is MediaPipe's own value, the crop the model was trained on;
        larger follows faster motion between frames at lower landmark resolution.""", 0.0, 2.0))
    match_distance: float = field(default=0.35, metadata=_meta(
        """a person-detector hit whose hip centre lies within this fraction (0..2) of the body radius from
        a track's hip centre belongs to that track (a lost track is re-attached and keeps its id); farther
        hits start new tracks. Two tracks whose landmark boxes overlap (IoU > 0.5 or 70 % of the smaller
        inside the larger) are one person: the younger is dropped.""", 0.0, 2.0))
    scan_tiles: float = field(default=0.6, metadata=_meta(
        """also scan square tiles of the frame (side = this fraction of the shorter image side, 0 disables;
        0..1): finds people too small for the whole-frame detector pass.""", 0.0, 1.0))
    smooth_landmarks: bool = field(default=True, metadata=_meta(
        """temporal landmark filter: MediaPipe's own on the single-person path, the same One-Euro filter
        (MediaPipe's constants) per track on the several-people path."""))
    async_detection: bool = field(default=False, metadata=_meta(
        """run the person detector in a worker thread (several-people path): frames on which it runs no
        longer wait for it, new people appear a frame or two later, and results depend on timing (keep
        false for reproducible offline runs such as ``hpe3d collect``)."""))
    inference_threads: int = field(default=0, metadata=_meta(
        """threads of MediaPipe's TFLite inference (0..16; 0 = MediaPipe's default, one thread). 2 cut one
        person's detection from 20 to 12 ms p50 on the 2-core development machine for about 4 ms more CPU
        time, but widened the node's end-to-end tail there (docs/benchmarks.md); use it where cores are
        free, not with ``async_detection``.""", 0, 16))

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.type in ("bool", bool):
                if not isinstance(value, bool):
                    raise ValueError(f"detector parameter {f.name}: expected true/false, got {value!r}")
                continue
            want_int = f.type in ("int", int)
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or (want_int and not float(value).is_integer())
            ):
                raise ValueError(
                    f"detector parameter {f.name}: expected {'an integer' if want_int else 'a number'}, got {value!r}"
                )
            value = int(value) if want_int else float(value)
            lo, hi = f.metadata["range"]
            if not lo <= value <= hi:
                raise ValueError(f"detector parameter {f.name}: {value} is outside [{lo}, {hi}]")
            setattr(self, f.name, value)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> "DetectorParams":
        """Build from a mapping (a config section); unknown keys are an error naming them."""
        d = dict(d or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"unknown detector parameter(s) {unknown}; known: {sorted(known)}")
        return cls(**d)

    def to_dict(self) -> dict:
        """Plain dict (for logs and config files)."""
        return asdict(self)
