"""PosePipeline with the real MediaPipe detector and a real ONNX Runtime lifter on a fixture frame."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hpe3d_ros import camera, skeleton
from hpe3d_ros.pipeline import PosePipeline, check_params, frame_intrinsics

FRAME = Path(__file__).resolve().parents[1] / "fixtures" / "media" / "street-demo-frame0.png"


def _bone_sum(height_m: float) -> float:
    return skeleton.REFERENCE_BONE_SUM_M * height_m / skeleton.REFERENCE_HEIGHT_M


@pytest.fixture(scope="module")
def rgb() -> np.ndarray:
    import cv2

    if not FRAME.is_file():
        pytest.skip(f"{FRAME} is missing")
    return cv2.cvtColor(cv2.imread(str(FRAME)), cv2.COLOR_BGR2RGB)


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    from tests.hpe3d_ros.runtime.tiny_lifters import constant_depth_onnx

    return constant_depth_onnx(tmp_path_factory.mktemp("pipe") / "tiny.onnx", np.linspace(-0.3, 0.3, 16), elevation=0.2)


def test_people_in_metres_with_stage_timings(rgb, model):
    # elevation.time_constant_s 0: each frame's own pooled elevation (not a running estimate over frames), so the
    # skeletons equal a direct lift of this frame
    pipe = PosePipeline({"model_file_path": str(model), "backend": "onnxruntime",
                         "scene": {"elevation.time_constant_s": 0.0}})
    h, w = rgb.shape[:2]
    k = camera.intrinsics_from_fov(w, h, 70.0)
    for _ in range(2):
        res = pipe.process(rgb, k, stamp_ns=123)
    assert set(res.timings) == {"detect", "map", "lift", "scene"} and all(v >= 0 for v in res.timings.values())
    assert res.stamp_ns == 123 and not res.intrinsics_fallback and "onnxruntime" in res.backend
    assert len(res.people) >= 1
    ids = [p.track_id for p in res.people]
    assert len(set(ids)) == len(ids)
    # The same numbers as lifting the detector's 2D directly, all people in one batch.
    kp = np.stack([p.keypoints_px for p in res.people])
    sc = np.stack([p.confidence for p in res.people])
    direct = pipe.lifter.lift(kp, k, sc, height_m=1.70, pool_elevation=True)
    np.testing.assert_allclose(np.stack([p.joints_optical for p in res.people]), direct.joints_optical, atol=1e-9)
    np.testing.assert_allclose(np.stack([p.joints_upright for p in res.people]), direct.joints_upright, atol=1e-9)
    for p in res.people:
        assert p.joints_optical.shape == (skeleton.NUM_JOINTS, 3) and (p.joints_optical[:, 2] > 0).all()
        # the model's constant 0.2 rad is the elevation of a virtual camera looking at each person;
        # the reported one is the camera's own, pooled over the frame's people (the median)
        _, rot = camera.pixels_to_root_camera(kp, k)
        assert abs(p.elevation - np.median(camera.elevation_in_optical(np.full(len(kp), 0.2), rot))) < 1e-6
        assert p.plausibility is not None
        # metric: the bone-length sum of a 1.70 m person
        assert abs(skeleton.bone_lengths(p.joints_optical).sum() - _bone_sum(1.70)) < 1e-6
    # A taller prior scales the skeletons.
    pipe.set_body_height(1.90)
    tall = pipe.process(rgb, k)
    assert abs(skeleton.bone_lengths(tall.people[0].joints_optical).sum() - _bone_sum(1.90)) < 1e-6


def test_people_of_one_frame_share_one_camera_elevation(model):
    """lift_batch pools the elevation: one camera, one pitch; the median of the people's estimates."""
    pipe = PosePipeline({"model_file_path": str(model), "backend": "onnxruntime"}, detector=object())
    k = camera.intrinsics_from_fov(640, 480, 70.0)
    body = np.column_stack([np.zeros(16), np.linspace(-90, 90, 16)]) + np.random.default_rng(0).normal(0, 4, (16, 2))
    centres = np.array([[90.0, 150.0], [330.0, 260.0], [560.0, 380.0], [200.0, 330.0]])  # off-axis: different views
    kp = body[None] + centres[:, None]
    sc = np.full((4, 16), 0.9)
    people, dropped = pipe.lift_batch(kp, sc, k, [1, 2, 3, 4])
    assert dropped == 0
    alone = pipe.lifter.lift(kp, k, sc, height_m=1.70)  # each person's own estimate
    assert np.ptp(alone.elevation) > 0.05, "the test needs people whose own estimates differ"
    elevations = np.array([p.elevation for p in people])
    np.testing.assert_allclose(elevations, np.median(alone.elevation), atol=1e-12)
    for p, jo in zip(people, alone.joints_optical):
        np.testing.assert_allclose(p.joints_optical, jo, atol=1e-12)  # pooling changes the uprighting only
        np.testing.assert_allclose(p.joints_upright, camera.upright_from_optical(jo, p.elevation), atol=1e-9)
    one, _ = pipe.lift_batch(kp[:1], sc[:1], k, [1])  # alone in the frame: its own estimate
    assert one[0].elevation == pytest.approx(alone.elevation[0], abs=1e-12)


def test_missing_or_uncalibrated_k_falls_back_to_the_field_of_view(rgb, model):
    pipe = PosePipeline({"model_file_path": str(model), "backend": "onnxruntime", "fallback_hfov_deg": 80.0})
    h, w = rgb.shape[:2]
    for k in (None, np.zeros((3, 3)), np.full((3, 3), np.nan)):
        res = pipe.process(rgb, k)
        assert res.intrinsics_fallback
        np.testing.assert_allclose(res.intrinsics, camera.intrinsics_from_fov(w, h, 80.0))
    k_used, fb = frame_intrinsics(camera.intrinsics_from_fov(w, h, 50.0), w, h, 80.0)
    assert not fb and np.isclose(k_used[0, 0], camera.intrinsics_from_fov(w, h, 50.0)[0, 0])


def test_detector_only_mode_and_bad_input(rgb):
    pipe = PosePipeline({"lift": False})
    res = pipe.process(rgb, None)
    assert pipe.lifter is None and res.people
    assert np.allclose(res.people[0].joints_optical[:, 2], 3.0)
    with pytest.raises(ValueError, match="RGB uint8"):
        pipe.process(rgb.astype(np.float32), None)
    with pytest.raises(ValueError, match="RGB uint8"):
        pipe.process(rgb[:, :, 0], None)


def test_parameters_are_checked():
    with pytest.raises(ValueError, match="unknown parameters"):
        check_params({"bakend": "onnxruntime"})
    with pytest.raises(ValueError, match="backend"):
        check_params({"backend": "tflite"})
    with pytest.raises(ValueError, match="body_height_m"):
        check_params({"body_height_m": 4.0})
    with pytest.raises(FileNotFoundError, match="nowhere.onnx"):
        PosePipeline({"model_file_path": "/nowhere.onnx"}, detector=object())


def test_people_whose_lift_is_not_finite_are_left_out_and_counted(tmp_path):
    """A lifter that returns NaN for some people of a batch (LiftResult.valid False): those people are
    dropped and counted, the others keep their finite skeletons and the shared elevation."""
    from hpe3d_ros.replay.node_outputs import process_keypoints
    from tests.hpe3d_ros.runtime.tiny_lifters import nan_for_left_leaning_onnx

    pipe = PosePipeline(
        {"model_file_path": str(nan_for_left_leaning_onnx(tmp_path / "nan.onnx")), "backend": "onnxruntime"},
        detector=object(),
    )
    k = camera.intrinsics_from_fov(640, 480, 70.0)
    body = np.column_stack([np.linspace(0, 60, 16), np.linspace(-90, 90, 16)])
    kp = np.stack([body + [320, 240], body * [-1, 1] + [320, 240], body + [300, 250]])  # the middle one leans left
    sc = np.full((3, 16), 0.9)
    people, dropped = pipe.lift_batch(kp, sc, k, [7, 8, 9])
    assert dropped == 1 and [p.track_id for p in people] == [7, 9]
    for p in people:
        assert np.isfinite(p.joints_optical).all() and np.isfinite(p.joints_upright).all() and np.isfinite(p.elevation)
    res = process_keypoints(pipe, kp, sc, k, (640, 480), [7, 8, 9])
    assert res.dropped_nonfinite == 1 and len(res.people) == 2


@pytest.mark.parametrize(
    "k, words",
    [
        (np.diag([5e-324, 5e-324, 1.0]), "field of view"),
        (np.diag([1e308, 1e308, 1.0]), "field of view"),
        (np.array([[500.0, 0, 1e9], [0, 500, 240], [0, 0, 1]]), "principal point"),
        (np.array([[500.0, 0, 320], [0, 5.0, 240], [0, 0, 1]]), "differ"),
        (np.full((3, 3), np.nan), "NaN"),
        (np.zeros((3, 3)), "not positive"),
        (np.array([[500.0, 0, 320], [0, 500, 240], [0, 0, 2]]), "pinhole"),
        (None, "no camera intrinsics"),
    ],
)
def test_implausible_k_falls_back_and_says_why(k, words):
    k_used, problem = frame_intrinsics(k, 640, 480, 60.0)
    assert words in problem
    np.testing.assert_allclose(k_used, camera.intrinsics_from_fov(640, 480, 60.0))
