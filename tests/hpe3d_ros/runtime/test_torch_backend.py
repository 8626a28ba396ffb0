"""Torch backend: training checkpoints only, and no model file runs code while it loads.

Every hostile file here carries a live pickle payload (it creates a marker file when unpickled, shown
by loading it the unsafe way first); the backend, the Lifter and ``auto`` refuse each one with a clear
error before the payload can run, whatever the file's extension."""
from __future__ import annotations

import io
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from hpe3d_ros.lifting import Lifter
from hpe3d_ros.runtime import make_backend
from hpe3d_ros.runtime.base import ModelInterfaceError
from hpe3d_ros.runtime.torch_backend import TorchBackend, is_torch_export, is_torchscript
from tests.hpe3d_ros.runtime.tiny_lifters import tiny_mlp


class _Payload:
    """Unpickling this runs ``exec``: it creates ``marker``."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({str(self.marker)!r}, 'w').close()",))


def _torch_save_bytes(obj) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def _evil_checkpoint(path: Path, marker: Path) -> Path:
    path.write_bytes(_torch_save_bytes({"format": 1, "config": {}, "modules": {"lifter": _Payload(marker)}}))
    return path


def _evil_pt2(path: Path, marker: Path) -> Path:
    """A torch.export archive (the older layout torch.export.load still reads) whose state dict is a payload."""
    from torch._export.serde.schema import SCHEMA_VERSION
    from torch._export.serde.serialize import serialize

    art = serialize(torch.export.export(torch.nn.Linear(2, 2), (torch.zeros(1, 2),)))
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("version", ".".join(map(str, SCHEMA_VERSION)))
        z.writestr("serialized_exported_program.json", art.exported_program)
        z.writestr("serialized_state_dict.pt", _torch_save_bytes({"w": _Payload(marker)}))
        z.writestr("serialized_constants.pt", art.constants)
        z.writestr("serialized_example_inputs.pt", art.example_inputs)
    return path


def _evil_torchscript(path: Path, marker: Path) -> Path:
    """A real TorchScript archive whose data.pkl is replaced by a payload."""
    good = path.with_name("good_script.pt")
    torch.jit.script(tiny_mlp(seed=3)).save(str(good))
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(path, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename.endswith("/data.pkl"):
                data = pickle.dumps(_Payload(marker), protocol=2)
            dst.writestr(item, data)
    return path


def test_the_payloads_are_live(tmp_path):
    """Each hostile file does run code when loaded the unsafe way: the refusals below are meaningful."""
    m1, m2, m3 = (tmp_path / f"marker{i}" for i in range(3))
    torch.load(_evil_checkpoint(tmp_path / "c.pt", m1), weights_only=False)
    assert m1.exists()
    with pytest.raises(Exception):  # noqa: B017 - whatever it raises afterwards, the payload already ran
        torch.export.load(str(_evil_pt2(tmp_path / "p.pt2", m2)))
    assert m2.exists()
    ts = _evil_torchscript(tmp_path / "s.pt", m3)
    with zipfile.ZipFile(ts) as z:
        pickle.loads(z.read(next(n for n in z.namelist() if n.endswith("/data.pkl"))))
    assert m3.exists()


@pytest.mark.parametrize("kind, name", [
    ("checkpoint", "evil.pt"), ("checkpoint", "evil.pth"), ("checkpoint", "evil.ckpt"),
    ("pt2", "evil.pt2"), ("pt2", "evil.pt"), ("torchscript", "evil.pt"), ("torchscript", "evil.ts"),
])
def test_hostile_torch_files_never_run_their_payload(tmp_path, kind, name):
    marker = tmp_path / "marker"
    make = {"checkpoint": _evil_checkpoint, "pt2": _evil_pt2, "torchscript": _evil_torchscript}[kind]
    path = make(tmp_path / name, marker)
    words = {"checkpoint": "weights_only", "pt2": "torch.export", "torchscript": "TorchScript"}[kind]
    with pytest.raises(ModelInterfaceError, match=words):
        TorchBackend(path)
    with pytest.raises(ModelInterfaceError, match="hpe3d export"):
        Lifter(path)  # what the node builds: backend auto
    with pytest.raises(ModelInterfaceError):
        make_backend(path, "torch")
    assert not marker.exists(), "the payload ran"


def test_a_torchscript_or_export_file_is_recognised_by_content(tmp_path):
    ts = tmp_path / "plain.bin"
    torch.jit.script(tiny_mlp(seed=1)).save(str(ts))
    assert is_torchscript(ts) and not is_torch_export(ts)
    with pytest.raises(ModelInterfaceError, match="TorchScript"):
        TorchBackend(ts)
    pt2 = tmp_path / "program.bin"
    torch.export.save(torch.export.export(tiny_mlp(seed=2), (torch.zeros(2, 16, 2),)), str(pt2))
    assert is_torch_export(pt2)
    with pytest.raises(ModelInterfaceError, match="torch.export"):
        TorchBackend(pt2)


def test_file_that_is_no_checkpoint_is_a_clear_error(tmp_path):
    bad = tmp_path / "junk.pt"
    bad.write_bytes(b"junk")
    with pytest.raises(ModelInterfaceError, match="junk.pt: not a plain torch checkpoint"):
        TorchBackend(bad)


def test_a_file_no_loader_reads_is_a_clear_error(tmp_path, monkeypatch):
    """Without an installed loader (a robot install without training) a checkpoint is refused, naming
    the file and the entry-point group."""
    from hpe3d_ros.runtime import BackendUnavailable, torch_backend

    monkeypatch.setattr(torch_backend, "torch_loaders", lambda: [])
    ckpt = tmp_path / "last.pt"
    torch.save({"format": 1, "modules": {}}, ckpt)
    with pytest.raises(BackendUnavailable, match=r"last.pt.*hpe3d_ros.torch_loaders.*none installed"):
        TorchBackend(ckpt)


def test_checkpoint_matches_its_onnx_export(tmp_path):
    """The torch backend on a training checkpoint and ONNX Runtime on its export give the same outputs."""
    from training.config import resolve_config
    from training.export import export_checkpoint
    from training.methods import create_method
    from training.trainer import CHECKPOINT_FORMAT

    torch.set_num_threads(1)
    config = resolve_config({"method": "supervised_martinez", "model": {"hidden": 32, "blocks": 1}}, "test")
    method = create_method(config, "cpu")
    method.train(False)
    ckpt = tmp_path / "last.pt"
    torch.save({"format": CHECKPOINT_FORMAT, "config": config, "epoch": 0,
                "modules": {k: m.state_dict() for k, m in method.modules().items()}}, ckpt)
    onnx_path, _ = export_checkpoint(ckpt, tmp_path / "m.onnx")
    tb, ob = make_backend(ckpt, "auto"), make_backend(onnx_path, "onnxruntime")
    assert isinstance(tb, TorchBackend)
    x = np.random.default_rng(2).normal(0, 0.5, (33, 16, 2)).astype(np.float32)
    a, b = tb.infer(x), ob.infer(x)
    for k in tb.output_names:
        np.testing.assert_allclose(a[k], b[k], atol=1e-5, rtol=1e-5)
