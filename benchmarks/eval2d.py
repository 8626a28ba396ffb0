"""The 2D evaluation sets and their scoring, shared by benchmarks/detection_2d.py and error_model.py.

Sets (from ../shared, hpe3d_ros.paths.shared_dir(); evaluation only, never shipped):
- ``coco``: ../shared/data/coco-person-mini (75 COCO 2017 images, person boxes, 17 keypoints, crowds);
- ``mot17``: ../shared/data/mot17-04-mini (8 frames of MOT17-04, a street seen from above, person boxes
  with visibility).
Each image at the scales x1, x0.5, x0.25 (cv2.INTER_AREA, labels scaled) to make small people.

Matching (per image): detections sorted by score each take the unmatched ground-truth person of highest
IoU >= 0.5 (a true positive). An unmatched detection is ignored (neither true nor false) when >= 50 % of
it lies inside a COCO ``iscrowd`` box, when it has IoU >= 0.5 with a MOT17 row not to consider (static
people, consider = 0), and, on COCO only, when shorter than 32 px in the ORIGINAL image (COCO leaves tiny
background people unannotated; COCO's own "small" threshold, applied in original pixels so that it does
not change with the scale); otherwise it is a false positive. ``strict`` precision counts the tiny ones
as false positives. Bins: the ground-truth box height in pixels of the evaluated image.

Keypoints (COCO, labelled keypoints of matched people): PCK@0.1 (error <= 0.1 x GT box height) and OKS
(COCO sigmas, s^2 = the annotation's segmentation area); BlazePose landmarks are mapped to the 17 COCO
keypoints (eyes: BlazePose's eye centres 2 and 5). A matched person without keypoints scores 0.
"""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hpe3d_ros import paths  # noqa: E402
from hpe3d_ros.detection.tracking import box_iou  # noqa: E402

SCALES = (1.0, 0.5, 0.25)
HEIGHT_BINS = ((0, 50, "<50"), (50, 100, "50-100"), (100, 200, "100-200"), (200, 1e9, ">200"))
BIN_NAMES = tuple(b[2] for b in HEIGHT_BINS)
VIS_BINS = ((0.0, 0.25, "vis<0.25"), (0.25, 0.5, "vis 0.25-0.5"), (0.5, 0.75, "vis 0.5-0.75"),
            (0.75, 1.01, "vis>=0.75"))
COCO_SIGMAS = np.array([.26, .25, .25, .35, .35, .79, .79, .72, .72, .62, .62, 1.07, 1.07, .87, .87, .89, .89]) / 10
BLAZE_OF_COCO = np.array([0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28])  # COCO-17 <- BlazePose
TINY_PX = 32.0


def data_dir(name: str) -> Path | None:
    """../shared/data/<name>, or None when the shared material is not there."""
    s = paths.shared_dir()
    d = s / "data" / name if s else None
    return d if d is not None and d.is_dir() else None


@dataclass
class Sample:
    """One evaluation image at one scale with its labels (boxes x0, y0, x1, y1 px)."""

    dataset: str
    name: str
    scale: float
    image: np.ndarray  # RGB uint8
    gt: np.ndarray  # (N, 4)
    gt_kp: np.ndarray  # (N, 17, 3) COCO keypoints x, y, v (zeros for MOT)
    gt_area: np.ndarray  # (N,) segmentation area px^2 (box area for MOT)
    gt_vis: np.ndarray  # (N,) MOT visibility (1 for COCO)
    ignore: np.ndarray  # (M, 4) regions whose detections count neither way
    ignore_kind: str  # "ioa" (COCO crowds) or "iou" (MOT)
    split: str = ""


def resize(img: np.ndarray, s: float) -> np.ndarray:
    """``img`` scaled by ``s`` (INTER_AREA)."""
    if s == 1.0:
        return img
    h, w = img.shape[:2]
    return cv2.resize(img, (max(1, int(round(w * s))), max(1, int(round(h * s)))), interpolation=cv2.INTER_AREA)


def read_rgb(path: Path) -> np.ndarray:
    """An image file as RGB uint8."""
    img = cv2.imread(str(path))
    if img is None:
        raise FileNotFoundError(path)
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def _xyxy(bbox) -> list[float]:
    return [bbox[0], bbox[1], bbox[0] + bbox[2], bbox[1] + bbox[3]]


def coco_samples(scales=SCALES, limit: int | None = None) -> Iterator[Sample]:
    """coco-person-mini at each scale (images sorted by file name)."""
    root = data_dir("coco-person-mini")
    d = json.loads((root / "person_keypoints.json").read_text())
    anns: dict[int, list] = {}
    for a in d["annotations"]:
        anns.setdefault(a["image_id"], []).append(a)
    for im in sorted(d["images"], key=lambda i: i["file_name"])[:limit]:
        img0 = read_rgb(root / "images" / im["file_name"])
        people = [a for a in anns.get(im["id"], []) if not a["iscrowd"]]
        crowd = [a for a in anns.get(im["id"], []) if a["iscrowd"]]
        for s in scales:
            gt = np.array([_xyxy(a["bbox"]) for a in people], dtype=np.float64).reshape(-1, 4) * s
            kp = np.array([np.reshape(a["keypoints"], (17, 3)) for a in people], dtype=np.float64).reshape(-1, 17, 3)
            kp[..., :2] *= s
            area = np.array([a["area"] for a in people], dtype=np.float64) * s * s
            ign = np.array([_xyxy(a["bbox"]) for a in crowd], dtype=np.float64).reshape(-1, 4) * s
            yield Sample("coco", im["file_name"], s, resize(img0, s), gt, kp, area, np.ones(len(gt)), ign, "ioa",
                         im.get("split", ""))


def mot_samples(scales=SCALES, limit: int | None = None) -> Iterator[Sample]:
    """mot17-04-mini at each scale: pedestrians (class 1) and static people (7) to consider are the ground
    truth; rows not to consider (consider = 0) are ignore regions."""
    root = data_dir("mot17-04-mini")
    g = np.loadtxt(root / "gt" / "gt.txt", delimiter=",")
    for f in sorted((root / "img1").glob("*.jpg"))[:limit]:
        rows = g[g[:, 0] == int(f.stem)]
        ped = rows[(rows[:, 6] == 1) & np.isin(rows[:, 7], [1, 7])]
        ign = rows[(rows[:, 6] == 0) & np.isin(rows[:, 7], [1, 2, 7, 8, 12])]
        img0 = read_rgb(f)
        for s in scales:
            def box(r: np.ndarray) -> np.ndarray:
                return np.column_stack([r[:, 2], r[:, 3], r[:, 2] + r[:, 4], r[:, 3] + r[:, 5]]) * s

            gt = box(ped)
            yield Sample("mot17", f.name, s, resize(img0, s), gt, np.zeros((len(gt), 17, 3)),
                         (gt[:, 2] - gt[:, 0]) * (gt[:, 3] - gt[:, 1]), ped[:, 8].astype(np.float64), box(ign), "iou")


def ioa(det: np.ndarray, regions: np.ndarray) -> np.ndarray:
    """Intersection over the detection's area (len(det), len(regions))."""
    det = det.reshape(-1, 4)
    regions = regions.reshape(-1, 4)
    ix = np.clip(np.minimum(det[:, None, 2], regions[None, :, 2]) - np.maximum(det[:, None, 0], regions[None, :, 0]),
                 0, None)
    iy = np.clip(np.minimum(det[:, None, 3], regions[None, :, 3]) - np.maximum(det[:, None, 1], regions[None, :, 1]),
                 0, None)
    area = np.maximum((det[:, 2] - det[:, 0]) * (det[:, 3] - det[:, 1]), 1e-9)
    return ix * iy / area[:, None]


def match(sample: Sample, boxes: np.ndarray, scores: np.ndarray, iou_thr: float = 0.5) -> tuple[np.ndarray, list]:
    """(per ground-truth person the matched detection index or -1, per detection 'tp'/'fp'/'ignored'/'tiny')."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    n = len(sample.gt)
    gt_match = -np.ones(n, dtype=int)
    iou = box_iou(boxes, sample.gt) if len(boxes) and n else np.zeros((len(boxes), n))
    status = [""] * len(boxes)
    for d in np.argsort(-np.asarray(scores, dtype=np.float64)) if len(boxes) else []:
        free = np.where(gt_match < 0, iou[d], -1.0)
        best = int(np.argmax(free)) if n else -1
        if n and free[best] >= iou_thr:
            gt_match[best] = d
            status[d] = "tp"
            continue
        b = boxes[d]
        if len(sample.ignore) and (
            (sample.ignore_kind == "ioa" and ioa(b, sample.ignore).max() >= 0.5)
            or (sample.ignore_kind == "iou" and box_iou(b, sample.ignore).max() >= 0.5)
        ):
            status[d] = "ignored"
        elif sample.dataset == "coco" and (b[3] - b[1]) / sample.scale < TINY_PX:
            status[d] = "tiny"
        else:
            status[d] = "fp"
    return gt_match, status


def keypoint_scores(pred: np.ndarray | None, gt_kp: np.ndarray, gt_box: np.ndarray, area: float):
    """(labelled keypoints, correct at PCK@0.1 of box height, OKS or nan, per-keypoint error / box height
    (17,) nan where unlabelled) of one person; ``pred`` (17, 2) or None."""
    lab = gt_kp[:, 2] > 0
    n = int(lab.sum())
    err = np.full(17, np.nan)
    if n == 0:
        return 0, 0, np.nan, err
    h = max(gt_box[3] - gt_box[1], 1.0)
    if pred is None:
        return n, 0, 0.0, err
    d = np.linalg.norm(pred[:, :2] - gt_kp[:, :2], axis=1)
    err[lab] = d[lab] / h
    k2 = (2 * COCO_SIGMAS) ** 2
    oks = float(np.mean(np.exp(-(d[lab] ** 2) / (2 * max(area, 1.0) * k2[lab]))))
    return n, int((d[lab] <= 0.1 * h).sum()), oks, err


def height_bin(h: float) -> str:
    """The height bin of a person ``h`` px tall."""
    return next(name for lo, hi, name in HEIGHT_BINS if lo <= h < hi)


def vis_bin(v: float) -> str:
    """The visibility bin of a MOT person."""
    return next((name for lo, hi, name in VIS_BINS if lo <= v < hi), VIS_BINS[-1][2])
