"""Cost of the scene stage (hpe3d_ros.scene: elevation, ground-plane placement, heading, velocity, head yaw)
per frame, CPU, for N people of the bundled mocap fixture in front of a mounted camera, with face landmarks.

    .venv/bin/python benchmarks/scene_stage.py [--people 5] [--frames 600]

Prints the median and p95 per frame after a warm-up of 100 frames. A figure that matters needs a quiet
machine (docs/placement.md).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from hpe3d_ros import camera  # noqa: E402
from hpe3d_ros.pipeline import Person3D  # noqa: E402
from hpe3d_ros.scene import Scene, SceneParams  # noqa: E402
from hpe3d_ros.scene.params import MountParams  # noqa: E402
from tests.hpe3d_ros.scene.scene_fixtures import fixture_pose_ground, mounted, place_person, to_optical  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--people", type=int, default=5)
    p.add_argument("--frames", type=int, default=600)
    args = p.parse_args(argv)
    k = camera.intrinsics_from_fov(1280, 720, 70.0)
    mount, _ = mounted(1.3, 0.03)
    scene = Scene(SceneParams(mount=MountParams(mode="full", z=1.3, pitch=0.03)))
    poses = [fixture_pose_ground(t) for t in range(args.people)]
    landmarks = np.zeros((33, 4))
    landmarks[:, :2], landmarks[:, 3] = 600.0, 1.0
    landmarks[[0, 2, 5, 7, 8], 0] += [0, 5, -5, 10, -10]

    def frame(i: int) -> list:
        out = []
        for t, pose in enumerate(poses):
            truth = to_optical(mount, place_person(pose, 1.7, (5 + 5 * t + 0.04 * i, t - 2), 0.3))
            out.append(Person3D(t, truth, truth, np.ones(16), None, 0.03, camera.project(truth, k),
                                landmarks=landmarks))
        return out

    frames = [frame(i) for i in range(args.frames)]
    times = []
    for i, people in enumerate(frames):
        t0 = time.perf_counter()
        scene.update(people, k, i * 33_333_333, (1280, 720), 1.7)
        times.append(time.perf_counter() - t0)
    t = np.asarray(times[100:]) * 1e3
    print(f"scene stage, {args.people} people: median {np.median(t):.2f} ms, p95 {np.percentile(t, 95):.2f} ms "
          f"per frame ({len(t)} frames)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
