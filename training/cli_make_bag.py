"""`hpe3d make-bag`: a video (hpe3d_ros.replay.make_bag) or mocap clips with 3D ground truth
(training.data.gt_bag) to a ROS 2 bag.

The command lives in the training package because its mocap source needs training's mocap reader and
renderer; the video half is the runtime's ``hpe3d_ros.replay.make_bag.make_bag``.
"""
from __future__ import annotations

import argparse
import sys


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of `hpe3d make-bag`."""
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--video", help="input video file")
    src.add_argument(
        "--mocap-test-clips",
        type=int,
        metavar="N",
        help="instead of a video: N Bandai mocap test clips as 2D keypoints with 3D ground truth (docs/replay.md)",
    )
    p.add_argument("--mocap-root", help="mocap datasets directory (default ../shared/data/bandai-namco)")
    p.add_argument(
        "--mocap-split",
        default="test",
        help="split to take the clips from (default test; 'all' for any; 'hdm05-cross': the cross-dataset "
        "benchmark's held-out HDM05 actors)",
    )
    p.add_argument(
        "--max-frames-per-clip", type=int, default=150, help="mocap: frames per clip (default 150 = 5 s at 30 fps)"
    )
    p.add_argument("--every", type=int, default=1, help="mocap: keep every n-th frame")
    p.add_argument("--seed", type=int, default=0, help="mocap: seed of the cameras and the detector noise")
    p.add_argument("--clean", action="store_true", help="mocap: exact projections, no detector noise")
    p.add_argument(
        "--mounted-camera",
        nargs="?",
        const="",
        metavar="SETTINGS.yaml",
        help="mocap: one camera mounted at a known height and pitch, people at 3-40 m on flat ground, the camera's "
             "pose in the bag (default settings config/mounted_camera.yaml; docs/placement.md)",
    )
    p.add_argument(
        "--jitter-px",
        type=float,
        help="mocap: detector noise sigma in pixels for a person 200 px tall (default config/cameras.yaml's)",
    )
    p.add_argument("--out", required=True, help="output bag directory (must not exist)")
    p.add_argument(
        "--hfov", type=float, default=70.0, help="horizontal field of view in degrees when no calibration is given"
    )
    p.add_argument("--calibration", help="ROS camera_info YAML with the camera's intrinsics")
    p.add_argument("--image-topic", default="/camera/image_raw")
    p.add_argument("--info-topic", default="/camera/camera_info")
    p.add_argument("--frame-id", default="camera_optical_frame")
    p.add_argument("--storage", choices=("mcap", "sqlite3"), default="mcap")
    p.add_argument("--max-frames", type=int, help="stop after this many frames")
    p.add_argument("--fps", type=float, help="override the video's frame rate for the stamps")
    p.add_argument(
        "--jpeg",
        type=int,
        metavar="QUALITY",
        help="write sensor_msgs/CompressedImage (jpeg, quality 1-100) "
        "on <image-topic>/compressed instead of raw images",
    )


def run(args: argparse.Namespace) -> int:
    """Entry point of `hpe3d make-bag`."""
    from hpe3d_ros.calibration import CalibrationError
    from hpe3d_ros.replay.bag_io import BagError
    from hpe3d_ros.replay.make_bag import make_bag
    from hpe3d_ros.video import VideoError

    if args.mocap_test_clips is not None:
        from training.data.gt_bag import make_gt_bag, make_mounted_gt_bag

        try:
            if args.mounted_camera is not None:
                summary = make_mounted_gt_bag(
                    args.out, args.mocap_test_clips, args.mocap_split, args.mocap_root, args.max_frames_per_clip,
                    args.every, args.seed, not args.clean, args.storage, args.mounted_camera or None, args.jitter_px,
                )
            else:
                summary = make_gt_bag(
                    args.out,
                    args.mocap_test_clips,
                    args.mocap_split,
                    args.mocap_root,
                    args.max_frames_per_clip,
                    args.every,
                    args.seed,
                    not args.clean,
                    args.storage,
                    args.jitter_px,
                )
        except BagError as e:
            print(f"hpe3d make-bag: error: {e}", file=sys.stderr)
            return 1
        print(
            f"wrote {summary['frames']} frames of {len(summary['clips'])} mocap clips with ground truth to "
            f"{summary['bag']}"
        )
        return 0
    try:
        result = make_bag(
            args.video,
            args.out,
            hfov_deg=args.hfov,
            calibration=args.calibration,
            image_topic=args.image_topic,
            info_topic=args.info_topic,
            frame_id=args.frame_id,
            storage=args.storage,
            max_frames=args.max_frames,
            fps=args.fps,
            jpeg_quality=args.jpeg,
        )
    except (VideoError, CalibrationError, BagError) as e:
        print(f"hpe3d make-bag: error: {e}", file=sys.stderr)
        return 1
    print(
        f"wrote {result['frames']} frames ({result['width']}x{result['height']} at {result['fps']:.2f} fps) to "
        f"{result['bag']}"
    )
    return 0
