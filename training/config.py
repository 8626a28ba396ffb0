"""Training configuration files (config/train/<family>/*.yaml): loading, ``base:`` inheritance,
``--set`` overrides, validation.

A config is a YAML mapping with the generic keys of ``TRAINER_DEFAULTS`` plus whatever the method
declares in its ``defaults`` (see training.methods). Every key the user writes must be known:
a typo stops the run with an error naming the file and the key. A file may start from another with
``base: other.yaml`` and state only what differs (``read_config_file``); the order is: method
defaults < the base chain (outermost first) < the file < ``--set`` overrides.
"""
from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import yaml


class _Loader(yaml.SafeLoader):
    """YAML 1.1 reads ``1e-4`` as a string; this loader reads it as the float everyone means."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def yaml_load(text: str):
    """Parse YAML with ``_Loader``."""
    return yaml.load(text, Loader=_Loader)


class ConfigError(ValueError):
    """A training config is missing, malformed or names an unknown key."""


# Generic keys every run has; ``data`` and ``val`` are checked against these sub-keys too.
TRAINER_DEFAULTS: dict[str, Any] = {
    "method": None,  # registered method name (required)
    "description": "",
    "seed": 0,
    "device": "auto",  # auto (CUDA when present, else CPU), cpu, cuda, cuda:N
    "epochs": 10,
    "batch_size": 1024,
    "out_dir": None,  # default: runs/<config file stem>
    "select_by": "auto",  # best checkpoint by: auto, selection_score, or a validation metric key (lower is better)
    "log_every": 20,  # optimisation steps between TensorBoard scalars
    "keep_epoch_checkpoints": False,  # also keep epoch_NNN.pt (model selection studies)
    "progress": True,  # tqdm progress bar
    "data": {
        "source": "mocap",  # mocap (training.data.mocap split), synthetic (procedural poses), poses2d (a 2D .npz file)
        "split": "train",
        "subsample": 1,  # keep every k-th frame of each clip
        "max_poses": None,  # cap on the number of 3D poses (evenly spaced), None = all
        "views_per_pose": 1,  # virtual cameras per pose per epoch
        "resample_cameras": None,  # new cameras every epoch; None = only for methods that need 3D
        "cameras": {},  # hpe3d_ros.camera.VirtualCameraConfig settings
        # 2D error: mild jitter (pixels at 200 px; dropped joints) and/or the fitted detector error model
        # (model: detector | a JSON path; on a share `fraction` of the poses; training.data.error_model)
        "noise": {"jitter_px": 0.0, "drop_prob": 0.0, "model": None, "fraction": 1.0},
        # many bodies: this share of the mocap frames played by sampled anthropometric bodies (training.data.bodies)
        "bodies": {"fraction": 0.0, "seed": 0},
        # HDM05 training actors appended to the train split (CC BY-SA 3.0; never the cross-dataset test actors)
        "hdm05": {"actors": [], "subsample": 4, "repeat": 1},
        "joint_defs": {},  # joint-definition augmentation (training.data.joint_defs.JointDefinitions), {} = off
        "pose_aug": {},  # pose-diversity augmentation of the train split (training.data.pose_aug), {} = off
        "synthetic_poses": 20000,  # number of poses for source: synthetic
        "path": None,  # the .npz for source: poses2d
    },
    "val": {
        "source": "auto",  # auto (evalset 'val' when available, else rendered like data), evalset, rendered, none
        "split": "val",
        "max_poses": 4096,
        "every": 1,  # validate every N epochs (and always after the last)
        "seed": 12345,
    },
    "model": {},
    "optim": {},
}

_FREE_FORM = ("cameras",)


def _check_known(user: dict, known: dict, where: str, prefix: str = "") -> None:
    """Every key of ``user`` must be in ``known``; recurse into non-empty default mappings
    (an empty default mapping, and ``cameras``, are free-form: their owner validates them)."""
    for key, value in user.items():
        if key not in known:
            raise ConfigError(
                f"{where}: unknown key {prefix + str(key)!r} (known at this level: {sorted(map(str, known))})"
            )
        if isinstance(known[key], dict) and known[key] and key not in _FREE_FORM:
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: {prefix + key!r} must be a mapping, got {type(value).__name__}")
            _check_known(value, known[key], where, prefix + key + ".")


def deep_merge(base: dict, override: dict) -> dict:
    """A copy of ``base`` with ``override`` merged in recursively (mappings merge, anything else replaces)."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def parse_override(text: str) -> tuple[list[str], Any]:
    """``"optim.lr=1e-3"`` -> (["optim", "lr"], 0.001); the value is parsed as YAML."""
    if "=" not in text:
        raise ConfigError(f"--set {text!r}: expected key.sub=value")
    key, raw = text.split("=", 1)
    parts = [p for p in key.strip().split(".")]
    if not all(parts):
        raise ConfigError(f"--set {text!r}: empty key component")
    try:
        value = yaml_load(raw) if raw.strip() else None
    except yaml.YAMLError as e:
        raise ConfigError(f"--set {text!r}: value is not valid YAML ({e})") from e
    return parts, value


def apply_overrides(config: dict, overrides: list[str] | None) -> dict:
    """Apply ``--set key.sub=value`` strings to a raw config mapping (validation happens later)."""
    out = copy.deepcopy(config)
    for text in overrides or []:
        parts, value = parse_override(text)
        node = out
        for p in parts[:-1]:
            if not isinstance(node.get(p, {}), dict):
                raise ConfigError(f"--set {text!r}: {p!r} is not a mapping")
            node = node.setdefault(p, {})
        node[parts[-1]] = value
    return out


def method_defaults(method_name: str) -> dict:
    """The defaults a registered method declares (its ``defaults`` class attribute), {} if none."""
    from training.methods import get_method

    return copy.deepcopy(getattr(get_method(method_name), "defaults", {}) or {})


def resolve_config(raw: dict, where: str = "config") -> dict:
    """Validate a raw mapping and fill in defaults (generic, then the method's)."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: a training config must be a YAML mapping, got {type(raw).__name__}")
    method = raw.get("method")
    if not method or not isinstance(method, str):
        raise ConfigError(f"{where}: missing key 'method' (a registered training method name)")
    try:
        mdef = method_defaults(method)
    except KeyError as e:
        raise ConfigError(f"{where}: {e.args[0]}") from e
    defaults = deep_merge(TRAINER_DEFAULTS, mdef)
    _check_known(raw, defaults, where)
    config = deep_merge(defaults, raw)
    for key, kind in (("epochs", int), ("batch_size", int), ("seed", int)):
        if not isinstance(config[key], int) or isinstance(config[key], bool):
            raise ConfigError(f"{where}: {key!r} must be an integer, got {config[key]!r}")
    if config["epochs"] < 1 or config["batch_size"] < 1:
        raise ConfigError(f"{where}: 'epochs' and 'batch_size' must be positive")
    if config["data"]["source"] not in ("mocap", "synthetic", "poses2d"):
        raise ConfigError(f"{where}: data.source must be mocap, synthetic or poses2d, got {config['data']['source']!r}")
    if config["val"]["source"] not in ("auto", "evalset", "rendered", "none"):
        raise ConfigError(f"{where}: val.source must be auto, evalset, rendered or none, got "
                          f"{config['val']['source']!r}")
    return config


def find_config(path: str | Path) -> Path:
    """A config path as given, or by file name under the package's config/train/<method>/."""
    p = Path(path)
    if p.is_file():
        return p
    from hpe3d_ros.paths import share_dir

    root = share_dir() / "config" / "train"
    for name in (p.name, p.name + ".yaml"):
        found = sorted(root.rglob(name)) if root.is_dir() else []
        if found:
            return found[0]
    raise FileNotFoundError(f"training config {path} not found (also looked in config/train/*/)")


def read_config_file(path: str | Path, _chain: tuple[Path, ...] = ()) -> dict:
    """The raw mapping of one config file with its ``base:`` chain merged in.

    ``base: other.yaml`` (a path relative to this file's folder) names the config this one starts
    from: the base is read the same way (recursively), then this file's keys are deep-merged over it
    (mappings merge, anything else replaces). A base's ``out_dir`` is not inherited: a run directory
    belongs to the file that names it, and a child without one gets ``runs/<its own stem>``.
    """
    p = Path(path)
    here = p.resolve()
    if here in _chain:
        cycle = " -> ".join(str(c) for c in (*_chain, here))
        raise ConfigError(f"{p}: the 'base' chain is a cycle ({cycle})")
    try:
        raw = yaml_load(p.read_text())
    except yaml.YAMLError as e:
        raise ConfigError(f"{p}: not valid YAML ({e})") from e
    if raw is None:
        raise ConfigError(f"{p}: empty config")
    if not isinstance(raw, dict):
        raise ConfigError(f"{p}: a training config must be a YAML mapping, got {type(raw).__name__}")
    base = raw.pop("base", None)
    if base is None:
        return raw
    if not isinstance(base, str) or not base.strip():
        raise ConfigError(f"{p}: 'base' must be the path of another config file, got {base!r}")
    base_path = p.parent / base
    if not base_path.is_file():
        raise ConfigError(f"{p}: base config {base!r} not found (looked for {base_path})")
    parent = read_config_file(base_path, (*_chain, here))
    parent.pop("out_dir", None)
    return deep_merge(parent, raw)


def load_config(path: str | Path, overrides: list[str] | None = None) -> dict:
    """Read a YAML training config (with its ``base:`` chain), apply ``--set`` overrides, validate,
    fill defaults.

    The result carries ``_config_path`` and ``_config_name`` (the file stem) for logs and manifests.
    """
    p = find_config(path)
    raw = apply_overrides(read_config_file(p), overrides)
    config = resolve_config(raw, str(p))
    config["_config_path"] = str(p)
    config["_config_name"] = p.stem
    if not config["out_dir"]:
        config["out_dir"] = str(Path("runs") / p.stem)
    return config
