"""Fuzz: a model and its manifest are bound both ways: any edit of the manifest alone, and any change of the
model file's bytes alone, is refused with a ManifestError (never accepted, never another exception).
Regressions of issue 13: a manifest without model_sha256 skipped the check; switching normalization.kind to
the other valid kind started without complaint and put people at 0.7 m instead of 2.7 m."""
from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from hpe3d_ros import manifest as M
from hpe3d_ros.lifting import Lifter
from tests.fuzz import fuzz
from tests.hpe3d_ros.runtime.tiny_lifters import constant_depth_onnx

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=6), c, max_size=3),
    max_leaves=6,
)


@pytest.fixture(scope="module")
def bound(tmp_path_factory):
    d = tmp_path_factory.mktemp("bound")
    model = constant_depth_onnx(d / "m.onnx", np.zeros(16), elevation=0.1, normalization="elepose")
    return model, model.read_bytes(), M.manifest_path(model).read_text()


def _paths(obj, prefix=()):
    """Every (path) to a value inside a JSON object."""
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _paths(v, prefix + (i,))


def _set(obj, path, value):
    for p in path[:-1]:
        obj = obj[p]
    obj[path[-1]] = value


@fuzz(300)
@given(data=st.data())
def test_any_manifest_edit_alone_is_refused(bound, tmp_path_factory, data):
    model, model_bytes, text = bound
    m = json.loads(text)
    paths = [p for p in _paths(m) if p and p != ("model_sha256",)]
    path = data.draw(st.sampled_from(paths))
    edit = data.draw(st.sampled_from(["set", "delete"]))
    if edit == "delete" and isinstance(path[-1], str):
        parent = m
        for p in path[:-1]:
            parent = parent[p]
        del parent[path[-1]]
    else:
        _set(m, path, data.draw(JSON))
    assume(json.dumps(m, sort_keys=True) != json.dumps(json.loads(text), sort_keys=True))
    d = tmp_path_factory.mktemp("edit")
    (d / "m.onnx").write_bytes(model_bytes)
    M.manifest_path(d / "m.onnx").write_text(json.dumps(m))
    with pytest.raises(M.ManifestError):
        M.load_manifest(d / "m.onnx")


@fuzz(100)
@given(at=st.integers(0, 10**9), value=st.integers(0, 255))
def test_any_model_byte_changed_alone_is_refused(bound, tmp_path_factory, at, value):
    model, model_bytes, text = bound
    raw = bytearray(model_bytes)
    at %= len(raw)
    assume(raw[at] != value)
    raw[at] = value
    d = tmp_path_factory.mktemp("byte")
    (d / "m.onnx").write_bytes(bytes(raw))
    M.manifest_path(d / "m.onnx").write_text(text)
    with pytest.raises(M.ManifestError, match="sha256"):
        M.load_manifest(d / "m.onnx")


def test_switching_the_normalisation_kind_is_refused_by_the_lifter(bound, tmp_path):
    model, model_bytes, text = bound
    m = json.loads(text)
    m["normalization"] = {"kind": "tipsy", "root": 0}  # the other valid kind
    (tmp_path / "m.onnx").write_bytes(model_bytes)
    M.manifest_path(tmp_path / "m.onnx").write_text(json.dumps(m))
    with pytest.raises(M.ManifestError, match="changed after it was bound"):
        Lifter(tmp_path / "m.onnx", backend="onnxruntime")
