"""Adapting a lifter to one's own camera, measured (docs/training.md "Adapting a lifter to your own
camera"): the camera's pitch and height from the 2D people alone, and the cross-dataset motions
rendered through that camera.

    python -m training.studies.adapt_camera estimate --poses vtest_poses2d.npz [--person-height 1.70]
    python -m training.studies.adapt_camera evaluate --config config/crossdata_vtest.yaml --model A [--model B] \
        --json out.json

``estimate``: standing people's ankles and head points (the ear level, 0.93 and 0.04 of stature,
Winter) seen by a pinhole camera of known intrinsics, pitched down by ``theta`` at height ``H`` above a
flat floor: a person whose lower ankle is at image row ``v_a`` stands at the ground distance that
row implies, and their head point must then appear at the row the model predicts. A robust least
squares fit of ``theta`` and ``H`` over the upright people (torso within 15 degrees of the image
vertical) gives the camera. Only the ratio of ``H`` to the assumed person height is observed.

``evaluate``: both benchmarks' cross-dataset motions (the held-out HDM05 actors) rendered through the
settings file's cameras (e.g. one fixed camera: config/crossdata_vtest.yaml), clean and with the
detector error model, for each model (training.benchmark).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from hpe3d_ros import poses_io, skeleton
from hpe3d_ros.strict_json import json_safe
from training import benchmark, evaluation
from training.data import crossdata

HEAD_FRACTION = 0.93  # the ear canal (the layout's MediaPipe head point) as a fraction of stature
ANKLE_FRACTION = 0.039  # lateral malleolus


def upright_people(keypoints: np.ndarray, max_tilt_deg: float = 15.0) -> np.ndarray:
    """Mask (N,) of 2D people whose pelvis-to-thorax line is within ``max_tilt_deg`` of the image vertical."""
    kp = np.asarray(keypoints, dtype=np.float64)
    d = kp[:, skeleton.JOINT_NAMES.index("thorax")] - kp[:, skeleton.ROOT]
    tilt = np.degrees(np.arctan2(np.abs(d[:, 0]), -d[:, 1]))
    return tilt < max_tilt_deg


def head_row(
    v_ankle: np.ndarray, theta: float, height: float, f: float, cy: float, z_ankle: float, z_head: float
) -> np.ndarray:
    """Image rows of the head points of people whose ankles are at rows ``v_ankle``, for a camera
    pitched down by ``theta`` (rad) at ``height`` (m) above the floor (focal ``f``, principal row ``cy``)."""
    c, s = np.cos(theta), np.sin(theta)
    va = (v_ankle - cy) / f
    dist = (height - z_ankle) * (c - va * s) / (s + va * c)  # ground distance along the view direction
    y = (height - z_head) * c - dist * s
    z = dist * c + (height - z_head) * s
    return cy + f * y / z


def estimate_camera(keypoints: np.ndarray, intrinsics: np.ndarray, person_height_m: float = 1.70) -> dict:
    """Pitch (deg) and height (m) of a static camera from its 2D people (``module docstring``)."""
    from scipy.optimize import least_squares

    kp = np.asarray(keypoints, dtype=np.float64)
    k = np.asarray(intrinsics, dtype=np.float64)
    k = k[0] if k.ndim == 3 else k
    keep = upright_people(kp)
    kp = kp[keep]
    ankles = [skeleton.JOINT_NAMES.index("left_ankle"), skeleton.JOINT_NAMES.index("right_ankle")]
    v_ankle = kp[:, ankles, 1].max(axis=1)
    v_head = kp[:, skeleton.HEAD, 1]
    f, cy = float(k[1, 1]), float(k[1, 2])
    za, zh = ANKLE_FRACTION * person_height_m, HEAD_FRACTION * person_height_m

    def residual(p: np.ndarray) -> np.ndarray:
        return head_row(v_ankle, p[0], p[1], f, cy, za, zh) - v_head

    fit = least_squares(
        residual,
        x0=[np.radians(20.0), 5.0],
        bounds=([np.radians(1.0), 1.0], [np.radians(80.0), 40.0]),
        loss="soft_l1",
        f_scale=3.0,
    )
    res = residual(fit.x)
    return {
        "pitch_deg": float(np.degrees(fit.x[0])),
        "height_m": float(fit.x[1]),
        "people_used": int(keep.sum()),
        "people": int(len(keep)),
        "residual_px_median": float(np.median(np.abs(res))),
        "focal_px": f,
        "cy_px": cy,
        "person_height_m": person_height_m,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("estimate")
    p.add_argument("--poses", required=True, help="a 2D pose file of one static camera (hpe3d collect)")
    p.add_argument("--person-height", type=float, default=1.70)
    p = sub.add_parser("evaluate")
    p.add_argument(
        "--config", required=True, help="cross-dataset settings with the camera (config/crossdata_vtest.yaml)"
    )
    p.add_argument("--model", action="append", required=True)
    p.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    if args.cmd == "estimate":
        d = poses_io.load_poses2d(args.poses)
        print(json.dumps(estimate_camera(d["keypoints"], d["intrinsics"], args.person_height), indent=1))
        return 0
    config = crossdata.load_config(args.config)
    sets = {}
    for noisy in (False, True):
        d = crossdata.build_set(config, noisy=noisy)
        keep = {k: v for k, v in d.items() if k in evaluation.EVAL_KEYS or k in benchmark.EXTRA_KEYS}
        sets["cross_noisy" if noisy else "cross"] = evaluation.validate_eval_set(keep, f"{args.config} noisy={noisy}")
    out = []
    print("| model | cross PA-MPJPE, clean (mm) | with detector error (mm) | elevation bias / MAE (deg) |")
    print("| --- | ---: | ---: | --- |")
    for m in args.model:
        row = {"model": m, "sets": {name: benchmark.evaluate_set(m, data) for name, data in sets.items()}}
        out.append(row)
        s = row["sets"]
        elev = s["cross"]["elevation"]
        print(
            f"| {benchmark.label(m)} | {s['cross']['pa_mpjpe_mm']:.1f} | {s['cross_noisy']['pa_mpjpe_mm']:.1f} | "
            + ("" if elev is None else f"{elev['bias_deg']:+.1f} / {elev['mae_deg']:.1f}")
            + " |",
            flush=True,
        )
    if args.json:
        Path(args.json).write_text(json.dumps(json_safe({"config": args.config, "results": out}), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
