"""The 2D front-end benchmark: person recall and precision, and keypoint error, by person height.

    nice -n 10 .venv/bin/python benchmarks/detection_2d.py [--only NAME ...] [--quick] [--datasets coco mot17]
    .venv/bin/python benchmarks/detection_2d.py --rescore            # tables again from the cached runs

Sets and scoring: benchmarks/eval2d.py (coco-person-mini and mot17-04-mini at x1, x0.5, x0.25; skips
with a message when ../shared is not there). Every configuration is a detector built by
``hpe3d_ros.detection.make_detector`` exactly as the node builds it, run on each still image as a
static camera would see it: synchronously (no worker thread: reproducible), for as many frames as its
person detector needs to visit every scan region once (NanoDet: ``detect_every_n_frames`` 1 and one
frame per region of ``person_boxes.scan_schedule``; MediaPipe ("today"): 1 frame and 30 frames, its
scanner looking at one region per pass), with ``reset()`` between images. The people of the last frame
are scored: their ``Person2D.bbox`` against the ground-truth boxes, their BlazePose landmarks against
the COCO keypoints. "boxes only" rows score NanoDet's raw boxes (no landmark model: what the detector
finds before the rule that only people with a pose are published). CPU: process time per frame
(mean over all frames of a row), one inference thread, machine load recorded with the results.

Outputs: docs/bench/detection_2d.json (every row, per set, per scale and pooled) and the markdown
tables (printed; docs/detection.md holds them). Runs are cached per configuration in
<cache>/detection_2d/ (hpe3d_ros.paths.cache_dir()); ``--only`` reruns some, ``--rescore`` none.
"""
from __future__ import annotations

import argparse
import json
import os
import pickle
import sys
import time
from pathlib import Path

import numpy as np
import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import eval2d  # noqa: E402

from hpe3d_ros import paths  # noqa: E402

REPO = HERE.parent
OUT_JSON = REPO / "docs" / "bench" / "detection_2d.json"

# The detector settings before issue 12 (config/lift.yaml at that time): the MediaPipe kind.
TODAY = {"kind": "mediapipe", "max_people": 5, "min_detection_confidence": 0.5, "min_tracking_confidence": 0.5,
         "min_keypoint_confidence": 0.3, "detect_every_n_frames": 5, "max_missed_frames": 10, "crop_margin": 0.25,
         "match_distance": 0.35, "scan_tiles": 0.6, "smooth_landmarks": True, "async_detection": False}


def shipped_params() -> dict:
    """The ``detector:`` mapping of config/lift.yaml (the shipped configuration), run synchronously."""
    cfg = yaml.safe_load((REPO / "config" / "lift.yaml").read_text())
    p = dict(cfg["/**"]["ros__parameters"]["detector"])
    from hpe3d_ros.detection.registry import detector_params_class

    fields = set(detector_params_class(p["kind"]).__dataclass_fields__)
    return {"kind": p["kind"]} | {k: v for k, v in p.items() if k in fields} | {"async_detection": False}


def nanodet(**over) -> dict:
    """The shipped NanoDet configuration with changes; without retry regions unless given (the rows measured
    before ``box_retry_scales`` existed keep their meaning)."""
    return {**shipped_params(), "box_retry_scales": "", "box_retry_min_px": 0.0, **over}


def configurations() -> list[dict]:
    """Every configuration measured (name, detector params, still-image frames or None = cover the schedule)."""
    m20 = {"max_people": 20}
    off = {"low_box_min_pose_confidence": 2.0}  # boxes under min_detection_confidence start nobody
    low = {"low_box_min_pose_confidence": 0.7}  # ... unless BlazePose's pose there has confidence >= 0.7
    return [
        {"name": "today: mediapipe (old lift.yaml), 1 frame", "params": TODAY, "frames": 1},
        {"name": "today: mediapipe (old lift.yaml), 30 frames", "params": TODAY, "frames": 30},
        {"name": "SHIPPED (config/lift.yaml)", "params": shipped_params(), "frames": None},
        {"name": "nanodet416 t0.35 boxes only", "params": nanodet(min_detection_confidence=0.35), "boxes_only": True},
        {"name": "nanodet416 t0.25 boxes only", "params": nanodet(min_detection_confidence=0.25), "boxes_only": True},
        {"name": "nanodet416 t0.35 full, max 20", "params": nanodet(**off, **m20)},
        {"name": "nanodet416 t0.25 full, max 20", "params": nanodet(min_detection_confidence=0.25, **off, **m20)},
        {"name": "nanodet416 t0.45 full, max 20", "params": nanodet(min_detection_confidence=0.45, **off, **m20)},
        {"name": "nanodet416 t0.35 + low boxes with pose >= 0.8, full, max 20",
         "params": nanodet(low_box_min_pose_confidence=0.8, **m20)},
        {"name": "nanodet416 t0.35 + low boxes with pose >= 0.7, full, max 20",
         "params": nanodet(low_box_min_pose_confidence=0.7, **m20)},
        {"name": "nanodet416 t0.35 + low >= 0.7, lite, max 20", "params": nanodet(landmark_model="lite", **low, **m20)},
        {"name": "nanodet416 t0.35 + low >= 0.7, heavy, max 20",
         "params": nanodet(landmark_model="heavy", **low, **m20)},
        {"name": "nanodet416 t0.35 + low >= 0.7, auto (lite < 100 px), max 20",
         "params": nanodet(landmark_model="auto", **low, **m20)},
        {"name": "nanodet416 t0.35 + low >= 0.7, full, presence 0.3, max 20",
         "params": nanodet(min_tracking_confidence=0.3, **low, **m20)},
        {"name": "nanodet512 t0.35 + low >= 0.7, full, max 20", "params": nanodet(input_size=512, **low, **m20)},
        {"name": "nanodet640 t0.35 + low >= 0.7, full, max 20", "params": nanodet(input_size=640, **low, **m20)},
        {"name": "nanodet416 whole+3x2 tiles t0.35 + low >= 0.7, full, max 20",
         "params": nanodet(tiles="3x2", **low, **m20)},
        {"name": "nanodet416 t0.35 full, box_roi_scale 1.25, max 20",
         "params": nanodet(box_roi_scale=1.25, **off, **m20)},
        {"name": "nanodet416 t0.35 full, box_roi_scale 1.75, max 20",
         "params": nanodet(box_roi_scale=1.75, **off, **m20)},
        {"name": "nanodet416 t0.35 full, regions 1.5 then 2.0, 1.25 (box_retry_scales)",
         "params": nanodet(box_retry_scales="2.0,1.25", **off)},
        {"name": "nanodet416 t0.35 full, regions 1.5 then 2.0, 1.25, max 20",
         "params": nanodet(box_retry_scales="2.0,1.25", **off, **m20)},
        {"name": "nanodet416 t0.35 full, regions 1.5 then 2.0, 1.25 for boxes >= 100 px",
         "params": nanodet(box_retry_scales="2.0,1.25", box_retry_min_px=100.0, **off)},
        {"name": "nanodet416 t0.35 full, regions 1.5 then 1.25, 2.0",
         "params": nanodet(box_retry_scales="1.25,2.0", **off)},
        {"name": "nanodet416 t0.35 lite, regions 1.5 then 2.0, 1.25, max 20",
         "params": nanodet(box_retry_scales="2.0,1.25", landmark_model="lite", **off, **m20)},
    ]


def frames_for(cfg: dict, image: np.ndarray) -> int:
    """Still-image frames of a configuration: given, or one per region of the NanoDet schedule."""
    if cfg.get("frames"):
        return int(cfg["frames"])
    from hpe3d_ros.detection.person_boxes import scan_schedule

    p = cfg["params"]
    h, w = image.shape[:2]
    return len(scan_schedule(w, h, p.get("tiles", "auto"), int(p.get("input_size", 416))))


def run_config(cfg: dict, samples: list) -> list[dict]:
    """One configuration over the samples: per sample the reported people and the CPU per frame."""
    from hpe3d_ros.detection import make_detector

    params = dict(cfg["params"])
    if params["kind"] == "nanodet" and not cfg.get("frames"):
        params["detect_every_n_frames"] = 1  # a still image: visit every scan region once
    out = []
    if cfg.get("boxes_only"):
        from hpe3d_ros.detection.models import nanodet_path
        from hpe3d_ros.detection.person_boxes import NanoDet

        net = NanoDet(nanodet_path(params.get("model_file_path", "")), params["input_size"],
                      params["min_detection_confidence"], params["nms_iou"])
        for s in samples:
            c0 = time.process_time()
            boxes = net.detect(s.image)
            out.append({"boxes": np.array([b.box for b in boxes]).reshape(-1, 4),
                        "scores": np.array([b.score for b in boxes]), "kp": [None] * len(boxes),
                        "cpu": time.process_time() - c0, "frames": 1})
        return out
    det = make_detector(params)
    try:
        for s in samples:
            det.reset()
            n = frames_for(cfg, s.image)
            c0 = time.process_time()
            for _ in range(n):
                people = det.detect(s.image)
            out.append({
                "boxes": np.array([p.bbox for p in people], dtype=np.float64).reshape(-1, 4),
                "scores": np.array([p.confidence for p in people]),
                "kp": [p.landmarks[eval2d.BLAZE_OF_COCO, :2] if p.landmarks is not None else None for p in people],
                "landmarks": [p.landmarks for p in people],
                "cpu": (time.process_time() - c0) / n, "frames": n,
            })
    finally:
        det.close()
    return out


def score(samples: list, runs: list[dict]) -> dict:
    """Metrics of one configuration per set x scale and pooled over scales ("all")."""
    acc: dict = {}
    for s, r in zip(samples, runs):
        gm, status = eval2d.match(s, r["boxes"], r["scores"])
        for key in ((s.dataset, str(s.scale)), (s.dataset, "all")):
            b = acc.setdefault(key, {"images": 0, "cpu": 0.0, "tp": 0, "fp": 0, "tiny": 0, "ignored": 0, "people": 0,
                                     "bins": {}, "vis": {}, "vis_bins": {}, "kp": {}})
            b["images"] += 1
            b["cpu"] += r["cpu"]
            b["people"] += len(r["boxes"])
            for st in status:
                b[st] += 1
            for g in range(len(s.gt)):
                hb = eval2d.height_bin(s.gt[g, 3] - s.gt[g, 1])
                found = int(gm[g] >= 0)
                counts = b["bins"].setdefault(hb, [0, 0])
                counts[0] += 1
                counts[1] += found
                if s.dataset == "mot17":
                    v = s.gt_vis[g]
                    counts = b["vis"].setdefault(eval2d.vis_bin(v), [0, 0])
                    counts[0] += 1
                    counts[1] += found
                    if v >= 0.5:
                        counts = b["vis_bins"].setdefault(hb, [0, 0])
                        counts[0] += 1
                        counts[1] += found
                if s.dataset == "coco" and found:
                    n, c, oks, _ = eval2d.keypoint_scores(r["kp"][gm[g]], s.gt_kp[g], s.gt[g], s.gt_area[g])
                    if n:
                        k = b["kp"].setdefault(hb, [0, 0, 0.0, 0])
                        k[0] += n
                        k[1] += c
                        k[2] += oks
                        k[3] += 1
    out: dict = {}
    for (ds, sc), b in acc.items():
        tp, fp = b["tp"], b["fp"]

        def rec(d: dict) -> dict:
            return {k: {"n": v[0], "recall": v[1] / max(v[0], 1)} for k, v in d.items()}

        res = {"images": b["images"], "people_reported": b["people"], "tp": tp, "fp": fp, "ignored": b["ignored"],
               "tiny": b["tiny"], "precision": tp / max(tp + fp, 1),
               "precision_strict": tp / max(tp + fp + b["tiny"], 1),
               "recall": rec(b["bins"]), "cpu_ms_per_frame": 1000 * b["cpu"] / max(b["images"], 1)}
        if ds == "mot17":
            res["recall_by_visibility"] = rec(b["vis"])
            res["recall_vis_ge_0.5"] = rec(b["vis_bins"])
        if b["kp"]:
            res["keypoints"] = {k: {"people": v[3], "keypoints": v[0], "pck@0.1": v[1] / max(v[0], 1),
                                    "oks": v[2] / max(v[3], 1)} for k, v in b["kp"].items()}
            tot = np.sum(list(b["kp"].values()), axis=0)
            res["keypoints"]["all"] = {"people": int(tot[3]), "keypoints": int(tot[0]),
                                       "pck@0.1": tot[1] / max(tot[0], 1), "oks": tot[2] / max(tot[3], 1)}
        out.setdefault(ds, {})[sc] = res
    return out


def _f(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def markdown(results: dict) -> str:
    """The tables of docs/detection.md (pooled over the three scales)."""
    lines = []
    titles = {"coco": "coco-person-mini (75 images x 3 scales)", "mot17": "mot17-04-mini (8 frames x 3 scales)"}
    for ds, title in titles.items():
        rows = [(name, r[ds]["all"]) for name, r in results.items() if ds in r]
        if not rows:
            continue
        lines.append(f"\n**{title}**, pooled over x1, x0.5, x0.25: recall by person height (px)\n")
        extra = " PCK@0.1 <50 / 50-100 / 100-200 / >200 | OKS |" if ds == "coco" else \
            " recall, visibility >= 0.5: <50 / 50-100 / 100-200 / >200 |"
        hdr = "| configuration | <50 | 50-100 | 100-200 | >200 | precision (strict) | people/img | CPU ms/frame |"
        hdr += extra
        lines += [hdr, "|" + " --- |" * (hdr.count("|") - 1)]
        for name, a in rows:
            rec = " | ".join(_f(a["recall"].get(b, {}).get("recall")) for b in eval2d.BIN_NAMES)
            row = (f"| {name} | {rec} | {a['precision']:.2f} ({a['precision_strict']:.2f}) | "
                   f"{a['people_reported'] / max(a['images'], 1):.1f} | {a['cpu_ms_per_frame']:.0f} |")
            if ds == "coco":
                kp = a.get("keypoints", {})
                row += " " + " / ".join(_f(kp.get(b, {}).get("pck@0.1")) for b in eval2d.BIN_NAMES)
                row += f" | {_f(kp.get('all', {}).get('oks'))} |"
            else:
                v = a.get("recall_vis_ge_0.5", {})
                row += " " + " / ".join(_f(v.get(b, {}).get("recall")) for b in eval2d.BIN_NAMES) + " |"
            lines.append(row)
        n = rows[0][1]["recall"]
        lines.append("\nGround-truth people per bin (pooled): "
                     + ", ".join(f"{b}: {n.get(b, {}).get('n', 0)}" for b in eval2d.BIN_NAMES))
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", nargs="+", default=["coco", "mot17"], choices=["coco", "mot17"])
    ap.add_argument("--only", nargs="+", default=None, metavar="NAME",
                    help="rerun configurations whose name contains one of these")
    ap.add_argument("--rescore", action="store_true", help="no runs: tables from the cached runs")
    ap.add_argument("--quick", action="store_true", help="6 COCO images and 2 MOT frames (a smoke test; not cached)")
    ap.add_argument("--out", type=Path, default=OUT_JSON)
    args = ap.parse_args(argv)
    missing = [d for d in ("coco-person-mini", "mot17-04-mini") if eval2d.data_dir(d) is None]
    if missing:
        print(f"detection_2d: skipped: ../shared/data/{missing[0]} is not there (HPE3D_SHARED or ../shared)")
        return 0
    cache = paths.cache_dir() / "detection_2d"
    cache.mkdir(parents=True, exist_ok=True)
    limit = {"coco": 6, "mot17": 2} if args.quick else {"coco": None, "mot17": None}
    results: dict = {}
    for cfg in configurations():
        rerun = args.quick or (not args.rescore and (args.only is None or any(o in cfg["name"] for o in args.only)))
        for ds in args.datasets:
            load = eval2d.coco_samples if ds == "coco" else eval2d.mot_samples
            samples = list(load(limit=limit[ds]))
            key = cache / f"{ds}__{''.join(c if c.isalnum() else '_' for c in cfg['name'])}.pkl"
            if rerun or not key.is_file():
                if args.rescore:
                    continue
                t0 = time.time()
                runs = run_config(cfg, samples)
                print(f"{cfg['name']} on {ds}: {time.time() - t0:.0f} s", flush=True)
                if not args.quick:
                    key.write_bytes(pickle.dumps({"params": cfg["params"], "runs": runs,
                                                  "load_avg": os.getloadavg()}))
            else:
                runs = pickle.loads(key.read_bytes())["runs"]
            results.setdefault(cfg["name"], {}).update(score(samples, runs))
    md = markdown(results)
    print(md)
    if not args.quick:
        meta = {"command": "benchmarks/detection_2d.py " + " ".join(argv if argv is not None else sys.argv[1:]),
                "load_avg_at_end": os.getloadavg(), "cpu_count": os.cpu_count(),
                "configurations": {c["name"]: c["params"] for c in configurations()}}
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"meta": meta, "results": results}, indent=1, default=float) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
