"""`hpe3d collect`: run the 2D detector over videos and write a 2D pose file for training.

    hpe3d collect --video walk.mp4 [--video more.mp4 ...] --out poses2d.npz \
        (--hfov 70 | --calibration camera.yaml) [--max-people 5] [--stride 1] [--max-frames N]
    hpe3d collect --bag recording/ [--image-topic T] [--info-topic T] --out poses2d.npz [--hfov 70]

A bag's intrinsics come from its CameraInfo topic (the latest calibrated one before each image);
--calibration or --hfov stand in where it has none.

The output follows ``hpe3d_ros.poses_io`` (keypoints, scores, intrinsics per pose, image_size) plus
``frame`` (index in its video), ``stamp_ns``, ``track_id`` (unique over the whole file), ``source``
(the video path) and ``image_sizes`` (per pose, width and height). It is written atomically: all
videos are checked before any work and nothing is written unless every video was read; a video
that decodes only in part is used as far as it goes, with a warning.

Other frame sources (ROS bags) plug in through ``collect_frames``, which takes any iterator of
``(stamp_ns, image_rgb, K)``.
"""
from __future__ import annotations

import argparse
import sys
from contextlib import closing
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from . import poses_io, skeleton

_FIELDS = ("keypoints", "scores", "intrinsics", "frame", "stamp_ns", "track_id", "source", "image_sizes")


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of `hpe3d collect`."""
    p.add_argument("--video", action="append", default=[], metavar="V", help="a video file (repeat for several)")
    p.add_argument(
        "--bag", action="append", default=[], metavar="B", help="a ROS 2 bag, mcap or sqlite3 (repeat for several)"
    )
    p.add_argument("--image-topic", default=None, help="image topic of the bags (default: the only image topic)")
    p.add_argument("--info-topic", default=None, help="CameraInfo topic of the bags (default: the only one)")
    p.add_argument("--out", required=True, help="output 2D pose file (.npz)")
    cam = p.add_mutually_exclusive_group()
    cam.add_argument("--hfov", type=float, metavar="DEG", help="horizontal field of view of the camera, degrees")
    cam.add_argument("--calibration", metavar="FILE.yaml", help="ROS camera_info YAML of the camera")
    p.add_argument(
        "--detector", default=None, metavar="KIND",
        help="2D detector kind (hpe3d_ros.detection.registry: nanodet, mediapipe; default: the registry's default)",
    )
    p.add_argument("--max-people", type=int, default=5, help="most people per frame (default 5)")
    p.add_argument(
        "--detect-every",
        type=int,
        default=1,
        help="person-detector period in frames (default 1: offline, finding more people beats speed)",
    )
    p.add_argument(
        "--min-detection-confidence", type=float, default=None, help="person detector threshold (detector default)"
    )
    p.add_argument("--stride", type=int, default=1, help="use every Nth frame (default 1)")
    p.add_argument("--max-frames", type=int, default=None, help="at most this many frames per video")


def collect_frames(frames: Iterable[tuple[int, np.ndarray, np.ndarray]], detector, source: str) -> dict[str, list]:
    """Run ``detector`` over ``(stamp_ns, image_rgb, K)`` frames of one stream; one row per person per frame.

    Returns lists keyed like the output file (``keypoints``, ``scores``, ``intrinsics``, ``frame``,
    ``stamp_ns``, ``track_id``, ``source``, ``image_sizes``). The detector is reset first, so tracks
    do not carry over from another stream (ids keep counting up).
    """
    rows: dict[str, list] = {k: [] for k in _FIELDS}
    detector.reset()
    for index, (stamp_ns, image, k) in enumerate(frames):
        k = np.asarray(k, dtype=np.float64).reshape(3, 3)
        h, w = image.shape[:2]
        for person in detector.detect(image):
            rows["keypoints"].append(np.asarray(person.keypoints, dtype=np.float64))
            rows["scores"].append(np.asarray(person.scores, dtype=np.float64))
            rows["intrinsics"].append(k)
            rows["frame"].append(index)
            rows["stamp_ns"].append(int(stamp_ns))
            rows["track_id"].append(int(person.track_id))
            rows["source"].append(str(source))
            rows["image_sizes"].append((w, h))
    return rows


def video_frames(
    path: str | Path, k: np.ndarray, stride: int = 1, max_frames: int | None = None
) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """``(stamp_ns, image_rgb, K)`` from a video file (stamps from its frame rate)."""
    from .video import open_video, read_frames

    cap, info = open_video(path)
    cap.release()
    used = 0
    for index, rgb in read_frames(path):
        if index % stride:
            continue
        if max_frames is not None and used >= max_frames:
            break
        used += 1
        yield int(round(index / info.fps * 1e9)), rgb, k


def bag_frames(
    path: str | Path,
    image_topic: str | None,
    info_topic: str | None,
    fallback_k,
    stride: int = 1,
    max_frames: int | None = None,
) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """``(stamp_ns, image_rgb, K)`` from a bag's image topic; K from the latest CameraInfo before the
    image that is usable for it (``ros_convert.camera_info_intrinsics``: calibrated, plausible, same
    size), else ``fallback_k(width, height)`` (which raises when there is no fallback)."""
    from .node.image_decode import decode_compressed, decode_image
    from .replay.bag_io import InputBag, deserialize
    from .ros_convert import camera_info_intrinsics, stamp_to_ns

    with InputBag(path) as bag:
        image = bag_image_topic(bag, image_topic)
        infos = (
            [t for t, ty in bag.topics.items() if ty == "sensor_msgs/msg/CameraInfo"]
            if info_topic is None
            else [info_topic]
        )
        info = None
        good: dict[tuple[int, int], np.ndarray] = {}  # image size -> the last K usable for it
        index = used = 0
        for raw in bag.messages([image] + infos[:1]):
            msg = deserialize(raw)
            if raw.msgtype == "sensor_msgs/msg/CameraInfo":
                info = msg
                continue
            index += 1
            if (index - 1) % stride:
                continue
            if max_frames is not None and used >= max_frames:
                break
            rgb = decode_compressed(msg) if raw.msgtype.endswith("CompressedImage") else decode_image(msg)
            size = (rgb.shape[1], rgb.shape[0])
            k = None if info is None else camera_info_intrinsics(info, *size)[0]
            if k is not None:
                good[size] = k
            k = good.get(size)
            k = k if k is not None else fallback_k(*size)
            used += 1
            yield stamp_to_ns(msg.header.stamp), rgb, k


def bag_image_topic(bag, image_topic: str | None) -> str:
    """The image topic to read: the one given (checked), or the bag's only image topic."""
    from .replay.bag_io import IMAGE_TYPES

    if image_topic is not None:
        bag.require_topic(image_topic, IMAGE_TYPES)
        return image_topic
    images = [t for t, ty in bag.topics.items() if ty in IMAGE_TYPES]
    if len(images) != 1:
        raise ValueError(f"{bag.path}: give --image-topic; image topics in the bag: {images or 'none'}")
    return images[0]


class _progress:
    """Wraps a frame iterator: counts frames and shows a progress bar on a terminal."""

    def __init__(self, frames: Iterator, total: int | None, label: str):
        self._frames, self.count = frames, 0
        self._bar = None
        if sys.stderr.isatty():
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=Path(label).name, unit="frame", file=sys.stderr)

    def __iter__(self):
        try:
            for item in self._frames:
                self.count += 1
                if self._bar is not None:
                    self._bar.update(1)
                yield item
        finally:
            if self._bar is not None:
                self._bar.close()


def to_arrays(rows: dict[str, list]) -> dict[str, np.ndarray]:
    """Stack collected rows into the arrays of the 2D pose file."""
    n = len(rows["keypoints"])
    j = skeleton.NUM_JOINTS
    out = {
        "keypoints": np.asarray(rows["keypoints"], dtype=np.float32).reshape(n, j, 2),
        "scores": np.asarray(rows["scores"], dtype=np.float32).reshape(n, j),
        "intrinsics": np.asarray(rows["intrinsics"], dtype=np.float64).reshape(n, 3, 3),
        "frame": np.asarray(rows["frame"], dtype=np.int64),
        "stamp_ns": np.asarray(rows["stamp_ns"], dtype=np.int64),
        "track_id": np.asarray(rows["track_id"], dtype=np.int64),
        "source": np.asarray(rows["source"], dtype=str),
        "image_sizes": np.asarray(rows["image_sizes"], dtype=np.int64).reshape(n, 2),
    }
    sizes = np.unique(out["image_sizes"], axis=0)
    if len(sizes) == 1:
        out["image_size"] = sizes[0]
    return out


def run(args: argparse.Namespace) -> int:
    """Check every input, run the detector over each video, write the file atomically."""
    from .calibration import intrinsics_for, load_camera_info_yaml
    from .detection import make_detector
    from .video import VideoError, open_video

    if not args.video and not args.bag:
        raise ValueError("give at least one --video or --bag")
    if args.video and args.hfov is None and args.calibration is None:
        raise ValueError("videos need the camera: give --hfov DEG or --calibration FILE.yaml")
    if args.stride < 1:
        raise ValueError(f"--stride must be >= 1, got {args.stride}")
    if args.max_frames is not None and args.max_frames < 1:
        raise ValueError(f"--max-frames must be >= 1, got {args.max_frames}")
    out = Path(args.out)
    if out.suffix != ".npz":
        raise ValueError(f"--out {out}: the 2D pose file must end in .npz")
    # Check every video and the camera first: nothing runs (or is written) on bad input.
    plans = []
    for v in args.video:
        try:
            cap, info = open_video(v)
        except VideoError as e:
            raise ValueError(str(e)) from e
        cap.release()
        k = intrinsics_for(info.width, info.height, hfov_deg=args.hfov, calibration=args.calibration)
        plans.append((v, k, info))

    for b in args.bag:  # every bag opens and has its image topic before any work starts
        from .replay.bag_io import InputBag

        with InputBag(b) as bag:
            bag_image_topic(bag, args.image_topic)
    if args.calibration is not None:
        d = load_camera_info_yaml(args.calibration)["D"]
        if d.size and np.abs(d).max() > 1e-3:
            print(
                f"hpe3d collect: warning: {args.calibration}: distortion coefficients are ignored (as by lift_node); "
                "keypoints are written in the raw image: use rectified video for a lens with visible distortion",
                file=sys.stderr,
            )
    params = {"max_people": args.max_people} | ({"kind": args.detector} if args.detector else {})
    params["detect_every_n_frames"] = args.detect_every
    if args.min_detection_confidence is not None:
        params["min_detection_confidence"] = args.min_detection_confidence
    rows: dict[str, list] = {k: [] for k in _FIELDS}
    with closing(make_detector(params)) as detector:
        for v, k, info in plans:
            expected = -(-info.frame_count // args.stride) if info.frame_count > 0 else None
            if expected is not None and args.max_frames is not None:
                expected = min(expected, args.max_frames)
            frames = _progress(video_frames(v, k, args.stride, args.max_frames), expected, str(v))
            try:
                got = collect_frames(frames, detector, str(v))
            except VideoError as e:
                raise ValueError(str(e)) from e
            if expected is not None and frames.count < 0.9 * expected:
                print(
                    f"hpe3d collect: warning: {v}: decoded {frames.count} of {expected} expected frames "
                    "(truncated or partly undecodable video)",
                    file=sys.stderr,
                )
            frames_with_people = len(set(got["frame"]))
            print(
                f"hpe3d collect: {v}: {len(got['keypoints'])} poses of {len(set(got['track_id']))} tracks "
                f"in {frames_with_people} frames ({info.width}x{info.height})",
                file=sys.stderr,
            )
            for key in _FIELDS:
                rows[key].extend(got[key])
        for b in args.bag:

            def fallback_k(w: int, h: int, b=b):
                if args.hfov is None and args.calibration is None:
                    raise ValueError(f"{b}: no calibrated CameraInfo before an image: give --hfov or --calibration")
                return intrinsics_for(w, h, hfov_deg=args.hfov, calibration=args.calibration)

            got = collect_frames(
                bag_frames(b, args.image_topic, args.info_topic, fallback_k, args.stride, args.max_frames),
                detector,
                str(b),
            )
            print(
                f"hpe3d collect: {b}: {len(got['keypoints'])} poses of {len(set(got['track_id']))} tracks",
                file=sys.stderr,
            )
            for key in _FIELDS:
                rows[key].extend(got[key])
    if not rows["keypoints"]:
        raise ValueError(
            f"no people detected in {', '.join(map(str, args.video + args.bag))}: nothing written to {out}"
        )
    arrays = to_arrays(rows)
    poses_io.save_poses2d(out, **arrays)
    print(f"hpe3d collect: wrote {len(arrays['keypoints'])} poses to {out}", file=sys.stderr)
    return 0
