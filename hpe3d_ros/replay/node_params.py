"""lift_node's parameters outside ROS: read the node's parameter file (config/lift.yaml) the way
``--ros-args --params-file`` does, so the replay runs with exactly the node's settings.

The file holds ``<node name or /**>: ros__parameters: {...}``; nested mappings (``detector:``) become
dotted names (``detector.max_people``), as ROS 2 flattens them. Every name must be a parameter of
``hpe3d_ros.node.params.PARAMS``; values are checked against the node's ranges and choices.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .. import paths
from ..node.params import NODE_NAME, PARAM_BY_NAME, PARAMS, pipeline_params


def default_params_file() -> Path:
    """config/lift.yaml of the checkout or the installed share directory."""
    return paths.share_dir() / "config" / "lift.yaml"


def _flatten(d: dict, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        name = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, name + "."))
        else:
            out[name] = v
    return out


def check_value(name: str, value: Any, where: str) -> Any:
    """``value`` for parameter ``name`` converted to the node's type; ValueError naming ``where`` if bad."""
    spec = PARAM_BY_NAME.get(name)
    if spec is None:
        raise ValueError(f"{where}: unknown lift_node parameter {name!r}")
    d = spec.default
    try:
        if isinstance(d, bool):
            if isinstance(value, str):
                if value.lower() not in ("true", "false"):
                    raise TypeError
                value = value.lower() == "true"
            elif not isinstance(value, bool):
                raise TypeError
        elif isinstance(d, int):
            if isinstance(value, bool) or float(value) != int(float(value)):
                raise TypeError
            value = int(float(value))
        elif isinstance(d, float):
            if isinstance(value, bool):
                raise TypeError
            value = float(value)
        else:
            value = str(value)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: parameter {name} = {value!r} is not a {type(d).__name__}") from None
    if spec.choices and value not in spec.choices:
        raise ValueError(f"{where}: parameter {name} = {value!r}; expected one of {', '.join(spec.choices)}")
    if spec.low is not None and not (spec.low <= value <= spec.high):
        raise ValueError(f"{where}: parameter {name} = {value!r}; expected a value in [{spec.low}, {spec.high}]")
    return value


def load_node_params(path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Every lift_node parameter: the node's defaults, then the file's values, then ``overrides``."""
    path = Path(path) if path else default_params_file()
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such parameter file")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        raise ValueError(f"{path}: not valid YAML ({e})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected '<node>: ros__parameters: ...', got {type(data).__name__}")
    values = {p.name: p.default for p in PARAMS}
    found = False
    for node, section in data.items():
        if str(node).lstrip("/") not in ("**", NODE_NAME):
            continue
        if not isinstance(section, dict) or not isinstance(section.get("ros__parameters"), dict):
            raise ValueError(f"{path}: section {node!r} lacks a 'ros__parameters' mapping")
        found = True
        for name, value in _flatten(section["ros__parameters"]).items():
            values[name] = check_value(name, value, str(path))
    if not found:
        raise ValueError(f"{path}: no '/**' or '{NODE_NAME}' section with ros__parameters")
    for name, value in (overrides or {}).items():
        values[name] = check_value(name, value, "--set")
    return values


def parse_overrides(items: list[str] | None) -> dict[str, Any]:
    """``["name=value", ...]`` (YAML values) to a dict; ValueError for an item without '='."""
    out: dict[str, Any] = {}
    for item in items or []:
        if "=" not in item:
            raise ValueError(f"--set {item!r}: expected name=value")
        name, _, text = item.partition("=")
        out[name.strip()] = yaml.safe_load(text)
    return out


def replay_pipeline_params(values: dict[str, Any]) -> dict[str, Any]:
    """The PosePipeline parameters the node would build from ``values`` (the node's own mapping)."""
    return pipeline_params(values)
