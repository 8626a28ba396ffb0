"""Markers and skeleton messages built from Person3D objects, and the skeleton cloud read back."""
from __future__ import annotations

import numpy as np
from std_msgs.msg import Header
from visualization_msgs.msg import Marker

from hpe3d_ros import skeleton
from hpe3d_ros.node import markers, skeleton_msgs
from hpe3d_ros.pipeline import Person3D

J = skeleton.NUM_JOINTS


def _people(n: int = 2) -> list[Person3D]:
    rng = np.random.default_rng(1)
    out = []
    for i in range(n):
        jo = rng.normal(size=(J, 3)) + [0, 0, 4 + i]
        ju = jo + 0.1
        out.append(Person3D(7 + 3 * i, jo, ju, rng.uniform(0, 1, J), None if i else 2.5, 0.1 * i))
    return out


def test_markers_ids_namespaces_and_colours():
    people = _people()
    h = Header(frame_id="cam_optical")
    arr = markers.marker_array(h, people, lifetime_s=0.3)
    assert len(arr.markers) == 2 * (J + 1)
    for k, p in enumerate(people):
        ms = [m for m in arr.markers if m.ns == f"person_{p.track_id}"]
        spheres = [m for m in ms if m.type == Marker.SPHERE]
        lines = [m for m in ms if m.type == Marker.LINE_LIST]
        assert sorted(m.id for m in spheres) == [p.track_id * 100 + j for j in range(J)]
        assert len(lines) == 1 and len(lines[0].points) == 2 * len(skeleton.BONES)
        for m in spheres:
            j = m.id - p.track_id * 100
            assert np.allclose([m.pose.position.x, m.pose.position.y, m.pose.position.z], p.joints_optical[j])
            assert m.header.frame_id == "cam_optical"
            assert m.lifetime.sec == 0 and abs(m.lifetime.nanosec - 3e8) < 10
            c = p.confidence[j]
            assert (m.color.g > m.color.r) == (c > 0.5) or abs(c - 0.5) < 1e-9


def test_confidence_colour_extremes():
    assert markers.confidence_rgb(0.0) == (1.0, 0.0, 0.0)
    assert markers.confidence_rgb(1.0) == (0.0, 1.0, 0.0)
    assert markers.confidence_rgb(float("nan")) == (1.0, 0.0, 0.0)


def test_skeleton_cloud_roundtrip():
    people = _people(3)
    h = Header(frame_id="f")
    msg = skeleton_msgs.skeleton_cloud(h, people)
    assert msg.width == 3 * J and msg.height == 1 and msg.point_step == 52
    back = skeleton_msgs.read_skeletons(msg)
    assert back["track_id"].tolist() == [p.track_id for p in people]
    np.testing.assert_allclose(back["joints_optical"], np.stack([p.joints_optical for p in people]), atol=1e-5)
    np.testing.assert_allclose(back["joints_upright"], np.stack([p.joints_upright for p in people]), atol=1e-5)
    np.testing.assert_allclose(back["confidence"], np.stack([p.confidence for p in people]), atol=1e-6)
    assert back["plausibility"][0] == 2.5 and np.isnan(back["plausibility"][1:]).all()
    np.testing.assert_allclose(back["elevation"], [0.0, 0.1, 0.2], atol=1e-6)
    empty = skeleton_msgs.read_skeletons(skeleton_msgs.skeleton_cloud(h, []))
    assert empty["joints_optical"].shape == (0, J, 3)


def test_skeleton_cloud_carries_the_2d_detections():
    people = _people(2)
    kp = np.random.default_rng(3).uniform(0, 640, size=(J, 2))
    people[0].keypoints_px = kp
    back = skeleton_msgs.read_skeletons(skeleton_msgs.skeleton_cloud(Header(frame_id="f"), people))
    np.testing.assert_allclose(back["keypoints_px"][0], kp, atol=1e-3)
    assert np.isnan(back["keypoints_px"][1]).all()  # a person without 2D (keypoints_px None)


def test_pose_array_person_major():
    people = _people(2)
    msg = skeleton_msgs.pose_array(Header(frame_id="f"), people)
    assert len(msg.poses) == 2 * J
    p = msg.poses[J + 5].position
    assert np.allclose([p.x, p.y, p.z], people[1].joints_optical[5])


def test_marker_builder_reuses_objects_with_identical_messages():
    b = markers.MarkerBuilder(max_tracks=3)
    h = Header(frame_id="cam")
    rng = np.random.default_rng(5)
    for frame in range(6):
        people = _people(1 + frame % 3)
        for p in people:
            p.track_id += frame  # ids come and go
            p.joints_optical = p.joints_optical + rng.normal(size=(J, 3))
        want = markers.marker_array(h, people, 0.1 * (frame + 1))
        got = b.build(h, people, 0.1 * (frame + 1))
        assert len(got.markers) == len(want.markers) and got == want  # field-by-field message equality
    assert len(b._cache) <= 3
