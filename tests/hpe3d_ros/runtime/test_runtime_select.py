"""Backend selection: the "auto" decision for every combination, and what it takes on this machine."""
from __future__ import annotations

import logging

import numpy as np
import pytest

from hpe3d_ros.runtime import BackendUnavailable, make_backend, tensorrt_importable
from hpe3d_ros.runtime.select import CUDA_PROVIDER, auto_candidates, cuda_gpu_present, ort_providers
from tests.hpe3d_ros.runtime.tiny_lifters import constant_depth_onnx

CPU = ["CPUExecutionProvider"]
GPU_EP = [CUDA_PROVIDER, "CPUExecutionProvider"]


@pytest.mark.parametrize(
    "trt, gpu, providers, expected, skipped_word",
    [
        (
            True,
            True,
            GPU_EP,
            [("tensorrt", {}), ("onnxruntime", {"device": "cuda"}), ("onnxruntime", {"device": "cpu"})],
            None,
        ),
        (True, False, GPU_EP, [("onnxruntime", {"device": "cpu"})], "no CUDA GPU"),
        (
            False,
            True,
            GPU_EP,
            [("onnxruntime", {"device": "cuda"}), ("onnxruntime", {"device": "cpu"})],
            "tensorrt not importable",
        ),
        (False, True, CPU, [("onnxruntime", {"device": "cpu"})], "no CUDA provider"),
        (False, False, CPU, [("onnxruntime", {"device": "cpu"})], "tensorrt not importable"),
        (True, True, CPU, [("tensorrt", {}), ("onnxruntime", {"device": "cpu"})], "no CUDA provider"),
    ],
)
def test_auto_order(trt, gpu, providers, expected, skipped_word):
    cands, skipped = auto_candidates(".onnx", trt, gpu, providers)
    assert [(k, o) for k, o, _ in cands] == expected
    if skipped_word:
        assert any(skipped_word in s for s in skipped)


def test_auto_sends_pytorch_files_to_torch():
    cands, _ = auto_candidates(".pt", True, True, GPU_EP)
    assert [c[0] for c in cands] == ["torch"]


def test_auto_on_this_machine_logs_choice_and_reason(tmp_path, caplog):
    model = constant_depth_onnx(tmp_path / "m.onnx", np.zeros(16))
    with caplog.at_level(logging.INFO, logger="hpe3d_ros.runtime.select"):
        backend = make_backend(model, "auto", intra_op_threads=1, engine_file_path="ignored.plan")
    assert backend.name in ("tensorrt", "onnxruntime")
    assert backend.why.startswith("auto:") and "took" in backend.why
    assert backend.why in caplog.text
    if not tensorrt_importable():
        assert "tensorrt not importable" in backend.why
    if not (cuda_gpu_present() and CUDA_PROVIDER in ort_providers()) and not tensorrt_importable():
        assert backend.providers == ["CPUExecutionProvider"]


def test_explicit_tensorrt_without_tensorrt_is_a_clear_error(tmp_path):
    if tensorrt_importable():
        pytest.skip("tensorrt is installed here")
    model = constant_depth_onnx(tmp_path / "m.onnx", np.zeros(16))
    with pytest.raises(BackendUnavailable, match="TensorRT is not installed.*onnxruntime"):
        make_backend(model, "tensorrt")


def test_unknown_backend_name(tmp_path):
    model = constant_depth_onnx(tmp_path / "m.onnx", np.zeros(16))
    with pytest.raises(ValueError, match="unknown backend 'openvino'"):
        make_backend(model, "openvino")
