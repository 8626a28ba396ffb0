"""`hpe3d make-bag`: a video file to a ROS 2 bag of sensor_msgs/Image and CameraInfo."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..calibration import intrinsics_for
from ..ros_convert import camera_info_msg, image_msg
from ..video import open_video, read_frames
from .bag_io import OutputBag

DEFAULT_START_NS = 1_700_000_000_000_000_000  # a fixed start time: the same video gives the same bag


def make_bag(
    video: str | Path,
    out: str | Path,
    *,
    hfov_deg: float | None = 70.0,
    calibration: str | Path | None = None,
    image_topic: str = "/camera/image_raw",
    info_topic: str = "/camera/camera_info",
    frame_id: str = "camera_optical_frame",
    storage: str = "mcap",
    max_frames: int | None = None,
    fps: float | None = None,
    jpeg_quality: int | None = None,
) -> dict:
    """Write one Image and one CameraInfo per frame, stamped at the video's frame rate; with
    ``jpeg_quality`` a sensor_msgs/CompressedImage (jpeg) on ``<image_topic>/compressed`` instead."""
    if jpeg_quality is not None and not 1 <= int(jpeg_quality) <= 100:
        raise ValueError(f"--jpeg quality must be in 1..100, got {jpeg_quality}")
    cap, info = open_video(video)
    cap.release()
    k = intrinsics_for(info.width, info.height, hfov_deg=hfov_deg if calibration is None else None, calibration=calibration)
    rate = fps or info.fps
    frames = 0
    with OutputBag(out, storage=storage) as bag:
        for index, rgb in read_frames(video, max_frames):
            stamp = DEFAULT_START_NS + int(round(index * 1e9 / rate))
            bag.write_ros(info_topic, camera_info_msg(k, info.width, info.height, stamp, frame_id), stamp)
            if jpeg_quality is None:
                bag.write_ros(image_topic, image_msg(rgb, stamp, frame_id), stamp)
            else:
                bag.write_ros(image_topic.rstrip("/") + "/compressed", compressed_msg(rgb, stamp, frame_id, jpeg_quality), stamp)
            frames += 1
    return {"bag": str(out), "frames": frames, "fps": rate, "width": info.width, "height": info.height, "K": k.tolist()}


def compressed_msg(rgb, stamp_ns: int, frame_id: str, quality: int = 90):
    """sensor_msgs/CompressedImage (jpeg) of an RGB frame."""
    import cv2
    from sensor_msgs.msg import CompressedImage

    from ..ros_convert import stamp_from_ns

    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ValueError("cv2.imencode could not encode a frame as jpeg")
    msg = CompressedImage()
    msg.header.stamp = stamp_from_ns(stamp_ns)
    msg.header.frame_id = frame_id
    msg.format = "jpeg"
    msg.data = buf.tobytes()
    return msg


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of `hpe3d make-bag`."""
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--video", help="input video file")
    src.add_argument("--mocap-test-clips", type=int, metavar="N",
                     help="instead of a video: N Bandai mocap test clips as 2D keypoints with 3D ground truth (docs/replay.md)")
    p.add_argument("--mocap-root", help="mocap datasets directory (default ../shared/data/bandai-namco)")
    p.add_argument("--mocap-split", default="test", help="split to take the clips from (default test; 'all' for any)")
    p.add_argument("--max-frames-per-clip", type=int, default=150, help="mocap: frames per clip (default 150 = 5 s at 30 fps)")
    p.add_argument("--every", type=int, default=1, help="mocap: keep every n-th frame")
    p.add_argument("--seed", type=int, default=0, help="mocap: seed of the cameras and the detector noise")
    p.add_argument("--clean", action="store_true", help="mocap: exact projections, no detector noise")
    p.add_argument("--out", required=True, help="output bag directory (must not exist)")
    p.add_argument("--hfov", type=float, default=70.0, help="horizontal field of view in degrees when no calibration is given")
    p.add_argument("--calibration", help="ROS camera_info YAML with the camera's intrinsics")
    p.add_argument("--image-topic", default="/camera/image_raw")
    p.add_argument("--info-topic", default="/camera/camera_info")
    p.add_argument("--frame-id", default="camera_optical_frame")
    p.add_argument("--storage", choices=("mcap", "sqlite3"), default="mcap")
    p.add_argument("--max-frames", type=int, help="stop after this many frames")
    p.add_argument("--fps", type=float, help="override the video's frame rate for the stamps")
    p.add_argument("--jpeg", type=int, metavar="QUALITY", help="write sensor_msgs/CompressedImage (jpeg, quality 1-100) "
                   "on <image-topic>/compressed instead of raw images")


def run(args: argparse.Namespace) -> int:
    """Entry point of `hpe3d make-bag`."""
    from ..calibration import CalibrationError
    from ..video import VideoError
    from .bag_io import BagError

    if args.mocap_test_clips is not None:
        from .gt_bag import make_gt_bag

        try:
            summary = make_gt_bag(args.out, args.mocap_test_clips, args.mocap_split, args.mocap_root, args.max_frames_per_clip,
                                  args.every, args.seed, not args.clean, args.storage)
        except BagError as e:
            print(f"hpe3d make-bag: error: {e}", file=sys.stderr)
            return 1
        print(f"wrote {summary['frames']} frames of {len(summary['clips'])} mocap clips with ground truth to {summary['bag']}")
        return 0
    try:
        result = make_bag(
            args.video, args.out, hfov_deg=args.hfov, calibration=args.calibration, image_topic=args.image_topic,
            info_topic=args.info_topic, frame_id=args.frame_id, storage=args.storage, max_frames=args.max_frames, fps=args.fps,
            jpeg_quality=args.jpeg,
        )
    except (VideoError, CalibrationError, BagError) as e:
        print(f"hpe3d make-bag: error: {e}", file=sys.stderr)
        return 1
    print(f"wrote {result['frames']} frames ({result['width']}x{result['height']} at {result['fps']:.2f} fps) to {result['bag']}")
    return 0
