"""lift_node: camera images -> 2D people -> lifted 3D skeletons for RViz and downstream code.

Run: ``lift_node --ros-args --params-file config/lift.yaml`` (or ``ros2 launch hpe3d_ros lift.launch.py``).
Topics, message formats, parameters and the QoS choice: docs/node.md.

Threading: the subscription callbacks only store the newest message (history depth 1); a worker
thread decodes and processes the newest stored frame, so under load older frames are replaced and
counted as dropped instead of queueing. Every callback catches, counts and logs its errors: no
message can kill the node.

The behaviour lives in ``LiftCore`` in four steps, so that the lifecycle variant
(``hpe3d_ros.node.lifecycle_node``) can run them on its transitions: ``_declare`` (parameters),
``_load`` (models, publishers, timers: configure), ``_subscribe`` (subscriptions and the worker:
activate), and their inverses ``_unsubscribe`` and ``_unload``. ``LiftNode`` runs the first three in
its constructor.

Hostile input (docs/robustness.md): an image is decoded only after its sizes agree and stay within
``max_image_pixels``; a CameraInfo whose K is not a plausible camera for its image size is refused
(field-of-view fallback, throttled warning, /diagnostics at WARN saying why); a person whose lift is not
finite is left out and counted; image stamps far from the node's clock are kept out of the latency
statistics; unknown parameters at start-up are refused.
"""
from __future__ import annotations

import threading
import time
import traceback

import numpy as np
from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor, ParameterType, SetParametersResult
from rclpy.node import Node
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, CompressedImage, Image
from std_msgs.msg import Header
from std_srvs.srv import Trigger

from .. import camera
from ..pipeline import PosePipeline
from ..ros_convert import message_class, stamp_to_ns
from . import image_decode, status_log
from .body_topics import BodyPublishers
from .diagnostics import diagnostics_message, diagnostics_status, diagnostics_values
from .outputs import OUTPUTS, frame_builders, frame_messages, topic_name
from .params import (
    NODE_NAME,
    PARAM_BY_NAME,
    PARAMS,
    SCENE_PREFIXES,
    ParamSpec,
    check_combination,
    check_values,
    pipeline_params,
    scene_params,
    unknown_names,
)
from .stats import QUEUE_STAGES, STAGES, Stats, plausible_stamp, rate_hz
from .throttle import Throttle

NO_CAMERA_INFO = "no CameraInfo received yet"


def descriptor(spec: ParamSpec) -> ParameterDescriptor:
    """The rclpy parameter descriptor of a parameter: type, description, range, choices, read-only."""
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
            d.floating_point_range = [
                FloatingPointRange(from_value=float(spec.low), to_value=float(spec.high), step=0.0)
            ]
    else:
        d.type = ParameterType.PARAMETER_STRING
    if spec.choices:
        d.additional_constraints = "one of: " + ", ".join(spec.choices)
    return d


class LiftCore:
    """The lifting node's behaviour (see the module docstring), mixed into an rclpy Node or LifecycleNode."""

    pipeline = None
    running = False

    def _declare(self) -> None:
        """Declare and check the parameters (they are readable in every lifecycle state)."""
        for spec in PARAMS:
            self.declare_parameter(spec.name, spec.default, descriptor(spec))
        self.values = {spec.name: self.get_parameter(spec.name).value for spec in PARAMS}
        problem = check_values(self.values) or check_combination(self.values) or unknown_names(
            n for n in self._parameter_overrides if not self.has_parameter(n)
        )
        if problem:
            raise ValueError(f"lift_node: bad parameter: {problem}")
        self.add_on_set_parameters_callback(self._on_set_parameters)
        self.throttle = Throttle(float(self.values["warn_throttle_s"]))
        self.stats = Stats(int(self.values["stats_window"]))

    def _load(self) -> None:
        """Load the models and make the publishers, the timers and the elevation-reset service."""
        t0 = time.perf_counter()
        self.pipeline = PosePipeline(pipeline_params(self.values))
        self.get_logger().info(
            f"pipeline ready in {time.perf_counter() - t0:.1f} s: model {self.values['model_file_path']}, "
            f"lifter backend {self.pipeline.backend}"
        )

        self.k: np.ndarray | None = None
        self.k_size: tuple[int, int] | None = None
        self.k_problem = NO_CAMERA_INFO  # why self.k is None
        self.k_lock = threading.Lock()
        self.first_image_time: float | None = None
        self.last_fallback = False
        self.last_fallback_reason = ""

        self.builders = frame_builders()
        self.slot: tuple | None = None
        self.slot_cond = threading.Condition()

        out_qos = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=5, reliability=ReliabilityPolicy.RELIABLE)
        self.pubs = {
            o.key: self.create_publisher(
                message_class(o.msgtype),
                topic_name(o, self.values, absolute=False),
                out_qos if o.builder is not None else 10,
            )
            for o in OUTPUTS
            if not o.per_person
        }
        self.bodies = BodyPublishers(self, self.values, out_qos)
        self.reset_service = self.create_service(Trigger, "~/reset_elevation", self._on_reset_elevation)
        self.diag_timer = self.create_timer(float(self.values["diagnostics_period_s"]), self._publish_diagnostics)
        self.status_timer = None
        self.input_topic = str(self.values["image_topic"])

    def _subscribe(self) -> None:
        """Subscribe to the camera and start the worker thread."""
        self.running = True
        reliability = (
            ReliabilityPolicy.RELIABLE if self.values["reliability"] == "reliable" else ReliabilityPolicy.BEST_EFFORT
        )
        image_qos = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=1, reliability=reliability)
        info_qos = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=1, reliability=ReliabilityPolicy.BEST_EFFORT)
        topic = self.values["image_topic"]
        if self.values["use_compressed"]:
            self.image_sub = self.create_subscription(
                CompressedImage, topic.rstrip("/") + "/compressed", self._on_compressed, image_qos
            )
        else:
            self.image_sub = self.create_subscription(Image, topic, self._on_image, image_qos)
        self.info_sub = self.create_subscription(
            CameraInfo, self.values["camera_info_topic"], self._on_camera_info, info_qos
        )
        self.input_topic = self.image_sub.topic_name
        self.status_log = status_log.StatusLog(self.image_sub.topic_name, self.pipeline.backend)
        if float(self.values["status_log_period_s"]) > 0:
            self.status_timer = self.create_timer(
                float(self.values["status_log_period_s"]),
                lambda: self.status_log.emit(self.get_logger(), self.stats.snapshot()),
            )

        self.worker = threading.Thread(target=self._work, name="lift_worker", daemon=True)
        self.worker.start()
        self.get_logger().info(
            f"subscribed to {self.image_sub.topic_name} ({self.values['reliability']}, depth 1) and "
            f"{self.info_sub.topic_name}; publishing {', '.join(p.topic_name for p in self.pubs.values())}"
            + (f" and per person {self.values['body_topics.namespace']}/b<track_id>/..."
               if self.bodies.enabled else "")
        )

    def _unsubscribe(self) -> None:
        """Stop the worker and destroy the subscriptions (the frame it is processing is finished first)."""
        self.stop()
        for name in ("image_sub", "info_sub", "status_timer"):
            entity = getattr(self, name, None)
            if entity is not None:
                (self.destroy_timer if name == "status_timer" else self.destroy_subscription)(entity)
                setattr(self, name, None)
        if getattr(self, "slot_cond", None) is not None:
            with self.slot_cond:
                self.slot = None

    def _unload(self) -> None:
        """Free the models and destroy the publishers, timers and the service."""
        self.bodies.close()
        for pub in self.pubs.values():
            self.destroy_publisher(pub)
        self.pubs = {}
        self.destroy_timer(self.diag_timer)
        self.destroy_service(self.reset_service)
        for part in (getattr(self.pipeline, "detector", None), getattr(self.pipeline, "lifter", None)):
            close = getattr(part, "close", None)
            if close is not None:
                close()
        self.pipeline = None

    # ----- parameters -----
    def _on_set_parameters(self, params) -> SetParametersResult:
        try:
            values = {p.name: p.value for p in params}
            for name in values:
                spec = PARAM_BY_NAME.get(name)
                if spec is not None and spec.read_only:
                    return SetParametersResult(successful=False, reason=f"{name} is read-only: set it at start-up")
            problem = check_values(values) or check_combination({**self.values, **values})
            if problem:
                return SetParametersResult(successful=False, reason=problem)
            self.values.update({k: v for k, v in values.items() if k in PARAM_BY_NAME})
            if self.pipeline is not None:  # (the lifecycle variant before configure: the values apply on configure)
                if "body_height_m" in values:
                    self.pipeline.set_body_height(float(values["body_height_m"]))
                if "fallback_hfov_deg" in values:
                    self.pipeline.set_fallback_hfov(float(values["fallback_hfov_deg"]))
                if any(k.startswith(SCENE_PREFIXES) for k in values):
                    self.pipeline.set_scene_params(scene_params(self.values))
            if "warn_throttle_s" in values:
                self.throttle.period = float(values["warn_throttle_s"])
            if "diagnostics_period_s" in values and getattr(self, "diag_timer", None) is not None:
                # The period is exchanged, not the timer: re-creating it restarted the countdown on every set,
                # so rapid sets silenced /diagnostics. The next tick stays where it was.
                self.diag_timer.timer_period_ns = int(float(values["diagnostics_period_s"]) * 1e9)
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
        """Keep K when it is a plausible camera for the CameraInfo's own image size; refuse it otherwise
        (the frames use the field-of-view fallback until a usable CameraInfo comes)."""
        try:
            k = np.asarray(msg.k, dtype=np.float64)
            if k.size != 9:
                raise ValueError(f"K has {k.size} values, expected 9")
            k = k.reshape(3, 3)
            size = (int(msg.width), int(msg.height))
            if size == (0, 0):
                problem = "CameraInfo has no image size (0x0): its K cannot be checked against the images"
            else:
                problem = camera.intrinsics_problem(k, *size)
                if problem and not camera.is_calibrated(k):
                    problem = f"CameraInfo is uncalibrated (K = {k.reshape(-1).tolist()[:9]}): {problem}"
                elif problem:
                    problem = f"CameraInfo K refused: {problem}"
            with self.k_lock:
                self.k, self.k_size, self.k_problem = (None, None, problem) if problem else (k, size, "")
            if problem:
                self.stats.count("camera_info_errors")
                self._warn(
                    "camera_info_refused",
                    f"{problem} (on {self.info_sub.topic_name}): using a {self.values['fallback_hfov_deg']:.0f} "
                    "degree horizontal field of view instead; 3D distances are only as good as that guess until a "
                    "usable CameraInfo arrives",
                )
        except Exception as e:  # noqa: BLE001
            self.stats.count("camera_info_errors")
            with self.k_lock:
                self.k, self.k_size, self.k_problem = None, None, f"malformed CameraInfo ({type(e).__name__})"
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

    def _intrinsics(self, width: int, height: int) -> tuple[np.ndarray | None, str]:
        """K for a ``width`` x ``height`` frame, or None and why (the pipeline then uses the fallback)."""
        with self.k_lock:
            k, size, problem = self.k, self.k_size, self.k_problem
        if k is None:
            waited = time.monotonic() - (self.first_image_time or time.monotonic())
            if problem == NO_CAMERA_INFO and waited >= float(self.values["camera_info_timeout_s"]):
                self._warn(
                    "camera_info_missing",
                    f"no valid CameraInfo on {self.info_sub.topic_name}: assuming a "
                    f"{self.values['fallback_hfov_deg']:.0f} degree horizontal field of view; 3D distances are "
                    "only as good as that guess (set fallback_hfov_deg or publish a calibrated CameraInfo)",
                )
            return None, problem  # a refused one was warned about when it came
        if size != (width, height):
            self.stats.count("camera_info_errors")
            why = f"CameraInfo is for {size[0]}x{size[1]} images but the image is {width}x{height}"
            fov = self.values["fallback_hfov_deg"]
            self._warn("camera_info_size", f"{why}: using the {fov:.0f} degree field-of-view fallback")
            return None, why
        return k, ""

    def _process(self, kind: str, msg, received: float, received_wall_ns: int) -> None:
        t_start = time.perf_counter()
        wait = time.monotonic() - received
        in_stamp = stamp_to_ns(msg.header.stamp)
        now_ns = self.get_clock().now().nanoseconds
        age = (now_ns - in_stamp) * 1e-9
        max_age = float(self.values["max_frame_age_s"])
        if max_age > 0 and age > max_age:
            self.stats.count("stale_skipped")
            self._warn("stale", f"skipping a frame {age:.3f} s old (max_frame_age_s = {max_age})")
            return
        try:
            limit = int(self.values["max_image_pixels"])
            if kind == "compressed":
                rgb = image_decode.decode_compressed(msg, limit)
            else:
                rgb = image_decode.decode_image(msg, limit)
        except image_decode.ImageDecodeError as e:
            self.stats.count("decode_errors")
            self.stats.reason(e.reason)
            self._warn(f"decode:{e.reason}", f"skipping an image from {self.input_topic}: {e}")
            return
        t_dec = time.perf_counter()
        stamp_ok = plausible_stamp(in_stamp, now_ns)
        if not stamp_ok:
            self.stats.count("stamps_implausible")
            self._warn("stamp", f"an image stamped {in_stamp * 1e-9:.3f} s, {age:.3g} s from the node's clock: "
                                "processed, but left out of the age and latency statistics")
        h, w = rgb.shape[:2]
        k, k_why = self._intrinsics(w, h)
        result = self.pipeline.process(rgb, k, in_stamp)
        t_pipe = time.perf_counter()

        header = Header()
        header.stamp = msg.header.stamp
        header.frame_id = msg.header.frame_id or self.values["default_frame_id"]
        people = result.people
        messages = frame_messages(self.builders, header, people, self.values)
        for key, message in messages.items():
            if key in self.pubs:
                self.pubs[key].publish(message)
        self.bodies.publish(messages, time.monotonic())
        t_pub = time.perf_counter()

        if result.intrinsics_fallback:
            self.last_fallback_reason = k_why or result.intrinsics_problem
        self.last_fallback = result.intrinsics_fallback
        if result.dropped_nonfinite:
            self.stats.count("people_dropped_nonfinite", result.dropped_nonfinite)
            self._warn("nonfinite", f"{result.dropped_nonfinite} people of a frame left out: their lift came out "
                                    "non-finite (NaN or inf)")
        self.stats.count("processed")
        self.stats.count("published")
        with self.stats.lock:
            lat = self.stats.latency
            lat["decode"].append(t_dec - t_start)
            for stage in ("detect", "map", "lift"):
                lat[stage].append(result.timings.get(stage, float("nan")))
            lat["publish"].append(t_pub - t_pipe)
            lat["total"].append(t_pub - t_start)
            if stamp_ok:  # a stamp of 0 would put frame_age_max_ms at 1.8e12 for a whole window
                lat["receive"].append((received_wall_ns - in_stamp) * 1e-9)
                self.stats.age.append(age)
            lat["wait"].append(wait)
            self.stats.out_times.append(time.monotonic())
            self.stats.people.append(len(people))

    # ----- diagnostics -----
    def _publish_diagnostics(self) -> None:
        try:
            self.pubs["diagnostics"].publish(self.diagnostics())
        except Exception as e:  # noqa: BLE001
            self.stats.count("callback_errors")
            self._warn("diagnostics", f"diagnostics failed: {type(e).__name__}: {e}")

    def diagnostics(self):
        """The DiagnosticArray describing rates, latencies, drops and the backend."""
        snap = self.stats.snapshot()
        now = time.monotonic()
        rates = {"input": rate_hz(snap["in_times"], now), "output": rate_hz(snap["out_times"], now)}
        values = diagnostics_values(
            self.pipeline.backend,
            str(self.values["model_file_path"]),
            rates,
            snap["counts"],
            snap["latency"],
            QUEUE_STAGES + STAGES,
            snap["age"],
            snap["people"],
            self.last_fallback,
            snap["reasons"],
            self.last_fallback_reason,
        )
        values += self.pipeline.scene.diagnostics_values()
        values += [("body_topics_people", str(len(self.bodies.bodies))),
                   ("body_topics_skipped_at_cap", str(self.bodies.skipped))]
        return diagnostics_message(
            self.get_clock().now().nanoseconds,
            f"{self.get_name()}: 3D human pose lifting",
            self.input_topic,
            values,
            diagnostics_status(snap["counts"], self.last_fallback, self.last_fallback_reason),
        )

    def _on_reset_elevation(self, _request, response):
        """``~/reset_elevation`` (std_srvs/Trigger): restart the running camera-elevation estimate."""
        try:
            if self.pipeline is None:
                response.success, response.message = False, "not configured"
            else:
                self.pipeline.scene.reset_elevation()
                response.success = True
                response.message = ("the running elevation estimate restarts with the next frame"
                                    if self.values["camera_mount.mode"] != "full"
                                    else "camera_mount.mode is full: the elevation is the mount's pitch")
        except Exception as e:  # noqa: BLE001 - a service request must not kill the node
            self.stats.count("callback_errors")
            response.success, response.message = False, f"{type(e).__name__}: {e}"
        return response

    def stop(self) -> None:
        """Stop the worker thread."""
        self.running = False
        if getattr(self, "slot_cond", None) is None:
            return
        with self.slot_cond:
            self.slot_cond.notify_all()
        worker = getattr(self, "worker", None)
        if worker is not None:
            worker.join(timeout=30.0)


class LiftNode(LiftCore, Node):
    """The lifting node: parameters, models, publishers and subscriptions made in the constructor."""

    def __init__(self, **node_kwargs):
        Node.__init__(self, NODE_NAME, **node_kwargs)
        self._declare()
        self._load()
        self._subscribe()


def run(node_class: type, prog: str, args: list[str] | None = None) -> int:
    """Make ``node_class()`` and spin it until Ctrl-C; a start-up error is one clear line and exit code 2."""
    import sys

    import rclpy
    from rclpy.exceptions import NameValidationException, ParameterException
    from rclpy.executors import ExternalShutdownException

    rclpy.init(args=args)
    node = None
    try:
        node = node_class()
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except (ValueError, FileNotFoundError, OSError, ParameterException, NameValidationException) as e:
        # Start-up errors the user can fix (parameters, model file, manifest): one clear line.
        print(f"{prog}: error: {type(e).__name__}: {e}", file=sys.stderr)
        return 2
    finally:
        if node is not None:
            node.stop()
            node.destroy_node()
        if rclpy.ok():
            rclpy.shutdown()
    return 0


def main(args: list[str] | None = None) -> int:
    """Entry point ``lift_node``."""
    return run(LiftNode, "lift_node", args)


if __name__ == "__main__":
    import sys

    sys.exit(main())
