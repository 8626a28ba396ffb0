"""Model manifests: what the runtime accepts, the errors that name what disagrees, and the binding of a
manifest to its model (either file edited alone is refused)."""
from __future__ import annotations

import json

import numpy as np
import onnx
import pytest

from hpe3d_ros import manifest as M
from tests.hpe3d_ros.runtime.tiny_lifters import constant_depth_onnx


def _manifest(**over):
    m = M.build_manifest(
        name="t", normalization_kind="elepose",
        inputs=[{"name": "poses2d", "shape": ["batch", 16, 2]}],
        outputs=[{"name": "depth"}, {"name": "elevation"}],
        training={"data": "synthetic", "license": "CC0", "non_commercial": False},
    )
    m.update(over)
    return m


def _model(tmp_path, m=None):
    """A real tiny ONNX model with ``m`` bound to it."""
    model = constant_depth_onnx(
        tmp_path / "m.onnx", np.zeros(16), elevation=0.1, normalization="elepose", manifest=False
    )
    M.write_bound_manifest(model, m or _manifest())
    return model


def _edit(model, fn):
    path = M.manifest_path(model)
    m = json.loads(path.read_text())
    fn(m)
    path.write_text(json.dumps(m, indent=2))


def test_valid_manifest_loads(tmp_path):
    model = _model(tmp_path)
    m = M.load_manifest(model)
    assert m["layout"]["hash"] and m["model_sha256"] == M.file_sha256(model)
    assert M.model_manifest_digest(model) == M.manifest_digest(m)


def test_missing_manifest(tmp_path):
    model = tmp_path / "m.onnx"
    model.write_bytes(b"x")
    with pytest.raises(M.ManifestError, match="no manifest"):
        M.load_manifest(model)


def test_layout_disagreement_is_named(tmp_path):
    m = _manifest()
    m["layout"]["hash"] = "0000"
    with pytest.raises(M.ManifestError, match="'hash'"):
        M.load_manifest(_model(tmp_path, m))


def test_depth_offset_and_outputs_checked():
    m = _manifest()
    m["normalization"]["depth_offset"] = 5.0
    with pytest.raises(M.ManifestError, match="depth_offset"):
        M.validate_manifest(m)
    with pytest.raises(M.ManifestError, match="depth"):
        M.validate_manifest(_manifest(outputs=[{"name": "elevation"}]))


def test_sha256_mismatch(tmp_path):
    model = _model(tmp_path)
    _edit(model, lambda m: m.update(model_sha256="ab" * 32))
    with pytest.raises(M.ManifestError, match="sha256"):
        M.load_manifest(model)


def test_manifest_without_hash_is_refused(tmp_path):
    model = _model(tmp_path)
    _edit(model, lambda m: m.pop("model_sha256"))
    with pytest.raises(M.ManifestError, match="no 'model_sha256'.*not bound"):
        M.load_manifest(model)
    _edit(model, lambda m: m.update(model_sha256=""))
    with pytest.raises(M.ManifestError, match="no 'model_sha256'"):
        M.load_manifest(model)
    _edit(model, lambda m: m.update(model_sha256="not a hash"))
    with pytest.raises(M.ManifestError, match="not a SHA-256"):
        M.load_manifest(model)


@pytest.mark.parametrize(
    "edit",
    [
        lambda m: m["normalization"].update(kind="tipsy", depth_offset=None),  # the other valid kind: wrong distances
        lambda m: m.update(name="renamed"),
        lambda m: m["training"].update(non_commercial=True),
    ],
)
def test_manifest_edited_alone_is_refused(tmp_path, edit):
    model = _model(tmp_path)
    _edit(model, edit)
    with pytest.raises(M.ManifestError, match="changed after it was bound"):
        M.load_manifest(model)


def test_model_edited_alone_is_refused(tmp_path):
    model = _model(tmp_path)
    proto = onnx.load(str(model))
    proto.producer_name = "someone else"
    onnx.save(proto, str(model))
    with pytest.raises(M.ManifestError, match="sha256 .* does not match"):
        M.load_manifest(model)


def test_both_rewritten_without_binding_is_refused(tmp_path):
    """A model whose metadata lost the digest (re-saved by another tool) with a manifest whose hash was
    updated to match: still refused, the model is not bound."""
    model = _model(tmp_path)
    proto = onnx.load(str(model))
    del proto.metadata_props[:]
    onnx.save(proto, str(model))
    _edit(model, lambda m: m.update(model_sha256=M.file_sha256(model)))
    with pytest.raises(M.ManifestError, match="carries no manifest digest"):
        M.load_manifest(model)


def test_rebinding_after_a_deliberate_edit(tmp_path):
    from training.export import bind_model

    model = _model(tmp_path)
    weights_before = onnx.load(str(model)).graph
    _edit(model, lambda m: m.update(name="renamed on purpose"))
    bind_model(model)
    assert M.load_manifest(model)["name"] == "renamed on purpose"
    assert onnx.load(str(model)).graph == weights_before


def test_not_onnx_whatever_the_extension_is_refused(tmp_path):
    model = _model(tmp_path)
    other = tmp_path / "m.bin"
    other.write_bytes(b"\x80\x04K\x01." * 10)  # a pickle, not ONNX
    M.manifest_path(other).write_text(M.manifest_path(model).read_text())
    _edit(other, lambda m: m.update(model_sha256=M.file_sha256(other)))
    with pytest.raises(M.ManifestError, match="not an ONNX model"):
        M.load_manifest(other)


def test_external_data_is_refused(tmp_path):
    model = _model(tmp_path)
    proto = onnx.load(str(model))
    t = onnx.numpy_helper.from_array(np.arange(64, dtype=np.float32), "w")
    proto.graph.initializer.append(t)
    onnx.save(
        proto, str(model), save_as_external_data=True, all_tensors_to_one_file=True, location="w.bin", size_threshold=0
    )
    m = json.loads(M.manifest_path(model).read_text())
    with pytest.raises(M.ManifestError, match="external files"):
        M.write_bound_manifest(model, m)
    M.manifest_path(model).write_text(json.dumps({**m, "model_sha256": M.file_sha256(model)}))
    with pytest.raises(M.ManifestError, match="external files"):
        M.load_manifest(model)


def test_broken_json(tmp_path):
    model = tmp_path / "m.onnx"
    model.write_bytes(b"x")
    M.manifest_path(model).write_text("{not json")
    with pytest.raises(M.ManifestError, match="not valid JSON"):
        M.load_manifest(model)
    M.manifest_path(model).write_text("[1, 2]")
    with pytest.raises(M.ManifestError, match="JSON object"):
        M.load_manifest(model)
