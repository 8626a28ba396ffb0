"""TensorRT backend: the parts that run without TensorRT here; the engine itself where TensorRT exists."""
from __future__ import annotations

import numpy as np
import pytest

from hpe3d_ros.runtime import BackendUnavailable, cuda_gpu_present, tensorrt_importable
from tests.hpe3d_ros.runtime.tiny_lifters import export_onnx, tiny_mlp

NO_TRT = "TensorRT is not installable in this environment: no CUDA GPU and no tensorrt wheel for it (CPU-only machine)"


def test_missing_tensorrt_is_a_clear_message(tmp_path):
    if tensorrt_importable():
        pytest.skip("tensorrt is installed here; the missing-library message cannot be exercised")
    from hpe3d_ros.runtime.tensorrt_backend import TensorRTBackend, import_tensorrt

    with pytest.raises(BackendUnavailable, match=r"TensorRT is not installed .*pip install tensorrt.*'onnxruntime'"):
        import_tensorrt()
    with pytest.raises(BackendUnavailable, match="TensorRT is not installed"):
        TensorRTBackend(tmp_path / "any.onnx")


def test_engine_build_cache_and_parity(tmp_path):
    """Build an engine, reuse it, rebuild on force, and match PyTorch (FP16: loose tolerance)."""
    if not (tensorrt_importable() and cuda_gpu_present()):
        pytest.skip(NO_TRT)
    import torch

    from hpe3d_ros.runtime.engine_cache import read_sidecar
    from hpe3d_ros.runtime.tensorrt_backend import TensorRTBackend

    module = tiny_mlp(seed=5)
    onnx_path = export_onnx(module, tmp_path / "mlp.onnx")
    engine = tmp_path / "mlp.plan"
    b = TensorRTBackend(onnx_path, engine_file_path=engine, max_batch=8, opt_batch=2)
    first = read_sidecar(engine)
    x = np.random.default_rng(0).normal(0, 0.5, (11, 16, 2)).astype(np.float32)  # > max_batch: chunked
    with torch.inference_mode():
        ref = module(torch.from_numpy(x))
    out = b.infer(x)
    for k in ("depth", "elevation", "nll"):
        np.testing.assert_allclose(out[k], ref[k].numpy(), atol=5e-2, rtol=5e-2)
    b.close()
    TensorRTBackend(onnx_path, engine_file_path=engine, max_batch=8, opt_batch=2).close()
    assert read_sidecar(engine)["engine_sha256"] == first["engine_sha256"]  # reused, not rebuilt
    TensorRTBackend(onnx_path, engine_file_path=engine, max_batch=8, opt_batch=2, force_engine_update=True).close()
    assert read_sidecar(engine) is not None
