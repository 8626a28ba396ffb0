"""TensorRT engine cache: key, sidecar, and the reuse/rebuild decision (no TensorRT needed)."""
from __future__ import annotations

import json

import pytest

from hpe3d_ros.runtime.engine_cache import (
    KEY_FIELDS,
    default_engine_path,
    engine_cache_key,
    read_sidecar,
    rebuild_reason,
    sidecar_path,
    write_engine,
)


def _key(**over):
    args = dict(
        tensorrt_version="10.3.0", gpu_name="NVIDIA H100", model_sha256="ab" * 32, max_batch=16, opt_batch=2, fp16=True
    )
    args.update(over)
    return engine_cache_key(**args)


def test_key_holds_every_field():
    key = _key()
    assert set(KEY_FIELDS) <= set(key)
    assert key["min_batch"] == 1 and key["opt_batch"] == 2 and key["max_batch"] == 16


def test_key_rejects_bad_profile():
    with pytest.raises(ValueError, match="opt_batch"):
        _key(opt_batch=32, max_batch=16)


def test_fresh_cache_builds_then_reuses(tmp_path):
    engine = tmp_path / "sub" / "lifter.plan"
    key = _key()
    assert "no engine" in rebuild_reason(engine, key)
    write_engine(engine, b"\x00engine-bytes\x01", key)
    assert engine.read_bytes() == b"\x00engine-bytes\x01"
    side = read_sidecar(engine)
    assert side["engine_bytes"] == 14 and side["gpu_name"] == "NVIDIA H100"
    assert rebuild_reason(engine, key) is None
    assert rebuild_reason(engine, key, force=True) == "force_engine_update is set"


@pytest.mark.parametrize(
    "change, field",
    [
        ({"tensorrt_version": "10.4.0"}, "tensorrt_version"),
        ({"gpu_name": "Orin"}, "gpu_name"),
        ({"model_sha256": "cd" * 32}, "model_sha256"),
        ({"max_batch": 32}, "max_batch"),
        ({"opt_batch": 1}, "opt_batch"),
        ({"fp16": False}, "fp16"),
    ],
)
def test_any_key_change_means_rebuild(tmp_path, change, field):
    engine = tmp_path / "lifter.plan"
    write_engine(engine, b"e", _key())
    reason = rebuild_reason(engine, _key(**change))
    assert reason is not None and reason.startswith(field)


def test_truncated_engine_means_rebuild(tmp_path):
    engine = tmp_path / "lifter.plan"
    write_engine(engine, b"0123456789", _key())
    engine.write_bytes(b"01234")
    assert "sha256" in rebuild_reason(engine, _key())


@pytest.mark.parametrize("sidecar", [None, "not json {", "[1, 2]"])
def test_missing_or_corrupt_sidecar_means_rebuild(tmp_path, sidecar):
    engine = tmp_path / "lifter.plan"
    write_engine(engine, b"e", _key())
    if sidecar is None:
        sidecar_path(engine).unlink()
    else:
        sidecar_path(engine).write_text(sidecar)
    assert "sidecar" in rebuild_reason(engine, _key())


def test_sidecar_name_and_default_location(tmp_path, monkeypatch):
    assert sidecar_path(tmp_path / "a.plan").name == "a.plan.json"
    monkeypatch.setenv("HPE3D_CACHE", str(tmp_path / "cache"))
    assert default_engine_path("engines/model.onnx") == tmp_path / "cache" / "engines" / "model.plan"


def test_rewrite_leaves_no_temporary_files(tmp_path):
    engine = tmp_path / "lifter.plan"
    write_engine(engine, b"a", _key())
    write_engine(engine, b"bb", _key(fp16=False))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lifter.plan", "lifter.plan.json"]
    assert json.loads(sidecar_path(engine).read_text())["fp16"] is False
