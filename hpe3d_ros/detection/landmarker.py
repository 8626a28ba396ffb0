"""MediaPipe BlazePose landmarks (full model, tracking mode) on a whole frame or on a square crop."""
from __future__ import annotations

import os

import numpy as np

os.environ.setdefault("GLOG_minloglevel", "2")  # MediaPipe's C++ logging: warnings and up only


def _mp_pose():
    import mediapipe as mp

    return mp.solutions.pose


class Landmarker:
    """One ``mp.solutions.pose.Pose`` in tracking mode (model_complexity=1, the model the wheel ships).

    Each tracked person owns one, so that MediaPipe keeps that person's region of interest between
    frames and re-detects inside it when the person is lost.
    """

    def __init__(self, min_detection_confidence: float, min_tracking_confidence: float, smooth_landmarks: bool):
        self._pose = _mp_pose().Pose(
            static_image_mode=False,
            model_complexity=1,
            smooth_landmarks=smooth_landmarks,
            enable_segmentation=False,
            min_detection_confidence=min_detection_confidence,
            min_tracking_confidence=min_tracking_confidence,
        )

    def process(self, image_rgb: np.ndarray) -> np.ndarray | None:
        """Landmarks (33, 4) as x, y in pixels of ``image_rgb``, z in pixels (x's scale), visibility; None if no person."""
        result = self._pose.process(image_rgb)
        if result.pose_landmarks is None:
            return None
        h, w = image_rgb.shape[:2]
        lm = np.array([(p.x, p.y, p.z, p.visibility) for p in result.pose_landmarks.landmark], dtype=np.float64)
        lm[:, 0] *= w
        lm[:, 1] *= h
        lm[:, 2] *= w
        return lm

    def reset(self) -> None:
        """Forget the tracked region (the next frame starts with a detection)."""
        self._pose.reset()

    def close(self) -> None:
        """Free the MediaPipe graph."""
        self._pose.close()


def crop_square(image_rgb: np.ndarray, center: np.ndarray, side: float, out_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Crop a square of ``side`` pixels around ``center`` (padded with black outside the image),
    resized to ``out_size``; returns the crop and the affine (2, 3) from crop pixels to image pixels."""
    import cv2

    side = max(float(side), 8.0)
    scale = out_size / side
    x0, y0 = center[0] - side / 2.0, center[1] - side / 2.0
    m = np.array([[scale, 0.0, -x0 * scale], [0.0, scale, -y0 * scale]])
    crop = cv2.warpAffine(image_rgb, m, (out_size, out_size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    back = np.array([[1.0 / scale, 0.0, x0], [0.0, 1.0 / scale, y0]])
    return crop, back


def landmarks_to_image(lm: np.ndarray, back: np.ndarray) -> np.ndarray:
    """Map crop-pixel landmarks (33, 4) to image pixels with the crop's affine (uniform scale)."""
    out = lm.copy()
    out[:, 0] = lm[:, 0] * back[0, 0] + back[0, 2]
    out[:, 1] = lm[:, 1] * back[1, 1] + back[1, 2]
    out[:, 2] = lm[:, 2] * back[0, 0]
    return out
