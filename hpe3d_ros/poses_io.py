"""The 2D pose file format (.npz) read by `hpe3d lift` and training, written by `hpe3d collect`.

Keys:
- ``keypoints`` (N, J, 2) float, pixels, joint order of ``skeleton.JOINT_NAMES`` (required)
- ``scores`` (N, J) float in [0, 1], per-joint confidence (optional; 1 when absent)
- ``intrinsics`` (3, 3) or (N, 3, 3) float pinhole K (optional; then ``image_size`` and a field of view are needed)
- ``image_size`` (2,) int width, height (optional)
- anything else (frame index, track id, ``joints3d`` ground truth, ...) is carried along.

Writes are atomic: a file either appears whole or not at all.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from . import skeleton
from .atomic import atomic_path


class PoseFileError(ValueError):
    """A pose file is missing, unreadable or holds arrays of the wrong shape or with NaNs."""


def validate_poses2d(data: dict, where: str) -> dict:
    """Check shapes and values; return the dict with defaults filled in. Raises PoseFileError."""
    if "keypoints" not in data:
        raise PoseFileError(f"{where}: no 'keypoints' array (keys: {sorted(data)})")
    kp = np.asarray(data["keypoints"], dtype=np.float64)
    j = skeleton.NUM_JOINTS
    if kp.ndim != 3 or kp.shape[1:] != (j, 2):
        raise PoseFileError(f"{where}: 'keypoints' must have shape (N, {j}, 2), got {kp.shape}")
    bad = ~np.isfinite(kp)
    if bad.any():
        frames = np.unique(np.nonzero(bad)[0])
        raise PoseFileError(
            f"{where}: 'keypoints' holds NaN or inf in {len(frames)} pose(s), first at index {frames[0]}"
        )
    out = dict(data)
    out["keypoints"] = kp
    n = kp.shape[0]
    if "scores" in data and data["scores"] is not None:
        sc = np.asarray(data["scores"], dtype=np.float64)
        if sc.shape != (n, j):
            raise PoseFileError(f"{where}: 'scores' must have shape ({n}, {j}), got {sc.shape}")
        if not np.all(np.isfinite(sc)):
            raise PoseFileError(f"{where}: 'scores' holds NaN or inf")
        out["scores"] = sc
    else:
        out["scores"] = np.ones((n, j))
    if "intrinsics" in data and data["intrinsics"] is not None:
        k = np.asarray(data["intrinsics"], dtype=np.float64)
        if k.shape not in ((3, 3), (n, 3, 3)):
            raise PoseFileError(f"{where}: 'intrinsics' must have shape (3, 3) or ({n}, 3, 3), got {k.shape}")
        if not np.all(np.isfinite(k)) or np.any(k[..., 0, 0] <= 0) or np.any(k[..., 1, 1] <= 0):
            raise PoseFileError(f"{where}: 'intrinsics' must be finite with positive focal lengths")
        out["intrinsics"] = k
    if "image_size" in data and data["image_size"] is not None:
        size = np.asarray(data["image_size"]).reshape(-1)
        if size.shape != (2,) or np.any(size <= 0):
            raise PoseFileError(f"{where}: 'image_size' must be (width, height), got {size}")
        out["image_size"] = size.astype(np.int64)
    return out


def load_poses2d(path: str | Path) -> dict:
    """Read and validate a 2D pose file."""
    path = Path(path)
    if not path.is_file():
        raise PoseFileError(f"{path}: no such file")
    try:
        with np.load(path, allow_pickle=False) as f:
            data = {k: f[k] for k in f.files}
    except Exception as e:  # zipfile, pickle and format errors all mean the same to a user
        raise PoseFileError(f"{path}: not a readable .npz file ({type(e).__name__}: {e})") from e
    return validate_poses2d(data, str(path))


def save_npz_atomic(path: str | Path, **arrays: np.ndarray) -> Path:
    """Write arrays to ``path`` (.npz, compressed) through a temporary file and a rename."""
    path = Path(path)
    with atomic_path(path, suffix=".tmp.npz") as tmp:
        np.savez_compressed(tmp, **arrays)
    return path


def save_poses2d(path: str | Path, keypoints: np.ndarray, **extra: np.ndarray) -> Path:
    """Validate and atomically write a 2D pose file."""
    data = validate_poses2d({"keypoints": keypoints, **extra}, str(path))
    return save_npz_atomic(path, **{k: np.asarray(v) for k, v in data.items() if v is not None})
