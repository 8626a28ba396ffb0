"""One-Euro landmark smoothing for the several-people path, as MediaPipe smooths its one person.

MediaPipe's pose graph (``pose_landmark_filtering.pbtxt``) filters
- the landmarks with a One-Euro filter (min cutoff 0.1 Hz, beta 40, derivative cutoff 1 Hz) and
  their visibility with a low-pass filter (alpha 0.1);
- the two auxiliary landmarks that place the next frame's region of interest much more heavily
  (min cutoff 0.01 Hz, beta 1), so that the region stays still while the person does;
values being scaled by the object's size (the mean side of the landmarks' box), at the frame rate its
solutions simulate (30 Hz). ``LandmarkSmoother`` applies the same filters per track in pixels.
PoseDetector smooths the reported landmarks only: smoothing the auxiliary landmarks too made the
regions lag behind walking people (vtest.avi, first 200 frames, several-people path: 1.25 instead
of 1.46 people per frame, longest track 64 instead of 148 frames).
"""
from __future__ import annotations

import numpy as np

FREQUENCY = 30.0
LANDMARKS = {"min_cutoff": 0.1, "beta": 40.0, "derivate_cutoff": 1.0, "visibility_alpha": 0.1}
AUXILIARY = {"min_cutoff": 0.01, "beta": 1.0, "derivate_cutoff": 1.0, "visibility_alpha": None}


def _alpha(cutoff: np.ndarray | float) -> np.ndarray:
    tau = 1.0 / (2.0 * np.pi * np.asarray(cutoff, dtype=np.float64))
    return 1.0 / (1.0 + tau * FREQUENCY)


class LandmarkSmoother:
    """One-Euro filter over landmark positions (K, 2 or 3) (+ an optional visibility column),
    one frame at a time."""

    def __init__(self, min_cutoff: float, beta: float, derivate_cutoff: float, visibility_alpha: float | None):
        self.min_cutoff, self.beta, self.derivate_cutoff = min_cutoff, beta, derivate_cutoff
        self.visibility_alpha = visibility_alpha
        self.reset()

    @classmethod
    def for_landmarks(cls) -> "LandmarkSmoother":
        """MediaPipe's filter for the 33 pose landmarks (x, y, z, visibility)."""
        return cls(**LANDMARKS)

    @classmethod
    def for_auxiliary(cls) -> "LandmarkSmoother":
        """MediaPipe's heavier filter for the 2 auxiliary landmarks (x, y) that place the region."""
        return cls(**AUXILIARY)

    def reset(self) -> None:
        """Forget the history (after a track was lost)."""
        self._x: np.ndarray | None = None  # last filtered positions
        self._raw: np.ndarray | None = None  # last raw positions
        self._dx: np.ndarray | None = None  # last filtered derivative
        self._vis: np.ndarray | None = None

    def __call__(self, landmarks: np.ndarray) -> np.ndarray:
        """Smoothed copy of ``landmarks``: positions filtered; a 4th column (visibility) low-passed
        when ``visibility_alpha`` is set, else unchanged."""
        lm = np.asarray(landmarks, dtype=np.float64)
        n_pos = 3 if lm.shape[1] >= 4 else lm.shape[1]
        value = lm[:, :n_pos]
        out = lm.copy()
        if self._x is None:
            self._x, self._raw, self._dx = value.copy(), value.copy(), np.zeros_like(value)
            if lm.shape[1] >= 4:
                self._vis = lm[:, 3].copy()
            return out
        scale = max(float(np.ptp(lm[:, :2], axis=0).mean()), 1e-6)
        dvalue = (value - self._raw) / scale * FREQUENCY
        a_d = _alpha(self.derivate_cutoff)
        self._dx = a_d * dvalue + (1.0 - a_d) * self._dx
        a = _alpha(self.min_cutoff + self.beta * np.abs(self._dx))
        self._x = a * value + (1.0 - a) * self._x
        self._raw = value.copy()
        out[:, :n_pos] = self._x
        if lm.shape[1] >= 4 and self.visibility_alpha is not None:
            self._vis = self.visibility_alpha * lm[:, 3] + (1.0 - self.visibility_alpha) * self._vis
            out[:, 3] = self._vis
        return out
