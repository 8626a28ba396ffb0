"""Per-joint 2D error model of the shipped front end, fitted on coco-person-mini (x1, x0.5, x0.25), for
training and evaluating lifters on realistic 2D input (issue 11: config/detector_error_model.json keeps
this schema); also the systematic offsets between BlazePose's hip/shoulder landmarks and COCO's labels.

    nice -n 10 .venv/bin/python benchmarks/error_model.py --out docs/bench/detector_error_model.json
    (the same with --out config/detector_error_model.json refreshes the training copy)

The front end is the ``detector:`` section of config/lift.yaml (``--params`` for another file), built by
``make_detector`` and run on each still image as in benchmarks/detection_2d.py (synchronously, one frame
per scan region); the people of the last frame are matched to the COCO people (eval2d.match).

Fitting (only people the front end found: a reported box matched to a COCO person at IoU >= 0.5; only
joints whose COCO sources are all labelled, v > 0):
- the layout joints come from BlazePose landmarks by ``hpe3d_ros.skeleton.from_mediapipe`` and from the
  COCO keypoints by the same rules (COCO's nose, ears, shoulders, ... stand for the BlazePose landmarks
  of the same name; the head joint is the mean of the ears, so it needs both ears labelled);
- the error is (predicted - labelled) / GT box height, in image x (right) and y (down);
- ``mean``, ``cov``: mean and covariance of all errors; ``robust_sigma``: 1.4826 x median absolute
  deviation per axis; ``core``: mean and covariance of the errors within 3 robust sigmas (radius in
  Mahalanobis-like units on the robust sigmas); ``heavy_tail_fraction``: the share outside that core,
  and ``gross_error_fraction``: the share farther than 0.2 box heights (twice the PCK threshold);
- ``miss_rate``: labelled joints the front end reports with score 0 (below ``min_keypoint_confidence``);
  their positions are not in the error statistics;
- ``swap_rate`` (left/right pairs, both sides labelled): the share of people whose left and right
  predictions sit closer to the opposite labels (sum of crossed distances < 0.8 x sum of straight ones);
- every statistic also per person-height bin (<50, 50-100, 100-200, >200 px).
Offsets (people with both hips and both shoulders labelled, GT torso length >= 40 px): BlazePose's and
COCO's hip width and shoulder width, each over the COCO torso length (mid-shoulder to mid-hip), and the
shift of the mid-hip / mid-shoulder along the torso axis (positive = towards the head), over torso length.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import eval2d  # noqa: E402
from detection_2d import run_config  # noqa: E402

from hpe3d_ros import skeleton  # noqa: E402

REPO = HERE.parent
# COCO keypoint index of each BlazePose landmark that the layout reads
COCO_OF_BLAZE = {0: 0, 2: 1, 5: 2, 7: 3, 8: 4, 11: 5, 12: 6, 13: 7, 14: 8, 15: 9, 16: 10, 23: 11, 24: 12, 25: 13,
                 26: 14, 27: 15, 28: 16}
PAIRS = [("left_hip", "right_hip"), ("left_knee", "right_knee"), ("left_ankle", "right_ankle"),
         ("left_shoulder", "right_shoulder"), ("left_elbow", "right_elbow"), ("left_wrist", "right_wrist")]
BINS = eval2d.BIN_NAMES


def coco_to_layout(kp: np.ndarray) -> np.ndarray:
    """(16, 2) layout joints from COCO keypoints (17, 3); NaN where a source is unlabelled."""
    pts = np.full((33, 2), np.nan)
    for b, c in COCO_OF_BLAZE.items():
        if kp[c, 2] > 0:
            pts[b] = kp[c, :2]
    return skeleton.from_mediapipe(pts)


def stats(e: np.ndarray) -> dict:
    """The error statistics of one joint (module docstring)."""
    if len(e) < 3:
        return {"n": int(len(e))}
    med = np.median(e, axis=0)
    rs = 1.4826 * np.median(np.abs(e - med), axis=0)
    r = np.sqrt((((e - med) / np.maximum(rs, 1e-6)) ** 2).sum(axis=1))
    core = e[r <= 3.0]
    return {"n": int(len(e)), "mean": e.mean(0).tolist(), "cov": np.cov(e.T).tolist(), "median": med.tolist(),
            "robust_sigma": rs.tolist(), "core": {"mean": core.mean(0).tolist(), "cov": np.cov(core.T).tolist()},
            "heavy_tail_fraction": float((r > 3.0).mean()),
            "gross_error_fraction": float((np.linalg.norm(e, axis=1) > 0.2).mean())}


def collect(samples: list, runs: list[dict], min_score: float) -> list[dict]:
    """Per matched COCO person with labelled keypoints: height bin and height, layout joints of the labels
    and of the front end, the front end's joint scores (0 below ``min_score``), the COCO keypoints and
    the BlazePose landmarks."""
    people = []
    for s, r in zip(samples, runs):
        gm, _ = eval2d.match(s, r["boxes"], r["scores"])
        for g, d in enumerate(gm):
            if d < 0 or s.gt_kp[g, :, 2].sum() == 0:
                continue
            lm = r["landmarks"][d]
            h = s.gt[g, 3] - s.gt[g, 1]
            sc = np.clip(skeleton.scores_from_mediapipe(np.clip(lm[:, 3], 0, 1)), 0, 1)
            people.append({"bin": eval2d.height_bin(h), "h": h, "gt": coco_to_layout(s.gt_kp[g]),
                           "pred": skeleton.from_mediapipe(lm[:, :2]), "score": np.where(sc >= min_score, sc, 0.0),
                           "gt_kp": s.gt_kp[g], "lm": lm})
    return people


def fit(people: list[dict]) -> dict:
    """Per joint and bin the error statistics and miss rate; per left/right pair the swap rate."""
    names = skeleton.JOINT_NAMES
    out: dict = {"joints": {}, "swap_rate": {}}
    for j, name in enumerate(names):
        entry = {}
        for sel in ("all",) + BINS:
            ps = [p for p in people if sel == "all" or p["bin"] == sel]
            lab = [p for p in ps if np.isfinite(p["gt"][j]).all()]
            ok = [p for p in lab if p["score"][j] > 0]
            s = stats(np.array([(p["pred"][j] - p["gt"][j]) / p["h"] for p in ok]).reshape(-1, 2))
            s["labelled"] = len(lab)
            s["miss_rate"] = 1 - len(ok) / max(len(lab), 1)
            entry[sel] = s
        out["joints"][name] = entry
    idx = {n: i for i, n in enumerate(names)}
    for a, b in PAIRS:
        res = {}
        for sel in ("all",) + BINS:
            n = sw = 0
            for p in people:
                ga, gb = p["gt"][idx[a]], p["gt"][idx[b]]
                if (sel != "all" and p["bin"] != sel) or not (np.isfinite(ga).all() and np.isfinite(gb).all()):
                    continue
                pa, pb = p["pred"][idx[a]], p["pred"][idx[b]]
                straight = np.linalg.norm(pa - ga) + np.linalg.norm(pb - gb)
                crossed = np.linalg.norm(pa - gb) + np.linalg.norm(pb - ga)
                n += 1
                sw += int(crossed < 0.8 * straight)
            res[sel] = {"n": n, "swap_rate": sw / max(n, 1)}
        out["swap_rate"][a.replace("left_", "")] = res
    return out


def offsets(people: list[dict], min_score: float) -> dict:
    """BlazePose hips/shoulders against COCO's labels, relative to the COCO torso length."""
    keys = ("hip_width_blaze", "hip_width_coco", "shoulder_width_blaze", "shoulder_width_coco", "hip_width_ratio",
            "shoulder_width_ratio", "mid_hip_shift_up", "mid_shoulder_shift_up", "mid_hip_shift_side",
            "mid_shoulder_shift_side")
    rec: dict[str, list] = {k: [] for k in keys}
    for p in people:
        k, lm = p["gt_kp"], p["lm"]
        if not all(k[i, 2] > 0 for i in (5, 6, 11, 12)):
            continue
        gls, grs, glh, grh = k[5, :2], k[6, :2], k[11, :2], k[12, :2]
        bls, brs, blh, brh = lm[11, :2], lm[12, :2], lm[23, :2], lm[24, :2]
        gsh, ghip = (gls + grs) / 2, (glh + grh) / 2
        torso = np.linalg.norm(gsh - ghip)
        if torso < 40 or min(lm[[11, 12, 23, 24], 3]) < min_score:
            continue
        up = (gsh - ghip) / torso
        side = np.array([-up[1], up[0]])
        rec["hip_width_blaze"].append(np.linalg.norm(blh - brh) / torso)
        rec["hip_width_coco"].append(np.linalg.norm(glh - grh) / torso)
        rec["shoulder_width_blaze"].append(np.linalg.norm(bls - brs) / torso)
        rec["shoulder_width_coco"].append(np.linalg.norm(gls - grs) / torso)
        rec["hip_width_ratio"].append(np.linalg.norm(blh - brh) / max(np.linalg.norm(glh - grh), 1e-6))
        rec["shoulder_width_ratio"].append(np.linalg.norm(bls - brs) / max(np.linalg.norm(gls - grs), 1e-6))
        bhip, bsh = (blh + brh) / 2, (bls + brs) / 2
        rec["mid_hip_shift_up"].append(float((bhip - ghip) @ up / torso))
        rec["mid_shoulder_shift_up"].append(float((bsh - gsh) @ up / torso))
        rec["mid_hip_shift_side"].append(float((bhip - ghip) @ side / torso))
        rec["mid_shoulder_shift_side"].append(float((bsh - gsh) @ side / torso))
    return {"people": len(rec["hip_width_ratio"]),
            **{k: {"median": float(np.median(v)), "q25": float(np.percentile(v, 25)),
                   "q75": float(np.percentile(v, 75)), "mean": float(np.mean(v))} for k, v in rec.items() if v}}


def front_end(params: dict) -> str:
    """One line naming the front end."""
    if params["kind"] != "nanodet":
        return f"{params['kind']} detector (hpe3d_ros.detection), config/lift.yaml settings"
    low = params.get("low_box_min_pose_confidence", 2.0)
    return (f"nanodet{params['input_size']} score >= {params['min_detection_confidence']}"
            + (f" (>= {params['min_keep_confidence']} with BlazePose pose confidence >= {low})" if low <= 1 else "")
            + f" -> BlazePose {params['landmark_model']} landmarks on the box"
            + f" (ROI side {params['box_roi_scale']} x box)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", type=Path, default=REPO / "config" / "lift.yaml", help="node parameter file")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    if eval2d.data_dir("coco-person-mini") is None:
        print("error_model: skipped: ../shared/data/coco-person-mini is not there")
        return 0
    from hpe3d_ros.detection.registry import detector_params_class

    section = yaml.safe_load(args.params.read_text())["/**"]["ros__parameters"]["detector"]
    fields = set(detector_params_class(section["kind"]).__dataclass_fields__)
    params = {"kind": section["kind"]} | {k: v for k, v in section.items() if k in fields} | {"async_detection": False}
    samples = list(eval2d.coco_samples())
    runs = run_config({"name": "front end", "params": params}, samples)
    min_score = float(params.get("min_keypoint_confidence", 0.3))
    people = collect(samples, runs, min_score)
    model = {
        "front_end": front_end(params),
        "data": "coco-person-mini, every image at x1, x0.5, x0.25 (75 images, 36 of them COCO train2017); "
        "people matched at IoU >= 0.5",
        "units": "error = (predicted - labelled) / GT box height; x right, y down",
        "layout": skeleton.LAYOUT_ID, "joint_order": list(skeleton.JOINT_NAMES), "min_keypoint_confidence": min_score,
        "people": len(people), "method": __doc__.split("Fitting", 1)[1].strip(),
        "command": "benchmarks/error_model.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "detector_params": params,
        **fit(people), "blazepose_vs_coco_offsets": offsets(people, min_score),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(model, indent=1) + "\n")
    print(f"{model['front_end']}: {len(people)} people")
    for name, e in model["joints"].items():
        a = e["all"]
        print(f"{name:15s} n {a.get('n', 0):4d} miss {a['miss_rate']:.2f} rsig "
              f"{np.round(a.get('robust_sigma', [np.nan] * 2), 3)} gross {a.get('gross_error_fraction', np.nan):.2f}")
    print("swaps", {k: round(v["all"]["swap_rate"], 3) for k, v in model["swap_rate"].items()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
