"""PoseDetector (contract 7): RGB frame -> people with 2D joints in the layout and stable track ids.

Single person (``max_people=1``): MediaPipe Pose in tracking mode on the whole frame.
Several people: the BlazePose person detector finds people (``person_regions``), each person is
then followed by the landmark model on a region derived from their previous landmarks, exactly as
MediaPipe tracks one person (``landmarker.RoiLandmarker``); new detections are assigned to tracks by
hip-centre distance (Hungarian), lost tracks expire after ``max_missed_frames``. With
``async_detection`` the person detector runs in a worker thread and its result is taken on the
first frame after it finishes (the landmark model of the tracked people never waits for it).
"""
from __future__ import annotations

import itertools
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import skeleton
from .landmarker import FrameLandmarker, Roi, RoiLandmarker
from .params import DetectorParams
from .person_regions import BlazePersonDetector, RegionScanner
from .smoothing import LandmarkSmoother
from .tracking import assign, body_radius, box_iomin, box_iou, expand_box, hip_center, landmark_box
from .types import Person2D

MASK_GROW = 0.12  # tracked people are blacked out for the person detector with this margin (of box side)
SAME_PERSON_IOU = 0.5  # two tracks whose landmark boxes overlap more than this are one person
SAME_PERSON_INSIDE = 0.7  # ... or when this fraction of the smaller box lies inside the larger


@dataclass
class _Track:
    track_id: int
    roi: Roi
    landmarks: np.ndarray | None = None
    aux: np.ndarray | None = None
    missed: int = 0
    hits: int = 0
    box: np.ndarray = field(default_factory=lambda: np.zeros(4))
    smoother: LandmarkSmoother | None = None
    shown: np.ndarray | None = None  # the landmarks reported (smoothed when smoothing is on)


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
    Parameters: see ``DetectorParams`` (docs/detection.md). Not thread-safe: one frame at a time,
    frames of one stream in order.
    """

    def __init__(self, **params: Any):
        self.params = DetectorParams.from_dict(params)
        self._ids = itertools.count(1)
        self._frame = 0
        self._burst = False  # the last detector pass found someone: scan again on the next frame
        self._shape: tuple | None = None
        self._tracks: list[_Track] = []
        self._single: FrameLandmarker | None = None
        self._roi: RoiLandmarker | None = None
        self._scanner: RegionScanner | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._pending: Future | None = None
        p = self.params
        self._roi_scale = 1.0 + p.crop_margin
        if p.max_people == 1:
            self._single = FrameLandmarker(p.min_detection_confidence, p.min_tracking_confidence, p.smooth_landmarks,
                                           p.inference_threads)
        else:
            self._roi = RoiLandmarker(p.min_tracking_confidence, p.inference_threads)
            self._scanner = RegionScanner(
                BlazePersonDetector(p.min_detection_confidence, p.inference_threads), p.scan_tiles
            )
            if p.async_detection:
                self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="person-detector")

    # -- public -------------------------------------------------------------------------------
    def detect(self, image_rgb: np.ndarray) -> list[Person2D]:
        """People in one RGB uint8 (H, W, 3) frame, ordered by track id; frames are taken as consecutive."""
        if self._single is None and self._roi is None:
            raise RuntimeError("PoseDetector.detect: the detector was closed")
        img = check_image(image_rgb)
        if self._shape is not None and img.shape != self._shape:
            self.reset()  # another camera or resolution: the tracks' regions mean nothing there
        self._shape = img.shape
        self._frame += 1
        if self._single is not None:
            return self._detect_single(img)
        return self._detect_multi(img)

    def reset(self) -> None:
        """Forget all tracks (a new video; done by itself when the image size changes); ids keep
        counting up."""
        self._wait_pending()
        self._tracks = []
        self._burst = False
        self._frame = 0
        if self._single is not None:
            self._single.reset()

    def close(self) -> None:
        """Free the MediaPipe graphs."""
        self._wait_pending()
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
        self._tracks = []
        for g in (self._single, self._roi, self._scanner.detector if self._scanner else None):
            if g is not None:
                g.close()
        self._single = self._roi = self._scanner = None

    def _wait_pending(self) -> None:
        if self._pending is not None:
            try:
                self._pending.result()
            finally:
                self._pending = None

    def __enter__(self) -> "PoseDetector":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @property
    def num_tracks(self) -> int:
        """Tracks alive, including those missing for up to ``max_missed_frames`` frames."""
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
            tr = _Track(next(self._ids), Roi(np.zeros(2), 0.0, 0.0))
            self._tracks = [tr]
        self._update(tr, lm, None)
        return [self._person(tr, img.shape)]

    # -- several people -------------------------------------------------------------------------
    def _detect_multi(self, img: np.ndarray) -> list[Person2D]:
        p = self.params
        for tr in self._tracks:
            if tr.missed == 0:
                self._track_step(tr, img)
            else:
                tr.missed += 1  # lost: waits for the person detector to re-find it
        self._drop_duplicates()
        self._tracks = [t for t in self._tracks if t.missed <= p.max_missed_frames]

        active = [t for t in self._tracks if t.missed == 0]
        just_lost = any(t.missed == 1 for t in self._tracks)  # look for them again at once
        due = (self._frame - 1) % p.detect_every_n_frames == 0 or not active or self._burst or just_lost
        if self._pending is not None:  # asynchronous pass: use its result once it is there
            if self._pending.done():
                dets, self._pending = self._pending.result(), None
                self._burst = self._take_detections(img, dets) > 0
        elif due and len(active) < p.max_people:
            masks = [expand_box(t.box, MASK_GROW) for t in active]
            if self._executor is not None:
                self._pending = self._executor.submit(self._scanner.scan, img.copy(), masks)
                self._burst = False
            else:
                self._burst = self._take_detections(img, self._scanner.scan(img, masks)) > 0
        else:
            self._burst = False
        people = [self._person(t, img.shape) for t in self._tracks if t.missed == 0]
        people.sort(key=lambda q: -q.confidence)
        return sorted(people[: p.max_people], key=lambda q: q.track_id)

    def _track_step(self, tr: _Track, img: np.ndarray) -> bool:
        """Landmarks on the track's region; False (and one more missed frame) when the person is gone."""
        out = self._roi.process(img, tr.roi)
        if out is None:
            tr.missed += 1
            return False
        self._update(tr, *out)
        return True

    def _take_detections(self, img: np.ndarray, dets: list) -> int:
        """Assign one person-detector pass's detections to tracks (re-finding lost ones) and start
        tracks for new people on ``img``; returns how many tracks it started or re-found."""
        p = self.params
        if not dets:
            return 0
        dets.sort(key=lambda d: -d.score)
        known = [t for t in self._tracks if t.landmarks is not None]
        pairs, new = assign(
            np.array([hip_center(t.landmarks) for t in known]).reshape(-1, 2),
            np.array([body_radius(t.landmarks) for t in known]),
            np.array([d.center for d in dets]).reshape(-1, 2),
            np.array([d.radius for d in dets]),
            p.match_distance,
        )
        found = 0
        for ti, di in pairs:  # a lost track re-found by the detector keeps its id
            tr = known[ti]
            if tr.missed > 0:
                saved = (tr.roi, tr.landmarks, tr.aux, tr.box, tr.missed, tr.hits)
                tr.roi = Roi.from_alignment(dets[di].center, dets[di].scale_point, self._roi_scale)
                if self._track_step(tr, img) and not self._duplicates_any(tr):
                    found += 1
                else:  # stays lost as it was
                    tr.roi, tr.landmarks, tr.aux, tr.box, tr.missed, tr.hits = saved
        for di in new:
            if sum(t.missed == 0 for t in self._tracks) >= p.max_people:
                break
            tr = _Track(-1, Roi.from_alignment(dets[di].center, dets[di].scale_point, self._roi_scale))
            if (
                self._track_step(tr, img)
                and self._confidence(tr) >= p.min_detection_confidence
                and not self._duplicates_any(tr)
            ):
                tr.track_id = next(self._ids)
                self._tracks.append(tr)
                found += 1
        return found

    def _same_person(self, box: np.ndarray, others: list[np.ndarray]) -> bool:
        if not others:
            return False
        arr = np.array(others)
        return bool(box_iou(box, arr).max() > SAME_PERSON_IOU or box_iomin(box, arr).max() > SAME_PERSON_INSIDE)

    def _duplicates_any(self, tr: _Track) -> bool:
        return self._same_person(tr.box, [t.box for t in self._tracks if t.missed == 0 and t is not tr])

    def _drop_duplicates(self) -> None:
        """Two tracks that converged onto one person: keep the older (more hits), drop the other."""
        kept: list[_Track] = []
        for t in sorted([t for t in self._tracks if t.missed == 0], key=lambda t: -t.hits):
            if self._same_person(t.box, [k.box for k in kept]):
                t.missed = self.params.max_missed_frames + 1  # removed below
            else:
                kept.append(t)

    # -- helpers ---------------------------------------------------------------------------
    def _update(self, tr: _Track, lm: np.ndarray, aux: np.ndarray | None) -> None:
        if aux is not None and self.params.smooth_landmarks:  # several-people path (MediaPipe smooths its own)
            if tr.smoother is None:
                tr.smoother = LandmarkSmoother.for_landmarks()
            if tr.missed > 0:
                tr.smoother.reset()
            tr.shown = tr.smoother(lm)  # the region keeps following the raw auxiliary landmarks
        else:
            tr.shown = lm
        tr.landmarks = lm
        tr.aux = aux
        tr.box = landmark_box(lm)
        if aux is not None:
            tr.roi = Roi.from_alignment(aux[0], aux[1], self._roi_scale)
        tr.missed = 0
        tr.hits += 1

    @staticmethod
    def _confidence(tr: _Track) -> float:
        return float(skeleton.scores_from_mediapipe(np.clip(tr.landmarks[:, 3], 0.0, 1.0)).mean())

    def _person(self, tr: _Track, shape: tuple) -> Person2D:
        lm = tr.shown if tr.shown is not None else tr.landmarks
        kp = skeleton.from_mediapipe(lm[:, :2])
        raw = np.clip(skeleton.scores_from_mediapipe(np.clip(lm[:, 3], 0.0, 1.0)), 0.0, 1.0)
        scores = np.where(raw >= self.params.min_keypoint_confidence, raw, 0.0)
        h, w = shape[:2]
        x0, y0, x1, y1 = landmark_box(lm)
        bbox = (
            float(np.clip(x0, 0, w - 1)),
            float(np.clip(y0, 0, h - 1)),
            float(np.clip(x1, 0, w - 1)),
            float(np.clip(y1, 0, h - 1)),
        )
        return Person2D(tr.track_id, kp, scores, bbox, lm.copy(), float(raw.mean()))
