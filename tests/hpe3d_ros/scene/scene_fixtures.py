"""People of the bundled mocap fixture placed on a ground plane in front of a mounted camera."""
from __future__ import annotations

import numpy as np

from hpe3d_ros import camera, paths, skeleton
from hpe3d_ros.scene.mount import Mount
from hpe3d_ros.scene.params import MountParams

BANDAI_ANKLE_RATIO = 0.117 / skeleton.REFERENCE_HEIGHT_M  # the mocap body's ankle joint over its stature


def fixture_pose_ground(index: int = 0) -> np.ndarray:
    """One fixture pose (16, 3) in a ground frame (x forward, y left, z up), ankles' lowest at the mocap
    body's ankle height, pelvis above the origin; the reference body's stature (1.58 m)."""
    d = np.load(paths.package_data_dir() / "eval_fixture.npz")
    up = camera.upright_from_optical(d["joints3d"][index].astype(np.float64), float(d["elevation"][index]))
    g = np.stack([up[:, 2], -up[:, 0], -up[:, 1]], axis=-1)  # upright (x right, y down, z fwd) -> x fwd, y left, z up
    g[:, :2] -= g[skeleton.ROOT, :2]
    g[:, 2] += 0.117 - g[[3, 6], 2].min()
    return g


def place_person(pose_ground: np.ndarray, stature_m: float, xy: tuple[float, float], yaw: float) -> np.ndarray:
    """The pose scaled to ``stature_m``, turned by ``yaw`` about z and put at ground position ``xy`` (base frame)."""
    s = stature_m / skeleton.REFERENCE_HEIGHT_M
    p = pose_ground * s
    p = p @ camera.rot_z(yaw).T
    p[:, :2] += np.asarray(xy)
    return p


def mounted(height: float, pitch: float, roll: float = 0.0, yaw: float = 0.0) -> tuple[Mount, MountParams]:
    """A fully known mount (camera at (0, 0, height) in a base frame on the ground)."""
    mp = MountParams(mode="full", z=height, pitch=pitch, roll=roll, yaw=yaw)
    return Mount.from_params(mp), mp


def to_optical(mount: Mount, points_base: np.ndarray) -> np.ndarray:
    """Base-frame points (..., 3) in the mount's optical frame."""
    return (np.asarray(points_base) - mount.translation) @ mount.rotation
