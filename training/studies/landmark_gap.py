"""How MediaPipe's landmarks relate to mocap joint centres: hip width, shoulder width and the head
point, each relative to the torso length (mid-hip to mid-shoulder), so that size and distance
drop out.

- MediaPipe: BlazePose (the wheel's full model, model_complexity=1, as the runtime) on every COCO
  person of ../shared/data/coco-person-mini with shoulders and hips labelled and a box at least
  ``min_box_px`` tall, run on the box's crop (25 % margin) in static-image mode. Measured twice:
  (a) 3D from its world landmarks (metric, view-independent), (b) 2D on frontal upright people
  (world-landmark yaw within +-25 deg, image torso within 20 deg of vertical), where a width in
  the image is the 3D width times cos(yaw) >= 0.91.
- COCO's human-labelled keypoints of the same frontal people, in 2D (another joint definition).
- Mocap joint centres: the layout joints of the Bandai body and of the five HDM05 actors in their
  standing frames (3D).

    python -m training.studies.landmark_gap --json out.json   (docs/joint_layout.md "Joint definitions")
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from hpe3d_ros import paths, skeleton
from training.data import hdm05
from training.data.body import standing_mask

COCO = {
    "nose": 0,
    "left_ear": 3,
    "right_ear": 4,
    "left_shoulder": 5,
    "right_shoulder": 6,
    "left_hip": 11,
    "right_hip": 12,
}
MP = {
    "nose": 0,
    "left_ear": 7,
    "right_ear": 8,
    "left_shoulder": 11,
    "right_shoulder": 12,
    "left_hip": 23,
    "right_hip": 24,
}


def ratios(pts: dict) -> dict:
    """Width and head ratios from named points (each (..., D)): hip width, shoulder width, ear
    midpoint above the shoulder midpoint, nose above the shoulder midpoint, all over the torso length."""
    mid_hip = 0.5 * (pts["left_hip"] + pts["right_hip"])
    mid_sh = 0.5 * (pts["left_shoulder"] + pts["right_shoulder"])
    torso = np.linalg.norm(mid_sh - mid_hip, axis=-1)
    up = (mid_sh - mid_hip) / torso[..., None]
    out = {
        "hip_width": np.linalg.norm(pts["left_hip"] - pts["right_hip"], axis=-1) / torso,
        "shoulder_width": np.linalg.norm(pts["left_shoulder"] - pts["right_shoulder"], axis=-1) / torso,
    }
    if "left_ear" in pts:
        ears = 0.5 * (pts["left_ear"] + pts["right_ear"])
        out["ears_above_shoulders"] = np.einsum("...i,...i->...", ears - mid_sh, up) / torso
    if "nose" in pts:
        out["nose_above_shoulders"] = np.einsum("...i,...i->...", pts["nose"] - mid_sh, up) / torso
    if "head" in pts:
        out["head_above_shoulders"] = np.einsum("...i,...i->...", pts["head"] - mid_sh, up) / torso
    return out


def _summary(values: dict) -> dict:
    return {
        k: {
            "median": float(np.median(v)),
            "p25": float(np.percentile(v, 25)),
            "p75": float(np.percentile(v, 75)),
            "n": int(len(v)),
        }
        for k, v in values.items()
        if len(v)
    }


def run_mediapipe(coco_dir: Path, min_box_px: float = 100.0, limit: int | None = None) -> list[dict]:
    """One record per matched COCO person: MediaPipe 2D (px) and world (m) landmarks, COCO keypoints."""
    import cv2
    import mediapipe as mp

    ann = json.loads((coco_dir / "person_keypoints.json").read_text())
    images = {im["id"]: im for im in ann["images"]}
    pose = mp.solutions.pose.Pose(
        static_image_mode=True, model_complexity=1, enable_segmentation=False, min_detection_confidence=0.5
    )
    records = []
    try:
        for a in ann["annotations"]:
            if limit is not None and len(records) >= limit:
                break
            kp = np.array(a["keypoints"], dtype=np.float64).reshape(17, 3)
            need = [COCO[n] for n in ("left_shoulder", "right_shoulder", "left_hip", "right_hip")]
            x, y, w, h = a["bbox"]
            if a.get("iscrowd") or (kp[need, 2] == 0).any() or h < min_box_px:
                continue
            im = images[a["image_id"]]
            bgr = cv2.imread(str(coco_dir / "images" / im["file_name"]))
            if bgr is None:
                continue
            H, W = bgr.shape[:2]
            m = 0.25
            x0, y0 = int(max(0, x - m * w)), int(max(0, y - m * h))
            x1, y1 = int(min(W, x + w * (1 + m))), int(min(H, y + h * (1 + m)))
            crop = np.ascontiguousarray(bgr[y0:y1, x0:x1, ::-1])
            res = pose.process(crop)
            if res.pose_landmarks is None or res.pose_world_landmarks is None:
                continue
            lm = np.array(
                [(p.x * (x1 - x0) + x0, p.y * (y1 - y0) + y0, p.visibility) for p in res.pose_landmarks.landmark]
            )
            wl = np.array([(p.x, p.y, p.z) for p in res.pose_world_landmarks.landmark])
            # the same person? shoulder and hip midpoints within 0.15 box heights of the labels
            mp_mid = lm[[MP["left_shoulder"], MP["right_shoulder"], MP["left_hip"], MP["right_hip"]], :2].mean(0)
            coco_mid = kp[need, :2].mean(0)
            if np.linalg.norm(mp_mid - coco_mid) > 0.15 * h:
                continue
            records.append({"image": im["file_name"], "box_h": h, "mp2d": lm, "world": wl, "coco": kp})
    finally:
        pose.close()
    return records


def _yaw_deg(world: np.ndarray) -> float:
    """The person's turn away from the camera (deg) from the world landmarks' shoulder and hip lines."""
    v = (world[MP["left_shoulder"]] - world[MP["right_shoulder"]]) + (world[MP["left_hip"]] - world[MP["right_hip"]])
    return float(np.degrees(np.arctan2(abs(v[2]), abs(v[0]))))


def measure_mediapipe(records: list[dict], max_yaw: float = 25.0, max_tilt: float = 20.0) -> dict:
    """3D ratios of MediaPipe world landmarks (all), 2D ratios of MediaPipe and COCO (frontal upright)."""
    r3 = {k: [] for k in ("hip_width", "shoulder_width", "ears_above_shoulders", "nose_above_shoulders")}
    r2mp = {k: [] for k in r3}
    r2coco = {k: [] for k in r3}
    frontal = 0
    for rec in records:
        w = rec["world"]
        for k, v in ratios({n: w[i] for n, i in MP.items()}).items():
            r3[k].append(float(v))
        lm, kp = rec["mp2d"], rec["coco"]
        mid_sh = lm[[MP["left_shoulder"], MP["right_shoulder"]], :2].mean(0)
        mid_hip = lm[[MP["left_hip"], MP["right_hip"]], :2].mean(0)
        d = mid_sh - mid_hip
        tilt = float(np.degrees(np.arctan2(abs(d[0]), -d[1])))
        if _yaw_deg(w) > max_yaw or tilt > max_tilt:
            continue
        frontal += 1
        for k, v in ratios({n: lm[i, :2] for n, i in MP.items()}).items():
            r2mp[k].append(float(v))
        vis = {n: kp[i, 2] > 0 for n, i in COCO.items()}
        pts = {n: kp[i, :2] for n, i in COCO.items() if vis[n]}
        if all(n in pts for n in ("left_shoulder", "right_shoulder", "left_hip", "right_hip")):
            rr = ratios({n: pts[n] for n in ("left_shoulder", "right_shoulder", "left_hip", "right_hip")})
            for k in ("hip_width", "shoulder_width"):
                r2coco[k].append(float(rr[k]))
            if "left_ear" in pts and "right_ear" in pts:
                r2coco["ears_above_shoulders"].append(float(ratios(pts)["ears_above_shoulders"]))
            if "nose" in pts:
                r2coco["nose_above_shoulders"].append(
                    float(
                        ratios(
                            {
                                **{n: pts[n] for n in ("left_shoulder", "right_shoulder", "left_hip", "right_hip")},
                                "nose": pts["nose"],
                            }
                        )["nose_above_shoulders"]
                    )
                )
    return {
        "people": len(records),
        "frontal_upright": frontal,
        "mediapipe_world_3d": _summary(r3),
        "mediapipe_2d_frontal": _summary(r2mp),
        "coco_labels_2d_frontal": _summary(r2coco),
    }


# COCO keypoint index -> MediaPipe landmark index for the limb joints of the layout
COCO_TO_MP = {5: 11, 6: 12, 7: 13, 8: 14, 9: 15, 10: 16, 11: 23, 12: 24, 13: 25, 14: 26, 15: 27, 16: 28, 3: 7, 4: 8}
COCO_NAMES = {
    3: "left_ear",
    4: "right_ear",
    5: "left_shoulder",
    6: "right_shoulder",
    7: "left_elbow",
    8: "right_elbow",
    9: "left_wrist",
    10: "right_wrist",
    11: "left_hip",
    12: "right_hip",
    13: "left_knee",
    14: "right_knee",
    15: "left_ankle",
    16: "right_ankle",
}


def error_vs_coco(records: list[dict]) -> dict:
    """MediaPipe 2D against COCO's visible labels: per joint, the median distance as a fraction of
    the person's box height, and how often MediaPipe's point lies nearer the OTHER side's label
    (a left/right swap). COCO's own annotation spread is included (a rough check of the parametric
    model, not a fitted error model)."""
    err = {n: [] for n in COCO_NAMES.values()}
    swaps = {n: 0 for n in COCO_NAMES.values()}
    mirror = {5: 6, 6: 5, 7: 8, 8: 7, 9: 10, 10: 9, 11: 12, 12: 11, 13: 14, 14: 13, 15: 16, 16: 15, 3: 4, 4: 3}
    for rec in records:
        kp, lm, h = rec["coco"], rec["mp2d"], rec["box_h"]
        for c, m in COCO_TO_MP.items():
            if kp[c, 2] != 2:
                continue
            d = np.linalg.norm(lm[m, :2] - kp[c, :2])
            err[COCO_NAMES[c]].append(d / h)
            o = mirror[c]
            if (
                kp[o, 2] == 2
                and np.linalg.norm(lm[m, :2] - kp[o, :2]) < d
                and np.linalg.norm(kp[o, :2] - kp[c, :2]) > 0.05 * h
            ):
                swaps[COCO_NAMES[c]] += 1
    return {
        n: {
            "median_frac": float(np.median(v)) if v else None,
            "p90_frac": float(np.percentile(v, 90)) if v else None,
            "n": len(v),
            "nearer_other_side": swaps[n],
        }
        for n, v in err.items()
    }


def measure_mocap() -> dict:
    """3D ratios of the layout joints in standing frames: Bandai and each HDM05 actor (skull base,
    mid-head and head-bone end as 'head')."""
    from training.data import mocap

    out = {}
    n = skeleton.JOINT_NAMES.index

    def named(j: np.ndarray, head: np.ndarray) -> dict:
        return {
            "left_hip": j[:, n("left_hip")],
            "right_hip": j[:, n("right_hip")],
            "left_shoulder": j[:, n("left_shoulder")],
            "right_shoulder": j[:, n("right_shoulder")],
            "head": head,
        }

    b = mocap.load_split("all", subsample=4).joints.astype(np.float64)
    st = standing_mask(b, straight=0.95, upright=0.99, floor_tol_m=0.03, floor="upright")
    out["bandai"] = _summary(ratios(named(b[st], b[st][:, skeleton.HEAD])))
    d = hdm05.load_hdm05(subsample=2)
    for a in hdm05.ACTORS:
        m = d.actor == a
        j = d.joints[m].astype(np.float64)
        st = standing_mask(j, straight=0.95, upright=0.99, floor_tol_m=0.03, floor="upright")
        hp = d.head_points[m][st].astype(np.float64)
        row = _summary(ratios(named(j[st], hp[:, 0])))
        for k, name in ((1, "mid_head"), (2, "head_end")):
            row[f"{name}_above_shoulders"] = _summary({"x": ratios(named(j[st], hp[:, k]))["head_above_shoulders"]})[
                "x"
            ]
        out[f"hdm05_{a}"] = row
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", default=None)
    ap.add_argument("--min-box-px", type=float, default=100.0)
    args = ap.parse_args(argv)
    coco = paths.shared_dir() / "data" / "coco-person-mini"
    recs = run_mediapipe(coco, args.min_box_px)
    res = {"mediapipe": measure_mediapipe(recs), "mocap": measure_mocap(), "mediapipe_vs_coco_2d": error_vs_coco(recs)}
    print(json.dumps(res, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
