"""Tracking statistics of PoseDetector over a video: people per frame, ids, track lengths, CPU time.

    .venv/bin/python benchmarks/detector_tracking.py [--video ../shared/media/vtest.avi] [--frames 200]
        [--set key=value ...]   # detector parameters, e.g. --set max_people=8 --set smooth_landmarks=false

No ground truth: the figures compare detector variants on the same frames (more people per frame
and longer tracks are better when the scene holds more people than are found).
"""
from __future__ import annotations

import argparse
import collections
import json
import sys
import time
from pathlib import Path

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main(argv: list[str] | None = None) -> int:
    from hpe3d_ros import paths
    from hpe3d_ros.detection import PoseDetector
    from hpe3d_ros.video import read_frames

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--video", default=None, help="default: vtest.avi in the shared media")
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="detector parameter (YAML value)")
    args = ap.parse_args(argv)
    video = args.video
    if video is None:
        shared = paths.shared_dir()
        if shared is None:
            raise SystemExit("no --video and no ../shared/media/vtest.avi")
        video = str(shared / "media" / "vtest.avi")
    params = {"max_people": 8}
    for item in args.set:
        key, _, value = item.partition("=")
        params[key] = yaml.safe_load(value)
    counts, life = [], collections.Counter()
    c0 = time.process_time()
    with PoseDetector(**params) as det:
        for _, rgb in read_frames(video, args.frames):
            people = det.detect(rgb)
            counts.append(len(people))
            life.update(p.track_id for p in people)
    cpu_ms = (time.process_time() - c0) / max(len(counts), 1) * 1000
    result = {
        "video": video,
        "params": params,
        "frames": len(counts),
        "people_per_frame": float(np.mean(counts)),
        "max_people_in_a_frame": int(max(counts)),
        "ids": len(life),
        "track_lengths": sorted(life.values(), reverse=True),
        "cpu_ms_per_frame": cpu_ms,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
