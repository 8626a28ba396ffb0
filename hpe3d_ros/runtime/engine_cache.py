"""The TensorRT engine cache: where engines live, what they are keyed by, when to rebuild.

A serialized TensorRT engine only runs on the TensorRT version and GPU model that built it, and
only means something for the ONNX model it was built from. So every engine file has a JSON sidecar
(``<engine>.json``) holding its key: TensorRT version, GPU name, the ONNX model's sha256 and the
build settings (batch profile, FP16), plus the engine's own sha256. On load the key is recomputed
and compared; any mismatch, a missing or corrupt sidecar or engine, or ``force_engine_update``
means a rebuild. Nothing here imports TensorRT, so it is tested on machines without it.
"""
from __future__ import annotations

import json
from pathlib import Path

from ..atomic import atomic_write_bytes
from ..manifest import file_sha256
from ..paths import cache_dir

CACHE_FORMAT = 1
KEY_FIELDS = ("format", "tensorrt_version", "gpu_name", "model_sha256", "min_batch", "opt_batch", "max_batch", "fp16")


def default_engine_path(model_path: str | Path) -> Path:
    """``<cache>/engines/<model stem>.plan`` (the cache of ``paths.cache_dir``)."""
    return cache_dir() / "engines" / (Path(model_path).stem + ".plan")


def sidecar_path(engine_path: str | Path) -> Path:
    """``foo.plan`` -> ``foo.plan.json``."""
    p = Path(engine_path)
    return p.with_name(p.name + ".json")


def engine_cache_key(
    *,
    tensorrt_version: str,
    gpu_name: str,
    model_sha256: str,
    max_batch: int,
    opt_batch: int,
    fp16: bool,
    min_batch: int = 1,
) -> dict:
    """The key an engine must match to be reused."""
    if not (1 <= min_batch <= opt_batch <= max_batch):
        raise ValueError(f"need 1 <= min_batch <= opt_batch <= max_batch, got {min_batch}, {opt_batch}, {max_batch}")
    return {
        "format": CACHE_FORMAT,
        "tensorrt_version": str(tensorrt_version),
        "gpu_name": str(gpu_name),
        "model_sha256": str(model_sha256),
        "min_batch": int(min_batch),
        "opt_batch": int(opt_batch),
        "max_batch": int(max_batch),
        "fp16": bool(fp16),
    }


def read_sidecar(engine_path: str | Path) -> dict | None:
    """The sidecar of ``engine_path``, or None when it is missing or not a JSON object."""
    path = sidecar_path(engine_path)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def rebuild_reason(engine_path: str | Path, key: dict, force: bool = False) -> str | None:
    """Why the engine at ``engine_path`` must be (re)built for ``key``; None when it can be reused."""
    engine_path = Path(engine_path)
    if force:
        return "force_engine_update is set"
    if not engine_path.is_file():
        return f"no engine at {engine_path}"
    side = read_sidecar(engine_path)
    if side is None:
        return f"no valid sidecar at {sidecar_path(engine_path)}"
    for field in KEY_FIELDS:
        if side.get(field) != key[field]:
            return f"{field} changed: engine has {side.get(field)!r}, now {key[field]!r}"
    if side.get("engine_sha256") != file_sha256(engine_path):
        return f"{engine_path} does not match the sha256 in its sidecar (truncated or replaced)"
    return None


def write_engine(engine_path: str | Path, engine_bytes: bytes, key: dict) -> Path:
    """Write the engine, then its sidecar (both atomically; the sidecar last, so a crash in
    between leaves an engine without a valid sidecar, which is rebuilt)."""
    engine_path = Path(engine_path)
    sidecar_path(engine_path).unlink(missing_ok=True)
    atomic_write_bytes(engine_path, bytes(engine_bytes))
    side = {**key, "engine_sha256": file_sha256(engine_path), "engine_bytes": len(engine_bytes)}
    atomic_write_bytes(sidecar_path(engine_path), (json.dumps(side, indent=1) + "\n").encode())
    return engine_path
