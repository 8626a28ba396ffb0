"""Track bookkeeping: box IoU and the assignment of new detections to existing tracks."""
from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment


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


def assign(
    track_centers: np.ndarray,
    track_radii: np.ndarray,
    det_centers: np.ndarray,
    det_radii: np.ndarray,
    max_distance: float,
) -> tuple[list[tuple[int, int]], list[int]]:
    """Match detections to tracks by hip-centre distance relative to body radius (Hungarian assignment).

    cost = |c_track - c_det| / max(r_track, r_det); pairs with cost above ``max_distance`` do not match.
    Returns (matched (track index, detection index) pairs, indices of detections near no track).
    """
    n_t, n_d = len(track_centers), len(det_centers)
    if n_d == 0:
        return [], []
    if n_t == 0:
        return [], list(range(n_d))
    dist = np.linalg.norm(np.asarray(track_centers)[:, None, :] - np.asarray(det_centers)[None, :, :], axis=-1)
    scale = np.maximum(np.asarray(track_radii)[:, None], np.asarray(det_radii)[None, :])
    cost = dist / np.maximum(scale, 1e-6)
    rows, cols = linear_sum_assignment(cost)
    pairs = [(int(r), int(c)) for r, c in zip(rows, cols) if cost[r, c] <= max_distance]
    matched = {c for _, c in pairs}
    # A detection close to any track (even one matched to another detection) is no new person.
    unmatched = [d for d in range(n_d) if d not in matched and cost[:, d].min() > max_distance]
    return pairs, unmatched


def hip_center(lm: np.ndarray) -> np.ndarray:
    """Midpoint of the MediaPipe hips (landmarks 23, 24), x, y."""
    return 0.5 * (lm[23, :2] + lm[24, :2])


def body_radius(lm: np.ndarray) -> float:
    """Distance from the hip centre to the farthest landmark (comparable to the detector's radius)."""
    return float(np.linalg.norm(lm[:, :2] - hip_center(lm), axis=-1).max())


def landmark_box(lm: np.ndarray) -> np.ndarray:
    """Box (x0, y0, x1, y1) of landmark x, y (rows of lm)."""
    return np.array([lm[:, 0].min(), lm[:, 1].min(), lm[:, 0].max(), lm[:, 1].max()], dtype=np.float64)


def expand_box(box: np.ndarray, fraction: float) -> np.ndarray:
    """The box grown on every side by ``fraction`` of its longer side."""
    box = np.asarray(box, dtype=np.float64)
    m = fraction * max(box[2] - box[0], box[3] - box[1])
    return box + np.array([-m, -m, m, m])


def square_of(box: np.ndarray) -> tuple[np.ndarray, float]:
    """Centre and side of the square on a box's longer side."""
    c = np.array([(box[0] + box[2]) / 2.0, (box[1] + box[3]) / 2.0])
    return c, float(max(box[2] - box[0], box[3] - box[1]))
