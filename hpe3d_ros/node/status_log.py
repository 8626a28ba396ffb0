"""lift_node's periodic status line in its log, so a user sees it working without ``ros2 topic echo``.

Every ``status_log_period_s`` seconds the node logs one INFO line about the frames since the last
line, for example::

    status: 50 frames in, 48 out, 2 dropped in the last 5.0 s (10.0 Hz in, 9.6 Hz out); people per frame 2.1 (max 3);
    latency p50 61 ms, p95 88 ms (detect 52 ms, lift 2.1 ms); backend onnxruntime [CPUExecutionProvider]

("in": images received; "out": frames processed and published; "dropped": replaced by a newer image
while the worker was busy; latency: from the start of decoding to the outputs being published, the
stages as in /diagnostics). With no image in the period it says what it is waiting for. The numbers
come from the node's ``Stats`` snapshot (hpe3d_ros.node.stats); /diagnostics has the full set.
"""
from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np

ERROR_KEYS = ("decode_errors", "processing_errors", "camera_info_errors", "callback_errors", "stale_skipped")


def _ms(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=np.float64), q) * 1e3)


class StatusLog:
    """Formats the status line of the frames since the previous call (see the module docstring)."""

    def __init__(self, image_topic: str, backend: str, clock: Callable[[], float] = time.monotonic):
        self.image_topic = image_topic
        self.backend = backend.split(":")[
            0
        ].strip()  # "onnxruntime [CPUExecutionProvider]", without the selection story
        self.clock = clock
        self.last_time = clock()
        self.last_counts: dict[str, int] = {}

    def line(self, snapshot: dict[str, Any]) -> str:
        """The status text for ``Stats.snapshot()``; remembers the counts for the next period."""
        now = self.clock()
        period = max(now - self.last_time, 1e-9)
        counts = snapshot["counts"]
        delta = {k: int(counts.get(k, 0)) - self.last_counts.get(k, 0) for k in counts}
        self.last_time, self.last_counts = now, {k: int(v) for k, v in counts.items()}
        n_in, n_out, n_drop = delta.get("received", 0), delta.get("processed", 0), delta.get("dropped", 0)
        if n_in == 0 and n_out == 0:
            return (
                f"status: no images in the last {period:.1f} s on {self.image_topic} "
                f"({counts.get('received', 0)} so far); backend {self.backend}"
            )
        text = (
            f"status: {n_in} frames in, {n_out} out, {n_drop} dropped in the last {period:.1f} s "
            f"({n_in / period:.1f} Hz in, {n_out / period:.1f} Hz out)"
        )
        recent = slice(-n_out, None) if n_out else slice(0, 0)  # the frames processed in this period
        people = snapshot["people"][recent]
        if people:
            text += f"; people per frame {np.mean(people):.1f} (max {max(people)})"
        total = snapshot["latency"]["total"][recent]
        if total:
            detect = [v for v in snapshot["latency"]["detect"][recent] if np.isfinite(v)]
            lift = [v for v in snapshot["latency"]["lift"][recent] if np.isfinite(v)]
            stages = ", ".join(
                f"{name} {_ms(v, 50):.{1 if name == 'lift' else 0}f} ms"
                for name, v in (("detect", detect), ("lift", lift))
                if v
            )
            text += f"; latency p50 {_ms(total, 50):.0f} ms, p95 {_ms(total, 95):.0f} ms" + (
                f" ({stages})" if stages else ""
            )
        errors = sum(max(delta.get(k, 0), 0) for k in ERROR_KEYS)
        if errors:
            text += f"; {errors} frames skipped or bad messages (see /diagnostics)"
        return text + f"; backend {self.backend}"

    def emit(self, logger: Any, snapshot: dict[str, Any]) -> None:
        """Log the line at INFO; a failure is logged as a warning and never raised (a timer callback)."""
        try:
            logger.info(self.line(snapshot))
        except Exception as e:  # noqa: BLE001 - the status line must not kill the node
            logger.warning(f"status line failed: {type(e).__name__}: {e}")
