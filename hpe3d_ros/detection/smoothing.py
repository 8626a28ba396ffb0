"""One-Euro landmark smoothing for the several-people path, as MediaPipe smooths its one person.

MediaPipe's pose graph filters landmarks with a One-Euro filter (min cutoff 0.05 Hz, beta 80,
derivative cutoff 1 Hz) on values scaled by the person's size, at the frame rate its solutions
simulate (30 Hz). ``LandmarkSmoother`` applies the same filter per track to x, y, z in pixels,
scaled by the landmark box's mean side, so that the single- and several-people paths jitter alike.
Visibility is not filtered.
"""
from __future__ import annotations

import numpy as np

MIN_CUTOFF = 0.05
BETA = 80.0
DERIVATE_CUTOFF = 1.0
FREQUENCY = 30.0


def _alpha(cutoff: np.ndarray | float) -> np.ndarray:
    tau = 1.0 / (2.0 * np.pi * np.asarray(cutoff, dtype=np.float64))
    return 1.0 / (1.0 + tau * FREQUENCY)


class LandmarkSmoother:
    """One-Euro filter over (33, 3) landmark positions of one person, one frame at a time."""

    def __init__(self) -> None:
        self._x: np.ndarray | None = None  # last filtered value
        self._raw: np.ndarray | None = None  # last raw value
        self._dx: np.ndarray | None = None  # last filtered derivative

    def reset(self) -> None:
        """Forget the history (after a track was lost)."""
        self._x = self._raw = self._dx = None

    def __call__(self, landmarks: np.ndarray) -> np.ndarray:
        """Smoothed copy of ``landmarks`` (33, 4): x, y, z filtered, visibility unchanged."""
        lm = np.asarray(landmarks, dtype=np.float64)
        value = lm[:, :3]
        box = np.ptp(lm[:, :2], axis=0)
        scale = max(float(box.mean()), 1e-6)
        out = lm.copy()
        if self._x is None:
            self._x, self._raw, self._dx = value.copy(), value.copy(), np.zeros_like(value)
            return out
        dvalue = (value - self._raw) / scale * FREQUENCY
        a_d = _alpha(DERIVATE_CUTOFF)
        self._dx = a_d * dvalue + (1.0 - a_d) * self._dx
        a = _alpha(MIN_CUTOFF + BETA * np.abs(self._dx))
        self._x = a * value + (1.0 - a) * self._x
        self._raw = value.copy()
        out[:, :3] = self._x
        return out
