"""`hpe3d eval`: evaluate a lifter model on a deterministic evaluation split (see docs/metrics.md).

    hpe3d eval --model engines/x.onnx --split test --json
    hpe3d eval --model runs/x/checkpoint.pt --split val --report out/eval-x

The model is an ONNX file with its manifest or a training checkpoint; both run through
``hpe3d_ros.lifting.Lifter``. A manifest that disagrees with the runtime stops with exit code 1.
"""
from __future__ import annotations

import argparse
import json
import logging
import shlex
import sys
from pathlib import Path

from hpe3d_ros import skeleton
from hpe3d_ros.metric import DEFAULT_BODY_HEIGHT_M
from hpe3d_ros.strict_json import json_safe

SPLITS = ("test", "val", "fixture")
BACKENDS = ("auto", "onnxruntime", "tensorrt", "torch")


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of `hpe3d eval`."""
    p.add_argument("--model", required=True, help="ONNX model (with its .json manifest) or training checkpoint (.pt)")
    p.add_argument("--split", choices=SPLITS, default="test", help="evaluation split (default: test)")
    p.add_argument("--data", default=None, help="evaluate on this .npz evaluation set instead of --split")
    p.add_argument(
        "--noisy", action="store_true", help="use the split's detector-noisy 2D instead of clean projections"
    )
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.add_argument("--report", default=None, metavar="DIR", help="write a markdown report with plots to DIR")
    p.add_argument("--backend", choices=BACKENDS, default="auto", help="lifter backend (default: auto)")
    p.add_argument("--limit", type=int, default=None, help="evaluate at most N poses, evenly spaced over the split")
    p.add_argument(
        "--height",
        type=float,
        default=DEFAULT_BODY_HEIGHT_M,
        help="body-height prior in metres that scales predicted shapes (default: %(default)s, the runtime's; "
        f"the mocap actors are {skeleton.REFERENCE_HEIGHT_M} m tall)",
    )


def _table(result: dict) -> str:
    rows = [
        ("poses", f"{result['n_poses']}"),
        ("MPJPE", f"{result['mpjpe_mm']:.1f} mm"),
        ("N-MPJPE", f"{result['n_mpjpe_mm']:.1f} mm"),
        ("PA-MPJPE", f"{result['pa_mpjpe_mm']:.1f} mm"),
        ("PCK3D@150mm", f"{100 * result['pck3d']:.1f} %"),
        ("AUC 0-150mm", f"{100 * result['auc']:.1f} %"),
        ("CPS 0-300mm", f"{result['cps']:.1f} mm"),
        ("bone-length error", f"{result['bone_err_mm']:.1f} mm"),
    ]
    if result.get("elevation_err_deg") is not None:
        rows.append(("elevation error", f"{result['elevation_err_deg']:.2f} deg"))
    if result.get("spearman_nll_pa") is not None:
        rows.append(("Spearman(nll, PA-MPJPE)", f"{result['spearman_nll_pa']:.3f}"))
    width = max(len(r[0]) for r in rows)
    lines = [f"{result['model']} on {result['split']} ({result['backend']}; height prior {result['height_m']:.2f} m):"]
    lines += [f"  {name:<{width}}  {value}" for name, value in rows]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Evaluate; print a table or JSON; optionally write the report."""
    from hpe3d_ros.manifest import ManifestError
    from hpe3d_ros.runtime import BackendUnavailable

    from . import evaluation

    if args.data:
        data = evaluation.load_eval_file(args.data)
        split = str(args.data)
    else:
        data = evaluation.load_split(args.split, noisy=args.noisy)
        split = args.split
    data = evaluation.subset(data, args.limit)
    if not args.json:
        logging.basicConfig(level=logging.WARNING)
    try:
        pred = evaluation.predict(args.model, data, backend=args.backend, height_m=args.height)
    except ManifestError as e:
        print(f"hpe3d eval: model refused: {e}", file=sys.stderr)
        return 1
    except BackendUnavailable as e:
        print(f"hpe3d eval: backend unavailable: {e}", file=sys.stderr)
        return 1
    result, per_pose = evaluation.score(pred, data)
    result = {
        "model": str(args.model),
        "split": split,
        "noisy": bool(args.noisy),
        "backend": pred.backend,
        "normalization": pred.normalization,
        "height_m": float(args.height),
        **result,
    }
    command = "hpe3d eval " + " ".join(shlex.quote(a) for a in sys.argv[2:]) if sys.argv[1:2] == ["eval"] else ""
    if args.report:
        from .report import write_report

        path = write_report(Path(args.report), result, per_pose, data, pred, command=command)
        if not args.json:
            print(f"report: {path}")
    if args.json:
        print(json.dumps(json_safe(result), sort_keys=False))
    else:
        print(_table(result))
    return 0
