"""Top-down 2D people, the frame loop of both detector kinds: a person detector proposes regions, the
BlazePose landmark model follows each person frame to frame, tracking.BoxTracker keeps identities.

Per frame:
1. every tracked person runs the landmark model on the region from their previous landmarks (the
   auxiliary hip centre and scale point, exactly as MediaPipe tracks one person); no pose there
   (presence below ``min_tracking_confidence``) -> the track misses the frame and waits to be re-found;
2. tracks that converged onto one person are merged: the older stays, the younger first tries its box's
   regions and otherwise is lost (its frame taken back, not dropped: the detector can re-find its person
   by box); tracks missing for more than ``max_missed_frames`` expire;
3. the person detector runs every ``detect_every_n_frames`` frames (and on every frame while nobody is
   tracked or right after someone was lost), synchronously or in a worker thread (``async_detection``:
   its proposals are taken on the first frame after it finishes, matched against the tracks' boxes on
   the frame it saw);
4. its proposals are associated with the tracks (BoxTracker, ByteTrack's two thresholds): a lost track
   matched by a box is re-found from the box's region; a followed track whose matched box is not where
   its landmarks were (``box_agree_iou``, NanoDet: the region slid onto a neighbour) restarts from the
   box, or keeps its landmarks (and their box) when the box's region holds nobody new; a new high-score
   box starts a person when the landmark model finds a pose there that is nobody else's (largest boxes
   first, up to ``max_people``), with the id of a lost track it overlaps (IoU >= ``match_iou``: its own
   matched box had no pose) if there is one; a low-score box left over does too when that pose's
   confidence reaches ``low_box_min_pose_confidence``.
   Only people with landmarks are reported: a box without a pose (a cone, a poster, a bag) is never
   published.

A ``PersonFinder`` (the kind's person detector) supplies proposals and the box a track is matched by;
``LandmarkModels`` picks lite/full/heavy per person.
"""
from __future__ import annotations

import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from .. import skeleton
from .landmarker import Roi, RoiLandmarker, RoiResult
from .models import landmark_model_path
from .smoothing import LandmarkSmoother
from .tracking import HISTORY, BoxTrack, BoxTracker, box_iomin, box_iou, expand_box, landmark_box, same_person
from .types import Person2D

MASK_GROW = 0.12  # tracked people are blacked out for a masking person detector with this margin (of box side)


@dataclass
class Proposal:
    """A person the detector proposes: the box tracks are matched by, the landmark region to start from,
    the detector's score, and regions to try in turn when the landmark model finds no pose in ``roi``."""

    box: np.ndarray
    roi: Roi
    score: float
    retries: tuple[Roi, ...] = ()


class PersonFinder(Protocol):
    """A kind's person detector, as the frame loop uses it."""

    high: float  # score that starts a person
    low: float  # score that keeps a track (== high: no second stage)
    masks_tracked: bool  # wants the tracked people blacked out (finds the next most salient person)
    rescan_when_found: bool  # look again on the next frame after a pass that found someone
    anchor_boxes: bool  # a track's box is its last detector box moved with its landmarks (else the landmarks')

    def find(self, image_rgb: np.ndarray, masks: list[np.ndarray]) -> list[Proposal]:
        """Proposals on one frame (one scan region per call)."""

    def track_box(self, result: RoiResult) -> np.ndarray:
        """The box a tracked person is matched by, from their landmarks (same kind as Proposal.box)."""

    def fallback_rois(self, box: np.ndarray) -> tuple[Roi, ...]:
        """Landmark regions tried in turn for a tracked person (from their box) when their own found no pose."""

    def reset(self) -> None:
        """Restart the scan schedule."""

    def close(self) -> None:
        """Free the model."""


class LandmarkModels:
    """BlazePose landmarks on regions with "lite", "full", "heavy", or "auto" (lite for people shorter
    than ``small_person_px``, full otherwise; a person's height is taken as the region side / 1.5).

    ``runtime`` "onnxruntime": blazepose.OnnxLandmarker on the packaged ONNX models (several regions per
    inference); "mediapipe": MediaPipe's own graph (landmarker.RoiLandmarker, full only), what the
    ``mediapipe`` kind has always run."""

    def __init__(
        self,
        model: str,
        min_presence: float,
        inference_threads: int = 0,
        small_person_px: float = 100.0,
        runtime: str = "onnxruntime",
    ):
        names = ("lite", "full") if model == "auto" else (model,)
        self.model = model
        self.small_person_px = float(small_person_px)
        if runtime == "mediapipe":
            if names != ("full",):
                raise ValueError(f"MediaPipe's graph runs the full landmark model only, not {model!r}")
            self._graphs = {"full": RoiLandmarker(min_presence, inference_threads)}
        elif runtime == "onnxruntime":
            from .blazepose import OnnxLandmarker

            self._graphs = {
                m: OnnxLandmarker(landmark_model_path(m), min_presence, max(1, inference_threads)) for m in names
            }
        else:
            raise ValueError(f"landmark runtime must be 'onnxruntime' or 'mediapipe', got {runtime!r}")

    def model_for(self, roi: Roi) -> str:
        """The model a region gets."""
        if self.model != "auto":
            return self.model
        return "lite" if roi.side / 1.5 < self.small_person_px else "full"

    def process(self, image_rgb: np.ndarray, roi: Roi) -> RoiResult | None:
        """Landmarks in ``roi``, or None when the model finds no person there."""
        return self.process_many(image_rgb, [roi])[0]

    def process_many(self, image_rgb: np.ndarray, rois: list[Roi]) -> list[RoiResult | None]:
        """Landmarks in several regions of one image (one inference per model where the runtime batches)."""
        out: list[RoiResult | None] = [None] * len(rois)
        for name, graph in self._graphs.items():
            idx = [i for i, r in enumerate(rois) if self.model_for(r) == name]
            if not idx:
                continue
            if hasattr(graph, "process_many"):
                got = graph.process_many(image_rgb, [rois[i] for i in idx])
            else:
                got = [graph.process(image_rgb, rois[i]) for i in idx]
            for i, r in zip(idx, got):
                out[i] = r
        return out

    def close(self) -> None:
        """Free the models."""
        for g in self._graphs.values():
            g.close()
        self._graphs = {}


@dataclass
class PersonTrack(BoxTrack):
    """A tracked person: BoxTrack's identity and motion plus their landmarks."""

    roi: Roi | None = None  # the landmark model's region on the next frame
    result: RoiResult | None = None  # the last landmarks
    body: np.ndarray = field(default_factory=lambda: np.zeros(4))  # box of the landmarks
    shown: np.ndarray | None = None  # the landmarks reported (smoothed when smoothing is on)
    smoother: LandmarkSmoother | None = None
    landmark_boxes: dict = field(default_factory=dict)  # frame -> PersonFinder.track_box of that frame
    anchor: tuple | None = None  # (detector box, landmark box on the frame the detector saw)

    @property
    def confidence(self) -> float:
        """Mean score of the layout's joints."""
        return float(skeleton.scores_from_mediapipe(np.clip(self.result.landmarks[:, 3], 0.0, 1.0)).mean())


class TopDownTracker:
    """The frame loop (module docstring). Not thread-safe: one frame at a time, frames in order."""

    def __init__(
        self,
        finder: PersonFinder,
        landmarks: LandmarkModels,
        *,
        max_people: int,
        max_missed_frames: int,
        detect_every_n_frames: int,
        roi_scale: float,
        smooth_landmarks: bool,
        async_detection: bool,
        match_iou: float,
        new_iou: float | None = None,
        min_start_confidence: float = 0.0,
        low_box_min_pose_confidence: float = 2.0,
        box_agree_iou: float | None = None,
        detect_when_full: bool = True,
    ):
        self.finder, self.landmarks = finder, landmarks
        self.max_people, self.max_missed = int(max_people), int(max_missed_frames)
        self.every, self.roi_scale, self.smooth = int(detect_every_n_frames), float(roi_scale), bool(smooth_landmarks)
        self.min_start_confidence, self.box_agree_iou = float(min_start_confidence), box_agree_iou
        self.low_box_min_pose_confidence = float(low_box_min_pose_confidence)  # > 1: low boxes start nobody
        self.detect_when_full = detect_when_full
        self.boxes = BoxTracker(match_iou, new_iou)
        self.tracks: list[PersonTrack] = []
        self.frame = 0
        self.detector_passes = 0  # passes started (for benchmarks)
        self._burst = False
        self._executor = (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="person-detector", initializer=_lower_priority)
            if async_detection else None
        )
        self._pending: tuple[Future, int] | None = None

    # -- public ------------------------------------------------------------------------------------
    def step(self, image_rgb: np.ndarray) -> list[PersonTrack]:
        """One frame: the people seen on it, ordered by track id."""
        self.frame += 1
        f = self.frame
        followed = [t for t in self.tracks if t.missed == 0 and t.roi is not None]
        results = dict(zip(map(id, followed), self.landmarks.process_many(image_rgb, [t.roi for t in followed])))
        retry = [(t, p) for t in followed if results[id(t)] is None and (p := self._from_box(t.box))]
        results.update(zip((id(t) for t, _ in retry), self._first_pose(image_rgb, [p for _, p in retry])))
        before = {id(t): t.motion() for t in self.tracks}
        for t in self.tracks:
            res = results.get(id(t))
            if res is not None:
                self._update(t, res, f)
            else:
                t.missed += 1
        active = [t for t in self.tracks if t.missed == 0]
        for t in self._converged(image_rgb, self.boxes.duplicates(active, [t.body for t in active]), f):
            t.lose(before[id(t)])  # its person may still be there: the detector can re-find them by box
        self.tracks = [t for t in self.tracks if t.missed <= self.max_missed]

        active = [t for t in self.tracks if t.missed == 0]
        just_lost = any(t.missed == 1 for t in self.tracks)
        due = (f - 1) % self.every == 0 or not active or just_lost or self._burst
        if self._pending is not None:
            future, seen = self._pending
            if future.done():
                self._pending = None
                self._burst = self._take(image_rgb, future.result(), seen) > 0 and self.finder.rescan_when_found
        elif due and (self.detect_when_full or len(active) < self.max_people):
            masks = [expand_box(t.body, MASK_GROW) for t in active] if self.finder.masks_tracked else []
            self.detector_passes += 1
            if self._executor is not None and active:  # nobody to follow meanwhile: wait for it
                self._pending = (self._executor.submit(self.finder.find, image_rgb.copy(), masks), f)
                self._burst = False
            else:
                found = self._take(image_rgb, self.finder.find(image_rgb, masks), f)
                self._burst = found > 0 and self.finder.rescan_when_found
        else:
            self._burst = False
        seen = [t for t in self.tracks if t.missed == 0]
        seen.sort(key=lambda t: -t.confidence)
        return sorted(seen[: self.max_people], key=lambda t: t.track_id)

    def reset(self) -> None:
        """Forget every track (ids keep counting up) and restart the detector's schedule."""
        self.wait()
        self.tracks = []
        self.frame = 0
        self._burst = False
        self.finder.reset()

    def wait(self) -> None:
        """Wait for a detector pass in flight and drop its result."""
        if self._pending is not None:
            try:
                self._pending[0].result()
            finally:
                self._pending = None

    def close(self) -> None:
        """Stop the worker thread and free the models."""
        self.wait()
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
        self.tracks = []
        self.finder.close()
        self.landmarks.close()

    # -- steps --------------------------------------------------------------------------------------
    def _take(self, image_rgb: np.ndarray, proposals: list[Proposal], seen: int) -> int:
        """Associate one detector pass (over frame ``seen``) with the tracks on the current frame; returns
        how many people it started or re-found."""
        if not proposals:
            return 0
        f = self.frame
        boxes = np.array([p.box for p in proposals])
        scores = np.array([p.score for p in proposals])
        pairs, new, low = self.boxes.associate(self.tracks, boxes, scores, seen, self.finder.high, self.finder.low)
        found = 0
        restart, disagree = [], set()
        for t, d in pairs:
            if t.missed > 0:  # lost: re-found from the box's region, keeping its id
                restart.append((t, d))
            elif self.finder.anchor_boxes:
                if self._disagrees(t, boxes[d], seen):  # the box is not where the landmarks are
                    restart.append((t, d))
                    disagree.add(id(t))
                else:
                    self._set_anchor(t, boxes[d], seen)
        results = self._first_pose(image_rgb, [proposals[d] for _, d in restart])
        for (t, d), res in zip(restart, results):
            if res is not None and not self._taken(landmark_box(res.landmarks), t):
                found += t.missed > 0
                t.landmark_boxes.clear()
                self._update(t, res, f, boxes[d], restart=True)
            elif id(t) in disagree:  # nobody new on the box: the landmarks say where the person is
                t.anchor = None
                t.box = t.history[t.frame] = t.landmark_boxes.get(t.frame, t.box)
        def largest_first(idx: list[int]) -> list[int]:
            return sorted(idx, key=lambda d: -(boxes[d, 3] - boxes[d, 1]))

        # high-score boxes start people; low-score ones only with a confident pose (when set)
        queue = [(d, self.min_start_confidence) for d in largest_first(new)]
        if self.low_box_min_pose_confidence <= 1.0:
            queue += [(d, self.low_box_min_pose_confidence) for d in largest_first(low)]
        while queue:
            slots = self.max_people - sum(t.missed == 0 for t in self.tracks)
            if slots <= 0:
                break
            batch, queue = queue[:slots], queue[slots:]
            for (d, need), res in zip(batch, self._first_pose(image_rgb, [proposals[d] for d, _ in batch])):
                if res is None:
                    continue
                t = PersonTrack(-1, boxes[d].copy())
                t.result = res
                if t.confidence < need or self._taken(landmark_box(res.landmarks), t):
                    continue
                old = self._lost_at(boxes[d], seen)
                if old is not None:  # a lost person whose own matched box had no pose: same id
                    old.landmark_boxes.clear()
                    self._update(old, res, f, boxes[d])
                else:
                    t.track_id = self.boxes.new_id()
                    self._update(t, res, f, boxes[d])
                    self.tracks.append(t)
                found += 1
        return found

    def _lost_at(self, box: np.ndarray, seen: int) -> PersonTrack | None:
        """The lost track that overlaps ``box`` (a box of frame ``seen``) most, at IoU >= ``match_iou`` with
        its box then (predicted or last), or None."""
        lost = [t for t in self.tracks if t.missed > 0]
        if not lost:
            return None
        iou = self.boxes.similarity(lost, box, seen)[:, 0]
        k = int(np.argmax(iou))
        return lost[k] if iou[k] >= self.boxes.match_iou else None

    def _converged(self, image_rgb: np.ndarray, tracks: list[PersonTrack], f: int) -> list[PersonTrack]:
        """Of tracks whose region converged onto an older track's person on frame ``f``, the ones that lost
        their person (``step`` takes their frame back):
        each first gets its box's regions (``PersonFinder.fallback_rois`` of its box on the frame before)
        and stays when one finds a pose of nobody else (a person half hidden behind another)."""
        tries = [(t, p) for t in tracks if (p := self._from_box(t.box_at(f - 1)))]
        got = self._first_pose(image_rgb, [p for _, p in tries])
        kept = set()
        for (t, _), res in zip(tries, got):
            if res is not None and not self._taken(landmark_box(res.landmarks), t):
                self._update(t, res, f)
                kept.add(id(t))
        return [t for t in tracks if id(t) not in kept]

    def _from_box(self, box: np.ndarray) -> Proposal | None:
        """The kind's regions for a tracked person's box (``PersonFinder.fallback_rois``) as a proposal, or
        None when it has none."""
        rois = self.finder.fallback_rois(box)
        return Proposal(box, rois[0], 0.0, rois[1:]) if rois else None

    def _first_pose(self, image_rgb: np.ndarray, proposals: list[Proposal]) -> list[RoiResult | None]:
        """Landmarks of each proposal in its region, or in the first of its ``retries`` that has a pose
        (one batched inference per round)."""
        results = self.landmarks.process_many(image_rgb, [p.roi for p in proposals])
        for k in range(max((len(p.retries) for p in proposals), default=0)):
            todo = [i for i, (p, r) in enumerate(zip(proposals, results)) if r is None and k < len(p.retries)]
            if not todo:
                break
            for i, r in zip(todo, self.landmarks.process_many(image_rgb, [proposals[i].retries[k] for i in todo])):
                results[i] = r
        return results

    def _disagrees(self, t: PersonTrack, det_box: np.ndarray, seen: int) -> bool:
        """Whether a followed person's matched detector box is not where their landmarks were on frame ``seen``
        (IoU below ``box_agree_iou`` and less than half the smaller box inside the other): a neighbour's box,
        matched because the track's box was carried from an older one."""
        if self.box_agree_iou is None:
            return False
        lm = t.landmark_boxes.get(seen, t.landmark_boxes.get(t.frame))
        if lm is None:
            return False
        return bool(box_iou(lm, det_box)[0, 0] < self.box_agree_iou and box_iomin(lm, det_box)[0, 0] < 0.5)

    def _set_anchor(self, t: PersonTrack, det_box: np.ndarray, seen: int) -> None:
        """A followed person's box becomes the detector's (seen on frame ``seen``) moved with their landmarks
        since then."""
        now = t.landmark_boxes[t.frame]
        t.anchor = (np.asarray(det_box, dtype=np.float64), t.landmark_boxes.get(seen, now))
        t.box = carry_box(t.anchor, now)
        t.history[t.frame] = t.box

    def _taken(self, body: np.ndarray, who: PersonTrack) -> bool:
        """Whether a pose with landmark box ``body`` is a followed person other than ``who``."""
        return same_person(body, [t.body for t in self.tracks if t.missed == 0 and t is not who])

    def _update(
        self, t: PersonTrack, res: RoiResult, f: int, det_box: np.ndarray | None = None, restart: bool = False
    ) -> None:
        """New landmarks of ``t`` on frame ``f`` (started from detector box ``det_box`` when given; ``restart``:
        from a region of its own, not following its last landmarks)."""
        if self.smooth:
            if t.smoother is None:
                t.smoother = LandmarkSmoother.for_landmarks()
            if t.missed > 0 or restart:
                t.smoother.reset()
            t.shown = t.smoother(res.landmarks)  # the region keeps following the raw auxiliary landmarks
        else:
            t.shown = res.landmarks
        t.result = res
        t.body = landmark_box(res.landmarks)
        t.roi = Roi.from_alignment(res.auxiliary[0], res.auxiliary[1], self.roi_scale)
        lm_box = self.finder.track_box(res)
        t.landmark_boxes[f] = lm_box
        for old in [k for k in t.landmark_boxes if k <= f - HISTORY]:
            del t.landmark_boxes[old]
        box = lm_box
        if self.finder.anchor_boxes:
            if det_box is not None:
                t.anchor = (np.asarray(det_box, dtype=np.float64), lm_box)
            if t.anchor is not None:
                box = carry_box(t.anchor, lm_box)
        self.boxes.observe(t, box, f)


def check_image(image_rgb: Any, who: str = "PoseDetector") -> np.ndarray:
    """The image as a contiguous RGB uint8 (H, W, 3) array; ValueError naming what is wrong."""
    img = np.asarray(image_rgb)
    if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f"{who}.detect: expected an RGB uint8 image (H, W, 3), got {img.dtype} {img.shape}")
    if img.shape[0] < 8 or img.shape[1] < 8:
        raise ValueError(f"{who}.detect: image {img.shape[1]}x{img.shape[0]} is too small")
    return np.ascontiguousarray(img)


class StreamDetector:
    """What every kind does around its tracker: image checks, a new stream when the image size
    changes, close/context manager. Subclasses set ``self.tracker`` (TopDownTracker or None) and
    implement ``_detect``."""

    name = "detector"
    tracker: TopDownTracker | None = None

    def __init__(self) -> None:
        self._shape: tuple | None = None
        self._closed = False

    def detect(self, image_rgb: np.ndarray) -> list[Person2D]:
        """People in one RGB uint8 (H, W, 3) frame, ordered by track id; frames are taken as consecutive."""
        if self._closed:
            raise RuntimeError(f"{self.name}.detect: the detector was closed")
        img = check_image(image_rgb, self.name)
        if self._shape is not None and img.shape != self._shape:
            self.reset()  # another camera or resolution: the tracks' regions mean nothing there
        self._shape = img.shape
        return self._detect(img)

    def _detect(self, img: np.ndarray) -> list[Person2D]:
        raise NotImplementedError

    def reset(self) -> None:
        """Forget all tracks (a new video; done by itself when the image size changes); ids keep counting up."""
        if self.tracker is not None:
            self.tracker.reset()

    def close(self) -> None:
        """Free the models (waits for a detector pass in flight)."""
        if self.tracker is not None:
            self.tracker.close()
        self._closed = True

    def __enter__(self):
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @property
    def num_tracks(self) -> int:
        """Tracks alive, including those missing for up to ``max_missed_frames`` frames."""
        return len(self.tracker.tracks) if self.tracker is not None else 0


DETECTOR_THREAD_NICENESS = 10  # added to the thread's nice value (at most 19)


def _lower_priority() -> None:
    """Lower the person-detector worker thread's scheduling priority (Linux: a thread is a task with its
    own nice value): when it shares a core with the frame's landmarks, the frame goes first and the
    detector pass takes the idle time. Best effort: where that is not possible nothing changes."""
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + DETECTOR_THREAD_NICENESS))
    except (AttributeError, OSError):
        pass


def carry_box(anchor: tuple, landmark_box_now: np.ndarray) -> np.ndarray:
    """A detector box moved with the person: ``anchor`` = (detector box, landmark box then); the box is
    shifted by the landmark box's centre shift and scaled by its height change (0.5x..2x) since then."""
    det, then = anchor
    c_det = 0.5 * (det[:2] + det[2:])
    shift = 0.5 * (landmark_box_now[:2] + landmark_box_now[2:]) - 0.5 * (then[:2] + then[2:])
    scale = float(np.clip((landmark_box_now[3] - landmark_box_now[1]) / max(then[3] - then[1], 1e-6), 0.5, 2.0))
    half = 0.5 * (det[2:] - det[:2]) * scale
    c = c_det + shift
    return np.concatenate([c - half, c + half])


def person_box(landmarks: np.ndarray) -> np.ndarray:
    """A whole-person box from the 33 landmarks: their box grown upwards by half the nose-to-shoulder-line
    distance (the landmarks stop at the eyes and ears, a person box at the top of the head)."""
    x0, y0, x1, y1 = landmark_box(landmarks)
    head = abs(0.5 * (landmarks[11, 1] + landmarks[12, 1]) - landmarks[0, 1])
    return np.array([x0, y0 - 0.5 * head, x1, y1], dtype=np.float64)


def clip_box(box: np.ndarray, shape: tuple) -> tuple[float, float, float, float]:
    """A box clipped to the image (x in [0, w - 1], y in [0, h - 1])."""
    h, w = shape[:2]
    return (
        float(np.clip(box[0], 0, w - 1)),
        float(np.clip(box[1], 0, h - 1)),
        float(np.clip(box[2], 0, w - 1)),
        float(np.clip(box[3], 0, h - 1)),
    )


def person2d(
    track_id: int,
    landmarks: np.ndarray,
    world: np.ndarray | None,
    box: np.ndarray,
    shape: tuple,
    min_keypoint_confidence: float,
) -> Person2D:
    """The reported person from BlazePose landmarks (33, 4): layout joints, per-joint scores (0 below
    ``min_keypoint_confidence``), the box clipped to the image, the landmarks and world landmarks."""
    kp = skeleton.from_mediapipe(landmarks[:, :2])
    raw = np.clip(skeleton.scores_from_mediapipe(np.clip(landmarks[:, 3], 0.0, 1.0)), 0.0, 1.0)
    scores = np.where(raw >= min_keypoint_confidence, raw, 0.0)
    return Person2D(
        track_id, kp, scores, clip_box(box, shape), landmarks.copy(), float(raw.mean()),
        None if world is None else world.copy(),
    )
