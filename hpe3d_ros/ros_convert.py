"""Small ROS message helpers: numpy <-> sensor_msgs conversions used when making camera messages
(bags, the demo's camera node), the intrinsics of a received CameraInfo (the node and the replay),
stamps <-> nanoseconds, message classes by type name."""
from __future__ import annotations

import importlib

import numpy as np


def stamp_from_ns(stamp_ns: int):
    """builtin_interfaces/Time from integer nanoseconds."""
    from builtin_interfaces.msg import Time

    return Time(sec=int(stamp_ns // 1_000_000_000), nanosec=int(stamp_ns % 1_000_000_000))


def stamp_to_ns(stamp) -> int:
    """Integer nanoseconds from builtin_interfaces/Time."""
    return int(stamp.sec) * 1_000_000_000 + int(stamp.nanosec)


def message_class(msgtype: str):
    """The rclpy message class of ``pkg/msg/Type``; ImportError or AttributeError when unknown."""
    pkg, _, name = msgtype.split("/")
    return getattr(importlib.import_module(f"{pkg}.msg"), name)


def image_msg(rgb: np.ndarray, stamp_ns: int, frame_id: str):
    """sensor_msgs/Image (rgb8) from an RGB uint8 array (H, W, 3)."""
    from sensor_msgs.msg import Image

    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected an RGB image (H, W, 3), got shape {rgb.shape}")
    msg = Image()
    msg.header.stamp = stamp_from_ns(stamp_ns)
    msg.header.frame_id = frame_id
    msg.height, msg.width = int(rgb.shape[0]), int(rgb.shape[1])
    msg.encoding = "rgb8"
    msg.is_bigendian = 0
    msg.step = int(rgb.shape[1] * 3)
    msg.data = rgb.tobytes()
    return msg


def camera_info_msg(k: np.ndarray, width: int, height: int, stamp_ns: int, frame_id: str, d: np.ndarray | None = None):
    """sensor_msgs/CameraInfo for a pinhole K (no distortion unless ``d`` is given)."""
    from sensor_msgs.msg import CameraInfo

    k = np.asarray(k, dtype=np.float64).reshape(3, 3)
    msg = CameraInfo()
    msg.header.stamp = stamp_from_ns(stamp_ns)
    msg.header.frame_id = frame_id
    msg.width, msg.height = int(width), int(height)
    msg.distortion_model = "plumb_bob"
    msg.d = [float(v) for v in (d if d is not None else np.zeros(5))]
    msg.k = [float(v) for v in k.reshape(-1)]
    msg.r = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
    msg.p = [float(v) for v in np.hstack([k, np.zeros((3, 1))]).reshape(-1)]
    return msg


def camera_info_k(msg) -> np.ndarray:
    """The 3x3 K of a CameraInfo message."""
    return np.asarray(msg.k, dtype=np.float64).reshape(3, 3)


def camera_info_intrinsics(msg, width: int, height: int) -> tuple[np.ndarray | None, str]:
    """K of a CameraInfo for a ``width`` x ``height`` image, or None and why it cannot be used: the
    CameraInfo is for another image size (0x0 included), or K is not a plausible camera for this image
    (``camera.intrinsics_problem``: all zeros = uncalibrated, NaN, absurd focal lengths, principal point
    far outside). The caller then uses the field-of-view fallback and says so."""
    from .camera import intrinsics_problem

    try:
        k = np.asarray(msg.k, dtype=np.float64)
        size = (int(msg.width), int(msg.height))
    except (TypeError, ValueError, OverflowError) as e:
        return None, f"malformed CameraInfo ({type(e).__name__}: {e})"
    if size != (int(width), int(height)):
        return None, f"CameraInfo is for {size[0]}x{size[1]} images but the image is {width}x{height}"
    problem = intrinsics_problem(k, int(width), int(height))
    if problem:
        return None, "CameraInfo K is not usable: " + problem
    return k.reshape(3, 3), ""
