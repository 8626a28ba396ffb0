"""Fuzz: hostile sensor_msgs/Image and CompressedImage fields never make image_decode allocate beyond the
size limit, never raise anything but ImageDecodeError, and every frame it returns is what the fields say.
Regressions of issue 13: the 1x1 mono8 Image with step 0xFFFFFFFF (4.5 GB), an 80-byte PNG whose chunk
length says 0x7FFFFFFF (2.4 GB), a 4.6 KB JPEG whose header says 20000x20000 (2.6 GB), a 16-byte EXR."""
from __future__ import annotations

import json
import struct
import subprocess
import sys
import tracemalloc
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sensor_msgs.msg import CompressedImage

from hpe3d_ros.node.image_decode import (
    ENCODINGS,
    MAX_PIXELS,
    ImageDecodeError,
    decode_compressed,
    decode_raw,
)
from tests.fuzz import fuzz

REPO = Path(__file__).resolve().parents[3]
U32 = st.integers(0, 2**32 - 1)
SIDES = st.one_of(st.integers(0, 64), U32, st.sampled_from([1, 4095, 4096, 4097, 16384, 16385, 2**31, 2**32 - 1]))


def _peak_bytes(fn) -> tuple[object, int]:
    """fn()'s result (or exception) and the peak of Python + numpy allocations while it ran."""
    tracemalloc.start()
    try:
        try:
            out = fn()
        except Exception as e:  # noqa: BLE001 - returned for the caller to check
            out = e
        return out, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@fuzz(400)
@given(encoding=st.one_of(st.sampled_from(sorted(ENCODINGS)), st.text(max_size=50)), width=SIDES, height=SIDES,
       step=st.one_of(U32, st.integers(0, 300)), data=st.binary(max_size=4096))
def test_raw_fields_never_allocate_beyond_the_frame(encoding, width, height, step, data):
    out, peak = _peak_bytes(lambda: decode_raw(encoding, width, height, step, data))
    if isinstance(out, np.ndarray):
        assert out.shape == (height, width, 3) and out.dtype == np.uint8 and width * height <= MAX_PIXELS
        assert peak <= 4 * out.nbytes + (1 << 16)
    else:
        assert isinstance(out, ImageDecodeError), repr(out)
        assert peak <= 1 << 16, f"{peak} bytes allocated to refuse {width}x{height} step {step} ({len(data)} bytes)"


@fuzz(150)
@given(
    enc=st.sampled_from(sorted(ENCODINGS)),
    width=st.integers(1, 40),
    height=st.integers(1, 40),
    pad=st.integers(0, 9),
    last_row_padded=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_valid_raw_frames_decode_exactly(enc, width, height, pad, last_row_padded, seed):
    c = ENCODINGS[enc][0]
    px = np.random.default_rng(seed).integers(0, 256, (height, width, c), dtype=np.uint8)
    rows = np.concatenate([px.reshape(height, width * c), np.full((height, pad), 7, np.uint8)], axis=1).reshape(-1)
    data = rows.tobytes() if last_row_padded else rows[: rows.size - pad].tobytes()
    out = decode_raw(enc, width, height, width * c + pad, data)
    want = {
        "rgb8": px,
        "bgr8": px[..., ::-1],
        "rgba8": px[..., :3],
        "bgra8": px[..., 2::-1],
        "mono8": np.repeat(px, 3, axis=2),
    }[enc]
    np.testing.assert_array_equal(out, want)


def test_the_4_5_gb_image_of_issue_13_is_refused_at_once():
    out, peak = _peak_bytes(lambda: decode_raw("mono8", 1, 1, 0xFFFFFFFF, b"\x01"))
    assert isinstance(out, ImageDecodeError) and out.reason == "step" and peak < 1 << 16


def _png(width: int, height: int) -> bytes:
    ok, buf = cv2.imencode(".png", np.full((height, width, 3), 128, np.uint8))
    return buf.tobytes()


def _jpeg(width: int, height: int) -> bytes:
    ok, buf = cv2.imencode(".jpg", np.full((height, width, 3), 128, np.uint8))
    return buf.tobytes()


def hostile_compressed() -> dict[str, bytes]:
    """The compressed-image regressions of issue 13 and their relatives."""
    ihdr = struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0)
    head = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    big = bytearray(_jpeg(16, 16))
    sof = big.find(b"\xff\xc0")
    big[sof + 5 : sof + 9] = struct.pack(">HH", 20000, 20000)
    wide = bytearray(big)
    wide[sof + 5 : sof + 9] = struct.pack(">HH", 5000, 4000)  # 20 MP: beyond the 8.3 MP limit, below Pillow's own
    png_big = bytearray(_png(8, 8))
    png_big[16:24] = struct.pack(">II", 30000, 30000)
    return {
        "png_chunk_length_0x7fffffff": head + struct.pack(">I", 0x7FFFFFFF) + b"IDAT" + b"\0" * 40,
        "jpeg_header_20000x20000": bytes(big) + b"\0" * 4000,
        "jpeg_header_5000x4000": bytes(wide),
        "png_header_30000x30000": bytes(png_big),
        "exr_16_bytes": b"v/1\x01\x02\x00\x00\x00" + b"\0" * 8,
        "tiff": b"II*\x00" + b"\0" * 60,
        "webp": b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\0" * 20,
        "empty": b"",
        "jpeg_magic_only": b"\xff\xd8\xff",
        "png_magic_only": b"\x89PNG\r\n\x1a\n",
    }


@pytest.mark.parametrize("name", sorted(hostile_compressed()))
def test_hostile_compressed_images_are_decode_errors(name):
    msg = CompressedImage(format="jpeg")
    msg.data = hostile_compressed()[name]
    with pytest.raises(ImageDecodeError) as e:
        decode_compressed(msg)
    assert e.value.reason.startswith(("size", "compressed")), e.value.reason


def test_hostile_compressed_images_stay_within_memory():
    """In a fresh process (Pillow's memory is not traced): decoding every regression case keeps the
    peak resident memory far below what the headers ask for (GBs)."""
    code = (
        "import json, resource, sys\n"
        "from sensor_msgs.msg import CompressedImage\n"
        "from hpe3d_ros.node.image_decode import decode_compressed, ImageDecodeError\n"
        "from tests.hpe3d_ros.node.test_image_decode_fuzz import hostile_compressed\n"
        "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "for name, data in hostile_compressed().items():\n"
        "    m = CompressedImage(format='png'); m.data = data\n"
        "    try: decode_compressed(m)\n"
        "    except ImageDecodeError: pass\n"
        "print(json.dumps({'base_kb': base, 'peak_kb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    r = json.loads(out.stdout.strip().splitlines()[-1])
    assert r["peak_kb"] - r["base_kb"] < 64 * 1024, r


def _mutations(data: bytes, draw) -> bytes:
    b = bytearray(data)
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["flip", "cut", "insert", "u32"]))
        at = draw(st.integers(0, max(len(b) - 1, 0)))
        if kind == "flip" and b:
            b[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "cut":
            b = b[:at]
        elif kind == "insert":
            b[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif len(b) >= at + 4:
            b[at : at + 4] = struct.pack(">I", draw(st.sampled_from([0, 1, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF])))
    return bytes(b)


@fuzz(300)
@given(st.data())
def test_mutated_jpeg_and_png_are_frames_or_decode_errors(data):
    base = data.draw(st.sampled_from([_jpeg(24, 16), _png(24, 16)]))
    msg = CompressedImage(format="jpeg")
    msg.data = _mutations(base, data.draw)
    try:
        out = decode_compressed(msg)
    except ImageDecodeError:
        return
    assert out.dtype == np.uint8 and out.ndim == 3 and out.shape[2] == 3 and out.shape[0] * out.shape[1] <= MAX_PIXELS
