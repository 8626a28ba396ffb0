"""The 2D normalisations of the two papers and the lift back to a root-relative 3D shape.

Shared by runtime (numpy) and training (torch): every function here accepts a numpy array or a
torch tensor and returns the same kind, so both sides run the very same arithmetic.

Input to both normalisations is 2D in normalised image coordinates (``camera.pixels_to_normalized``),
so a model does not depend on the camera's focal length or image size.

- ``tipsy``: root-centred, divided by the pose's largest absolute coordinate (Hardy et al.).
  A lifted pose is ``(x, y, depth)`` in those units (scaled orthographic).
- ``elepose``: root-centred, scaled so that the root-to-head distance is ``1 / depth_offset``
  (Wandt et al., D = 10). A lifted pose is ``(x * z, y * z, z)`` with ``z = depth + D``, then
  root-centred: a perspective back-projection whose root-to-head distance is about 1.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from . import skeleton

KINDS = ("tipsy", "elepose")
ELEPOSE_DEPTH_OFFSET = 10.0
_EPS = 1e-8


def _is_torch(x: Any) -> bool:
    return type(x).__module__.startswith("torch")


def _norm_last(x: Any) -> Any:
    return x.norm(dim=-1) if _is_torch(x) else np.linalg.norm(x, axis=-1)


def _max_abs(x: Any) -> Any:
    if _is_torch(x):
        return x.abs().flatten(-2).amax(dim=-1)
    return np.abs(x).reshape(x.shape[:-2] + (-1,)).max(axis=-1)


def _stack_last(parts: list) -> Any:
    if _is_torch(parts[0]):
        import torch

        return torch.stack(parts, dim=-1)
    return np.stack(parts, axis=-1)


def root_center(points: Any) -> Any:
    """Subtract the root joint: (..., J, C) -> (..., J, C)."""
    return points - points[..., skeleton.ROOT : skeleton.ROOT + 1, :]


def normalize_2d(xy: Any, kind: str, depth_offset: float = ELEPOSE_DEPTH_OFFSET) -> tuple[Any, Any]:
    """Normalise 2D poses (..., J, 2) in normalised image coordinates.

    Returns ``(normalised poses, scale)`` with ``normalised = root_centred / scale[..., None, None]``.
    """
    centred = root_center(xy)
    if kind == "tipsy":
        scale = _max_abs(centred)
    elif kind == "elepose":
        scale = _norm_last(centred[..., skeleton.HEAD, :]) * depth_offset
    else:
        raise ValueError(f"unknown normalisation {kind!r}; expected one of {KINDS}")
    scale = scale + _EPS
    return centred / scale[..., None, None], scale


def lift_to_3d(norm_xy: Any, depth: Any, kind: str, depth_offset: float = ELEPOSE_DEPTH_OFFSET) -> Any:
    """A lifter's output (per-joint depth (..., J)) with its normalised input (..., J, 2) to a
    root-relative 3D shape (..., J, 3) in the normalisation's units (optical-frame axes)."""
    if kind == "tipsy":
        pose = _stack_last([norm_xy[..., 0], norm_xy[..., 1], depth])
    elif kind == "elepose":
        z = depth + depth_offset
        pose = _stack_last([norm_xy[..., 0] * z, norm_xy[..., 1] * z, z])
    else:
        raise ValueError(f"unknown normalisation {kind!r}; expected one of {KINDS}")
    return root_center(pose)


def project_normalized(pose3d: Any, kind: str, depth_offset: float = ELEPOSE_DEPTH_OFFSET) -> Any:
    """Project a root-relative 3D shape back to the normalised 2D of ``kind`` (the inverse of
    ``lift_to_3d`` up to the normalisation's scale): used by reprojection losses."""
    if kind == "tipsy":
        xy = pose3d[..., :2]
    elif kind == "elepose":
        z = pose3d[..., 2:3] + depth_offset
        xy = pose3d[..., :2] / z
    else:
        raise ValueError(f"unknown normalisation {kind!r}; expected one of {KINDS}")
    return normalize_2d(xy, kind, depth_offset)[0]


def normalization_description(kind: str, depth_offset: float = ELEPOSE_DEPTH_OFFSET) -> dict:
    """What a model manifest records about its normalisation."""
    if kind not in KINDS:
        raise ValueError(f"unknown normalisation {kind!r}; expected one of {KINDS}")
    d = {"kind": kind, "input": "normalised image coordinates (K^-1 applied), root-centred", "root": skeleton.ROOT}
    if kind == "elepose":
        d["depth_offset"] = depth_offset
        d["scale"] = "root-to-head distance * depth_offset"
    else:
        d["scale"] = "max abs coordinate"
    return d


def depth_target(pose_cam: Any, kind: str, depth_offset: float = ELEPOSE_DEPTH_OFFSET) -> Any:
    """Supervised depth targets (..., J) for camera-frame 3D poses (..., J, 3), in the units that
    ``lift_to_3d`` expects for the same poses' normalised 2D.

    Normalised 2D is about ``X / (Z_root * scale)``, so the shape's unit is ``1 / (Z_root * scale)``
    (times D for ``elepose``, whose virtual camera has focal length 1 and sits at distance D):

    - ``tipsy``: ``(Z_j - Z_root) / (Z_root * scale)``;
    - ``elepose``: ``D * (Z_j - Z_root) / (Z_root * scale)``.
    """
    z = pose_cam[..., 2]
    z_root = z[..., skeleton.ROOT : skeleton.ROOT + 1]
    xy = pose_cam[..., :2] / pose_cam[..., 2:3]
    _, scale = normalize_2d(xy, kind, depth_offset)
    rel = (z - z_root) / (z_root * scale[..., None])
    return rel * depth_offset if kind == "elepose" else rel
