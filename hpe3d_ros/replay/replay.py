"""`hpe3d replay`: a recorded bag through exactly the node's pipeline into an output bag and a report.

The parameters come from the node's parameter file (config/lift.yaml by default, read by
``node_params``), the pipeline is ``hpe3d_ros.pipeline.PosePipeline`` built with the node's own
parameter mapping, images are decoded by the node's ``image_decode`` and the outputs are built by
the node's message builders (``node_outputs``). The output bag holds every input topic plus every
output of ``node/outputs.py`` (``<ns>/markers``, ``<ns>/skeletons``, ``<ns>/poses``, ``<ns>/people``,
the per-person ``/humans/bodies/b<id>/...`` and ``/humans/bodies/tracked``) and ``/diagnostics``.

Modes:
- fast (default, ``--rate 0``): every frame in order, as fast as the CPU allows; outputs are written
  at their input's receive time, so two replays of one bag write identical skeletons (the person
  detector runs inline: ``detector.async_detection`` is taken as false, as a worker thread's results
  would depend on its timing);
- paced (``--rate R``): messages are fed at R times the recorded rate to a worker that, like the
  node, keeps only the newest frame: frames that arrive while it is busy are dropped and counted,
  and the end-to-end latency (arrival to outputs written) means what it means on a robot. Outputs
  are written at their input's receive time plus that latency.

Bags without images but with 2D keypoints (``hpe3d make-bag --mocap-test-clips``; encoding in
docs/replay.md) go through the pipeline's lift stage only (``node_outputs.process_keypoints``).
Ground truth (geometry_msgs/PoseArray, 16 poses per person, optical frame) is matched by stamp.

An interrupted replay (Ctrl-C, an unreadable message) closes the output bag with everything
processed so far and still writes the report. A killed one (SIGKILL) leaves an output bag that
rosbags reads with all but its last ``--split-s`` seconds (``bag_split``). A damaged input bag
(cut short, a chunk whose CRC fails) is replayed as far as it is intact; where it is damaged goes to
the log, the report (``input_damage``) and the exit status (1).
"""
from __future__ import annotations

import argparse
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..node.diagnostics import diagnostics_message, diagnostics_status, diagnostics_values
from ..node.outputs import frame_builders, output_topics, topic_messages
from ..node.stats import STAGES, rate_hz
from ..ros_convert import camera_info_intrinsics, stamp_to_ns
from .bag_io import IMAGE_TYPES, BagError, InputBag, OutputBag, RawMessage, deserialize
from .bag_split import DEFAULT_SPLIT_S
from .keypoint_msgs import parse_camera_pose, parse_ground_truth, parse_keypoints
from .node_outputs import NoDetector, output_messages, process_keypoints
from .records import FrameRecord, record_from_people

CAMERA_INFO_TYPE = "sensor_msgs/msg/CameraInfo"
KEYPOINTS_TYPE = "std_msgs/msg/Float32MultiArray"
GT_TYPE = "geometry_msgs/msg/PoseArray"
DEFAULT_KEYPOINTS_TOPIC = "/hpe3d/keypoints2d"
DEFAULT_GT_TOPIC = "/hpe3d/ground_truth"
GT_CAMERA_TOPIC = "/hpe3d/ground_truth_camera"  # mounted-camera bags: the camera's true pose (PoseStamped)
DIAGNOSTICS_PERIOD_NS = 1_000_000_000


class ReplayError(RuntimeError):
    """A replay that cannot start or had to stop; the message names the file and the problem."""


@dataclass
class ReplayOptions:
    """Settings of one replay (the CLI's arguments)."""

    bag: Path
    out: Path
    report_dir: Path | None = None
    image_topic: str | None = None
    info_topic: str | None = None
    keypoints_topic: str | None = None
    gt_topic: str | None = None
    rate: float = 0.0
    params_file: Path | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    storage: str = "mcap"
    max_frames: int | None = None
    plots: bool = True
    split_s: float = DEFAULT_SPLIT_S


@dataclass
class ReplayResult:
    """What a replay did: records per frame, the report dict, and whether it ran to the end."""

    frames: list[FrameRecord]
    report: dict
    out: Path
    report_dir: Path
    complete: bool
    error: str = ""
    image_topic_used: str | None = None


def _pick(topics: dict[str, str], types: tuple[str, ...], given: str | None, what: str, bag: Path,
          prefer: str | None = None, required: bool = True) -> str | None:
    if given:
        if given not in topics:
            raise BagError(f"{bag}: no topic {given!r} ({what}); the bag has {sorted(topics)}")
        if topics[given] not in types:
            raise BagError(f"{bag}: topic {given!r} has type {topics[given]}, expected {' or '.join(types)} ({what})")
        return given
    found = sorted(t for t, ty in topics.items() if ty in types)
    if prefer in found:
        return prefer
    if len(found) == 1:
        return found[0]
    if not found:
        if required:
            raise BagError(f"{bag}: no {what} topic (type {' or '.join(types)}); the bag has "
                           + ", ".join(f"{t} ({ty})" for t, ty in sorted(topics.items())))
        return None
    raise BagError(f"{bag}: several {what} topics {found}; choose one with the topic option")


def _intrinsics(info, width: int, height: int) -> np.ndarray | None:
    """K from the latest CameraInfo as the node takes it: None when missing or not usable for this
    image (``ros_convert.camera_info_intrinsics``)."""
    if info is None:
        return None
    return camera_info_intrinsics(info, width, height)[0]


class _Writer:
    """The output bag behind a lock (paced mode writes from two threads); skips topics it cannot type."""

    def __init__(self, bag: OutputBag):
        self.bag = bag
        self.lock = threading.Lock()
        self.skipped: dict[str, str] = {}

    def raw(self, m: RawMessage) -> None:
        if m.topic in self.skipped:
            return
        with self.lock:
            try:
                try:
                    self.bag.write(m.topic, m.msgtype, m.timestamp, m.data)
                except Exception:  # noqa: BLE001 - a type the typestore lacks: copy it with the bag's own definition
                    if not (m.msgdef and m.rihs01):
                        raise
                    self.bag.write(m.topic, m.msgtype, m.timestamp, m.data, m.msgdef, m.rihs01)
            except Exception as e:  # noqa: BLE001 - a type rosbags does not know: keep the replay going
                self.skipped[m.topic] = f"{m.msgtype}: {type(e).__name__}: {e}"

    def ros(self, topic: str, msg: object, timestamp: int) -> None:
        with self.lock:
            self.bag.write_ros(topic, msg, timestamp)


class Replayer:
    """One replay: the bag, the pipeline built from the node's parameters, the output bag."""

    def __init__(self, opts: ReplayOptions, log: Callable[[str], None] | None = None):
        from .node_params import load_node_params, replay_pipeline_params

        self.opts = opts
        self.log = log or (lambda s: print(s, file=sys.stderr))
        self.values = load_node_params(opts.params_file, opts.overrides)
        self.pipeline_params = replay_pipeline_params(self.values)
        if opts.rate <= 0 and "async_detection" in self.pipeline_params["detector"]:
            self.pipeline_params["detector"]["async_detection"] = False  # fast mode is reproducible
        self.topics_out = output_topics(self.values)
        self.builders = frame_builders()
        self.bag = InputBag(opts.bag)
        for note in self.bag.notes:
            self.log(f"hpe3d replay: {note}")
        try:
            self._choose_topics(opts)
        except BaseException:
            self.bag.close()
            raise
        self.frames: list[FrameRecord] = []
        self._init_state()

    def _choose_topics(self, opts: ReplayOptions) -> None:
        """The image (or 2D keypoint), CameraInfo and ground-truth topics; BagError when they are not there."""
        topics = self.bag.topics
        self.keypoints_topic = None
        self.image_topic = None
        if opts.keypoints_topic:
            self.keypoints_topic = _pick(topics, (KEYPOINTS_TYPE,), opts.keypoints_topic, "2D keypoints", self.bag.path)
        else:
            self.image_topic = _pick(topics, IMAGE_TYPES, opts.image_topic, "image", self.bag.path,
                                     required=opts.image_topic is not None or DEFAULT_KEYPOINTS_TOPIC not in topics)
            if self.image_topic is None:
                self.keypoints_topic = _pick(
                    topics, (KEYPOINTS_TYPE,), DEFAULT_KEYPOINTS_TOPIC, "2D keypoints", self.bag.path
                )
        self.info_topic = _pick(
            topics, (CAMERA_INFO_TYPE,), opts.info_topic, "camera info", self.bag.path, required=False
        )
        if self.keypoints_topic and not self.info_topic:
            raise BagError(f"{self.bag.path}: a 2D-keypoint bag needs a CameraInfo topic (intrinsics and image size)")
        self.gt_topic = (
            _pick(
                topics,
                (GT_TYPE,),
                opts.gt_topic,
                "ground truth",
                self.bag.path,
                prefer=DEFAULT_GT_TOPIC,
                required=opts.gt_topic is not None,
            )
            if (opts.gt_topic or DEFAULT_GT_TOPIC in topics)
            else None
        )
        for t in self.topics_out.values():
            if t in topics and t != self.topics_out["diagnostics"]:
                raise BagError(f"{self.bag.path}: already holds the output topic {t}; replay a bag without outputs")
        self.source_topic = self.image_topic or self.keypoints_topic

    def _init_state(self) -> None:
        """Counters, the latest CameraInfo and the ground truth read so far."""
        self.gt: dict[int, np.ndarray] = {}
        self.gt_camera: dict[int, tuple] = {}
        self.info = None
        self.counts = {"received": 0, "processed": 0, "dropped": 0, "decode_errors": 0, "processing_errors": 0}
        self.latency: dict[str, list[float]] = {}
        self.in_times: list[float] = []
        self.out_times: list[float] = []
        self.next_diag_ns: int | None = None
        self.pipeline = None
        self.last_intrinsics_problem = ""

    # ----- one frame -----
    def _process(self, raw: RawMessage, index: int, arrival_wall: float, writer: _Writer) -> None:
        t_start = time.perf_counter()
        waited = time.monotonic() - arrival_wall  # paced mode: time the frame waited for the busy worker
        v = self.values
        try:
            msg = deserialize(raw)
        except BagError as e:
            self._error(index, raw.timestamp, raw.timestamp, "corrupt message", str(e))
            return
        if raw.msgtype == KEYPOINTS_TYPE:
            stamp, frame_id = raw.timestamp, ""
            if self.info is not None:
                frame_id = self.info.header.frame_id
            try:
                kp, sc, ids = parse_keypoints(msg)
            except ValueError as e:
                self._error(index, stamp, raw.timestamp, "bad keypoints", str(e))
                return
            t_dec = time.perf_counter()
            width, height = int(self.info.width), int(self.info.height)
            result = process_keypoints(
                self.pipeline, kp, sc, _intrinsics(self.info, width, height), (width, height), ids, stamp
            )
        else:
            from ..node import image_decode

            stamp = stamp_to_ns(msg.header.stamp)
            frame_id = msg.header.frame_id
            try:
                limit = int(v["max_image_pixels"])
                if raw.msgtype.endswith("CompressedImage"):
                    rgb = image_decode.decode_compressed(msg, limit)
                else:
                    rgb = image_decode.decode_image(msg, limit)
            except image_decode.ImageDecodeError as e:
                self.counts["decode_errors"] += 1
                self._error(index, stamp, raw.timestamp, f"decode:{e.reason}", str(e), count=False)
                return
            t_dec = time.perf_counter()
            h, w = rgb.shape[:2]
            try:
                result = self.pipeline.process(rgb, _intrinsics(self.info, w, h), stamp)
            except Exception as e:  # noqa: BLE001 - the node skips such a frame too
                self.counts["processing_errors"] += 1
                self._error(index, stamp, raw.timestamp, type(e).__name__, str(e), count=False)
                return
        t_pipe = time.perf_counter()
        if result.intrinsics_fallback:
            if result.intrinsics_problem != self.last_intrinsics_problem:
                self.log(
                    f"hpe3d replay: frame {index}: {result.intrinsics_problem}: using the "
                    f"{v['fallback_hfov_deg']:.0f} degree field-of-view fallback (fallback_hfov_deg); "
                    "3D distances are only as good as that guess"
                )
            self.counts["intrinsics_fallback"] = self.counts.get("intrinsics_fallback", 0) + 1
        self.last_intrinsics_problem = result.intrinsics_problem
        if result.dropped_nonfinite:
            n = self.counts.get("people_dropped_nonfinite", 0)
            self.counts["people_dropped_nonfinite"] = n + result.dropped_nonfinite
        latency = None
        out_time = raw.timestamp
        if self.opts.rate > 0:
            latency = time.monotonic() - arrival_wall  # arrival to outputs built; the write follows
            out_time = raw.timestamp + int(latency * 1e9)
        for topic, m in topic_messages(output_messages(stamp, frame_id, result.people, v, self.builders), v):
            writer.ros(topic, m, out_time)
        t_pub = time.perf_counter()
        if latency is not None:
            latency = time.monotonic() - arrival_wall
        timings = {"decode": t_dec - t_start, **result.timings, "publish": t_pub - t_pipe, "total": t_pub - t_start}
        if self.opts.rate > 0:
            timings = {"wait": waited, **timings}
        rec = record_from_people(index, stamp, raw.timestamp, result.people, timings, latency)
        self.frames.append(rec)
        self.counts["processed"] += 1
        self.out_times.append(time.monotonic())
        for s, val in timings.items():
            self.latency.setdefault(s, []).append(val)
        self._diagnostics(out_time, writer)

    def _error(self, index: int, stamp: int, arrival: int, reason: str, text: str, count: bool = True) -> None:
        if count:
            self.counts["processing_errors"] += 1
        self.frames.append(FrameRecord(index, int(stamp), int(arrival), status="error", reason=reason))
        self.log(f"hpe3d replay: skipping frame {index} at t={arrival}: {text}")

    def _diagnostics(self, now_ns: int, writer: _Writer, force: bool = False) -> None:
        if self.next_diag_ns is None:
            self.next_diag_ns = now_ns + DIAGNOSTICS_PERIOD_NS
        if not force and now_ns < self.next_diag_ns:
            return
        self.next_diag_ns = now_ns + DIAGNOSTICS_PERIOD_NS
        now = time.monotonic()
        span = 1e9 if self.opts.rate <= 0 else 5.0
        window = {s: v[-300:] for s, v in self.latency.items()}
        rates = {"input": rate_hz(self.in_times[-300:], now, span), "output": rate_hz(self.out_times[-300:], now, span)}
        values = diagnostics_values(
            self.pipeline.backend, str(self.values["model_file_path"]), rates, self.counts, window, STAGES
        )
        msg = diagnostics_message(
            now_ns, "hpe3d replay: 3D human pose lifting", self.source_topic, values, diagnostics_status(self.counts)
        )
        writer.ros(self.topics_out["diagnostics"], msg, now_ns)

    # ----- input side -----
    def _side_message(self, raw: RawMessage) -> None:
        if raw.topic == self.info_topic:
            try:
                self.info = deserialize(raw)
            except BagError as e:
                self.log(f"hpe3d replay: ignoring a CameraInfo: {e}")
        elif raw.topic == self.gt_topic:
            try:
                msg = deserialize(raw)
                stamp = stamp_to_ns(msg.header.stamp)
                self.gt[stamp] = parse_ground_truth(msg)
            except (BagError, ValueError) as e:
                self.log(f"hpe3d replay: ignoring a ground-truth message: {e}")
        elif raw.topic == GT_CAMERA_TOPIC and self.gt_topic:
            try:
                msg = deserialize(raw)
                self.gt_camera[stamp_to_ns(msg.header.stamp)] = parse_camera_pose(msg)
            except (BagError, ValueError) as e:
                self.log(f"hpe3d replay: ignoring a ground-truth camera message: {e}")

    def run(self) -> ReplayResult:
        """Replay the whole bag (or until interrupted); always closes the output bag and writes the report."""
        from ..pipeline import PosePipeline

        opts = self.opts
        report_dir = opts.report_dir or opts.out.with_name(opts.out.name + "-report")
        try:
            # 2D-keypoint bags need only the lift stage: no detector models to load
            self.pipeline = PosePipeline(self.pipeline_params, detector=NoDetector() if self.keypoints_topic else None)
            out = OutputBag(opts.out, storage=opts.storage, split_s=opts.split_s)
        except BaseException:
            self.bag.close()
            raise
        complete, error = False, ""
        writer = _Writer(out)
        try:
            try:
                if opts.rate > 0:
                    self._run_paced(writer)
                else:
                    self._run_fast(writer)
                complete = not self.bag.damage
                if self.bag.damage:
                    error = (
                        "the input bag is damaged; everything intact was replayed: "
                        + "; ".join(str(d) for d in self.bag.damage[:10])
                        + (f" (and {len(self.bag.damage) - 10} more)" if len(self.bag.damage) > 10 else "")
                    )
            except BagError as e:
                error = str(e)
            finally:
                if self.frames and self.pipeline is not None:
                    try:
                        self._diagnostics(max(f.arrival_ns for f in self.frames), writer, force=True)
                    except Exception:  # noqa: BLE001 - never lose the bag over a last status
                        pass
        finally:
            out.close()
            self.bag.close()
            for rec in self.frames:
                if rec.stamp_ns in self.gt:
                    rec.gt_joints = self.gt[rec.stamp_ns]
                rec.gt_camera = self.gt_camera.get(rec.stamp_ns)
            from .report import write_report

            meta = {
                "input_bag": str(opts.bag),
                "output_bag": str(opts.out),
                "storage": opts.storage,
                "mode": "fast" if opts.rate <= 0 else f"paced at {opts.rate}x the recorded rate",
                "source_topic": self.source_topic,
                "camera_info_topic": self.info_topic,
                "ground_truth_topic": self.gt_topic,
                "params_file": str(opts.params_file or "config/lift.yaml"),
                "overrides": opts.overrides,
                "model": str(self.values["model_file_path"]),
                "backend": self.pipeline.backend if self.pipeline else "",
                "complete": complete,
                "frames_with_fallback_intrinsics": self.counts.get("intrinsics_fallback", 0),
                "people_dropped_nonfinite": self.counts.get("people_dropped_nonfinite", 0),
            }
            if writer.skipped:
                meta["topics_not_copied"] = writer.skipped
            if self.bag.damage:
                meta["input_damage"] = [str(d) for d in self.bag.damage]
            if self.bag.notes:
                meta["input_notes"] = list(self.bag.notes)
            if error:
                meta["stopped_by"] = error
            report = write_report(self.frames, report_dir, meta, with_plots=opts.plots)
        return ReplayResult(self.frames, report, opts.out, report_dir, complete, error, self.image_topic)

    def _messages(self):
        n = 0
        for raw in self.bag.messages():
            if raw.topic == self.source_topic:
                if self.opts.max_frames is not None and n >= self.opts.max_frames:
                    return
                n += 1
            yield raw

    def _run_fast(self, writer: _Writer) -> None:
        index = 0
        for raw in self._messages():
            writer.raw(raw)
            if raw.topic == self.source_topic:
                self.counts["received"] += 1
                self.in_times.append(time.monotonic())
                self._process(raw, index, time.monotonic(), writer)
                index += 1
                if index % 50 == 0:
                    self.log(f"hpe3d replay: {index} frames")
            else:
                self._side_message(raw)

    def _run_paced(self, writer: _Writer) -> None:
        rate = self.opts.rate
        cond = threading.Condition()
        state: dict[str, Any] = {"slot": None, "done": False}

        def work() -> None:
            while True:
                with cond:
                    while state["slot"] is None and not state["done"]:
                        cond.wait(0.1)
                    item, state["slot"] = state["slot"], None
                    if item is None and state["done"]:
                        return
                if item is not None:
                    try:
                        self._process(*item, writer)
                    except Exception as e:  # noqa: BLE001 - like the node's worker: count and go on
                        self._error(item[1], item[0].timestamp, item[0].timestamp, type(e).__name__, str(e))

        worker = threading.Thread(target=work, name="replay_worker", daemon=True)
        worker.start()
        index = 0
        t_wall0 = time.monotonic()
        t_bag0 = None
        try:
            for raw in self._messages():
                if t_bag0 is None:
                    t_bag0 = raw.timestamp
                due = t_wall0 + (raw.timestamp - t_bag0) * 1e-9 / rate
                delay = due - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                writer.raw(raw)
                if raw.topic == self.source_topic:
                    self.counts["received"] += 1
                    self.in_times.append(time.monotonic())
                    with cond:
                        if state["slot"] is not None:
                            old = state["slot"]
                            self.counts["dropped"] += 1
                            self.frames.append(
                                FrameRecord(old[1], old[0].timestamp, old[0].timestamp, status="dropped")
                            )
                        state["slot"] = (raw, index, time.monotonic())
                        cond.notify()
                    index += 1
                else:
                    with cond:  # CameraInfo / ground truth: applied in arrival order
                        self._side_message(raw)
        finally:
            with cond:
                state["done"] = True
                cond.notify()
            worker.join(timeout=120.0)
        # a dropped frame is never deserialised: its record's stamp is its bag time
        self.frames.sort(key=lambda f: (f.arrival_ns, f.index))


def replay(opts: ReplayOptions, log: Callable[[str], None] | None = None) -> ReplayResult:
    """Run one replay (see the module docstring)."""
    return Replayer(opts, log).run()


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of `hpe3d replay`."""
    p.add_argument("--bag", required=True, help="input bag directory (mcap or sqlite3)")
    p.add_argument("--out", required=True, help="output bag directory (must not exist)")
    p.add_argument("--report", help="report directory (default: <out>-report)")
    p.add_argument("--image-topic", help="sensor_msgs/Image or CompressedImage topic (default: the bag's only one)")
    p.add_argument("--info-topic", help="sensor_msgs/CameraInfo topic (default: the bag's only one)")
    p.add_argument(
        "--keypoints-topic",
        help=f"2D keypoint topic of a 2D-only bag (default {DEFAULT_KEYPOINTS_TOPIC} when there is no image topic)",
    )
    p.add_argument("--gt-topic", help=f"ground-truth PoseArray topic (default {DEFAULT_GT_TOPIC} when present)")
    p.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="0 (default): as fast as possible; R > 0: feed at R times the recorded rate, dropping frames that arrive "
        "while busy",
    )
    p.add_argument("--params", help="the node's parameter file (default config/lift.yaml)")
    p.add_argument("--model", help="override model_file_path")
    p.add_argument("--set", action="append", metavar="NAME=VALUE", help="override one node parameter (repeatable)")
    p.add_argument("--storage", choices=("mcap", "sqlite3"), default="mcap", help="output bag storage")
    p.add_argument(
        "--split-s",
        type=float,
        default=DEFAULT_SPLIT_S,
        help=f"close the output bag's current file after this many seconds (default {DEFAULT_SPLIT_S}): "
        "a replay killed at any point loses at most that much",
    )
    p.add_argument("--max-frames", type=int, help="stop after this many input frames")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    p.add_argument(
        "--render", metavar="VIDEO.mp4", help="also write a video of the frames with the skeletons beside a 3D view"
    )


def options_from_args(args: argparse.Namespace) -> ReplayOptions:
    """ReplayOptions from parsed arguments."""
    from .node_params import parse_overrides

    overrides = parse_overrides(args.set)
    if args.model:
        overrides["model_file_path"] = args.model
    if args.rate < 0:
        raise ValueError(f"--rate must be 0 (as fast as possible) or positive, got {args.rate}")
    if not args.split_s > 0:
        raise ValueError(f"--split-s must be positive, got {args.split_s}")
    return ReplayOptions(
        bag=Path(args.bag),
        out=Path(args.out),
        report_dir=Path(args.report) if args.report else None,
        image_topic=args.image_topic,
        info_topic=args.info_topic,
        keypoints_topic=args.keypoints_topic,
        gt_topic=args.gt_topic,
        rate=float(args.rate),
        params_file=Path(args.params) if args.params else None,
        overrides=overrides,
        storage=args.storage,
        max_frames=args.max_frames,
        plots=not args.no_plots,
        split_s=float(args.split_s),
    )


def run(args: argparse.Namespace) -> int:
    """Entry point of `hpe3d replay`."""
    import signal

    from ..calibration import CalibrationError
    from ..video import VideoError

    def on_term(signum, frame):  # noqa: ARG001 - SIGTERM (e.g. `timeout`) stops like Ctrl-C: the output bag is closed
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:  # started in the background by a shell: still stop on SIGINT
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        result = replay(options_from_args(args))
    except (BagError, VideoError, CalibrationError, ReplayError) as e:
        print(f"hpe3d replay: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"hpe3d replay: interrupted; {args.out} holds what was processed so far", file=sys.stderr)
        return 130
    if getattr(args, "render", None) and result.image_topic_used:
        from .render import render_bag

        info = render_bag(result.out, args.render)
        print(f"rendered {info['frames']} frames to {info['video']}")
    fr = result.report.get("frames", {})
    print(
        f"replayed {fr.get('in', 0)} frames ({fr.get('processed', 0)} processed, {fr.get('dropped', 0)} dropped, "
        f"{fr.get('errors', 0)} errors) into {result.out}; report: {result.report_dir / 'report.md'}"
    )
    if not result.complete:
        print(
            f"hpe3d replay: error: {'stopped early: ' if 'damaged' not in result.error else ''}{result.error}",
            file=sys.stderr,
        )
        return 1
    return 0
