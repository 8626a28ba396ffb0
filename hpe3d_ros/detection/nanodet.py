"""The ``nanodet`` kind: NanoDet-m person boxes -> BlazePose landmarks per person, tracked by box.

Top-down (topdown.TopDownTracker): NanoDet (person_boxes.NanoDet, ONNX Runtime) runs every
``detect_every_n_frames`` frames on one region of its schedule (the whole frame; for large frames
also overlapping tiles, interleaved); each new box's landmark region is an upright square of
``box_roi_scale`` x its longer side, after which the person is followed by MediaPipe's own region
from the auxiliary landmarks. Tracks are matched by person boxes (the landmark box grown to the top
of the head) with ByteTrack's two thresholds (``min_detection_confidence`` starts, ``min_keep_confidence``
keeps). Only people with a BlazePose pose are reported. Parameters: ``NanoDetParams``; measured
choices: docs/detection.md.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .landmarker import Roi, RoiResult
from .models import nanodet_path
from .params import NanoDetParams
from .person_boxes import NanoDet, detect_region, scan_schedule
from .topdown import LandmarkModels, Proposal, StreamDetector, TopDownTracker, person2d, person_box
from .types import Person2D

BOX_AGREE_IOU = 0.3  # a followed person's matched detector box overlapping their landmarks' box less is not theirs
NEW_IOU = 0.7  # an unmatched box overlapping a track's box more is a second box on that person (no landmark try)


def roi_from_box(box: np.ndarray, scale: float) -> Roi:
    """Upright square landmark region centred on a person box, side ``scale`` x the box's longer side.
    (MediaPipe's own region, the body circle x 2 x 1.25, is about 1.4-1.5 x a standing person's box
    height; 1.5 measured best on boxes: docs/detection.md.)"""
    b = np.asarray(box, dtype=np.float64)
    c = np.array([(b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0])
    return Roi(c, float(max(b[2] - b[0], b[3] - b[1])) * float(scale), 0.0)


class BoxFinder:
    """NanoDet as the frame loop's person detector (topdown.PersonFinder): one region of the schedule
    per pass, boxes >= ``low`` proposed with their landmark regions."""

    masks_tracked = False
    rescan_when_found = False
    anchor_boxes = True

    def __init__(self, p: NanoDetParams):
        self.high, self.low = p.min_detection_confidence, min(p.min_keep_confidence, p.min_detection_confidence)
        self.net = NanoDet(nanodet_path(p.model_file_path), p.input_size, self.low, p.nms_iou)
        self.tiles, self.box_roi_scale = p.tiles, p.box_roi_scale
        self.retry_scales, self.retry_min_px = p.retry_scales(), p.box_retry_min_px
        self._next = 0

    def find(self, image_rgb: np.ndarray, masks: list[np.ndarray]) -> list[Proposal]:  # noqa: ARG002 - no masks
        """Proposals of the next region of the schedule."""
        h, w = image_rgb.shape[:2]
        schedule = scan_schedule(w, h, self.tiles, self.net.input_size)
        region = schedule[self._next % len(schedule)]
        self._next += 1
        return [Proposal(b.box, roi_from_box(b.box, self.box_roi_scale), b.score,
                         tuple(roi_from_box(b.box, s) for s in self.retry_scales)
                         if b.box[3] - b.box[1] >= self.retry_min_px else ())
                for b in detect_region(self.net, image_rgb, region)]

    @staticmethod
    def track_box(result: RoiResult) -> np.ndarray:
        """A tracked person's box from their landmarks."""
        return person_box(result.landmarks)

    def fallback_rois(self, box: np.ndarray) -> tuple[Roi, ...]:
        """The regions a box starts from (``box_roi_scale``, then for a box at least ``box_retry_min_px`` tall
        ``box_retry_scales``), for a person the landmark region lost or led onto someone else."""
        retries = self.retry_scales if box[3] - box[1] >= self.retry_min_px else ()
        return tuple(roi_from_box(box, s) for s in (self.box_roi_scale, *retries))

    def reset(self) -> None:
        """Restart the region schedule."""
        self._next = 0

    def close(self) -> None:
        """Free the ONNX Runtime session."""
        self.net = None


class NanoDetPoseDetector(StreamDetector):
    """``NanoDetPoseDetector(**params).detect(image_rgb)`` -> list[Person2D] ordered by track id
    (parameters: ``NanoDetParams``). Not thread-safe: one frame at a time, frames of one stream in order."""

    name = "NanoDetPoseDetector"

    def __init__(self, **params: Any):
        super().__init__()
        self.params = p = NanoDetParams.from_dict(params)
        self.finder = BoxFinder(p)
        self.tracker = TopDownTracker(
            self.finder,
            LandmarkModels(p.landmark_model, p.min_tracking_confidence, p.inference_threads, p.small_person_px),
            max_people=p.max_people,
            max_missed_frames=p.max_missed_frames,
            detect_every_n_frames=p.detect_every_n_frames,
            roi_scale=1.0 + p.crop_margin,
            smooth_landmarks=p.smooth_landmarks,
            async_detection=p.async_detection,
            match_iou=p.match_iou,
            new_iou=NEW_IOU,
            low_box_min_pose_confidence=p.low_box_min_pose_confidence,
            box_agree_iou=BOX_AGREE_IOU,
        )

    def _detect(self, img: np.ndarray) -> list[Person2D]:
        return [
            person2d(t.track_id, t.shown, t.result.world, t.box, img.shape, self.params.min_keypoint_confidence)
            for t in self.tracker.step(img)
        ]
