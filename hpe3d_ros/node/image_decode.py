"""sensor_msgs/Image and CompressedImage to an RGB uint8 array, with the checks a camera driver (or an
attacker) can fail.

Supported raw encodings: rgb8, bgr8, rgba8, bgra8, mono8, with any row padding (``step``) up to
``MAX_ROW_PADDING`` bytes. Compressed images: JPEG and PNG only, recognised by their magic bytes (the
``format`` field is free text), decoded by Pillow.

Every allocation is bounded before it happens: a raw image's width, height, step and data length
must agree and stay within ``max_pixels`` before anything is copied (the data is never padded); a
compressed image's size is read from its header and refused beyond ``max_pixels`` before decoding,
and its data is refused beyond ``MAX_COMPRESSED_BYTES``. Anything else, and every exception of the
decoder, raises ``ImageDecodeError`` naming the problem, with a short ``reason`` tag for counting;
the node skips such a frame with a throttled warning.
"""
from __future__ import annotations

import io
import warnings

import numpy as np

# encoding -> (channels, channel order to take for RGB)
ENCODINGS: dict[str, tuple[int, tuple[int, ...]]] = {
    "rgb8": (3, (0, 1, 2)),
    "bgr8": (3, (2, 1, 0)),
    "rgba8": (4, (0, 1, 2)),
    "bgra8": (4, (2, 1, 0)),
    "mono8": (1, (0, 0, 0)),
}
#: Largest width or height accepted.
MAX_SIDE = 16384
#: Default limit on width x height: 3840 x 2160 (4K UHD), so a decoded RGB frame is at most 24 MiB and the
#: decoder's own buffers (Pillow's image, the array) stay within about 50 MiB per message.
MAX_PIXELS = 3840 * 2160
#: Largest padding at the end of a raw image row (bytes); drivers align rows to at most a page.
MAX_ROW_PADDING = 4096
#: Largest compressed image accepted (bytes).
MAX_COMPRESSED_BYTES = 64 * 1024 * 1024
#: Compressed formats accepted: magic bytes -> Pillow format name.
COMPRESSED_FORMATS = {b"\xff\xd8\xff": "JPEG", b"\x89PNG\r\n\x1a\n": "PNG"}


class ImageDecodeError(ValueError):
    """An image message that cannot be turned into an RGB frame; ``reason`` is a short tag for counting."""

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason


class UnsupportedEncodingError(ImageDecodeError):
    """The message's encoding is not one of ``ENCODINGS``."""

    def __init__(self, encoding: str):
        shown = encoding if len(encoding) <= 40 else encoding[:40] + "..."
        # The reason is a counter's name in /diagnostics: printable ASCII only, whatever a sender writes.
        tag = shown if shown.isascii() and shown.isprintable() else "(not printable ASCII)"
        super().__init__(f"unsupported image encoding {shown!r}; supported: {', '.join(ENCODINGS)}",
                         reason=f"encoding:{tag}")
        self.encoding = encoding


def check_size(width: int, height: int, max_pixels: int = MAX_PIXELS, what: str = "image") -> None:
    """Refuse an empty size, a side beyond ``MAX_SIDE`` or more than ``max_pixels`` pixels."""
    if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE):
        raise ImageDecodeError(
            f"{what} size {width}x{height} is empty or beyond {MAX_SIDE} pixels a side", reason="size"
        )
    if width * height > max_pixels:
        raise ImageDecodeError(
            f"{what} size {width}x{height} = {width * height} pixels is beyond the limit of {max_pixels}", reason="size"
        )


def decode_raw(
    encoding: str,
    width: int,
    height: int,
    step: int,
    data: bytes | bytearray | memoryview | np.ndarray,
    max_pixels: int = MAX_PIXELS,
) -> np.ndarray:
    """Raw image fields to a contiguous RGB uint8 (height, width, 3) array.

    The only allocation is the returned array (``width * height * 3`` bytes, checked against
    ``max_pixels`` first): rows are read in place through their ``step``.
    """
    enc = str(encoding).lower()
    if enc not in ENCODINGS:
        raise UnsupportedEncodingError(str(encoding))
    channels, order = ENCODINGS[enc]
    width, height, step = int(width), int(height), int(step)
    check_size(width, height, max_pixels)
    row = width * channels
    if step < row:
        raise ImageDecodeError(f"step {step} is less than width*channels = {row} for {enc}", reason="step")
    if step - row > MAX_ROW_PADDING:
        raise ImageDecodeError(
            f"step {step} pads each row of {row} bytes by {step - row}, more than {MAX_ROW_PADDING}", reason="step"
        )
    buf = np.frombuffer(data, dtype=np.uint8) if not isinstance(data, np.ndarray) else data.reshape(-1).view(np.uint8)
    need = step * (height - 1) + row  # the last row may come without its padding
    if buf.size < need:
        raise ImageDecodeError(
            f"data has {buf.size} bytes but {height} rows of step {step} need at least {need} ({enc} {width}x{height})",
            reason="data_size",
        )
    if buf.size > step * height:
        raise ImageDecodeError(
            f"data has {buf.size} bytes, more than step*height = {step * height}", reason="data_size"
        )
    pixels = np.lib.stride_tricks.as_strided(
        buf, shape=(height, width, channels), strides=(step, channels, 1), writeable=False
    )
    if enc == "rgb8":
        return np.ascontiguousarray(pixels)
    if enc == "mono8":
        return np.ascontiguousarray(np.repeat(pixels, 3, axis=2))
    return np.ascontiguousarray(pixels[:, :, list(order)])


def decode_image(msg, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """sensor_msgs/Image -> RGB uint8 (H, W, 3)."""
    if int(getattr(msg, "is_bigendian", 0)) not in (0, 1):
        raise ImageDecodeError(f"is_bigendian must be 0 or 1, got {msg.is_bigendian}", reason="header")
    return decode_raw(msg.encoding, msg.width, msg.height, msg.step, msg.data, max_pixels)


def compressed_format(data: bytes | memoryview) -> str:
    """'JPEG' or 'PNG' from the magic bytes; ImageDecodeError for anything else (EXR, TIFF, WebP, ...)."""
    head = bytes(data[:8])
    for magic, name in COMPRESSED_FORMATS.items():
        if head.startswith(magic):
            return name
    raise ImageDecodeError(
        f"compressed image data starts with {head.hex()}: not JPEG or PNG (the only compressed formats accepted)",
        reason="compressed_format",
    )


def decode_compressed(msg, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """sensor_msgs/CompressedImage (JPEG or PNG) -> RGB uint8 (H, W, 3).

    The size is read from the header (Pillow opens lazily) and checked before any pixel is decoded.
    """
    from PIL import Image, UnidentifiedImageError

    data = msg.data
    data = data.tobytes() if isinstance(data, np.ndarray) else bytes(data)
    fmt = str(getattr(msg, "format", ""))[:40]
    if not data:
        raise ImageDecodeError(f"compressed image ({fmt!r}) has no data", reason="compressed_empty")
    if len(data) > MAX_COMPRESSED_BYTES:
        raise ImageDecodeError(
            f"compressed image ({fmt!r}) has {len(data)} bytes, more than {MAX_COMPRESSED_BYTES}",
            reason="compressed_size",
        )
    kind = compressed_format(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # Pillow's DecompressionBombWarning and friends become errors
            with Image.open(io.BytesIO(data), formats=[kind]) as im:
                check_size(int(im.size[0]), int(im.size[1]), max_pixels, what=f"{kind} image")
                im.load()
                rgb = im if im.mode == "RGB" else im.convert("RGB")
                out = np.asarray(rgb, dtype=np.uint8)  # read-only, over a copy of Pillow's pixels
                rgb = None
    except ImageDecodeError:
        raise
    except Image.DecompressionBombError as e:  # Pillow's own limit, far above ours, met while reading the header
        raise ImageDecodeError(
            f"{kind} image header declares a size beyond {max_pixels} pixels ({e})", reason="size"
        ) from e
    except Exception as e:  # noqa: BLE001 - whatever the decoder raises on hostile data is a decode error
        if isinstance(e, UnidentifiedImageError):
            e = ValueError(f"Pillow does not read it as {kind}")
        raise ImageDecodeError(
            f"compressed image ({fmt!r}, {kind}, {len(data)} bytes) could not be decoded: {type(e).__name__}: {e}",
            reason="compressed_decode",
        ) from e
    if out.ndim != 3 or out.shape[2] != 3:
        raise ImageDecodeError(f"compressed image ({fmt!r}) decoded to shape {out.shape}", reason="compressed_decode")
    return np.require(out, requirements=["C", "W"])  # a writable copy, made after Pillow's image is freed
