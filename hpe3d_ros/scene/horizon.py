"""A static camera's elevation from the people it sees, without the lifter (docs/placement.md "Elevation").

Upright people of about one stature standing on one flat ground, seen by a camera that is levelled by
the right elevation ``e`` (rotated into the upright frame, ``camera.upright_from_optical``): a person at
depth ``Z`` has their ankles at normalised image height ``y_f = (h_c - a) / Z`` and their head joint at
``y_h = (h_c - a - H') / Z`` (``h_c`` the camera's height, ``a`` the ankle's, ``H'`` ankle to head
joint), so ``(y_f - y_h) / y_f = H' / (h_c - a)`` is the same for every person at every distance. Levelled
by a wrong elevation the ratio drifts with distance. The estimate is the elevation that makes the ratio
most nearly constant (the median absolute deviation of its logarithm) over the last ``window``
observations; nothing about the camera's height or the people's stature is assumed, only that they are
alike, and the people must be seen at different distances (``min_depth_ratio``).

Observations are taken only from people who stand upright: ankles and head joint scored at least
``MIN_SCORE``, in the lifted 3D the supporting leg's ankle-to-head chain nearly stretched and the body
straight at the hips (lengths and angles are the same in every frame, so the lifter's elevation plays
no part), the head above the feet; the foot point is the supporting leg's ankle. Walking people pass;
sitting, bowing, crouching or lying people do not. Uncertainty: the spread of the estimates of ``FOLDS`` interleaved
subsets (a jackknife). Roll is taken as zero.
"""
from __future__ import annotations

import math
import warnings
from collections import deque

import numpy as np

from .. import skeleton

MIN_SCORE = 0.5  # keypoint score of ankles and head for an observation
MIN_CHAIN_RATIO = 0.89  # stance ankle to head distance over the bones between them: a straight stance
MIN_BODY_DEG = 160.0  # angle thorax-pelvis-stance ankle of a straight body (not bowing, not sitting)
GRID_DEG = (-40.0, 80.0, 0.5)  # coarse search of the elevation: from, to, step
FINE_STEP_DEG = 0.05
LOCAL_DEG = 3.0  # a re-fit searches this far around the previous estimate (the whole grid if it hits the edge)
FOLDS = 5
MAX_STD_DEG = 2.0  # a fit less certain than this is not taken (the previous estimate stays)
JUMP_FITS = 3  # fits in a row whose newest observations disagree before the older ones are dropped
MIN_VALID = 0.8  # share of observations below the horizon for an elevation to be considered

_J = {name: i for i, name in enumerate(skeleton.JOINT_NAMES)}
_ANKLES = (_J["left_ankle"], _J["right_ankle"])


def _angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    if na < 1e-9 or nb < 1e-9:
        return 0.0
    return math.degrees(math.acos(float(np.clip(np.dot(a, b) / (na * nb), -1.0, 1.0))))


def stance_ankle(joints: np.ndarray) -> int:
    """The ankle of the supporting leg: the one further from the pelvis (a straight leg)."""
    j = np.asarray(joints, dtype=np.float64)
    return max(_ANKLES, key=lambda a: float(np.linalg.norm(j[a] - j[_J["pelvis"]])))


def stands_upright(joints: np.ndarray) -> bool:
    """Whether a lifted skeleton (16, 3), in any frame, stands on a straight leg with a straight body (the
    ankle-to-head chain of the supporting leg nearly stretched, the body not bent at the hips)."""
    j = np.asarray(joints, dtype=np.float64)
    if j.shape != (len(skeleton.JOINT_NAMES), 3) or not np.isfinite(j).all():
        return False
    a = stance_ankle(j)
    knee, hip = (_J["left_knee"], _J["left_hip"]) if a == _J["left_ankle"] else (_J["right_knee"], _J["right_hip"])
    chain = [a, knee, hip, _J["pelvis"], _J["spine"], _J["thorax"], _J["head"]]
    length = sum(float(np.linalg.norm(j[p] - j[q])) for p, q in zip(chain[:-1], chain[1:]))
    if length < 1e-6 or float(np.linalg.norm(j[_J["head"]] - j[a])) < MIN_CHAIN_RATIO * length:
        return False
    pelvis = j[_J["pelvis"]]
    return _angle_deg(j[_J["thorax"]] - pelvis, j[a] - pelvis) >= MIN_BODY_DEG


def _log_ratios(foot: np.ndarray, head: np.ndarray, elevation: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``log((y_f - y_h) / y_f)`` of every observation (columns) levelled by each elevation (rows), and
    which are usable (the foot below the horizon and below the head, both within 80 degrees of it).
    ``foot``, ``head``: (N,) angles below the optical axis in the optical y-z plane, ``atan2(y, z)`` of the
    bearings; levelled by ``e`` a point's normalised height is ``tan(angle + e)``."""
    af = foot[None, :] + elevation[:, None]
    ah = head[None, :] + elevation[:, None]
    ok = (af > 1e-4) & (af < math.radians(80.0)) & (ah < af) & (ah > -math.radians(80.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        lr = np.where(ok, np.log(np.where(ok, 1.0 - np.tan(ah) / np.tan(af), 1.0)), np.nan)
    return lr, ok


def _spread(lr: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Median absolute deviation of the log ratios per elevation (inf where too few are usable)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an elevation with no usable observation: inf below
        med = np.nanmedian(lr, axis=1, keepdims=True)
        mad = np.nanmedian(np.abs(lr - med), axis=1)
    return np.where((ok.mean(axis=1) >= MIN_VALID) & np.isfinite(mad), mad, np.inf)


def fit_elevation(foot: np.ndarray, head: np.ndarray, around: float | None = None) -> float:
    """The elevation (radians) that makes ``(y_f - y_h) / y_f`` most constant over observations given as
    the angles (N,) of the feet and heads below the optical axis (``atan2(y, z)`` of their bearings in the
    optical frame); NaN when no elevation is usable.
    ``around``: search only within ``LOCAL_DEG`` of this elevation (unless the best lies at that edge)."""
    foot, head = np.asarray(foot, dtype=np.float64), np.asarray(head, dtype=np.float64)
    if len(foot) < 3:
        return math.nan
    if around is not None and math.isfinite(around):
        local = around + np.radians(np.arange(-LOCAL_DEG, LOCAL_DEG + 1e-9, 2 * FINE_STEP_DEG))
        cost = _spread(*_log_ratios(foot, head, local))
        i = int(np.argmin(cost))
        if np.isfinite(cost[i]) and 0 < i < len(local) - 1:
            return float(local[i])
    lo, hi, step = GRID_DEG
    grid = np.radians(np.arange(lo, hi + 1e-9, step))
    cost = _spread(*_log_ratios(foot, head, grid))
    if not np.isfinite(cost).any():
        return math.nan
    best = float(grid[int(np.argmin(cost))])
    fine = best + np.radians(np.arange(-step, step + 1e-9, FINE_STEP_DEG))
    cost = _spread(*_log_ratios(foot, head, fine))
    return float(fine[int(np.argmin(cost))]) if np.isfinite(cost).any() else best


class PeopleHorizon:
    """The running estimate: ``observe`` each person, ``estimate`` every so often."""

    def __init__(self, window: int = 600, min_observations: int = 60, min_depth_ratio: float = 1.5,
                 jump_rad: float = math.radians(8.0)):
        """``window`` observations are kept; ``min_observations`` are needed for an estimate, and their
        normalised foot heights must span ``min_depth_ratio`` (10th to 90th percentile: people at different
        distances). When the newest ``min_observations`` alone give an elevation more than ``jump_rad``
        from the estimate on ``JUMP_FITS`` fits in a row, the camera has moved: the older observations are
        dropped."""
        if window < 3 or min_observations < 3 or min_depth_ratio < 1.0 or jump_rad <= 0:
            raise ValueError(f"PeopleHorizon: need window >= 3, min_observations >= 3, min_depth_ratio >= 1, "
                             f"jump_rad > 0; got {window}, {min_observations}, {min_depth_ratio}, {jump_rad}")
        self.window, self.min_observations, self.min_depth_ratio = int(window), int(min_observations), \
            float(min_depth_ratio)
        self.jump_rad = float(jump_rad)
        self.jumps = 0
        self.reset()

    def _fail(self) -> None:
        self.value, self.std = None, math.inf

    def reset(self) -> None:
        """Forget every observation."""
        self.foot: deque[float] = deque(maxlen=self.window)  # angles below the optical axis, radians
        self.head: deque[float] = deque(maxlen=self.window)
        self.value: float | None = None
        self.std = math.inf
        self.new = 0
        self._disagree = 0

    def observe(self, keypoints_px: np.ndarray, scores: np.ndarray, joints: np.ndarray, k: np.ndarray) -> bool:
        """Take one person (16 keypoints px, their scores, the lifted 16 joints in any frame, the camera's
        K) if they stand upright and are seen well; returns whether they were taken."""
        kp = np.asarray(keypoints_px, dtype=np.float64)
        sc = np.asarray(scores, dtype=np.float64)
        if kp.shape != (len(skeleton.JOINT_NAMES), 2) or not np.isfinite(kp).all():
            return False
        if sc[list(_ANKLES)].min() < MIN_SCORE or sc[_J["head"]] < MIN_SCORE or not stands_upright(joints):
            return False
        foot_px, head_px = kp[stance_ankle(joints)], kp[_J["head"]]
        if not head_px[1] < foot_px[1]:
            return False
        k_inv = np.linalg.inv(np.asarray(k, dtype=np.float64))
        d = (k_inv @ np.array([[*foot_px, 1.0], [*head_px, 1.0]]).T).T
        # the angle below the optical axis in the camera's vertical plane (roll taken as zero)
        self.foot.append(math.atan2(d[0, 1], d[0, 2]))
        self.head.append(math.atan2(d[1, 1], d[1, 2]))
        self.new += 1
        return True

    def _determined(self, foot: np.ndarray, head: np.ndarray, e: float) -> bool:
        """Whether elevation ``e`` fitted to these observations is determined by them: enough usable ones,
        at different distances (their levelled foot heights, 1 / distance up to a scale, span
        ``min_depth_ratio``)."""
        if not math.isfinite(e):
            return False
        _, ok = _log_ratios(foot, head, np.array([e]))
        yf = np.tan(foot[ok[0]] + e)
        return len(yf) >= min(self.min_observations, len(foot)) * MIN_VALID and \
            bool(np.percentile(yf, 90) >= self.min_depth_ratio * np.percentile(yf, 10))

    def estimate(self) -> float | None:
        """Re-fit from the observations held (radians), or None while they do not determine the elevation:
        too few, or all at about one distance. A fit less certain than ``MAX_STD_DEG`` keeps the previous
        estimate."""
        self.new = 0
        n = len(self.foot)
        if n < self.min_observations:
            self._fail()
            return None
        foot, head = np.array(self.foot), np.array(self.head)
        m = self.min_observations
        if self.value is not None and n > m:
            newest = fit_elevation(foot[-m:], head[-m:])
            far = self._determined(foot[-m:], head[-m:], newest) and abs(newest - self.value) > self.jump_rad
            self._disagree = self._disagree + 1 if far else 0
            if self._disagree >= JUMP_FITS:
                self.jumps += 1  # the camera moved: only the newest observations describe it
                self._disagree = 0
                for q in (self.foot, self.head):
                    kept = list(q)[-m:]
                    q.clear()
                    q.extend(kept)
                foot, head = foot[-m:], head[-m:]
                self._fail()
        e = fit_elevation(foot, head, self.value)
        if not self._determined(foot, head, e):
            self._fail()
            return None
        folds = [fit_elevation(foot[i::FOLDS], head[i::FOLDS], e) for i in range(FOLDS)]
        folds = np.array([f for f in folds if math.isfinite(f)])
        # the spread of estimates from a fifth of the data each, scaled to all of it (a delete-group jackknife)
        std = float(np.std(folds) / math.sqrt(FOLDS)) if len(folds) >= 3 else math.inf
        if std > math.radians(MAX_STD_DEG):
            return self.value  # not certain enough: the previous estimate (or none) stays
        self.value, self.std = e, std
        return e
