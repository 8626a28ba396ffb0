"""Mocap to 2D: virtual cameras aimed at each pose, pinhole projection, detector-like noise.

``render`` samples one camera per pose with ``hpe3d_ros.camera.sample_cameras`` (aimed at the
pose's root), projects, and resamples the cameras that put a joint behind or too close to the
camera or outside the image. ``detector_noise`` imitates a 2D detector on top of clean projections.
Defaults live in config/cameras.yaml.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml

from hpe3d_ros import camera, paths, skeleton

# Relative jitter per joint (extremities are localised worse by 2D detectors).
_JOINT_JITTER = {
    "left_wrist": 1.5, "right_wrist": 1.5, "left_elbow": 1.2, "right_elbow": 1.2,
    "left_ankle": 1.3, "right_ankle": 1.3, "left_knee": 1.1, "right_knee": 1.1, "head": 1.2,
}
JOINT_JITTER = np.array([_JOINT_JITTER.get(n, 1.0) for n in skeleton.JOINT_NAMES])
# Where a missed joint is placed: its parent's position (the root takes the spine's).
DROP_NEIGHBOUR = np.array([skeleton.JOINT_NAMES.index("spine") if p < 0 else p for p in skeleton.PARENTS])
SIZE_REF_PX = 200.0

_RENDER_DEFAULTS = {"min_depth_m": 0.5, "margin_px": 2.0, "max_tries": 20}
_NOISE_DEFAULTS = {"jitter_px": 3.0, "drop_prob": 0.02}


def default_camera_file() -> Path:
    """config/cameras.yaml of the checkout or the installed share directory."""
    return paths.share_dir() / "config" / "cameras.yaml"


def load_camera_settings(path: str | Path | None = None) -> dict:
    """Read config/cameras.yaml: {'cameras': VirtualCameraConfig, 'render': {...}, 'detector_noise': {...}}."""
    path = Path(path) if path else default_camera_file()
    if not path.is_file():
        raise FileNotFoundError(f"{path}: camera settings file missing")
    try:
        cfg = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as e:
        raise ValueError(f"{path}: not valid YAML ({e})") from e
    unknown = set(cfg) - {"cameras", "render", "detector_noise"}
    if unknown:
        raise ValueError(f"{path}: unknown sections {sorted(unknown)}")
    try:
        cams = camera.VirtualCameraConfig.from_dict(cfg.get("cameras"))
    except (TypeError, ValueError) as e:
        raise ValueError(f"{path}: cameras: {e}") from e
    out = {"cameras": cams}
    for section, defaults in (("render", _RENDER_DEFAULTS), ("detector_noise", _NOISE_DEFAULTS)):
        given = dict(cfg.get(section) or {})
        bad = set(given) - set(defaults)
        if bad:
            raise ValueError(f"{path}: {section}: unknown keys {sorted(bad)}")
        out[section] = {**defaults, **given}
    return out


def default_camera_config() -> camera.VirtualCameraConfig:
    """The default virtual cameras (config/cameras.yaml)."""
    return load_camera_settings()["cameras"]


def _valid(kp: np.ndarray, cam_pts: np.ndarray, size: tuple, min_depth: float, margin: float) -> np.ndarray:
    w, h = size
    in_front = (cam_pts[..., 2] >= min_depth).all(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        inside = (
            (kp[..., 0] >= margin)
            & (kp[..., 0] <= w - 1 - margin)
            & (kp[..., 1] >= margin)
            & (kp[..., 1] <= h - 1 - margin)
        ).all(axis=-1)
    return in_front & inside & np.isfinite(kp).all(axis=(-1, -2))


def render(
    joints_world: np.ndarray,
    config: camera.VirtualCameraConfig | None = None,
    seed: int | None = None,
    min_depth_m: float = _RENDER_DEFAULTS["min_depth_m"],
    margin_px: float = _RENDER_DEFAULTS["margin_px"],
    max_tries: int = _RENDER_DEFAULTS["max_tries"],
) -> dict:
    """Project world poses (N, 16, 3) metres through one sampled camera each.

    Returns float32 arrays: ``keypoints`` (N,16,2) px, ``intrinsics`` (N,3,3), ``joints_cam`` (N,16,3)
    metres in the optical frame, ``elevation`` (N,) rad, ``azimuth`` (N,) rad; and ``view`` (N,) int
    (index into ``config.views``). Deterministic for a given ``seed`` (default ``config.seed``).
    """
    joints_world = np.asarray(joints_world, dtype=np.float64)
    if joints_world.ndim != 3 or joints_world.shape[1:] != (skeleton.NUM_JOINTS, 3):
        raise ValueError(f"joints_world must have shape (N, {skeleton.NUM_JOINTS}, 3), got {joints_world.shape}")
    if not np.all(np.isfinite(joints_world)):
        raise ValueError("joints_world holds NaN or inf")
    config = config or default_camera_config()
    rng = np.random.default_rng(config.seed if seed is None else seed)
    n = joints_world.shape[0]
    out = {
        "keypoints": np.zeros((n, skeleton.NUM_JOINTS, 2)),
        "intrinsics": np.zeros((n, 3, 3)),
        "joints_cam": np.zeros((n, skeleton.NUM_JOINTS, 3)),
        "elevation": np.zeros(n),
        "azimuth": np.zeros(n),
        "view": np.zeros(n, dtype=np.int64),
    }
    todo = np.arange(n)
    for _ in range(max_tries):
        if todo.size == 0:
            break
        pts = joints_world[todo]
        cams = camera.sample_cameras(todo.size, pts[:, skeleton.ROOT], config, rng)
        cam_pts = cams.to_optical(pts)
        with np.errstate(invalid="ignore", divide="ignore"):
            kp = camera.project(cam_pts, cams.intrinsics)
        ok = _valid(kp, cam_pts, config.image_size, min_depth_m, margin_px)
        idx = todo[ok]
        out["keypoints"][idx] = kp[ok]
        out["intrinsics"][idx] = cams.intrinsics[ok]
        out["joints_cam"][idx] = cam_pts[ok]
        out["elevation"][idx] = cams.elevation[ok]
        out["azimuth"][idx] = cams.azimuth[ok]
        out["view"][idx] = cams.view[ok]
        todo = todo[~ok]
    if todo.size:
        raise ValueError(
            f"{todo.size} of {n} poses found no valid camera in {max_tries} tries (first at index {todo[0]}): "
            f"poses larger than the image at distance {config.distance_m} m? widen hfov_deg or distance_m"
        )
    return {k: (v.astype(np.float32) if v.dtype == np.float64 else v) for k, v in out.items()}


def detector_noise(
    keypoints: np.ndarray,
    scores: np.ndarray | None,
    rng: np.random.Generator,
    jitter_px: float = _NOISE_DEFAULTS["jitter_px"],
    drop_prob: float = _NOISE_DEFAULTS["drop_prob"],
    size_ref_px: float = SIZE_REF_PX,
) -> tuple[np.ndarray, np.ndarray]:
    """Imitate a 2D detector: returns (noisy keypoints (N,16,2), scores (N,16)) as float32.

    - Gaussian jitter with sigma ``jitter_px * person_size / size_ref_px`` (person size = the larger
      side of the keypoints' bounding box), times a per-joint factor ``JOINT_JITTER`` (wrists,
      elbows, ankles, knees and head are localised worse).
    - Score of a kept joint: its input score times ``exp(-0.5 * (error / (2 sigma_j))^2)``, so a
      joint that moved more is less confident.
    - With probability ``drop_prob`` a joint is missed: score 0 and the (noisy) position of its
      neighbour ``DROP_NEIGHBOUR`` (its parent; the pelvis takes the spine's).
    """
    kp = np.asarray(keypoints, dtype=np.float64)
    if kp.ndim != 3 or kp.shape[1:] != (skeleton.NUM_JOINTS, 2):
        raise ValueError(f"keypoints must have shape (N, {skeleton.NUM_JOINTS}, 2), got {kp.shape}")
    n = kp.shape[0]
    sc = np.ones((n, skeleton.NUM_JOINTS)) if scores is None else np.asarray(scores, dtype=np.float64)
    if sc.shape != (n, skeleton.NUM_JOINTS):
        raise ValueError(f"scores must have shape ({n}, {skeleton.NUM_JOINTS}), got {sc.shape}")
    if jitter_px < 0 or not 0 <= drop_prob <= 1:
        raise ValueError(f"need jitter_px >= 0 and drop_prob in [0, 1], got {jitter_px}, {drop_prob}")
    size = np.maximum((kp.max(axis=1) - kp.min(axis=1)).max(axis=-1), 1.0)
    sigma = jitter_px * size[:, None] / size_ref_px * JOINT_JITTER[None, :]  # (N, J)
    noise = rng.standard_normal(kp.shape) * sigma[..., None]
    noisy = kp + noise
    err = np.linalg.norm(noise, axis=-1)
    out_scores = sc * np.exp(-0.5 * (err / np.maximum(2.0 * sigma, 1e-9)) ** 2)
    drop = rng.random((n, skeleton.NUM_JOINTS)) < drop_prob
    if drop.any():
        neighbour = noisy[:, DROP_NEIGHBOUR]
        noisy = np.where(drop[..., None], neighbour, noisy)
        out_scores = np.where(drop, 0.0, out_scores)
    return noisy.astype(np.float32), out_scores.astype(np.float32)
