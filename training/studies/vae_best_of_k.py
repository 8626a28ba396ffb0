"""Best-of-K evaluation of the supervised beta-VAE (the thesis's probabilistic report).

For each test pose, K depth hypotheses are decoded from prior samples; the one closest to the
ground truth (MPJPE after the height prior) is scored. An oracle: it uses the 3D to choose, so it
bounds what the VAE's hypotheses contain, and is reported beside the mean prediction (z = 0,
which `hpe3d eval` scores).

    python -m training.studies.vae_best_of_k --checkpoint runs/<vae run>/best.pt --split test --k 10 --json
"""
from __future__ import annotations

import argparse
import json
import sys

import numpy as np
import torch

from hpe3d_ros import camera, normalization, skeleton


def best_of_k_metrics(
    checkpoint: str, split: str = "test", k: int = 10, seed: int = 0, limit: int | None = None
) -> dict:
    """Metrics (hpe3d_ros.pose_metrics.evaluate keys) of the best of ``k`` VAE samples per pose."""
    from hpe3d_ros import pose_metrics as metrics
    from training import evaluation
    from training.trainer import method_from_checkpoint

    method, _ = method_from_checkpoint(checkpoint, "cpu")
    if not hasattr(method, "best_of_k"):
        raise ValueError(f"{checkpoint}: method {method.method_name!r} has no best_of_k (not a VAE)")
    data = evaluation.subset(evaluation.load_split(split), limit)
    xy = camera.pixels_to_normalized(data["keypoints"], data["intrinsics"])
    poses2d, _ = normalization.normalize_2d(torch.as_tensor(xy, dtype=torch.float32), method.normalization)
    gt = np.asarray(data["joints3d"], dtype=np.float64)
    gt = gt - gt[:, skeleton.ROOT : skeleton.ROOT + 1]
    pred = method.best_of_k(poses2d, gt, k, seed)
    out = {k2: v for k2, v in metrics.evaluate(pred, gt).items() if k2 != "per_joint_mm"}
    out.update(
        {"model": str(checkpoint), "split": split, "k": k, "seed": seed, "selection": "oracle best of K (uses 3D)"}
    )
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--split", default="test", choices=("test", "val", "fixture"))
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    torch.set_num_threads(2)
    res = best_of_k_metrics(args.checkpoint, args.split, args.k, args.seed, args.limit)
    print(json.dumps(res, indent=None if args.json else 2, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
