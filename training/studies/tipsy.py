"""Summarise TIPSy-GAN runs: test-split metrics of the solo generator, the torso+legs generators and
the distilled student, mean and spread over seeds, and how close the 3D-free selection score's pick
comes to the best epoch by 3D error (validation split).

    python -m training.studies.tipsy runs/tipsy-gan_bandai-2d_cpu-mid_seed* \
        runs/tipsy-gan-solo_bandai-2d_cpu-mid_seed* \
        [--split test] [--noisy] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from hpe3d_ros import camera, metric, normalization

ROW_KEYS = ("mpjpe_mm", "n_mpjpe_mm", "pa_mpjpe_mm", "pck3d", "auc", "cps")


def _predict(module: torch.nn.Module, data: dict, kind: str, batch: int = 8192):
    from training.evaluation import Prediction

    xy = camera.pixels_to_normalized(data["keypoints"], data["intrinsics"])
    poses2d, _ = normalization.normalize_2d(xy, kind)
    module.eval()
    depth = []
    with torch.no_grad():
        for s in range(0, len(poses2d), batch):
            depth.append(module(torch.as_tensor(poses2d[s : s + batch], dtype=torch.float32))["depth"].double().numpy())
    shape = normalization.lift_to_3d(poses2d, np.concatenate(depth), kind)
    return Prediction(
        shape=shape,
        joints_m=metric.scale_to_height(shape),
        elevation=None,
        nll=None,
        backend="torch",
        normalization=kind,
    )


class FlatLifter(torch.nn.Module):
    """Reference lifter: depth 0 for every joint (the 2D pose as a flat 3D shape)."""

    def forward(self, poses2d: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"depth": torch.zeros(poses2d.shape[:2], dtype=poses2d.dtype)}


def evaluate_checkpoint(path: str | Path, data: dict) -> dict[str, dict]:
    """Metrics of every lifter in a TIPSy checkpoint: "generators" (torso+legs or solo) and, for
    "tipsy", "distilled" (the student)."""
    from training.evaluation import score
    from training.trainer import method_from_checkpoint

    method, _ = method_from_checkpoint(path)
    out = {"generators": score(_predict(method.generator, data, method.normalization), data)[0]}
    if hasattr(method, "student"):
        out["distilled"] = score(_predict(method.student, data, method.normalization), data)[0]
    return out


def selection_study(history: list[dict], gan_epochs: int | None = None, key: str = "pa_mpjpe_mm") -> dict:
    """Over the GAN epochs of one run: the epoch the 3D-free selection score picks, the best epoch
    by validation 3D error, the last one, their errors, and the rank correlation of score and error."""
    from training.evaluation import spearman

    rows = [h for h in history if "selection_score" in h["val"] and key in h["val"]]
    if gan_epochs is not None:
        rows = [h for h in rows if h["epoch"] < gan_epochs]
    if not rows:
        return {}
    score = np.array([h["val"]["selection_score"] for h in rows])
    err = np.array([h["val"][key] for h in rows])
    pick, best = int(np.argmin(score)), int(np.argmin(err))
    return {
        "picked_epoch": rows[pick]["epoch"],
        "picked_err": float(err[pick]),
        "best_epoch": rows[best]["epoch"],
        "best_err": float(err[best]),
        "last_epoch": rows[-1]["epoch"],
        "last_err": float(err[-1]),
        "gap_pct": float(100.0 * (err[pick] - err[best]) / err[best]),
        "spearman": spearman(score, err) if len(rows) > 2 else float("nan"),
    }


def _mean_std(values: list[float]) -> str:
    v = np.array(values, dtype=np.float64)
    return f"{v.mean():.1f} ± {v.std(ddof=1) if len(v) > 1 else 0.0:.1f}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="+", help="run directories (with last.pt and metrics.json)")
    p.add_argument("--split", default="test")
    p.add_argument("--noisy", action="store_true", help="the mild-noise 2D (3 px at 200 px) of the TIPSy tables")
    p.add_argument("--json", default=None, help="write all numbers to this JSON file")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    from training.evaluation import load_split

    data = load_split(args.split, noise="mild" if args.noisy else None)
    groups: dict[str, list[dict]] = {}
    per_run = {}
    for run in args.runs:
        run = Path(run)
        summary = json.loads((run / "metrics.json").read_text())
        cfg = torch.load(run / "last.pt", map_location="cpu", weights_only=True)["config"]
        method = cfg["method"]
        gan_epochs = cfg["epochs"] - cfg.get("stages", {}).get("distill_epochs", 0) if method == "tipsy" else None
        res = evaluate_checkpoint(run / "last.pt", data)
        sel = selection_study(summary["history"], gan_epochs)
        walls = [h["epoch_wall_s"] for h in summary["history"]]
        n_gan = gan_epochs if gan_epochs is not None else len(walls)
        stage_wall = {"gan_s": float(sum(walls[:n_gan])), "distill_s": float(sum(walls[n_gan:]))}
        per_run[str(run)] = {
            "method": method,
            "seed": cfg["seed"],
            "wall_s": summary["wall_s"],
            "stage_wall": stage_wall,
            "test": res,
            "selection": sel,
        }
        names = {
            "generators": "solo generator" if method == "tipsy_solo" else "torso+legs generators",
            "distilled": "distilled TIPSy",
        }
        for k, r in res.items():
            groups.setdefault(names[k], []).append(
                {**{m: r[m] for m in ROW_KEYS}, "wall_s": summary["wall_s"], "seed": cfg["seed"]}
            )
    from training.evaluation import score as score_fn

    flat = score_fn(_predict(FlatLifter(), data, "tipsy"), data)[0]
    groups["reference: flat pose (depth 0 everywhere)"] = [
        {**{m: flat[m] for m in ROW_KEYS}, "wall_s": 0.0, "seed": "-"}
    ]
    split = args.split + (" (noisy 2D)" if args.noisy else "")
    print(
        f"| model ({split}) | seeds | MPJPE mm | N-MPJPE mm | PA-MPJPE mm | PCK3D % | AUC % | CPS mm | train wall s |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, rows in groups.items():
        cells = [_mean_std([r[k] * (100 if k in ("pck3d", "auc") else 1) for r in rows]) for k in ROW_KEYS]
        seeds = ",".join(str(r["seed"]) for r in rows)
        print(f"| {name} | {seeds} | " + " | ".join(cells) + f" | {_mean_std([r['wall_s'] for r in rows])} |")
    print()
    print(
        "| run | picked epoch (score) | its val PA-MPJPE | best epoch (3D) | best val PA-MPJPE | gap % | last epoch "
        "PA-MPJPE | Spearman(score, PA) |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for run, r in per_run.items():
        s = r["selection"]
        if s:
            print(
                f"| {Path(run).name} | {s['picked_epoch']} | {s['picked_err']:.1f} | {s['best_epoch']} | "
                f"{s['best_err']:.1f} | "
                f"{s['gap_pct']:.1f} | {s['last_err']:.1f} | {s['spearman']:.2f} |"
            )
    print()
    print("| run | GAN stage wall s | distillation wall s | total wall s |")
    print("| --- | --- | --- | --- |")
    for run, r in per_run.items():
        w = r["stage_wall"]
        print(f"| {Path(run).name} | {w['gan_s']:.0f} | {w['distill_s']:.0f} | {r['wall_s']:.0f} |")
    if args.json:
        Path(args.json).write_text(json.dumps({"groups": groups, "runs": per_run}, indent=1, default=float) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
