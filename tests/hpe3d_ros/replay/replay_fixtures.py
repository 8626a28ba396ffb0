"""Shared helpers of the replay tests: the bundled clip as small bags, a lifter model, bag readers."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from hpe3d_ros.replay.bag_io import InputBag, deserialize
from hpe3d_ros.replay.demo import sample_clip
from hpe3d_ros.replay.make_bag import make_bag

from ..node.ros_harness import isolated_ros_env, tiny_model  # tiny_model: the shipped model, else a tiny test model

__all__ = ["tiny_model", "clip_bag", "topic_messages", "skeleton_payloads"]


def ros_env(log_dir: Path) -> dict:
    """``isolated_ros_env`` with a domain id that no running process uses (parallel test runs share the host)."""
    import os

    from hpe3d_ros.replay.demo import free_domain_id

    env = isolated_ros_env(log_dir)
    os.environ["ROS_DOMAIN_ID"] = env["ROS_DOMAIN_ID"] = str(free_domain_id())
    return env


def clip_bag(path: Path, frames: int = 6, storage: str = "mcap") -> Path:
    """The first ``frames`` frames of the bundled sample clip as a bag of Image + CameraInfo."""
    make_bag(sample_clip(), path, hfov_deg=70.0, storage=storage, max_frames=frames)
    return path


def topic_messages(bag_path: Path, topic: str) -> list:
    """(bag time, rclpy message) of one topic, in order."""
    with InputBag(bag_path) as bag:
        return [(m.timestamp, deserialize(m)) for m in bag.messages([topic])]


def skeleton_payloads(bag_path: Path, topic: str = "/hpe3d/skeletons") -> list[tuple[int, bytes]]:
    """(stamp ns, PointCloud2 data bytes) of every skeletons message."""
    out = []
    for _, msg in topic_messages(bag_path, topic):
        out.append((msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec, bytes(msg.data)))
    return out


def stamps(bag_path: Path, topic: str) -> list[int]:
    return [m.header.stamp.sec * 1_000_000_000 + m.header.stamp.nanosec for _, m in topic_messages(bag_path, topic)]


def first_frame_rgb() -> np.ndarray:
    import cv2

    cap = cv2.VideoCapture(str(sample_clip()))
    ok, bgr = cap.read()
    cap.release()
    assert ok
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
