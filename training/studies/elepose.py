"""The ElePose measurements of docs/results.md: test-split metrics of runs, the plausibility score's
rank correlation with the per-pose error, and 3D-free model selection against the best epoch.

    python -m training.studies.elepose eval RUN_DIR [RUN_DIR ...] [--noisy] [--out FILE.json]
    python -m training.studies.elepose select RUN_DIR [--out FILE.json]

``eval`` scores each run's ``best.pt`` (chosen by the selection score, i.e. without 3D) on the test
split through the runtime (hpe3d_ros.lifting.Lifter, torch backend), like ``hpe3d eval``.
``select`` scores every ``epoch_NNN.pt`` of a run kept with ``keep_epoch_checkpoints: true`` and
reports the epoch the 3D-free selection score picks (lowest mean plausibility NLL on held-out val
2D) against the epoch with the lowest test PA-MPJPE (an oracle that uses 3D).
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from hpe3d_ros.atomic import atomic_write_text
from hpe3d_ros.strict_json import json_safe
from training import evaluation

KEYS = ("mpjpe_mm", "n_mpjpe_mm", "pa_mpjpe_mm", "pck3d", "auc", "cps", "elevation_err_deg", "spearman_nll_pa")


def evaluate(model: str | Path, split: str = "test", noisy: bool = False, data: dict | None = None) -> dict:
    """The headline metrics of one model (checkpoint or ONNX) on an evaluation split (or ``data``)."""
    data = evaluation.load_split(split, noise="mild" if noisy else None) if data is None else data
    pred = evaluation.predict(model, data)
    result, _ = evaluation.score(pred, data)
    return {k: result.get(k) for k in KEYS}


def evaluate_checkpoint_fast(ckpt: str | Path, data: dict) -> dict:
    """Like ``evaluate`` for a training checkpoint but without the plausibility scorer (only the
    lifter's depth and elevation): the same shapes and 3D metrics at a fraction of the cost."""
    import torch

    from hpe3d_ros import camera, metric, normalization
    from training.trainer import method_from_checkpoint

    method, _ = method_from_checkpoint(ckpt, "cpu")
    net = getattr(method, "net", None) or method.lifter()
    kind = method.normalization
    xy = camera.pixels_to_normalized(data["keypoints"], data["intrinsics"])
    x, _ = normalization.normalize_2d(xy, kind)
    with torch.no_grad():
        out = net.eval()(torch.as_tensor(x, dtype=torch.float32))
    shape = normalization.lift_to_3d(x, out["depth"].double().numpy(), kind)
    elev = out["elevation"].double().numpy() if "elevation" in out else None
    pred = evaluation.Prediction(shape=shape, joints_m=metric.scale_to_height(shape), elevation=elev, nll=None,
                                 backend="torch (lifter only)", normalization=kind)
    result, _ = evaluation.score(pred, data)
    return {k: result.get(k) for k in KEYS}


def run_summary(run_dir: Path) -> dict:
    """metrics.json of a run: wall time, the chosen epoch and its validation values."""
    m = json.loads((run_dir / "metrics.json").read_text())
    return {"wall_s": m["wall_s"], "best_epoch": m["best"]["epoch"], "criterion": m["best"]["criterion"],
            "epochs": m["epochs"], "seed": m["seed"]}


def selection(run_dir: Path, split: str = "test") -> dict:
    """Per-epoch selection score (val 2D) and test PA-MPJPE; the selected vs the oracle epoch."""
    m = json.loads((run_dir / "metrics.json").read_text())
    data = evaluation.load_split(split)
    rows = []
    for h in m["history"]:
        ckpt = run_dir / f"epoch_{h['epoch']:03d}.pt"
        if not ckpt.is_file():
            continue
        test = evaluate_checkpoint_fast(ckpt, data)
        rows.append({"epoch": h["epoch"], "selection_score": h["val"].get("selection_score"),
                     "val_pa_mpjpe_mm": h["val"].get("pa_mpjpe_mm"), "test_pa_mpjpe_mm": test["pa_mpjpe_mm"],
                     "test_mpjpe_mm": test["mpjpe_mm"]})
    if not rows:
        raise FileNotFoundError(f"{run_dir}: no epoch_NNN.pt checkpoints (train with keep_epoch_checkpoints: true)")
    scored = [r for r in rows if r["selection_score"] is not None and math.isfinite(r["selection_score"])]
    picked = min(scored, key=lambda r: r["selection_score"])
    oracle = min(rows, key=lambda r: r["test_pa_mpjpe_mm"])
    by_val3d = min(rows, key=lambda r: r["val_pa_mpjpe_mm"])
    return {
        "rows": rows,
        "selected_epoch": picked["epoch"], "selected_test_pa_mpjpe_mm": picked["test_pa_mpjpe_mm"],
        "oracle_epoch": oracle["epoch"], "oracle_test_pa_mpjpe_mm": oracle["test_pa_mpjpe_mm"],
        "val3d_epoch": by_val3d["epoch"], "val3d_test_pa_mpjpe_mm": by_val3d["test_pa_mpjpe_mm"],
        "last_epoch": rows[-1]["epoch"], "last_test_pa_mpjpe_mm": rows[-1]["test_pa_mpjpe_mm"],
        "gap_to_oracle_pct": 100.0 * (picked["test_pa_mpjpe_mm"] / oracle["test_pa_mpjpe_mm"] - 1.0),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.studies.elepose", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("eval", help="test metrics of runs' best.pt")
    e.add_argument("runs", nargs="+", type=Path)
    e.add_argument(
        "--noisy",
        action="store_true",
        help="the mild-noise 2D of the split (3 px at 200 px; the noisy columns of docs/results.md's ElePose tables)",
    )
    e.add_argument("--split", default="test")
    e.add_argument("--out", type=Path)
    s = sub.add_parser("select", help="3D-free model selection against the best epoch")
    s.add_argument("run", type=Path)
    s.add_argument("--split", default="test")
    s.add_argument("--out", type=Path)
    args = p.parse_args(argv)
    if args.cmd == "eval":
        out = {}
        data = evaluation.load_split(args.split, noise="mild" if args.noisy else None)
        for run in args.runs:
            out[str(run)] = {**run_summary(run), **evaluate(run / "best.pt", data=data), "noisy": args.noisy}
            print(json.dumps({str(run): out[str(run)]}), flush=True)
    else:
        out = selection(args.run, args.split)
        print(json.dumps(json_safe(out), indent=1))
    if args.out:
        atomic_write_text(args.out, json.dumps(json_safe(out), indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
