"""Tiny lifter models for tests, built in the test itself (no trained model needed).

``constant_depth_onnx`` returns fixed per-joint depths (and optionally a fixed elevation) whatever
the input, so a lift of a synthetic pose whose true depths are known can be checked exactly;
``nll`` is the input's sum of squares, so it differs per person. ``TinyMLP`` is a real small network
exported with torch.onnx for ONNX Runtime vs PyTorch parity.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper

from hpe3d_ros import manifest as manifest_mod
from hpe3d_ros import skeleton

J = skeleton.NUM_JOINTS


def write_manifest(model_path: Path, normalization: str, outputs: list[str], **overrides) -> dict:
    """Write the manifest beside the ONNX ``model_path``, bound to it (its digest in the model's metadata,
    the model's sha256 in it); ``overrides`` replace top-level keys (also ones the runtime refuses)."""
    m = manifest_mod.build_manifest(
        name=Path(model_path).stem,
        normalization_kind=normalization,
        inputs=[{"name": "poses2d", "shape": ["batch", J, 2], "dtype": "float32"}],
        outputs=[{"name": n} for n in outputs],
        training={"data": "none (test model)", "license": "Apache-2.0", "non_commercial": False},
        command="tests",
    )
    m.update(overrides)
    return manifest_mod.write_bound_manifest(model_path, m)


def constant_depth_onnx(
    path: Path,
    depth: np.ndarray,
    elevation: float | None = None,
    with_nll: bool = True,
    normalization: str = "tipsy",
    manifest: bool = True,
) -> Path:
    """An ONNX lifter that outputs ``depth`` (16,) for every person (plus elevation / nll)."""
    depth = np.asarray(depth, dtype=np.float32).reshape(J)
    x = helper.make_tensor_value_info("poses2d", TensorProto.FLOAT, ["batch", J, 2])
    nodes = [
        helper.make_node("Constant", [], ["zero"], value=helper.make_tensor("zero_v", TensorProto.FLOAT, [], [0.0])),
        helper.make_node(
            "Constant", [], ["dconst"], value=helper.make_tensor("d_v", TensorProto.FLOAT, [J], depth.tolist())
        ),
        helper.make_node("Constant", [], ["ax2"], value=helper.make_tensor("ax2_v", TensorProto.INT64, [1], [2])),
        helper.make_node("Constant", [], ["ax12"], value=helper.make_tensor("ax12_v", TensorProto.INT64, [2], [1, 2])),
        helper.make_node("Mul", ["poses2d", "zero"], ["xz"]),
        helper.make_node("ReduceSum", ["xz", "ax2"], ["zeros_bj"], keepdims=0),
        helper.make_node("Add", ["zeros_bj", "dconst"], ["depth"]),
    ]
    outputs = [helper.make_tensor_value_info("depth", TensorProto.FLOAT, ["batch", J])]
    names = ["depth"]
    if elevation is not None:
        nodes += [
            helper.make_node(
                "Constant", [], ["econst"], value=helper.make_tensor("e_v", TensorProto.FLOAT, [], [float(elevation)])
            ),
            helper.make_node("ReduceSum", ["xz", "ax12"], ["zeros_b"], keepdims=0),
            helper.make_node("Add", ["zeros_b", "econst"], ["elevation"]),
        ]
        outputs.append(helper.make_tensor_value_info("elevation", TensorProto.FLOAT, ["batch"]))
        names.append("elevation")
    if with_nll:
        nodes += [
            helper.make_node("Mul", ["poses2d", "poses2d"], ["sq"]),
            helper.make_node("ReduceSum", ["sq", "ax12"], ["nll"], keepdims=0),
        ]
        outputs.append(helper.make_tensor_value_info("nll", TensorProto.FLOAT, ["batch"]))
        names.append("nll")
    graph = helper.make_graph(nodes, "constant_depth_lifter", [x], outputs)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="hpe3d_ros-tests")
    model.ir_version = 8
    onnx.checker.check_model(model)
    path = Path(path)
    onnx.save(model, str(path))
    if manifest:
        write_manifest(path, normalization, names)
    return path


def nan_for_left_leaning_onnx(path: Path, normalization: str = "tipsy") -> Path:
    """An ONNX lifter whose depth is NaN for a person whose normalised x coordinates sum below zero
    (sqrt of that sum, times zero, plus constant depths) and finite otherwise: one batch, some people
    non-finite. Elevation 0.1 for everyone."""
    x = helper.make_tensor_value_info("poses2d", TensorProto.FLOAT, ["batch", J, 2])
    nodes = [
        helper.make_node("Constant", [], ["zero"], value=helper.make_tensor("zero_v", TensorProto.FLOAT, [], [0.0])),
        helper.make_node(
            "Constant",
            [],
            ["c"],
            value=helper.make_tensor("c_v", TensorProto.FLOAT, [J], np.linspace(-0.2, 0.2, J).tolist()),
        ),
        helper.make_node("Constant", [], ["idx0"], value=helper.make_tensor("idx0_v", TensorProto.INT64, [], [0])),
        helper.make_node("Constant", [], ["ax1"], value=helper.make_tensor("ax1_v", TensorProto.INT64, [1], [1])),
        helper.make_node("Constant", [], ["e"], value=helper.make_tensor("e_v", TensorProto.FLOAT, [], [0.1])),
        helper.make_node("Gather", ["poses2d", "idx0"], ["xs"], axis=2),  # (B, J)
        helper.make_node("ReduceSum", ["xs", "ax1"], ["s"], keepdims=1),  # (B, 1)
        helper.make_node("Sqrt", ["s"], ["r"]),
        helper.make_node("Mul", ["r", "zero"], ["r0"]),
        helper.make_node("Add", ["r0", "c"], ["depth"]),  # (B, J): NaN rows where s < 0
        helper.make_node("ReduceSum", ["r0", "ax1"], ["r0b"], keepdims=0),
        helper.make_node("Mul", ["r0b", "zero"], ["zb"]),
        helper.make_node("Add", ["zb", "e"], ["elevation"]),
    ]
    outputs = [
        helper.make_tensor_value_info("depth", TensorProto.FLOAT, ["batch", J]),
        helper.make_tensor_value_info("elevation", TensorProto.FLOAT, ["batch"]),
    ]
    model = helper.make_model(
        helper.make_graph(nodes, "nan_lifter", [x], outputs),
        opset_imports=[helper.make_opsetid("", 17)],
        producer_name="hpe3d_ros-tests",
    )
    model.ir_version = 8
    onnx.checker.check_model(model)
    path = Path(path)
    onnx.save(model, str(path))
    write_manifest(path, normalization, ["depth", "elevation"])
    return path


def tiny_mlp(seed: int = 0, with_elevation: bool = True, with_nll: bool = True):
    """A small torch lifter per contract (2): forward(poses2d) -> dict(depth, elevation, nll)."""
    import torch
    from torch import nn

    class TinyMLP(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.body = nn.Sequential(nn.Flatten(), nn.Linear(2 * J, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU())
            self.depth = nn.Linear(32, J)
            self.elev = nn.Linear(32, 1) if with_elevation else None
            self.nll = nn.Linear(32, 1) if with_nll else None

        def forward(self, poses2d):
            h = self.body(poses2d)
            out = {"depth": self.depth(h)}
            if self.elev is not None:
                out["elevation"] = self.elev(h)[:, 0]
            if self.nll is not None:
                out["nll"] = self.nll(h)[:, 0]
            return out

    torch.manual_seed(seed)
    return TinyMLP().eval()


def export_onnx(module, path: Path, normalization: str = "tipsy") -> Path:
    """torch.onnx.export a contract-(2) module with the contract-(1) names and a dynamic batch."""
    import torch

    names = list(module(torch.zeros(1, J, 2)).keys())

    class AsTuple(torch.nn.Module):
        def __init__(self, inner) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, poses2d):
            out = self.inner(poses2d)
            return tuple(out[n] for n in names)

    path = Path(path)
    with warnings.catch_warnings():  # the legacy (TorchScript) exporter warns that it is legacy
        warnings.simplefilter("ignore", DeprecationWarning)
        _export(torch, AsTuple(module).eval(), path, names)
    write_manifest(path, normalization, names)
    return path


def _export(torch, module, path: Path, names: list[str]) -> None:
    torch.onnx.export(
        module,
        (torch.zeros(2, J, 2),),
        str(path),
        input_names=["poses2d"],
        output_names=names,
        dynamic_axes={"poses2d": {0: "batch"}, **{n: {0: "batch"} for n in names}},
        opset_version=17,
        dynamo=False,
    )
