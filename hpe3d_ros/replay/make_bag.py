"""A video file to a ROS 2 bag of sensor_msgs/Image and CameraInfo (the video half of `hpe3d make-bag`,
whose command line is training/cli_make_bag.py)."""
from __future__ import annotations

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
    k = intrinsics_for(
        info.width, info.height, hfov_deg=hfov_deg if calibration is None else None, calibration=calibration
    )
    rate = fps or info.fps
    frames = 0
    with OutputBag(out, storage=storage) as bag:
        for index, rgb in read_frames(video, max_frames):
            stamp = DEFAULT_START_NS + int(round(index * 1e9 / rate))
            bag.write_ros(info_topic, camera_info_msg(k, info.width, info.height, stamp, frame_id), stamp)
            if jpeg_quality is None:
                bag.write_ros(image_topic, image_msg(rgb, stamp, frame_id), stamp)
            else:
                bag.write_ros(
                    image_topic.rstrip("/") + "/compressed", compressed_msg(rgb, stamp, frame_id, jpeg_quality), stamp
                )
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
