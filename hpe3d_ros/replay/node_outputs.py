"""The node's output messages built outside rclpy's graph, with the node's own output table.

lift_node publishes the outputs of ``hpe3d_ros.node.outputs.OUTPUTS``; the replay needs the same
messages for a ``FrameResult`` without a running node, so this adapter runs the table's builders on
the header the node uses (stamp and frame_id of the input image, ``default_frame_id`` when it has none).

It also holds the lift-only entry for bags that carry 2D keypoints instead of images
(``process_keypoints``): the pipeline's own lifter, body-height prior and scene stage on given 2D people.
"""
from __future__ import annotations

import time
from typing import Any, Sequence

import numpy as np

from .. import skeleton
from ..node.outputs import frame_builders, frame_messages
from ..pipeline import FrameResult, Person3D, PosePipeline, frame_intrinsics
from ..ros_convert import stamp_from_ns


def output_messages(stamp_ns: int, frame_id: str, people: Sequence, values: dict[str, Any],
                    builders: dict | None = None) -> dict[str, object]:
    """Output key ('markers', 'skeletons', 'poses') -> the message lift_node publishes for ``people``
    (``builders`` from ``node.outputs.frame_builders()``, kept for a stream; fresh ones when None)."""
    from std_msgs.msg import Header

    header = Header()
    header.stamp = stamp_from_ns(stamp_ns)
    header.frame_id = frame_id or str(values["default_frame_id"])
    return frame_messages(builders if builders is not None else frame_builders(), header, people, values)


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
    t1 = time.perf_counter()
    timings = {"lift": t1 - t0}
    if pipeline.lifter is not None:
        pipeline.place(people, k_used, stamp_ns, (int(image_size[0]), int(image_size[1])))
        timings["scene"] = time.perf_counter() - t1
    return FrameResult(people, timings, int(stamp_ns), k_used, bool(problem), pipeline.backend,
                       intrinsics_problem=problem, dropped_nonfinite=dropped)
