"""lift_node: camera images -> 2D people -> lifted 3D skeletons for RViz and downstream code.

Run: ``lift_node --ros-args --params-file config/lift.yaml`` (or ``ros2 launch hpe3d_ros lift.launch.py``).
Topics, message formats, parameters and the QoS choice: docs/node.md.

Threading: the subscription callbacks only store the newest message (history depth 1); a worker
thread decodes and processes the newest stored frame, so under load older frames are replaced and
counted as dropped instead of queueing. Every callback catches, counts and logs its errors: no
message can kill the node.
"""
from __future__ import annotations

import threading
import time
import traceback
from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import camera
from ..pipeline import BACKENDS, DEFAULT_BODY_HEIGHT_M, DEFAULT_MODEL, PosePipeline
from . import image_decode, markers, skeleton_msgs, status_log

NODE_NAME = "lift_node"
RELIABILITY = ("reliable", "best_effort")
STAGES = ("decode", "detect", "map", "lift", "publish", "total")
# Before processing: image stamp -> callback (transport, by the wall clock) and callback -> worker start.
QUEUE_STAGES = ("receive", "wait")


@dataclass(frozen=True)
class ParamSpec:
    """A node parameter: default, description, optional numeric range, whether it is fixed after start."""

    name: str
    default: Any
    description: str
    low: float | None = None
    high: float | None = None
    read_only: bool = False
    choices: tuple = ()


# Node parameters (config/lift.yaml sets every one of them; docs/node.md lists them).
PARAMS: tuple[ParamSpec, ...] = (
    ParamSpec("image_topic", "image", "sensor_msgs/Image topic to subscribe to", read_only=True),
    ParamSpec("camera_info_topic", "camera_info", "sensor_msgs/CameraInfo topic with the intrinsics K", read_only=True),
    ParamSpec("use_compressed", False, "subscribe to sensor_msgs/CompressedImage on <image_topic>/compressed instead of raw images", read_only=True),
    ParamSpec("reliability", "reliable", "image subscription reliability: 'reliable' or 'best_effort' (history depth is always 1)", read_only=True, choices=RELIABILITY),
    ParamSpec("output_namespace", "hpe3d", "prefix of the output topics <ns>/markers, <ns>/skeletons, <ns>/poses", read_only=True),
    ParamSpec("model_file_path", DEFAULT_MODEL, "ONNX lifter model (absolute, or relative to the package share directory); its .json manifest must sit beside it", read_only=True),
    ParamSpec("engine_file_path", "", "TensorRT engine cache file ('' = keyed cache in the cache directory)", read_only=True),
    ParamSpec("force_engine_update", False, "rebuild the TensorRT engine even when a valid cached one exists", read_only=True),
    ParamSpec("backend", "auto", "lifter backend: auto, onnxruntime, tensorrt or torch", read_only=True, choices=BACKENDS),
    ParamSpec("lifter_threads", 1, "ONNX Runtime intra-op threads for the lifter (0 = its default)", 0, 64, read_only=True),
    ParamSpec("enable_lifting", True, "False: detector only (skeletons are the 2D joints on their rays at 3 m), to measure the cost of lifting", read_only=True),
    ParamSpec("body_height_m", DEFAULT_BODY_HEIGHT_M, "body-height prior (metres) that sets the metric scale of every skeleton", 0.5, 2.5),
    ParamSpec("fallback_hfov_deg", 60.0, "horizontal field of view (degrees) assumed when CameraInfo is missing or uncalibrated (K all zeros)", 10.0, 170.0),
    ParamSpec("camera_info_timeout_s", 2.0, "warn about a missing CameraInfo once images have arrived for this long without one", 0.0, 60.0),
    ParamSpec("default_frame_id", "camera_optical_frame", "frame_id for outputs when the image has none", read_only=True),
    ParamSpec("marker_lifetime_s", 0.25, "lifetime of the RViz markers (seconds) so skeletons of people who left vanish", 0.0, 10.0),
    ParamSpec("max_frame_age_s", 0.0, "skip frames whose stamp is older than this at processing start (node clock; 0 = never skip)", 0.0, 60.0),
    ParamSpec("diagnostics_period_s", 1.0, "period of the /diagnostics status", 0.1, 60.0),
    ParamSpec("status_log_period_s", 10.0, "period (seconds) of the one-line status in the node's log: frames in/out, people, latency, backend (0 = off)", 0.0, 3600.0, read_only=True),
    ParamSpec("warn_throttle_s", 5.0, "minimum seconds between repeated warnings of one kind", 0.0, 3600.0),
    ParamSpec("stats_window", 300, "number of recent frames the latency percentiles are computed over", 10, 100000, read_only=True),
)


def _detector_specs() -> tuple[ParamSpec, ...]:
    """``detector.<name>`` parameters from hpe3d_ros.detection.params.DetectorParams: its defaults,
    ranges and the descriptions of its docstring (fixed after start: the detector is built once)."""
    import re
    from dataclasses import fields

    from ..detection.params import DetectorParams

    doc = DetectorParams.__doc__ or ""
    text = {m.group(1): " ".join(m.group(2).split()) for m in re.finditer(r"- ``(\w+)``: (.*?)(?=\n\s*- ``|\Z)", doc, re.S)}
    specs = []
    defaults = DetectorParams()
    for f in fields(DetectorParams):
        default = getattr(defaults, f.name)
        lo, hi = DetectorParams.RANGES.get(f.name, (None, None))
        specs.append(ParamSpec(f"detector.{f.name}", default, text.get(f.name, f"PoseDetector {f.name}"), lo, hi, read_only=True))
    return tuple(specs)


PARAMS = PARAMS + _detector_specs()
PARAM_BY_NAME = {p.name: p for p in PARAMS}
DYNAMIC = tuple(p.name for p in PARAMS if not p.read_only)


def parameters_table_markdown() -> str:
    """The parameter table of docs/node.md (a test keeps the two in step). The detector's parameters
    are listed with their names, defaults and ranges; their descriptions live in docs/detection.md."""
    lines = ["| name | type | default | range | set at run time | description |", "| --- | --- | --- | --- | --- | --- |"]
    for p in PARAMS:
        kind = type(p.default).__name__.replace("str", "string").replace("float", "double").replace("int", "integer")
        rng = f"[{p.low}, {p.high}]" if p.low is not None else (" / ".join(p.choices) if p.choices else "")
        default = f'"{p.default}"' if isinstance(p.default, str) else str(p.default).lower() if isinstance(p.default, bool) else str(p.default)
        desc = p.description.replace("|", "\\|")
        if p.name.startswith("detector."):  # described by the detector's own docs, which change with it
            desc = f"`DetectorParams.{p.name.split('.', 1)[1]}`, see docs/detection.md"
        lines.append(f"| `{p.name}` | {kind} | {default} | {rng} | {'no' if p.read_only else 'yes'} | {desc} |")
    return "\n".join(lines) + "\n"


def stamp_ns(stamp) -> int:
    """builtin_interfaces/Time -> integer nanoseconds."""
    return int(stamp.sec) * 1_000_000_000 + int(stamp.nanosec)


def detector_params(values: dict[str, Any]) -> dict[str, Any]:
    """The ``detector.*`` parameters as PoseDetector keyword arguments."""
    return {k.split(".", 1)[1]: v for k, v in values.items() if k.startswith("detector.")}


def pipeline_params(values: dict[str, Any]) -> dict[str, Any]:
    """Node parameter values -> PosePipeline params."""
    return {
        "model_file_path": values["model_file_path"],
        "backend": values["backend"],
        "engine_file_path": values["engine_file_path"],
        "force_engine_update": bool(values["force_engine_update"]),
        "lifter_threads": int(values["lifter_threads"]),
        "body_height_m": float(values["body_height_m"]),
        "fallback_hfov_deg": float(values["fallback_hfov_deg"]),
        "lift": bool(values["enable_lifting"]),
        "detector": detector_params(values),
    }


class Throttle:
    """At most one message per key every ``period`` seconds; counts what it swallowed."""

    def __init__(self, period: float):
        self.period = period
        self.last: dict[str, float] = {}
        self.suppressed: dict[str, int] = {}

    MAX_KEYS = 256  # bounded memory whatever the input (encodings are free text)

    def __call__(self, key: str) -> tuple[bool, int]:
        now = time.monotonic()
        if key not in self.last and len(self.last) >= self.MAX_KEYS:
            key = "other"
        if now - self.last.get(key, -1e18) >= self.period:
            self.last[key] = now
            return True, self.suppressed.pop(key, 0)
        self.suppressed[key] = self.suppressed.get(key, 0) + 1
        return False, 0


class Stats:
    """Counters and recent per-stage latencies, shared between the callbacks and the worker."""

    def __init__(self, window: int):
        self.lock = threading.Lock()
        self.window = window
        self.counts: dict[str, int] = {
            "received": 0, "processed": 0, "published": 0, "dropped": 0, "stale_skipped": 0,
            "decode_errors": 0, "processing_errors": 0, "camera_info_errors": 0, "callback_errors": 0,
        }
        self.errors_by_reason: dict[str, int] = {}
        self.latency: dict[str, deque] = {s: deque(maxlen=window) for s in STAGES + QUEUE_STAGES}
        self.age: deque = deque(maxlen=window)
        self.in_times: deque = deque(maxlen=window)
        self.out_times: deque = deque(maxlen=window)
        self.people: deque = deque(maxlen=window)

    def count(self, key: str, n: int = 1) -> None:
        with self.lock:
            self.counts[key] = self.counts.get(key, 0) + n

    def reason(self, reason: str) -> None:
        with self.lock:
            if reason not in self.errors_by_reason and len(self.errors_by_reason) >= 64:
                reason = "other"
            self.errors_by_reason[reason] = self.errors_by_reason.get(reason, 0) + 1

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                "counts": dict(self.counts),
                "reasons": dict(self.errors_by_reason),
                "latency": {s: list(v) for s, v in self.latency.items()},
                "age": list(self.age),
                "in_times": list(self.in_times),
                "out_times": list(self.out_times),
                "people": list(self.people),
            }


def rate_hz(times: list[float], now: float, span: float = 5.0) -> float:
    """Events per second over the last ``span`` seconds."""
    recent = [t for t in times if now - t <= span]
    if len(recent) < 2:
        return 0.0
    return (len(recent) - 1) / max(recent[-1] - recent[0], 1e-9)


def percentiles_ms(values: list[float]) -> tuple[float, float, float]:
    """(p50, p95, p99) in milliseconds of values in seconds; NaN when empty."""
    if not values:
        return (float("nan"),) * 3
    a = np.asarray(values) * 1e3
    return tuple(float(x) for x in np.percentile(a, [50, 95, 99]))


def make_node_class():
    """The rclpy Node subclass (built lazily so that importing this module does not need rclpy)."""
    import rclpy
    from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
    from geometry_msgs.msg import PoseArray
    from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor, ParameterType, SetParametersResult
    from rclpy.node import Node
    from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
    from sensor_msgs.msg import CameraInfo, CompressedImage, Image, PointCloud2
    from std_msgs.msg import Header
    from visualization_msgs.msg import MarkerArray

    def descriptor(spec: ParamSpec) -> ParameterDescriptor:
        d = ParameterDescriptor(description=spec.description, read_only=spec.read_only)
        if isinstance(spec.default, bool):
            d.type = ParameterType.PARAMETER_BOOL
        elif isinstance(spec.default, int):
            d.type = ParameterType.PARAMETER_INTEGER
            if spec.low is not None:
                d.integer_range = [IntegerRange(from_value=int(spec.low), to_value=int(spec.high), step=1)]
        elif isinstance(spec.default, float):
            d.type = ParameterType.PARAMETER_DOUBLE
            if spec.low is not None:
                d.floating_point_range = [FloatingPointRange(from_value=float(spec.low), to_value=float(spec.high), step=0.0)]
        else:
            d.type = ParameterType.PARAMETER_STRING
        if spec.choices:
            d.additional_constraints = "one of: " + ", ".join(spec.choices)
        return d

    class LiftNode(Node):
        """The lifting node; see the module docstring."""

        def __init__(self, **node_kwargs):
            super().__init__(NODE_NAME, **node_kwargs)
            for spec in PARAMS:
                self.declare_parameter(spec.name, spec.default, descriptor(spec))
            self.values = {spec.name: self.get_parameter(spec.name).value for spec in PARAMS}
            problem = self._check_values(self.values)
            if problem:
                raise ValueError(f"lift_node: bad parameter: {problem}")
            self.add_on_set_parameters_callback(self._on_set_parameters)
            self.throttle = Throttle(float(self.values["warn_throttle_s"]))
            self.stats = Stats(int(self.values["stats_window"]))

            t0 = time.perf_counter()
            self.pipeline = PosePipeline(pipeline_params(self.values))
            self.get_logger().info(
                f"pipeline ready in {time.perf_counter() - t0:.1f} s: model {self.values['model_file_path']}, "
                f"lifter backend {self.pipeline.backend}"
            )

            self.k: np.ndarray | None = None
            self.k_size: tuple[int, int] | None = None
            self.k_lock = threading.Lock()
            self.first_image_time: float | None = None
            self.last_fallback = False

            self.marker_builder = markers.MarkerBuilder()
            self.slot: tuple | None = None
            self.slot_cond = threading.Condition()
            self.running = True

            reliability = ReliabilityPolicy.RELIABLE if self.values["reliability"] == "reliable" else ReliabilityPolicy.BEST_EFFORT
            image_qos = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=1, reliability=reliability)
            info_qos = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=1, reliability=ReliabilityPolicy.BEST_EFFORT)
            topic = self.values["image_topic"]
            if self.values["use_compressed"]:
                self.image_sub = self.create_subscription(CompressedImage, topic.rstrip("/") + "/compressed", self._on_compressed, image_qos)
            else:
                self.image_sub = self.create_subscription(Image, topic, self._on_image, image_qos)
            self.info_sub = self.create_subscription(CameraInfo, self.values["camera_info_topic"], self._on_camera_info, info_qos)

            ns = self.values["output_namespace"].strip("/")
            prefix = f"{ns}/" if ns else ""
            out_qos = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=5, reliability=ReliabilityPolicy.RELIABLE)
            self.marker_pub = self.create_publisher(MarkerArray, prefix + "markers", out_qos)
            self.cloud_pub = self.create_publisher(PointCloud2, prefix + "skeletons", out_qos)
            self.pose_pub = self.create_publisher(PoseArray, prefix + "poses", out_qos)
            self.diag_pub = self.create_publisher(DiagnosticArray, "/diagnostics", 10)
            self.diag_timer = self.create_timer(float(self.values["diagnostics_period_s"]), self._publish_diagnostics)
            self.status_log = status_log.StatusLog(self.image_sub.topic_name, self.pipeline.backend)
            if float(self.values["status_log_period_s"]) > 0:
                self.status_timer = self.create_timer(float(self.values["status_log_period_s"]),
                                                      lambda: self.status_log.emit(self.get_logger(), self.stats.snapshot()))
            self._msg = {"Header": Header, "DiagnosticArray": DiagnosticArray, "DiagnosticStatus": DiagnosticStatus, "KeyValue": KeyValue}

            self.worker = threading.Thread(target=self._work, name="lift_worker", daemon=True)
            self.worker.start()
            self.get_logger().info(
                f"subscribed to {self.image_sub.topic_name} ({self.values['reliability']}, depth 1) and "
                f"{self.info_sub.topic_name}; publishing {self.marker_pub.topic_name}, {self.cloud_pub.topic_name}, "
                f"{self.pose_pub.topic_name}, /diagnostics"
            )

        # ----- parameters -----
        @staticmethod
        def _check_values(values: dict[str, Any]) -> str:
            for name, value in values.items():
                spec = PARAM_BY_NAME.get(name)
                if spec is None:
                    continue
                if spec.choices and value not in spec.choices:
                    return f"{name} = {value!r}; expected one of {', '.join(spec.choices)}"
                if spec.low is not None and not (spec.low <= value <= spec.high):
                    return f"{name} = {value!r}; expected a value in [{spec.low}, {spec.high}]"
            return ""

        def _on_set_parameters(self, params) -> SetParametersResult:
            try:
                values = {p.name: p.value for p in params}
                for name in values:
                    spec = PARAM_BY_NAME.get(name)
                    if spec is not None and spec.read_only:
                        return SetParametersResult(successful=False, reason=f"{name} is read-only: set it at start-up")
                problem = self._check_values(values)
                if problem:
                    return SetParametersResult(successful=False, reason=problem)
                self.values.update({k: v for k, v in values.items() if k in PARAM_BY_NAME})
                if "body_height_m" in values:
                    self.pipeline.set_body_height(float(values["body_height_m"]))
                if "fallback_hfov_deg" in values:
                    self.pipeline.set_fallback_hfov(float(values["fallback_hfov_deg"]))
                if "warn_throttle_s" in values:
                    self.throttle.period = float(values["warn_throttle_s"])
                if "diagnostics_period_s" in values:
                    self.diag_timer.cancel()
                    self.destroy_timer(self.diag_timer)
                    self.diag_timer = self.create_timer(float(values["diagnostics_period_s"]), self._publish_diagnostics)
                return SetParametersResult(successful=True)
            except Exception as e:  # noqa: BLE001 - a parameter request must not kill the node
                self.stats.count("callback_errors")
                return SetParametersResult(successful=False, reason=f"{type(e).__name__}: {e}")

        # ----- logging -----
        def _warn(self, key: str, text: str) -> None:
            show, suppressed = self.throttle(key)
            if show:
                more = f" ({suppressed} more like this since the last warning)" if suppressed else ""
                self.get_logger().warning(text + more)

        # ----- callbacks: store the newest frame only -----
        def _store(self, kind: str, msg) -> None:
            try:
                self.stats.count("received")
                now = time.monotonic()
                with self.stats.lock:
                    self.stats.in_times.append(now)
                if self.first_image_time is None:
                    self.first_image_time = now
                with self.slot_cond:
                    if self.slot is not None:
                        self.stats.count("dropped")
                    self.slot = (kind, msg, now, time.time_ns())
                    self.slot_cond.notify()
            except Exception as e:  # noqa: BLE001
                self.stats.count("callback_errors")
                self._warn("callback", f"image callback failed: {type(e).__name__}: {e}")

        def _on_image(self, msg) -> None:
            self._store("raw", msg)

        def _on_compressed(self, msg) -> None:
            self._store("compressed", msg)

        def _on_camera_info(self, msg) -> None:
            try:
                k = np.asarray(msg.k, dtype=np.float64)
                if k.size != 9:
                    raise ValueError(f"K has {k.size} values, expected 9")
                k = k.reshape(3, 3)
                if not camera.is_calibrated(k):
                    with self.k_lock:
                        self.k, self.k_size = None, None
                    self.stats.count("camera_info_errors")
                    self._warn(
                        "camera_info_uncalibrated",
                        f"CameraInfo on {self.info_sub.topic_name} is uncalibrated (K = {k.reshape(-1).tolist()}): "
                        f"using a {self.values['fallback_hfov_deg']:.0f} degree horizontal field of view instead; "
                        "3D distances will be wrong until the camera is calibrated",
                    )
                    return
                with self.k_lock:
                    self.k = k
                    self.k_size = (int(msg.width), int(msg.height))
            except Exception as e:  # noqa: BLE001
                self.stats.count("camera_info_errors")
                self._warn("camera_info_bad", f"ignoring a malformed CameraInfo: {type(e).__name__}: {e}")

        # ----- worker -----
        def _take(self):
            with self.slot_cond:
                while self.running and self.slot is None:
                    self.slot_cond.wait(timeout=0.2)
                item, self.slot = self.slot, None
                return item

        def _work(self) -> None:
            while self.running:
                item = self._take()
                if item is None:
                    continue
                try:
                    self._process(*item)
                except Exception as e:  # noqa: BLE001 - one bad frame must not stop the worker
                    self.stats.count("processing_errors")
                    self.stats.reason(type(e).__name__)
                    self._warn(f"process:{type(e).__name__}", f"frame skipped: {type(e).__name__}: {e}")
                    self.get_logger().debug(traceback.format_exc())

        def _intrinsics(self, width: int, height: int) -> np.ndarray | None:
            with self.k_lock:
                k, size = self.k, self.k_size
            if k is None:
                waited = time.monotonic() - (self.first_image_time or time.monotonic())
                if waited >= float(self.values["camera_info_timeout_s"]):
                    self._warn(
                        "camera_info_missing",
                        f"no valid CameraInfo on {self.info_sub.topic_name}: assuming a "
                        f"{self.values['fallback_hfov_deg']:.0f} degree horizontal field of view; 3D distances are "
                        "only as good as that guess (set fallback_hfov_deg or publish a calibrated CameraInfo)",
                    )
                return None
            if size is not None and size != (0, 0) and size != (width, height):
                self.stats.count("camera_info_errors")
                self._warn(
                    "camera_info_size",
                    f"CameraInfo is for {size[0]}x{size[1]} images but the image is {width}x{height}: "
                    f"using the {self.values['fallback_hfov_deg']:.0f} degree field-of-view fallback",
                )
                return None
            return k

        def _process(self, kind: str, msg, received: float, received_wall_ns: int) -> None:
            t_start = time.perf_counter()
            wait = time.monotonic() - received
            in_stamp = stamp_ns(msg.header.stamp)
            age = (self.get_clock().now().nanoseconds - in_stamp) * 1e-9
            max_age = float(self.values["max_frame_age_s"])
            if max_age > 0 and age > max_age:
                self.stats.count("stale_skipped")
                self._warn("stale", f"skipping a frame {age:.3f} s old (max_frame_age_s = {max_age})")
                return
            try:
                rgb = image_decode.decode_compressed(msg) if kind == "compressed" else image_decode.decode_image(msg)
            except image_decode.ImageDecodeError as e:
                self.stats.count("decode_errors")
                self.stats.reason(e.reason)
                self._warn(f"decode:{e.reason}", f"skipping an image from {self.image_sub.topic_name}: {e}")
                return
            t_dec = time.perf_counter()
            h, w = rgb.shape[:2]
            k = self._intrinsics(w, h)
            result = self.pipeline.process(rgb, k, in_stamp)
            t_pipe = time.perf_counter()

            header = self._msg["Header"]()
            header.stamp = msg.header.stamp
            header.frame_id = msg.header.frame_id or self.values["default_frame_id"]
            people = result.people
            self.marker_pub.publish(self.marker_builder.build(header, people, float(self.values["marker_lifetime_s"])))
            self.cloud_pub.publish(skeleton_msgs.skeleton_cloud(header, people))
            self.pose_pub.publish(skeleton_msgs.pose_array(header, people))
            t_pub = time.perf_counter()

            self.last_fallback = result.intrinsics_fallback
            self.stats.count("processed")
            self.stats.count("published")
            with self.stats.lock:
                lat = self.stats.latency
                lat["decode"].append(t_dec - t_start)
                for stage in ("detect", "map", "lift"):
                    lat[stage].append(result.timings.get(stage, float("nan")))
                lat["publish"].append(t_pub - t_pipe)
                lat["total"].append(t_pub - t_start)
                lat["receive"].append((received_wall_ns - in_stamp) * 1e-9)
                lat["wait"].append(wait)
                self.stats.age.append(age)
                self.stats.out_times.append(time.monotonic())
                self.stats.people.append(len(people))

        # ----- diagnostics -----
        def _publish_diagnostics(self) -> None:
            try:
                self.diag_pub.publish(self.diagnostics())
            except Exception as e:  # noqa: BLE001
                self.stats.count("callback_errors")
                self._warn("diagnostics", f"diagnostics failed: {type(e).__name__}: {e}")

        def diagnostics(self):
            """The DiagnosticArray describing rates, latencies, drops and the backend."""
            m = self._msg
            snap = self.stats.snapshot()
            now = time.monotonic()
            c = snap["counts"]
            kv = [
                ("backend", self.pipeline.backend),
                ("model", str(self.values["model_file_path"])),
                ("input_rate_hz", f"{rate_hz(snap['in_times'], now):.2f}"),
                ("output_rate_hz", f"{rate_hz(snap['out_times'], now):.2f}"),
            ]
            for key in ("received", "processed", "dropped", "stale_skipped", "decode_errors", "processing_errors",
                        "camera_info_errors", "callback_errors"):
                kv.append((f"frames_{key}" if key in ("received", "processed", "dropped") else key, str(c.get(key, 0))))
            for stage in QUEUE_STAGES + STAGES:
                p50, p95, p99 = percentiles_ms(snap["latency"][stage])
                kv += [(f"latency_{stage}_p50_ms", f"{p50:.2f}"), (f"latency_{stage}_p95_ms", f"{p95:.2f}"),
                       (f"latency_{stage}_p99_ms", f"{p99:.2f}")]
            ages = snap["age"]
            kv.append(("frame_age_max_ms", f"{max(ages) * 1e3:.2f}" if ages else "nan"))
            kv.append(("people_last", str(snap["people"][-1]) if snap["people"] else "0"))
            kv.append(("intrinsics", "fallback field of view" if self.last_fallback else "CameraInfo"))
            for reason, n in sorted(snap["reasons"].items()):
                kv.append((f"skipped[{reason}]", str(n)))
            status = m["DiagnosticStatus"]()
            status.name = f"{self.get_name()}: 3D human pose lifting"
            status.hardware_id = self.image_sub.topic_name
            if c.get("received", 0) == 0:
                status.level, status.message = DiagnosticStatus.WARN, "no images received yet"
            elif self.last_fallback:
                status.level, status.message = DiagnosticStatus.WARN, "no calibrated CameraInfo: using the field-of-view fallback"
            elif c.get("processing_errors", 0) or c.get("decode_errors", 0):
                status.level, status.message = DiagnosticStatus.WARN, "some frames were skipped (see the counts)"
            else:
                status.level, status.message = DiagnosticStatus.OK, "running"
            status.level = bytes([status.level]) if isinstance(status.level, int) else status.level
            status.values = [m["KeyValue"](key=k, value=v) for k, v in kv]
            arr = m["DiagnosticArray"]()
            arr.header.stamp = self.get_clock().now().to_msg()
            arr.status = [status]
            return arr

        def stop(self) -> None:
            """Stop the worker thread."""
            self.running = False
            with self.slot_cond:
                self.slot_cond.notify_all()
            self.worker.join(timeout=5.0)

    return LiftNode


def main(args: list[str] | None = None) -> int:
    """Entry point ``lift_node``."""
    import sys

    import rclpy
    from rclpy.exceptions import NameValidationException, ParameterException
    from rclpy.executors import ExternalShutdownException

    rclpy.init(args=args)
    node = None
    try:
        node = make_node_class()()
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except (ValueError, FileNotFoundError, OSError, ParameterException, NameValidationException) as e:
        # Start-up errors the user can fix (parameters, model file, manifest): one clear line.
        print(f"lift_node: error: {type(e).__name__}: {e}", file=sys.stderr)
        return 2
    finally:
        if node is not None:
            node.stop()
            node.destroy_node()
        if rclpy.ok():
            rclpy.shutdown()
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
