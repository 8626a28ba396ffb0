"""2D human pose detection: MediaPipe BlazePose for several people with stable track ids (contract 7).

``make_detector({"kind": ..., **params}).detect(image_rgb)`` -> list[Person2D] (registry.py: the
detector kinds); the MediaPipe one is ``PoseDetector(**params)``, parameters in ``DetectorParams``.
"""
from .params import DetectorParams
from .pose_detector import PoseDetector
from .registry import DEFAULT_KIND, DETECTORS, Detector, DetectorKind, detector_params_class, make_detector
from .types import Person2D

__all__ = ["DEFAULT_KIND", "DETECTORS", "Detector", "DetectorKind", "DetectorParams", "PoseDetector", "Person2D",
           "detector_params_class", "make_detector"]
