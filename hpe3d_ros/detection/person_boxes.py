"""NanoDet-m person boxes with ONNX Runtime, and the detector's scan regions (whole frame, tiles).

The model (hpe3d_ros/data/detectors/nanodet_m_416.onnx, Apache-2.0, NOTICE.md there) is NanoDet-m
trained on COCO at 416x416, converted with a symbolic input size: it is fully convolutional, so a
frame is resized (aspect kept) to ``input_size`` pixels on its longer side, both sides rounded up to a
multiple of 32 and the rest padded, instead of squeezing it into a padded 416x416 square.

Pre-processing is NanoDet's own training normalisation: BGR channel order, mean (103.53, 116.28,
123.675) and std (57.375, 57.12, 58.395). (The TF.js package it comes from feeds RGB/255, which found
fewer people in measurement: docs/detection.md.) Boxes are decoded as NanoDet (Generalized Focal Loss)
does: per level (strides 8, 16, 32), a centre prior at (i + 0.5) x stride, each side's distance the
expectation of a softmax over 11 bins x stride; person class (COCO 0) only; greedy NMS.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

STRIDES = (8, 16, 32)
REG_MAX = 10  # distance bins 0..10 per side
NUM_CLASSES = 80
PERSON = 0
MEAN_BGR = np.array([103.53, 116.28, 123.675], dtype=np.float32)
STD_BGR = np.array([57.375, 57.12, 58.395], dtype=np.float32)


@dataclass
class PersonBox:
    """A person box (x0, y0, x1, y1) in pixels of the frame, with the detector's score in [0, 1]."""

    box: np.ndarray
    score: float

    @property
    def height(self) -> float:
        """Box height, px."""
        return float(self.box[3] - self.box[1])


def ort_session(path: str | Path, threads: int = 1, device: str = "cpu"):
    """An ONNX Runtime session for a detector model: ``threads`` intra-op threads (0 = ORT's default),
    no spinning, sequential; ``device`` "cpu" or "auto" (CUDA when the installed build has it)."""
    import onnxruntime as ort

    if device not in ("cpu", "auto"):
        raise ValueError(f"device must be 'cpu' or 'auto', got {device!r}")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such detector model")
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.intra_op_num_threads = int(threads)
    so.inter_op_num_threads = 1
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    so.log_severity_level = 3
    providers = ["CPUExecutionProvider"]
    if device == "auto" and "CUDAExecutionProvider" in ort.get_available_providers():
        providers = ["CUDAExecutionProvider", "CPUExecutionProvider"]
    return ort.InferenceSession(str(path), so, providers=providers)


def nms(boxes: np.ndarray, scores: np.ndarray, iou: float, max_det: int = 100) -> np.ndarray:
    """Indices kept by greedy non-maximum suppression (OpenCV's NMSBoxes), highest score first."""
    if len(boxes) == 0:
        return np.zeros(0, dtype=int)
    xywh = np.column_stack([boxes[:, 0], boxes[:, 1], boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]])
    keep = cv2.dnn.NMSBoxes(xywh.tolist(), scores.astype(float).tolist(), 0.0, float(iou), top_k=max_det)
    return np.asarray(keep, dtype=int).reshape(-1)


def input_shape(width: int, height: int, input_size: int) -> tuple[int, int, float]:
    """(input width, input height, scale) for a frame: longer side scaled to ``input_size``, both input
    sides rounded up to a multiple of 32."""
    s = input_size / max(width, height)
    iw = int(np.ceil(width * s / 32.0) * 32)
    ih = int(np.ceil(height * s / 32.0) * 32)
    return iw, ih, s


class NanoDet:
    """NanoDet-m person boxes of an RGB image of any size (``detect``)."""

    def __init__(
        self,
        model_path: str | Path,
        input_size: int = 416,
        min_score: float = 0.2,
        nms_iou: float = 0.6,
        threads: int = 1,
        device: str = "cpu",
    ):
        if input_size % 32 or not 128 <= input_size <= 1280:
            raise ValueError(f"NanoDet input_size must be a multiple of 32 in [128, 1280], got {input_size}")
        self.sess = ort_session(model_path, threads, device)
        inp = self.sess.get_inputs()[0]
        if len(inp.shape) != 4 or inp.shape[1] != 3:
            raise ValueError(f"{model_path}: expected an input (1, 3, H, W), got {inp.shape}")
        self.input_name = inp.name
        self.input_size, self.min_score, self.nms_iou = int(input_size), float(min_score), float(nms_iou)
        self.out_names = [o.name for o in self.sess.get_outputs()]
        self._levels: dict[tuple[int, int], dict[int, tuple[str, str]]] = {}

    def _level_outputs(self, res: dict, iw: int, ih: int) -> dict[int, tuple[str, str]]:
        """Output names (class scores, box bins) of each stride, recognised by their shapes."""
        key = (iw, ih)
        if key not in self._levels:
            levels = {}
            for s in STRIDES:
                n = (iw // s) * (ih // s)
                cls = [k for k, v in res.items() if v.shape[1:] == (n, NUM_CLASSES)]
                reg = [k for k, v in res.items() if v.shape[1:] == (n, 4 * (REG_MAX + 1))]
                if len(cls) != 1 or len(reg) != 1:
                    raise ValueError(f"NanoDet outputs {[v.shape for v in res.values()]} do not match stride {s}")
                levels[s] = (cls[0], reg[0])
            self._levels[key] = levels
        return self._levels[key]

    def preprocess(self, image_rgb: np.ndarray) -> tuple[np.ndarray, float]:
        """The network input (1, 3, H, W) and the frame-to-input scale."""
        h, w = image_rgb.shape[:2]
        iw, ih, s = input_shape(w, h, self.input_size)
        nw, nh = max(1, int(round(w * s))), max(1, int(round(h * s)))
        canvas = np.zeros((ih, iw, 3), dtype=np.float32)
        interp = cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR
        bgr = cv2.resize(image_rgb, (nw, nh), interpolation=interp)[..., ::-1].astype(np.float32)
        canvas[:nh, :nw] = (bgr - MEAN_BGR) / STD_BGR
        return np.ascontiguousarray(canvas.transpose(2, 0, 1)[None]), s

    def detect(self, image_rgb: np.ndarray) -> list[PersonBox]:
        """Person boxes (score >= ``min_score``) in pixels of ``image_rgb``, highest score first."""
        h, w = image_rgb.shape[:2]
        x, s = self.preprocess(image_rgb)
        res = dict(zip(self.out_names, self.sess.run(None, {self.input_name: x})))
        ih, iw = x.shape[2:]
        boxes, scores = [], []
        proj = np.arange(REG_MAX + 1, dtype=np.float32)
        for stride, (cls_name, reg_name) in self._level_outputs(res, iw, ih).items():
            score = res[cls_name][0, :, PERSON]
            idx = np.nonzero(score >= self.min_score)[0]
            if len(idx) == 0:
                continue
            n = iw // stride
            cx = (idx % n + 0.5) * stride
            cy = (idx // n + 0.5) * stride
            reg = res[reg_name][0, idx].reshape(-1, 4, REG_MAX + 1)
            reg = np.exp(reg - reg.max(axis=2, keepdims=True))
            dist = (reg / reg.sum(axis=2, keepdims=True)) @ proj * stride  # left, top, right, bottom
            boxes.append(np.column_stack([cx - dist[:, 0], cy - dist[:, 1], cx + dist[:, 2], cy + dist[:, 3]]))
            scores.append(score[idx])
        if not boxes:
            return []
        b, sc = np.concatenate(boxes) / s, np.concatenate(scores)
        out = []
        for i in nms(b, sc, self.nms_iou):
            bb = np.clip(b[i], 0, [w, h, w, h]).astype(np.float64)
            if bb[2] - bb[0] > 1 and bb[3] - bb[1] > 1:
                out.append(PersonBox(bb, float(sc[i])))
        return out


def tile_grid(width: int, height: int, cols: int, rows: int, overlap: float = 0.25) -> list[tuple[int, int, int, int]]:
    """``cols`` x ``rows`` tiles (x0, y0, x1, y1) covering the frame, neighbours overlapping by ``overlap``
    of a tile."""
    tw = int(np.ceil(width / (cols - (cols - 1) * overlap))) if cols > 1 else width
    th = int(np.ceil(height / (rows - (rows - 1) * overlap))) if rows > 1 else height
    xs = np.linspace(0, width - tw, cols).round().astype(int) if cols > 1 else [0]
    ys = np.linspace(0, height - th, rows).round().astype(int) if rows > 1 else [0]
    return [(int(x), int(y), int(x) + tw, int(y) + th) for y in ys for x in xs]


def scan_schedule(width: int, height: int, tiles: str, input_size: int) -> list[tuple[int, int, int, int]]:
    """The detector's regions for a frame, visited one per detector pass: the whole frame, then (for
    ``tiles`` "3x2", "2x2", or "auto" = 3x2 when the frame's longer side exceeds twice ``input_size``)
    overlapping tiles, interleaved with the whole frame (whole, tile 1, whole, tile 2, ...) so that
    large people are seen on every other pass."""
    whole = (0, 0, width, height)
    if tiles == "auto":
        tiles = "3x2" if max(width, height) > 2 * input_size else "off"
    if tiles == "off":
        return [whole]
    cols, rows = (int(v) for v in tiles.split("x"))
    schedule = []
    for t in tile_grid(width, height, cols, rows):
        schedule += [whole, t]
    return schedule


def detect_region(
    detector: NanoDet, image_rgb: np.ndarray, region: tuple[int, int, int, int]
) -> list[PersonBox]:
    """People in one region of the frame, in frame pixels. In a tile, a box touching an inner edge (one
    that is not the frame border) is dropped: that person is cut by the tile and seen whole elsewhere."""
    h, w = image_rgb.shape[:2]
    x0, y0, x1, y1 = region
    if (x0, y0, x1, y1) == (0, 0, w, h):
        return detector.detect(image_rgb)
    out = []
    for p in detector.detect(image_rgb[y0:y1, x0:x1]):
        b = p.box + np.array([x0, y0, x0, y0])
        cut = (x0 > 0 and b[0] <= x0 + 2) or (y0 > 0 and b[1] <= y0 + 2) or (x1 < w and b[2] >= x1 - 2) or (
            y1 < h and b[3] >= y1 - 2
        )
        if not cut:
            out.append(PersonBox(b, p.score))
    return out
