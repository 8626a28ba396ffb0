"""The ``mediapipe_world`` backend: BlazePose's own world landmarks published as the skeletons, on a real
image through PosePipeline, with the learned lifter's pooled elevation standing them upright."""
from __future__ import annotations

import numpy as np
import pytest

from hpe3d_ros import camera, skeleton
from hpe3d_ros.pipeline import BACKENDS, PosePipeline
from hpe3d_ros.world_landmarks import WorldLandmarkLifter

from .detection.test_pose_detector import _rgb

J = {n: i for i, n in enumerate(skeleton.JOINT_NAMES)}


@pytest.fixture(scope="module")
def street_frame(fixtures_dir) -> np.ndarray:
    return _rgb(fixtures_dir / "media" / "street-demo-frame0.png")


@pytest.fixture(scope="module")
def results(street_frame):
    k = camera.intrinsics_from_fov(street_frame.shape[1], street_frame.shape[0], 70.0)
    out = {}
    for backend in ("mediapipe_world", "onnxruntime"):
        pipe = PosePipeline({"backend": backend, "detector": {"kind": "nanodet"}})
        out[backend] = (pipe, pipe.process(street_frame, k), k)
    return out


def test_world_landmarks_become_metric_skeletons_on_the_people(results):
    pipe, res, k = results["mediapipe_world"]
    assert "mediapipe_world" in BACKENDS and isinstance(pipe.lifter, WorldLandmarkLifter)
    assert pipe.backend.startswith("mediapipe_world, elevation from ours_bandai.onnx")
    assert len(res.people) >= 5
    for p in res.people:
        jo = p.joints_optical
        assert np.isfinite(jo).all() and (jo[:, 2] > 0.5).all()
        bones = skeleton.bone_lengths(jo - jo[skeleton.ROOT]).sum()
        height = bones * skeleton.REFERENCE_HEIGHT_M / skeleton.REFERENCE_BONE_SUM_M
        assert abs(height - 1.70) < 0.01  # scaled to the body-height prior like every lifter
        uv = camera.project(jo, k)
        h = p.bbox[3] - p.bbox[1]
        err = np.linalg.norm(uv - p.keypoints_px, axis=1)
        assert np.median(err) < 0.08 * h, "the 3D joints do not project onto the person"
        assert jo[J["head"], 1] < jo[J["pelvis"], 1] < jo[J["left_ankle"], 1]  # y down in the optical frame
        assert p.plausibility is None


def test_the_elevation_is_the_learned_lifters_and_the_skeletons_differ(results):
    world_pipe, world, _ = results["mediapipe_world"]
    _, learned, _ = results["onnxruntime"]
    e_world = {p.elevation for p in world.people}
    e_learned = {p.elevation for p in learned.people}
    assert len(e_world) == 1 and len(e_learned) == 1  # pooled over the frame
    assert abs(e_world.pop() - e_learned.pop()) < 1e-6  # the same people, the same lifter for elevation
    by_id = {p.track_id: p for p in learned.people}
    diffs = [np.abs(p.joints_optical - by_id[p.track_id].joints_optical).max()
             for p in world.people if p.track_id in by_id]
    assert diffs and max(diffs) > 0.01  # two different 3D estimates of the same 2D people


def test_without_world_landmarks_the_backend_says_so():
    lifter = WorldLandmarkLifter(None)
    with pytest.raises(ValueError, match="world landmarks"):
        lifter.lift(np.zeros((1, 16, 2)), camera.intrinsics_from_fov(640, 480, 60.0), world=None)
    assert lifter.describe() == "mediapipe_world (no elevation: upright = optical)"
