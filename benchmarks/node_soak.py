"""Soak lift_node: a video at 30 Hz with malformed images and garbage CameraInfo mixed in.

Starts the node with config/lift.yaml (and the tiny test model unless engines/ has the shipped one),
publishes ``--seconds`` of a video (default ../shared/media/vtest.avi, else the bundled
tests/fixtures/media/street-demo.mp4) with every 7th message a random malformed Image (random
encoding, sizes, step and data) and every 11th a random CameraInfo, then prints whether the node is
alive, its resident memory at the start and the end, and its diagnostics counts.

    nice -n 10 .venv/bin/python benchmarks/node_soak.py --seconds 60
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def rss_mb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        return int(next(line for line in f if line.startswith("VmRSS")).split()[1]) // 1024


def main(argv: list[str] | None = None) -> int:
    import cv2
    from sensor_msgs.msg import CameraInfo, Image

    from hpe3d_ros import camera, paths
    from hpe3d_ros.ros_convert import camera_info_msg, image_msg
    from tests.hpe3d_ros.node.ros_harness import Client, isolated_ros_env, start_node, stop_node, tiny_model

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--video", type=Path)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep", action="store_true", help="keep the work directory (node log) in /tmp")
    args = ap.parse_args(argv)
    video = args.video
    if video is None:
        shared = paths.shared_dir()
        video = (
            shared / "media" / "vtest.avi"
            if shared and (shared / "media" / "vtest.avi").is_file()
            else REPO / "tests" / "fixtures" / "media" / "street-demo.mp4"
        )
    work = Path(tempfile.mkdtemp(prefix="hpe3d_soak_"))
    env = isolated_ros_env(work / "ros_logs")
    proc = start_node(env, f"model_file_path:={tiny_model(work)}", "backend:=onnxruntime", log=work / "node.log")
    client = Client(env)
    client.wait_for_node(proc)
    rng = np.random.default_rng(args.seed)
    pick = random.Random(args.seed)
    cap = cv2.VideoCapture(str(video))
    n = bad = 0
    rss0 = None
    t0 = time.monotonic()
    while time.monotonic() - t0 < args.seconds:
        ok, bgr = cap.read()
        if not ok:
            cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
            continue
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        h, w = rgb.shape[:2]
        stamp = time.time_ns()
        if n % 7 == 3:
            m = Image(
                encoding=pick.choice(["rgb8", "bgr8", "mono8", "bgra8", "yuv422", "16UC1", f"weird{n}"]),
                height=int(rng.integers(0, 500)),
                width=int(rng.integers(0, 700)),
                step=int(rng.integers(0, 3000)),
            )
            m.data = rng.integers(0, 255, int(rng.integers(0, 200000)), dtype=np.uint8).tobytes()
            client.image_pub.publish(m)
            bad += 1
        elif n % 11 == 5:
            info = CameraInfo(width=int(rng.integers(0, 2000)), height=int(rng.integers(0, 2000)))
            info.k = [float(x) for x in rng.normal(size=9) * pick.choice([0.0, 1.0, 1e9])]
            client.info_pub.publish(info)
        else:
            client.info_pub.publish(camera_info_msg(camera.intrinsics_from_fov(w, h, 60.0), w, h, stamp, "soak_camera"))
            client.image_pub.publish(image_msg(rgb, stamp, "soak_camera"))
        n += 1
        if n == 60:
            rss0 = rss_mb(proc.pid)
        client.spin_for(1 / 30)
    client.spin_for(2.0)
    alive = proc.poll() is None
    result = {
        "video": str(video),
        "seconds": args.seconds,
        "messages": n,
        "malformed_images": bad,
        "node_alive": alive,
        "rss_mb_start_end": [rss0, rss_mb(proc.pid) if alive else None],
        "diagnostics": {
            k: v for k, v in client.last_diagnostics().items() if not k.startswith("latency") or "total" in k
        },
    }
    client.close()
    result["exit_code"] = stop_node(proc)
    print(json.dumps(result, indent=1))
    if not args.keep:
        import shutil

        shutil.rmtree(work, ignore_errors=True)
    return 0 if alive and result["exit_code"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
