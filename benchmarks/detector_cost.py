"""CPU cost of the 2D front end: per model inference, and per frame for 1 and 5 people.

    nice -n 10 .venv/bin/python benchmarks/detector_cost.py [--frames 150] [--out docs/bench/detector_cost.json]

Per inference (one thread, median of 30 after 5 warm-up calls, ``time.process_time``):
- NanoDet on a 640x480 frame at ``input_size`` 320 / 416 / 512 / 640;
- BlazePose lite / full / heavy on one region: with ONNX Runtime (blazepose.OnnxLandmarker, the
  segmentation head cut off) one region per call and 5 regions per call (per region), and full
  through MediaPipe's own graph (landmarker.RoiLandmarker, which also computes the segmentation mask).
Per frame: the 640x480 frames of benchmarks/node_latency.py (1 person; 5 people side by side) fed in
order for ``--frames`` frames after 10 warm-up frames; people per frame and CPU per frame (mean, p95;
all threads of the process, so an asynchronous detector pass is included) for today's MediaPipe
kind and for the shipped configuration with and without the worker thread, lite and full.
The machine's load average is recorded: CPU time is less sensitive to load than wall time, not immune.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(HERE))

import node_latency  # noqa: E402
from detection_2d import TODAY, nanodet  # noqa: E402


def cpu_ms(fn, n: int = 30, warmup: int = 5) -> float:
    """Median process CPU ms of ``fn()``."""
    for _ in range(warmup):
        fn()
    t = []
    for _ in range(n):
        c = time.process_time()
        fn()
        t.append(1000 * (time.process_time() - c))
    return float(np.median(t))


def per_inference(frame1: np.ndarray) -> dict:
    """The models one call at a time (module docstring)."""
    from hpe3d_ros.detection.blazepose import OnnxLandmarker
    from hpe3d_ros.detection.landmarker import Roi, RoiLandmarker
    from hpe3d_ros.detection.models import landmark_model_path, nanodet_path
    from hpe3d_ros.detection.person_boxes import NanoDet

    out: dict = {"nanodet": {}, "blazepose_onnxruntime": {}, "blazepose_mediapipe_graph": {}}
    for size in (320, 416, 512, 640):
        net = NanoDet(nanodet_path(), size, 0.2)
        out["nanodet"][str(size)] = cpu_ms(lambda net=net: net.detect(frame1))
    roi = Roi(np.array([320.0, 240.0]), 460.0, 0.0)
    for m in ("lite", "full", "heavy"):
        lm = OnnxLandmarker(landmark_model_path(m))
        out["blazepose_onnxruntime"][m] = {
            "1 region": cpu_ms(lambda lm=lm: lm.process(frame1, roi)),
            "per region of 5": cpu_ms(lambda lm=lm: lm.process_many(frame1, [roi] * 5)) / 5,
        }
    g = RoiLandmarker()
    out["blazepose_mediapipe_graph"]["full"] = {"1 region": cpu_ms(lambda: g.process(frame1, roi))}
    g.close()
    return out


def per_frame(frame: np.ndarray, params: dict, frames: int) -> dict:
    """People per frame and CPU per frame of one configuration on a still frame fed ``frames`` times at
    30 Hz (a frame is never early, so a worker-thread pass has a camera's time)."""
    from hpe3d_ros.detection import make_detector

    counts, cpu = [], []
    with make_detector(params) as det:
        for _ in range(10):
            det.detect(frame)
        next_t = time.perf_counter()
        for _ in range(frames):
            now = time.perf_counter()
            if now < next_t:
                time.sleep(next_t - now)
            next_t = max(next_t + 1 / 30, time.perf_counter())
            c = time.process_time()
            counts.append(len(det.detect(frame)))
            cpu.append(1000 * (time.process_time() - c))
    return {"people_per_frame": float(np.mean(counts)), "cpu_ms_mean": float(np.mean(cpu)),
            "cpu_ms_p95": float(np.percentile(cpu, 95)), "load_avg": os.getloadavg()}


def configurations() -> dict[str, dict]:
    """The per-frame configurations."""
    return {
        "today: mediapipe (old lift.yaml)": TODAY,
        "SHIPPED, detector inline": nanodet(),
        "SHIPPED (worker thread)": nanodet(async_detection=True),
        "shipped with lite, worker thread": nanodet(async_detection=True, landmark_model="lite"),
    }


def markdown(res: dict) -> str:
    """The tables of docs/detection.md."""
    inf = res["per_inference"]
    lines = ["| model | CPU ms per call |", "| --- | --- |"]
    lines += [f"| NanoDet-m, 640x480 frame at input_size {s} | {v:.1f} |" for s, v in inf["nanodet"].items()]
    for m, v in inf["blazepose_onnxruntime"].items():
        lines.append(f"| BlazePose {m}, ONNX Runtime, 1 region / per region of 5 | {v['1 region']:.1f} / "
                     f"{v['per region of 5']:.1f} |")
    lines.append(f"| BlazePose full, MediaPipe's graph (with the segmentation head) | "
                 f"{inf['blazepose_mediapipe_graph']['full']['1 region']:.1f} |")
    lines += ["", "| configuration | people in frame | people/frame | CPU ms/frame mean (p95) | load avg |",
              "| --- | ---: | ---: | --- | --- |"]
    for name, by_people in res["per_frame"].items():
        for people, r in by_people.items():
            lines.append(f"| {name} | {people} | {r['people_per_frame']:.2f} | {r['cpu_ms_mean']:.0f} "
                         f"({r['cpu_ms_p95']:.0f}) | {r['load_avg'][0]:.1f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=150)
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "bench" / "detector_cost.json")
    args = ap.parse_args(argv)
    crops = node_latency.person_crops()
    frames = {people: node_latency.compose(crops, people) for people in (1, 5)}
    res = {"command": "benchmarks/detector_cost.py " + " ".join(argv if argv is not None else sys.argv[1:]),
           "load_avg_start": os.getloadavg(), "cpu_count": os.cpu_count(),
           "per_inference": per_inference(frames[1]), "per_frame": {}}
    for name, params in configurations().items():
        res["per_frame"][name] = {str(p): per_frame(f, params, args.frames) for p, f in frames.items()}
        print(name, res["per_frame"][name], flush=True)
    res["load_avg_end"] = os.getloadavg()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=1) + "\n")
    print(markdown(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
