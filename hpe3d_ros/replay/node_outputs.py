"""The node's output messages built outside rclpy's graph, with the node's own builders.

lift_node builds its outputs inside ``LiftNode._process``; the replay needs the same messages for
a ``FrameResult`` without a running node, so this adapter calls the very builders the node calls
(``node.markers.marker_array``, ``node.skeleton_msgs.skeleton_cloud`` / ``pose_array``) on the same
header (stamp and frame_id of the input image, ``default_frame_id`` when it has none).

It also holds the lift-only entry for bags that carry 2D keypoints instead of images
(``process_keypoints``): the pipeline's own lifter and body-height prior on given 2D people.
"""
from __future__ import annotations

import time
from typing import Any, Sequence

import numpy as np

from .. import skeleton
from ..node import markers, skeleton_msgs
from ..node.lift_node import STAGES, percentiles_ms
from ..pipeline import FrameResult, Person3D, PosePipeline, frame_intrinsics
from ..ros_convert import stamp_from_ns


def output_topics(values: dict[str, Any]) -> dict[str, str]:
    """Output topic names the node uses for parameter values ``values`` (absolute names)."""
    ns = str(values["output_namespace"]).strip("/")
    prefix = f"/{ns}/" if ns else "/"
    return {
        "markers": prefix + "markers",
        "skeletons": prefix + "skeletons",
        "poses": prefix + "poses",
        "diagnostics": "/diagnostics",
    }


def output_messages(stamp_ns: int, frame_id: str, people: Sequence, values: dict[str, Any]) -> dict[str, object]:
    """topic key ('markers', 'skeletons', 'poses') -> the message lift_node publishes for ``people``."""
    from std_msgs.msg import Header

    header = Header()
    header.stamp = stamp_from_ns(stamp_ns)
    header.frame_id = frame_id or str(values["default_frame_id"])
    return {
        "markers": markers.marker_array(header, people, float(values["marker_lifetime_s"])),
        "skeletons": skeleton_msgs.skeleton_cloud(header, people),
        "poses": skeleton_msgs.pose_array(header, people),
    }


class NoDetector:
    """Stands in for the 2D detector when the input already holds 2D people (nothing to detect)."""

    def detect(self, image_rgb):  # noqa: ARG002
        raise RuntimeError("this pipeline lifts given 2D keypoints; it has no image detector")


def process_keypoints(
    pipeline: PosePipeline,
    keypoints_px: np.ndarray,
    scores: np.ndarray,
    k: np.ndarray | None,
    image_size: tuple[int, int],
    track_ids: Sequence[int] | None = None,
    stamp_ns: int = 0,
) -> FrameResult:
    """The pipeline's lift stage on given 2D people: keypoints (N, 16, 2) px, scores (N, 16), K or None
    (the pipeline's field-of-view fallback for ``image_size`` = (width, height))."""
    kp = np.asarray(keypoints_px, dtype=np.float64).reshape(-1, skeleton.NUM_JOINTS, 2)
    sc = np.asarray(scores, dtype=np.float64).reshape(-1, skeleton.NUM_JOINTS)
    n = kp.shape[0]
    ids = list(range(n)) if track_ids is None else [int(t) for t in track_ids]
    t0 = time.perf_counter()
    k_used, problem = frame_intrinsics(k, int(image_size[0]), int(image_size[1]), pipeline.params["fallback_hfov_deg"])
    people: list[Person3D] = []
    dropped = 0
    if pipeline.lifter is not None:
        people, dropped = pipeline.lift_batch(kp, sc, k_used, ids)
    timings = {"lift": time.perf_counter() - t0}
    return FrameResult(people, timings, int(stamp_ns), k_used, bool(problem), pipeline.backend,
                       intrinsics_problem=problem, dropped_nonfinite=dropped)


def diagnostics_message(stamp_ns: int, backend: str, model: str, counts: dict[str, int], latency: dict[str, list[float]],
                        rates: dict[str, float], source: str, name: str = "hpe3d replay: 3D human pose lifting"):
    """diagnostic_msgs/DiagnosticArray with the node's keys (rates, counts, per-stage p50/p95/p99 in ms)."""
    from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue

    kv = [("backend", backend), ("model", model),
          ("input_rate_hz", f"{rates.get('input', 0.0):.2f}"), ("output_rate_hz", f"{rates.get('output', 0.0):.2f}")]
    for key in ("received", "processed", "dropped"):
        kv.append((f"frames_{key}", str(counts.get(key, 0))))
    for key in ("decode_errors", "processing_errors"):
        kv.append((key, str(counts.get(key, 0))))
    for stage in STAGES:
        p50, p95, p99 = percentiles_ms(latency.get(stage, []))
        kv += [(f"latency_{stage}_p50_ms", f"{p50:.2f}"), (f"latency_{stage}_p95_ms", f"{p95:.2f}"),
               (f"latency_{stage}_p99_ms", f"{p99:.2f}")]
    status = DiagnosticStatus()
    status.name = name
    status.hardware_id = source
    errors = counts.get("decode_errors", 0) + counts.get("processing_errors", 0)
    status.level = DiagnosticStatus.WARN if errors else DiagnosticStatus.OK
    status.level = bytes([status.level]) if isinstance(status.level, int) else status.level
    status.message = "some frames were skipped (see the counts)" if errors else "running"
    status.values = [KeyValue(key=k, value=v) for k, v in kv]
    arr = DiagnosticArray()
    arr.header.stamp = stamp_from_ns(stamp_ns)
    arr.status = [status]
    return arr
