"""lift_node as a real process with a camera-to-base transform: the per-person topics (REP-155 style) carry
the people's positions and velocities in the base frame, consistent with the optical frame through the
given mount; the publishers of a person who left are destroyed.

The camera is the street clip's handheld camera (tests/fixtures/media), given a plausible mounting in a
vehicle-like base frame (1.6 m above the ground, looking 5.7 degrees down, 2 m ahead of the base's
origin and 0.3 m to its left, turned 0.05 rad left).
"""
from __future__ import annotations

import math
import time

import numpy as np
import pytest

from hpe3d_ros import camera
from hpe3d_ros.node import skeleton_msgs
from hpe3d_ros.node.people_msgs import read_people
from hpe3d_ros.ros_convert import camera_info_msg, image_msg, stamp_to_ns
from hpe3d_ros.scene.mount import Mount
from hpe3d_ros.scene.params import MountParams

from .ros_harness import Client, first_people_frame, isolated_ros_env, start_node, stop_node, tiny_model

FRAME_ID = "street_camera_optical_frame"
BASE = "base_link"
MOUNT = MountParams(mode="full", x=2.0, y=0.3, z=1.6, roll=0.0, pitch=0.1, yaw=0.05)


@pytest.fixture(scope="module")
def frame():
    return first_people_frame()


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("body_topics")
    env = isolated_ros_env(tmp / "ros_logs")
    log = tmp / "lift_node.log"
    mount = [f"camera_mount.{k}:={getattr(MOUNT, k)}" for k in ("mode", "x", "y", "z", "roll", "pitch", "yaw")]
    proc = start_node(env, f"model_file_path:={tiny_model(tmp)}", "backend:=onnxruntime", f"base_frame:={BASE}",
                      *mount, "body_topics.timeout_s:=1.0", "status_log_period_s:=0.0", log=log)
    client = Client(env)
    try:
        client.wait_for_node(proc)
        yield client, proc
    finally:
        client.close()
        code = stop_node(proc)
        print(log.read_text()[-4000:])
        assert code in (0, -2, 130), f"lift_node exited with {code}"


def _subscribe(client: Client, topic: str, msgtype, store: dict) -> None:
    from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy

    qos = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=50, reliability=ReliabilityPolicy.RELIABLE)
    store.setdefault(topic, [])
    client.node.create_subscription(msgtype, topic, lambda m: store[topic].append(m), qos)


def _send(client: Client, rgb: np.ndarray, stamp: int) -> None:
    h, w = rgb.shape[:2]
    client.info_pub.publish(camera_info_msg(camera.intrinsics_from_fov(w, h, 65.0), w, h, stamp, FRAME_ID))
    client.spin_for(0.05)
    client.image_pub.publish(image_msg(rgb, stamp, FRAME_ID))


def test_per_person_topics_in_the_base_frame(running, frame):
    from geometry_msgs.msg import PoseWithCovarianceStamped, TwistStamped
    from sensor_msgs.msg import PointCloud2, RegionOfInterest
    from std_msgs.msg import Int32MultiArray

    client, proc = running
    got: dict = {}
    _subscribe(client, "/humans/bodies/tracked", Int32MultiArray, got)
    _subscribe(client, "/hpe3d/people", PointCloud2, got)
    # the first frames: the people appear and get their topics
    stamps = []
    for _ in range(3):
        stamps.append(time.time_ns())
        _send(client, frame, stamps[-1])
        assert client.spin_until(lambda s=stamps[-1]: client.skeletons_with_stamp(s), 60.0), "no skeletons"
    sk = skeleton_msgs.read_skeletons(client.skeletons_with_stamp(stamps[-1])[-1])
    ids = sorted(int(t) for t in sk["track_id"])
    assert ids, "no person found in the street frame"
    # the tracked list of the last frame (an earlier frame's may arrive first: people differ between frames)
    assert client.spin_until(lambda: got["/hpe3d/people"] and got["/humans/bodies/tracked"] and
                             sorted(got["/humans/bodies/tracked"][-1].data) == ids, 10.0), \
        f"tracked {[list(m.data) for m in got['/humans/bodies/tracked']]}, skeletons {ids}"
    for tid in ids:  # the node made one publisher per person and topic
        for leaf in ("roi", "position", "velocity"):
            topic = f"/humans/bodies/b{tid}/{leaf}"
            assert client.spin_until(lambda t=topic: client.node.count_publishers(t) == 1, 10.0), topic
        _subscribe(client, f"/humans/bodies/b{tid}/position", PoseWithCovarianceStamped, got)
        _subscribe(client, f"/humans/bodies/b{tid}/velocity", TwistStamped, got)
        _subscribe(client, f"/humans/bodies/b{tid}/roi", RegionOfInterest, got)
    client.spin_for(1.0)  # the subscriptions match the node's publishers
    stamp = time.time_ns()
    _send(client, frame, stamp)

    def position_of(tid):
        return [m for m in got.get(f"/humans/bodies/b{tid}/position", []) if stamp_to_ns(m.header.stamp) == stamp]

    assert client.spin_until(lambda: all(position_of(t) for t in ids), 60.0), "no per-person position"
    client.spin_for(0.3)
    clouds = [m for m in got["/hpe3d/people"] if stamp_to_ns(m.header.stamp) == stamp]
    assert clouds and clouds[-1].header.frame_id == BASE
    people = read_people(clouds[-1])
    assert sorted(people["track_id"].tolist()) == ids
    mount = Mount.from_params(MOUNT)
    h, w = frame.shape[:2]
    placed_on_ground = 0
    for i, tid in enumerate(people["track_id"]):
        base = np.array([people["x"][i], people["y"][i], people["z"][i]])
        optical = np.array([people["ox"][i], people["oy"][i], people["oz"][i]])
        # the base-frame position is the optical one through the camera-to-base transform of the parameters
        np.testing.assert_allclose(base, mount.to_base(optical), atol=1e-3)
        assert base[0] > MOUNT.x + 1.0, "a person in front of the camera is ahead of it in the base frame"
        pose = position_of(int(tid))[-1]
        assert pose.header.frame_id == BASE
        p = pose.pose.pose.position
        np.testing.assert_allclose([p.x, p.y, p.z], base, atol=1e-5)
        q = pose.pose.pose.orientation
        assert abs(q.x * q.x + q.y * q.y + q.z * q.z + q.w * q.w - 1.0) < 1e-6
        if math.isfinite(people["heading"][i]):  # the orientation is the heading: a yaw about base z
            assert abs(q.x) < 1e-6 and abs(q.y) < 1e-6
            assert abs(math.remainder(2 * math.atan2(q.z, q.w) - people["heading"][i], 2 * math.pi)) < 1e-4
        cov = np.asarray(pose.pose.covariance).reshape(6, 6)
        assert np.allclose(cov, cov.T) and np.linalg.eigvalsh(cov).min() >= -1e-9
        np.testing.assert_allclose(cov[0, 0], people["cov_xx"][i], rtol=1e-5)
        vel = [m for m in got[f"/humans/bodies/b{tid}/velocity"] if stamp_to_ns(m.header.stamp) == stamp]
        assert vel and vel[-1].header.frame_id == BASE
        assert abs(vel[-1].twist.linear.z) < 1e-9  # the velocity is on the ground plane
        roi = got[f"/humans/bodies/b{tid}/roi"][-1]
        assert roi.width > 0 and roi.height > 0 and roi.x_offset + roi.width <= w and roi.y_offset + roi.height <= h
        if people["placement"][i] == 1:  # fused with the ground plane: the pelvis stands at hip height
            placed_on_ground += 1
            assert 0.5 < base[2] < 1.4, f"pelvis {base[2]:.2f} m above the ground"
    assert placed_on_ground >= 1, f"no person placed on the ground plane: {people['placement']}"
    # the people leave (an empty street): their publishers are destroyed after body_topics.timeout_s
    empty = np.full_like(frame, 128)
    for _ in range(8):
        _send(client, empty, time.time_ns())
        client.spin_for(0.3)
    topics = [f"/humans/bodies/b{t}/position" for t in ids]
    assert client.spin_until(lambda: all(client.node.count_publishers(t) == 0 for t in topics), 10.0)
    assert got["/humans/bodies/tracked"][-1].data.tolist() == [] and proc.poll() is None
    assert client.spin_until(lambda: client.last_diagnostics().get("body_topics_people") == "0", 10.0)
    diag = client.last_diagnostics()
    assert diag["camera_mount_mode"] == "full" and diag["camera_elevation_source"] == "mount"
    assert float(diag["camera_elevation_deg"]) == pytest.approx(math.degrees(MOUNT.pitch), abs=0.01)
