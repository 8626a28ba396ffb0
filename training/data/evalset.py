"""Deterministic evaluation sets: the same 2D input for every model.

``load_eval_set("val" | "test")``: every ``EVAL_SUBSAMPLE``-th frame of each clip of the split,
rendered once through the default virtual cameras (config/cameras.yaml) with a fixed seed per
split, cached under ``cache_dir()/evalsets``. ``load_eval_set("fixture")``: a bundled subset of the
test set (hpe3d_ros/data/eval_fixture.npz) that works without ../shared. ``noise='detector'`` adds
the realistic 2D error of the fitted detector error model (training.data.error_model, the seed of
config/crossdata.yaml), ``noise='mild'`` the earlier mild jitter (training.data.render.detector_noise:
3 px at 200 px, 2 % dropped joints); both seeded, so noisy sets are deterministic too.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from hpe3d_ros import paths, skeleton
from hpe3d_ros.poses_io import save_npz_atomic

from . import mocap, render

EVAL_VERSION = 1
EVAL_SUBSAMPLE = 10
SEEDS = {"val": 1001, "test": 2002}
NOISE_SEED = 3003
FIXTURE_SIZE = 3000
FIXTURE_SEED = 4004
EVAL_SPLITS = ("val", "test", "fixture")
KEYS = ("keypoints", "intrinsics", "scores", "joints3d", "elevation", "content", "clip")


def fixture_path() -> Path:
    """The bundled fixture hpe3d_ros/data/eval_fixture.npz."""
    return paths.package_data_dir() / "eval_fixture.npz"


def _cache_key(split: str, data: mocap.MocapData, settings: dict) -> str:
    cams = settings["cameras"]
    blob = json.dumps(
        {
            "v": EVAL_VERSION, "split": split, "sub": EVAL_SUBSAMPLE, "seed": SEEDS[split],
            "cams": {k: getattr(cams, k) for k in cams.__dataclass_fields__}, "render": settings["render"],
            "clips": [c["name"] for c in data.clips], "n": len(data), "layout": skeleton.layout_hash(),
            "sum": float(np.float64(data.joints[:, :, 2].sum())),
        },
        sort_keys=True, default=str,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def _build(split: str, data_root=None, cache=None) -> dict:
    data = mocap.load_split(split, subsample=EVAL_SUBSAMPLE, data_root=data_root, cache=cache)
    settings = render.load_camera_settings()
    base = Path(cache) if cache else paths.cache_dir()
    path = base / "evalsets" / f"{split}-{_cache_key(split, data, settings)}.npz"
    if path.is_file():
        try:
            return _read(path)
        except ValueError:
            path.unlink(missing_ok=True)  # a corrupt cache entry is rebuilt
    r = render.render(data.joints, settings["cameras"], seed=SEEDS[split], **settings["render"])
    clips = data.clips
    out = {
        "keypoints": r["keypoints"],
        "intrinsics": r["intrinsics"],
        "scores": np.ones(r["keypoints"].shape[:2], dtype=np.float32),
        "joints3d": r["joints_cam"],
        "elevation": r["elevation"],
        "azimuth": r["azimuth"],
        "content": np.array([c["content"] for c in clips])[data.clip],
        "style": np.array([c["style"] for c in clips])[data.clip],
        "clip": np.array([c["name"] for c in clips])[data.clip],
        "frame": data.frame.astype(np.int32),
    }
    _write(path, out)
    return out


def _write(path: Path, d: dict) -> Path:
    """Store string columns as an index into their unique values (small files)."""
    arrays = {}
    for k, v in d.items():
        v = np.asarray(v)
        if v.dtype.kind == "U":
            names, idx = np.unique(v, return_inverse=True)
            arrays[f"{k}__names"] = names
            arrays[f"{k}__index"] = idx.astype(np.int32)
        else:
            arrays[k] = v
    return save_npz_atomic(path, **arrays)


def _read(path: Path) -> dict:
    try:
        with np.load(path, allow_pickle=False) as f:
            raw = {k: f[k] for k in f.files}
    except Exception as e:
        raise ValueError(f"{path}: unreadable evaluation set ({type(e).__name__}: {e})") from e
    out = {}
    for k, v in raw.items():
        if k.endswith("__index"):
            name = k[: -len("__index")]
            if f"{name}__names" not in raw:
                raise ValueError(f"{path}: '{k}' without '{name}__names'")
            out[name] = raw[f"{name}__names"][v]
        elif not k.endswith("__names"):
            out[k] = v
    missing = [k for k in KEYS if k not in out]
    if missing:
        raise ValueError(f"{path}: evaluation set lacks {missing}")
    n = out["keypoints"].shape[0]
    shapes = {"keypoints": (n, skeleton.NUM_JOINTS, 2), "intrinsics": (n, 3, 3), "scores": (n, skeleton.NUM_JOINTS),
              "joints3d": (n, skeleton.NUM_JOINTS, 3), "elevation": (n,), "content": (n,), "clip": (n,)}
    for k, s in shapes.items():
        if out[k].shape != s:
            raise ValueError(f"{path}: '{k}' has shape {out[k].shape}, expected {s}")
    return out


NOISE_KINDS = (None, "mild", "detector")


def load_eval_set(split: str, noise: str | None = None, data_root=None, cache=None) -> dict:
    """The evaluation set of ``split`` ('val', 'test' or 'fixture'), with ``noise`` (None, 'mild',
    'detector') on its 2D.

    Keys: keypoints (N,16,2) px, intrinsics (N,3,3), scores (N,16), joints3d (N,16,3) camera-frame
    metres, elevation (N,) rad, content (N,) str, clip (N,) str; plus azimuth, style, frame; with noise
    also ``person_px`` (the clean keypoints' extent, for size bins).
    """
    if split not in EVAL_SPLITS:
        raise ValueError(f"unknown evaluation split {split!r}; expected one of {EVAL_SPLITS}")
    if noise not in NOISE_KINDS:
        raise ValueError(f"unknown noise {noise!r}; expected one of {NOISE_KINDS}")
    if split == "fixture":
        p = fixture_path()
        if not p.is_file():
            raise FileNotFoundError(f"{p}: bundled evaluation fixture missing; rebuild it with `hpe3d ingest "
                                    "--make-fixture`")
        d = _read(p)
    else:
        d = _build(split, data_root, cache)
    d = dict(d)
    if noise:
        d["person_px"] = (d["keypoints"].max(1) - d["keypoints"].min(1)).max(-1).astype(np.float32)
    if noise == "detector":
        from .crossdata import add_noise

        d = add_noise(d)
    elif noise == "mild":
        settings = render.load_camera_settings()
        rng = np.random.default_rng(NOISE_SEED)
        d["keypoints"], d["scores"] = render.detector_noise(
            d["keypoints"], d["scores"], rng, **settings["detector_noise"]
        )
    return d


def make_fixture(out: str | Path | None = None, data_root=None, cache=None, size: int = FIXTURE_SIZE) -> Path:
    """Write ``size`` poses drawn (seeded) from the test evaluation set to the bundled fixture."""
    d = _build("test", data_root, cache)
    n = d["keypoints"].shape[0]
    rng = np.random.default_rng(FIXTURE_SEED)
    idx = np.sort(rng.choice(n, size=min(size, n), replace=False))
    sub = {k: np.asarray(v)[idx] for k, v in d.items()}
    return _write(Path(out) if out else fixture_path(), sub)
