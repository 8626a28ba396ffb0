"""Per-track heading and walking velocity on the ground (docs/placement.md "Per track").

All in the ground frame (x forward, y left, z up; the base frame, or the camera's levelled frame
without a known mounting):

- heading (body orientation): the horizontal direction the torso faces, ``left x up`` of the mean of
  the hips' and the shoulders' right-to-left vectors (``body_heading``). Confidence: the weaker of the
  four joints' 2D confidences, times how horizontal that vector is, times how well hips and shoulders
  agree. Per track it is smoothed by a confidence-weighted average of unit vectors with time constant
  ``tracking.heading_time_constant_s``.
- velocity: a constant-velocity Kalman filter on the pelvis's ground position (x, y), state
  ``(x, y, vx, vy)``, white-acceleration process noise ``tracking.acceleration_std`` (m/s^2),
  measurement noise the placement's position covariance; a new track starts at rest with a 2 m/s
  speed uncertainty; a measurement beyond a chi-square gate of 30 (2 dof) restarts the track's filter
  (an id switch or a re-placement), as does a gap of ``tracking.max_gap_s``.
- confidences: ``1 / (1 + (sigma / ref)^2)`` of the estimate's standard deviation (velocity: largest
  axis of its covariance, ref 0.5 m/s).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .. import skeleton
from .params import TrackingParams

_N = skeleton.JOINT_NAMES.index
HIPS = (_N("right_hip"), _N("left_hip"))
SHOULDERS = (_N("right_shoulder"), _N("left_shoulder"))
UP = np.array([0.0, 0.0, 1.0])
INITIAL_SPEED_STD = 2.0  # m/s: a pedestrian's speed before any motion is seen
RESTART_GATE = 30.0  # chi-square (2 dof) of an innovation that restarts a track's filter
VELOCITY_REF_STD = 0.5  # m/s: confidence 0.5 at this standard deviation


def confidence_from_std(std: float, ref: float) -> float:
    """``1 / (1 + (std / ref)^2)``: 1 for a certain estimate, 0.5 at ``ref``, towards 0 when unknown."""
    if not math.isfinite(std):
        return 0.0
    return 1.0 / (1.0 + (std / ref) ** 2)


def body_heading(joints_ground: np.ndarray, scores: np.ndarray) -> tuple[float, float]:
    """``(yaw, confidence)`` of the way the torso faces, from hips and shoulders (16, 3) in the ground
    frame (z up); yaw about z, 0 = along x, counter-clockwise positive."""
    j = np.asarray(joints_ground, dtype=np.float64)
    hip = j[HIPS[1]] - j[HIPS[0]]  # right -> left
    sho = j[SHOULDERS[1]] - j[SHOULDERS[0]]
    if not (np.isfinite(hip).all() and np.isfinite(sho).all()):
        return math.nan, 0.0
    across = hip / max(np.linalg.norm(hip), 1e-9) + sho / max(np.linalg.norm(sho), 1e-9)
    n3 = float(np.linalg.norm(across))
    across_h = across.copy()
    across_h[2] = 0.0
    nh = float(np.linalg.norm(across_h))
    if nh < 1e-6:
        return math.nan, 0.0
    forward = cross3(across_h / nh, UP)
    yaw = math.atan2(forward[1], forward[0])
    hip_h, sho_h = hip[:2], sho[:2]
    agree = float(hip_h @ sho_h) / max(float(np.linalg.norm(hip_h) * np.linalg.norm(sho_h)), 1e-9)
    conf = float(min(scores[i] for i in HIPS + SHOULDERS)) * (nh / max(n3, 1e-9)) * max(agree, 0.0)
    return yaw, float(np.clip(conf, 0.0, 1.0))


def cross3(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The cross product of two 3-vectors (numpy's general ``cross`` costs ~50 us a call in axis handling)."""
    return np.array([a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]])


def _inv2(m: np.ndarray) -> np.ndarray:
    """The inverse of a 2x2 matrix in closed form (LAPACK's call overhead is most of a tiny inverse's cost)."""
    det = m[0, 0] * m[1, 1] - m[0, 1] * m[1, 0]
    return np.array([[m[1, 1], -m[0, 1]], [-m[1, 0], m[0, 0]]]) / det


def _max_eigenvalue2(m: np.ndarray) -> float:
    """The larger eigenvalue of a symmetric 2x2 matrix."""
    mean = 0.5 * (m[0, 0] + m[1, 1])
    return float(mean + np.sqrt(max(0.25 * (m[0, 0] - m[1, 1]) ** 2 + m[0, 1] ** 2, 0.0)))


def angle_difference(a: float | np.ndarray, b: float | np.ndarray) -> np.ndarray:
    """``a - b`` wrapped to (-pi, pi]."""
    return (np.asarray(a) - np.asarray(b) + np.pi) % (2 * np.pi) - np.pi


@dataclass
class TrackMotion:
    """The filters of one track."""

    x: np.ndarray  # (4,) x, y, vx, vy
    p: np.ndarray  # (4, 4)
    stamp_ns: int
    heading_vec: np.ndarray = field(default_factory=lambda: np.zeros(2))
    heading_count: float = 0.0
    frames: int = 1


@dataclass
class Motion:
    """What ``Kinematics.update`` returns for one person."""

    velocity: np.ndarray  # (2,) m/s in the ground frame
    velocity_cov: np.ndarray  # (2, 2)
    velocity_confidence: float
    heading: float  # radians (NaN when unknown)
    heading_confidence: float
    filtered_position: np.ndarray  # (2,)


class Kinematics:
    """Per-track filters; one per camera stream."""

    def __init__(self, params: TrackingParams):
        self.params = params
        self.tracks: dict[int, TrackMotion] = {}

    def reset(self) -> None:
        """Forget every track."""
        self.tracks.clear()

    def _start(self, pos: np.ndarray, cov: np.ndarray, stamp_ns: int) -> TrackMotion:
        p = np.zeros((4, 4))
        p[:2, :2] = cov
        p[2:, 2:] = np.eye(2) * INITIAL_SPEED_STD**2
        return TrackMotion(np.array([pos[0], pos[1], 0.0, 0.0]), p, int(stamp_ns))

    def update(self, track_id: int, stamp_ns: int, position: np.ndarray, position_cov: np.ndarray,
               heading: float, heading_confidence: float) -> Motion:
        """One observation of a track: ground position (2,) with covariance (2, 2), raw heading and its confidence."""
        pos = np.asarray(position, dtype=np.float64)[:2]
        r = np.asarray(position_cov, dtype=np.float64)[:2, :2] + np.eye(2) * 1e-6
        t = self.tracks.get(track_id)
        dt = None if t is None else (int(stamp_ns) - t.stamp_ns) * 1e-9
        if t is None or dt is None or dt < 0 or dt > self.params.max_gap_s:
            t = self.tracks[track_id] = self._start(pos, r, stamp_ns)
        else:
            f = np.eye(4)
            f[0, 2] = f[1, 3] = dt
            q1 = np.array([[dt**3 / 3.0, dt**2 / 2.0], [dt**2 / 2.0, dt]]) * self.params.acceleration_std**2
            q = np.zeros((4, 4))
            q[np.ix_([0, 2], [0, 2])] = q1
            q[np.ix_([1, 3], [1, 3])] = q1
            x = f @ t.x
            p = f @ t.p @ f.T + q
            innov = pos - x[:2]
            s_inv = _inv2(p[:2, :2] + r)
            nis = float(innov @ s_inv @ innov)
            if nis > RESTART_GATE:
                t = self.tracks[track_id] = self._start(pos, r, stamp_ns)
            else:
                gain = p[:, :2] @ s_inv
                t.x = x + gain @ innov
                t.p = (np.eye(4) - gain[:, :2] @ np.eye(2, 4)) @ p
                t.p = 0.5 * (t.p + t.p.T)
                t.stamp_ns = int(stamp_ns)
                t.frames += 1
        # heading: confidence-weighted mean of unit vectors, exponentially forgetting
        tau = self.params.heading_time_constant_s
        keep = 0.0 if (tau <= 0 or dt is None or t.frames == 1) else math.exp(-max(dt, 0.0) / tau)
        if math.isfinite(heading) and heading_confidence > 0:
            obs = heading_confidence * np.array([math.cos(heading), math.sin(heading)])
        else:
            obs, heading_confidence = np.zeros(2), 0.0
        t.heading_vec = keep * t.heading_vec + obs
        t.heading_count = keep * t.heading_count + 1.0
        norm = float(np.linalg.norm(t.heading_vec))
        # |sum of confidence-weighted unit vectors| / number of frames: their mean confidence times how well they agree
        h = math.atan2(t.heading_vec[1], t.heading_vec[0]) if norm > 1e-9 else math.nan
        hc = norm / t.heading_count if norm > 1e-9 else 0.0
        vcov = t.p[2:, 2:].copy()
        vstd = math.sqrt(max(_max_eigenvalue2(vcov), 0.0))
        return Motion(t.x[2:].copy(), vcov, confidence_from_std(vstd, VELOCITY_REF_STD), h, float(np.clip(hc, 0, 1)),
                      t.x[:2].copy())

    def prune(self, stamp_ns: int) -> None:
        """Drop the tracks unseen for longer than ``max_gap_s`` (bounded memory)."""
        limit = int(self.params.max_gap_s * 1e9)
        for tid in [k for k, t in self.tracks.items() if int(stamp_ns) - t.stamp_ns > limit]:
            del self.tracks[tid]
