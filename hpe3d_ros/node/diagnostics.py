"""The one diagnostic_msgs/DiagnosticArray builder of lift_node and of the replay (which writes the
node's diagnostics into its output bag): rates, counts, per-stage latency percentiles and a status."""
from __future__ import annotations

from typing import Sequence

from ..ros_convert import stamp_from_ns
from .stats import percentiles_ms

# Counters in the order they are reported; the first three as frames_<key>.
COUNT_KEYS = ("received", "processed", "dropped", "stale_skipped", "decode_errors", "processing_errors",
              "camera_info_errors", "callback_errors", "people_dropped_nonfinite", "stamps_implausible")
FRAME_COUNTS = ("received", "processed", "dropped")


def diagnostics_values(backend: str, model: str, rates: dict[str, float], counts: dict[str, int],
                       latency: dict[str, Sequence[float]], stages: Sequence[str], age: Sequence[float] | None = None,
                       people: Sequence[int] | None = None, intrinsics_fallback: bool | None = None,
                       reasons: dict[str, int] | None = None, intrinsics_problem: str = "") -> list[tuple[str, str]]:
    """The key/value pairs: backend, model, input/output rates, the counters present in ``counts``,
    p50/p95/p99 in ms of each of ``stages``, then what is given of frame age, people, intrinsics (with why
    the fallback is used), skip reasons."""
    kv = [("backend", backend), ("model", model),
          ("input_rate_hz", f"{rates.get('input', 0.0):.2f}"), ("output_rate_hz", f"{rates.get('output', 0.0):.2f}")]
    for key in COUNT_KEYS:
        if key in counts:
            kv.append((f"frames_{key}" if key in FRAME_COUNTS else key, str(counts.get(key, 0))))
    for stage in stages:
        p50, p95, p99 = percentiles_ms(list(latency.get(stage, [])))
        kv += [(f"latency_{stage}_p50_ms", f"{p50:.2f}"), (f"latency_{stage}_p95_ms", f"{p95:.2f}"),
               (f"latency_{stage}_p99_ms", f"{p99:.2f}")]
    if age is not None:
        kv.append(("frame_age_max_ms", f"{max(age) * 1e3:.2f}" if age else "nan"))
    if people is not None:
        kv.append(("people_last", str(people[-1]) if people else "0"))
    if intrinsics_fallback is not None:
        kv.append(("intrinsics", "fallback field of view" if intrinsics_fallback else "CameraInfo"))
        if intrinsics_fallback and intrinsics_problem:
            kv.append(("intrinsics_fallback_reason", intrinsics_problem))
    for reason, n in sorted((reasons or {}).items()):
        kv.append((f"skipped[{reason}]", str(n)))
    return kv


def diagnostics_status(counts: dict[str, int], intrinsics_fallback: bool | None = None,
                       intrinsics_problem: str = "") -> tuple[str, str]:
    """("OK" or "WARN", message): no frames yet, the field-of-view fallback in use (and why), skipped frames,
    else running."""
    if counts.get("received", 0) == 0:
        return "WARN", "no images received yet"
    if intrinsics_fallback:
        why = intrinsics_problem or "no calibrated CameraInfo"
        return "WARN", f"{why}: using the field-of-view fallback"
    if counts.get("processing_errors", 0) or counts.get("decode_errors", 0):
        return "WARN", "some frames were skipped (see the counts)"
    return "OK", "running"


def diagnostics_message(stamp_ns: int, name: str, hardware_id: str, values: list[tuple[str, str]],
                        status: tuple[str, str]):
    """diagnostic_msgs/DiagnosticArray with one status: ``name``, ``hardware_id``, level and message, the values."""
    from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue

    st = DiagnosticStatus()
    st.name = name
    st.hardware_id = hardware_id
    level = getattr(DiagnosticStatus, status[0])
    st.level = bytes([level]) if isinstance(level, int) else level
    st.message = status[1]
    st.values = [KeyValue(key=k, value=v) for k, v in values]
    arr = DiagnosticArray()
    arr.header.stamp = stamp_from_ns(stamp_ns)
    arr.status = [st]
    return arr
