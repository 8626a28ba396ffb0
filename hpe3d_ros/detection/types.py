"""What the detector returns for one person (contract 7)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Person2D:
    """One detected person in one frame.

    - ``track_id``: stable across frames while the person stays tracked.
    - ``keypoints`` (16, 2) float pixels in the joint order of ``hpe3d_ros.skeleton``.
    - ``scores`` (16,) float in [0, 1]; joints under ``min_keypoint_confidence`` have score 0.
    - ``bbox`` (x0, y0, x1, y1) pixels: the box of the person's landmarks, clipped to the image.
    - ``landmarks``: the detector's own points, or None. MediaPipe: (33, 4) BlazePose landmarks as
      pixel x, y, z (z in pixels of the same scale as x, relative to the hips, smaller = nearer) and
      visibility.
    - ``confidence``: the person's confidence (mean landmark visibility of the 16 layout joints' sources).
    - ``world_landmarks``: the detector's own metric 3D points, or None. MediaPipe: (33, 3) BlazePose world
      landmarks in metres, origin between the hips, axes those of the image (x right, y down, z away
      from the camera); the ``mediapipe_world`` lifter backend publishes them (hpe3d_ros.world_landmarks).
    """

    track_id: int
    keypoints: np.ndarray
    scores: np.ndarray
    bbox: tuple
    landmarks: np.ndarray | None = None
    confidence: float = 1.0
    world_landmarks: np.ndarray | None = None
