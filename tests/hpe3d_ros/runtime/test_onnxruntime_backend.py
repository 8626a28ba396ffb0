"""ONNX Runtime backend: parity with PyTorch, interface checks, session settings."""
from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper

from hpe3d_ros.runtime import BackendUnavailable, ModelInterfaceError
from hpe3d_ros.runtime.onnxruntime_backend import CUDA_PROVIDER, OnnxRuntimeBackend, available_providers
from tests.hpe3d_ros.runtime.tiny_lifters import constant_depth_onnx, export_onnx, tiny_mlp


@pytest.fixture(scope="module")
def mlp_and_onnx(tmp_path_factory):
    torch.set_num_threads(1)
    module = tiny_mlp(seed=3)
    return module, export_onnx(module, tmp_path_factory.mktemp("ort") / "mlp.onnx")


@pytest.mark.parametrize("batch", [1, 5, 1024])
def test_parity_with_torch(mlp_and_onnx, batch):
    module, path = mlp_and_onnx
    backend = OnnxRuntimeBackend(path, device="cpu", intra_op_threads=1)
    x = np.random.default_rng(batch).normal(0, 0.5, (batch, 16, 2)).astype(np.float32)
    out = backend.infer(x)
    with torch.inference_mode():
        ref = module(torch.from_numpy(x))
    assert backend.output_names == ("depth", "elevation", "nll")
    assert out["depth"].shape == (batch, 16) and out["elevation"].shape == (batch,) and out["nll"].shape == (batch,)
    for k in backend.output_names:
        np.testing.assert_allclose(out[k], ref[k].numpy(), atol=1e-5, rtol=1e-5)


def test_session_settings_and_description(mlp_and_onnx):
    _, path = mlp_and_onnx
    backend = OnnxRuntimeBackend(path, device="cpu", intra_op_threads=2, allow_spinning=True)
    assert backend.providers == ["CPUExecutionProvider"]
    assert backend.dynamic_batch
    assert "onnxruntime" in backend.describe()
    backend.close()


def test_float64_and_non_contiguous_input_accepted(mlp_and_onnx):
    _, path = mlp_and_onnx
    backend = OnnxRuntimeBackend(path, device="cpu")
    x = np.random.default_rng(0).normal(size=(4, 16, 2))
    a = backend.infer(x)["depth"].copy()
    b = backend.infer(np.asfortranarray(x).astype(np.float32))["depth"]
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_wrong_batch_shape_is_refused(mlp_and_onnx):
    _, path = mlp_and_onnx
    with pytest.raises(ValueError, match=r"\(B, 16, 2\)"):
        OnnxRuntimeBackend(path, device="cpu").infer(np.zeros((2, 17, 2), np.float32))


def _save(tmp_path, name, inputs, outputs, nodes):
    graph = helper.make_graph(nodes, name, inputs, outputs)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = tmp_path / f"{name}.onnx"
    onnx.save(model, str(path))
    return path


def test_model_with_other_input_name_is_refused(tmp_path):
    x = helper.make_tensor_value_info("keypoints", TensorProto.FLOAT, ["batch", 16, 2])
    y = helper.make_tensor_value_info("depth", TensorProto.FLOAT, ["batch", 16, 2])
    path = _save(tmp_path, "badin", [x], [y], [helper.make_node("Identity", ["keypoints"], ["depth"])])
    with pytest.raises(ModelInterfaceError, match="poses2d"):
        OnnxRuntimeBackend(path, device="cpu")


def test_model_without_depth_output_is_refused(tmp_path):
    x = helper.make_tensor_value_info("poses2d", TensorProto.FLOAT, ["batch", 16, 2])
    y = helper.make_tensor_value_info("z", TensorProto.FLOAT, ["batch", 16, 2])
    path = _save(tmp_path, "nodepth", [x], [y], [helper.make_node("Identity", ["poses2d"], ["z"])])
    with pytest.raises(ModelInterfaceError, match="depth"):
        OnnxRuntimeBackend(path, device="cpu")


def test_model_with_wrong_joint_count_is_refused(tmp_path):
    x = helper.make_tensor_value_info("poses2d", TensorProto.FLOAT, ["batch", 17, 2])
    y = helper.make_tensor_value_info("depth", TensorProto.FLOAT, ["batch", 17, 2])
    path = _save(tmp_path, "j17", [x], [y], [helper.make_node("Identity", ["poses2d"], ["depth"])])
    with pytest.raises(ModelInterfaceError, match="16"):
        OnnxRuntimeBackend(path, device="cpu")


def test_depth_of_wrong_shape_is_caught_at_inference(tmp_path):
    x = helper.make_tensor_value_info("poses2d", TensorProto.FLOAT, ["batch", 16, 2])
    y = helper.make_tensor_value_info("depth", TensorProto.FLOAT, ["batch", 16, 2])
    path = _save(tmp_path, "depth3d", [x], [y], [helper.make_node("Identity", ["poses2d"], ["depth"])])
    with pytest.raises(ModelInterfaceError, match="'depth' has shape"):
        OnnxRuntimeBackend(path, device="cpu").infer(np.zeros((1, 16, 2), np.float32))


def test_not_an_onnx_file_is_a_clear_error(tmp_path):
    path = tmp_path / "garbage.onnx"
    path.write_bytes(b"this is not a protobuf")
    with pytest.raises(ModelInterfaceError, match="garbage.onnx"):
        OnnxRuntimeBackend(path, device="cpu")
    with pytest.raises(FileNotFoundError):
        OnnxRuntimeBackend(tmp_path / "missing.onnx")


def test_cuda_request_without_cuda_provider(tmp_path):
    path = constant_depth_onnx(tmp_path / "c.onnx", np.zeros(16))
    if CUDA_PROVIDER in available_providers():
        pytest.skip("this onnxruntime has the CUDA provider; the refusal path cannot be exercised here")
    with pytest.raises(BackendUnavailable, match="onnxruntime-gpu"):
        OnnxRuntimeBackend(path, device="cuda")


@pytest.mark.skipif(
    CUDA_PROVIDER not in available_providers(), reason="onnxruntime here has no CUDAExecutionProvider (CPU-only build)"
)
def test_cuda_parity(mlp_and_onnx):
    module, path = mlp_and_onnx
    backend = OnnxRuntimeBackend(path, device="cuda")
    x = np.random.default_rng(1).normal(0, 0.5, (64, 16, 2)).astype(np.float32)
    with torch.inference_mode():
        ref = module(torch.from_numpy(x))
    np.testing.assert_allclose(backend.infer(x)["depth"], ref["depth"].numpy(), atol=1e-4)
