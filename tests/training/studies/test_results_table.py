"""training.studies.results_table: aggregation over seeds, rows read from a study's JSON, markdown (no models)."""
from __future__ import annotations

import json

import pytest

from training.studies import results_table as rt


def _metrics(pa: float) -> dict:
    return {"mpjpe_mm": 2 * pa, "n_mpjpe_mm": 1.5 * pa, "pa_mpjpe_mm": pa, "pck3d": 0.5, "auc": 0.3, "cps": 100.0,
            "elevation_err_deg": None, "spearman_nll_pa": None}


def test_aggregate_mean_and_sample_std():
    agg = rt.aggregate([_metrics(10.0), _metrics(20.0), _metrics(30.0)])
    assert agg["mean"]["pa_mpjpe_mm"] == pytest.approx(20.0)
    assert agg["std"]["pa_mpjpe_mm"] == pytest.approx(10.0)  # ddof = 1
    assert agg["mean"]["elevation_err_deg"] is None
    one = rt.aggregate([_metrics(10.0)])
    assert one["std"]["pa_mpjpe_mm"] == 0.0


def test_rows_from_study_json_and_missing_models(tmp_path):
    study = tmp_path / "study.json"
    study.write_text(json.dumps({"groups": {"solo generator": [_metrics(80.0), _metrics(90.0)]}}))
    spec = {"rows": [
        {"label": "solo", "from_json": {"path": str(study), "group": "solo generator"}, "command": "c"},
        {"label": "absent", "models": [str(tmp_path / "nope.onnx")]},
    ]}
    rows = rt.build_table(spec)
    assert rows[0]["seeds"] == 2 and rows[0]["mean"]["pa_mpjpe_mm"] == pytest.approx(85.0)
    assert rows[1]["seeds"] == 0 and rows[1]["missing"] == [str(tmp_path / "nope.onnx")]
    md = rt.markdown(rows)
    assert "| solo | clean | 2 | 170.0 ± 14.1 |" in md and "| absent | clean | 0 | - |" in md


def test_main_refuses_bad_spec(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("rows: 3\n")
    assert rt.main([str(bad)]) == 1
    assert "rows" in capsys.readouterr().err
    assert rt.main([str(tmp_path / "missing.yaml")]) == 1
