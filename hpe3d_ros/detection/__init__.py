"""2D human pose detection: MediaPipe BlazePose for several people with stable track ids (contract 7).

``PoseDetector(**params).detect(image_rgb)`` -> list[Person2D]; parameters in ``DetectorParams``.
"""
from .params import DetectorParams
from .pose_detector import PoseDetector
from .types import Person2D

__all__ = ["DetectorParams", "PoseDetector", "Person2D"]
