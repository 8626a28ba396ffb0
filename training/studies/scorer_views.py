"""How many virtual views the plausibility scorer needs: Spearman(nll, per-pose PA-MPJPE) on an
evaluation split for several scorer settings of one ElePose or ours checkpoint.

    python -m training.studies.scorer_views --checkpoint runs/elepose_bandai-2d_cpu-long/best.pt [--split test] \
        [--views 8x-1,0,1 8x0 4x0 4x-1,0,1 2x0 1x0] [--json out.json]

A view setting ``AxS`` is A azimuths at the elevations mu_e + s * sigma_e for each s in the
comma-separated list S (mu_e, sigma_e: the checkpoint's learned elevation distribution). The
lifter's predictions are computed once; only the scorer changes.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

from training import evaluation


def parse_view(text: str) -> tuple[int, list[float]]:
    """"8x-1,0,1" -> (8, [-1.0, 0.0, 1.0])."""
    try:
        az, sig = text.split("x", 1)
        out = int(az), [float(v) for v in sig.split(",")]
    except ValueError as e:
        raise ValueError(f"view setting {text!r}: expected AZIMUTHSxSIGMA[,SIGMA...], e.g. 8x-1,0,1") from e
    if out[0] < 1 or not out[1]:
        raise ValueError(f"view setting {text!r}: needs at least one azimuth and one elevation")
    return out


def scorer_spearman(checkpoint: str | Path, views: list[str], split: str = "test") -> list[dict]:
    """Spearman(nll, per-pose PA-MPJPE) for each view setting; rows with the setting and view count."""
    from hpe3d_ros import camera, normalization
    from training.teachers import method_network
    from training.trainer import method_from_checkpoint

    data = evaluation.load_split(split)
    _, per_pose = evaluation.score(evaluation.predict(str(checkpoint), data, backend="torch"), data)
    method, _ = method_from_checkpoint(checkpoint, "cpu")
    net = method_network(method, str(checkpoint)).eval()
    xy, _ = camera.pixels_to_root_camera(data["keypoints"], data["intrinsics"])
    x = torch.as_tensor(normalization.normalize_2d(xy, method.normalization)[0], dtype=torch.float32)
    with torch.no_grad():
        out = net(x)
    rows = []
    for text in views:
        azimuths, sigmas = parse_view(text)
        method.scorer.set_elevations([method.elev_mu + s * method.elev_sigma for s in sigmas], azimuths)
        with torch.no_grad():
            nll = method.scorer(x, out["depth"], out.get("elevation")).numpy()
        rows.append({"views": text, "count": azimuths * len(sigmas),
                     "spearman_nll_pa": evaluation.spearman(nll, per_pose["pa_mpjpe_mm"])})
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--split", default="test")
    p.add_argument("--views", nargs="+", default=["8x-1,0,1", "8x0", "4x0", "4x-1,0,1", "2x0", "1x0"])
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    rows = scorer_spearman(args.checkpoint, args.views, args.split)
    print("| views (azimuths x elevation sigmas) | views | Spearman(nll, PA-MPJPE) |\n| --- | ---: | ---: |")
    for r in rows:
        print(f"| {r['views']} | {r['count']} | {r['spearman_nll_pa']:.3f} |")
    if args.json:
        args.json.write_text(
            json.dumps({"checkpoint": str(args.checkpoint), "split": args.split, "rows": rows}, indent=1)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
