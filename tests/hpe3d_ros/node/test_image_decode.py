"""Image decoding: every supported encoding with row padding, and every kind of bad message."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
from sensor_msgs.msg import CompressedImage, Image

from hpe3d_ros.node.image_decode import ImageDecodeError, UnsupportedEncodingError, decode_compressed, decode_image


def _rgb(h: int = 5, w: int = 7) -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (h, w, 3), dtype=np.uint8)


def _msg(pixels: np.ndarray, encoding: str, pad: int = 0) -> Image:
    h, w = pixels.shape[:2]
    c = 1 if pixels.ndim == 2 else pixels.shape[2]
    rows = pixels.reshape(h, w * c)
    padded = np.concatenate([rows, np.full((h, pad), 77, np.uint8)], axis=1)
    m = Image(height=h, width=w, encoding=encoding, step=w * c + pad)
    m.data = padded.tobytes()
    return m


@pytest.mark.parametrize("pad", [0, 3])
@pytest.mark.parametrize("encoding", ["rgb8", "bgr8", "rgba8", "bgra8"])
def test_colour_encodings_with_padding(encoding: str, pad: int):
    rgb = _rgb()
    alpha = np.full(rgb.shape[:2] + (1,), 200, np.uint8)
    pixels = {
        "rgb8": rgb,
        "bgr8": rgb[:, :, ::-1],
        "rgba8": np.concatenate([rgb, alpha], 2),
        "bgra8": np.concatenate([rgb[:, :, ::-1], alpha], 2),
    }[encoding]
    out = decode_image(_msg(np.ascontiguousarray(pixels), encoding, pad))
    assert out.dtype == np.uint8 and out.flags.c_contiguous
    np.testing.assert_array_equal(out, rgb)


@pytest.mark.parametrize("pad", [0, 1])
def test_mono8(pad: int):
    gray = _rgb()[:, :, 0]
    out = decode_image(_msg(gray, "mono8", pad))
    np.testing.assert_array_equal(out, np.repeat(gray[:, :, None], 3, axis=2))


@pytest.mark.parametrize("encoding", ["yuv422", "16UC1", "bayer_rggb8", "", "rgb16"])
def test_unsupported_encoding_names_it(encoding: str):
    m = _msg(_rgb(), "rgb8")
    m.encoding = encoding
    with pytest.raises(UnsupportedEncodingError, match=repr(encoding).replace("(", r"\(")) as e:
        decode_image(m)
    assert e.value.encoding == encoding


def test_inconsistent_sizes():
    good = _msg(_rgb(), "rgb8")
    short = _msg(_rgb(), "rgb8")
    short.data = bytes(good.data)[:-10]
    with pytest.raises(ImageDecodeError, match="bytes"):
        decode_image(short)
    long = _msg(_rgb(), "rgb8")
    long.data = bytes(good.data) + b"\0" * 50
    with pytest.raises(ImageDecodeError, match="more than"):
        decode_image(long)
    small_step = _msg(_rgb(), "rgb8")
    small_step.step = 7 * 3 - 1
    with pytest.raises(ImageDecodeError, match="step"):
        decode_image(small_step)
    empty = Image(height=0, width=0, encoding="rgb8", step=0)
    with pytest.raises(ImageDecodeError, match="empty"):
        decode_image(empty)


def test_compressed_roundtrip_and_garbage():
    rgb = _rgb(16, 16)
    ok, png = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    assert ok
    m = CompressedImage(format="png")
    m.data = png.tobytes()
    np.testing.assert_array_equal(decode_compressed(m), rgb)
    bad = CompressedImage(format="jpeg")
    bad.data = b"not a jpeg at all"
    with pytest.raises(ImageDecodeError, match="not JPEG or PNG"):
        decode_compressed(bad)
    bad.data = png.tobytes()[:60]  # a PNG cut short
    with pytest.raises(ImageDecodeError, match="could not be decoded"):
        decode_compressed(bad)
    with pytest.raises(ImageDecodeError, match="no data"):
        decode_compressed(CompressedImage(format="jpeg"))
