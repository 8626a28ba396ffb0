"""`hpe3d export --checkpoint C --out engines/NAME.onnx [--name N] [--metrics eval.json]`, or
`hpe3d export --bind engines/NAME.onnx` to bind a model and its (edited) manifest again."""
from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", help="training checkpoint (runs/<name>/best.pt or last.pt)")
    parser.add_argument("--out", help="ONNX file to write (the manifest goes beside it as .json)")
    parser.add_argument(
        "--bind",
        metavar="MODEL.onnx",
        help="instead of exporting: bind an ONNX model and the manifest beside it again (after editing the "
        "manifest on purpose); weights unchanged",
    )
    parser.add_argument("--name", default=None, help="model name in the manifest (default: the file stem)")
    parser.add_argument(
        "--metrics",
        default=None,
        help="JSON with the metrics to record (e.g. `hpe3d eval --json` output); default: the checkpoint's validation "
        "metrics",
    )


def run(args: argparse.Namespace) -> int:
    from training.export import bind_model, export_checkpoint

    if args.bind:
        if args.checkpoint or args.out:
            raise ValueError("--bind takes no --checkpoint or --out")
        print(f"bound {args.bind} and {bind_model(args.bind)}")
        return 0
    if not (args.checkpoint and args.out):
        raise ValueError("give --checkpoint and --out (or --bind MODEL)")

    metrics = None
    if args.metrics:
        p = Path(args.metrics)
        try:
            metrics = json.loads(p.read_text())
        except (OSError, json.JSONDecodeError) as e:
            raise ValueError(f"--metrics {p}: not a readable JSON file ({e})") from e
        if not isinstance(metrics, dict):
            raise ValueError(f"--metrics {p}: expected a JSON object")
    command = (
        "hpe3d " + " ".join(shlex.quote(a) for a in sys.argv[1:])
        if sys.argv[1:2] == ["export"]
        else f"hpe3d export --checkpoint {args.checkpoint} --out {args.out}"
        + (f" --name {args.name}" if args.name else "")
    )
    onnx_path, manifest_path = export_checkpoint(args.checkpoint, args.out, args.name, metrics, command)
    print(f"wrote {onnx_path} and {manifest_path}")
    return 0
