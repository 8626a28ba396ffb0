"""The last steps of every conversion: float16 storage of the weights, provenance, check, save.

``store_fp16``: float32 weights stored as float16 when that loses nothing (they were float16 in the TF.js /
TFLite source), each followed by a Cast back to float32: the file halves, ONNX Runtime folds the Casts
when it loads the model, so inference runs in float32 exactly as before (check_same_outputs.py compares).
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np


def store_fp16(model) -> int:
    """Rewrite ``model`` (onnx.ModelProto) in place; returns how many initializers were stored as float16.
    Only float32 initializers of at least 16 values whose every value survives the round trip are changed."""
    from onnx import TensorProto, helper, numpy_helper

    graph = model.graph
    casts = []
    changed = 0
    for init in list(graph.initializer):
        if init.data_type != TensorProto.FLOAT:
            continue
        w = numpy_helper.to_array(init)
        if w.size < 16:
            continue
        h = w.astype(np.float16)
        if not np.array_equal(h.astype(np.float32), w):
            continue
        name = init.name
        graph.initializer.remove(init)
        graph.initializer.append(numpy_helper.from_array(h, name + "__fp16"))
        casts.append(helper.make_node("Cast", [name + "__fp16"], [name], to=TensorProto.FLOAT, name=name + "__cast"))
        changed += 1
    for node in reversed(casts):  # before every consumer
        graph.node.insert(0, node)
    return changed


def finish(model, out: Path, meta: dict[str, str]) -> None:
    """Weights to float16 storage, ``meta`` (plus the count) as the model's metadata, onnx.checker, save,
    and a sha256 line on stdout."""
    import onnx

    stored = store_fp16(model)
    meta = dict(meta)
    meta["converter"] += f", {stored} weights stored as float16"
    del model.metadata_props[:]
    for k, v in meta.items():
        model.metadata_props.add(key=k, value=v)
    model.producer_name = "tf2onnx"
    model.doc_string = ""  # tf2onnx writes the temporary input path here
    onnx.checker.check_model(model)
    onnx.save(model, str(out))
    print(f"{hashlib.sha256(out.read_bytes()).hexdigest()}  {out.name}")
