"""The camera model shared by runtime and training: pinhole intrinsics, rotations, virtual cameras.

Frames (REP-103):
- world: x forward, y left, z up (gravity is -z), metres.
- camera optical: z forward, x right, y down.
- upright (gravity-aligned camera frame): the optical frame pitched back by the camera elevation,
  so that its y axis points along gravity and its z axis is horizontal.

Elevation ``e`` is the camera's downward pitch in radians: positive when the camera sits above
the person and looks down (a CCTV view), about 0 for an in-car view.
``p_optical = rot_x(e) @ p_upright`` and ``p_upright = rot_x(e).T @ p_optical``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# Optical frame from a world frame whose camera looks along world +x with no pitch.
OPTICAL_FROM_WORLD = np.array([[0.0, -1.0, 0.0], [0.0, 0.0, -1.0], [1.0, 0.0, 0.0]])


def rot_x(angle: np.ndarray | float) -> np.ndarray:
    """Rotation(s) about x; shape (..., 3, 3)."""
    a = np.asarray(angle, dtype=np.float64)
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([o, z, z], -1), np.stack([z, c, -s], -1), np.stack([z, s, c], -1)], -2)


def rot_y(angle: np.ndarray | float) -> np.ndarray:
    """Rotation(s) about y; shape (..., 3, 3)."""
    a = np.asarray(angle, dtype=np.float64)
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([c, z, s], -1), np.stack([z, o, z], -1), np.stack([-s, z, c], -1)], -2)


def rot_z(angle: np.ndarray | float) -> np.ndarray:
    """Rotation(s) about z; shape (..., 3, 3)."""
    a = np.asarray(angle, dtype=np.float64)
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([c, -s, z], -1), np.stack([s, c, z], -1), np.stack([z, z, o], -1)], -2)


def optical_from_world_rotation(azimuth: np.ndarray | float, elevation: np.ndarray | float) -> np.ndarray:
    """Rotation taking world vectors into the optical frame of a camera that has turned by
    ``azimuth`` about world z and pitched down by ``elevation``."""
    return rot_x(elevation) @ OPTICAL_FROM_WORLD @ rot_z(-np.asarray(azimuth, dtype=np.float64))


def upright_from_optical(points: np.ndarray, elevation: np.ndarray | float) -> np.ndarray:
    """Rotate optical-frame points (..., J, 3) into the gravity-aligned frame given the elevation (...)."""
    r = rot_x(elevation)
    return np.einsum("...ji,...kj->...ki", r, points)  # r.T @ p for each point


def optical_from_upright(points: np.ndarray, elevation: np.ndarray | float) -> np.ndarray:
    """Inverse of ``upright_from_optical``."""
    r = rot_x(elevation)
    return np.einsum("...ij,...kj->...ki", r, points)


def intrinsics_matrix(fx: float, fy: float, cx: float, cy: float) -> np.ndarray:
    """A 3x3 pinhole K."""
    return np.array([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]])


def intrinsics_from_fov(width: int, height: int, hfov_deg: float) -> np.ndarray:
    """K for a centred pinhole camera with a horizontal field of view (square pixels)."""
    if not (1.0 < hfov_deg < 179.0):
        raise ValueError(f"horizontal field of view must be in (1, 179) degrees, got {hfov_deg}")
    f = 0.5 * width / np.tan(np.radians(hfov_deg) / 2.0)
    return intrinsics_matrix(f, f, (width - 1) / 2.0, (height - 1) / 2.0)


#: The horizontal and vertical field of view a pinhole K may give, degrees (outside: not a real camera).
PLAUSIBLE_FOV_DEG = (2.0, 170.0)
#: Largest ratio fx / fy (or fy / fx): pixels are never that far from square.
MAX_PIXEL_ASPECT = 4.0
#: How far outside the image the principal point may lie, as a fraction of the image's width / height.
PRINCIPAL_POINT_MARGIN = 0.25


def fov_deg(k: np.ndarray, width: int, height: int) -> tuple[float, float]:
    """(horizontal, vertical) field of view in degrees of a pinhole K for a ``width`` x ``height`` image."""
    k = np.asarray(k, dtype=np.float64).reshape(3, 3)
    return (float(np.degrees(2.0 * np.arctan2(width / 2.0, k[0, 0]))),
            float(np.degrees(2.0 * np.arctan2(height / 2.0, k[1, 1]))))


def intrinsics_problem(k: np.ndarray, width: int, height: int) -> str:
    """Why K cannot be the pinhole camera of a ``width`` x ``height`` image ('' when it is plausible):
    not finite, not the form [[fx, s, cx], [0, fy, cy], [0, 0, 1]], focal lengths giving a field of view
    outside ``PLAUSIBLE_FOV_DEG``, very non-square pixels, a skew beyond the focal length, or the
    principal point far outside the image. The callers then use the field-of-view fallback."""
    k = np.asarray(k, dtype=np.float64)
    if k.size != 9:
        return f"K has {k.size} values, expected 9"
    k = k.reshape(3, 3)
    if not np.all(np.isfinite(k)):
        return "K holds NaN or inf"
    if not (width > 0 and height > 0):
        return f"the image size {width}x{height} is empty"
    fx, fy, cx, cy = (float(v) for v in (k[0, 0], k[1, 1], k[0, 2], k[1, 2]))
    if not (fx > 0 and fy > 0):
        return f"focal lengths fx = {fx:g}, fy = {fy:g} are not positive (an uncalibrated K is all zeros)"
    if k[1, 0] != 0 or k[2, 0] != 0 or k[2, 1] != 0 or abs(k[2, 2] - 1.0) > 1e-6:
        return (
            f"K is not a pinhole matrix [[fx, s, cx], [0, fy, cy], [0, 0, 1]] (rows 2-3: {k[1:].reshape(-1).tolist()})"
        )
    if abs(k[0, 1]) > 0.1 * fx:
        return f"skew {k[0, 1]:g} is beyond a tenth of the focal length {fx:g}"
    if fx > MAX_PIXEL_ASPECT * fy or fy > MAX_PIXEL_ASPECT * fx:
        return f"fx = {fx:g} and fy = {fy:g} differ by more than {MAX_PIXEL_ASPECT:g}x"
    lo, hi = PLAUSIBLE_FOV_DEG
    hfov, vfov = fov_deg(k, width, height)
    if not (lo <= hfov <= hi and lo <= vfov <= hi):
        return (
            f"focal lengths fx = {fx:g}, fy = {fy:g} give a {hfov:.3g} x {vfov:.3g} degree field of view on a "
            f"{width}x{height} image, outside [{lo:g}, {hi:g}]"
        )
    m = PRINCIPAL_POINT_MARGIN
    if not (-m * width <= cx <= (1 + m) * width and -m * height <= cy <= (1 + m) * height):
        return f"principal point ({cx:g}, {cy:g}) lies far outside the {width}x{height} image"
    return ""


def is_calibrated(k: np.ndarray) -> bool:
    """False for an all-zero, non-finite or degenerate K (what an uncalibrated CameraInfo carries)."""
    k = np.asarray(k, dtype=np.float64).reshape(3, 3)
    return bool(np.all(np.isfinite(k)) and k[0, 0] > 0 and k[1, 1] > 0 and abs(k[2, 2] - 1.0) < 1e-6)


def project(points: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Pinhole projection of optical-frame points (..., J, 3) to pixels (..., J, 2).

    ``k`` is (3, 3) or (..., 3, 3) broadcasting over the leading axes.
    """
    points = np.asarray(points, dtype=np.float64)
    k = np.asarray(k, dtype=np.float64)
    xy = points[..., :2] / points[..., 2:3]
    fx, fy = k[..., 0, 0][..., None], k[..., 1, 1][..., None]
    cx, cy = k[..., 0, 2][..., None], k[..., 1, 2][..., None]
    return np.stack([xy[..., 0] * fx + cx, xy[..., 1] * fy + cy], axis=-1)


def pixels_to_normalized(uv: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Pixels (..., J, 2) to normalised image coordinates x/z, y/z (..., J, 2)."""
    uv = np.asarray(uv, dtype=np.float64)
    k = np.asarray(k, dtype=np.float64)
    fx, fy = k[..., 0, 0][..., None], k[..., 1, 1][..., None]
    cx, cy = k[..., 0, 2][..., None], k[..., 1, 2][..., None]
    return np.stack([(uv[..., 0] - cx) / fx, (uv[..., 1] - cy) / fy], axis=-1)


def normalized_to_pixels(xy: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Inverse of ``pixels_to_normalized``."""
    xy = np.asarray(xy, dtype=np.float64)
    k = np.asarray(k, dtype=np.float64)
    fx, fy = k[..., 0, 0][..., None], k[..., 1, 1][..., None]
    cx, cy = k[..., 0, 2][..., None], k[..., 1, 2][..., None]
    return np.stack([xy[..., 0] * fx + cx, xy[..., 1] * fy + cy], axis=-1)


@dataclass
class VirtualCameraConfig:
    """Virtual cameras for evaluation and for rendering mocap to 2D.

    Elevation comes from a mixture of named views (weights, mean and spread in degrees, clipped to
    [min, max]); azimuth is uniform over the full circle; distance and horizontal field of view
    uniform in their ranges. The default covers an in-car view (~0 deg), a robot view (~15 deg)
    and an elevated CCTV view (up to ~60 deg).
    """

    views: dict = field(
        default_factory=lambda: {
            "in_car": {"weight": 1.0, "mean_deg": 0.0, "std_deg": 5.0},
            "robot": {"weight": 1.0, "mean_deg": 15.0, "std_deg": 8.0},
            "cctv": {"weight": 1.0, "mean_deg": 40.0, "std_deg": 10.0},
        }
    )
    elevation_min_deg: float = -10.0
    elevation_max_deg: float = 60.0
    distance_m: tuple = (3.0, 12.0)
    hfov_deg: tuple = (50.0, 90.0)
    image_size: tuple = (640, 480)
    seed: int = 0

    @classmethod
    def from_dict(cls, d: dict | None) -> "VirtualCameraConfig":
        """Build from a config mapping; unknown keys are an error."""
        d = dict(d or {})
        unknown = set(d) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown virtual camera settings: {sorted(unknown)}")
        for key in ("distance_m", "hfov_deg", "image_size"):
            if key in d:
                d[key] = tuple(d[key])
        return cls(**d)


@dataclass
class VirtualCameras:
    """A batch of sampled cameras: rotations R (N,3,3), translations t (N,3), intrinsics K (N,3,3)."""

    rotation: np.ndarray
    translation: np.ndarray
    intrinsics: np.ndarray
    azimuth: np.ndarray
    elevation: np.ndarray
    view: np.ndarray  # index into the config's views, per camera

    def to_optical(self, world_points: np.ndarray) -> np.ndarray:
        """World points (N,J,3) to each camera's optical frame (N,J,3)."""
        return np.einsum("nij,nkj->nki", self.rotation, world_points) + self.translation[:, None, :]


def sample_cameras(
    n: int, roots_world: np.ndarray, config: VirtualCameraConfig, rng: np.random.Generator
) -> VirtualCameras:
    """Sample ``n`` cameras, each aimed at the matching root position ``roots_world`` (N,3)."""
    names = list(config.views)
    weights = np.array([config.views[v]["weight"] for v in names], dtype=np.float64)
    view = rng.choice(len(names), size=n, p=weights / weights.sum())
    mean = np.radians([config.views[names[v]]["mean_deg"] for v in view])
    std = np.radians([config.views[names[v]]["std_deg"] for v in view])
    elevation = np.clip(
        mean + std * rng.standard_normal(n), np.radians(config.elevation_min_deg), np.radians(config.elevation_max_deg)
    )
    azimuth = rng.uniform(-np.pi, np.pi, n)
    distance = rng.uniform(*config.distance_m, n)
    hfov = rng.uniform(*config.hfov_deg, n)
    w, h = config.image_size
    k = np.stack([intrinsics_from_fov(w, h, f) for f in hfov])
    rotation = optical_from_world_rotation(azimuth, elevation)
    # The root lands on the optical axis at the sampled distance.
    translation = np.stack([np.zeros(n), np.zeros(n), distance], -1) - np.einsum("nij,nj->ni", rotation, roots_world)
    return VirtualCameras(rotation, translation, k, azimuth, elevation, view)


def root_camera_rotation(xy_root: np.ndarray) -> np.ndarray:
    """Rotations (N, 3, 3) from the optical frame to a virtual camera at the same centre whose
    optical axis passes through each person's root (the smallest rotation taking the root's ray
    to +z). The lifters are trained with the root on the optical axis; looking at an off-centre
    person through this virtual camera keeps their perspective consistent with training.
    """
    xy_root = np.asarray(xy_root, dtype=np.float64).reshape(-1, 2)
    ray = np.concatenate([xy_root, np.ones((len(xy_root), 1))], axis=1)
    ray /= np.linalg.norm(ray, axis=1, keepdims=True)
    axis = np.stack([ray[:, 1], -ray[:, 0], np.zeros(len(ray))], axis=1)  # ray x z
    s = np.linalg.norm(axis, axis=1)
    c = ray[:, 2]
    out = np.tile(np.eye(3), (len(ray), 1, 1))
    turn = s > 1e-12
    if turn.any():
        a = axis[turn] / s[turn, None]
        kx = np.zeros((turn.sum(), 3, 3))
        kx[:, 0, 1], kx[:, 0, 2], kx[:, 1, 2] = -a[:, 2], a[:, 1], -a[:, 0]
        kx[:, 1, 0], kx[:, 2, 0], kx[:, 2, 1] = a[:, 2], -a[:, 1], a[:, 0]
        out[turn] = np.eye(3) + s[turn, None, None] * kx + (1 - c[turn])[:, None, None] * (kx @ kx)
    return out


def pixels_to_root_camera(uv: np.ndarray, k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pixels (N, J, 2) to normalised coordinates (N, J, 2) in each person's root-centred virtual
    camera (``root_camera_rotation``), and those rotations (N, 3, 3). The input every lifter sees:
    for a person on the optical axis it equals ``pixels_to_normalized``."""
    from . import skeleton

    xy = pixels_to_normalized(uv, k)
    rot = root_camera_rotation(xy[:, skeleton.ROOT])
    rays = np.concatenate([xy, np.ones(xy.shape[:-1] + (1,))], axis=-1)
    v = np.einsum("nij,nkj->nki", rot, rays)
    return v[..., :2] / v[..., 2:3], rot


def elevation_in_optical(elevation_virtual: np.ndarray, rot: np.ndarray) -> np.ndarray:
    """The camera's elevation (downward pitch about its x axis) from an elevation predicted in a
    root-centred virtual camera: gravity there, rotated back to the optical frame."""
    e = np.asarray(elevation_virtual, dtype=np.float64)
    g_virtual = np.stack([np.zeros_like(e), np.cos(e), np.sin(e)], axis=-1)  # rot_x(e) @ (0, 1, 0)
    g = np.einsum("nji,nj->ni", rot, g_virtual)  # rot.T @ g_virtual
    return np.arctan2(g[:, 2], g[:, 1])
