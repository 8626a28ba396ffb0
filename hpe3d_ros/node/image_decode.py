"""sensor_msgs/Image and CompressedImage to an RGB uint8 array, with the checks a camera driver can fail.

Supported raw encodings: rgb8, bgr8, rgba8, bgra8, mono8, with any row padding (``step``).
Anything else, or sizes that do not add up, raises ``ImageDecodeError`` naming the problem; the
node skips such a frame with a throttled warning.
"""
from __future__ import annotations

import numpy as np

# encoding -> (channels, channel order to take for RGB)
ENCODINGS: dict[str, tuple[int, tuple[int, ...]]] = {
    "rgb8": (3, (0, 1, 2)),
    "bgr8": (3, (2, 1, 0)),
    "rgba8": (4, (0, 1, 2)),
    "bgra8": (4, (2, 1, 0)),
    "mono8": (1, (0, 0, 0)),
}
MAX_SIDE = 16384


class ImageDecodeError(ValueError):
    """An image message that cannot be turned into an RGB frame; ``reason`` is a short tag for counting."""

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason


class UnsupportedEncodingError(ImageDecodeError):
    """The message's encoding is not one of ``ENCODINGS``."""

    def __init__(self, encoding: str):
        super().__init__(
            f"unsupported image encoding {encoding!r}; supported: {', '.join(ENCODINGS)}", reason=f"encoding:{encoding}"
        )
        self.encoding = encoding


def decode_raw(
    encoding: str, width: int, height: int, step: int, data: bytes | bytearray | memoryview | np.ndarray
) -> np.ndarray:
    """Raw image fields to a contiguous RGB uint8 (height, width, 3) array."""
    enc = str(encoding).lower()
    if enc not in ENCODINGS:
        raise UnsupportedEncodingError(str(encoding))
    channels, order = ENCODINGS[enc]
    width, height, step = int(width), int(height), int(step)
    if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE):
        raise ImageDecodeError(f"image size {width}x{height} is empty or beyond {MAX_SIDE} pixels", reason="size")
    row = width * channels
    if step < row:
        raise ImageDecodeError(f"step {step} is less than width*channels = {row} for {enc}", reason="step")
    buf = np.frombuffer(data, dtype=np.uint8) if not isinstance(data, np.ndarray) else data.reshape(-1).view(np.uint8)
    need = step * (height - 1) + row
    if buf.size < need:
        raise ImageDecodeError(
            f"data has {buf.size} bytes but {height} rows of step {step} need at least {need} ({enc} {width}x{height})",
            reason="size",
        )
    if buf.size > step * height:
        raise ImageDecodeError(f"data has {buf.size} bytes, more than step*height = {step * height}", reason="size")
    if buf.size < step * height:  # a last row without its padding: tolerate by padding a copy
        buf = np.concatenate([buf, np.zeros(step * height - buf.size, dtype=np.uint8)])
    pixels = buf.reshape(height, step)[:, :row].reshape(height, width, channels)
    if enc == "rgb8":
        return np.ascontiguousarray(pixels)
    if enc == "mono8":
        return np.ascontiguousarray(np.repeat(pixels, 3, axis=2))
    return np.ascontiguousarray(pixels[:, :, list(order)])


def decode_image(msg) -> np.ndarray:
    """sensor_msgs/Image -> RGB uint8 (H, W, 3)."""
    if int(getattr(msg, "is_bigendian", 0)) not in (0, 1):
        raise ImageDecodeError(f"is_bigendian must be 0 or 1, got {msg.is_bigendian}", reason="header")
    return decode_raw(msg.encoding, msg.width, msg.height, msg.step, msg.data)


def decode_compressed(msg) -> np.ndarray:
    """sensor_msgs/CompressedImage (jpeg, png, ...) -> RGB uint8 (H, W, 3) via cv2.imdecode."""
    import cv2

    buf = (
        np.frombuffer(msg.data, dtype=np.uint8)
        if not isinstance(msg.data, np.ndarray)
        else np.asarray(msg.data, dtype=np.uint8)
    )
    if buf.size == 0:
        raise ImageDecodeError(f"compressed image ({msg.format!r}) has no data", reason="compressed")
    bgr = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    if bgr is None:
        raise ImageDecodeError(
            f"compressed image ({msg.format!r}, {buf.size} bytes) could not be decoded", reason="compressed"
        )
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
