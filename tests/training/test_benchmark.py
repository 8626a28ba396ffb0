"""Both benchmarks (training.benchmark) and `hpe3d eval --cross` through the runtime path with the
shipped default engine, on the bundled fixtures (no ../shared needed)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hpe3d_ros.cli import main
from tests.training.data.test_crossdata import standing_pose
from training import benchmark, evaluation
from training.data import crossdata

ENGINE = Path(__file__).resolve().parents[2] / "engines" / "ours_bandai.onnx"


def test_elevation_stats_and_view_regimes():
    s = benchmark.elevation_stats(np.radians([10.0, 20.0]), np.radians([5.0, 25.0]))
    assert s == {"bias_deg": pytest.approx(0.0), "mae_deg": pytest.approx(5.0), "n": 2}
    assert benchmark.elevation_stats(np.zeros(0), np.zeros(0))["n"] == 0
    r = benchmark.view_regime({"elevation": np.radians([-3.0, 9.9, 10.1, 29.0, 30.1, 55.0])})
    assert list(r) == ["level", "level", "robot", "robot", "cctv", "cctv"]


def test_evaluate_set_reports_views_sizes_and_upright_motions():
    poses = np.repeat(standing_pose()[None], 60, axis=0)
    r = crossdata.sample_views(poses, crossdata.CrossCameraConfig(), np.random.default_rng(0))
    content = np.array(["walk", "lieDownFloor"])[np.arange(60) % 2]
    data = evaluation.validate_eval_set(
        {
            "keypoints": r["keypoints"],
            "intrinsics": r["intrinsics"],
            "joints3d": r["joints_cam"],
            "elevation": r["elevation"],
            "person_px": r["person_px"],
            "content": content,
        }
    )
    out = benchmark.evaluate_set(ENGINE, data)
    assert out["n_poses"] == 60
    assert set(out["per_view"]) == {"level", "robot", "cctv"}
    assert sum(v["n"] for v in out["per_view"].values()) == 60
    assert sum(v["n"] for v in out["per_size_pa_mm"].values()) == 60
    assert out["elevation"]["mae_deg"] >= abs(out["elevation"]["bias_deg"])
    assert out["per_view"]["level"]["elevation_upright_motions"]["n"] < out["per_view"]["level"]["n"]
    assert 0 < out["pa_mpjpe_mm"] < 300


def test_eval_cross_on_the_fixtures(capsys):
    assert main(["eval", "--model", str(ENGINE), "--cross", "--split", "fixture", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    s = res["sets"]
    assert set(s) == set(benchmark.DEFAULT_SETS)
    assert (
        s["in_domain"]["n_poses"] == 3000
        and s["cross"]["n_poses"] == benchmark.load_cross_fixture()["keypoints"].shape[0]
    )
    # the default model generalises worse to unseen bodies and motions, and real 2D error costs more
    assert s["cross"]["pa_mpjpe_mm"] > s["in_domain"]["pa_mpjpe_mm"]
    assert s["in_domain_noisy"]["pa_mpjpe_mm"] > s["in_domain"]["pa_mpjpe_mm"]
    assert res["ratio_pa"]["cross"] == pytest.approx(s["cross"]["pa_mpjpe_mm"] / s["in_domain"]["pa_mpjpe_mm"])
    assert main(["eval", "--model", str(ENGINE), "--cross", "--split", "fixture", "--markdown"]) == 0
    text = capsys.readouterr().out
    assert "| ours_bandai.onnx | clean |" in text and "level (<10 deg)" in text


def test_eval_cross_refuses_single_set_options(capsys):
    assert main(["eval", "--model", str(ENGINE), "--cross", "--noisy"]) == 2
    assert "--cross" in capsys.readouterr().err


def test_noisy_splits_are_seeded_and_keep_the_true_size(capsys):
    a = benchmark.load_set("cross_noisy", "fixture")
    b = benchmark.load_set("cross_noisy", "fixture")
    clean = benchmark.load_set("cross", "fixture")
    np.testing.assert_array_equal(a["keypoints"], b["keypoints"])
    np.testing.assert_array_equal(a["person_px"], clean["person_px"])
    assert main(["eval", "--model", str(ENGINE), "--split", "cross-fixture", "--mild-noise"]) == 2
    assert "--mild-noise is defined for the Bandai splits only" in capsys.readouterr().err
