"""MediaPipe BlazePose landmarks with MediaPipe's own graphs (the full model shipped in the wheel; the
``mediapipe`` detector kind). blazepose.OnnxLandmarker runs the same models (lite, full, heavy) with
ONNX Runtime for the ``nanodet`` kind.

Two ways to run it:
- ``FrameLandmarker``: ``mp.solutions.pose.Pose`` in tracking mode on the whole frame: MediaPipe's own
  person detector finds one person, then follows them frame to frame (the single-person path).
- ``RoiLandmarker``: MediaPipe's ``PoseLandmarkByRoiCpu`` subgraph on a given region of interest
  (centre, side, rotation), as MediaPipe's tracking does internally: one graph serves every person,
  the region coming from the person detector for a new person and from the previous frame's
  auxiliary landmarks for a tracked one (the multi-person path).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .inference_threads import threaded_solution

# MediaPipe's native log lines cannot be set by an environment variable (GLOG_minloglevel has no effect on
# its absl logging): hpe3d_ros.native_logs explains them and the `hpe3d` command hides the harmless ones.

ROI_SCALE = 1.25  # MediaPipe's pose ROI: the body square (2 x hip-to-scale-point distance) grown by 25 %

_ROI_GRAPH = """
input_stream: "image"
input_stream: "roi"
input_side_packet: "model_complexity"
input_side_packet: "enable_segmentation"
output_stream: "landmarks"
output_stream: "auxiliary_landmarks"
output_stream: "world_landmarks"
node {
  calculator: "PoseLandmarkByRoiCpu"
  input_side_packet: "MODEL_COMPLEXITY:model_complexity"
  input_side_packet: "ENABLE_SEGMENTATION:enable_segmentation"
  input_stream: "IMAGE:image"
  input_stream: "ROI:roi"
  output_stream: "LANDMARKS:landmarks"
  output_stream: "AUXILIARY_LANDMARKS:auxiliary_landmarks"
  output_stream: "WORLD_LANDMARKS:world_landmarks"
}
"""
_PRESENCE_PARAM = "poselandmarkbyroicpu__tensorstoposelandmarksandsegmentation__ThresholdingCalculator.threshold"


class RoiResult(NamedTuple):
    """The landmark model's output for one region.

    - ``landmarks`` (33, 4): pixel x, y, z (x's scale, relative to the hips, smaller = nearer), visibility;
    - ``auxiliary`` (2, 2): pixel hip centre and full-body scale point (they place the next region;
      None from ``FrameLandmarker``, whose region MediaPipe keeps to itself);
    - ``world`` (33, 3): BlazePose's metric 3D landmarks (metres, origin between the hips, axes those of
      the image: x right, y down, z away from the camera), or None when the graph gave none.
    """

    landmarks: np.ndarray
    auxiliary: np.ndarray | None
    world: np.ndarray | None


@dataclass
class Roi:
    """A rotated square region in pixels: centre (x, y), side, rotation (radians, MediaPipe's sign)."""

    center: np.ndarray
    side: float
    rotation: float

    @classmethod
    def from_alignment(cls, center: np.ndarray, scale_point: np.ndarray, scale: float = ROI_SCALE) -> "Roi":
        """MediaPipe's pose ROI from the hip centre and the full-body scale point (detector
        keypoints 0 and 1, or auxiliary landmarks 0 and 1): side 2 * distance * ``scale`` (MediaPipe:
        1.25), rotated so that the body axis points up."""
        c = np.asarray(center, dtype=np.float64)
        e = np.asarray(scale_point, dtype=np.float64)
        side = 2.0 * float(np.linalg.norm(e - c)) * float(scale)
        rotation = np.pi / 2.0 - np.arctan2(-(e[1] - c[1]), e[0] - c[0])
        rotation = float((rotation + np.pi) % (2.0 * np.pi) - np.pi)
        return cls(c, side, rotation)


def world_array(world_landmarks) -> np.ndarray | None:
    """MediaPipe's world landmark list as (33, 3) metres, or None."""
    if world_landmarks is None or not len(world_landmarks.landmark):
        return None
    return np.array([(p.x, p.y, p.z) for p in world_landmarks.landmark], dtype=np.float64)


class RoiLandmarker:
    """Landmarks of the person inside a region of interest (one graph for all people)."""

    def __init__(self, min_presence: float = 0.5, inference_threads: int = 0):
        """``min_presence``: the landmark model's pose-presence score (0..1) below which no person is
        reported; ``inference_threads``: TFLite threads (0: MediaPipe's default, one)."""
        from mediapipe.python.solution_base import SolutionBase

        self._graph = threaded_solution(SolutionBase)(
            inference_threads=inference_threads,
            graph_config=_ROI_GRAPH,
            side_inputs={"model_complexity": 1, "enable_segmentation": False},
            outputs=["landmarks", "auxiliary_landmarks", "world_landmarks"],
            calculator_params={_PRESENCE_PARAM: min_presence},
        )

    def process(self, image_rgb: np.ndarray, roi: Roi) -> RoiResult | None:
        """The landmarks of the person in ``roi`` (``RoiResult``), or None when the model finds no
        person there."""
        from mediapipe.framework.formats import rect_pb2

        h, w = image_rgb.shape[:2]
        rect = rect_pb2.NormalizedRect(
            x_center=float(roi.center[0]) / w,
            y_center=float(roi.center[1]) / h,
            width=float(roi.side) / w,
            height=float(roi.side) / h,
            rotation=float(roi.rotation),
        )
        result = self._graph.process({"image": image_rgb, "roi": rect})
        if result.landmarks is None or result.auxiliary_landmarks is None:
            return None
        lm = np.array([(p.x * w, p.y * h, p.z * w, p.visibility) for p in result.landmarks.landmark], dtype=np.float64)
        aux = np.array([(p.x * w, p.y * h) for p in result.auxiliary_landmarks.landmark], dtype=np.float64)
        return RoiResult(lm, aux, world_array(result.world_landmarks))

    def close(self) -> None:
        """Free the graph."""
        self._graph.close()


class FrameLandmarker:
    """``mp.solutions.pose.Pose`` in tracking mode on whole frames (one person)."""

    def __init__(
        self,
        min_detection_confidence: float,
        min_tracking_confidence: float,
        smooth_landmarks: bool,
        inference_threads: int = 0,
    ):
        import mediapipe as mp

        self._pose = threaded_solution(mp.solutions.pose.Pose)(
            inference_threads=inference_threads,
            static_image_mode=False,
            model_complexity=1,
            smooth_landmarks=smooth_landmarks,
            enable_segmentation=False,
            min_detection_confidence=min_detection_confidence,
            min_tracking_confidence=min_tracking_confidence,
        )

    def process(self, image_rgb: np.ndarray) -> RoiResult | None:
        """The person's landmarks (``RoiResult`` without auxiliary landmarks: MediaPipe keeps its region
        to itself), or None if there is no person."""
        result = self._pose.process(image_rgb)
        if result.pose_landmarks is None:
            return None
        h, w = image_rgb.shape[:2]
        lm = np.array([(p.x, p.y, p.z, p.visibility) for p in result.pose_landmarks.landmark], dtype=np.float64)
        lm[:, 0] *= w
        lm[:, 1] *= h
        lm[:, 2] *= w
        return RoiResult(lm, None, world_array(result.pose_world_landmarks))

    def reset(self) -> None:
        """Forget the tracked person (the next frame starts with a detection)."""
        self._pose.reset()

    def close(self) -> None:
        """Free the MediaPipe graph."""
        self._pose.close()
