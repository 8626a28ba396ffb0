"""The per-person messages and the people cloud built from scene-stage people, in the base and the optical frame."""
from __future__ import annotations

import math

import numpy as np
import pytest
from std_msgs.msg import Header
from visualization_msgs.msg import Marker

from hpe3d_ros import camera
from hpe3d_ros.node import markers, people_msgs
from hpe3d_ros.node.params import PARAMS
from hpe3d_ros.pipeline import Person3D
from hpe3d_ros.scene import Scene, SceneParams
from hpe3d_ros.scene.mount import Mount
from hpe3d_ros.scene.params import MountParams

from ..scene.scene_fixtures import fixture_pose_ground, place_person

DEFAULTS = {p.name: p.default for p in PARAMS}
K = camera.intrinsics_from_fov(1280, 720, 70.0)
MOUNT = MountParams(mode="full", x=1.5, y=-0.2, z=1.4, pitch=0.05, yaw=0.1)


def _walkers(frames: int = 12) -> list[Person3D]:
    """Two people walking for ``frames`` frames in front of the mounted camera; the last frame's people."""
    scene = Scene(SceneParams(mount=MOUNT))
    mount = Mount.from_params(MOUNT)
    for i in range(frames):
        people = []
        for tid, (x, y, yaw) in enumerate(((9.0, 1.0, 0.5), (15.0, -2.0, -2.0))):
            pose = place_person(fixture_pose_ground(tid), 1.7, (x + 0.05 * i * math.cos(yaw),
                                                              y + 0.05 * i * math.sin(yaw)), yaw)
            truth = (pose - mount.translation) @ mount.rotation
            people.append(Person3D(tid + 5, truth, truth, np.ones(16), None, 0.0, camera.project(truth, K),
                                   bbox=(100.0, 200.0, 180.0, 400.0)))
        scene.update(people, K, i * 33_333_333, (1280, 720), 1.7)
    return people


def test_people_cloud_in_the_base_frame_and_in_the_optical_frame():
    people = _walkers()
    header = Header(frame_id="cam_optical")
    base = people_msgs.read_people(people_msgs.people_cloud(header, people, {**DEFAULTS, "base_frame": "base_link"}))
    optical_msg = people_msgs.people_cloud(header, people, DEFAULTS)
    optical = people_msgs.read_people(optical_msg)
    assert optical_msg.header.frame_id == "cam_optical" and header.frame_id == "cam_optical"  # header not changed
    mount = Mount.from_params(MOUNT)
    for i, p in enumerate(people):
        s = p.state
        np.testing.assert_allclose([base["x"][i], base["y"][i], base["z"][i]], s.position_base, atol=1e-5)
        np.testing.assert_allclose([optical["x"][i], optical["y"][i], optical["z"][i]], s.position_optical, atol=1e-5)
        np.testing.assert_allclose([base["ox"][i], base["oy"][i], base["oz"][i]], s.position_optical, atol=1e-5)
        np.testing.assert_allclose(mount.vectors_to_optical([base["vx"][i], base["vy"][i], base["vz"][i]]),
                                   [optical["vx"][i], optical["vy"][i], optical["vz"][i]], atol=1e-5)
        assert base["track_id"][i] == p.track_id and base["placement"][i] == 1
        assert base["distance"][i] == pytest.approx(np.linalg.norm(s.position_optical), rel=1e-5)
        assert 0 < base["velocity_confidence"][i] <= 1 and base["speed"][i] > 0.3  # they walk 1.5 m/s
    assert np.isnan(base["head_yaw"]).all() and (base["looking"] == 0).all()  # no face landmarks given


def test_position_orientation_and_covariance_follow_the_frame():
    p = _walkers()[0]
    s = p.state
    for values, frame in (({**DEFAULTS, "base_frame": "base_link"}, "base_link"), (DEFAULTS, "cam_optical")):
        msg = people_msgs.body_position(Header(frame_id="cam_optical"), p, values)
        assert msg.header.frame_id == frame
        q = msg.pose.pose.orientation
        from scipy.spatial.transform import Rotation

        r = Rotation.from_quat([q.x, q.y, q.z, q.w]).as_matrix()
        r_base = Mount.from_params(MOUNT).rotation @ r if frame == "cam_optical" else r
        # the body's x axis is the heading in the ground frame, its z axis up
        np.testing.assert_allclose(r_base[:, 0], [math.cos(s.heading), math.sin(s.heading), 0.0], atol=1e-6)
        np.testing.assert_allclose(r_base[:, 2], [0.0, 0.0, 1.0], atol=1e-6)
        cov = np.asarray(msg.pose.covariance).reshape(6, 6)
        assert np.linalg.eigvalsh(cov).min() > 0
        want = s.position_cov_base if frame == "base_link" else s.position_cov_optical
        np.testing.assert_allclose(cov[:3, :3], want, atol=1e-9)
        vel = people_msgs.body_velocity(Header(frame_id="cam_optical"), p, values)
        v = [vel.twist.linear.x, vel.twist.linear.y, vel.twist.linear.z]
        np.testing.assert_allclose(v, s.velocity_base if frame == "base_link" else s.velocity_optical, atol=1e-9)
    roi = people_msgs.body_roi(p)
    assert (roi.x_offset, roi.y_offset, roi.width, roi.height) == (100, 200, 80, 200)
    ids = people_msgs.tracked_ids([p])
    assert list(ids.data) == [p.track_id] and ids.layout.dim[0].label == "track_id"
    assert people_msgs.heading_std(1.0) == pytest.approx(0.2) and people_msgs.heading_std(0.0) == pytest.approx(math.pi)


def test_markers_add_heading_and_velocity_arrows_and_the_builder_agrees():
    people = _walkers()
    h = Header(frame_id="cam_optical")
    arr = markers.marker_array(h, people, 0.3)
    for p in people:
        arrows = [m for m in arr.markers if m.ns == f"person_{p.track_id}" and m.type == Marker.ARROW]
        want = [p.track_id * 100 + markers.HEADING_ID, p.track_id * 100 + markers.VELOCITY_ID]
        assert sorted(m.id for m in arrows) == want
        heading = next(m for m in arrows if m.id % 100 == markers.HEADING_ID)
        start, end = (np.array([q.x, q.y, q.z]) for q in heading.points)
        np.testing.assert_allclose(start, p.state.position_optical)
        np.testing.assert_allclose(end - start, markers.HEADING_ARROW_M * p.state.heading_direction_optical)
    assert markers.MarkerBuilder().build(h, people, 0.3) == arr
