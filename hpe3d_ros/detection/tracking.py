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


def assign(track_boxes: np.ndarray, det_boxes: np.ndarray, min_iou: float) -> tuple[list[tuple[int, int]], list[int]]:
    """Match detections to tracks maximising total IoU (Hungarian); pairs below ``min_iou`` do not match.

    Returns (matched (track index, detection index) pairs, unmatched detection indices).
    """
    n_t, n_d = len(track_boxes), len(det_boxes)
    if n_d == 0:
        return [], []
    if n_t == 0:
        return [], list(range(n_d))
    iou = box_iou(track_boxes, det_boxes)
    rows, cols = linear_sum_assignment(-iou)
    pairs = [(int(r), int(c)) for r, c in zip(rows, cols) if iou[r, c] >= min_iou]
    matched = {c for _, c in pairs}
    # A detection overlapping any track (even one matched to another detection) is no new person.
    unmatched = [d for d in range(n_d) if d not in matched and iou[:, d].max() < min_iou]
    return pairs, unmatched


def landmark_box(lm: np.ndarray) -> np.ndarray:
    """Box (x0, y0, x1, y1) of landmark x, y (rows of lm)."""
    return np.array([lm[:, 0].min(), lm[:, 1].min(), lm[:, 0].max(), lm[:, 1].max()], dtype=np.float64)


def square_of(box: np.ndarray) -> tuple[np.ndarray, float]:
    """Centre and side of the square on a box's longer side."""
    c = np.array([(box[0] + box[2]) / 2.0, (box[1] + box[3]) / 2.0])
    return c, float(max(box[2] - box[0], box[3] - box[1]))
