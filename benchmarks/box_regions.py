"""Which landmark region finds a pose on a person box: the count behind ``box_retry_scales``.

    nice -n 10 .venv/bin/python benchmarks/box_regions.py [--datasets coco mot17] [--out docs/bench/box_regions.json]

NanoDet-m (shipped settings: input 416, score >= 0.35, every region of its schedule) runs on each image
of coco-person-mini and mot17-04-mini at x1, x0.5, x0.25 (benchmarks/eval2d.py); its boxes are matched
to the ground truth (IoU >= 0.5). On every matched box the BlazePose full landmark model (ONNX Runtime)
runs on upright squares of 1.25x, 1.5x and 2.0x the box's longer side; a region "has a pose" when the
model's presence score is above 0.5 (min_tracking_confidence) and the mean joint score at least 0.35
(min_detection_confidence), what the node needs to start a person. Printed: per height bin, the share
of matched boxes with a pose in 1.5x alone and in any region of each retry order (MOT: people with
visibility >= 0.5). Skips with a message without ../shared.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import eval2d  # noqa: E402

SCALES = (1.25, 1.5, 2.0)
ORDERS = {"1.5": (1.5,), "1.5, 2.0": (1.5, 2.0), "1.5, 2.0, 1.25 (shipped)": (1.5, 2.0, 1.25)}
MIN_PRESENCE, MIN_CONFIDENCE = 0.5, 0.35


def box_poses(dataset: str) -> list[dict]:
    """Per matched NanoDet box: ground-truth height, MOT visibility and whether each region has a pose."""
    from hpe3d_ros import skeleton
    from hpe3d_ros.detection.blazepose import OnnxLandmarker
    from hpe3d_ros.detection.models import landmark_model_path, nanodet_path
    from hpe3d_ros.detection.nanodet import roi_from_box
    from hpe3d_ros.detection.person_boxes import NanoDet, detect_region, scan_schedule

    net = NanoDet(nanodet_path(""), 416, MIN_CONFIDENCE, 0.6)
    lm = OnnxLandmarker(landmark_model_path("full"), min_presence=-1.0, threads=1)
    flags: list[float] = []
    decode = lm._decode

    def keep_flag(roi, raw, flag, heat, world):
        flags.append(flag)
        return decode(roi, raw, flag, heat, world)

    lm._decode = keep_flag  # the presence score rides along with the landmarks
    rows = []
    samples = eval2d.coco_samples() if dataset == "coco" else eval2d.mot_samples()
    for s in samples:
        h, w = s.image.shape[:2]
        boxes = [b for r in scan_schedule(w, h, "auto", 416) for b in detect_region(net, s.image, r)]
        if not boxes:
            continue
        b = np.array([x.box for x in boxes])
        gt_match, _ = eval2d.match(s, b, np.array([x.score for x in boxes]))
        for g, d in enumerate(gt_match):
            if d < 0:
                continue
            row = {"height_px": float(s.gt[g, 3] - s.gt[g, 1]), "visibility": float(s.gt_vis[g])}
            for scale in SCALES:
                res = lm.process(s.image, roi_from_box(b[d], scale))
                conf = float(skeleton.scores_from_mediapipe(np.clip(res.landmarks[:, 3], 0.0, 1.0)).mean())
                row[str(scale)] = bool(flags[-1] > MIN_PRESENCE and conf >= MIN_CONFIDENCE)
            rows.append(row)
    lm.close()
    return rows


def summary(rows: list[dict], dataset: str) -> dict:
    """Share of matched boxes with a pose per height bin and retry order."""
    if dataset == "mot17":
        rows = [r for r in rows if r["visibility"] >= 0.5]
    out = {}
    for _, _, name in eval2d.HEIGHT_BINS:
        rs = [r for r in rows if eval2d.height_bin(r["height_px"]) == name]
        out[name] = {"n": len(rs)} | {
            order: float(np.mean([any(r[str(s)] for s in scales) for r in rs])) if rs else None
            for order, scales in ORDERS.items()}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", nargs="+", default=["coco", "mot17"], choices=["coco", "mot17"])
    ap.add_argument("--out", type=Path, default=HERE.parent / "docs" / "bench" / "box_regions.json")
    args = ap.parse_args(argv)
    if any(eval2d.data_dir(d) is None for d in ("coco-person-mini", "mot17-04-mini")):
        print("box_regions: skipped: ../shared/data is not there (HPE3D_SHARED or ../shared)")
        return 0
    result = {}
    for ds in args.datasets:
        result[ds] = summary(box_poses(ds), ds)
        print(f"{ds}: share of matched NanoDet boxes with a pose, by height (px)")
        for name, r in result[ds].items():
            print(f"  {name:>8} (n {r['n']:3d}): " + ", ".join(
                f"{o}: {r[o]:.2f}" for o in ORDERS if r[o] is not None))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"command": "benchmarks/box_regions.py " + " ".join(argv or sys.argv[1:]),
                                    "results": result}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
