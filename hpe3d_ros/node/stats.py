"""The node's counters and recent per-stage latencies (shared by its callbacks and its worker), and the
rates and percentiles computed from them for /diagnostics, the status log and the replay."""
from __future__ import annotations

import threading
from collections import deque
from typing import Any

import numpy as np

STAGES = ("decode", "detect", "map", "lift", "publish", "total")
# Before processing: image stamp -> callback (transport, by the wall clock) and callback -> worker start.
QUEUE_STAGES = ("receive", "wait")
#: An image stamp further than this from the node's clock (zero, a camera with its own clock, a hostile
#: sender) is implausible: the frame is processed, but its age and transport latency are left out of the
#: statistics (counted in ``stamps_implausible``) instead of swamping them for a whole window.
STAMP_PLAUSIBLE_S = 60.0


def plausible_stamp(stamp_ns: int, now_ns: int, window_s: float = STAMP_PLAUSIBLE_S) -> bool:
    """True when the image stamp ``stamp_ns`` lies within ``window_s`` of the clock's ``now_ns``."""
    return stamp_ns > 0 and abs(now_ns - stamp_ns) <= window_s * 1e9


class Stats:
    """Counters and recent per-stage latencies, shared between the callbacks and the worker."""

    def __init__(self, window: int):
        self.lock = threading.Lock()
        self.window = window
        self.counts: dict[str, int] = {
            "received": 0, "processed": 0, "published": 0, "dropped": 0, "stale_skipped": 0,
            "decode_errors": 0, "processing_errors": 0, "camera_info_errors": 0, "callback_errors": 0,
            "people_dropped_nonfinite": 0, "stamps_implausible": 0,
        }
        self.errors_by_reason: dict[str, int] = {}
        self.latency: dict[str, deque] = {s: deque(maxlen=window) for s in STAGES + QUEUE_STAGES}
        self.age: deque = deque(maxlen=window)
        self.in_times: deque = deque(maxlen=window)
        self.out_times: deque = deque(maxlen=window)
        self.people: deque = deque(maxlen=window)

    def count(self, key: str, n: int = 1) -> None:
        with self.lock:
            self.counts[key] = self.counts.get(key, 0) + n

    def reason(self, reason: str) -> None:
        with self.lock:
            if reason not in self.errors_by_reason and len(self.errors_by_reason) >= 64:
                reason = "other"
            self.errors_by_reason[reason] = self.errors_by_reason.get(reason, 0) + 1

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                "counts": dict(self.counts),
                "reasons": dict(self.errors_by_reason),
                "latency": {s: list(v) for s, v in self.latency.items()},
                "age": list(self.age),
                "in_times": list(self.in_times),
                "out_times": list(self.out_times),
                "people": list(self.people),
            }


def rate_hz(times: list[float], now: float, span: float = 5.0) -> float:
    """Events per second over the last ``span`` seconds."""
    recent = [t for t in times if now - t <= span]
    if len(recent) < 2:
        return 0.0
    return (len(recent) - 1) / max(recent[-1] - recent[0], 1e-9)


def percentiles_ms(values: list[float]) -> tuple[float, float, float]:
    """(p50, p95, p99) in milliseconds of values in seconds; NaN when empty."""
    if not values:
        return (float("nan"),) * 3
    a = np.asarray(values) * 1e3
    return tuple(float(x) for x in np.percentile(a, [50, 95, 99]))
