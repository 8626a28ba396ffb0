"""lift_node's parameters: names, defaults, ranges and descriptions, without rclpy (the replay reads
the node's parameter file with them, docs/node.md's table is generated from them).

Every parameter is a field of a dataclass whose ``metadata`` holds its description and, where it
applies, its range, choices and whether it is fixed after start-up: ``NodeParams`` (the node's own
parameters) and the detector kinds' parameter dataclasses (``hpe3d_ros.detection.registry``),
declared as ``detector.<field>`` and fixed after start (the detector is built once). ``detector.kind``
picks the kind; the node declares the fields of every kind (a name two kinds share means the same
thing in both; its default is the default kind's) and passes the chosen kind's to it. Then the scene
stage's (``hpe3d_ros.scene.params``: ``camera_mount.*``, ``elevation.*``, ``placement.*``,
``tracking.*``) and the per-person topics' (``body_topics.*``, ``hpe3d_ros.node.body_topics``).
"""
from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields
from typing import Any

from ..detection.registry import DEFAULT_KIND, DETECTORS, detector_params_class
from ..metric import DEFAULT_BODY_HEIGHT_M
from ..pipeline import BACKENDS, DEFAULT_MODEL
from ..scene.params import GROUPS as SCENE_GROUPS
from ..scene.params import PREFIXES as SCENE_PREFIXES
from ..scene.params import check_scene_values
from .body_topics import BodyTopicsParams
from .image_decode import MAX_PIXELS, MAX_SIDE

NODE_NAME = "lift_node"
RELIABILITY = ("reliable", "best_effort")


def param(description: str, range: tuple | None = None, choices: tuple = (), read_only: bool = False) -> dict:
    """Field metadata of a node parameter."""
    return {"description": description, "range": range, "choices": choices, "read_only": read_only}


@dataclass(frozen=True)
class NodeParams:
    """lift_node's own parameters (config/lift.yaml sets every one of them; docs/node.md lists them)."""

    image_topic: str = field(default="image", metadata=param("sensor_msgs/Image topic to subscribe to", read_only=True))
    camera_info_topic: str = field(default="camera_info", metadata=param(
        "sensor_msgs/CameraInfo topic with the intrinsics K", read_only=True))
    use_compressed: bool = field(default=False, metadata=param(
        "subscribe to sensor_msgs/CompressedImage on <image_topic>/compressed instead of raw images", read_only=True))
    reliability: str = field(default="reliable", metadata=param(
        "image subscription reliability: 'reliable' or 'best_effort' (history depth is always 1)",
        choices=RELIABILITY, read_only=True))
    output_namespace: str = field(default="hpe3d", metadata=param(
        "prefix of the output topics <ns>/markers, <ns>/skeletons, <ns>/poses, <ns>/people", read_only=True))
    model_file_path: str = field(default=DEFAULT_MODEL, metadata=param(
        "ONNX lifter model (absolute, or relative to the package share directory); its .json manifest must sit "
        "beside it", read_only=True))
    engine_file_path: str = field(default="", metadata=param(
        "TensorRT engine cache file ('' = keyed cache in the cache directory)", read_only=True))
    force_engine_update: bool = field(default=False, metadata=param(
        "rebuild the TensorRT engine even when a valid cached one exists", read_only=True))
    backend: str = field(default="auto", metadata=param(
        "lifter backend: auto, onnxruntime, tensorrt or torch", choices=BACKENDS, read_only=True))
    lifter_threads: int = field(default=1, metadata=param(
        "ONNX Runtime intra-op threads for the lifter (0 = its default)", range=(0, 64), read_only=True))
    enable_lifting: bool = field(default=True, metadata=param(
        "False: detector only (skeletons are the 2D joints on their rays at 3 m), to measure the cost of lifting",
        read_only=True))
    body_height_m: float = field(default=DEFAULT_BODY_HEIGHT_M, metadata=param(
        "body-height prior (metres) that sets the metric scale of every skeleton", range=(0.5, 2.5)))
    fallback_hfov_deg: float = field(default=60.0, metadata=param(
        "horizontal field of view (degrees) assumed when CameraInfo is missing, uncalibrated (K all zeros) or "
        "implausible (refused)",
        range=(10.0, 170.0)))
    camera_info_timeout_s: float = field(default=2.0, metadata=param(
        "warn about a missing CameraInfo once images have arrived for this long without one", range=(0.0, 60.0)))
    default_frame_id: str = field(default="camera_optical_frame", metadata=param(
        "frame_id for outputs when the image has none", read_only=True))
    base_frame: str = field(default="", metadata=param(
        "frame (REP-103/105: x forward, y left, z up) of the per-person positions, velocities and headings, with "
        "the camera's pose in it given by camera_mount.*; '' = the image's optical frame", read_only=True))
    marker_lifetime_s: float = field(default=0.25, metadata=param(
        "lifetime of the RViz markers (seconds) so skeletons of people who left vanish", range=(0.0, 10.0)))
    max_frame_age_s: float = field(default=0.0, metadata=param(
        "skip frames whose stamp is older than this at processing start (node clock; 0 = never skip)",
        range=(0.0, 60.0)))
    diagnostics_period_s: float = field(default=1.0, metadata=param(
        "period of the /diagnostics status", range=(0.1, 60.0)))
    status_log_period_s: float = field(default=10.0, metadata=param(
        "period (seconds) of the one-line status in the node's log: frames in/out, people, latency, backend (0 = off)",
        range=(0.0, 3600.0), read_only=True))
    warn_throttle_s: float = field(default=5.0, metadata=param(
        "minimum seconds between repeated warnings of one kind", range=(0.0, 3600.0)))
    stats_window: int = field(default=300, metadata=param(
        "number of recent frames the latency percentiles are computed over", range=(10, 100000), read_only=True))
    max_image_pixels: int = field(default=MAX_PIXELS, metadata=param(
        "images (raw or compressed, by their header) with more pixels than this are refused before any copy or "
        "decoding: bounds the memory and time one message can take", range=(1, MAX_SIDE * MAX_SIDE), read_only=True))


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


def specs_from_dataclass(cls: type, prefix: str = "", read_only: bool | None = None) -> tuple[ParamSpec, ...]:
    """One ParamSpec per field of ``cls`` from its default and metadata (``description`` required;
    ``range``, ``choices``, ``read_only`` optional); ``read_only`` given here overrides the metadata."""
    specs = []
    for f in fields(cls):
        md = f.metadata
        if not md.get("description"):
            raise ValueError(f"{cls.__name__}.{f.name}: no description in the field's metadata")
        default = f.default if f.default is not MISSING else f.default_factory()  # type: ignore[misc]
        low, high = md.get("range") or (None, None)
        fixed = bool(md.get("read_only", False)) if read_only is None else read_only
        specs.append(
            ParamSpec(prefix + f.name, default, md["description"], low, high, fixed, tuple(md.get("choices", ())))
        )
    return tuple(specs)


def detector_specs() -> tuple[ParamSpec, ...]:
    """``detector.kind`` and the fields of every detector kind (the default kind's first, each name once)."""
    kinds = [DEFAULT_KIND] + sorted(k for k in DETECTORS if k != DEFAULT_KIND)
    specs = [ParamSpec("detector.kind", DEFAULT_KIND, "the 2D detector: " + "; ".join(
        f"{k}: {DETECTORS[k].description}" for k in kinds), read_only=True, choices=tuple(kinds))]
    seen = {"detector.kind"}
    for kind in kinds:
        for spec in specs_from_dataclass(detector_params_class(kind), "detector.", read_only=True):
            if spec.name not in seen:
                seen.add(spec.name)
                specs.append(spec)
    return tuple(specs)


def detector_fields(kind: str) -> dict[str, str]:
    """Field name -> parameter class name, for the fields of a detector kind."""
    cls = detector_params_class(kind)
    return {f.name: cls.__name__ for f in fields(cls)}


PARAMS: tuple[ParamSpec, ...] = (
    specs_from_dataclass(NodeParams)
    + detector_specs()
    + tuple(spec for prefix, cls in SCENE_GROUPS for spec in specs_from_dataclass(cls, prefix))
    + specs_from_dataclass(BodyTopicsParams, "body_topics.")
)
PARAM_BY_NAME = {p.name: p for p in PARAMS}
DYNAMIC = tuple(p.name for p in PARAMS if not p.read_only)


def unknown_names(names: Any) -> str:
    """"" when every name is a parameter; else the unknown ones described, with the nearest known names."""
    import difflib

    unknown = sorted(n for n in names if n not in PARAM_BY_NAME)
    if not unknown:
        return ""
    parts = []
    for n in unknown:
        near = difflib.get_close_matches(n, list(PARAM_BY_NAME), n=2)
        parts.append(f"{n!r}" + (f" (did you mean {' or '.join(repr(x) for x in near)}?)" if near else ""))
    return f"unknown parameter{'s' if len(unknown) > 1 else ''} {', '.join(parts)}; the parameters are in docs/node.md"


def check_values(values: dict[str, Any]) -> str:
    """The first value outside its choices or range, described; "" when all are fine (unknown names pass)."""
    for name, value in values.items():
        spec = PARAM_BY_NAME.get(name)
        if spec is None:
            continue
        if spec.choices and value not in spec.choices:
            return f"{name} = {value!r}; expected one of {', '.join(spec.choices)}"
        if spec.low is not None and not (spec.low <= value <= spec.high):
            return f"{name} = {value!r}; expected a value in [{spec.low}, {spec.high}]"
    return ""


def parameters_table_markdown() -> str:
    """The parameter table of docs/node.md (a test keeps the two in step). The detector's parameters
    are listed with their names, defaults and ranges; their descriptions live in docs/detection.md."""
    lines = [
        "| name | type | default | range | set at run time | description |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for p in PARAMS:
        kind = type(p.default).__name__.replace("str", "string").replace("float", "double").replace("int", "integer")
        rng = f"[{p.low}, {p.high}]" if p.low is not None else (" / ".join(p.choices) if p.choices else "")
        if isinstance(p.default, str):
            default = f'"{p.default}"'
        else:
            default = str(p.default).lower() if isinstance(p.default, bool) else str(p.default)
        desc = p.description.replace("|", "\\|")
        if p.name.startswith("detector.") and p.name != "detector.kind":  # described in docs/detection.md
            name = p.name.split(".", 1)[1]
            owners = [f"`{detector_fields(k)[name]}`" for k in DETECTORS if name in detector_fields(k)]
            desc = f"{' and '.join(owners)} field, see docs/detection.md"
        lines.append(f"| `{p.name}` | {kind} | {default} | {rng} | {'no' if p.read_only else 'yes'} | {desc} |")
    return "\n".join(lines) + "\n"


def check_combination(values: dict[str, Any]) -> str:
    """'' or what makes a complete set of parameter values contradict itself (the camera's mounting and
    ``base_frame``)."""
    return check_scene_values(values, str(values.get("base_frame", "")))


def scene_params(values: dict[str, Any]) -> dict[str, Any]:
    """The scene stage's parameters (``camera_mount.*`` ...) of the node's values."""
    return {k: v for k, v in values.items() if k.startswith(SCENE_PREFIXES)}


def detector_params(values: dict[str, Any]) -> dict[str, Any]:
    """The ``detector.*`` parameters of the chosen ``detector.kind`` as ``make_detector`` arguments
    (``kind`` and that kind's fields; the other kinds' are ignored)."""
    kind = str(values.get("detector.kind", DEFAULT_KIND))
    own = detector_fields(kind)
    return {"kind": kind} | {
        name: v for k, v in values.items() if k.startswith("detector.") and (name := k.split(".", 1)[1]) in own
    }


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
        "scene": scene_params(values),
    }
