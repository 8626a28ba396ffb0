"""Torch backend: TorchScript files and training checkpoints against ONNX Runtime and the module itself."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from hpe3d_ros.lifting import Lifter
from hpe3d_ros.runtime import make_backend
from hpe3d_ros.runtime.torch_backend import TorchBackend, is_torchscript
from tests.hpe3d_ros.runtime.tiny_lifters import export_onnx, tiny_mlp, write_manifest


def test_torchscript_matches_onnxruntime(tmp_path):
    torch.set_num_threads(1)
    module = tiny_mlp(seed=7)
    onnx_path = export_onnx(module, tmp_path / "mlp.onnx")
    ts_path = tmp_path / "mlp.pt"
    torch.jit.script(module).save(str(ts_path))
    assert is_torchscript(ts_path)
    tb = make_backend(ts_path, "auto")
    assert isinstance(tb, TorchBackend) and tb.output_names == ("depth", "elevation", "nll")
    ob = make_backend(onnx_path, "onnxruntime")
    x = np.random.default_rng(2).normal(0, 0.5, (33, 16, 2)).astype(np.float32)
    a, b = tb.infer(x), ob.infer(x)
    for k in tb.output_names:
        np.testing.assert_allclose(a[k], b[k], atol=1e-5, rtol=1e-5)


def test_lifter_on_torchscript_needs_its_manifest(tmp_path):
    module = tiny_mlp(seed=1, with_nll=False)
    ts_path = tmp_path / "mlp.pt"
    torch.jit.script(module).save(str(ts_path))
    from hpe3d_ros.manifest import ManifestError

    with pytest.raises(ManifestError, match="no manifest"):
        Lifter(ts_path)
    write_manifest(ts_path, "elepose", ["depth", "elevation"])
    lifter = Lifter(ts_path)
    assert lifter.backend_name == "torch" and lifter.normalization == "elepose"
    res = lifter.lift(
        np.random.default_rng(0).uniform(200, 400, (2, 16, 2)), np.array([[500.0, 0, 320], [0, 500, 240], [0, 0, 1]])
    )
    assert res.joints_optical.shape == (2, 16, 3) and res.plausibility is None


def test_file_that_is_neither_is_a_clear_error(tmp_path):
    bad = tmp_path / "junk.pt"
    bad.write_bytes(b"junk")
    with pytest.raises((ValueError, RuntimeError), match="junk.pt"):
        TorchBackend(bad)


def test_a_file_no_loader_reads_is_a_clear_error(tmp_path, monkeypatch):
    """Without an installed loader (a robot install without training) a checkpoint is refused, naming
    the file and the entry-point group; TorchScript still runs."""
    from hpe3d_ros.runtime import BackendUnavailable, torch_backend

    monkeypatch.setattr(torch_backend, "torch_loaders", lambda: [])
    ckpt = tmp_path / "last.pt"
    torch.save({"format": 1, "modules": {}}, ckpt)
    with pytest.raises(BackendUnavailable, match=r"last.pt.*hpe3d_ros.torch_loaders.*none installed"):
        TorchBackend(ckpt)
    ts_path = tmp_path / "mlp.pt"
    torch.jit.script(tiny_mlp(seed=3)).save(str(ts_path))
    assert TorchBackend(ts_path).output_names == ("depth", "elevation", "nll")


def test_torch_export_program_matches_module(tmp_path):
    module = tiny_mlp(seed=9)
    batch = torch.export.Dim("batch", min=1, max=4096)
    program = torch.export.export(module, (torch.zeros(4, 16, 2),), dynamic_shapes={"poses2d": {0: batch}})
    path = tmp_path / "mlp.pt2"
    torch.export.save(program, str(path))
    tb = make_backend(path, "auto")
    assert tb.name == "torch" and "torch.export" in tb.providers[0]
    for n in (1, 33):
        x = np.random.default_rng(n).normal(0, 0.5, (n, 16, 2)).astype(np.float32)
        with torch.inference_mode():
            ref = module(torch.from_numpy(x))
        np.testing.assert_allclose(tb.infer(x)["depth"], ref["depth"].numpy(), atol=1e-5)
