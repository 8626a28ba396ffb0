"""The "elepose" training method through the real trainer, export and checkpoints (CPU, seconds)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch

from training.config import load_config
from training.export import export_checkpoint
from training.methods import create_method, get_method
from training.trainer import (
    CHECKPOINT_FORMAT,
    atomic_torch_save,
    load_checkpoint,
    load_method_state,
    method_from_checkpoint,
    method_state,
    train,
)

REPO = Path(__file__).resolve().parents[3]
TINY = REPO / "config" / "train" / "elepose" / "elepose_synthetic_tiny.yaml"
FAST = ["data.synthetic_poses=512", "val.max_poses=128"]


def _poses2d(n: int = 64, seed: int = 0) -> torch.Tensor:
    """Normalised 2D of procedural poses seen by the default virtual cameras."""
    from hpe3d_ros import camera, normalization, skeleton
    from training.data.batches import synthetic_poses

    joints = synthetic_poses(n, seed).astype(np.float64)
    cams = camera.sample_cameras(n, joints[:, skeleton.ROOT], camera.VirtualCameraConfig(), np.random.default_rng(seed))
    pc = cams.to_optical(joints)
    return torch.tensor(normalization.normalize_2d(pc[..., :2] / pc[..., 2:3], "elepose")[0], dtype=torch.float32)


def test_registered_and_unsupervised():
    cls = get_method("elepose")
    assert cls.normalization == "elepose" and cls.needs_3d is False


def test_tiny_run_has_both_stages_and_exports_nll(tmp_path):
    summary = train(load_config(TINY, FAST), out_dir=tmp_path / "run", progress=False)
    hist = summary["history"]
    assert "flow_nll" in hist[0]["train"] and "nll" not in hist[0]["train"]
    for h in hist[1:]:
        assert {"nll", "l3d", "l2d", "ldef", "bone", "elevation_mean"} <= set(h["train"])
        assert np.isfinite(h["val"]["selection_score"])
    onnx_path, _ = export_checkpoint(tmp_path / "run" / "last.pt", tmp_path / "m.onnx")
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    assert [o.name for o in sess.get_outputs()] == ["depth", "elevation", "nll"]
    x = _poses2d(20)
    got = sess.run(None, {"poses2d": x.numpy()})
    method, _ = method_from_checkpoint(tmp_path / "run" / "last.pt")
    with torch.no_grad():
        want = method.lifter().eval()(x)
    for name, g in zip(["depth", "elevation", "nll"], got):
        np.testing.assert_allclose(g, want[name].numpy(), atol=1e-4, rtol=1e-4, err_msg=name)


def test_checkpoint_round_trip_restores_outputs_and_training(tmp_path):
    cfg = load_config(TINY, FAST + ["flow_pretrain.pca_samples=64"])
    torch.manual_seed(0)
    m = create_method(cfg, torch.device("cpu"))
    x = _poses2d(128)
    m.train_step({"poses2d": x[:64]})
    m.train_step({"poses2d": x[64:]})
    m.end_epoch(0)
    for i in range(3):
        m.train_step({"poses2d": x[i * 32 : i * 32 + 64]})
    m.end_epoch(1)
    assert m.stage == "lifter" and m.elev_sigma > 0
    state = {"format": CHECKPOINT_FORMAT, "config": cfg, "epoch": 1, **method_state(m)}
    atomic_torch_save(state, tmp_path / "c.pt")
    ckpt = load_checkpoint(tmp_path / "c.pt")  # weights_only=True
    m2 = create_method(ckpt["config"], torch.device("cpu"))
    load_method_state(m2, ckpt)
    assert m2.stage == "lifter"
    with torch.no_grad():
        a, b = m.lifter().eval()(x), m2.lifter().eval()(x)
    for k in ("depth", "elevation", "nll"):
        assert torch.equal(a[k], b[k]), k
    assert m.selection_score(x) == m2.selection_score(x)
    torch.manual_seed(5)
    la = m.train_step({"poses2d": x[:64]})
    torch.manual_seed(5)
    lb = m2.train_step({"poses2d": x[:64]})
    assert la == lb


def test_fine_tuning_starts_from_the_checkpoint_lifter(tmp_path):
    """init_lifter: the run starts from a trained lifter (and its elevation distribution), with a fresh optimiser."""
    train(load_config(TINY, FAST + ["epochs=2"]), out_dir=tmp_path / "base", progress=False)
    base, _ = method_from_checkpoint(tmp_path / "base" / "last.pt")
    over = FAST + [
        f"init_lifter={tmp_path / 'base' / 'last.pt'}",
        f"flow_pretrain.init={tmp_path / 'base' / 'last.pt'}",
    ]
    m = create_method(load_config(TINY, over), torch.device("cpu"))
    assert m.stage == "lifter" and m.elev_mu == base.elev_mu and m.elev_sigma == base.elev_sigma
    x = _poses2d(32)
    with torch.no_grad():
        a, b = base.lifter().eval()(x), m.lifter().eval()(x)
    for k in ("depth", "elevation", "nll"):
        torch.testing.assert_close(a[k], b[k], msg=k)
    assert m.opt_lifter.state == {}  # fresh optimiser
    clipped = create_method(load_config(TINY, over + ["optim.grad_clip=1e-3", "optim.lr=0.1"]), torch.device("cpu"))
    before = [p.detach().clone() for p in clipped.net.parameters()]
    clipped.train_step({"poses2d": x})
    grad_norm = torch.norm(torch.stack([p.grad.norm() for p in clipped.net.parameters() if p.grad is not None]))
    assert float(grad_norm) <= 1e-3 * 1.01  # the gradient the optimiser used was clipped
    assert any(not torch.equal(a, b) for a, b in zip(before, clipped.net.parameters()))
    with pytest.raises(ValueError, match="init_lifter needs flow_pretrain.init"):
        create_method(load_config(TINY, FAST + [f"init_lifter={tmp_path / 'base' / 'last.pt'}"]), torch.device("cpu"))


@pytest.mark.parametrize(
    "name, check",
    [
        (
            "elepose_bandai-2d_cpu-mid_no-elevation",
            lambda m: not m.use_elevation and "elevation" not in m.lifter()(_poses2d(4)),
        ),
        ("elepose_bandai-2d_cpu-mid_no-pca", lambda m: not m.prior.use_pca),
        ("elepose_bandai-2d_cpu-mid_no-bone-prior", lambda m: m.bone_ratios is None),
        ("elepose_bandai-2d_cpu-mid", lambda m: m.use_elevation and m.prior.use_pca and m.bone_ratios is not None),
    ],
)
def test_ablation_configs_build(name, check):
    cfg = load_config(REPO / "config" / "train" / "elepose" / f"{name}.yaml")
    m = create_method(cfg, torch.device("cpu"))  # the pretrained prior loads lazily: works on a fresh clone
    assert check(m)
