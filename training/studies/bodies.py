"""The bodies behind docs/data.md "Bodies": the measured bodies (Bandai, the five HDM05 actors) and
the plausibility of the sampled ones (training.data.bodies).

    python -m training.studies.bodies table --json out.json --png docs/figures/bodies_standing.png
    python -m training.studies.bodies sampled --bodies 200 --clips 40 --json out.json \
        --png docs/figures/many_bodies_grid.png

``table``: stature (skull base / 0.90 in standing frames), standing heights and the layout's bone
groups (medians over all frames) per body. ``sampled``: bodies drawn by ``sample_bodies`` playing
random Bandai training clips by FK: fractions of stature, errors against the targets, left/right
symmetry, feet on the floor, and a picture.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from hpe3d_ros import paths, skeleton
from training.data import bodies, bvh, hdm05, mocap
from training.data.body import GROUPS, layout_groups, standing_mask, stature

from .pose_figures import plot_world_poses


def _standing(j: np.ndarray) -> np.ndarray:
    return standing_mask(j, straight=0.95, upright=0.99, floor_tol_m=0.03, floor="upright")


def measure(joints: np.ndarray) -> dict:
    """Stature and standing heights (``body.stature``), median bone-group lengths, bone sum."""
    j = np.asarray(joints, dtype=np.float64)
    out = stature(j)
    out.update({k: float(np.median(v)) for k, v in layout_groups(j).items()})
    out["bone_sum"] = float(np.median(skeleton.bone_lengths(j).sum(-1)))
    out["frames"] = int(len(j))
    return out


def table(json_path: str | None, png: str | None) -> int:
    d = hdm05.load_hdm05(subsample=1)
    b = mocap.load_split("all", subsample=4).joints.astype(np.float64)
    res = {"bandai": measure(b)}
    st = np.nonzero(_standing(b))[0]
    poses, titles, extra = [b[st[len(st) // 2]]], [f"Bandai (~{res['bandai']['stature_m']:.2f} m)"], [None]
    for a in hdm05.ACTORS:
        m = d.actor == a
        j = d.joints[m].astype(np.float64)
        res[a] = measure(j)
        st = np.nonzero(_standing(j))[0]
        k = st[len(st) // 2]
        poses.append(j[k])
        titles.append(f"HDM05 {a} (~{res[a]['stature_m']:.2f} m)")
        extra.append(d.head_points[m][k])
    keys = ["stature_m", "skull_base_z", "shoulder_z", "hip_z", "ankle_z", *GROUPS, "bone_sum"]
    print(
        "| body | standing frames | "
        + " | ".join(keys)
        + " |\n| --- | ---: | "
        + " | ".join("---:" for _ in keys)
        + " |"
    )
    for a, s in res.items():
        print(f"| {a} | {s['standing_frames']} | " + " | ".join(f"{s[k]:.3f}" for k in keys) + " |")
    print("\nas fractions of stature:\n| body | " + " | ".join(GROUPS) + " |")
    for a, s in res.items():
        print(f"| {a} | " + " | ".join(f"{s[g] / s['stature_m']:.3f}" for g in GROUPS) + " |")
    if json_path:
        Path(json_path).write_text(json.dumps(res, indent=1))
    if png:
        plot_world_poses(poses, titles, png, extra)
    return 0


def sampled(n_bodies: int, n_clips: int, seed: int, json_path: str | None, png: str | None) -> int:
    rng = np.random.default_rng(seed)
    people = bodies.sample_bodies(n_bodies, rng)
    meta = mocap.load_split("train", subsample=1000).clips
    root = Path(paths.bandai_dir())
    pick = rng.choice(len(meta), size=min(n_clips, len(meta)), replace=False)
    files = [root / meta[i]["dataset"] / "data" / f"{meta[i]['name']}.bvh.gz" for i in pick]
    clips = [bvh.parse_bvh(p if p.is_file() else p.with_suffix("")) for p in files]
    child = {c: k for k, (_, c) in enumerate(skeleton.BONES)}
    pairs = [(1, 4), (2, 5), (3, 6), (10, 13), (11, 14), (12, 15)]
    errs, fracs, asym, lowest, head_up, grid, titles = [], [], [], [], [], [], []
    for i, body in enumerate(people):
        clip = clips[i % len(clips)]
        j = bodies.layout_with_body(clip, body)[::4]
        errs.append(list(bodies.group_errors(j, body).values()))
        meas = layout_groups(j)
        fracs.append([float(np.median(meas[g])) / body.stature_m for g in GROUPS])
        bl = skeleton.bone_lengths(j)
        asym.append(max(float(np.abs(bl[:, child[a]] - bl[:, child[c]]).max()) for a, c in pairs))
        lowest.append(float(j[..., 2].min()))
        head_up.append(float(np.median(j[:, skeleton.HEAD, 2] - j[:, skeleton.ROOT, 2])))
        if i < 12:
            grid.append(j[len(j) // 2])
            titles.append(f"{body.sex[0]} {body.stature_m:.2f} m b{body.build:.2f}\n{Path(clip.path).name[10:34]}")
    errs, fracs = np.array(errs) * 1000, np.array(fracs)
    statures = np.array([b.stature_m for b in people])
    stats = {
        "bodies": n_bodies,
        "clips": [p.name for p in files],
        "stature_m": {
            k: float(np.percentile(statures, q))
            for k, q in (("min", 0), ("p5", 5), ("median", 50), ("p95", 95), ("max", 100))
        },
        "fraction_of_stature": {
            g: {
                "p5": float(np.percentile(fracs[:, k], 5)),
                "median": float(np.median(fracs[:, k])),
                "p95": float(np.percentile(fracs[:, k], 95)),
            }
            for k, g in enumerate(GROUPS)
        },
        "target_error_mm": {
            g: {"median_abs": float(np.median(np.abs(errs[:, k]))), "max_abs": float(np.abs(errs[:, k]).max())}
            for k, g in enumerate(GROUPS)
        },
        "left_right_bone_difference_max_mm": float(1000 * max(asym)),
        "lowest_joint_z_m": {"min": float(min(lowest)), "median": float(np.median(lowest))},
        "head_above_pelvis_m": {"min": float(min(head_up)), "median": float(np.median(head_up))},
    }
    print(json.dumps({k: v for k, v in stats.items() if k != "clips"}, indent=1))
    if json_path:
        Path(json_path).write_text(json.dumps(stats, indent=1))
    if png:
        plot_world_poses(grid, titles, png)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("table")
    p.add_argument("--json", default=None)
    p.add_argument("--png", default=None)
    p = sub.add_parser("sampled")
    p.add_argument("--bodies", type=int, default=200)
    p.add_argument("--clips", type=int, default=40)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", default=None)
    p.add_argument("--png", default=None)
    args = ap.parse_args(argv)
    if args.cmd == "table":
        return table(args.json, args.png)
    return sampled(args.bodies, args.clips, args.seed, args.json, args.png)


if __name__ == "__main__":
    sys.exit(main())
