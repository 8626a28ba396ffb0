"""The detector registry: the NanoDet and MediaPipe kinds, clear errors, and a new kind plugged in through
PosePipeline."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from hpe3d_ros import camera, skeleton
from hpe3d_ros.detection import (
    DEFAULT_KIND,
    DETECTORS,
    Detector,
    DetectorKind,
    DetectorParams,
    NanoDetParams,
    NanoDetPoseDetector,
    Person2D,
    PoseDetector,
    detector_params_class,
    make_detector,
)
from hpe3d_ros.pipeline import PosePipeline


def test_every_kind_names_a_params_dataclass_and_a_skeleton_source():
    assert DEFAULT_KIND in DETECTORS
    for kind, entry in DETECTORS.items():
        assert dataclasses.is_dataclass(detector_params_class(kind)), kind
        assert entry.source in skeleton.SOURCES, kind
    assert detector_params_class("mediapipe") is DetectorParams
    assert detector_params_class("nanodet") is NanoDetParams


def test_mediapipe_kind_builds_the_pose_detector():
    det = make_detector({"kind": "mediapipe", "max_people": 2})
    try:
        assert isinstance(det, PoseDetector) and isinstance(det, Detector)
        assert det.params.max_people == 2
        assert det.detect(np.zeros((48, 64, 3), np.uint8)) == []
    finally:
        det.close()


def test_nanodet_kind_is_the_default():
    det = make_detector({"max_people": 2})
    try:
        assert DEFAULT_KIND == "nanodet" and isinstance(det, NanoDetPoseDetector) and isinstance(det, Detector)
        assert det.params.max_people == 2
        assert det.detect(np.zeros((48, 64, 3), np.uint8)) == []
    finally:
        det.close()


def test_unknown_kind_and_unknown_parameter_are_named():
    with pytest.raises(ValueError, match=r"unknown detector kind 'yolo'; known: mediapipe, nanodet"):
        make_detector({"kind": "yolo"})
    with pytest.raises(ValueError, match=r"max_peeple"):
        make_detector({"max_peeple": 3})


@dataclasses.dataclass
class FixedParams:
    people: int = dataclasses.field(default=1, metadata={"description": "people per frame", "range": (0, 4)})


class FixedDetector:
    """A detector kind for the test: every frame shows ``people`` copies of one projected skeleton."""

    def __init__(self, people: int = 1):
        self.params = FixedParams(people)
        rng = np.random.default_rng(0)
        self.uv = 320 + 40 * rng.normal(size=(skeleton.NUM_JOINTS, 2))
        self.resets = 0

    def detect(self, image_rgb):  # noqa: ARG002 - the Detector protocol
        return [Person2D(i + 1, self.uv + 50 * i, np.full(skeleton.NUM_JOINTS, 0.9), (0.0, 0.0, 10.0, 10.0))
                for i in range(self.params.people)]

    def reset(self):
        self.resets += 1

    def close(self):
        pass


def test_a_new_kind_plugs_into_the_pipeline(monkeypatch, tmp_path):
    from tests.hpe3d_ros.runtime.tiny_lifters import constant_depth_onnx

    monkeypatch.setitem(DETECTORS, "fixed", DetectorKind(FixedDetector, FixedParams, "mediapipe", "test detector"))
    model = constant_depth_onnx(tmp_path / "tiny.onnx", np.linspace(-0.3, 0.3, 16), elevation=0.2)
    pipe = PosePipeline(
        {"model_file_path": str(model), "backend": "onnxruntime", "detector": {"kind": "fixed", "people": 2}}
    )
    assert isinstance(pipe.detector, FixedDetector) and isinstance(pipe.detector, Detector)
    k = camera.intrinsics_from_fov(640, 480, 70.0)
    res = pipe.process(np.zeros((480, 640, 3), np.uint8), k, stamp_ns=5)
    assert [p.track_id for p in res.people] == [1, 2]
    assert all(np.isfinite(p.joints_optical).all() and p.joints_optical[:, 2].min() > 0 for p in res.people)
    np.testing.assert_allclose(res.people[1].keypoints_px, pipe.detector.uv + 50)
