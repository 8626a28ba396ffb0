"""Rank candidate teachers for "ours" without 3D: the plausibility NLL of each one's predictions on
held-out 2D, all under ONE prior and scorer (so the numbers are comparable across runs whose own
priors differ), and the mean-ensemble of the kept ones.

    python -m training.studies.ours_teachers --reference CKPT TEACHER.pt [TEACHER.pt ...] \
        [--keep-within 1.0] [--json OUT]

``--reference``: an elepose or ours checkpoint whose prior and scorer (views at its learned elevation
distribution) score everyone. Teachers: elepose or ours checkpoints (ours: its current network).
The 2D is the validation evaluation set (``val.max_poses`` poses, the same the trainer validates on).
A teacher is kept when its mean NLL is within ``--keep-within`` nats of the best one: the 3D-free rule
that drops runs which converged to the depth-inverted solution. With ``--with-3d`` the validation
PA-MPJPE of each teacher and of the kept teachers' mean is printed too, for the record only.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

from hpe3d_ros.atomic import atomic_write_text
from training.models.ours import MeanLifter
from training.teachers import network, plausibility
from training.trainer import method_from_checkpoint


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.studies.ours_teachers", description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--reference", required=True, help="elepose/ours checkpoint whose prior and scorer score all teachers"
    )
    p.add_argument("teachers", nargs="+")
    p.add_argument("--keep-within", type=float, default=1.0, help="keep teachers within this many nats of the best")
    p.add_argument("--max-poses", type=int, default=2048)
    p.add_argument(
        "--with-3d", action="store_true", help="also print validation PA-MPJPE (for the record; not used to choose)"
    )
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    from training.data import batches as data_mod
    from training.trainer import metrics_3d, predicted_shape

    ref, ckpt = method_from_checkpoint(args.reference)
    cfg = dict(ckpt["config"])
    cfg["val"] = {**cfg["val"], "max_poses": args.max_poses}
    val = data_mod.load_validation(cfg, "elepose", torch.device("cpu"))
    rows = []
    nets = {}
    for t in args.teachers:
        nets[t] = network(t)
        row = {"teacher": t, "nll": plausibility(ref.scorer, nets[t], val["poses2d"])}
        if args.with_3d:
            row["val_pa_mpjpe_mm"] = metrics_3d(predicted_shape(nets[t], val["poses2d"], "elepose"), val["gt3d"])[
                "pa_mpjpe_mm"
            ]
        rows.append(row)
        print(json.dumps(row), flush=True)
    best = min(r["nll"] for r in rows)
    kept = [r["teacher"] for r in rows if r["nll"] <= best + args.keep_within]
    out = {"reference": args.reference, "val_source": val["source"], "rows": rows, "kept": kept}
    mean = MeanLifter([nets[t] for t in kept])
    out["kept_mean_nll"] = plausibility(ref.scorer, mean, val["poses2d"])
    if args.with_3d:
        out["kept_mean_val_pa_mpjpe_mm"] = metrics_3d(predicted_shape(mean, val["poses2d"], "elepose"), val["gt3d"])[
            "pa_mpjpe_mm"
        ]
    print(json.dumps({k: v for k, v in out.items() if k != "rows"}))
    if args.json:
        atomic_write_text(args.json, json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
