"""`hpe3d eval`: evaluate a lifter model on a deterministic evaluation split (see docs/metrics.md).

    hpe3d eval --model engines/x.onnx --split test --json
    hpe3d eval --model runs/x/checkpoint.pt --split val --report out/eval-x
    hpe3d eval --model engines/x.onnx --cross [--markdown]     # in-domain and cross-dataset side by side

Splits: the Bandai ``test``/``val`` evaluation sets, the bundled ``fixture``, the cross-dataset set
``cross`` (held-out HDM05 actors, independent cameras; training.data.crossdata), ``cross-val`` (the
HDM05 training actors: validation) and the bundled ``cross-fixture``. ``--noisy``: the fitted detector
error model on the 2D (config/detector_error_model.json); ``--mild-noise``: the earlier mild jitter.
``--cross``: both benchmarks, clean and with the detector error model (training.benchmark).

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

SPLITS = ("test", "val", "fixture", "cross", "cross-val", "cross-fixture")
BACKENDS = ("auto", "onnxruntime", "tensorrt", "torch")


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of `hpe3d eval`."""
    p.add_argument("--model", required=True, help="ONNX model (with its .json manifest) or training checkpoint (.pt)")
    p.add_argument("--split", choices=SPLITS, default="test", help="evaluation split (default: test)")
    p.add_argument("--data", default=None, help="evaluate on this .npz evaluation set instead of --split")
    noise = p.add_mutually_exclusive_group()
    noise.add_argument(
        "--noisy",
        action="store_true",
        help="the 2D with the fitted detector error model (real BlazePose error) instead of clean projections",
    )
    noise.add_argument(
        "--mild-noise",
        action="store_true",
        help="the 2D with the earlier mild jitter (3 px at 200 px, 2 %% dropped joints: the older tables' 'noisy')",
    )
    p.add_argument(
        "--cross",
        action="store_true",
        help="both benchmarks side by side: the in-domain --split (test, val or fixture; fixture pairs with "
        "cross-fixture) and the cross-dataset set, each clean and with the detector error model",
    )
    p.add_argument("--markdown", action="store_true", help="with --cross: print the tables as Markdown")
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


def _load(args: argparse.Namespace, noise: str | None) -> dict:
    from . import benchmark, evaluation

    if args.split.startswith("cross"):
        if noise == "mild":
            raise ValueError(
                "--mild-noise is defined for the Bandai splits only; use --noisy on the cross-dataset sets"
            )
        name = ("cross_val" if args.split == "cross-val" else "cross") + ("_noisy" if noise else "")
        return benchmark.load_set(name, "fixture" if args.split == "cross-fixture" else "test")
    return evaluation.load_split(args.split, noise=noise)


def _run_cross(args: argparse.Namespace) -> int:
    from . import benchmark

    single = args.data or args.noisy or args.mild_noise or args.report or args.limit
    if args.split not in ("test", "val", "fixture") or single:
        print(
            "hpe3d eval --cross: takes --split test|val|fixture only (no --data, --noisy, --mild-noise, --report, "
            "--limit): it evaluates both benchmarks, clean and with the detector error model",
            file=sys.stderr,
        )
        return 2
    res = benchmark.evaluate_model(args.model, split=args.split, height_m=args.height, backend=args.backend)
    if args.json:
        print(json.dumps(json_safe(res)))
    elif args.markdown:
        print(benchmark.markdown([res]))
    else:
        s, r = res["sets"], res["ratio_pa"]
        print(f"{args.model}: PA-MPJPE (mm), height prior {args.height:.2f} m for MPJPE")
        for kind, a, b in (("clean", "in_domain", "cross"), ("detector error", "in_domain_noisy", "cross_noisy")):
            print(
                f"  {kind:<15} in-domain ({args.split}) {s[a]['pa_mpjpe_mm']:.1f}   "
                f"cross-dataset {s[b]['pa_mpjpe_mm']:.1f}   ratio {r[b]:.2f}x   "
                f"(MPJPE {s[a]['mpjpe_mm']:.1f} / {s[b]['mpjpe_mm']:.1f})"
            )
        for a in ("in_domain", "cross"):
            if s[a].get("elevation") is not None:
                views = {v: s[a]["per_view"][v]["elevation"] for v in benchmark.VIEW_BANDS if s[a]["per_view"][v]["n"]}
                cells = "   ".join(f"{v}: {e['bias_deg']:+.1f} / {e['mae_deg']:.1f}" for v, e in views.items())
                print(f"  elevation bias / mean abs (deg), {a}, clean: {cells}")
    return 0


def run(args: argparse.Namespace) -> int:
    """Evaluate; print a table or JSON; optionally write the report. A refused model or an
    unavailable backend exits with 1, bad options with 2."""
    from hpe3d_ros.manifest import ManifestError
    from hpe3d_ros.runtime import BackendUnavailable

    try:
        return _run_cross(args) if args.cross else _run_one(args)
    except ManifestError as e:
        print(f"hpe3d eval: model refused: {e}", file=sys.stderr)
        return 1
    except BackendUnavailable as e:
        print(f"hpe3d eval: backend unavailable: {e}", file=sys.stderr)
        return 1


def _run_one(args: argparse.Namespace) -> int:
    from . import evaluation

    noise = "detector" if args.noisy else "mild" if args.mild_noise else None
    if args.data:
        if noise:
            print(
                "hpe3d eval: --noisy / --mild-noise apply to the built-in splits, not to --data files", file=sys.stderr
            )
            return 2
        data = evaluation.load_eval_file(args.data)
        split = str(args.data)
    else:
        try:
            data = _load(args, noise)
        except ValueError as e:
            print(f"hpe3d eval: {e}", file=sys.stderr)
            return 2
        split = args.split
    data = evaluation.subset(data, args.limit)
    if not args.json:
        logging.basicConfig(level=logging.WARNING)
    pred = evaluation.predict(args.model, data, backend=args.backend, height_m=args.height)
    result, per_pose = evaluation.score(pred, data)
    result = {
        "model": str(args.model),
        "split": split,
        "noise": noise,
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
