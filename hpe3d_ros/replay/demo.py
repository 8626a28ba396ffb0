"""`hpe3d demo`: the bundled pedestrian clip through the real ROS 2 graph, then a video and a report.

Three processes on an isolated ROS domain (localhost only): a camera node playing
hpe3d_ros/data/vtest-10s.mp4 with CameraInfo (``replay.camera_node``), lift_node with
config/lift.yaml, and a recorder writing the camera topics and the node's outputs into a bag
(``replay.recorder``). When the clip has played, the node and the recorder are stopped and the demo
leaves in ``--out``: ``bag/`` (the recording), ``demo.mp4`` and ``preview.png`` (the frames with the
skeletons beside a 3D view), ``report/`` (report.md, report.json, plots) and ``logs/``.

The clip is a static camera, so lift_node takes the camera's elevation from the people it sees
(``elevation.from_people``, docs/placement.md; the lifter's running estimate until they determine
it); ``--moving-camera`` keeps the lifter's for a clip from a camera that moves or tilts.

Every path the user gives (``--out``, ``--video``, ``--model``, ``--params``) is relative to the
user's working directory; they are made absolute before the child processes start, and the children
run inside ``--out`` (never in the installed share directory), so nothing is written into the install.
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from .. import paths

SAMPLE_CLIP = "vtest-10s.mp4"
IMAGE_TOPIC = "/camera/image_raw"
INFO_TOPIC = "/camera/camera_info"
CAMERA_TOPICS = ((IMAGE_TOPIC, "sensor_msgs/msg/Image"), (INFO_TOPIC, "sensor_msgs/msg/CameraInfo"))


def recorded_topics(values: dict) -> list[tuple[str, str]]:
    """(topic, type) the demo records: the camera's and every output of the node (node.outputs.OUTPUTS)
    for its parameter ``values``."""
    from ..node.outputs import OUTPUTS, output_topics

    names = output_topics(values)
    return list(CAMERA_TOPICS) + [(names[o.key], o.msgtype) for o in OUTPUTS]


def sample_clip() -> Path:
    """The bundled sample clip (Apache-2.0, see hpe3d_ros/data/NOTICE.md)."""
    return paths.package_data_dir() / SAMPLE_CLIP


def default_model(params_file: Path) -> Path:
    """The params file's model_file_path when it exists, else the only/first engines/*.onnx with a manifest."""
    from ..pipeline import resolve_model_path
    from .node_params import load_node_params

    configured = resolve_model_path(load_node_params(params_file)["model_file_path"])
    if configured.is_file():
        return configured
    engines = paths.share_dir() / "engines"
    found = sorted(p for p in engines.glob("*.onnx") if p.with_suffix(".json").is_file()) if engines.is_dir() else []
    if not found:
        raise FileNotFoundError(
            f"no lifter model: {configured} does not exist and {engines} holds no .onnx with its .json manifest; "
            "export one (hpe3d export) or pass --model"
        )
    return found[0]


def domains_in_use() -> set[int]:
    """ROS_DOMAIN_IDs of the processes this user can see (Linux /proc; empty elsewhere)."""
    used: set[int] = set()
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            for item in environ.read_bytes().split(b"\0"):
                if item.startswith(b"ROS_DOMAIN_ID="):
                    used.add(int(item.split(b"=", 1)[1] or 0))
        except (OSError, ValueError):
            continue
    return used


def free_domain_id() -> int:
    """A random ROS domain id in 1..101 (the range safe from ephemeral-port clashes on Linux) that no visible
    process uses, so parallel demos and tests do not discover each other."""
    rng = random.SystemRandom()
    used = domains_in_use()
    free = [d for d in range(1, 102) if d not in used]
    return rng.choice(free) if free else rng.randint(1, 101)


def ros_env(log_dir: Path, domain_id: int | None = None) -> dict[str, str]:
    """An isolated ROS environment for the demo's processes (own domain, localhost discovery, own logs)."""
    env = dict(os.environ)
    env.update({
        "ROS_DOMAIN_ID": str(domain_id if domain_id is not None else free_domain_id()),
        "ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST",
        "ROS_LOG_DIR": str(log_dir),
        "RCUTILS_COLORIZED_OUTPUT": "0",
        "PYTHONUNBUFFERED": "1",
    })
    root = paths.repo_root()
    if root is not None:
        env["PYTHONPATH"] = str(root) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def _last_line(log: Path) -> str:
    """The last error-looking line of a process log (or its last line)."""
    try:
        lines = [ln.strip() for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    errors = [ln for ln in lines if "error" in ln.lower()]
    return (errors or lines or [""])[-1][-300:]


def _stop(proc: subprocess.Popen, timeout: float = 20.0) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
    return proc.returncode


def run_graph(out: Path, video: Path, model: Path, params_file: Path, fps: float | None, hfov: float,
              timeout: float, log=print, static_camera: bool = True) -> Path:
    """Camera node, lift_node and recorder as processes; returns the recorded bag. Every path is made
    absolute first (the children run with ``out`` as their working directory)."""
    out, video, model, params_file = (Path(p).resolve() for p in (out, video, model, params_file))
    bag = out / "bag"
    logs = out / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    env = ros_env(logs / "ros")
    py = sys.executable
    procs: dict[str, subprocess.Popen] = {}
    files = []

    def start(name: str, cmd: list[str]) -> subprocess.Popen:
        fh = open(logs / f"{name}.log", "w")
        files.append(fh)
        # The children run in the output directory: whatever they might write lands there, never in the install.
        procs[name] = subprocess.Popen(cmd, env=env, stdout=fh, stderr=subprocess.STDOUT, cwd=str(out))
        return procs[name]

    try:
        from .node_params import load_node_params

        recorded = recorded_topics(load_node_params(params_file))
        start("recorder", [py, "-m", "hpe3d_ros.replay.recorder", "--out", str(bag)]
              + [a for n, t in recorded for a in ("--topic", f"{n}:{t}")])
        start("lift_node", [py, "-m", "hpe3d_ros.node.lift_node", "--ros-args", "--params-file", str(params_file),
                            "-p", f"image_topic:={IMAGE_TOPIC}", "-p", f"camera_info_topic:={INFO_TOPIC}",
                            "-p", f"model_file_path:={model}",
                            "-p", f"elevation.from_people:={'true' if static_camera else 'false'}"])
        cam_cmd = [py, "-m", "hpe3d_ros.replay.camera_node", "--video", str(video), "--hfov", str(hfov),
                   "--image-topic", IMAGE_TOPIC, "--info-topic", INFO_TOPIC, "--wait-subscribers", "2",
                   "--wait-timeout", str(timeout)]
        if fps:
            cam_cmd += ["--fps", str(fps)]
        cam = start("camera", cam_cmd)
        log("demo: started the recorder, lift_node and the camera node; waiting for lift_node to load its models ...")
        end = time.monotonic() + timeout + 120
        while cam.poll() is None:
            for name in ("lift_node", "recorder"):
                if procs[name].poll() is not None:
                    raise RuntimeError(
                        f"{name} exited with code {procs[name].returncode}: {_last_line(logs / (name + '.log'))} "
                        f"(see {logs / (name + '.log')})"
                    )
            if time.monotonic() > end:
                raise RuntimeError(f"the camera node did not finish in time (see {logs / 'camera.log'})")
            time.sleep(0.2)
        if cam.returncode != 0:
            raise RuntimeError(
                f"the camera node failed with code {cam.returncode}: {_last_line(logs / 'camera.log')} "
                f"(see {logs / 'camera.log'})"
            )
        time.sleep(2.0)  # the last frames' outputs and one more /diagnostics
    finally:
        for name in ("camera", "lift_node", "recorder"):
            if name in procs:
                _stop(procs[name])
        for fh in files:
            fh.close()
    if not (bag / "metadata.yaml").is_file():
        raise RuntimeError(f"the recorder left no valid bag at {bag} (see {logs / 'recorder.log'})")
    return bag


def demo(
    out: Path,
    video: Path | None = None,
    model: Path | None = None,
    params_file: Path | None = None,
    fps: float | None = None,
    hfov: float = 70.0,
    timeout: float = 120.0,
    log=print,
    static_camera: bool = True,
) -> dict:
    """Run the demo into ``out`` (see the module docstring); returns the paths it wrote."""
    from ..node.outputs import output_topics
    from .bag_frames import read_recorded
    from .node_params import default_params_file, load_node_params
    from .render import render_bag
    from .report import write_report

    out = Path(out).resolve()  # relative paths are the user's: resolved here, before any child process starts
    params_file = Path(params_file).resolve() if params_file else default_params_file()
    video = Path(video).resolve() if video else sample_clip()
    if not video.is_file():
        raise FileNotFoundError(f"{video}: no such video")
    model = Path(model).resolve() if model else default_model(params_file)
    if not model.is_file():
        raise FileNotFoundError(f"{model}: no such model file")
    if out.exists():
        if not out.is_dir() or any(
            p.name not in ("bag", "demo.mp4", "preview.png", "report", "logs") for p in out.iterdir()
        ):
            raise FileExistsError(f"{out}: exists and is not a previous demo output; choose another --out")
        for p in out.iterdir():
            shutil.rmtree(p) if p.is_dir() else p.unlink()
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    bag = run_graph(out, video, model, params_file, fps, hfov, timeout, log, static_camera)
    t_graph = time.monotonic() - t0
    log(f"demo: recorded {bag} in {t_graph:.0f} s; rendering the video and the report ...")
    recorded = read_recorded(bag, IMAGE_TOPIC, output_topics(load_node_params(params_file))["skeletons"], INFO_TOPIC)
    video_info = render_bag(bag, out / "demo.mp4", out / "preview.png", recorded)
    meta = {
        "mode": "live ROS 2 graph (camera node -> lift_node -> recorder)",
        "video": str(video),
        "output_bag": str(bag),
        "params_file": str(params_file),
        "model": str(model),
        "camera elevation": "from the people (a static camera)" if static_camera else "the lifter's",
        "backend": recorded.node_diagnostics.get("backend", ""),
        "latency": "end to end = recorder receive time of the skeletons - camera stamp of the image",
    }
    report = write_report(recorded.frames, out / "report", meta, node_diagnostics=recorded.node_diagnostics)
    return {
        "bag": str(bag),
        "video": video_info["video"],
        "preview": video_info["preview"],
        "report": str(out / "report" / "report.md"),
        "frames": report["frames"],
        "seconds": time.monotonic() - t0,
    }


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of `hpe3d demo`."""
    p.add_argument("--out", default="out/demo", help="output directory (default ./out/demo)")
    p.add_argument("--video", help="another clip instead of the bundled sample")
    p.add_argument("--model", help="lifter model (default: config/lift.yaml's model_file_path, else engines/*.onnx)")
    p.add_argument("--params", help="lift_node parameter file (default config/lift.yaml)")
    p.add_argument("--fps", type=float, help="camera rate (default: the clip's, 10 fps for the sample)")
    p.add_argument("--hfov", type=float, default=70.0, help="the camera's horizontal field of view in degrees")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for lift_node to start")
    p.add_argument("--moving-camera", action="store_true",
                   help="the clip's camera moves or tilts: keep the lifter's elevation (default: a static camera, "
                        "whose elevation the people give, docs/placement.md)")


def run(args: argparse.Namespace) -> int:
    """Entry point of `hpe3d demo`."""
    from .bag_io import BagError

    try:
        r = demo(
            Path(args.out),
            Path(args.video) if args.video else None,
            Path(args.model) if args.model else None,
            Path(args.params) if args.params else None,
            args.fps,
            args.hfov,
            args.timeout,
            static_camera=not args.moving_camera,
        )
    except (RuntimeError, BagError, FileExistsError) as e:
        print(f"hpe3d demo: error: {e}", file=sys.stderr)
        return 1
    fr = r["frames"]
    print(
        f"demo finished in {r['seconds']:.0f} s: {fr.get('in', 0)} frames in, {fr.get('processed', 0)} with skeletons, "
        f"{fr.get('dropped', 0)} dropped by the node while busy"
    )
    print(f"  output bag: {r['bag']}")
    print(f"  video:      {r['video']}")
    print(f"  preview:    {r['preview']}")
    print(f"  report:     {r['report']}")
    return 0
