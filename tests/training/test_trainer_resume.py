"""The generic trainer: loss decreases, resume reproduces an uninterrupted run, checkpoints load
with weights_only=True, metrics.json and TensorBoard logs are written."""
from __future__ import annotations

import json
from pathlib import Path

import torch

from training.config import load_config
from training.trainer import load_checkpoint, method_from_checkpoint, train

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / "config" / "train" / "supervised-martinez" / "supervised-martinez_synthetic_tipsy-norm_tiny.yaml"


def test_tiny_config_trains_and_loss_decreases(tmp_path):
    cfg = load_config(TINY, ["epochs=4"])
    summary = train(cfg, out_dir=tmp_path / "run", progress=False)
    losses = [h["train"]["depth_mse"] for h in summary["history"]]
    assert len(losses) == 4
    assert losses[-1] < 0.7 * losses[0], losses
    assert summary["history"][-1]["val"]["mpjpe_mm"] < summary["history"][0]["val"]["mpjpe_mm"]
    for name in ("last.pt", "best.pt", "metrics.json"):
        assert (tmp_path / "run" / name).is_file(), name
    written = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert written["best"]["criterion"] == "pa_mpjpe_mm"
    assert list((tmp_path / "run" / "tb").glob("events.out.tfevents.*"))


def test_resumed_run_matches_uninterrupted_run(tmp_path):
    noisy = ["data.noise.jitter_px=3.0", "data.noise.drop_prob=0.05", "model.dropout=0.2"]
    full = train(load_config(TINY, ["epochs=3"] + noisy), out_dir=tmp_path / "full", progress=False)
    train(load_config(TINY, ["epochs=1"] + noisy), out_dir=tmp_path / "part", progress=False)
    resumed = train(load_config(TINY, ["epochs=3"] + noisy), out_dir=tmp_path / "part", resume=True, progress=False)
    a = load_checkpoint(tmp_path / "full" / "last.pt")
    b = load_checkpoint(tmp_path / "part" / "last.pt")
    assert a["epoch"] == b["epoch"] == 2
    for name, state in a["modules"]["lifter"].items():
        assert torch.equal(state, b["modules"]["lifter"][name]), name
    assert [h["train"] for h in full["history"]] == [h["train"] for h in resumed["history"]]
    assert full["history"][-1]["val"]["mpjpe_mm"] == resumed["history"][-1]["val"]["mpjpe_mm"]


def test_checkpoint_loads_with_weights_only_and_rebuilds_the_lifter(tmp_path):
    train(load_config(TINY, ["epochs=1"]), out_dir=tmp_path, progress=False)
    raw = torch.load(tmp_path / "last.pt", weights_only=True)
    assert set(raw) >= {"modules", "optimizers", "schedulers", "rng", "epoch", "config"}
    method, _ = method_from_checkpoint(tmp_path / "best.pt")
    out = method.lifter()(torch.zeros(3, 16, 2))
    assert out["depth"].shape == (3, 16)


def test_resume_without_checkpoint_is_a_clear_error(tmp_path):
    import pytest

    with pytest.raises(FileNotFoundError, match="last.pt"):
        train(load_config(TINY, ["epochs=1"]), out_dir=tmp_path / "empty", resume=True, progress=False)
