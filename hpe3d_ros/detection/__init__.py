"""2D human pose detection: people with 2D joints in the layout, per-joint scores and stable track ids.

``make_detector({"kind": ..., **params}).detect(image_rgb)`` -> list[Person2D] (registry.py: the
detector kinds). ``nanodet`` (the default): NanoDet-m boxes -> BlazePose landmarks per person
(``NanoDetPoseDetector``, parameters ``NanoDetParams``); ``mediapipe``: BlazePose's own person detector
(``PoseDetector``, parameters ``DetectorParams``). Both run the top-down frame loop of topdown.py.
"""
from .nanodet import NanoDetPoseDetector
from .params import DetectorParams, NanoDetParams
from .pose_detector import PoseDetector
from .registry import DEFAULT_KIND, DETECTORS, Detector, DetectorKind, detector_params_class, make_detector
from .types import Person2D

__all__ = ["DEFAULT_KIND", "DETECTORS", "Detector", "DetectorKind", "DetectorParams", "NanoDetParams",
           "NanoDetPoseDetector", "PoseDetector", "Person2D", "detector_params_class", "make_detector"]
