"""Error of the metric recovery alone: what the geometry after the network costs in accuracy.

A perfect lifter is simulated: its "depth" output is the true ``normalization.depth_target`` of
the ground-truth pose and its "elevation" the true camera elevation. Those oracle outputs go
through ``hpe3d_ros.lifting.recover_3d`` (the same code ``Lifter.lift`` runs after the network):
normalised shape -> ``metric.scale_to_height`` with a body-height prior -> root translation fit
to the detected pixels with K -> optical and upright frames. The remaining error is the
geometry's: the normalisations' projection model, the height prior, and 2D noise.

    .venv/bin/python benchmarks/metric_recovery.py --split fixture --json docs/bench/metric_recovery.json

``--split test`` uses the full test evaluation set (needs ../shared); ``fixture`` is the bundled
3,000-pose sample of it. Both clean 2D and the evaluation set's detector-like noisy 2D are run.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from hpe3d_ros import camera, normalization, skeleton  # noqa: E402
from hpe3d_ros.lifting import recover_3d  # noqa: E402
from hpe3d_ros.metric import DEFAULT_BODY_HEIGHT_M  # noqa: E402


def evaluate(d: dict, kind: str, height_m: float) -> dict:
    kp = np.asarray(d["keypoints"], dtype=np.float64)
    k = np.asarray(d["intrinsics"], dtype=np.float64)
    gt = np.asarray(d["joints3d"], dtype=np.float64)
    scores = np.asarray(d["scores"], dtype=np.float64)
    xy = camera.pixels_to_normalized(kp, k)
    norm, _ = normalization.normalize_2d(xy, kind)
    oracle = {"depth": normalization.depth_target(gt, kind), "elevation": np.asarray(d["elevation"], dtype=np.float64)}
    res = recover_3d(kp, k, scores, norm, oracle, kind, height_m)
    err = np.linalg.norm(res.joints_optical - gt, axis=-1).mean(-1)
    rel = np.linalg.norm((res.joints_optical - res.joints_optical[:, :1]) - (gt - gt[:, :1]), axis=-1).mean(-1)
    dist = np.linalg.norm(gt[:, 0], axis=-1)
    derr = (np.linalg.norm(res.translation, axis=-1) - dist) / dist
    up_pred = res.joints_upright[:, skeleton.JOINT_NAMES.index("thorax")] - res.joints_upright[:, 0]
    up_gt = camera.upright_from_optical(gt, d["elevation"])
    up_gt = up_gt[:, skeleton.JOINT_NAMES.index("thorax")] - up_gt[:, 0]
    cos = (up_pred * up_gt).sum(-1) / (np.linalg.norm(up_pred, axis=-1) * np.linalg.norm(up_gt, axis=-1))
    return {
        "n": int(len(kp)),
        "abs_mpjpe_mm": float(err.mean() * 1e3),
        "abs_mpjpe_median_mm": float(np.median(err) * 1e3),
        "rel_mpjpe_mm": float(rel.mean() * 1e3),
        "distance_error_median_pct": float(np.median(np.abs(derr)) * 100),
        "distance_error_p90_pct": float(np.percentile(np.abs(derr), 90) * 100),
        "distance_bias_pct": float(derr.mean() * 100),
        "spine_angle_median_deg": float(np.degrees(np.median(np.arccos(np.clip(cos, -1, 1))))),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--split", default="fixture", choices=["fixture", "val", "test"])
    p.add_argument(
        "--heights",
        type=float,
        nargs="+",
        default=[skeleton.REFERENCE_HEIGHT_M, DEFAULT_BODY_HEIGHT_M, 1.50, 1.80],
        help="body-height priors to try (default: the mocap body's own, the runtime default, and +-)",
    )
    p.add_argument("--json")
    args = p.parse_args()
    from training.data.evalset import load_eval_set

    rows = []
    for noisy in (False, True):
        d = load_eval_set(args.split, noisy=noisy)
        for kind in normalization.KINDS:
            for h in args.heights:
                r = evaluate(d, kind, h)
                rows.append({"split": args.split, "noisy_2d": noisy, "normalization": kind, "height_prior_m": h, **r})
                print(json.dumps(rows[-1]), flush=True)
    lines = [
        f"True body: the Bandai Namco skeleton, height {skeleton.REFERENCE_HEIGHT_M} m (bone sum "
        f"{skeleton.REFERENCE_BONE_SUM_M} m). "
        f"Split `{args.split}`, {rows[0]['n']} poses, cameras 3-12 m away.",
        "",
        "| 2D | normalisation | height prior m | MPJPE abs mm (mean / median) | MPJPE root-rel mm | distance error "
        "median / p90 % | distance bias % | spine vs gravity deg (median) |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {'noisy' if r['noisy_2d'] else 'clean'} | {r['normalization']} | {r['height_prior_m']:.2f} | "
            f"{r['abs_mpjpe_mm']:.0f} / {r['abs_mpjpe_median_mm']:.0f} | {r['rel_mpjpe_mm']:.0f} | "
            f"{r['distance_error_median_pct']:.1f} / {r['distance_error_p90_pct']:.1f} | "
            f"{r['distance_bias_pct']:+.1f} | "
            f"{r['spine_angle_median_deg']:.1f} |"
        )
    text = "\n".join(lines) + "\n"
    print("\n" + text)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"rows": rows, "markdown": text}, indent=1))


if __name__ == "__main__":
    main()
