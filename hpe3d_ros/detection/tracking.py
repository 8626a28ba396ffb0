"""Person tracks by box: the one tracker of every detector kind (IoU + motion, ByteTrack-style).

``BoxTracker`` keeps, per track, its box on each recent frame and a constant-velocity estimate, and
associates a person-detector pass with the tracks in two stages (ByteTrack, Zhang et al. 2022):
boxes scoring >= ``high`` first, then boxes in [``low``, ``high``) only to the tracks still unmatched
(low-score boxes keep people through occlusion and blur but start no track by themselves). The similarity is
the IoU between a detection and the track's box *on the frame the detector saw*: taken from the
track's history when it was seen then (an asynchronous detector's boxes are a few frames old),
predicted by its velocity otherwise (a lost track), or with its latest box when that overlaps more
(a velocity from the jittering landmarks of a small person must not push it out of reach). Pairs are
chosen by Hungarian assignment and kept when their IoU >= ``match_iou``. A high-score box left over
is a new person unless it overlaps a track's box with IoU >= ``new_iou`` (a second box on someone
already followed); low-score ones left over are returned apart (a person only if something else, the
landmark model's confidence, confirms them).

What a track's box is depends on the kind (hpe3d_ros.detection.topdown): NanoDet matches person
boxes, MediaPipe's person detector matches body squares (hip centre +- body radius).
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

SAME_PERSON_IOU = 0.5  # two boxes overlapping more than this are one person
SAME_PERSON_INSIDE = 0.7  # ... or when this fraction of the smaller lies inside the larger
HISTORY = 30  # frames of box history kept per track
VELOCITY_GAIN = 0.5  # weight of the newest displacement in the velocity estimate


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU matrix (len(a), len(b)) of boxes (x0, y0, x1, y1)."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    ix0 = np.maximum(a[:, None, 0], b[None, :, 0])
    iy0 = np.maximum(a[:, None, 1], b[None, :, 1])
    ix1 = np.minimum(a[:, None, 2], b[None, :, 2])
    iy1 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(ix1 - ix0, 0, None) * np.clip(iy1 - iy0, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def box_iomin(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over the smaller box's area (len(a), len(b)): 1 when one box holds the other."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    ix = np.clip(np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None)
    iy = np.clip(np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    small = np.minimum(area_a[:, None], area_b[None, :])
    return np.where(small > 0, ix * iy / np.maximum(small, 1e-12), 0.0)


def same_person(box: np.ndarray, others: list[np.ndarray] | np.ndarray) -> bool:
    """Whether ``box`` is one of ``others`` (IoU > 0.5, or 70 % of the smaller box inside the larger)."""
    if len(others) == 0:
        return False
    arr = np.asarray(others, dtype=np.float64).reshape(-1, 4)
    return bool(box_iou(box, arr).max() > SAME_PERSON_IOU or box_iomin(box, arr).max() > SAME_PERSON_INSIDE)


def landmark_box(lm: np.ndarray) -> np.ndarray:
    """Box (x0, y0, x1, y1) of landmark x, y (rows of lm)."""
    return np.array([lm[:, 0].min(), lm[:, 1].min(), lm[:, 0].max(), lm[:, 1].max()], dtype=np.float64)


def expand_box(box: np.ndarray, fraction: float) -> np.ndarray:
    """The box grown on every side by ``fraction`` of its longer side."""
    box = np.asarray(box, dtype=np.float64)
    m = fraction * max(box[2] - box[0], box[3] - box[1])
    return box + np.array([-m, -m, m, m])


def square_box(center: np.ndarray, side: float) -> np.ndarray:
    """(x0, y0, x1, y1) of a square of ``side`` around ``center``."""
    h = side / 2.0
    return np.array([center[0] - h, center[1] - h, center[0] + h, center[1] + h], dtype=np.float64)


def iou_for_offset(distance: float) -> float:
    """IoU of two equal squares whose centres are ``distance`` x half their side apart along one axis:
    how a centre-distance tolerance (relative to the body radius) reads as an IoU threshold."""
    d = float(distance) / 2.0
    return max(0.0, (1.0 - d) / (1.0 + d))


@dataclass
class BoxTrack:
    """A track's identity and box motion; the kinds add their landmarks (topdown.PersonTrack)."""

    track_id: int
    box: np.ndarray
    frame: int = 0  # frame of the last observation
    missed: int = 0  # consecutive frames without an observation
    hits: int = 0
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(4))  # box change per frame
    history: dict = field(default_factory=dict)  # frame -> box, the last HISTORY frames

    def motion(self) -> tuple:
        """The box state (box, frame, hits, velocity, history), for ``lose``."""
        return self.box.copy(), self.frame, self.hits, self.velocity.copy(), dict(self.history)

    def lose(self, motion: tuple) -> None:
        """This frame's observation was not the track's person: back to ``motion`` (from ``motion()``
        before it), missing this frame."""
        self.box, self.frame, self.hits, self.velocity, self.history = motion
        self.missed = 1

    def box_at(self, frame: int) -> np.ndarray:
        """The box on ``frame``: observed then, else extrapolated from the last observation."""
        if frame in self.history:
            return self.history[frame]
        return self.box + self.velocity * float(frame - self.frame)


class BoxTracker:
    """Identity, motion and association of person tracks (module docstring)."""

    def __init__(self, match_iou: float = 0.3, new_iou: float | None = None, first_id: int = 1):
        self.match_iou = float(match_iou)
        self.new_iou = self.match_iou if new_iou is None else float(new_iou)
        self._ids = itertools.count(first_id)

    def new_id(self) -> int:
        """The next track id (ids are never reused, also across ``reset``)."""
        return next(self._ids)

    @staticmethod
    def observe(track: BoxTrack, box: np.ndarray, frame: int) -> None:
        """The track was seen with ``box`` on ``frame``: update its velocity and history."""
        box = np.asarray(box, dtype=np.float64)
        if track.hits > 0 and frame > track.frame:
            step = (box - track.box) / float(frame - track.frame)
            gain = 1.0 if track.hits == 1 else VELOCITY_GAIN  # the first displacement is the first estimate
            track.velocity = gain * step + (1.0 - gain) * track.velocity
        track.box = box
        track.frame = frame
        track.missed = 0
        track.hits += 1
        track.history[frame] = box
        for old in [f for f in track.history if f <= frame - HISTORY]:
            del track.history[old]

    @staticmethod
    def similarity(tracks: list[BoxTrack], boxes: np.ndarray, frame: int) -> np.ndarray:
        """(len(tracks), len(boxes)): each track's IoU with each box of ``frame``, against its box then
        (history or prediction) or its latest box, whichever overlaps more (module docstring)."""
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        then = box_iou(np.array([t.box_at(frame) for t in tracks]).reshape(-1, 4), boxes)
        return np.maximum(then, box_iou(np.array([t.box for t in tracks]).reshape(-1, 4), boxes))

    def associate(
        self,
        tracks: list[BoxTrack],
        boxes: np.ndarray,
        scores: np.ndarray,
        frame: int,
        high: float,
        low: float,
    ) -> tuple[list[tuple[BoxTrack, int]], list[int], list[int]]:
        """Match the boxes of a detector pass over ``frame`` to ``tracks`` (two stages, module docstring).

        Returns (matched (track, box index) pairs, indices of high-score boxes that are new people, indices
        of low-score boxes that matched nobody and overlap no track: people only if something else
        confirms them), each list highest score first."""
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        scores = np.asarray(scores, dtype=np.float64).reshape(-1)
        pairs: list[tuple[BoxTrack, int]] = []
        pool = list(tracks)
        for stage in (scores >= high, (scores >= low) & (scores < high)):
            idx = np.nonzero(stage)[0]
            if len(idx) == 0 or not pool:
                continue
            iou = self.similarity(pool, boxes[idx], frame)
            rows, cols = linear_sum_assignment(-iou)
            taken = set()
            for r, c in zip(rows, cols):
                if iou[r, c] >= self.match_iou:
                    pairs.append((pool[r], int(idx[c])))
                    taken.add(r)
            pool = [t for i, t in enumerate(pool) if i not in taken]
        matched = {d for _, d in pairs}
        known = np.array([t.box_at(frame) for t in tracks]).reshape(-1, 4)
        near = box_iou(boxes, known).max(axis=1) if len(known) else np.zeros(len(boxes))
        free = [int(d) for d in np.argsort(-scores) if d not in matched and near[d] < self.new_iou and scores[d] >= low]
        return pairs, [d for d in free if scores[d] >= high], [d for d in free if scores[d] < high]

    @staticmethod
    def duplicates(tracks: list[BoxTrack], boxes: list[np.ndarray] | None = None) -> list[BoxTrack]:
        """Tracks that converged onto a person followed by an older track (more hits): the ones to drop.
        ``boxes``: the boxes to compare (default the tracks' own)."""
        boxes = [t.box for t in tracks] if boxes is None else boxes
        order = sorted(range(len(tracks)), key=lambda i: -tracks[i].hits)
        kept: list[np.ndarray] = []
        drop = []
        for i in order:
            if same_person(boxes[i], kept):
                drop.append(tracks[i])
            else:
                kept.append(boxes[i])
        return drop
