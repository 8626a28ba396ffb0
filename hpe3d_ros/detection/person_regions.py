"""Finding person regions with the BlazePose person detector shipped in the mediapipe wheel.

The detector (``pose_detection.tflite``, run through MediaPipe's own ``PoseDetectionCpu`` subgraph:
SSD anchor decoding, score threshold and weighted non-maximum suppression) returns, per person, the
hip centre and a point whose distance from it gives the body's extent. It looks at a 224x224
letterboxed view, so small people are missed in a large frame and it tends to report only the most
salient few: ``RegionScanner`` therefore cycles through scan regions (the whole frame, then square
tiles) and blacks out the people already tracked before each pass.

OpenCV's TFLite importer cannot read this model (sparse fp16 weights: the DENSIFY operator), and
OpenCV's HOG people detector cost 2.5-4x as much per frame, found one person of four on bus.jpg and
none on vtest.avi (benchmarks/person_detector_options.py, docs/detection.md).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .inference_threads import threaded_solution
from .landmarker import Roi, RoiResult
from .topdown import Proposal
from .tracking import square_box

_GRAPH = """
input_stream: "image"
output_stream: "detections"
node {
  calculator: "PoseDetectionCpu"
  input_stream: "IMAGE:image"
  output_stream: "DETECTIONS:detections"
}
"""


@dataclass
class PersonRegion:
    """A person found by the detector: hip centre (x, y) px, the full-body scale point px (its
    distance from the hip centre is the body radius, its direction the body axis), score in [0, 1]."""

    center: np.ndarray
    scale_point: np.ndarray
    score: float

    @property
    def radius(self) -> float:
        """Half the body's extent, px."""
        return float(np.linalg.norm(self.scale_point - self.center))

    def square(self) -> np.ndarray:
        """The body's square box (x0, y0, x1, y1)."""
        return square_box(self.center, 2.0 * self.radius)


class BlazePersonDetector:
    """MediaPipe's BlazePose person detector graph on an RGB image of any size."""

    def __init__(self, min_score: float = 0.5, inference_threads: int = 0):
        from mediapipe.python.solution_base import SolutionBase

        self.min_score = float(min_score)
        self._graph = threaded_solution(SolutionBase)(
            inference_threads=inference_threads,
            graph_config=_GRAPH,
            outputs=["detections"],
            # The subgraph's own score threshold (0.5 built in) follows ours.
            calculator_params={"posedetectioncpu__TensorsToDetectionsCalculator.min_score_thresh": self.min_score},
        )

    def detect(self, image_rgb: np.ndarray, offset: tuple[float, float] = (0.0, 0.0)) -> list[PersonRegion]:
        """People in ``image_rgb``; coordinates shifted by ``offset`` (for tiles)."""
        result = self._graph.process({"image": np.ascontiguousarray(image_rgb)})
        h, w = image_rgb.shape[:2]
        out = []
        for d in result.detections or []:
            score = float(d.score[0]) if len(d.score) else 0.0
            if score < self.min_score:
                continue
            kp = d.location_data.relative_keypoints
            if len(kp) < 2:
                continue
            c = np.array([kp[0].x * w, kp[0].y * h])
            e = np.array([kp[1].x * w, kp[1].y * h])
            if float(np.linalg.norm(e - c)) < 4.0:
                continue
            shift = np.asarray(offset, dtype=np.float64)
            out.append(PersonRegion(c + shift, e + shift, score))
        return out

    def close(self) -> None:
        """Free the graph."""
        self._graph.close()


def scan_regions(width: int, height: int, tile_fraction: float) -> list[tuple[int, int, int, int]]:
    """The scan schedule (x0, y0, x1, y1): the whole frame first, then overlapping square tiles of
    side ``tile_fraction`` * the shorter image side (none when 0)."""
    regions = [(0, 0, width, height)]
    if tile_fraction <= 0:
        return regions
    side = max(32, int(round(min(width, height) * tile_fraction)))
    if side >= max(width, height):
        return regions

    def starts(extent: int) -> list[int]:
        if side >= extent:
            return [0]
        n = int(np.ceil(extent / side * 1.3))  # about 30 % overlap
        return sorted(set(np.linspace(0, extent - side, max(n, 2)).round().astype(int).tolist()))

    for y in starts(height):
        for x in starts(width):
            regions.append((x, y, min(x + side, width), min(y + side, height)))
    return regions


class RegionScanner:
    """Runs the person detector on one scan region per call with the boxes of already tracked
    people blacked out. The schedule alternates the whole frame with the next tile (whole, tile 1,
    whole, tile 2, ...): the whole-frame pass with the known people masked finds the next most
    salient person, the tiles find people too small for the whole-frame pass."""

    def __init__(self, detector: BlazePersonDetector, tile_fraction: float):
        self.detector = detector
        self.tile_fraction = tile_fraction
        self._size: tuple[int, int] | None = None
        self._regions: list[tuple[int, int, int, int]] = []
        self._next = 0

    def regions_for(self, width: int, height: int) -> list[tuple[int, int, int, int]]:
        """The schedule for a frame size (recomputed when the size changes)."""
        if self._size != (width, height):
            self._size = (width, height)
            self._regions = scan_regions(width, height, self.tile_fraction)
            self._next = 0
        return self._regions

    def scan(
        self, image_rgb: np.ndarray, masked_boxes: list[np.ndarray], region_index: int | None = None
    ) -> list[PersonRegion]:
        """Detect people in the next region (or ``region_index``) with ``masked_boxes`` blacked out."""
        h, w = image_rgb.shape[:2]
        regions = self.regions_for(w, h)
        if region_index is None:
            n_tiles = len(regions) - 1
            step = self._next
            self._next = (self._next + 1) % max(2 * n_tiles, 1)
            region_index = 0 if step % 2 == 0 or n_tiles == 0 else 1 + (step // 2) % n_tiles
        x0, y0, x1, y1 = regions[region_index]
        view = image_rgb[y0:y1, x0:x1]
        if masked_boxes:
            view = view.copy()
            for b in masked_boxes:
                bx0, by0 = int(max(b[0] - x0, 0)), int(max(b[1] - y0, 0))
                bx1, by1 = int(min(b[2] - x0, x1 - x0)), int(min(b[3] - y0, y1 - y0))
                if bx1 > bx0 and by1 > by0:
                    view[by0:by1, bx0:bx1] = 0
        return self.detector.detect(view, offset=(x0, y0))


class RegionFinder:
    """The ``mediapipe`` kind's person detector for the top-down frame loop (topdown.PersonFinder):
    one scan region per pass with the tracked people blacked out; a person is proposed by their body
    square (hip centre +- body radius) and MediaPipe's own region (``Roi.from_alignment``)."""

    masks_tracked = True
    rescan_when_found = True
    anchor_boxes = False

    def __init__(self, min_score: float, tile_fraction: float, roi_scale: float, inference_threads: int = 0):
        self.high = self.low = float(min_score)
        self.roi_scale = float(roi_scale)
        self.scanner = RegionScanner(BlazePersonDetector(min_score, inference_threads), tile_fraction)

    def find(self, image_rgb: np.ndarray, masks: list[np.ndarray]) -> list[Proposal]:
        """Proposals of the next scan region."""
        return [
            Proposal(r.square(), Roi.from_alignment(r.center, r.scale_point, self.roi_scale), r.score)
            for r in self.scanner.scan(image_rgb, masks)
        ]

    @staticmethod
    def track_box(result: RoiResult) -> np.ndarray:
        """A tracked person's body square from their auxiliary landmarks (hip centre, scale point)."""
        c, e = result.auxiliary
        return square_box(c, 2.0 * float(np.linalg.norm(e - c)))

    @staticmethod
    def fallback_rois(box: np.ndarray) -> tuple:  # noqa: ARG004 - PersonFinder protocol
        """No region: a person MediaPipe's region loses waits for the person detector (as MediaPipe does)."""
        return ()

    def reset(self) -> None:
        """Nothing to restart: the scan schedule carries on."""

    def close(self) -> None:
        """Free the person detector."""
        self.scanner.detector.close()
