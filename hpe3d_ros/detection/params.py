"""Parameters of the 2D detector kinds, with their defaults, ranges and choices in one place.

Each kind has a dataclass (registry.DETECTORS names it); every field's ``metadata`` holds its
``description`` and, for a number, its ``range`` (lo, hi), for a string its ``choices``; the node
declares them as ``detector.<field>`` (hpe3d_ros.node.params) and ``__post_init__`` checks them.
``TrackingParams`` holds what both top-down kinds share (the same name means the same thing in both).
The node reads them from config/lift.yaml (``detector:`` mapping).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Mapping


def _meta(description: str, lo: float | None = None, hi: float | None = None, choices: tuple = ()) -> dict:
    """Field metadata: the description, and the range of a number or the choices of a string."""
    md: dict = {"description": " ".join(description.split())}
    if lo is not None:
        md["range"] = (lo, hi)
    if choices:
        md["choices"] = tuple(choices)
    return md


@dataclass
class _Checked:
    """Checks every field against its type and metadata (range, choices) after construction."""

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.type in ("bool", bool):
                if not isinstance(value, bool):
                    raise ValueError(f"detector parameter {f.name}: expected true/false, got {value!r}")
                continue
            if f.type in ("str", str):
                choices = f.metadata.get("choices", ())
                if not isinstance(value, str) or (choices and value not in choices):
                    want = f"one of {', '.join(choices)}" if choices else "a string"
                    raise ValueError(f"detector parameter {f.name}: expected {want}, got {value!r}")
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
    def from_dict(cls, d: Mapping[str, Any] | None):
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


@dataclass
class TrackingParams(_Checked):
    """What every top-down kind shares: people are followed frame to frame by the BlazePose landmark model
    on a region derived from their previous landmarks, and the person detector (re-)finds them."""

    max_people: int = field(default=5, metadata=_meta(
        "most people reported per frame (1..20); when more are found the largest are kept.", 1, 20))
    min_tracking_confidence: float = field(default=0.5, metadata=_meta(
        """minimum pose-presence score (0..1) of the landmark model to keep tracking a person in their
        region; below it the track is lost and the person detector looks for the person again.""", 0.0, 1.0))
    min_keypoint_confidence: float = field(default=0.3, metadata=_meta(
        "joints whose score (0..1) is below this get score 0 (still returned, with their estimated position).",
        0.0, 1.0))
    detect_every_n_frames: int = field(default=5, metadata=_meta(
        """run the person detector every N frames (1..1000); tracked people are followed in between. It also
        runs on every frame while nobody is tracked and right after a person is lost.""", 1, 1000))
    max_missed_frames: int = field(default=10, metadata=_meta(
        """a track that found no person for more frames than this expires (0..1000); a person re-found
        before that keeps its id.""", 0, 1000))
    crop_margin: float = field(default=0.25, metadata=_meta(
        """border around a tracked person's body square for the landmark model's region, as a fraction of
        its side (0..2). 0.25 is MediaPipe's own value, the crop the model was trained on; larger follows
        faster motion between frames at lower landmark resolution.""", 0.0, 2.0))
    smooth_landmarks: bool = field(default=True, metadata=_meta(
        """temporal landmark filter: MediaPipe's One-Euro filter (its constants) per track (on the
        MediaPipe kind's single-person path, MediaPipe's own).""",))
    async_detection: bool = field(default=False, metadata=_meta(
        """run the person detector in a worker thread: frames on which it runs no longer wait for it, new
        people appear a frame or two later, and results depend on timing (keep false for reproducible
        offline runs such as ``hpe3d collect``).""",))
    inference_threads: int = field(default=0, metadata=_meta(
        """threads of the landmark model's inference (0..16; 0 = one: MediaPipe's default, and ONNX
        Runtime's setting for the nanodet kind). For MediaPipe, 2 cut one person's detection from 20 to 12 ms
        p50 on the 2-core development machine for about 4 ms more CPU time, but widened the node's
        end-to-end tail there (docs/benchmarks.md); use more where cores are free.""", 0, 16))


@dataclass
class DetectorParams(TrackingParams):
    """Settings of the ``mediapipe`` kind (``PoseDetector``): BlazePose's own person detector."""

    max_people: int = field(default=5, metadata=_meta(
        """most people reported per frame (1..20). With 1 the detector runs MediaPipe BlazePose on the whole
        frame in tracking mode (its own person detector re-finds a lost person): the fastest path. With
        more, the BlazePose person detector finds people and each person is followed by the landmark
        model on a region derived from their previous landmarks.""", 1, 20))
    min_detection_confidence: float = field(default=0.5, metadata=_meta(
        "minimum score (0..1) of the person detector for a new person.", 0.0, 1.0))
    match_distance: float = field(default=0.35, metadata=_meta(
        """a person-detector hit whose body square (hip centre +- body radius) is offset from a track's by
        at most this fraction (0..2) of the body radius belongs to that track (a lost track is re-attached
        and keeps its id); it is compared as the IoU of the two squares, (1 - d/2) / (1 + d/2) for an
        offset d along one axis. Two tracks whose landmark boxes overlap (IoU > 0.5 or 70 % of the smaller
        inside the larger) are one person: the younger is dropped.""", 0.0, 2.0))
    scan_tiles: float = field(default=0.6, metadata=_meta(
        """also scan square tiles of the frame (side = this fraction of the shorter image side, 0 disables;
        0..1): finds people too small for the whole-frame detector pass.""", 0.0, 1.0))


@dataclass
class NanoDetParams(TrackingParams):
    """Settings of the ``nanodet`` kind: NanoDet-m person boxes -> BlazePose landmarks per box."""

    max_people: int = field(default=10, metadata=_meta(
        """most people tracked and reported per frame (1..20); new people are started largest first. Each
        costs one landmark inference per frame (docs/detection.md).""", 1, 20))
    min_detection_confidence: float = field(default=0.35, metadata=_meta(
        "minimum NanoDet box score (0..1) to start a new person (ByteTrack's high threshold).", 0.0, 1.0))
    min_keep_confidence: float = field(default=0.2, metadata=_meta(
        """boxes scoring at least this (0..1) but below ``min_detection_confidence`` keep and re-anchor
        existing tracks (ByteTrack's low threshold); they start a person only with a confident pose
        (``low_box_min_pose_confidence``).""", 0.0, 1.0))
    low_box_min_pose_confidence: float = field(default=2.0, metadata=_meta(
        """a box scoring below ``min_detection_confidence`` (but at least ``min_keep_confidence``) that matches
        no track starts a person when BlazePose's pose there has at least this confidence (mean joint score,
        0..1; above 1: never).""", 0.0, 2.0))
    detect_every_n_frames: int = field(default=3, metadata=_meta(
        """run the person detector every N frames (1..1000); tracked people are followed in between. It also
        runs on every frame while nobody is tracked and right after a person is lost.""", 1, 1000))
    model_file_path: str = field(default="", metadata=_meta(
        """the NanoDet ONNX model ("" = the one shipped in the package, hpe3d_ros/data/detectors)."""))
    input_size: int = field(default=416, metadata=_meta(
        """NanoDet's input: the frame (or tile) is scaled to this many pixels on its longer side (a multiple
        of 32 in 128..1280; the network was trained at 416). Larger finds smaller people at a cost growing
        with its square.""", 128, 1280))
    tiles: str = field(default="auto", metadata=_meta(
        """detector regions besides the whole frame, one region per detector pass: "off", "2x2", "3x2"
        (overlapping tiles) or "auto" (3x2 when the frame's longer side exceeds twice ``input_size``).""",
        choices=("auto", "off", "2x2", "3x2")))
    nms_iou: float = field(default=0.6, metadata=_meta(
        "non-maximum suppression IoU of NanoDet's boxes (0..1).", 0.0, 1.0))
    box_roi_scale: float = field(default=1.5, metadata=_meta(
        """the landmark model's first region on a new box: an upright square of this many times the box's
        longer side (1..3; 1.5 gave the best keypoints in issue 12's research, docs/detection.md).""", 1.0, 3.0))
    box_retry_scales: str = field(default="2.0,1.25", metadata=_meta(
        """further landmark regions tried in turn on a new box where the first (``box_roi_scale``) finds no
        pose: upright squares of these many times the box's longer side, comma-separated (each 1..3, at most
        4; "" = none), for boxes at least ``box_retry_min_px`` tall. "2.0,1.25" raised COCO recall at
        100-200 / over 200 px from 0.49 / 0.57 to 0.58 / 0.61 at the same precision (docs/detection.md), for
        one or two landmark inferences more per box without a pose."""))
    box_retry_min_px: float = field(default=100.0, metadata=_meta(
        """only boxes at least this tall (pixels, 0..10000) get the ``box_retry_scales`` regions: on vtest.avi,
        retrying smaller people found 0.15 more people per frame for 17 instead of 0 dropped frames at 10 Hz on
        2 cores (docs/detection.md); 0 where CPU is free""", 0.0, 10000.0))
    match_iou: float = field(default=0.3, metadata=_meta(
        """a box belongs to a track when their IoU is at least this (0..1), the track's box taken on the
        frame the detector saw (moved by the track's velocity when it was not seen then).""", 0.0, 1.0))
    landmark_model: str = field(default="full", metadata=_meta(
        """BlazePose landmark model: "lite", "full", "heavy" (about 0.6x, 1x and 4.5x full's cost per
        person here, docs/detection.md), or "auto" (lite for people shorter than ``small_person_px``, full
        for the others).""",
        choices=("auto", "lite", "full", "heavy")))
    small_person_px: float = field(default=100.0, metadata=_meta(
        """with ``landmark_model`` auto: people shorter than this (pixels, 0..10000) get the lite model.""",
        0.0, 10000.0))

    def __post_init__(self) -> None:
        super().__post_init__()
        self.retry_scales()

    def retry_scales(self) -> tuple[float, ...]:
        """``box_retry_scales`` as numbers (ValueError naming the parameter when it is not a list of 1..3)."""
        text = self.box_retry_scales.strip()
        if not text:
            return ()
        try:
            scales = tuple(float(x) for x in text.split(","))
        except ValueError:
            scales = ()
        if not scales or not all(1.0 <= s <= 3.0 for s in scales) or len(scales) > 4:
            raise ValueError(f"detector parameter box_retry_scales: expected up to 4 comma-separated numbers "
                             f"in [1, 3] (or \"\"), got {self.box_retry_scales!r}")
        return scales
