"""From a root-relative 3D shape in normalised units to metres in the camera's optical frame.

Scale comes from a body-height prior (the sum of the layout's bone lengths is proportional to
height); the root's position comes from a least-squares fit of the scaled shape's projection to
the detected pixels with the camera intrinsics. See docs/metric_recovery.md for its error.
"""
from __future__ import annotations

import numpy as np

from . import skeleton

#: THE body-height prior (metres) of the project: the node, the replay, the demo, `hpe3d lift` and
#: `hpe3d eval` (so MPJPE figures are comparable with what the runtime does). A person in front of a
#: robot or a car is most often an adult of unknown sex and height; 1.70 m is a round adult figure
#: between typical male and female mean statures. It is a prior, not a measurement: a person 10 %
#: shorter comes out 10 % too large and 10 % too far. ``skeleton.REFERENCE_HEIGHT_M`` (1.58 m) is a
#: different thing: the height of the mocap body that the bone-length sum is measured on.
#: docs/metrics.md and docs/metric_recovery.md give the consequences.
DEFAULT_BODY_HEIGHT_M = 1.70


def scale_to_height(shape: np.ndarray, height_m: float = DEFAULT_BODY_HEIGHT_M) -> np.ndarray:
    """Scale root-relative shapes (..., J, 3) so their bone-length sum matches a person of ``height_m``."""
    if not height_m > 0:
        raise ValueError(f"body height must be positive, got {height_m}")
    target = skeleton.REFERENCE_BONE_SUM_M * height_m / skeleton.REFERENCE_HEIGHT_M
    total = skeleton.bone_lengths(shape).sum(axis=-1)
    return shape * (target / np.maximum(total, 1e-9))[..., None, None]


def solve_root_translation(
    shape_m: np.ndarray, uv: np.ndarray, k: np.ndarray, weights: np.ndarray | None = None, min_depth: float = 0.3
) -> np.ndarray:
    """Translation t (N, 3) that best places metric shapes (N, J, 3) so that they project onto
    pixels uv (N, J, 2) under K (3, 3) or (N, 3, 3); per-joint ``weights`` (N, J) such as confidences.

    Linear least squares on the pinhole equations ``(X + tx) - x (Z + tz) = 0`` with
    ``x = (u - cx) / fx``, likewise for y.
    """
    from .camera import pixels_to_normalized

    shape_m = np.asarray(shape_m, dtype=np.float64)
    n, j, _ = shape_m.shape
    xy = pixels_to_normalized(uv, k)
    w = np.ones((n, j)) if weights is None else np.clip(np.asarray(weights, dtype=np.float64), 0.0, None)
    w = np.sqrt(w + 1e-6)
    a = np.zeros((n, 2 * j, 3))
    b = np.zeros((n, 2 * j))
    a[:, 0::2, 0] = 1.0
    a[:, 0::2, 2] = -xy[..., 0]
    b[:, 0::2] = xy[..., 0] * shape_m[..., 2] - shape_m[..., 0]
    a[:, 1::2, 1] = 1.0
    a[:, 1::2, 2] = -xy[..., 1]
    b[:, 1::2] = xy[..., 1] * shape_m[..., 2] - shape_m[..., 1]
    ww = np.repeat(w, 2, axis=1)
    a *= ww[..., None]
    b *= ww
    ata = np.einsum("nki,nkj->nij", a, a) + 1e-9 * np.eye(3)
    atb = np.einsum("nki,nk->ni", a, b)
    t = np.linalg.solve(ata, atb[..., None])[..., 0]
    t[:, 2] = np.maximum(t[:, 2], min_depth)
    return t
