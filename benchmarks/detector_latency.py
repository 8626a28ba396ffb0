"""Per-frame latency of the 2D detector (hpe3d_ros.detection.PoseDetector) on 640x480 frames.

    .venv/bin/python benchmarks/detector_latency.py [--frames 300] [--json out.json] [--inference-threads 0 2] \
        [--only-max-people-1]

Streams (built from the bundled fixture tests/fixtures/media/street-demo.mp4, 5 frames played
forward and backward so that motion stays continuous):
- ``1 person``: the woman in white cropped from each frame (x 690-960, y 120-540) and letterboxed
  into 640x480 (black bars), so that exactly one person is visible;
- ``several``: the right three quarters of each frame (x 240-960, 720x540) resized to 640x480,
  with 3-5 people of 120-400 px.
Configurations: the single-person path (max_people=1) and the multi-person path (max_people=5),
with the person detector inline and in a worker thread (async_detection), defaults otherwise.
Frames are fed at 30 Hz (a frame is never early; a slow frame delays the next one only by its
overrun) so that an asynchronous detector pass has the time a camera stream would give it. Reports
wall-clock p50/p95/p99 per frame (time.perf_counter around
detect()), the process CPU time per frame, and the people found per frame. The first 10 frames
(graph warm-up) are not counted. The machine's load average is printed: this machine is shared.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
WARMUP = 10


def _frames() -> list[np.ndarray]:
    from hpe3d_ros.video import read_frames

    return [rgb for _, rgb in read_frames(REPO / "tests" / "fixtures" / "media" / "street-demo.mp4")]


def one_person_stream(frames: list[np.ndarray]) -> list[np.ndarray]:
    """The woman in white letterboxed into 640x480."""
    import cv2

    out = []
    for f in frames:
        crop = f[120:540, 690:960]
        scale = 480 / crop.shape[0]
        small = cv2.resize(crop, (int(round(crop.shape[1] * scale)), 480), interpolation=cv2.INTER_AREA)
        canvas = np.zeros((480, 640, 3), np.uint8)
        x0 = (640 - small.shape[1]) // 2
        canvas[:, x0 : x0 + small.shape[1]] = small
        out.append(canvas)
    return out


def several_people_stream(frames: list[np.ndarray]) -> list[np.ndarray]:
    """The right three quarters of the street resized to 640x480."""
    import cv2

    return [cv2.resize(f[:, 240:960], (640, 480), interpolation=cv2.INTER_AREA) for f in frames]


def ping_pong(frames: list[np.ndarray], n: int) -> list[np.ndarray]:
    """n frames: 0 1 2 3 4 3 2 1 0 1 ..."""
    order = list(range(len(frames))) + list(range(len(frames) - 2, 0, -1))
    return [frames[order[i % len(order)]] for i in range(n)]


def measure(params: dict, stream: list[np.ndarray]) -> dict:
    """Latency statistics of PoseDetector(**params) over the stream."""
    from hpe3d_ros.detection import PoseDetector

    wall, cpu, people = [], [], []
    period = 1.0 / 30.0
    with PoseDetector(**params) as det:
        next_t = time.perf_counter()
        for i, img in enumerate(stream):
            now = time.perf_counter()
            if now < next_t:
                time.sleep(next_t - now)
            next_t = max(next_t + period, time.perf_counter())
            t0, c0 = time.perf_counter(), time.process_time()
            found = det.detect(img)
            t1, c1 = time.perf_counter(), time.process_time()
            if i >= WARMUP:
                wall.append(t1 - t0)
                cpu.append(c1 - c0)
                people.append(len(found))
    w = np.array(wall) * 1000
    c = np.array(cpu) * 1000
    return {
        "params": params,
        "frames": len(w),
        "wall_ms": {
            "p50": float(np.percentile(w, 50)),
            "p95": float(np.percentile(w, 95)),
            "p99": float(np.percentile(w, 99)),
            "max": float(w.max()),
        },
        "cpu_ms": {
            "p50": float(np.percentile(c, 50)),
            "p95": float(np.percentile(c, 95)),
            "p99": float(np.percentile(c, 99)),
        },
        "people_per_frame": {"mean": float(np.mean(people)), "min": int(np.min(people)), "max": int(np.max(people))},
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=300, help="frames per run (default 300, plus 10 warm-up)")
    ap.add_argument("--json", help="also write the results as JSON here")
    ap.add_argument(
        "--inference-threads",
        type=int,
        nargs="+",
        default=[0],
        help="MediaPipe TFLite threads (detector.inference_threads) to run every case with "
             "(default 0: MediaPipe's own)",
    )
    ap.add_argument("--only-max-people-1", action="store_true", help="only the single-person path")
    args = ap.parse_args(argv)
    base = _frames()
    streams = {"1 person": one_person_stream(base), "several": several_people_stream(base)}
    cases = [
        ("1 person", {"max_people": 1}),
        ("1 person", {"max_people": 5}),
        ("1 person", {"max_people": 5, "async_detection": True}),
        ("several", {"max_people": 5}),
        ("several", {"max_people": 5, "async_detection": True}),
    ]
    if args.only_max_people_1:
        cases = cases[:1]
    runs = [(name, {**params, "inference_threads": t}) for t in args.inference_threads for name, params in cases]
    load0 = os.getloadavg()
    results = []
    for stream_name, params in runs:
        r = measure(params, ping_pong(streams[stream_name], args.frames + WARMUP))
        r["stream"] = stream_name
        results.append(r)
        print(json.dumps(r), file=sys.stderr)
    load1 = os.getloadavg()
    print(f"load average before {load0[0]:.2f}, after {load1[0]:.2f} ({os.cpu_count()} CPUs)")
    print(
        "| stream (640x480) | max_people | async | inference threads | people/frame | wall p50 ms | wall p95 ms | "
        "wall p99 ms | CPU p50 ms | CPU p95 ms | CPU p99 ms |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in results:
        w, c, p = r["wall_ms"], r["cpu_ms"], r["people_per_frame"]
        print(
            f"| {r['stream']} | {r['params']['max_people']} | "
            f"{'yes' if r['params'].get('async_detection') else 'no'} | "
            f"{r['params'].get('inference_threads', 0) or 'default (1)'} | {p['mean']:.2f} ({p['min']}-{p['max']}) | "
            f"{w['p50']:.1f} | {w['p95']:.1f} | {w['p99']:.1f} | "
            f"{c['p50']:.1f} | {c['p95']:.1f} | {c['p99']:.1f} |"
        )
    if args.json:
        Path(args.json).write_text(
            json.dumps({"load_before": load0, "load_after": load1, "results": results}, indent=2)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
