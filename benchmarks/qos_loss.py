"""Image loss and transport latency by QoS reliability: a publisher process and a subscriber process.

A publisher sends ``--frames`` rgb8 images of ``--width`` x ``--height`` at ``--rate`` Hz; a subscriber
(history depth 1, like lift_node) counts what arrives and how long after the image stamp. Every
publisher/subscriber reliability pair is run in fresh processes over loopback
(ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST, a random ROS_DOMAIN_ID).

    .venv/bin/python benchmarks/qos_loss.py --frames 300 --out docs/bench/qos_loss.json

``--work-ms`` makes the subscriber's callback busy for that long (a loaded node).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

PAIRS = (("reliable", "reliable"), ("reliable", "best_effort"), ("best_effort", "best_effort"))


def _qos(reliability: str, depth: int):
    from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy

    rel = ReliabilityPolicy.RELIABLE if reliability == "reliable" else ReliabilityPolicy.BEST_EFFORT
    return QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=depth, reliability=rel)


def run_pub(args) -> int:
    import rclpy
    from sensor_msgs.msg import Image

    rclpy.init()
    node = rclpy.create_node("qos_bench_pub")
    pub = node.create_publisher(Image, "bench_image", _qos(args.pub, args.pub_depth))
    deadline = time.monotonic() + 20
    while pub.get_subscription_count() == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)
    rgb = np.random.default_rng(0).integers(0, 256, (args.height, args.width, 3), dtype=np.uint8)
    data = rgb.tobytes()
    period = 1.0 / args.rate
    t0 = time.monotonic()
    for i in range(args.frames):
        target = t0 + i * period
        delay = target - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        m = Image(height=args.height, width=args.width, encoding="rgb8", step=args.width * 3)
        m.header.frame_id = f"seq:{i}"
        now = time.time_ns()
        m.header.stamp.sec, m.header.stamp.nanosec = now // 10**9, now % 10**9
        m.data = data
        pub.publish(m)
    time.sleep(1.0)
    node.destroy_node()
    rclpy.shutdown()
    return 0


def run_sub(args) -> int:
    import rclpy
    from sensor_msgs.msg import Image

    rclpy.init()
    node = rclpy.create_node("qos_bench_sub")
    seqs: list[int] = []
    lat: list[float] = []
    last = [time.monotonic()]

    def cb(m: Image) -> None:
        lat.append((time.time_ns() - (m.header.stamp.sec * 10**9 + m.header.stamp.nanosec)) * 1e-6)
        seqs.append(int(m.header.frame_id.split(":")[1]))
        last[0] = time.monotonic()
        if args.work_ms > 0:
            end = time.perf_counter() + args.work_ms / 1e3
            while time.perf_counter() < end:
                pass

    node.create_subscription(Image, "bench_image", cb, _qos(args.sub, 1))
    start = time.monotonic()
    while rclpy.ok():
        rclpy.spin_once(node, timeout_sec=0.1)
        idle = time.monotonic() - last[0]
        if (seqs and idle > 3.0) or (not seqs and time.monotonic() - start > args.frames / args.rate + 20):
            break
    print(json.dumps({"seqs": seqs, "latency_ms": lat}))
    node.destroy_node()
    rclpy.shutdown()
    return 0


def run_pair(pub: str, sub: str, args) -> dict:
    env = dict(os.environ, ROS_AUTOMATIC_DISCOVERY_RANGE="LOCALHOST", ROS_DOMAIN_ID=str(random.randint(1, 101)))
    env.setdefault("ROS_LOG_DIR", "/tmp/hpe3d_qos_logs")
    common = [f"--frames={args.frames}", f"--rate={args.rate}", f"--width={args.width}", f"--height={args.height}",
              f"--pub={pub}", f"--sub={sub}", f"--work-ms={args.work_ms}", f"--pub-depth={args.pub_depth}"]
    load0 = os.getloadavg()[0]
    s = subprocess.Popen([sys.executable, __file__, "--role=sub", *common], env=env, stdout=subprocess.PIPE, text=True)
    time.sleep(1.0)
    p = subprocess.Popen([sys.executable, __file__, "--role=pub", *common], env=env)
    p.wait()
    out, _ = s.communicate(timeout=args.frames / args.rate + 60)
    got = json.loads(out.strip().splitlines()[-1])
    seqs = got["seqs"]
    lat = np.asarray(got["latency_ms"]) if got["latency_ms"] else np.asarray([np.nan])
    unique = len(set(seqs))
    return {
        "publisher": pub, "subscriber": sub, "sent": args.frames, "received": unique,
        "lost_percent": round(100.0 * (args.frames - unique) / args.frames, 1),
        "latency_ms_p50": round(float(np.percentile(lat, 50)), 2),
        "latency_ms_p95": round(float(np.percentile(lat, 95)), 2),
        "latency_ms_p99": round(float(np.percentile(lat, 99)), 2),
        "loadavg_1min_start_end": [round(load0, 2), round(os.getloadavg()[0], 2)],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--role", choices=["driver", "pub", "sub"], default="driver")
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--rate", type=float, default=30.0)
    ap.add_argument("--width", type=int, default=640)
    ap.add_argument("--height", type=int, default=480)
    ap.add_argument("--pub", default="reliable")
    ap.add_argument("--sub", default="reliable")
    ap.add_argument("--pub-depth", type=int, default=10)
    ap.add_argument("--work-ms", type=float, default=0.0)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    if args.role == "pub":
        return run_pub(args)
    if args.role == "sub":
        return run_sub(args)
    rows = []
    for pub, sub in PAIRS:
        r = run_pair(pub, sub, args)
        print(json.dumps(r), flush=True)
        rows.append(r)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        tmp = args.out.with_suffix(".tmp")
        tmp.write_text(json.dumps({"config": vars(args) | {"out": str(args.out)}, "rows": rows}, indent=1))
        tmp.replace(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
