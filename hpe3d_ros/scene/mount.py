"""The camera's mounting: its pose in the base frame, and the ground frame people are tracked in.

Frames (REP-103/105, docs/placement.md "Frames"):
- optical (O): x right, y down, z forward (the image's ``frame_id``);
- camera body (C): x forward (along the optical axis), y left, z up; ``R_C_O = camera.OPTICAL_FROM_WORLD.T``;
- base (B): the vehicle's or robot's frame, x forward, y left, z up, its xy-plane parallel to the
  ground; the camera's body frame sits at ``(x, y, z)`` with fixed-axis ``roll, pitch, yaw``:
  ``R_B_C = Rz(yaw) Ry(pitch) Rx(roll)``, so ``p_B = R_B_O p_O + t`` with ``R_B_O = R_B_C R_C_O``.

The camera's elevation (its downward pitch, ``hpe3d_ros.camera``) is the angle of the optical axis
below the base's xy-plane: ``asin(-R_B_O[2, 2])``, which equals ``pitch`` for any roll and yaw. That is
how the mounting and the elevation cannot contradict each other: with ``mode: full`` the elevation IS
the mount's pitch; with ``mode: height`` or ``none`` the mount's pitch is replaced by the running
elevation estimate (``Mount.with_elevation``). Without a known mounting (``none``) the ground frame is
the camera's own levelled frame: origin at the camera, x the optical axis's horizontal direction, z up.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import camera
from .params import MountParams

R_C_O = camera.OPTICAL_FROM_WORLD.T  # optical -> camera body (x forward, y left, z up)


def rpy_matrix(roll: float, pitch: float, yaw: float) -> np.ndarray:
    """REP-103 fixed-axis roll, pitch, yaw (radians) as a rotation matrix ``Rz(yaw) Ry(pitch) Rx(roll)``."""
    return camera.rot_z(yaw) @ camera.rot_y(pitch) @ camera.rot_x(roll)


@dataclass(frozen=True)
class Mount:
    """A camera pose in a base frame plus the ground plane's height in it; ``height_known`` says whether
    the ground is known (modes height and full)."""

    rotation: np.ndarray  # R_B_O (3, 3): optical-frame vectors into the base frame
    translation: np.ndarray  # (3,) the camera centre in the base frame
    ground_z: float = 0.0
    height_known: bool = False

    @classmethod
    def from_params(cls, p: MountParams, elevation: float | None = None) -> "Mount":
        """The mount of ``p``; ``elevation`` (radians) replaces its pitch (modes none and height), and mode
        none keeps only the elevation (the camera's own levelled frame, origin at the camera)."""
        pitch = p.pitch if elevation is None else float(elevation)
        if p.mode == "none":
            r = rpy_matrix(0.0, pitch, 0.0) @ R_C_O
            return cls(r, np.zeros(3), 0.0, False)
        r = rpy_matrix(p.roll, pitch, p.yaw) @ R_C_O
        return cls(r, np.array([p.x, p.y, p.z], dtype=np.float64), float(p.ground_z), True)

    @property
    def elevation(self) -> float:
        """The camera's downward pitch (radians): the optical axis's angle below the base's xy-plane."""
        return float(np.arcsin(np.clip(-self.rotation[2, 2], -1.0, 1.0)))

    @property
    def height(self) -> float:
        """The camera centre's height above the ground plane (metres; meaningful when ``height_known``)."""
        return float(self.translation[2] - self.ground_z)

    @property
    def down_optical(self) -> np.ndarray:
        """Gravity's direction (unit, 'down') in the optical frame."""
        return -self.rotation[2, :]

    def to_base(self, points_optical: np.ndarray) -> np.ndarray:
        """Optical-frame points (..., 3) in the base frame."""
        return np.asarray(points_optical, dtype=np.float64) @ self.rotation.T + self.translation

    def vectors_to_base(self, vectors_optical: np.ndarray) -> np.ndarray:
        """Optical-frame directions / velocities (..., 3) in the base frame."""
        return np.asarray(vectors_optical, dtype=np.float64) @ self.rotation.T

    def vectors_to_optical(self, vectors_base: np.ndarray) -> np.ndarray:
        """Base-frame directions / velocities (..., 3) in the optical frame."""
        return np.asarray(vectors_base, dtype=np.float64) @ self.rotation

    def covariance_to_base(self, cov_optical: np.ndarray) -> np.ndarray:
        """A (3, 3) covariance in the optical frame expressed in the base frame."""
        return self.rotation @ np.asarray(cov_optical, dtype=np.float64) @ self.rotation.T
