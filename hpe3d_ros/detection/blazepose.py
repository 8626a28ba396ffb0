"""BlazePose GHUM landmarks (lite / full / heavy) with ONNX Runtime, several people in one call.

The same models and the same arithmetic as MediaPipe's ``PoseLandmarkByRoiCpu`` graph (which the
``mediapipe`` kind runs), without its cost: the ONNX files (tools/convert_detectors/convert_landmarks.py)
lack the segmentation-mask head that MediaPipe computes on every call and throws away, more than half
of the model's time, and take a batch. Steps per region of interest (centre, side, rotation in px):

1. the rotated square region is warped to the 256x256 RGB input, values in [0, 1], pixels outside the
   image replicated from its border (MediaPipe's ImageToTensorCalculator);
2. the model gives 39 points x (x, y, z, visibility, presence) in input pixels, a pose flag, a 64x64
   heatmap per point and 39 x 3 world coordinates (metres);
3. no person when the pose flag is not above ``min_presence``;
4. x, y, z are divided by 256, visibility goes through a sigmoid; x, y are refined from the heatmap:
   within the 9x9 cells around the point (the kernel of mediapipe 0.10.21), the sigmoid-weighted mean cell
   position, when the largest sigmoid there is at least 0.5;
5. points are projected back through the region (rotation, side, centre); z scales with the side;
   points 33 and 34 are the auxiliary landmarks (hip centre and scale point); world coordinates are
   rotated by the region's rotation.
tests/hpe3d_ros/detection/test_blazepose.py compares the result with MediaPipe's graph on real images.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from .landmarker import Roi, RoiResult
from .person_boxes import ort_session

SIZE = 256  # model input side
HEATMAP = 64
KERNEL = 9  # the heatmap window of the graph in mediapipe 0.10.21 (found by matching its output exactly)
MIN_REFINE = 0.5
NUM_POINTS = 39  # 33 landmarks + 2 auxiliary + 4 unused
OUT_LANDMARKS, OUT_FLAG, OUT_HEATMAP, OUT_WORLD = "Identity", "Identity_1", "Identity_3", "Identity_4"


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def roi_transform(roi: Roi) -> np.ndarray:
    """The 2x3 affine map from model-input pixels (0..256) to image pixels of a region."""
    c, s = np.cos(roi.rotation), np.sin(roi.rotation)
    k = roi.side / SIZE
    r = np.array([[c, -s], [s, c]]) * k
    t = np.asarray(roi.center, dtype=np.float64) - r @ np.array([SIZE / 2.0, SIZE / 2.0])
    return np.column_stack([r, t])


_CORNERS = np.float32([[0, SIZE], [0, 0], [SIZE, 0], [SIZE, SIZE]])


def crop(image_rgb: np.ndarray, roi: Roi) -> np.ndarray:
    """The region warped to the model input (256, 256, 3) float32 in [0, 1]: the perspective map from the
    region's four corners to the input's, applied to the uint8 image (as MediaPipe's OpenCV converter
    does; this reproduces its input to float precision)."""
    m = roi_transform(roi)
    src = (_CORNERS.astype(np.float64) @ m[:, :2].T + m[:, 2]).astype(np.float32)
    t = cv2.getPerspectiveTransform(src, _CORNERS)
    patch = cv2.warpPerspective(image_rgb, t, (SIZE, SIZE), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return patch.astype(np.float32) * np.float32(1.0 / 255.0)


def refine_from_heatmap(xy: np.ndarray, heatmap: np.ndarray) -> np.ndarray:
    """Points (39, 2) normalised to the input refined by their heatmaps (64, 64, 39) (module docstring,
    step 4). As MediaPipe 0.10.21 does it: the cell is the truncated position, and a point is left alone
    when its column is outside the heatmap or its row is negative (a row just below the heatmap still
    refines from the cells of the kernel that are inside)."""
    out = xy.copy()
    off = (KERNEL - 1) // 2
    for i in range(xy.shape[0]):
        col, row = int(xy[i, 0] * HEATMAP), int(xy[i, 1] * HEATMAP)  # truncation toward zero
        if col < 0 or col >= HEATMAP or row < 0:
            continue
        r0, r1 = max(0, row - off), min(HEATMAP, row + off + 1)
        c0, c1 = max(0, col - off), min(HEATMAP, col + off + 1)
        if r1 <= r0:
            continue
        conf = _sigmoid(heatmap[r0:r1, c0:c1, i].astype(np.float64))
        total = conf.sum()
        if conf.max() >= MIN_REFINE and total > 0:
            rows, cols = np.mgrid[r0:r1, c0:c1]
            out[i, 0] = (cols * conf).sum() / HEATMAP / total
            out[i, 1] = (rows * conf).sum() / HEATMAP / total
    return out


class OnnxLandmarker:
    """BlazePose landmarks of people in regions of interest, with ONNX Runtime (module docstring)."""

    def __init__(self, model_path: str | Path, min_presence: float = 0.5, threads: int = 1, device: str = "cpu"):
        self.model_path = Path(model_path)
        self.min_presence = float(min_presence)
        self.sess = ort_session(self.model_path, threads, device)
        self.input_name = self.sess.get_inputs()[0].name
        names = [o.name for o in self.sess.get_outputs()]
        missing = {OUT_LANDMARKS, OUT_FLAG, OUT_HEATMAP, OUT_WORLD} - set(names)
        if missing:
            raise ValueError(f"{self.model_path}: not a BlazePose landmark model (outputs {names}, lacks {missing})")

    def process(self, image_rgb: np.ndarray, roi: Roi) -> RoiResult | None:
        """Landmarks of the person in ``roi`` or None (RoiLandmarker's interface)."""
        return self.process_many(image_rgb, [roi])[0]

    def process_many(self, image_rgb: np.ndarray, rois: list[Roi]) -> list[RoiResult | None]:
        """Landmarks in several regions of one image, one inference for all."""
        if not rois:
            return []
        x = np.stack([crop(image_rgb, r) for r in rois])
        lm, flag, heat, world = self.sess.run([OUT_LANDMARKS, OUT_FLAG, OUT_HEATMAP, OUT_WORLD], {self.input_name: x})
        return [
            self._decode(rois[i], lm[i], float(flag[i].reshape(-1)[0]), heat[i], world[i])
            if float(flag[i].reshape(-1)[0]) > self.min_presence else None
            for i in range(len(rois))
        ]

    @staticmethod
    def _decode(roi: Roi, raw: np.ndarray, _flag: float, heat: np.ndarray, world: np.ndarray) -> RoiResult:
        pts = raw.reshape(NUM_POINTS, 5).astype(np.float64)
        xy = refine_from_heatmap(pts[:, :2] / SIZE, heat)
        m = roi_transform(roi)
        img_xy = (xy * SIZE) @ m[:, :2].T + m[:, 2]
        z = pts[:, 2] / SIZE * roi.side
        vis = _sigmoid(pts[:, 3])
        lm = np.column_stack([img_xy[:33], z[:33], vis[:33]])
        c, s = np.cos(roi.rotation), np.sin(roi.rotation)
        w = world.reshape(NUM_POINTS, 3)[:33].astype(np.float64)
        w_rot = np.column_stack([c * w[:, 0] - s * w[:, 1], s * w[:, 0] + c * w[:, 1], w[:, 2]])
        return RoiResult(lm, img_xy[33:35].copy(), w_rot)

    def close(self) -> None:
        """Free the session."""
        self.sess = None
