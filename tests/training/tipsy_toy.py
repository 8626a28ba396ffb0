"""Constructed 3D poses and their 2D for the TIPSy tests (no data files, no ../shared)."""
from __future__ import annotations

import numpy as np
import torch

from hpe3d_ros import camera, normalization

# A standing person in the optical frame (x right, y down, z forward), metres, layout order.
_BASE = np.array(
    [
        [0.00, 0.00, 0.0],  # pelvis
        [-0.10, 0.00, 0.0], [-0.10, 0.45, 0.0], [-0.10, 0.88, 0.0],  # right hip, knee, ankle
        [0.10, 0.00, 0.0], [0.10, 0.45, 0.0], [0.10, 0.88, 0.0],  # left hip, knee, ankle
        [0.00, -0.25, 0.0], [0.00, -0.50, 0.0], [0.00, -0.70, 0.0],  # spine, thorax, head
        [0.18, -0.50, 0.0], [0.20, -0.22, 0.0], [0.22, 0.02, 0.0],  # left shoulder, elbow, wrist
        [-0.18, -0.50, 0.0], [-0.20, -0.22, 0.0], [-0.22, 0.02, 0.0],  # right shoulder, elbow, wrist
    ]
)


def toy_poses3d(n: int, seed: int = 0) -> np.ndarray:
    """``n`` root-relative 3D poses (n, 16, 3): the base body with jittered limbs, turned by a
    random azimuth about the vertical (y) axis and a small random elevation."""
    rng = np.random.default_rng(seed)
    poses = _BASE[None] + rng.normal(0.0, 0.06, (n, 16, 3))
    poses[:, 0] = 0.0
    rot = camera.rot_x(rng.uniform(-0.3, 0.3, n)) @ camera.rot_y(rng.uniform(-np.pi, np.pi, n))
    return np.einsum("nij,nkj->nki", rot, poses)


def toy_poses2d(n: int, seed: int = 0) -> torch.Tensor:
    """tipsy-normalised 2D (n, 16, 2) of ``toy_poses3d`` seen by a camera 5 m away."""
    pose = toy_poses3d(n, seed) + np.array([0.0, 0.0, 5.0])
    xy = pose[..., :2] / pose[..., 2:3]
    return torch.as_tensor(normalization.normalize_2d(xy, "tipsy")[0], dtype=torch.float32)
