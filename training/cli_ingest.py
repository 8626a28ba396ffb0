"""`hpe3d ingest`: parse the Bandai Namco BVH clips into the cached joint arrays; optionally
rebuild the bundled evaluation fixture."""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--data-root", type=Path, default=None, help="bandai-namco directory (default: ../shared/data/bandai-namco)"
    )
    p.add_argument("--cache", type=Path, default=None, help="cache directory (default: hpe3d_ros.paths.cache_dir())")
    p.add_argument("--split-config", type=Path, default=None, help="split rules (default: config/data_split.yaml)")
    p.add_argument("--force", action="store_true", help="re-parse even if the cache is valid")
    p.add_argument("--eval-sets", action="store_true", help="also render and cache the val and test evaluation sets")
    p.add_argument(
        "--make-fixture",
        nargs="?",
        const="default",
        default=None,
        metavar="PATH",
        help="also write the bundled evaluation fixture (default: hpe3d_ros/data/eval_fixture.npz)",
    )
    p.add_argument(
        "--measure-body", action="store_true", help="measure the reference body (bone-length sum, standing height)"
    )
    p.add_argument("--json", action="store_true", help="print the split summary as JSON")


def run(args: argparse.Namespace) -> int:
    from .data import mocap

    t0 = time.time()
    npz, meta, rebuilt = mocap.ingest(args.data_root, args.cache, args.split_config, force=args.force, progress=True)
    took = time.time() - t0
    data = mocap.load_all(args.data_root, args.cache, args.split_config)
    summary = {
        "cache": str(npz),
        "rebuilt": rebuilt,
        "seconds": round(took, 1),
        "clips": len(data.clips),
        "frames": len(data),
        "splits": mocap.split_summary(data),
    }
    if args.eval_sets or args.make_fixture:
        from .data import evalset

        for split in ("val", "test"):
            e = evalset.load_eval_set(split, data_root=args.data_root, cache=args.cache)
            summary.setdefault("eval_sets", {})[split] = int(e["keypoints"].shape[0])
    if args.make_fixture:
        from .data import evalset

        out = None if args.make_fixture == "default" else Path(args.make_fixture)
        path = evalset.make_fixture(out, data_root=args.data_root, cache=args.cache)
        summary["fixture"] = {"path": str(path), "bytes": path.stat().st_size}
    if args.measure_body:
        from .data.body import measure_reference_body

        summary["body"] = measure_reference_body(data.joints)
    if args.json:
        print(json.dumps(summary, indent=1))
    else:
        print(f"mocap cache: {npz} ({'rebuilt' if rebuilt else 're-used'}, {took:.1f} s)")
        print(f"{summary['clips']} clips, {summary['frames']} frames")
        for s, c in summary["splits"].items():
            print(f"  {s:5s}: {c['clips']:5d} clips {c['frames']:7d} frames")
        for s, n in summary.get("eval_sets", {}).items():
            print(f"  eval set {s}: {n} poses")
        if "fixture" in summary:
            print(f"fixture: {summary['fixture']['path']} ({summary['fixture']['bytes']} bytes)")
        if "body" in summary:
            b = summary["body"]
            print(
                f"reference body: bone-length sum {b['bone_sum_m_mean']:.4f} m "
                f"(std {b['bone_sum_m_std'] * 1000:.1f} mm), "
                f"head joint {b['standing_joint_height_m']['head']:.4f} m in {b['standing_frames']} standing frames, "
                f"height {b['height_m']:.4f} m with {b['head_top_allowance_m']} m head-top allowance"
            )
    return 0
