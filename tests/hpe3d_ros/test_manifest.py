"""Model manifests: what the runtime accepts and the errors that name what disagrees."""
from __future__ import annotations

import json

import pytest

from hpe3d_ros import manifest as M


def _manifest(**over):
    m = M.build_manifest(
        name="t", normalization_kind="elepose",
        inputs=[{"name": "poses2d", "shape": ["batch", 16, 2]}],
        outputs=[{"name": "depth"}, {"name": "elevation"}],
        training={"data": "synthetic", "license": "CC0", "non_commercial": False},
    )
    m.update(over)
    return m


def _write(tmp_path, m, model_bytes=b"model"):
    model = tmp_path / "m.onnx"
    model.write_bytes(model_bytes)
    M.manifest_path(model).write_text(json.dumps(m))
    return model


def test_valid_manifest_loads(tmp_path):
    model = _write(tmp_path, _manifest())
    assert M.load_manifest(model)["layout"]["hash"]


def test_missing_manifest(tmp_path):
    model = tmp_path / "m.onnx"
    model.write_bytes(b"x")
    with pytest.raises(M.ManifestError, match="no manifest"):
        M.load_manifest(model)


def test_layout_disagreement_is_named(tmp_path):
    m = _manifest()
    m["layout"]["hash"] = "0000"
    with pytest.raises(M.ManifestError, match="'hash'"):
        M.load_manifest(_write(tmp_path, m))


def test_depth_offset_and_outputs_checked():
    m = _manifest()
    m["normalization"]["depth_offset"] = 5.0
    with pytest.raises(M.ManifestError, match="depth_offset"):
        M.validate_manifest(m)
    with pytest.raises(M.ManifestError, match="depth"):
        M.validate_manifest(_manifest(outputs=[{"name": "elevation"}]))


def test_sha256_mismatch(tmp_path):
    model = _write(tmp_path, _manifest(model_sha256="ab" * 32))
    with pytest.raises(M.ManifestError, match="sha256"):
        M.load_manifest(model)


def test_broken_json(tmp_path):
    model = tmp_path / "m.onnx"
    model.write_bytes(b"x")
    M.manifest_path(model).write_text("{not json")
    with pytest.raises(M.ManifestError, match="not valid JSON"):
        M.load_manifest(model)
