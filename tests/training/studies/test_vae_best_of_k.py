"""Best-of-K VAE evaluation: more samples never do worse per pose; non-VAE checkpoints are refused."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from training.config import load_config
from training.studies.vae_best_of_k import best_of_k_metrics
from training.trainer import method_from_checkpoint, train

REPO = Path(__file__).resolve().parents[3]
CFG = REPO / "config" / "train"


def test_best_of_k_improves_with_k(tmp_path):
    train(
        load_config(CFG / "supervised-vae_synthetic_tipsy-norm_tiny.yaml", ["epochs=1"]),
        out_dir=tmp_path,
        progress=False,
    )
    method, _ = method_from_checkpoint(tmp_path / "best.pt")
    gen = np.random.default_rng(0)
    poses2d = torch.as_tensor(gen.standard_normal((20, 16, 2)) * 0.3, dtype=torch.float32)
    gt = gen.standard_normal((20, 16, 3)) * 0.2
    gt -= gt[:, :1]
    one = method.best_of_k(poses2d, gt, 1, seed=3)
    many = method.best_of_k(poses2d, gt, 8, seed=3)
    e1 = np.linalg.norm(one - gt, axis=-1).mean(axis=-1)
    e8 = np.linalg.norm(many - gt, axis=-1).mean(axis=-1)
    assert np.all(e8 <= e1 + 1e-12)
    assert e8.mean() < e1.mean()
    res = best_of_k_metrics(str(tmp_path / "best.pt"), "fixture", k=2, limit=50)
    assert res["n_poses"] == 50 and np.isfinite(res["pa_mpjpe_mm"])


def test_best_of_k_refuses_a_non_vae(tmp_path):
    train(
        load_config(CFG / "supervised-martinez_synthetic_tipsy-norm_tiny.yaml", ["epochs=1"]),
        out_dir=tmp_path,
        progress=False,
    )
    with pytest.raises(ValueError, match="not a VAE"):
        best_of_k_metrics(str(tmp_path / "last.pt"), "fixture", k=2, limit=10)
