"""The replay report's scene section: placement, heading and velocity against ground truth (docs/replay.md,
docs/placement.md "Measured").

For every processed frame with ground truth and scene results, people are matched to the ground truth
(nearest pelvis, ``report._match_gt``) and scored:

- distance (camera to pelvis, metres) by ground-truth distance bin, for the pelvis placed by the
  body-height prior alone, by the ground plane alone (where the feet gave one) and as published
  (the fused placement): median and mean absolute error, mean absolute relative error, bias;
- with the true camera pose (mounted-camera bags, ``/hpe3d/ground_truth_camera``): the published
  position's error on the ground plane; the heading against the ground truth's (``scene.kinematics.
  body_heading`` of the true joints in the true ground frame), smoothed and per frame: median absolute
  error and the share of front/back flips (> 90 degrees); the walking velocity against the ground
  truth's (central differences of the true pelvis over +-5 frames): median and mean vector error for
  people walking (>= 0.3 m/s) and standing, after the first second of a track; the camera elevation
  in use against the true one.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from .. import skeleton
from ..scene.kinematics import angle_difference, body_heading
from ..scene.placement import METHODS
from .records import FrameRecord

DISTANCE_BINS_M = ((3.0, 5.0), (5.0, 10.0), (10.0, 15.0), (15.0, 20.0), (20.0, 30.0), (30.0, 40.0))
ESTIMATES = (("prior", "prior_position", "height prior alone"), ("ground", "ground_position", "ground plane alone"),
             ("published", "position", "published (fused)"))
VELOCITY_HALF_WINDOW = 5  # frames each side of the central difference of the true pelvis
WALKING_M_S = 0.3
WARM_UP_S = 1.0


def _errors(pred: np.ndarray, truth: np.ndarray) -> dict[str, Any]:
    ok = np.isfinite(pred)
    e = pred[ok] - truth[ok]
    if not e.size:
        return {"n": 0}
    rel = e / truth[ok]
    return {"n": int(e.size), "median_abs_m": float(np.median(np.abs(e))), "mean_abs_m": float(np.mean(np.abs(e))),
            "mean_abs_rel_pct": float(np.mean(np.abs(rel)) * 100), "bias_pct": float(np.mean(rel) * 100),
            "p90_abs_rel_pct": float(np.percentile(np.abs(rel), 90) * 100)}


def _angles(err_rad: np.ndarray) -> dict[str, Any]:
    a = np.abs(np.asarray(err_rad, dtype=np.float64))
    a = a[np.isfinite(a)]
    if not a.size:
        return {"n": 0}
    return {"n": int(a.size), "median_abs_deg": float(np.degrees(np.median(a))),
            "mean_abs_deg": float(np.degrees(np.mean(a))), "flips_pct": float(np.mean(a > np.pi / 2) * 100)}


def _vectors(err: np.ndarray) -> dict[str, Any]:
    n = np.linalg.norm(err, axis=-1) if len(err) else np.zeros(0)
    if not n.size:
        return {"n": 0}
    return {"n": int(n.size), "median_m_s": float(np.median(n)), "mean_m_s": float(np.mean(n)),
            "p90_m_s": float(np.percentile(n, 90))}


def scene_accuracy(frames: Sequence[FrameRecord], match: Callable) -> dict[str, Any] | None:
    """The scene section (module docstring), or None without ground truth and scene results."""
    rows = []
    for f in frames:
        if f.status != "processed" or f.gt_joints is None or f.scene is None:
            continue
        for pi, gi in match(f):
            gt = f.gt_joints[gi]
            if not np.all(np.isfinite(gt)):
                continue
            rows.append((f, pi, gi))
    if not rows:
        return None
    truth = np.array([np.linalg.norm(f.gt_joints[gi][skeleton.ROOT]) for f, _, gi in rows])
    estimates = {key: np.array([np.linalg.norm(f.scene[field][pi]) for f, pi, _ in rows])
                 for key, field, _ in ESTIMATES}
    methods = np.array([int(f.scene["method"][pi]) for f, pi, _ in rows])
    bins = []
    for lo, hi in DISTANCE_BINS_M:
        m = (truth >= lo) & (truth < hi) if hi < DISTANCE_BINS_M[-1][1] else (truth >= lo) & (truth <= hi)
        bins.append({"bin_m": [lo, hi], "n": int(m.sum()),
                     "ground_available_pct": float(np.mean(np.isfinite(estimates["ground"][m])) * 100) if m.any()
                     else None,
                     **{key: _errors(estimates[key][m], truth[m]) for key, _, _ in ESTIMATES}})
    out: dict[str, Any] = {
        "matched": len(rows),
        "placement_methods": {name: int((methods == i).sum()) for i, name in enumerate(METHODS)},
        "distance_by_bin": bins,
        "distance_all": {key: _errors(estimates[key], truth) for key, _, _ in ESTIMATES},
    }
    with_camera = [(f, pi, gi) for f, pi, gi in rows if f.gt_camera is not None]
    if with_camera:
        out.update(_with_camera(with_camera))
    return out


def _with_camera(rows: list) -> dict[str, Any]:
    """Ground-plane position, heading, velocity and elevation errors in the true ground frame."""
    ground_err, head, head_raw, elev = [], [], [], []
    tracks: dict[int, list] = {}
    for f, pi, gi in rows:
        r_true, t_true = f.gt_camera
        gt_base = f.gt_joints[gi] @ r_true.T + t_true
        pos_true = r_true @ f.scene["position"][pi] + t_true
        ground_err.append(float(np.linalg.norm(pos_true[:2] - gt_base[skeleton.ROOT, :2])))
        gt_heading, _ = body_heading(gt_base, np.ones(skeleton.NUM_JOINTS))
        head.append(float(angle_difference(f.scene["heading"][pi], gt_heading)))
        head_raw.append(float(angle_difference(f.scene["heading_raw"][pi], gt_heading)))
        elev.append(float(f.elevation[pi]) - float(np.arcsin(np.clip(-r_true[2, 2], -1, 1))))
        # the published velocity, from the estimated ground frame into the true one
        r_est = f.scene["base_from_optical"][pi]
        v_true_frame = r_true @ (r_est.T @ f.scene["velocity"][pi])
        tracks.setdefault(int(f.track_ids[pi]), []).append((f.stamp_ns, gt_base[skeleton.ROOT, :2], v_true_frame[:2]))
    walking, standing = [], []
    speed_err = []
    k = VELOCITY_HALF_WINDOW
    for items in tracks.values():
        items.sort(key=lambda x: x[0])
        t = np.array([x[0] for x in items]) * 1e-9
        p = np.array([x[1] for x in items])
        for i in range(k, len(items) - k):
            dt = t[i + k] - t[i - k]
            if t[i] - t[0] < WARM_UP_S or not 0 < dt < 2 * k * 0.1:  # warm-up, or a gap in the track
                continue
            v_gt = (p[i + k] - p[i - k]) / dt
            err = items[i][2] - v_gt
            (walking if np.linalg.norm(v_gt) >= WALKING_M_S else standing).append(err)
            speed_err.append(abs(float(np.linalg.norm(items[i][2]) - np.linalg.norm(v_gt))))
    e = np.degrees(np.asarray(elev))
    return {
        "ground_position_error_m": {"n": len(ground_err), "median": float(np.median(ground_err)),
                                    "mean": float(np.mean(ground_err)),
                                    "p90": float(np.percentile(ground_err, 90))},
        "heading": _angles(np.asarray(head)),
        "heading_per_frame": _angles(np.asarray(head_raw)),
        "velocity_walking": _vectors(np.asarray(walking).reshape(-1, 2)),
        "velocity_standing": _vectors(np.asarray(standing).reshape(-1, 2)),
        "speed_error_m_s": {"n": len(speed_err), "median": float(np.median(speed_err)) if speed_err else None},
        "elevation_error_deg": {"n": int(e.size), "mean_abs": float(np.mean(np.abs(e))), "bias": float(np.mean(e))},
    }


def _f(v: Any, digits: int = 2) -> str:
    return "-" if v is None else (f"{v:.{digits}f}" if isinstance(v, float) else str(v))


def scene_markdown(s: dict[str, Any] | None) -> list[str]:
    """The report.md lines of the scene section."""
    lines = ["", "## Scene: placement, heading and velocity against ground truth", ""]
    if s is None:
        return lines + ["No ground truth with scene results (a ground-truth bag replayed with lifting on)."]
    pm = ", ".join(f"{k} {v}" for k, v in s["placement_methods"].items())
    lines += [
        f"{s['matched']} matched people; placement used: {pm} (prior: no ground plane or no feet; gated: the "
        "ground plane disagreed with the prior beyond the gate).",
        "",
        "Distance camera -> pelvis, error against ground truth: median absolute (m) / mean absolute relative (%) "
        "per ground-truth distance bin.",
        "",
        "| distance (m) | n | height prior alone | ground plane alone (available) | published (fused) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for b in s["distance_by_bin"]:
        if not b["n"]:
            continue
        cells = []
        for key, _, _ in ESTIMATES:
            e = b[key]
            cell = f"{_f(e.get('median_abs_m'))} m / {_f(e.get('mean_abs_rel_pct'), 1)} %" if e["n"] else "-"
            if key == "ground":
                cell += f" ({_f(b['ground_available_pct'], 0)} %)"
            cells.append(cell)
        lo, hi = b["bin_m"]
        lines.append(f"| {lo:g}-{hi:g} | {b['n']} | " + " | ".join(cells) + " |")
    if "heading" in s:
        h, hr = s["heading"], s["heading_per_frame"]
        vw, vs = s["velocity_walking"], s["velocity_standing"]
        g, el = s["ground_position_error_m"], s["elevation_error_deg"]
        lines += [
            "",
            "With the true camera pose:",
            "",
            f"- published position on the ground plane: error median {_f(g['median'])} m, mean {_f(g['mean'])} m, "
            f"p90 {_f(g['p90'])} m",
            f"- heading (smoothed per track): median absolute error {_f(h.get('median_abs_deg'), 1)} deg, "
            f"front/back flips {_f(h.get('flips_pct'), 1)} % (n {h['n']}); per frame "
            f"{_f(hr.get('median_abs_deg'), 1)} deg, flips {_f(hr.get('flips_pct'), 1)} %",
            f"- velocity, walking (>= {WALKING_M_S} m/s): vector error median {_f(vw.get('median_m_s'))} m/s, mean "
            f"{_f(vw.get('mean_m_s'))} m/s (n {vw['n']}); standing: median {_f(vs.get('median_m_s'))} m/s "
            f"(n {vs['n']}); after the first {WARM_UP_S:g} s of a track",
            f"- camera elevation in use: mean absolute error {_f(el['mean_abs'])} deg, bias {_f(el['bias'])} deg",
        ]
    return lines


def scene_plot(s: dict[str, Any] | None, out_dir) -> list[str]:
    """placement.png: the distance error by ground-truth distance, per estimate; returns the file names."""
    if not s or not any(b["n"] for b in s["distance_by_bin"]):
        return []
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bins = [b for b in s["distance_by_bin"] if b["n"]]
    x = np.arange(len(bins))
    fig, ax = plt.subplots(figsize=(7.5, 3.5))
    for i, (key, _, label) in enumerate(ESTIMATES):
        ys = [b[key].get("mean_abs_rel_pct", np.nan) if b[key]["n"] else np.nan for b in bins]
        ax.bar(x + (i - 1) * 0.27, ys, width=0.27, label=label)
    ax.set_xticks(x, [f"{b['bin_m'][0]:g}-{b['bin_m'][1]:g}" for b in bins])
    ax.set_xlabel("ground-truth distance (m)")
    ax.set_ylabel("mean |distance error| (%)")
    ax.set_title("placement: distance error by distance")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    fig.savefig(out_dir / "placement.png", dpi=90)
    plt.close(fig)
    return ["placement.png"]
