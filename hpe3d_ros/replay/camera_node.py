"""A camera node that plays a video file: sensor_msgs/Image (rgb8) and CameraInfo at the video's rate.

Run: ``python -m hpe3d_ros.replay.camera_node --video V [--fps F] [--hfov 70 | --calibration C]
[--wait-subscribers N]``. Each frame is stamped with the node's clock when it is published (a live
camera's stamp), CameraInfo first, then the image. With ``--wait-subscribers N`` it starts only
when N subscriptions listen to the image topic (the demo waits for lift_node and the recorder).
"""
from __future__ import annotations

import argparse
import sys
import time


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--video", required=True, help="video file to play")
    p.add_argument("--fps", type=float, help="publishing rate (default: the video's)")
    p.add_argument("--hfov", type=float, default=70.0, help="horizontal field of view (degrees) for CameraInfo")
    p.add_argument("--calibration", help="camera_info YAML with the intrinsics instead of --hfov")
    p.add_argument("--image-topic", default="/camera/image_raw")
    p.add_argument("--info-topic", default="/camera/camera_info")
    p.add_argument("--frame-id", default="camera_optical_frame")
    p.add_argument("--max-frames", type=int)
    p.add_argument(
        "--wait-subscribers", type=int, default=0, help="wait until this many subscriptions listen to the image topic"
    )
    p.add_argument("--wait-timeout", type=float, default=120.0, help="seconds to wait for them")
    p.add_argument(
        "--settle", type=float, default=1.0, help="seconds to wait after they appeared (discovery of their publishers)"
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns 0 when the whole clip was published, 1 on a bad video or no subscribers."""
    import rclpy
    from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
    from sensor_msgs.msg import CameraInfo, Image

    from ..calibration import CalibrationError, intrinsics_for
    from ..ros_convert import camera_info_msg, image_msg
    from ..video import VideoError, open_video, read_frames

    p = argparse.ArgumentParser(prog="camera_node", description=__doc__)
    add_arguments(p)
    args = p.parse_args(argv)
    try:
        cap, info = open_video(args.video)
        cap.release()
        k = intrinsics_for(
            info.width, info.height, hfov_deg=None if args.calibration else args.hfov, calibration=args.calibration
        )
    except (VideoError, CalibrationError) as e:
        print(f"camera_node: error: {e}", file=sys.stderr)
        return 1
    fps = args.fps or info.fps
    rclpy.init()
    node = rclpy.create_node("video_camera")
    try:
        qos = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=1, reliability=ReliabilityPolicy.RELIABLE)
        image_pub = node.create_publisher(Image, args.image_topic, qos)
        info_pub = node.create_publisher(CameraInfo, args.info_topic, 10)
        if args.wait_subscribers > 0:
            end = time.monotonic() + args.wait_timeout
            while image_pub.get_subscription_count() < args.wait_subscribers:
                if time.monotonic() > end:
                    print(
                        f"camera_node: error: {image_pub.get_subscription_count()} of {args.wait_subscribers} "
                        "subscribers "
                        f"on {args.image_topic} after {args.wait_timeout:.0f} s",
                        file=sys.stderr,
                    )
                    return 1
                rclpy.spin_once(node, timeout_sec=0.1)
            end = time.monotonic() + args.settle
            while time.monotonic() < end:
                rclpy.spin_once(node, timeout_sec=0.05)
        node.get_logger().info(
            f"playing {args.video} ({info.width}x{info.height}) at {fps:.1f} fps on {image_pub.topic_name}"
        )
        period = 1.0 / fps
        t0 = time.monotonic()
        count = 0
        for index, rgb in read_frames(args.video, args.max_frames):
            delay = t0 + index * period - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            stamp = node.get_clock().now().nanoseconds
            info_pub.publish(camera_info_msg(k, info.width, info.height, stamp, args.frame_id))
            image_pub.publish(image_msg(rgb, stamp, args.frame_id))
            count += 1
        node.get_logger().info(f"published {count} frames")
        return 0
    except KeyboardInterrupt:
        return 130
    finally:
        node.destroy_node()
        if rclpy.ok():
            rclpy.shutdown()


if __name__ == "__main__":
    sys.exit(main())
