"""Helpers for tests that run lift_node as a real process and talk to it over loopback DDS.

Every test module calls ``isolated_ros_env`` once: a random ROS_DOMAIN_ID, localhost-only discovery
and a private ROS_LOG_DIR, so parallel test runs of other engineers do not cross-talk.
"""
from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[3]
FIXTURE_MEDIA = REPO / "tests" / "fixtures" / "media"


def isolated_ros_env(log_dir: Path) -> dict:
    """An isolated ROS environment for child processes and ``Client``: a random ROS_DOMAIN_ID (0..101 are
    the safe ids on Linux) that no visible process uses (parallel test runs of other engineers), localhost-only
    discovery, a private ROS_LOG_DIR. os.environ is not changed."""
    from hpe3d_ros.replay.demo import free_domain_id  # a random id that no process visible here uses

    env = dict(os.environ)
    env.update({
        "ROS_DOMAIN_ID": str(free_domain_id()),
        "ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST",
        "ROS_LOG_DIR": str(log_dir),
        "RCUTILS_COLORIZED_OUTPUT": "0",
        "PYTHONUNBUFFERED": "1",
    })
    return env


@contextlib.contextmanager
def environment(env: dict):
    """os.environ set to ``env`` inside the block (rcl reads the domain id and discovery range at init)."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def tiny_model(directory: Path) -> Path:
    """The shipped supervised model when present, else a tiny contract-(1) ONNX model built here."""
    shipped = REPO / "engines" / "supervised-martinez_bandai.onnx"
    if shipped.is_file() and shipped.with_suffix(".json").is_file():
        return shipped
    from tests.hpe3d_ros.runtime.tiny_lifters import constant_depth_onnx

    depth = np.linspace(-0.2, 0.2, 16)
    return constant_depth_onnx(Path(directory) / "tiny_lifter.onnx", depth, elevation=0.15, with_nll=True)


def fixture_frames(n: int = 3) -> list[tuple[str, np.ndarray]]:
    """Up to ``n`` RGB frames with people: tests/fixtures/media images, else ../shared/media videos."""
    import cv2

    frames: list[tuple[str, np.ndarray]] = []
    if FIXTURE_MEDIA.is_dir():
        for p in sorted(FIXTURE_MEDIA.iterdir()):
            if p.suffix.lower() in (".jpg", ".jpeg", ".png") and len(frames) < n:
                bgr = cv2.imread(str(p), cv2.IMREAD_COLOR)
                if bgr is not None:
                    frames.append((p.name, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)))
    if not frames:
        from hpe3d_ros import paths

        shared = paths.shared_dir()
        video = shared / "media" / "street-demo.mp4" if shared else None
        if video is not None and video.is_file():
            cap = cv2.VideoCapture(str(video))
            ok, bgr = cap.read()
            cap.release()
            if ok:
                frames.append((video.name + "#0", cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)))
    return frames


def first_people_frame() -> np.ndarray:
    """The first of ``fixture_frames``, or skip the test with the reason."""
    import pytest

    f = fixture_frames(1)
    if not f:
        pytest.skip("no frame with people: neither tests/fixtures/media nor ../shared/media is available")
    return f[0][1]


def start_node(env: dict, *extra: str, params_file: Path | None = None, log: Path | None = None,
               module: str = "hpe3d_ros.node.lift_node") -> subprocess.Popen:
    """Start lift_node (or another node ``module``) as its own process with config/lift.yaml and
    ``-p name:=value`` overrides."""
    params_file = params_file or REPO / "config" / "lift.yaml"
    cmd = [sys.executable, "-m", module, "--ros-args", "--params-file", str(params_file)]
    for e in extra:
        cmd += ["-p", e]
    out = open(log, "w") if log else subprocess.DEVNULL
    return subprocess.Popen(cmd, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)


def stop_node(proc: subprocess.Popen) -> int:
    """SIGINT, then kill after a grace period; returns the exit code."""
    import signal

    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
    return proc.returncode


class Client:
    """An in-test rclpy node: publishes images and CameraInfo, collects the node's outputs."""

    def __init__(self, env: dict, image_reliability: str = "reliable"):
        with environment(env):
            self._init(image_reliability)

    def _init(self, image_reliability: str) -> None:
        import rclpy
        from diagnostic_msgs.msg import DiagnosticArray
        from geometry_msgs.msg import PoseArray
        from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
        from sensor_msgs.msg import CameraInfo, CompressedImage, Image, PointCloud2
        from visualization_msgs.msg import MarkerArray

        self.context = rclpy.Context()
        rclpy.init(context=self.context)
        self.node = rclpy.create_node("lift_node_test_client", context=self.context)
        from rclpy.executors import SingleThreadedExecutor

        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        rel = ReliabilityPolicy.RELIABLE if image_reliability == "reliable" else ReliabilityPolicy.BEST_EFFORT
        qos = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=10, reliability=rel)
        self.image_pub = self.node.create_publisher(Image, "image", qos)
        self.compressed_pub = self.node.create_publisher(CompressedImage, "image/compressed", qos)
        self.info_pub = self.node.create_publisher(CameraInfo, "camera_info", 10)
        self.received: dict[str, list] = {"markers": [], "skeletons": [], "poses": [], "diagnostics": []}
        out_qos = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=50, reliability=ReliabilityPolicy.RELIABLE)
        self.node.create_subscription(
            MarkerArray, "hpe3d/markers", lambda m: self.received["markers"].append(m), out_qos
        )
        self.node.create_subscription(
            PointCloud2, "hpe3d/skeletons", lambda m: self.received["skeletons"].append(m), out_qos
        )
        self.node.create_subscription(PoseArray, "hpe3d/poses", lambda m: self.received["poses"].append(m), out_qos)
        self.node.create_subscription(
            DiagnosticArray, "/diagnostics", lambda m: self.received["diagnostics"].append(m), 10
        )

    def spin_for(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.executor.spin_once(timeout_sec=0.05)

    def spin_until(self, predicate, timeout: float) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if predicate():
                return True
            self.executor.spin_once(timeout_sec=0.05)
        return bool(predicate())

    def wait_for_node(self, proc: subprocess.Popen, timeout: float = 120.0) -> None:
        """Until the node's skeleton publisher is matched (the node finished loading its models)."""
        ok = self.spin_until(
            lambda: proc.poll() is not None or self.node.count_publishers("hpe3d/skeletons") > 0, timeout
        )
        if proc.poll() is not None:
            raise AssertionError(f"lift_node exited with code {proc.returncode} during start-up")
        assert ok, "lift_node did not come up in time"
        self.spin_until(lambda: self.image_pub.get_subscription_count() > 0, 10.0)

    def skeletons_with_stamp(self, stamp_ns: int) -> list:
        from hpe3d_ros.ros_convert import stamp_to_ns as to_ns

        return [m for m in self.received["skeletons"] if to_ns(m.header.stamp) == stamp_ns]

    def markers_with_stamp(self, stamp_ns: int) -> list:
        from hpe3d_ros.ros_convert import stamp_to_ns as to_ns

        return [m for m in self.received["markers"] if m.markers and to_ns(m.markers[0].header.stamp) == stamp_ns]

    def last_diagnostics(self) -> dict[str, str]:
        for arr in reversed(self.received["diagnostics"]):
            for st in arr.status:
                if "3D human pose lifting" in st.name:
                    return {kv.key: kv.value for kv in st.values}
        return {}

    def close(self) -> None:
        import rclpy

        self.executor.shutdown()
        self.node.destroy_node()
        rclpy.shutdown(context=self.context)
