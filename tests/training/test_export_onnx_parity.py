"""`hpe3d export`: ONNX Runtime matches PyTorch within 1e-4 and the manifest validates."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch

from hpe3d_ros import manifest
from hpe3d_ros.cli import main as hpe3d_main
from training.config import load_config
from training.export import export_onnx
from training.models.martinez import MartinezLifter
from training.trainer import method_from_checkpoint, train

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / "config" / "train" / "supervised-martinez" / "supervised-martinez_synthetic_tipsy-norm_tiny.yaml"


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("export")
    train(load_config(TINY, ["epochs=1"]), out_dir=d / "run", progress=False)
    return d


@pytest.mark.parametrize("batch", [1, 7])
def test_exported_checkpoint_matches_torch(tiny_run, tmp_path, batch):
    out = tmp_path / "engines" / "tiny.onnx"
    assert hpe3d_main(["export", "--checkpoint", str(tiny_run / "run" / "best.pt"), "--out", str(out)]) == 0
    m = manifest.load_manifest(out)  # validates layout, normalisation, sha256
    assert [o["name"] for o in m["outputs"]] == ["depth"]
    assert m["normalization"]["kind"] == "tipsy"
    method, _ = method_from_checkpoint(tiny_run / "run" / "best.pt")
    x = np.random.default_rng(batch).standard_normal((batch, 16, 2)).astype(np.float32)
    sess = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    (depth,) = sess.run(None, {"poses2d": x})
    with torch.no_grad():
        ref = method.lifter().eval()(torch.from_numpy(x))["depth"].numpy()
    assert depth.shape == (batch, 16)
    np.testing.assert_allclose(depth, ref, atol=1e-4, rtol=0)


def test_elevation_head_is_exported_as_second_output(tmp_path):
    torch.manual_seed(0)
    net = MartinezLifter(hidden=16, blocks=1, dropout=0.0, elevation_head=True).eval()
    names = export_onnx(net, tmp_path / "e.onnx")
    assert names == ["depth", "elevation"]
    sess = ort.InferenceSession(str(tmp_path / "e.onnx"), providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).standard_normal((7, 16, 2)).astype(np.float32)
    depth, elev = sess.run(None, {"poses2d": x})
    with torch.no_grad():
        ref = net(torch.from_numpy(x))
    np.testing.assert_allclose(depth, ref["depth"].numpy(), atol=1e-4, rtol=0)
    np.testing.assert_allclose(elev, ref["elevation"].numpy(), atol=1e-4, rtol=0)


def test_export_refuses_a_non_onnx_path_and_a_missing_checkpoint(tmp_path):
    assert hpe3d_main(["export", "--checkpoint", str(tmp_path / "none.pt"), "--out", str(tmp_path / "x.onnx")]) == 1
    assert not (tmp_path / "x.onnx").exists()


def test_manifest_training_entry_names_the_data_and_their_licences():
    from training.export import training_info

    base = {"data": {"source": "mocap", "bodies": {"fraction": 0.0}, "hdm05": {"actors": []}}}
    info = training_info(base)
    assert info["license"] == "CC BY-NC 4.0" and info["non_commercial"] is True and "share_alike" not in info
    info = training_info({"data": {"source": "mocap", "bodies": {"fraction": 0.5}, "hdm05": {"actors": []}}})
    assert "anthropometric" in info["augmentation"] and info["license"] == "CC BY-NC 4.0"
    info = training_info({"data": {"source": "mocap", "hdm05": {"actors": ["bd", "tr"]}}})
    assert info["license"] == "CC BY-NC 4.0 AND CC BY-SA 3.0" and info["share_alike"] is True
    assert "bd, tr" in info["data"] and "Do not distribute" in info["license_note"]
    assert training_info({"data": {"source": "synthetic"}})["non_commercial"] is False
