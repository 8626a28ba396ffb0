"""Hostile messages against a running lift_node process over loopback DDS, interleaved with valid frames.

Two phases, one node process each (the node takes raw or compressed images, not both):
``raw`` sends hostile sensor_msgs/Image and CameraInfo messages, ``compressed`` hostile
CompressedImage and CameraInfo (kinds: tests/hpe3d_ros/node/hostile_messages.py, the cases of issue 13
among them). Between bursts of ``--burst`` hostile messages the benchmark sends one valid frame of the
bundled pedestrian clip (with a valid CameraInfo half of the time, so the node also runs on its
field-of-view fallback after a garbage camera model) and waits for the node's answer on
``hpe3d/skeletons`` (matched by stamp).

Reported per phase: whether the node crashed (exited, or a traceback in its log), its steady resident
memory (VmRSS after a warm-up of valid frames) and the peak during the hostile phase (VmHWM, reset with
/proc/PID/clear_refs after the warm-up; cross-checked by sampling VmRSS every 20 ms), the valid frames
answered and their latency (send to answer), every non-finite value in the published skeletons,
markers and poses, and the node's own counters from /diagnostics.

    nice -n 10 .venv/bin/python benchmarks/hostile_messages.py --json docs/bench/hostile_messages.json

Done when (issue 13): 0 crashes, peak RSS <= 1.5 x steady RSS, every valid frame answered within 1 s,
0 non-finite values published. Timing figures need a quiet machine: the load average is recorded.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def proc_status(pid: int, key: str) -> int:
    """A /proc/PID/status field in kB (VmRSS, VmHWM), 0 when the process is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            return int(next(line for line in f if line.startswith(key + ":")).split()[1])
    except (OSError, StopIteration):
        return 0


def reset_peak(pid: int) -> bool:
    """Reset the process's VmHWM to its current RSS (Linux >= 4.0); False when not permitted."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class RssSampler(threading.Thread):
    """VmRSS of ``pid`` every ``period`` seconds: the maximum since ``restart`` and a coarse trace."""

    def __init__(self, pid: int, period: float = 0.02):
        super().__init__(daemon=True)
        self.pid, self.period = pid, period
        self.max_kb = 0
        self.trace: list[tuple[float, int]] = []
        self.running = True
        self.t0 = time.monotonic()

    def restart(self) -> None:
        self.max_kb = 0

    def run(self) -> None:
        last = -1.0
        while self.running:
            kb = proc_status(self.pid, "VmRSS")
            self.max_kb = max(self.max_kb, kb)
            t = time.monotonic() - self.t0
            if t - last >= 1.0:
                self.trace.append((round(t, 1), kb))
                last = t
            time.sleep(self.period)


def clip_frames(n: int) -> list[np.ndarray]:
    """The first ``n`` RGB frames of the bundled pedestrian clip."""
    import cv2

    from hpe3d_ros.replay.demo import sample_clip

    cap = cv2.VideoCapture(str(sample_clip()))
    frames = []
    while len(frames) < n:
        ok, bgr = cap.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    cap.release()
    return frames


class Client:
    """Publishes to the node and checks everything it publishes for non-finite values."""

    def __init__(self, env: dict, compressed: bool):
        from tests.hpe3d_ros.node.ros_harness import environment

        with environment(env):
            self._init(compressed)

    def _init(self, compressed: bool) -> None:
        import rclpy
        from diagnostic_msgs.msg import DiagnosticArray
        from geometry_msgs.msg import PoseArray
        from rclpy.executors import SingleThreadedExecutor
        from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
        from sensor_msgs.msg import CameraInfo, CompressedImage, Image, PointCloud2
        from visualization_msgs.msg import MarkerArray

        self.context = rclpy.Context()
        rclpy.init(context=self.context)
        self.node = rclpy.create_node("hostile_messages_bench", context=self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        qos = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=200, reliability=ReliabilityPolicy.RELIABLE)
        self.image_pub = (self.node.create_publisher(CompressedImage, "image/compressed", qos) if compressed
                          else self.node.create_publisher(Image, "image", qos))
        self.info_pub = self.node.create_publisher(CameraInfo, "camera_info", qos)
        out_qos = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=100, reliability=ReliabilityPolicy.RELIABLE)
        self.answered: dict[int, float] = {}  # stamp ns -> monotonic time of the skeletons message
        self.nonfinite = {"skeletons": 0, "skeleton_plausibility": 0, "markers": 0, "poses": 0}
        self.published = {"skeletons": 0, "markers": 0, "poses": 0, "people": 0}
        self.diagnostics: list[dict[str, str]] = []
        self.node.create_subscription(PointCloud2, "hpe3d/skeletons", self._on_cloud, out_qos)
        self.node.create_subscription(MarkerArray, "hpe3d/markers", self._on_markers, out_qos)
        self.node.create_subscription(PoseArray, "hpe3d/poses", self._on_poses, out_qos)
        self.node.create_subscription(DiagnosticArray, "/diagnostics", self._on_diag, 10)

    def _on_cloud(self, msg) -> None:
        from hpe3d_ros.node.skeleton_msgs import read_skeletons

        self.answered.setdefault(msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec, time.monotonic())
        s = read_skeletons(msg)
        self.published["skeletons"] += 1
        self.published["people"] += len(s["track_id"])
        for key in ("joints_optical", "joints_upright", "confidence", "elevation"):
            self.nonfinite["skeletons"] += int((~np.isfinite(s[key])).sum())
        self.nonfinite["skeleton_plausibility"] += int((~np.isfinite(s["plausibility"])).sum())

    def _on_markers(self, msg) -> None:
        self.published["markers"] += 1
        bad = 0
        for m in msg.markers:
            p, q, sc = m.pose.position, m.pose.orientation, m.scale
            bad += sum(not np.isfinite(v) for v in (p.x, p.y, p.z, q.x, q.y, q.z, q.w, sc.x, sc.y, sc.z))
            bad += sum(not (np.isfinite(pt.x) and np.isfinite(pt.y) and np.isfinite(pt.z)) for pt in m.points)
        self.nonfinite["markers"] += bad

    def _on_poses(self, msg) -> None:
        self.published["poses"] += 1
        self.nonfinite["poses"] += sum(
            not (np.isfinite(p.position.x) and np.isfinite(p.position.y) and np.isfinite(p.position.z))
            for p in msg.poses
        )

    def _on_diag(self, arr) -> None:
        for st in arr.status:
            if "3D human pose lifting" in st.name:
                self.diagnostics.append(
                    {
                        "level": int.from_bytes(bytes(st.level), "little")
                        if not isinstance(st.level, int)
                        else st.level,
                        "message": st.message,
                        **{kv.key: kv.value for kv in st.values},
                    }
                )

    def spin_until(self, predicate, timeout: float) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if predicate():
                return True
            self.executor.spin_once(timeout_sec=0.01)
        return bool(predicate())

    def close(self) -> None:
        import rclpy

        self.executor.shutdown()
        self.node.destroy_node()
        rclpy.shutdown(context=self.context)


def run_phase(name: str, args, frames: list[np.ndarray], model: Path) -> dict:
    """One node process under ``args.hostile`` hostile messages of phase ``name`` ('raw' or 'compressed')."""
    import cv2

    from hpe3d_ros import camera
    from hpe3d_ros.ros_convert import camera_info_msg, image_msg, stamp_from_ns
    from tests.hpe3d_ros.node import hostile_messages as H
    from tests.hpe3d_ros.node.ros_harness import isolated_ros_env, start_node, stop_node

    compressed = name == "compressed"
    work = Path(tempfile.mkdtemp(prefix=f"hpe3d_hostile_{name}_"))
    env = isolated_ros_env(work / "ros_logs")
    log = work / "node.log"
    proc = start_node(
        env,
        f"model_file_path:={model}",
        "backend:=onnxruntime",
        *(["use_compressed:=true"] if compressed else []),
        log=log,
    )
    client = Client(env, compressed)
    sampler = RssSampler(proc.pid)
    sampler.start()
    rng = random.Random(args.seed + (1 if compressed else 0))
    images = H.compressed_images() if compressed else H.raw_images()
    infos = H.camera_infos()
    h, w = frames[0].shape[:2]
    good_info = camera.intrinsics_from_fov(w, h, 70.0)
    jpegs = (
        [
            cv2.imencode(".jpg", cv2.cvtColor(f, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()
            for f in frames
        ]
        if compressed
        else []
    )
    sent_kinds: dict[str, int] = {}
    latencies: list[float] = []
    unanswered = 0
    index = first_valid = 0

    def valid(send_info: bool = True) -> float | None:
        """One valid frame; its latency in seconds, None when no answer came within args.answer_timeout."""
        nonlocal index
        stamp = time.time_ns()
        if send_info:
            client.info_pub.publish(camera_info_msg(good_info, w, h, stamp, "bench_camera"))
        i = index % len(frames)
        index += 1
        if compressed:
            from sensor_msgs.msg import CompressedImage

            m = CompressedImage(format="jpeg")
            m.header.stamp, m.header.frame_id = stamp_from_ns(stamp), "bench_camera"
            m.data = jpegs[i]
        else:
            m = image_msg(frames[i], stamp, "bench_camera")
        t0 = time.monotonic()
        client.image_pub.publish(m)
        if (
            client.spin_until(lambda: stamp in client.answered or proc.poll() is not None, args.answer_timeout)
            and stamp in client.answered
        ):
            return client.answered[stamp] - t0
        return None

    try:
        ok = client.spin_until(
            lambda: proc.poll() is not None or client.node.count_publishers("hpe3d/skeletons") > 0, 180
        )
        if not ok or proc.poll() is not None:
            raise RuntimeError(f"lift_node did not start ({log}): {log.read_text()[-2000:]}")
        client.spin_until(lambda: client.image_pub.get_subscription_count() > 0, 20)
        for _ in range(args.warmup):  # warm-up: arenas, MediaPipe, tracker
            valid()
        steady = []
        for _ in range(20):
            valid()
            steady.append(proc_status(proc.pid, "VmRSS"))
        steady_kb = int(np.median(steady))
        peak_reset = reset_peak(proc.pid)
        sampler.restart()
        first_valid = index  # the valid frames counted: those among and after the hostile messages
        t_start = time.monotonic()
        hostile = 0
        load_before = os.getloadavg()
        while hostile < args.hostile and proc.poll() is None:
            for _ in range(args.burst):
                if rng.random() < args.info_share:
                    kind, make = rng.choice(sorted(infos.items()))
                    client.info_pub.publish(make(rng))
                    kind = "CameraInfo/" + kind
                else:
                    kind, make = rng.choice(sorted(images.items()))
                    client.image_pub.publish(make(rng))
                    kind = ("CompressedImage/" if compressed else "Image/") + kind
                sent_kinds[kind] = sent_kinds.get(kind, 0) + 1
                hostile += 1
                client.executor.spin_once(timeout_sec=0)
                time.sleep(args.pace_s)
            lat = valid(send_info=rng.random() < 0.5)
            if lat is None:
                unanswered += 1
            else:
                latencies.append(lat)
        hostile_s = time.monotonic() - t_start
        peak_kb = proc_status(proc.pid, "VmHWM")
        sampled_peak_kb = sampler.max_kb
        for _ in range(10):  # after the storm
            lat = valid()
            if lat is not None:
                latencies.append(lat)
            else:
                unanswered += 1
        n_diag = len(client.diagnostics)
        client.spin_until(lambda: len(client.diagnostics) > n_diag + 1 or proc.poll() is not None, 10)
        alive = proc.poll() is None
        rss_end_kb = proc_status(proc.pid, "VmRSS")
    finally:
        sampler.running = False
        code = stop_node(proc)
        client.close()
    text = log.read_text(errors="replace")
    lat = np.asarray(latencies) * 1e3
    diag = client.diagnostics[-1] if client.diagnostics else {}
    counters = {k: v for k, v in diag.items() if not k.startswith("latency_") and k not in ("model",)}
    return {
        "phase": name,
        "hostile_sent": hostile,
        "hostile_by_kind": dict(sorted(sent_kinds.items())),
        "hostile_seconds": round(hostile_s, 1),
        "valid_sent": index - first_valid,
        "warmup_frames": first_valid,
        "valid_answered": len(latencies),
        "valid_unanswered": unanswered,
        "valid_latency_ms": {
            "p50": float(np.percentile(lat, 50)),
            "p95": float(np.percentile(lat, 95)),
            "p99": float(np.percentile(lat, 99)),
            "max": float(lat.max()),
        }
        if lat.size
        else {},
        "valid_answered_within_1s": int((lat <= 1000).sum()),
        "alive_after": alive,
        "exit_code": code,
        "traceback_in_log": "Traceback" in text,
        "crashed": (not alive) or code != 0 or "Traceback" in text,
        "steady_rss_mb": round(steady_kb / 1024, 1),
        "peak_rss_mb": round(peak_kb / 1024, 1),
        "peak_rss_source": "VmHWM reset after warm-up"
        if peak_reset
        else "VmHWM since start (clear_refs not permitted)",
        "sampled_peak_rss_mb": round(sampled_peak_kb / 1024, 1),
        "peak_over_steady": round(peak_kb / max(steady_kb, 1), 3),
        "rss_end_mb": round(rss_end_kb / 1024, 1),
        "rss_trace_mb": [(t, round(kb / 1024, 1)) for t, kb in sampler.trace],
        "nonfinite_published": client.nonfinite,
        "published": client.published,
        "node_diagnostics": counters,
        "load_average_during": [round(x, 2) for x in load_before],
        "node_log": str(log),
    }


def markdown(result: dict) -> str:
    lines = [
        "| phase | hostile sent | crashed | steady RSS MB | peak RSS MB (x steady) | valid answered | "
        "latency p50 / p95 / max ms | within 1 s | non-finite published |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for p in result["phases"]:
        lat = p["valid_latency_ms"]
        nf = sum(v for k, v in p["nonfinite_published"].items() if k != "skeleton_plausibility")
        lines.append(
            f"| {p['phase']} | {p['hostile_sent']} | {'yes' if p['crashed'] else 'no'} | {p['steady_rss_mb']} | "
            f"{p['peak_rss_mb']} ({p['peak_over_steady']:.2f}) | {p['valid_answered']} / {p['valid_sent']} | "
            f"{lat.get('p50', float('nan')):.0f} / {lat.get('p95', float('nan')):.0f} / "
            f"{lat.get('max', float('nan')):.0f} | "
            f"{p['valid_answered_within_1s']} | {nf} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hostile", type=int, default=10_000, help="hostile messages per phase")
    ap.add_argument("--phases", nargs="+", default=["raw", "compressed"], choices=["raw", "compressed"])
    ap.add_argument("--burst", type=int, default=40, help="hostile messages between two valid frames")
    ap.add_argument("--info-share", type=float, default=0.25, help="share of CameraInfo among the hostile messages")
    ap.add_argument("--pace-s", type=float, default=0.001, help="pause after each hostile message")
    ap.add_argument("--warmup", type=int, default=40, help="valid frames before the steady RSS is taken")
    ap.add_argument("--answer-timeout", type=float, default=5.0, help="seconds to wait for a valid frame's answer")
    ap.add_argument("--model", type=Path, help="lifter model (default: the shipped default model)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, help="write the results here")
    args = ap.parse_args(argv)
    from hpe3d_ros.pipeline import DEFAULT_MODEL, resolve_model_path

    model = args.model or resolve_model_path(DEFAULT_MODEL)
    frames = clip_frames(100)
    load0 = os.getloadavg()
    t0 = time.time()
    phases = [run_phase(name, args, frames, model) for name in args.phases]
    result = {
        "command": "benchmarks/hostile_messages.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "date": time.strftime("%Y-%m-%d %H:%M", time.localtime(t0)),
        "cpu_count": os.cpu_count(),
        "load_average_start": [round(x, 2) for x in load0],
        "load_average_end": [round(x, 2) for x in os.getloadavg()],
        "model": str(model),
        "phases": phases,
        "criteria": {
            "crashes": sum(p["crashed"] for p in phases),
            "max_peak_over_steady": max(p["peak_over_steady"] for p in phases),
            "valid_not_answered_within_1s": sum(p["valid_sent"] - p["valid_answered_within_1s"] for p in phases),
            "nonfinite_published": sum(
                v for p in phases for k, v in p["nonfinite_published"].items() if k != "skeleton_plausibility"
            ),
        },
    }
    c = result["criteria"]
    result["criteria"]["met"] = (
        c["crashes"] == 0
        and c["max_peak_over_steady"] <= 1.5
        and c["valid_not_answered_within_1s"] == 0
        and c["nonfinite_published"] == 0
    )
    text = markdown(result)
    print(text)
    print(json.dumps(result["criteria"]))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({**result, "markdown": text}, indent=1) + "\n")
    return 0 if result["criteria"]["met"] else 1


if __name__ == "__main__":
    sys.exit(main())
