"""lift_node latency at 30 Hz on 640x480 frames with 1 or 5 people, with and without lifting.

Three processes per run over loopback DDS (ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST, a random domain):
a camera publisher (rgb8 Image + CameraInfo at ``--rate`` Hz, stamped with the wall clock), the node
(``lift_node --ros-args --params-file config/lift.yaml`` plus overrides) and a subscriber that takes
the time from each image stamp to the arrival of its markers (end to end) and the node's own
per-stage latencies (decode, detect, map, lift, publish), dropped frames and the oldest frame it
processed from /diagnostics.

Frames: the people the detector finds in tests/fixtures/media/street-demo-frame0.png (Apache-2.0, MMPose
demo), cut out with MediaPipe's person segmentation (no bystanders' parts), composed on a grey 640x480
canvas: one large person, or five people side by side (the frames are written next to the results).

    nice -n 10 .venv/bin/python benchmarks/node_latency.py --seconds 30 --out docs/bench/node_latency.json

The model: ``--model`` (default engines/supervised-martinez_bandai.onnx); when it is missing a stand-in
with the same size as the supervised baseline (a 1024-wide residual MLP with random weights) is built,
so that the cost of lifting is representative. ``--detector-only`` runs only the runs without lifting.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

WIDTH, HEIGHT = 640, 480
HFOV_DEG = 65.0


# ----- frames -----
def person_crops() -> list[np.ndarray]:
    """RGBA cut-outs of the people in the fixture frame, largest first: each person the detector finds
    (taller than 120 px) is cut out with BlazePose's segmentation mask of the person in a crop around
    them (MediaPipe Pose, full model), so that the composed frames hold exactly the people placed there and no parts of
    bystanders behind them."""
    import cv2
    import mediapipe as mp

    from hpe3d_ros.detection import make_detector

    path = REPO / "tests" / "fixtures" / "media" / "street-demo-frame0.png"
    rgb = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
    with make_detector({"kind": "nanodet", "max_people": 10}) as det:
        people = det.detect(rgb)
    h, w = rgb.shape[:2]
    crops = []
    with mp.solutions.pose.Pose(static_image_mode=True, model_complexity=1, enable_segmentation=True) as seg:
        for p in sorted(people, key=lambda q: q.bbox[1] - q.bbox[3]):
            x0, y0, x1, y1 = p.bbox
            if y1 - y0 < 120:
                continue
            mx, my = 0.12 * (x1 - x0), 0.04 * (y1 - y0)
            x0, y0 = int(max(0, x0 - mx)), int(max(0, y0 - my))
            x1, y1 = int(min(w, x1 + mx)), int(min(h, y1 + my))
            crop = np.ascontiguousarray(rgb[y0:y1, x0:x1])
            mask = seg.process(crop).segmentation_mask
            if mask is None:
                continue
            body = body_mask(p.landmarks[:, :2] - [x0, y0], crop.shape)
            alpha = (np.clip(mask, 0, 1) * body * 255).astype(np.uint8)
            crops.append(np.dstack([crop, alpha]))
    if not crops:
        raise RuntimeError(f"no person found in {path}")
    return crops


def body_mask(lm: np.ndarray, shape: tuple) -> np.ndarray:
    """1 on a generous region around a person's BlazePose landmarks (torso, thick limbs, head), 0 elsewhere,
    blurred at the edge: with the segmentation mask it leaves out bystanders touching the person."""
    import cv2

    m = np.zeros(shape[:2], np.uint8)
    width = float(np.linalg.norm(lm[11] - lm[12])) + 1.0
    pt = [tuple(int(round(v)) for v in q) for q in lm]
    cv2.fillConvexPoly(m, np.array([pt[11], pt[12], pt[24], pt[23]], np.int32), 1)
    for a, b in ((11, 13), (13, 15), (12, 14), (14, 16), (23, 25), (25, 27), (24, 26), (26, 28), (27, 31), (28, 32),
                 (11, 23), (12, 24), (11, 12), (23, 24)):
        cv2.line(m, pt[a], pt[b], 1, max(2, int(0.6 * width)))
    head = 0.5 * (lm[7] + lm[8])
    cv2.circle(m, (int(head[0]), int(head[1])), max(2, int(0.55 * width)), 1, -1)
    return cv2.GaussianBlur(m.astype(np.float32), (0, 0), 0.1 * width)


def compose(crops: list[np.ndarray], people: int) -> np.ndarray:
    """A 640x480 RGB frame with ``people`` person cut-outs side by side on grey (repeats mirrored)."""
    import cv2

    canvas = np.full((HEIGHT, WIDTH, 3), 128, np.float32)
    if people == 1:  # 380 px: at 440 px NanoDet scores this rear view on grey 0.29 and misses her (docs/detection.md)
        target_h, slots = 380, [WIDTH // 2]
    else:
        target_h = 300
        slots = [int((i + 0.5) * WIDTH / people) for i in range(people)]
    for i, cx in enumerate(slots):
        c = crops[i % len(crops)]
        if (i // len(crops)) % 2:
            c = c[:, ::-1]
        scale = target_h / c.shape[0]
        cw = int(c.shape[1] * scale)
        cw = min(cw, WIDTH // people - 4) if people > 1 else min(cw, WIDTH - 4)
        r = cv2.resize(np.ascontiguousarray(c), (cw, target_h), interpolation=cv2.INTER_AREA).astype(np.float32)
        x0 = max(0, min(WIDTH - cw, cx - cw // 2))
        y0 = (HEIGHT - target_h) // 2
        a = r[..., 3:] / 255.0
        region = canvas[y0:y0 + target_h, x0:x0 + cw]
        canvas[y0:y0 + target_h, x0:x0 + cw] = a * r[..., :3] + (1 - a) * region
    return np.round(canvas).astype(np.uint8)


def standin_model(path: Path) -> Path:
    """A random-weight lifter of the supervised baseline's size (contract 1) with its manifest."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from hpe3d_ros import manifest as mf
    from hpe3d_ros import skeleton

    j = skeleton.NUM_JOINTS
    rng = np.random.default_rng(0)
    inits, nodes = [], []

    def dense(name: str, x: str, n_in: int, n_out: int, relu: bool) -> str:
        w = (rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)).astype(np.float32)
        b = np.zeros(n_out, np.float32)
        inits.extend([numpy_helper.from_array(w, name + "_w"), numpy_helper.from_array(b, name + "_b")])
        nodes.append(helper.make_node("Gemm", [x, name + "_w", name + "_b"], [name]))
        if relu:
            nodes.append(helper.make_node("Relu", [name], [name + "_r"]))
            return name + "_r"
        return name

    inits.append(numpy_helper.from_array(np.array([-1, 2 * j], np.int64), "flat_shape"))
    nodes.append(helper.make_node("Reshape", ["poses2d", "flat_shape"], ["flat"]))
    h = dense("in", "flat", 2 * j, 1024, True)
    for blk in range(2):
        a = dense(f"b{blk}a", h, 1024, 1024, True)
        c = dense(f"b{blk}b", a, 1024, 1024, True)
        nodes.append(helper.make_node("Add", [h, c], [f"res{blk}"]))
        h = f"res{blk}"
    dense("depth", h, 1024, j, False)
    e = dense("elev2", h, 1024, 1, False)
    inits.append(numpy_helper.from_array(np.array([1], np.int64), "ax1"))
    nodes.append(helper.make_node("Squeeze", [e, "ax1"], ["elevation"]))
    graph = helper.make_graph(
        nodes, "standin_lifter",
        [helper.make_tensor_value_info("poses2d", TensorProto.FLOAT, ["batch", j, 2])],
        [helper.make_tensor_value_info("depth", TensorProto.FLOAT, ["batch", j]),
         helper.make_tensor_value_info("elevation", TensorProto.FLOAT, ["batch"])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    m = mf.build_manifest(
        name=path.stem,
        normalization_kind="tipsy",
        inputs=[{"name": "poses2d", "shape": ["batch", j, 2], "dtype": "float32"}],
        outputs=[{"name": "depth"}, {"name": "elevation"}],
        training={
            "data": "none: random weights, a stand-in of the supervised baseline's size for timing",
            "license": "Apache-2.0",
            "non_commercial": False,
        },
        command="benchmarks/node_latency.py",
    )
    mf.write_bound_manifest(path, m)
    return path


# ----- processes -----
def run_pub(args) -> int:
    import rclpy
    from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy

    from hpe3d_ros import camera
    from hpe3d_ros.ros_convert import camera_info_msg, image_msg

    rgb = np.load(args.frame)
    k = camera.intrinsics_from_fov(WIDTH, HEIGHT, HFOV_DEG)
    rclpy.init()
    node = rclpy.create_node("bench_camera")
    qos = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=5, reliability=ReliabilityPolicy.RELIABLE)
    pub = node.create_publisher(__import__("sensor_msgs.msg", fromlist=["Image"]).Image, "image", qos)
    info = node.create_publisher(__import__("sensor_msgs.msg", fromlist=["CameraInfo"]).CameraInfo, "camera_info", qos)
    deadline = time.monotonic() + 180
    while pub.get_subscription_count() < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    period = 1.0 / args.rate
    n = int(args.seconds * args.rate)
    t0 = time.monotonic()
    for i in range(n):
        delay = t0 + i * period - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        now = time.time_ns()
        info.publish(camera_info_msg(k, WIDTH, HEIGHT, now, "bench_camera_optical_frame"))
        pub.publish(image_msg(rgb, now, "bench_camera_optical_frame"))
    print(json.dumps({"sent": n}), flush=True)
    time.sleep(1.0)
    node.destroy_node()
    rclpy.shutdown()
    return 0


def run_sub(args) -> int:
    import rclpy
    from diagnostic_msgs.msg import DiagnosticArray
    from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
    from sensor_msgs.msg import PointCloud2
    from visualization_msgs.msg import MarkerArray

    rclpy.init()
    node = rclpy.create_node("bench_listener")
    qos = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=100, reliability=ReliabilityPolicy.RELIABLE)
    markers_lat: list[tuple[int, float, int]] = []
    cloud_lat: list[tuple[int, float, int]] = []
    diag: dict[str, str] = {}

    def on_markers(m: MarkerArray) -> None:
        now = time.time_ns()
        if m.markers:
            s = m.markers[0].header.stamp
            st = s.sec * 10**9 + s.nanosec
            markers_lat.append((st, (now - st) * 1e-6, len(m.markers)))

    def on_cloud(m: PointCloud2) -> None:
        now = time.time_ns()
        st = m.header.stamp.sec * 10**9 + m.header.stamp.nanosec
        cloud_lat.append((st, (now - st) * 1e-6, m.width // 16))

    def on_diag(a: DiagnosticArray) -> None:
        for s in a.status:
            if "3D human pose lifting" in s.name:
                diag.clear()
                diag.update({kv.key: kv.value for kv in s.values})

    node.create_subscription(MarkerArray, "hpe3d/markers", on_markers, qos)
    node.create_subscription(PointCloud2, "hpe3d/skeletons", on_cloud, qos)
    node.create_subscription(DiagnosticArray, "/diagnostics", on_diag, 10)
    end = time.monotonic() + args.seconds + 200
    stop = Path(args.stop_file)
    while time.monotonic() < end and not stop.exists():
        rclpy.spin_once(node, timeout_sec=0.05)
    t_end = time.monotonic() + 2.5  # the last diagnostics
    while time.monotonic() < t_end:
        rclpy.spin_once(node, timeout_sec=0.05)
    print(json.dumps({"markers": markers_lat, "skeletons": cloud_lat, "diagnostics": diag}), flush=True)
    node.destroy_node()
    rclpy.shutdown()
    return 0


def pct(values: list[float]) -> dict:
    if not values:
        return {"p50": None, "p95": None, "p99": None, "max": None, "n": 0}
    a = np.asarray(values)
    return {
        "p50": round(float(np.percentile(a, 50)), 1),
        "p95": round(float(np.percentile(a, 95)), 1),
        "p99": round(float(np.percentile(a, 99)), 1),
        "max": round(float(a.max()), 1),
        "n": int(a.size),
    }


def run_case(frame_path: Path, model: Path, lift: bool, people: int, args, overrides: list[str]) -> dict:
    env = dict(
        os.environ,
        ROS_AUTOMATIC_DISCOVERY_RANGE="LOCALHOST",
        ROS_DOMAIN_ID=str(random.randint(1, 101)),
        ROS_LOG_DIR=str(Path(args.work) / "ros_logs"),
        PYTHONUNBUFFERED="1",
    )
    stop_file = Path(args.work) / f"stop_{time.time_ns()}"
    node_cmd = [
        sys.executable,
        "-m",
        "hpe3d_ros.node.lift_node",
        "--ros-args",
        "--params-file",
        str(REPO / "config" / "lift.yaml"),
        "-p",
        f"model_file_path:={model}",
        "-p",
        "backend:=onnxruntime",
        "-p",
        f"enable_lifting:={'true' if lift else 'false'}",
        "-p",
        "stats_window:=600",
        "-p",
        "diagnostics_period_s:=1.0",
    ]
    for o in overrides:
        node_cmd += ["-p", o]
    common = [f"--seconds={args.seconds}", f"--rate={args.rate}", f"--frame={frame_path}", f"--stop-file={stop_file}"]
    log = open(Path(args.work) / f"node_{people}p_{'lift' if lift else 'detect'}.log", "w")
    node = subprocess.Popen(node_cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    sub = subprocess.Popen(
        [sys.executable, __file__, "--role=sub", *common], env=env, stdout=subprocess.PIPE, text=True
    )
    time.sleep(1.0)
    load0 = os.getloadavg()[0]
    pub = subprocess.Popen(
        [sys.executable, __file__, "--role=pub", *common], env=env, stdout=subprocess.PIPE, text=True
    )
    pub_out, _ = pub.communicate(timeout=args.seconds + 300)
    load1 = os.getloadavg()[0]
    time.sleep(2.0)
    stop_file.touch()
    sub_out, _ = sub.communicate(timeout=60)
    node.send_signal(signal.SIGINT)
    try:
        node.wait(timeout=20)
    except subprocess.TimeoutExpired:
        node.kill()
    sent = json.loads(pub_out.strip().splitlines()[-1])["sent"]
    got = json.loads(sub_out.strip().splitlines()[-1])
    first = min([s for s, _, _ in got["skeletons"]], default=0)
    warm = first + int(args.warmup * 1e9)
    m_lat = [lat for s, lat, _ in got["markers"] if s >= warm]
    c_lat = [lat for s, lat, _ in got["skeletons"] if s >= warm]
    people_seen = [n for s, _, n in got["skeletons"] if s >= warm]
    d = got["diagnostics"]
    stages = {}
    for stage in ("receive", "wait", "decode", "detect", "map", "lift", "publish", "total"):
        stages[stage] = {q: float(d.get(f"latency_{stage}_{q}_ms", "nan")) for q in ("p50", "p95", "p99")}
    return {
        "people_in_frame": people,
        "lifting": lift,
        "overrides": overrides,
        "frames_sent": sent,
        "frames_received_by_node": int(d.get("frames_received", 0)),
        "frames_processed": int(d.get("frames_processed", 0)),
        "frames_dropped": int(d.get("frames_dropped", 0)),
        "frames_with_skeletons_received": len(got["skeletons"]),
        "people_detected_median": float(np.median(people_seen)) if people_seen else 0.0,
        "end_to_end_markers_ms": pct(m_lat),
        "end_to_end_skeletons_ms": pct(c_lat),
        "node_stage_ms": stages,
        "frame_age_max_ms": float(d.get("frame_age_max_ms", "nan")),
        "processed_rate_hz": round(len(got["skeletons"]) / args.seconds, 2),
        "backend": d.get("backend", ""),
        "loadavg_1min_start_end": [round(load0, 2), round(load1, 2)],
    }


def run_inprocess(frame: np.ndarray, model: Path, people: int, frames: int) -> dict:
    """The same stages without DDS, in this process: wall-clock percentiles and CPU time (all threads of
    the process, so less sensitive to other load on the machine than wall time) per stage."""
    from rclpy.serialization import serialize_message
    from std_msgs.msg import Header

    from hpe3d_ros import camera
    from hpe3d_ros.node import markers, skeleton_msgs
    from hpe3d_ros.pipeline import PosePipeline

    k = camera.intrinsics_from_fov(WIDTH, HEIGHT, HFOV_DEG)
    pipe = PosePipeline({"model_file_path": str(model), "backend": "onnxruntime", "lifter_threads": 1})
    builder = markers.MarkerBuilder()
    header = Header(frame_id="bench")
    wall: dict[str, list] = {s: [] for s in ("detect", "map", "lift", "publish_build")}
    cpu: dict[str, list] = {s: [] for s in wall}
    for i in range(frames + 5):
        c0, w0 = time.process_time(), time.perf_counter()
        dets = pipe.detector.detect(frame)
        c1, w1 = time.process_time(), time.perf_counter()
        kp = np.stack([d.keypoints for d in dets]) if dets else np.zeros((0, 16, 2))
        sc = np.stack([d.scores for d in dets]) if dets else np.zeros((0, 16))
        c2, w2 = time.process_time(), time.perf_counter()
        res = pipe.lifter.lift(kp, k, sc, height_m=1.70)
        c3, w3 = time.process_time(), time.perf_counter()
        from hpe3d_ros.pipeline import Person3D

        ps = [
            Person3D(d.track_id, res.joints_optical[j], res.joints_upright[j], sc[j], None, float(res.elevation[j]))
            for j, d in enumerate(dets)
        ]
        for msg in (
            builder.build(header, ps, 0.25),
            skeleton_msgs.skeleton_cloud(header, ps),
            skeleton_msgs.pose_array(header, ps),
        ):
            serialize_message(msg)
        c4, w4 = time.process_time(), time.perf_counter()
        if i < 5:
            continue
        for st, (a, b, ca, cb) in zip(wall, ((w0, w1, c0, c1), (w1, w2, c1, c2), (w2, w3, c2, c3), (w3, w4, c3, c4))):
            wall[st].append((b - a) * 1e3)
            cpu[st].append((cb - ca) * 1e3)
    return {
        "people_in_frame": people,
        "people_detected": len(dets),
        "frames": frames,
        "wall_ms": {st: pct(v) for st, v in wall.items()},
        "cpu_ms_mean": {st: round(float(np.mean(v)), 2) for st, v in cpu.items()},
        "lift_cpu_over_detect_cpu_percent": round(
            100 * float(np.mean(cpu["lift"])) / max(float(np.mean(cpu["detect"])), 1e-9), 1
        ),
        "lift_wall_p50_over_detect_wall_p50_percent": round(
            100 * float(np.median(wall["lift"])) / max(float(np.median(wall["detect"])), 1e-9), 1
        ),
    }


def _pp(stages: dict, stage: str) -> str:
    q = stages.get(stage)
    return f"{q['p50']:.1f} / {q['p99']:.1f}" if q else "-"


def markdown(paths: list[Path]) -> str:
    """Tables for docs/benchmarks.md from result files of this script."""
    rows = [r for p in paths for r in json.loads(Path(p).read_text())["rows"]]
    ros = [r for r in rows if r.get("mode") != "in-process"]
    lines = (
        []
        if not ros
        else [
            "| people in frame | lifting | detector.max_people | frames sent / received / processed / dropped | "
            "processed Hz | e2e markers ms p50 / p95 / p99 | "
            "receive p50 / p99 | wait p50 / p99 | decode p50 | detect p50 / p99 | map p50 | lift p50 / p99 | publish "
            "p50 / p99 | node total p50 / p99 | max frame age ms | load avg |",
            "| ---: | --- | ---: | --- | ---: | --- | --- | --- | ---: | --- | ---: | --- | --- | --- | ---: | --- |",
        ]
    )
    for r in ros:
        st = r["node_stage_ms"]
        e = r["end_to_end_markers_ms"]
        mp = next((o.split(":=")[1] for o in r["overrides"] if o.startswith("detector.max_people")), "lift.yaml")
        lines.append(
            f"| {r['people_in_frame']} | {'yes' if r['lifting'] else 'no (detector only)'} | {mp} | "
            f"{r['frames_sent']} / {r.get('frames_received_by_node', '')} / {r['frames_processed']} / "
            f"{r['frames_dropped']} | {r.get('processed_rate_hz', '')} | "
            f"{e['p50']} / {e['p95']} / {e['p99']} | {_pp(st, 'receive')} | {_pp(st, 'wait')} | "
            f"{st['decode']['p50']:.2f} | {st['detect']['p50']:.1f} / {st['detect']['p99']:.1f} | "
            f"{st['map']['p50']:.2f} | {st['lift']['p50']:.2f} / {st['lift']['p99']:.2f} | {st['publish']['p50']:.2f} "
            f"/ {st['publish']['p99']:.2f} | "
            f"{st['total']['p50']:.1f} / {st['total']['p99']:.1f} | {r['frame_age_max_ms']:.0f} | "
            f"{r['loadavg_1min_start_end'][0]} -> {r['loadavg_1min_start_end'][1]} |"
        )
    inp = [r for r in rows if r.get("mode") == "in-process"]
    if inp:
        lines += ([""] if lines else []) + [
            "| people in frame | detect wall p50 / p99 ms | detect CPU ms | lift wall p50 / p99 ms | lift CPU ms | "
            "markers+skeletons build and serialise CPU ms | lift / detect (CPU) |",
            "| ---: | --- | ---: | --- | ---: | ---: | ---: |",
        ]
        for r in inp:
            w, c = r["wall_ms"], r["cpu_ms_mean"]
            lines.append(
                f"| {r['people_in_frame']} | {w['detect']['p50']} / {w['detect']['p99']} | {c['detect']} | "
                f"{w['lift']['p50']} / {w['lift']['p99']} | "
                f"{c['lift']} | {c['publish_build']} | {r['lift_cpu_over_detect_cpu_percent']} % |"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--role", choices=["driver", "pub", "sub"], default="driver")
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--warmup", type=float, default=3.0, help="seconds of the start left out of the end-to-end numbers")
    ap.add_argument("--rate", type=float, default=30.0)
    ap.add_argument("--people", type=int, nargs="+", default=[1, 5])
    ap.add_argument("--model", type=Path, default=REPO / "engines" / "supervised-martinez_bandai.onnx")
    ap.add_argument("--detector-only", action="store_true")
    ap.add_argument("--lift-only", action="store_true", help="only the runs with lifting")
    ap.add_argument("--set", action="append", default=[], help="extra node parameter overrides name:=value")
    ap.add_argument("--work", default="/tmp/hpe3d_node_latency")
    ap.add_argument("--frame")
    ap.add_argument("--stop-file")
    ap.add_argument("--inprocess", type=int, default=0, help="also time the stages in-process over this many frames")
    ap.add_argument("--inprocess-only", action="store_true")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--markdown", type=Path, nargs="+", help="print the docs tables of these result files and exit")
    args = ap.parse_args(argv)
    if args.markdown:
        print(markdown(args.markdown), end="")
        return 0
    if args.role == "pub":
        return run_pub(args)
    if args.role == "sub":
        return run_sub(args)

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    model = args.model
    model_note = str(model)
    if not model.is_file():
        model = standin_model(work / "standin_martinez.onnx")
        model_note = f"{args.model} missing: random-weight stand-in of its size ({model.name})"
    crops = person_crops()
    rows = []
    for people in args.people:
        frame = compose(crops, people)
        frame_path = work / f"frame_{people}p.npy"
        np.save(frame_path, frame)
        import cv2

        cv2.imwrite(str(work / f"frame_{people}p.png"), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
        if args.inprocess:
            r = run_inprocess(frame, model, people, args.inprocess)
            r["model"] = model_note
            r["mode"] = "in-process"
            print(json.dumps(r), flush=True)
            rows.append(r)
        if args.inprocess_only:
            continue
        modes = [False] if args.detector_only else [True] if args.lift_only else [True, False]
        for lift in modes:
            r = run_case(frame_path, model, lift, people, args, args.set)
            r["model"] = model_note
            print(json.dumps(r), flush=True)
            rows.append(r)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        tmp = args.out.with_suffix(".tmp")
        tmp.write_text(json.dumps({"command": " ".join(sys.argv), "cpu_count": os.cpu_count(), "rows": rows}, indent=1))
        tmp.replace(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
