"""Store an ONNX model's float32 weights as float16 when that loses nothing (they were float16 in the
TF.js / TFLite source), each followed by a Cast back to float32: the file halves, ONNX Runtime folds the
Casts when it loads the model, so inference runs in float32 exactly as before (a check compares outputs).
"""
from __future__ import annotations

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
