"""PoseDetector (contract 7): RGB frame -> people with 2D joints in the layout and stable track ids."""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import skeleton
from .landmarker import Landmarker, crop_square, landmarks_to_image
from .params import DetectorParams
from .person_regions import BlazePersonDetector, RegionScanner, square_box
from .tracking import assign, box_iou, landmark_box, square_of
from .types import Person2D

CROP_SIZE = 320  # pixels of the square crop given to a track's landmark model


@dataclass
class _Track:
    track_id: int
    landmarker: Landmarker | None
    center: np.ndarray
    side: float  # the person's square extent (landmark box's longer side), px
    landmarks: np.ndarray | None = None
    missed: int = 0
    hits: int = 0
    box: np.ndarray = field(default_factory=lambda: np.zeros(4))


def check_image(image_rgb: Any) -> np.ndarray:
    """The image as a contiguous RGB uint8 (H, W, 3) array; ValueError naming what is wrong."""
    img = np.asarray(image_rgb)
    if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f"PoseDetector.detect: expected an RGB uint8 image (H, W, 3), got {img.dtype} {img.shape}")
    if img.shape[0] < 8 or img.shape[1] < 8:
        raise ValueError(f"PoseDetector.detect: image {img.shape[1]}x{img.shape[0]} is too small")
    return np.ascontiguousarray(img)


class PoseDetector:
    """MediaPipe BlazePose 2D poses for up to ``max_people`` people with stable track ids.

    ``PoseDetector(**params).detect(image_rgb)`` -> list[Person2D], ordered by track id.
    Parameters: see ``DetectorParams`` (docs/detection.md). Not thread-safe: one frame at a time.
    """

    def __init__(self, **params: Any):
        self.params = DetectorParams.from_dict(params)
        self._ids = itertools.count(1)
        self._frame = 0
        self._tracks: list[_Track] = []
        self._pool: list[Landmarker] = []
        self._scanner: RegionScanner | None = None
        if self.params.max_people == 1:
            self._single = Landmarker(
                self.params.min_detection_confidence, self.params.min_tracking_confidence, self.params.smooth_landmarks
            )
        else:
            self._single = None
            self._scanner = RegionScanner(BlazePersonDetector(self.params.min_detection_confidence), self.params.scan_tiles)

    # -- public -------------------------------------------------------------------------------
    def detect(self, image_rgb: np.ndarray) -> list[Person2D]:
        """People in one RGB uint8 (H, W, 3) frame; frames are assumed consecutive (tracking)."""
        img = check_image(image_rgb)
        self._frame += 1
        if self._single is not None:
            return self._detect_single(img)
        return self._detect_multi(img)

    def reset(self) -> None:
        """Forget all tracks (a new video); ids keep counting up."""
        for tr in self._tracks:
            self._release(tr)
        self._tracks = []
        if self._single is not None:
            self._single.reset()
        self._frame = 0

    def close(self) -> None:
        """Free the MediaPipe graphs."""
        for tr in self._tracks:
            if tr.landmarker is not None:
                tr.landmarker.close()
        for lmk in self._pool:
            lmk.close()
        self._tracks, self._pool = [], []
        if self._single is not None:
            self._single.close()
        if self._scanner is not None:
            self._scanner.detector.close()

    def __enter__(self) -> "PoseDetector":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @property
    def num_tracks(self) -> int:
        """Tracks alive (including those missing for up to max_missed_frames frames)."""
        if self._single is not None:
            return len(self._tracks)
        return len(self._tracks)

    # -- single person: MediaPipe on the whole frame ----------------------------------------
    def _detect_single(self, img: np.ndarray) -> list[Person2D]:
        lm = self._single.process(img)
        tr = self._tracks[0] if self._tracks else None
        if lm is None:
            if tr is not None:
                tr.missed += 1
                if tr.missed > self.params.max_missed_frames:
                    self._tracks = []
            return []
        box = landmark_box(lm)
        if tr is None or (tr.missed > 0 and box_iou(tr.box, box)[0, 0] <= 0.0):
            tr = _Track(next(self._ids), None, *square_of(box))
            self._tracks = [tr]
        self._update(tr, lm)
        return [self._person(tr, img.shape)]

    # -- several people: person detector + one tracked landmark model per person -------------
    def _detect_multi(self, img: np.ndarray) -> list[Person2D]:
        p = self.params
        for tr in self._tracks:
            self._track_step(tr, img)
        self._drop_duplicates()
        for tr in [t for t in self._tracks if t.missed > p.max_missed_frames]:
            self._release(tr)
        self._tracks = [t for t in self._tracks if t.landmarker is not None]

        active = [t for t in self._tracks if t.missed == 0]
        due = (self._frame - 1) % p.detect_every_n_frames == 0 or not self._tracks
        if due and len(active) < p.max_people:
            self._find_new(img, active)
        people = [self._person(t, img.shape) for t in self._tracks if t.missed == 0]
        people.sort(key=lambda q: -q.confidence)
        return sorted(people[: p.max_people], key=lambda q: q.track_id)

    def _track_step(self, tr: _Track, img: np.ndarray) -> bool:
        crop, back = crop_square(img, tr.center, tr.side * (1.0 + self.params.crop_margin), CROP_SIZE)
        lm = tr.landmarker.process(crop)
        if lm is None:
            tr.missed += 1
            return False
        self._update(tr, landmarks_to_image(lm, back))
        return True

    def _find_new(self, img: np.ndarray, active: list[_Track]) -> None:
        p = self.params
        dets = self._scanner.scan(img, [t.box for t in active])
        if not dets:
            return
        dets.sort(key=lambda d: -d.score)
        det_boxes = np.array([d.square() for d in dets])
        track_boxes = np.array([square_box(t.center, t.side) for t in self._tracks]).reshape(-1, 4)
        pairs, new = assign(track_boxes, det_boxes, p.match_iou)
        for ti, di in pairs:  # a lost track re-found by the detector keeps its id
            tr = self._tracks[ti]
            if tr.missed > 0:
                tr.center, tr.side = dets[di].center.copy(), 2.0 * dets[di].radius
                tr.landmarker.reset()
                self._track_step(tr, img)
        for di in new:
            if sum(t.missed == 0 for t in self._tracks) >= p.max_people:
                break
            d = dets[di]
            tr = _Track(-1, self._acquire(), d.center.copy(), 2.0 * d.radius)
            if self._track_step(tr, img) and not self._duplicates_any(tr):
                tr.track_id = next(self._ids)
                self._tracks.append(tr)
            else:
                self._release(tr)

    def _duplicates_any(self, tr: _Track) -> bool:
        others = [t.box for t in self._tracks if t.missed == 0]
        return bool(others) and float(box_iou(tr.box, np.array(others)).max()) > max(self.params.match_iou, 0.5)

    def _drop_duplicates(self) -> None:
        """Two landmark models locked onto one person: keep the older track."""
        live = sorted([t for t in self._tracks if t.missed == 0], key=lambda t: -t.hits)
        limit = max(self.params.match_iou, 0.5)
        kept: list[_Track] = []
        for t in live:
            if kept and float(box_iou(t.box, np.array([k.box for k in kept])).max()) > limit:
                self._release(t)
            else:
                kept.append(t)

    # -- helpers ---------------------------------------------------------------------------
    def _update(self, tr: _Track, lm: np.ndarray) -> None:
        tr.landmarks = lm
        tr.box = landmark_box(lm)
        tr.center, tr.side = square_of(tr.box)
        tr.missed = 0
        tr.hits += 1

    def _acquire(self) -> Landmarker:
        if self._pool:
            return self._pool.pop()
        p = self.params
        return Landmarker(p.min_detection_confidence, p.min_tracking_confidence, smooth_landmarks=False)

    def _release(self, tr: _Track) -> None:
        if tr.landmarker is not None:
            tr.landmarker.reset()
            self._pool.append(tr.landmarker)
            tr.landmarker = None

    def _person(self, tr: _Track, shape: tuple) -> Person2D:
        lm = tr.landmarks
        kp = skeleton.from_mediapipe(lm[:, :2])
        raw = np.clip(skeleton.scores_from_mediapipe(np.clip(lm[:, 3], 0.0, 1.0)), 0.0, 1.0)
        scores = np.where(raw >= self.params.min_keypoint_confidence, raw, 0.0)
        h, w = shape[:2]
        box = tr.box
        bbox = (
            float(np.clip(box[0], 0, w - 1)), float(np.clip(box[1], 0, h - 1)),
            float(np.clip(box[2], 0, w - 1)), float(np.clip(box[3], 0, h - 1)),
        )
        return Person2D(tr.track_id, kp, scores, bbox, lm.copy(), float(raw.mean()))
