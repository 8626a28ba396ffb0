"""training.studies.scorer_views: Spearman of the plausibility score for several scorer view settings."""
from __future__ import annotations

import math
from pathlib import Path

import pytest

from training.config import load_config
from training.studies.scorer_views import parse_view, scorer_spearman
from training.trainer import train

REPO = Path(__file__).resolve().parents[3]


def test_parse_view():
    assert parse_view("8x-1,0,1") == (8, [-1.0, 0.0, 1.0])
    assert parse_view("4x0") == (4, [0.0])
    for bad in ("8", "x0", "0x0", "4x"):
        with pytest.raises(ValueError, match="view setting"):
            parse_view(bad)


def test_views_on_a_tiny_run_over_the_bundled_fixture(tmp_path):
    cfg = load_config(
        REPO / "config" / "train" / "elepose" / "elepose_synthetic_tiny.yaml",
        ["data.synthetic_poses=512", "val.max_poses=128"],
    )
    train(cfg, out_dir=tmp_path / "run", progress=False)
    rows = scorer_spearman(tmp_path / "run" / "last.pt", ["4x0", "2x-1,1"], split="fixture")
    assert [r["count"] for r in rows] == [4, 4]
    assert all(math.isfinite(r["spearman_nll_pa"]) and -1 <= r["spearman_nll_pa"] <= 1 for r in rows)
    assert rows[0]["spearman_nll_pa"] != rows[1]["spearman_nll_pa"]  # the views change the score
