"""Camera intrinsics from a ROS camera_info YAML file (camera_calibration's format) or a field of view."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml

from .camera import intrinsics_from_fov, is_calibrated


class CalibrationError(ValueError):
    """A calibration file is missing, malformed or holds an unusable K."""


def _matrix(data: dict, key: str, shape: tuple[int, int], where: str) -> np.ndarray:
    entry = data.get(key)
    if not isinstance(entry, dict) or "data" not in entry:
        raise CalibrationError(f"{where}: missing {key}.data")
    values = np.asarray(entry["data"], dtype=np.float64)
    if values.size != shape[0] * shape[1]:
        raise CalibrationError(f"{where}: {key} must have {shape[0] * shape[1]} values, got {values.size}")
    return values.reshape(shape)


def load_camera_info_yaml(path: str | Path) -> dict:
    """Read a camera_info YAML: returns width, height, K (3x3), D, distortion_model, P (3x4)."""
    path = Path(path)
    if not path.is_file():
        raise CalibrationError(f"{path}: no such calibration file")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        raise CalibrationError(f"{path}: not valid YAML ({e})") from e
    if not isinstance(data, dict):
        raise CalibrationError(f"{path}: expected a camera_info mapping, got {type(data).__name__}")
    for key in ("image_width", "image_height", "camera_matrix"):
        if key not in data:
            raise CalibrationError(f"{path}: missing {key!r} (expected ROS camera_info YAML)")
    k = _matrix(data, "camera_matrix", (3, 3), str(path))
    if not is_calibrated(k):
        raise CalibrationError(f"{path}: camera_matrix is not a usable pinhole K: {k.tolist()}")
    d = np.asarray(data.get("distortion_coefficients", {}).get("data", []), dtype=np.float64)
    p = (
        _matrix(data, "projection_matrix", (3, 4), str(path))
        if "projection_matrix" in data
        else np.hstack([k, np.zeros((3, 1))])
    )
    return {
        "width": int(data["image_width"]),
        "height": int(data["image_height"]),
        "K": k,
        "D": d,
        "distortion_model": data.get("distortion_model", "plumb_bob"),
        "P": p,
    }


def intrinsics_for(
    width: int, height: int, hfov_deg: float | None = None, calibration: str | Path | None = None
) -> np.ndarray:
    """K from a calibration file (checked against the image size) or from a horizontal field of view."""
    if calibration is not None:
        cal = load_camera_info_yaml(calibration)
        if (cal["width"], cal["height"]) != (width, height):
            raise CalibrationError(
                f"{calibration}: calibrated for {cal['width']}x{cal['height']} but the images are {width}x{height}"
            )
        return cal["K"]
    if hfov_deg is None:
        raise CalibrationError("no intrinsics: give a calibration file or a horizontal field of view")
    return intrinsics_from_fov(width, height, hfov_deg)
