"""`hpe3d train config/train/<family>/x.yaml [--out DIR] [--resume] [--set key.sub=value ...]`."""
from __future__ import annotations

import argparse
import json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", help="training config (config/train/<family>/*.yaml, or its file name)")
    parser.add_argument(
        "--out", default=None, help="output directory (default: the config's out_dir, runs/<config name>)"
    )
    parser.add_argument("--resume", action="store_true", help="continue from <out>/last.pt")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config value, e.g. --set optim.lr=1e-4 (repeatable; values are YAML)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from training.config import load_config
    from training.trainer import train

    config = load_config(args.config, args.overrides)
    if args.out:
        config["out_dir"] = args.out
    summary = train(config, out_dir=config["out_dir"], resume=args.resume, progress=False if args.no_progress else None)
    best = summary.get("best", {})
    print(
        json.dumps(
            {
                "out_dir": config["out_dir"],
                "wall_s": round(summary["wall_s"], 1),
                "best_epoch": best.get("epoch"),
                "best": {k: v for k, v in (best.get("val") or {}).items() if isinstance(v, float)},
            },
            indent=2,
        )
    )
    return 0
