"""The lifters evaluation table: every model on the same test split and the same 2D input, mean and
spread over seeds.

    python -m training.studies.results_table config/results/lifters_table.yaml \
        [--out docs/results_lifters.json] [--markdown]

The spec (YAML) lists rows; each row has a ``label``, the ``models`` (one per seed: ONNX files with
their manifest, or training checkpoints ``.pt``), optionally ``noisy: true`` (the split's
mild-noise 2D, 3 px at 200 px: the noisy rows of docs/results.md's lifter tables) and a ``command``
(how to reproduce the models). Instead of ``models`` a row may
take its per-seed metrics from another study's JSON output: ``from_json: {path: FILE, group: NAME}``
reads ``FILE["groups"][NAME]``, a list of per-seed metric dicts (training/studies/tipsy.py writes those).
Each model goes through
``training.evaluation`` (the code of ``hpe3d eval``, hence through hpe3d_ros.lifting.Lifter);
the row holds every seed's metrics, their mean and their sample standard deviation. Missing model
files are listed under ``missing`` (the row is kept with the seeds that exist).
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

from hpe3d_ros.atomic import atomic_write_text
from hpe3d_ros.strict_json import json_safe
from training import evaluation
from training.config import yaml_load

KEYS = ("mpjpe_mm", "n_mpjpe_mm", "pa_mpjpe_mm", "pck3d", "auc", "cps", "elevation_err_deg", "spearman_nll_pa")
_CACHE: dict = {}


def evaluate_model(model: str | Path, split: str = "test", noisy: bool = False) -> dict:
    """The table's metrics of one model on an evaluation split (the same code as ``hpe3d eval``)."""
    key = (split, noisy)
    if key not in _CACHE:
        _CACHE[key] = evaluation.load_split(split, noise="mild" if noisy else None)
    data = _CACHE[key]
    pred = evaluation.predict(str(model), data)
    result, _ = evaluation.score(pred, data)
    return {k: result.get(k) for k in KEYS}


def aggregate(per_seed: list[dict]) -> dict:
    """Mean and sample standard deviation (0 for one seed) of each metric over seeds."""
    out: dict = {"mean": {}, "std": {}}
    for k in KEYS:
        vals = [float(r[k]) for r in per_seed if r.get(k) is not None and math.isfinite(float(r[k]))]
        out["mean"][k] = float(np.mean(vals)) if vals else None
        out["std"][k] = float(np.std(vals, ddof=1)) if len(vals) > 1 else (0.0 if vals else None)
    return out


def _table_row(row: dict, per_seed: list[dict], missing: list[str], **extra) -> dict:
    """One row of the table from its spec entry and per-seed results (mean and spread added)."""
    return {
        "label": row["label"],
        "noisy": bool(row.get("noisy", False)),
        "command": row.get("command", ""),
        "seeds": len(per_seed),
        "per_seed": per_seed,
        "missing": missing,
        **extra,
        **aggregate(per_seed),
    }


def build_table(spec: dict, split: str = "test", reuse: list[dict] | None = None) -> list[dict]:
    """Evaluate every row of a spec; returns the rows with per-seed metrics and aggregates.

    ``reuse``: rows of an earlier output; a row with the same label, noise and models, all of which
    were evaluated then and are unchanged since (file modification time), is copied, not re-evaluated.
    """
    old = {(r["label"], r["noisy"]): r for r in (reuse or [])}
    rows = []
    for row in spec["rows"]:
        prev = old.get((row["label"], bool(row.get("noisy", False))))
        if (
            prev
            and "models" in row
            and not prev["missing"]
            and [p["model"] for p in prev["per_seed"]] == list(row["models"])
            and all(
                Path(m).is_file() and Path(m).stat().st_mtime == p.get("mtime")
                for m, p in zip(row["models"], prev["per_seed"])
            )
        ):
            rows.append(prev)
            continue
        if "from_json" in row:
            src = row["from_json"]
            per_seed = json.loads(Path(src["path"]).read_text())["groups"][src["group"]]
            rows.append(_table_row(row, per_seed, missing=[], source=src))
            continue
        models = [Path(m) for m in row["models"]]
        present = [m for m in models if m.is_file()]
        per_seed = []
        for m in present:
            r = evaluate_model(m, split, bool(row.get("noisy", False)))
            r["model"] = str(m)
            r["mtime"] = m.stat().st_mtime
            per_seed.append(r)
            print(json.dumps(json_safe({row["label"]: r})), file=sys.stderr, flush=True)
        rows.append(_table_row(row, per_seed, missing=[str(m) for m in models if not m.is_file()]))
    return rows


def _fmt(mean, std, digits: int) -> str:
    if mean is None:
        return "-"
    return f"{mean:.{digits}f} ± {std:.{digits}f}" if std else f"{mean:.{digits}f}"


def markdown(rows: list[dict]) -> str:
    """The table as markdown (mean ± sample std over seeds; n = seeds)."""
    head = "| model | 2D input | n | MPJPE mm | N-MPJPE mm | PA-MPJPE mm | PCK3D | AUC | CPS mm |"
    lines = [head, "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        m, s = r["mean"], r["std"]
        lines.append(
            f"| {r['label']} | {'noisy' if r['noisy'] else 'clean'} | {r['seeds']} | "
            f"{_fmt(m['mpjpe_mm'], s['mpjpe_mm'], 1)} | "
            f"{_fmt(m['n_mpjpe_mm'], s['n_mpjpe_mm'], 1)} | {_fmt(m['pa_mpjpe_mm'], s['pa_mpjpe_mm'], 1)} | "
            f"{_fmt(m['pck3d'], s['pck3d'], 3)} | {_fmt(m['auc'], s['auc'], 3)} | {_fmt(m['cps'], s['cps'], 1)} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.studies.results_table", description=__doc__.split("\n\n")[0])
    p.add_argument("spec", type=Path, help="YAML with rows: label, models, [noisy], [command]")
    p.add_argument("--split", default="test")
    p.add_argument("--out", type=Path, help="write the rows as JSON here")
    p.add_argument("--markdown", action="store_true", help="print the markdown table on stdout")
    p.add_argument("--reuse", type=Path, help="an earlier --out JSON: unchanged rows are copied, not re-evaluated")
    args = p.parse_args(argv)
    if not args.spec.is_file():
        print(f"error: spec {args.spec} not found", file=sys.stderr)
        return 1
    spec = yaml_load(args.spec.read_text())
    if not isinstance(spec, dict) or not isinstance(spec.get("rows"), list):
        print(f"error: {args.spec}: expected a mapping with a list 'rows'", file=sys.stderr)
        return 1
    reuse = json.loads(args.reuse.read_text())["rows"] if args.reuse and args.reuse.is_file() else None
    rows = build_table(spec, args.split, reuse)
    if args.out:
        atomic_write_text(
            args.out, json.dumps(json_safe({"split": args.split, "rows": rows}), indent=1) + "\n"
        )
    if args.markdown:
        print(markdown(rows), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
