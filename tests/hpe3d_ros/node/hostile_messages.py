"""Hostile sensor_msgs/Image, CompressedImage and CameraInfo messages, as an attacker or a broken driver
would send them: fields that lie about sizes, headers that ask for gigabytes, formats nobody decodes,
garbage camera models, odd stamps and frame ids. Used by the node's hostile-input tests and by
benchmarks/hostile_messages.py. Every generator is deterministic for a given ``random.Random``."""
from __future__ import annotations

import random
import struct
import zlib
from typing import Callable

import numpy as np

U32 = 2**32 - 1


def _bytes(rng: random.Random, n: int) -> bytes:
    return rng.randbytes(n)


def _image(**fields):
    from sensor_msgs.msg import Image

    data = fields.pop("data", b"")
    m = Image(**fields)
    m.data = data
    return m


def _odd_header(rng: random.Random, m) -> None:
    """Stamps of zero, far in the past or future, nanoseconds out of range; frame ids long or odd."""
    kind = rng.randrange(6)
    if kind == 0:
        m.header.stamp.sec, m.header.stamp.nanosec = 0, 0
    elif kind == 1:
        m.header.stamp.sec, m.header.stamp.nanosec = 2**31 - 1, 999_999_999
    elif kind == 2:
        m.header.stamp.sec, m.header.stamp.nanosec = -(2**31), 0
    elif kind == 3:
        m.header.stamp.sec, m.header.stamp.nanosec = rng.randrange(2**31), U32
    if rng.random() < 0.3:
        m.header.frame_id = rng.choice(["", "/", "x" * 10_000, "ü\u202e\u0000name", "../../etc"])


def raw_images() -> dict[str, Callable[[random.Random], object]]:
    """Kind -> a maker of one hostile sensor_msgs/Image."""
    encs = ["rgb8", "bgr8", "rgba8", "bgra8", "mono8"]

    def step_lie(rng):  # noqa: ARG001 - issue 13: 1x1 mono8, step 0xFFFFFFFF, one byte: 4.5 GB before
        return _image(height=1, width=1, encoding="mono8", step=0xFFFFFFFF, data=b"\x01")

    def huge_sizes_tiny_data(rng):
        return _image(height=rng.choice([rng.randrange(U32), 16385, 100_000, 65535]),
                      width=rng.choice([rng.randrange(U32), 16384, 4097]), encoding=rng.choice(encs),
                      step=rng.randrange(U32), data=_bytes(rng, rng.randrange(64)))

    def over_the_pixel_limit(rng):  # sizes that agree with each other, but 4096 x 4097 pixels > the limit
        return _image(height=4097, width=4096, encoding="mono8", step=4096, data=_bytes(rng, rng.randrange(256)))

    def zero_size(rng):
        return _image(height=rng.choice([0, 1]), width=0, encoding="rgb8", step=0, data=b"")

    def step_short(rng):
        w, h = rng.randrange(1, 64), rng.randrange(1, 64)
        return _image(
            height=h, width=w, encoding="rgb8", step=w * 3 - rng.randrange(1, w * 3 + 1), data=_bytes(rng, w * h * 3)
        )

    def data_wrong_length(rng):
        w, h = rng.randrange(1, 64), rng.randrange(1, 64)
        n = w * h * 3 + rng.choice([-1, 1, -w * 3, 10_000])
        return _image(height=h, width=w, encoding="rgb8", step=w * 3, data=_bytes(rng, max(0, n)))

    def bad_encoding(rng):
        enc = rng.choice(
            [
                "16UC1",
                "yuv422",
                "bayer_rggb8",
                "32FC1",
                "rgb16",
                "",
                "RGB8 ",
                "x" * 5000,
                "".join(chr(rng.randrange(32, 0x2FFF)) for _ in range(rng.randrange(1, 40))),
            ]
        )
        return _image(height=8, width=8, encoding=enc, step=24, data=_bytes(rng, 192))

    def bad_endianness(rng):
        return _image(
            height=8, width=8, encoding="rgb8", step=24, is_bigendian=rng.randrange(2, 256), data=_bytes(rng, 192)
        )

    def noise_with_odd_header(rng):  # decodable: reaches the detector and, with odd stamps, the statistics
        w, h = rng.randrange(8, 160), rng.randrange(8, 120)
        enc = rng.choice(encs)
        c = {"rgb8": 3, "bgr8": 3, "rgba8": 4, "bgra8": 4, "mono8": 1}[enc]
        m = _image(height=h, width=w, encoding=enc, step=w * c, data=_bytes(rng, w * h * c))
        _odd_header(rng, m)
        return m

    return {
        f.__name__: f
        for f in (
            step_lie,
            huge_sizes_tiny_data,
            over_the_pixel_limit,
            zero_size,
            step_short,
            data_wrong_length,
            bad_encoding,
            bad_endianness,
            noise_with_odd_header,
        )
    }


def _png(rgb: np.ndarray) -> bytes:
    import cv2

    return cv2.imencode(".png", rgb)[1].tobytes()


def _jpeg(rgb: np.ndarray) -> bytes:
    import cv2

    return cv2.imencode(".jpg", rgb)[1].tobytes()


def _with_size(jpeg: bytes, width: int, height: int) -> bytes:
    b = bytearray(jpeg)
    sof = b.find(b"\xff\xc0")
    b[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(b)


def compressed_images() -> dict[str, Callable[[random.Random], object]]:
    """Kind -> a maker of one hostile sensor_msgs/CompressedImage."""
    from sensor_msgs.msg import CompressedImage

    small = np.full((16, 16, 3), 90, np.uint8)
    jpeg, png = _jpeg(small), _png(small)

    def msg(data: bytes, fmt: str = "jpeg"):
        m = CompressedImage(format=fmt)
        m.data = data
        return m

    def png_chunk_bomb(rng):  # issue 13: an 80-byte PNG whose chunk length says 0x7FFFFFFF: 2.4 GB before
        ihdr = struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0)
        head = (
            b"\x89PNG\r\n\x1a\n"
            + struct.pack(">I", 13)
            + b"IHDR"
            + ihdr
            + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
        )
        return msg(head + struct.pack(">I", 0x7FFFFFFF) + b"IDAT" + _bytes(rng, 40), "png")

    def jpeg_header_20000(rng):  # issue 13: a 4.6 KB JPEG whose header says 20000x20000: 2.6 GB and decoded before
        return msg(_with_size(jpeg, 20000, 20000) + _bytes(rng, 4000))

    def jpeg_header_over_limit(rng):
        return msg(_with_size(jpeg, rng.choice([4097, 5000, 8000]), rng.choice([4097, 4000, 6000])))

    def png_header_huge(rng):
        b = bytearray(png)
        b[16:24] = struct.pack(">II", rng.choice([30000, 65535, 2**31 - 1]), rng.choice([30000, 65535]))
        return msg(bytes(b), "png")

    def foreign_format(rng):  # EXR (issue 13: a cv2.error), TIFF, WebP, BMP, GIF, HDR headers
        head = rng.choice(
            [
                b"v/1\x01\x02\x00\x00\x00",
                b"II*\x00",
                b"MM\x00*",
                b"RIFF\x10\x00\x00\x00WEBPVP8 ",
                b"BM",
                b"GIF89a",
                b"#?RADIANCE\n",
            ]
        )
        return msg(head + _bytes(rng, rng.randrange(8, 200)), rng.choice(["exr", "tiff", "png", "jpeg"]))

    def random_bytes(rng):
        return msg(_bytes(rng, rng.randrange(0, 2000)), rng.choice(["jpeg", "png", "", "x" * 3000]))

    def mutated(rng):
        b = bytearray(rng.choice([jpeg, png]))
        for _ in range(rng.randrange(1, 10)):
            i = rng.randrange(len(b))
            op = rng.randrange(3)
            if op == 0:
                b[i] ^= 1 << rng.randrange(8)
            elif op == 1:
                b = b[:i]
            elif len(b) > i + 4:
                b[i : i + 4] = struct.pack(">I", rng.choice([0, 0xFFFF, 0x7FFFFFFF, U32]))
            if not b:
                break
        return msg(bytes(b))

    def noise_with_odd_header(rng):  # decodable
        rgb = np.frombuffer(_bytes(rng, 48 * 64 * 3), np.uint8).reshape(48, 64, 3)
        m = msg(rng.choice([_jpeg, _png])(rgb))
        _odd_header(rng, m)
        return m

    return {
        f.__name__: f
        for f in (
            png_chunk_bomb,
            jpeg_header_20000,
            jpeg_header_over_limit,
            png_header_huge,
            foreign_format,
            random_bytes,
            mutated,
            noise_with_odd_header,
        )
    }


def camera_infos() -> dict[str, Callable[[random.Random], object]]:
    """Kind -> a maker of one hostile sensor_msgs/CameraInfo (for images of any size)."""
    from sensor_msgs.msg import CameraInfo

    def info(k, width=640, height=480, **extra):
        m = CameraInfo(width=width, height=height)
        m.k = [float(v) for v in np.asarray(k, dtype=np.float64).reshape(9)]
        for name, value in extra.items():
            setattr(m, name, value)
        return m

    def tiny_focal(rng):  # noqa: ARG001 - issue 13: 5e-324 passed the check and every skeleton came out NaN
        return info([5e-324, 0, 320, 0, 5e-324, 240, 0, 0, 1])

    def huge_focal(rng):  # noqa: ARG001 - issue 13: people at 0.3 m instead of 2.7 m
        return info([1e308, 0, 320, 0, 1e308, 240, 0, 0, 1])

    def far_principal_point(rng):
        return info([500, 0, rng.choice([1e9, -1e9, 1e5]), 0, 500, 240, 0, 0, 1])

    def zero_size(rng):  # noqa: ARG001 - every maker takes the generator
        return info([500, 0, 320, 0, 500, 240, 0, 0, 1], width=0, height=0)

    def huge_size(rng):  # noqa: ARG001 - every maker takes the generator
        return info([500, 0, 320, 0, 500, 240, 0, 0, 1], width=U32, height=U32)

    def not_finite(rng):
        k = [500, 0, 320, 0, 500, 240, 0, 0, 1]
        k[rng.randrange(9)] = rng.choice([float("nan"), float("inf"), -float("inf")])
        return info(k)

    def garbage_k(rng):
        return info(
            [rng.uniform(-1e6, 1e6) for _ in range(9)], width=rng.randrange(0, 5000), height=rng.randrange(0, 5000)
        )

    def long_fields(rng):  # a long distortion vector and model name: memory, not meaning
        return info(
            [500, 0, 320, 0, 500, 240, 0, 0, 1], d=[rng.random() for _ in range(20_000)], distortion_model="x" * 20_000
        )

    return {
        f.__name__: f
        for f in (tiny_focal, huge_focal, far_principal_point, zero_size, huge_size, not_finite, garbage_k, long_fields)
    }
