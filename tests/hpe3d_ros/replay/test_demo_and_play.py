"""`hpe3d demo` end to end on the bundled sample (real processes: camera node, lift_node, recorder), and
`hpe3d play` feeding a bag into a live ROS graph."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from hpe3d_ros.node import skeleton_msgs
from hpe3d_ros.replay.bag_io import InputBag

from .replay_fixtures import clip_bag, ros_env, stamps, tiny_model, topic_messages

REPO = Path(__file__).resolve().parents[3]


def test_demo_end_to_end_on_the_bundled_sample(tmp_path):
    import cv2

    env = ros_env(tmp_path / "ros_logs")
    model = tiny_model(tmp_path)
    out = tmp_path / "demo"
    proc = subprocess.run([sys.executable, "-m", "hpe3d_ros.cli", "demo", "--out", str(out), "--model", str(model)],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=400)
    assert proc.returncode == 0, proc.stderr[-3000:] + "\n".join((out / "logs" / n).read_text()[-1500:]
                                                               for n in ("lift_node.log", "camera.log", "recorder.log")
                                                               if (out / "logs" / n).is_file())
    for name in ("bag", "demo.mp4", "preview.png", "report.md"):
        assert name in proc.stdout
    bag = out / "bag"
    with InputBag(bag) as b:
        assert b.message_count("/camera/image_raw") == 100  # the whole 10 s sample clip
        assert b.message_count("/camera/camera_info") == 100
    images = stamps(bag, "/camera/image_raw")
    skel = stamps(bag, "/hpe3d/skeletons")
    assert len(skel) >= 10 and set(skel) <= set(images)
    people = [len(skeleton_msgs.read_skeletons(m)["track_id"]) for _, m in topic_messages(bag, "/hpe3d/skeletons")]
    assert max(people) >= 1, "lift_node found nobody in a clip of pedestrians"
    assert stamps(bag, "/hpe3d/poses") == skel
    with InputBag(bag) as b:
        assert b.message_count("/hpe3d/markers") == len(skel) and b.message_count("/diagnostics") >= 1
        # the scene stage's outputs: the people cloud per frame, the per-person topics found by pattern
        assert b.message_count("/hpe3d/people") == len(skel) and b.message_count("/humans/bodies/tracked") == len(skel)
        assert any(t.startswith("/humans/bodies/b") and t.endswith("/position") for t in b.topics)
    from hpe3d_ros.replay.bag_frames import read_recorded

    recorded = read_recorded(bag, "/camera/image_raw")
    assert any(f.scene is not None and np.isfinite(f.scene["heading"]).any() for f in recorded.frames)
    cap = cv2.VideoCapture(str(out / "demo.mp4"))
    n, w = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)), int(cap.get(cv2.CAP_PROP_FRAME_WIDTH))
    ok, _ = cap.read()
    cap.release()
    assert ok and n == 100 and w == 2 * 480  # the frame beside the 3D view
    assert cv2.imread(str(out / "preview.png")) is not None
    report = json.loads((out / "report" / "report.json").read_text())
    assert report["frames"]["in"] == 100 and report["frames"]["processed"] == len(skel)
    assert report["frames"]["dropped"] == 100 - len(skel)
    assert report["latency_ms"]["end_to_end"]["n"] == len(skel)
    assert "latency_detect_p50_ms" in report["node_diagnostics"]


def test_play_publishes_the_bag_into_a_live_graph(tmp_path):
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
    from sensor_msgs.msg import CameraInfo, Image

    env = ros_env(tmp_path / "ros_logs")
    bag = clip_bag(tmp_path / "clip", 8)
    recorded = topic_messages(bag, "/camera/image_raw")
    ctx = rclpy.Context()
    rclpy.init(context=ctx)
    node = rclpy.create_node("play_test_listener", context=ctx)
    ex = SingleThreadedExecutor(context=ctx)
    ex.add_node(node)
    got: dict[str, list] = {"image": [], "info": []}
    qos = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=50, reliability=ReliabilityPolicy.RELIABLE)
    node.create_subscription(Image, "/camera/image_raw", lambda m: got["image"].append(m), qos)
    node.create_subscription(CameraInfo, "/camera/camera_info", lambda m: got["info"].append(m), qos)
    proc = subprocess.Popen([sys.executable, "-m", "hpe3d_ros.cli", "play", "--bag", str(bag), "--rate", "2",
                             "--wait-subscribers", "1", "--restamp"], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        end = time.monotonic() + 120
        while time.monotonic() < end and (proc.poll() is None or len(got["image"]) < 8):
            ex.spin_once(timeout_sec=0.05)
            if proc.poll() is not None and len(got["image"]) < 8:
                for _ in range(40):
                    ex.spin_once(timeout_sec=0.05)
                break
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        ex.shutdown()
        node.destroy_node()
        rclpy.shutdown(context=ctx)
    assert proc.returncode == 0, err[-2000:]
    assert "published 16 messages" in out
    assert len(got["image"]) == 8 and len(got["info"]) == 8
    for (_, rec), live in zip(recorded, got["image"]):
        assert bytes(live.data) == bytes(rec.data) and live.encoding == rec.encoding
        assert live.header.stamp != rec.header.stamp  # --restamp: publishing time, not the recorded stamp
    live_ns = [m.header.stamp.sec * 10**9 + m.header.stamp.nanosec for m in got["image"]]
    assert np.all(np.diff(live_ns) > 0)


def test_play_refuses_a_missing_bag_or_topic(tmp_path, capsys):
    from hpe3d_ros import cli

    assert cli.main(["play", "--bag", str(tmp_path / "none")]) == 1
    assert "none: no such bag" in capsys.readouterr().err
    bag = clip_bag(tmp_path / "clip", 1)
    assert cli.main(["play", "--bag", str(bag), "--topics", "/nope"]) == 1
    assert "no topics ['/nope']" in capsys.readouterr().err
