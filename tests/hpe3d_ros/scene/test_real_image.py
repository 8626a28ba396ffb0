"""The scene stage on a real frame through the real pipeline (MediaPipe, the shipped or a tiny lifter): a mirrored
image mirrors the heading and the head yaw (the signs are right), and the placed people stand on the ground."""
from __future__ import annotations

import math

import numpy as np
import pytest

from hpe3d_ros import camera
from hpe3d_ros.pipeline import PosePipeline
from hpe3d_ros.scene.kinematics import angle_difference

from ..node.ros_harness import first_people_frame, tiny_model

SCENE = {"camera_mount.mode": "full", "camera_mount.z": 1.6, "camera_mount.pitch": 0.1}


@pytest.fixture(scope="module")
def frame():
    return first_people_frame()


def _people(rgb: np.ndarray, model) -> list:
    h, w = rgb.shape[:2]
    pipe = PosePipeline({"model_file_path": str(model), "backend": "onnxruntime", "scene": SCENE})
    k = camera.intrinsics_from_fov(w, h, 65.0)  # principal point at the centre: the mirror has the same K
    for i in range(3):  # the tracker's first frames
        res = pipe.process(rgb, k, i * 33_333_333)
    pipe.detector.close()
    return sorted(res.people, key=lambda p: -float(p.keypoints_px[:, 1].max()))


def test_a_mirrored_frame_mirrors_heading_and_head_yaw(frame, tmp_path):
    model = tiny_model(tmp_path)
    a = _people(frame, model)
    b = _people(np.ascontiguousarray(frame[:, ::-1]), model)
    assert a and b, "no person in the street frame"
    pa, pb = a[0].state, b[0].state  # the nearest person (lowest feet)
    assert pa.heading_confidence > 0.3 and pb.heading_confidence > 0.3
    assert abs(float(angle_difference(pa.heading, -pb.heading))) < math.radians(20)
    assert abs(pa.position_base[1] + pb.position_base[1]) < 0.3  # left and right swap
    if pa.head.confidence > 0.3 and pb.head.confidence > 0.3:
        assert abs(float(angle_difference(pa.head.yaw, -pb.head.yaw))) < math.radians(25)
    for s in (pa, pb):
        if s.placement.method == "fused":  # on the ground plane: the pelvis at hip height
            assert 0.5 < s.position_base[2] < 1.4
