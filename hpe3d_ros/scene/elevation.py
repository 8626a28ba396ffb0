"""A robust running estimate of a static camera's elevation over frames (docs/placement.md "Elevation").

The lifter predicts the camera's elevation per person; the pipeline pools it over the people of a
frame (their median). The camera does not move between frames (a static or rigidly mounted camera), so
the frames' estimates are pooled over time too:

- an exponential filter with time constant ``tau`` (seconds, by the frames' stamps): after a frame
  ``dt`` seconds later the estimate moves by ``alpha = 1 - exp(-dt / tau)`` of the residual; during the
  first frames ``alpha`` is at least ``1 / n`` (a plain mean of the first ``n`` frames, so it starts
  quickly);
- outlier rejection: a frame further than ``outlier`` radians from the estimate does not move it;
- reset: ``jump_frames`` outliers in a row are a persistent jump (the camera was moved): the estimate
  restarts from their median. ``reset()`` (a parameter change, the node's ``~/reset_elevation``
  service) and a stamp that goes backwards (a bag replayed again) restart it too.

``std`` is the statistical uncertainty of the estimate (the residuals' running spread times
``sqrt(alpha / (2 - alpha))``, the steady-state spread of an exponential mean); the lifter's bias is
not in it (``elevation.bias_std_deg``).
"""
from __future__ import annotations

import math
from collections import deque

import numpy as np

INITIAL_SPREAD_RAD = math.radians(3.0)


class RunningElevation:
    """The running estimate; ``update`` returns the elevation to use for a frame."""

    def __init__(self, time_constant_s: float, outlier_rad: float, jump_frames: int):
        if time_constant_s < 0 or outlier_rad <= 0 or jump_frames < 1:
            raise ValueError(
                f"RunningElevation: need time_constant_s >= 0, outlier_rad > 0, jump_frames >= 1; got "
                f"{time_constant_s}, {outlier_rad}, {jump_frames}"
            )
        self.tau = float(time_constant_s)
        self.outlier = float(outlier_rad)
        self.jump_frames = int(jump_frames)
        self.reset()

    def reset(self) -> None:
        """Forget everything: the next frame starts the estimate afresh."""
        self.value: float | None = None
        self.var = INITIAL_SPREAD_RAD**2
        self.n = 0
        self.last_ns: int | None = None
        self.alpha = 1.0
        self.rejected: deque[float] = deque(maxlen=self.jump_frames)
        self.resets = 0
        self.outliers = 0

    @property
    def std(self) -> float:
        """Statistical 1-sigma uncertainty of the estimate (radians); inf before the first frame."""
        if self.value is None:
            return math.inf
        a = min(max(self.alpha, 1e-6), 1.0)
        return math.sqrt(self.var * a / (2.0 - a))

    def update(self, elevation: float, stamp_ns: int) -> float:
        """Feed one frame's pooled elevation (radians) stamped ``stamp_ns``; returns the estimate."""
        e = float(elevation)
        if not math.isfinite(e):
            return e if self.value is None else self.value
        if self.tau <= 0:
            self.value, self.alpha, self.last_ns = e, 1.0, int(stamp_ns)
            return e
        if self.value is None or (self.last_ns is not None and stamp_ns < self.last_ns):
            started = self.value is not None
            self.reset()
            self.resets += int(started)
            self.value, self.n, self.last_ns = e, 1, int(stamp_ns)
            return e
        dt = max(0.0, (int(stamp_ns) - self.last_ns) * 1e-9)
        self.last_ns = int(stamp_ns)
        r = e - self.value
        if abs(r) > self.outlier:
            self.outliers += 1
            self.rejected.append(e)
            if len(self.rejected) >= self.jump_frames:  # a persistent jump: restart from the new level
                self.value = float(np.median(self.rejected))
                self.n, self.var, self.alpha = len(self.rejected), INITIAL_SPREAD_RAD**2, 1.0 / len(self.rejected)
                self.rejected.clear()
                self.resets += 1
            return self.value
        self.rejected.clear()
        self.n += 1
        self.alpha = max(1.0 - math.exp(-dt / self.tau), 1.0 / self.n)
        self.value += self.alpha * r
        self.var += self.alpha * (r * r - self.var)
        return self.value
