"""PoseDetector, the ``mediapipe`` kind: RGB frame -> people with 2D joints in the layout and stable ids.

Single person (``max_people=1``): MediaPipe Pose in tracking mode on the whole frame.
Several people: the top-down frame loop (topdown.TopDownTracker) with BlazePose's own person detector
(``person_regions.RegionFinder``: one scan region per pass, tracked people blacked out); each person is
then followed by the landmark model on a region derived from their previous landmarks, exactly as
MediaPipe tracks one person; detections are matched to tracks by their body squares
(tracking.BoxTracker), lost tracks expire after ``max_missed_frames``. With ``async_detection`` the
person detector runs in a worker thread and its result is taken on the first frame after it finishes.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .landmarker import FrameLandmarker
from .params import DetectorParams
from .person_regions import RegionFinder
from .topdown import LandmarkModels, StreamDetector, TopDownTracker, person2d
from .tracking import BoxTracker, box_iou, iou_for_offset, landmark_box
from .types import Person2D


class PoseDetector(StreamDetector):
    """MediaPipe BlazePose 2D poses for up to ``max_people`` people with stable track ids.

    ``PoseDetector(**params).detect(image_rgb)`` -> list[Person2D], ordered by track id.
    Parameters: see ``DetectorParams`` (docs/detection.md). Not thread-safe: one frame at a time,
    frames of one stream in order.
    """

    name = "PoseDetector"

    def __init__(self, **params: Any):
        super().__init__()
        self.params = p = DetectorParams.from_dict(params)
        self._single: FrameLandmarker | None = None
        if p.max_people == 1:
            self._single = FrameLandmarker(p.min_detection_confidence, p.min_tracking_confidence, p.smooth_landmarks,
                                           p.inference_threads)
            self._ids = BoxTracker()
            self._one: tuple[int, np.ndarray, int] | None = None  # (track id, box, frames missed)
        else:
            roi_scale = 1.0 + p.crop_margin
            self.tracker = TopDownTracker(
                RegionFinder(p.min_detection_confidence, p.scan_tiles, roi_scale, p.inference_threads),
                LandmarkModels("full", p.min_tracking_confidence, p.inference_threads, runtime="mediapipe"),
                max_people=p.max_people,
                max_missed_frames=p.max_missed_frames,
                detect_every_n_frames=p.detect_every_n_frames,
                roi_scale=roi_scale,
                smooth_landmarks=p.smooth_landmarks,
                async_detection=p.async_detection,
                match_iou=iou_for_offset(p.match_distance),
                min_start_confidence=p.min_detection_confidence,
                detect_when_full=False,
            )

    def _detect(self, img: np.ndarray) -> list[Person2D]:
        if self._single is not None:
            return self._detect_single(img)
        return [
            person2d(t.track_id, t.shown, t.result.world, landmark_box(t.shown), img.shape,
                     self.params.min_keypoint_confidence)
            for t in self.tracker.step(img)
        ]

    def reset(self) -> None:
        """Forget all tracks (a new video; done by itself when the image size changes); ids keep counting up."""
        super().reset()
        if self._single is not None:
            self._single.reset()
            self._one = None

    def close(self) -> None:
        """Free the MediaPipe graphs."""
        super().close()
        if self._single is not None:
            self._single.close()
            self._single = None

    @property
    def num_tracks(self) -> int:
        """Tracks alive, including those missing for up to ``max_missed_frames`` frames."""
        if self._single is not None:
            return int(self._one is not None)
        return super().num_tracks

    # -- single person: MediaPipe on the whole frame ----------------------------------------
    def _detect_single(self, img: np.ndarray) -> list[Person2D]:
        res = self._single.process(img)
        if res is None:
            if self._one is not None:
                tid, box, missed = self._one
                self._one = (tid, box, missed + 1) if missed + 1 <= self.params.max_missed_frames else None
            return []
        box = landmark_box(res.landmarks)
        if self._one is None or (self._one[2] > 0 and box_iou(self._one[1], box)[0, 0] <= 0.0):
            self._one = (self._ids.new_id(), box, 0)
        self._one = (self._one[0], box, 0)
        return [person2d(self._one[0], res.landmarks, res.world, box, img.shape, self.params.min_keypoint_confidence)]
