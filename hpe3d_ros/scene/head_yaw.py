"""Head yaw relative to the camera from MediaPipe BlazePose's face landmarks ("looking at the camera").

BlazePose gives per landmark pixel x, y, a depth z in the scale of x (relative to the hips, smaller =
nearer) and a visibility. Around the head, pixel offsets are turned into local 3D offsets in the
optical frame's axes (``dX = du + x_n dz``, ``dY = dv + y_n dz``, ``dZ = dz`` with ``x_n, y_n`` the head's
normalised image position: the perspective correction for a head off the optical axis). Then:

- the face's lateral axis is right ear -> left ear (or right eye -> left eye when an ear is hidden);
  the face points along ``axis x up`` (horizontal, up = against gravity);
- the nose's offset from the midpoint of that pair is a second estimate of the same direction;
- both are averaged (weighted by the landmarks' visibilities) when both exist.

``yaw`` is the angle from the line of sight (head -> camera) to the face direction about the up axis,
counter-clockwise seen from above: 0 = looking at the camera, +-pi = facing away. Confidence: the
weakest visibility used, times the agreement of the two estimates (0.7 when only one exists).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .kinematics import cross3

NOSE, LEFT_EYE, RIGHT_EYE, LEFT_EAR, RIGHT_EAR = 0, 2, 5, 7, 8
MIN_VISIBILITY = 0.5
SINGLE_ESTIMATE_CONFIDENCE = 0.7
LOOKING_MARGIN_RAD = math.radians(10.0)


@dataclass
class HeadYaw:
    """The head's yaw relative to the camera and whether the person looks at it."""

    yaw: float  # radians; NaN when unknown
    confidence: float
    looking: bool
    looking_confidence: float


UNKNOWN = HeadYaw(math.nan, 0.0, False, 0.0)


def _horizontal(v: np.ndarray, up: np.ndarray) -> np.ndarray | None:
    h = v - (v @ up) * up
    n = float(np.linalg.norm(h))
    return h / n if n > 1e-9 else None


def head_yaw(landmarks: np.ndarray | None, k: np.ndarray, down_optical: np.ndarray,
             looking_max_rad: float = math.radians(20.0)) -> HeadYaw:
    """The head yaw of one person from BlazePose landmarks (33, 4): pixel x, y, z, visibility."""
    if landmarks is None:
        return UNKNOWN
    lm = np.asarray(landmarks, dtype=np.float64)
    if lm.ndim != 2 or lm.shape[0] < 9 or lm.shape[1] < 4 or not np.isfinite(lm[:9]).all():
        return UNKNOWN
    vis = lm[:, 3]
    up = -np.asarray(down_optical, dtype=np.float64)
    up = up / max(float(np.linalg.norm(up)), 1e-9)
    face = [i for i in (NOSE, LEFT_EYE, RIGHT_EYE, LEFT_EAR, RIGHT_EAR) if vis[i] >= MIN_VISIBILITY] or [NOSE]
    centre = lm[face, :2].mean(axis=0)
    xn = (centre[0] - k[0, 2]) / k[0, 0]
    yn = (centre[1] - k[1, 2]) / k[1, 1]

    def local(i: int) -> np.ndarray:  # offsets from the head centre in optical axes (pixels at the head's depth)
        du, dv, dz = lm[i, 0] - centre[0], lm[i, 1] - centre[1], lm[i, 2]
        return np.array([du + xn * dz, dv + yn * dz, dz])

    pair = None
    for left, right in ((LEFT_EAR, RIGHT_EAR), (LEFT_EYE, RIGHT_EYE)):
        if vis[left] >= MIN_VISIBILITY and vis[right] >= MIN_VISIBILITY:
            pair = (left, right)
            break
    estimates, weights = [], []
    if pair is not None:
        axis = local(pair[0]) - local(pair[1])
        f_axis = _horizontal(cross3(axis, up), up)
        if f_axis is not None:
            estimates.append(f_axis)
            weights.append(min(vis[pair[0]], vis[pair[1]]))
        if vis[NOSE] >= MIN_VISIBILITY:
            mid = 0.5 * (local(pair[0]) + local(pair[1]))
            f_nose = _horizontal(local(NOSE) - mid, up)
            if f_nose is not None:
                estimates.append(f_nose)
                weights.append(min(vis[NOSE], vis[pair[0]], vis[pair[1]]))
    if not estimates:
        return UNKNOWN
    w = np.asarray(weights)
    f = _horizontal((np.asarray(estimates) * w[:, None]).sum(axis=0), up)
    if f is None:
        return UNKNOWN
    agree = float(estimates[0] @ estimates[1]) if len(estimates) == 2 else SINGLE_ESTIMATE_CONFIDENCE
    to_cam = _horizontal(-np.array([xn, yn, 1.0]), up)
    if to_cam is None:
        return UNKNOWN
    yaw = math.atan2(float(up @ cross3(to_cam, f)), float(to_cam @ f))
    conf = float(np.clip(float(w.min()) * max(agree, 0.0), 0.0, 1.0))
    looking = abs(yaw) <= looking_max_rad
    margin = min(1.0, abs(abs(yaw) - looking_max_rad) / LOOKING_MARGIN_RAD)
    return HeadYaw(yaw, conf, looking, conf * margin)
