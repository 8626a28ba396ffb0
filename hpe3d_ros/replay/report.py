"""The replay report: report.json, report.md and PNG plots (matplotlib, Agg) from per-frame records.

Sections (docs/replay.md describes every field):
- frames: in, processed (out), dropped while busy, errors by reason;
- latency: per stage and end to end (mean, p50, p95, p99, max in ms);
- people per frame; tracks: count, lengths, estimated id switches;
- temporal jitter: frame-to-frame joint acceleration per track (m/s^2), root-relative and of the root;
- bone-length stability per track (std in mm and coefficient of variation over the track);
- plausibility (the model's negative log-likelihood) distribution; camera elevation over time;
- accuracy when ground truth is present: MPJPE, N-MPJPE, PA-MPJPE (hpe3d_ros.pose_metrics.evaluate, both
  sides root-centred) and the root position error;
- scene (``scene_report``) with ground truth: distance error by distance bin for the height prior alone,
  the ground plane alone and the published placement; with the true camera pose also the heading, the
  velocity and the elevation errors.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .. import skeleton
from ..atomic import atomic_write_text
from ..strict_json import json_safe
from .records import FrameRecord
from .scene_report import scene_accuracy, scene_markdown, scene_plot

STAGE_ORDER = ("wait", "decode", "detect", "map", "lift", "publish", "total")
# Estimated id switch: a track ends and another starts within this time, its pelvis seen within this many
# body heights (in the image) of where the first ended.
SWITCH_GAP_S = 1.0
SWITCH_REL_DIST = 0.5
MIN_TRACK_FRAMES_FOR_BONES = 5


def _stats_ms(values: Sequence[float]) -> dict[str, float | int]:
    a = np.asarray([v for v in values if v is not None and np.isfinite(v)], dtype=np.float64) * 1e3
    if a.size == 0:
        return {"n": 0, "mean": None, "p50": None, "p95": None, "p99": None, "max": None}
    p50, p95, p99 = np.percentile(a, [50, 95, 99])
    return {
        "n": int(a.size),
        "mean": float(a.mean()),
        "p50": float(p50),
        "p95": float(p95),
        "p99": float(p99),
        "max": float(a.max()),
    }


def _dist(values: Sequence[float]) -> dict[str, float | int | None]:
    a = np.asarray([v for v in values if v is not None and np.isfinite(v)], dtype=np.float64)
    if a.size == 0:
        return {"n": 0, "mean": None, "p5": None, "p50": None, "p95": None, "max": None}
    p5, p50, p95 = np.percentile(a, [5, 50, 95])
    return {
        "n": int(a.size),
        "mean": float(a.mean()),
        "p5": float(p5),
        "p50": float(p50),
        "p95": float(p95),
        "max": float(a.max()),
    }


def _tracks(frames: Sequence[FrameRecord]) -> dict[int, list[tuple[float, FrameRecord, int]]]:
    """track id -> [(time s, record, person index)] over processed frames, in time order."""
    out: dict[int, list] = {}
    t0 = frames[0].stamp_ns if frames else 0
    for f in frames:
        if f.status != "processed":
            continue
        for i, tid in enumerate(f.track_ids):
            out.setdefault(int(tid), []).append(((f.stamp_ns - t0) * 1e-9, f, i))
    return out


def _direction_and_size(joints: np.ndarray) -> tuple[np.ndarray, float]:
    """The pelvis's viewing direction (x/z, y/z) and the body's angular height (normalised image units)."""
    root = joints[skeleton.ROOT]
    z = max(float(root[2]), 1e-6)
    return root[:2] / z, float(np.ptp(joints[:, 1])) / z


def _id_switches(tracks: dict[int, list]) -> int:
    """Estimated id switches: a track ends and another starts within SWITCH_GAP_S, its pelvis seen within
    SWITCH_REL_DIST body heights (in the image, so depth noise does not hide a switch) of where the first ended."""
    spans = []
    for tid, items in tracks.items():
        (t_first, f_first, i_first), (t_last, f_last, i_last) = items[0], items[-1]
        spans.append(
            (
                t_first,
                t_last,
                _direction_and_size(f_first.joints[i_first])[0],
                _direction_and_size(f_last.joints[i_last]),
                tid,
            )
        )
    n = 0
    for s0, e0, _, (last_dir, size), t0 in spans:
        for s1, e1, first_dir, _, t1 in spans:
            if (
                t1 != t0
                and 0 < s1 - e0 <= SWITCH_GAP_S
                and np.linalg.norm(first_dir - last_dir) <= SWITCH_REL_DIST * max(size, 1e-6)
            ):
                n += 1
                break
    return n


def _acceleration(items: list) -> tuple[list[float], list[float]]:
    """Per consecutive triple of a track: mean joint acceleration of the root-relative pose and of the root (m/s^2)."""
    pose_acc, root_acc = [], []
    for a, b, c in zip(items, items[1:], items[2:]):
        (ta, fa, ia), (tb, fb, ib), (tc, fc, ic) = a, b, c
        d0, d1 = tb - ta, tc - tb
        if d0 <= 0 or d1 <= 0:
            continue
        pa, pb, pc = fa.joints[ia], fb.joints[ib], fc.joints[ic]
        acc = ((pc - pb) / d1 - (pb - pa) / d0) / (0.5 * (d0 + d1))  # (16, 3)
        root = acc[skeleton.ROOT]
        rel = acc - root
        pose_acc.append(float(np.linalg.norm(rel, axis=-1).mean()))
        root_acc.append(float(np.linalg.norm(root)))
    return pose_acc, root_acc


def _bone_stability(items: list) -> dict[str, Any] | None:
    if len(items) < MIN_TRACK_FRAMES_FOR_BONES:
        return None
    lengths = np.stack([skeleton.bone_lengths(f.joints[i]) for _, f, i in items])  # (T, bones)
    mean = lengths.mean(axis=0)
    std = lengths.std(axis=0)
    cv = std / np.maximum(mean, 1e-9)
    return {
        "frames": len(items),
        "std_mm_mean": float(std.mean() * 1e3),
        "cv_mean": float(cv.mean()),
        "std_mm_per_bone": [float(v * 1e3) for v in std],
    }


def _match_gt(f: FrameRecord) -> list[tuple[int, int]]:
    """(prediction index, ground-truth index) pairs by nearest root (optimal assignment)."""
    if f.gt_joints is None or not len(f.gt_joints) or not f.people:
        return []
    from scipy.optimize import linear_sum_assignment

    cost = np.linalg.norm(f.joints[:, None, skeleton.ROOT] - f.gt_joints[None, :, skeleton.ROOT], axis=-1)
    cost = np.where(np.isfinite(cost), cost, 1e9)
    rows, cols = linear_sum_assignment(cost)
    return list(zip(rows.tolist(), cols.tolist()))


def accuracy(frames: Sequence[FrameRecord]) -> dict[str, Any] | None:
    """MPJPE, N-MPJPE, PA-MPJPE (hpe3d_ros.pose_metrics) of the matched people, or None without ground truth."""
    with_gt = [f for f in frames if f.gt_joints is not None]
    if not with_gt:
        return None
    from .. import pose_metrics as metrics

    pred, gt, groups, per_frame, times = [], [], [], [], []
    gt_people = sum(len(f.gt_joints) for f in with_gt)
    t0 = frames[0].stamp_ns
    for f in with_gt:
        pairs = _match_gt(f) if f.status == "processed" else []
        errs = []
        for pi, gi in pairs:
            if not (np.all(np.isfinite(f.joints[pi])) and np.all(np.isfinite(f.gt_joints[gi]))):
                continue  # a non-finite skeleton counts as missed
            pred.append(f.joints[pi])
            gt.append(f.gt_joints[gi])
            groups.append(str(int(f.track_ids[pi])))
            errs.append(
                metrics.mpjpe(metrics.root_center(f.joints[pi][None]), metrics.root_center(f.gt_joints[gi][None]))
            )
        if errs:
            per_frame.append(float(np.mean(errs)))
            times.append((f.stamp_ns - t0) * 1e-9)
    if not pred:
        return {"gt_people": gt_people, "matched": 0, "missed": gt_people}
    pred_a, gt_a = np.asarray(pred), np.asarray(gt)
    ev = metrics.evaluate(pred_a, gt_a, groups=np.asarray(groups))
    root_err = np.linalg.norm(pred_a[:, skeleton.ROOT] - gt_a[:, skeleton.ROOT], axis=-1) * 1e3
    return {
        "gt_people": gt_people,
        "matched": len(pred),
        "missed": gt_people - len(pred),
        "mpjpe_mm": ev["mpjpe_mm"],
        "n_mpjpe_mm": ev["n_mpjpe_mm"],
        "pa_mpjpe_mm": ev["pa_mpjpe_mm"],
        "pck3d": ev["pck3d"],
        "bone_err_mm": ev["bone_err_mm"],
        "per_joint_mm": ev["per_joint_mm"],
        "root_position_error_mm": _dist(root_err),
        "per_track": ev.get("per_group", {}),
        "per_frame_mpjpe_mm": {"t_s": times, "mpjpe_mm": per_frame},
    }


def analyse(frames: Sequence[FrameRecord], meta: dict[str, Any] | None = None) -> dict[str, Any]:
    """Every number of the report (a JSON-able dict) from the frame records."""
    frames = sorted(frames, key=lambda f: (f.arrival_ns, f.index))
    processed = [f for f in frames if f.status == "processed"]
    errors: dict[str, int] = {}
    for f in frames:
        if f.status == "error":
            errors[f.reason or "error"] = errors.get(f.reason or "error", 0) + 1
    duration = (frames[-1].stamp_ns - frames[0].stamp_ns) * 1e-9 if len(frames) > 1 else 0.0
    latency = {s: _stats_ms([f.timings.get(s) for f in processed if s in f.timings]) for s in STAGE_ORDER}
    latency["end_to_end"] = _stats_ms([f.latency_s for f in processed if f.latency_s is not None])
    people = [f.people for f in processed]
    tracks = _tracks(frames)
    lengths = [len(v) for v in tracks.values()]
    pose_acc, root_acc, bones = [], [], {}
    for tid, items in tracks.items():
        pa, ra = _acceleration(items)
        pose_acc += pa
        root_acc += ra
        b = _bone_stability(items)
        if b is not None:
            bones[str(tid)] = b
    plaus = [float(v) for f in processed for v in f.plausibility if np.isfinite(v)]
    elev = [float(np.degrees(v)) for f in processed for v in f.elevation]
    t0 = frames[0].stamp_ns if frames else 0
    elevation_series = [
        ((f.stamp_ns - t0) * 1e-9, float(np.degrees(np.mean(f.elevation)))) for f in processed if f.people
    ]
    out = {
        "meta": dict(meta or {}),
        "frames": {
            "in": len(frames),
            "processed": len(processed),
            "dropped": sum(f.status == "dropped" for f in frames),
            "errors": sum(f.status == "error" for f in frames),
            "errors_by_reason": errors,
            "duration_s": duration,
            "input_rate_hz": (len(frames) - 1) / duration if duration > 0 else None,
            "output_rate_hz": (len(processed) - 1) / duration if duration > 0 and processed else None,
        },
        "latency_ms": latency,
        "people_per_frame": {
            "mean": float(np.mean(people)) if people else None,
            "max": int(max(people)) if people else 0,
            "histogram": {str(k): int(v) for k, v in zip(*np.unique(people, return_counts=True))} if people else {},
            "frames_with_people": int(sum(p > 0 for p in people)),
        },
        "tracks": {
            "count": len(tracks),
            "length_frames": _dist(lengths),
            "id_switches_estimated": _id_switches(tracks),
            "lengths": {str(t): len(v) for t, v in sorted(tracks.items())},
        },
        "jitter": {"pose_acceleration_m_s2": _dist(pose_acc), "root_acceleration_m_s2": _dist(root_acc)},
        "bone_length_stability": {
            "tracks": bones,
            "cv_mean_over_tracks": float(np.mean([b["cv_mean"] for b in bones.values()])) if bones else None,
            "std_mm_mean_over_tracks": float(np.mean([b["std_mm_mean"] for b in bones.values()])) if bones else None,
        },
        "plausibility_nll": _dist(plaus) if plaus else None,
        "elevation_deg": {**_dist(elev), "series": elevation_series},
        "accuracy": accuracy(frames),
        "scene": scene_accuracy(frames, _match_gt),
    }
    return out


# ------------------------------------------------------------------------------------------ output


def _fmt(v: Any, digits: int = 1) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def markdown(r: dict[str, Any], plots: Sequence[str]) -> str:
    """report.md from the analysed dict."""
    m, fr = r["meta"], r["frames"]
    lines = ["# Replay report", ""]
    for k, v in m.items():
        lines.append(f"- {k}: `{v}`")
    lines += [
        "",
        "## Frames",
        "",
        "| in | processed | dropped (busy) | errors | duration (s) | input Hz | output Hz |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        f"| {fr['in']} | {fr['processed']} | {fr['dropped']} | {fr['errors']} | {_fmt(fr['duration_s'], 2)} | "
        f"{_fmt(fr['input_rate_hz'], 2)} | {_fmt(fr['output_rate_hz'], 2)} |",
    ]
    if fr["errors_by_reason"]:
        lines += ["", "Errors: " + ", ".join(f"{k}: {v}" for k, v in fr["errors_by_reason"].items())]
    lines += [
        "",
        "## Latency (ms)",
        "",
        "| stage | n | mean | p50 | p95 | p99 | max |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for s, st in r["latency_ms"].items():
        if st["n"]:
            lines.append(
                f"| {s} | {st['n']} | {_fmt(st['mean'])} | {_fmt(st['p50'])} | {_fmt(st['p95'])} | {_fmt(st['p99'])} "
                f"| {_fmt(st['max'])} |"
            )
    nd = r.get("node_diagnostics")
    if nd:
        lines += [
            "",
            "Per stage inside lift_node (its last /diagnostics, over its recent frames):",
            "",
            "| stage | p50 | p95 | p99 |",
            "| --- | --- | --- | --- |",
        ]
        node_stages = [
            k[len("latency_") : -len("_p50_ms")] for k in nd if k.startswith("latency_") and k.endswith("_p50_ms")
        ]
        for s in node_stages:
            if f"latency_{s}_p95_ms" in nd and f"latency_{s}_p99_ms" in nd:
                lines.append(
                    f"| {s} | {nd[f'latency_{s}_p50_ms']} | {nd[f'latency_{s}_p95_ms']} | {nd[f'latency_{s}_p99_ms']} |"
                )
        lines += [
            "",
            "Node counters: "
            + ", ".join(f"{k} {nd[k]}" for k in ("frames_received", "frames_processed", "frames_dropped") if k in nd),
        ]
    pp, tr = r["people_per_frame"], r["tracks"]
    lines += [
        "",
        "## People and tracks",
        "",
        f"- people per processed frame: mean {_fmt(pp['mean'], 2)}, max {pp['max']}, histogram {pp['histogram']}",
        f"- tracks: {tr['count']}; length (frames) mean {_fmt(tr['length_frames']['mean'])}, "
        f"p50 {_fmt(tr['length_frames']['p50'])}, max {_fmt(tr['length_frames']['max'])}",
        f"- id switches (estimated: a track ends and another starts within {SWITCH_GAP_S} s, its pelvis seen within "
        f"{SWITCH_REL_DIST} body heights of where the first ended): {tr['id_switches_estimated']}",
    ]
    j = r["jitter"]
    lines += [
        "",
        "## Temporal jitter (frame-to-frame joint acceleration, m/s^2)",
        "",
        "| quantity | n | mean | p50 | p95 | max |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, d in (
        ("root-relative pose", j["pose_acceleration_m_s2"]),
        ("root position", j["root_acceleration_m_s2"]),
    ):
        lines.append(
            f"| {name} | {d['n']} | {_fmt(d['mean'], 2)} | {_fmt(d['p50'], 2)} | {_fmt(d['p95'], 2)} | "
            f"{_fmt(d['max'], 2)} |"
        )
    b = r["bone_length_stability"]
    lines += ["", f"## Bone-length stability (tracks of at least {MIN_TRACK_FRAMES_FOR_BONES} frames)", ""]
    if b["tracks"]:
        lines += [
            f"Mean over tracks: std {_fmt(b['std_mm_mean_over_tracks'])} mm, coefficient of variation "
            f"{_fmt(b['cv_mean_over_tracks'], 3)}",
            "",
            "| track | frames | bone std mean (mm) | CV mean |",
            "| --- | --- | --- | --- |",
        ]
        for tid, t in list(b["tracks"].items())[:30]:
            lines.append(f"| {tid} | {t['frames']} | {_fmt(t['std_mm_mean'])} | {_fmt(t['cv_mean'], 3)} |")
    else:
        lines.append("No track long enough.")
    p = r["plausibility_nll"]
    lines += ["", "## Plausibility (negative log-likelihood, lower = more plausible)", ""]
    lines.append(
        "The model has no plausibility output."
        if not p
        else f"n {p['n']}, mean {_fmt(p['mean'], 2)}, p5 {_fmt(p['p5'], 2)}, p50 {_fmt(p['p50'], 2)}, p95 "
             f"{_fmt(p['p95'], 2)}"
    )
    e = r["elevation_deg"]
    lines += [
        "",
        "## Camera elevation (degrees, downward pitch)",
        "",
        f"n {e['n']}, mean {_fmt(e['mean'])}, p5 {_fmt(e['p5'])}, p50 {_fmt(e['p50'])}, p95 {_fmt(e['p95'])}",
    ]
    a = r["accuracy"]
    lines += ["", "## Accuracy against ground truth", ""]
    if a is None:
        lines.append("The bag carries no ground truth.")
    elif not a.get("matched"):
        lines.append(f"Ground truth for {a['gt_people']} people, none matched by a prediction.")
    else:
        lines += [
            f"{a['matched']} of {a['gt_people']} ground-truth people matched (nearest root); {a['missed']} missed.",
            "",
            "| MPJPE (mm) | N-MPJPE (mm) | PA-MPJPE (mm) | PCK3D@150mm | bone error (mm) | root position error p50 "
            "(mm) |",
            "| --- | --- | --- | --- | --- | --- |",
            f"| {_fmt(a['mpjpe_mm'])} | {_fmt(a['n_mpjpe_mm'])} | {_fmt(a['pa_mpjpe_mm'])} | {_fmt(a['pck3d'], 3)} | "
            f"{_fmt(a['bone_err_mm'])} | {_fmt(a['root_position_error_mm']['p50'])} |",
            "",
            "MPJPE, N-MPJPE and PA-MPJPE by hpe3d_ros.pose_metrics.evaluate, both sides root-centred (protocol 1); "
            "the predictions are the published metric skeletons (body-height prior of the parameters).",
        ]
        if a.get("per_track"):
            lines += [
                "",
                "| track | poses | MPJPE (mm) | N-MPJPE (mm) | PA-MPJPE (mm) |",
                "| --- | --- | --- | --- | --- |",
            ]
            for tid, g in sorted(
                a["per_track"].items(), key=lambda kv: int(kv[0]) if kv[0].lstrip("-").isdigit() else 0
            )[:40]:
                lines.append(
                    f"| {tid} | {g['n_poses']} | {_fmt(g['mpjpe_mm'])} | {_fmt(g['n_mpjpe_mm'])} | "
                    f"{_fmt(g['pa_mpjpe_mm'])} |"
                )
    if a is not None:
        lines += scene_markdown(r.get("scene"))
    if plots:
        lines += ["", "## Plots", ""] + [f"![{Path(p).stem}]({Path(p).name})" for p in plots]
    return "\n".join(lines) + "\n"


def plot(r: dict[str, Any], frames: Sequence[FrameRecord], out_dir: Path) -> list[str]:
    """PNG plots into ``out_dir``; returns their file names."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    processed = [f for f in frames if f.status == "processed"]
    t0 = frames[0].stamp_ns if frames else 0

    # latency per stage
    data, names = [], []
    for s in STAGE_ORDER:
        v = [f.timings[s] * 1e3 for f in processed if s in f.timings and np.isfinite(f.timings[s])]
        if v:
            data.append(v)
            names.append(s)
    e2e = [f.latency_s * 1e3 for f in processed if f.latency_s is not None]
    if e2e:
        data.append(e2e)
        names.append("end to end")
    if data:
        fig, ax = plt.subplots(figsize=(7, 3.5))
        ax.boxplot(data, showfliers=True)
        ax.set_xticks(range(1, len(names) + 1), names)
        ax.set_ylabel("ms")
        ax.set_title("latency per stage")
        ax.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(out_dir / "latency.png", dpi=90)
        plt.close(fig)
        written.append("latency.png")

    # timeline: people per frame, tracks, elevation
    if processed:
        fig, axes = plt.subplots(3, 1, figsize=(8, 6.5), sharex=True)
        t = [(f.stamp_ns - t0) * 1e-9 for f in processed]
        axes[0].step(t, [f.people for f in processed], where="post")
        dropped = [(f.stamp_ns - t0) * 1e-9 for f in frames if f.status != "processed"]
        if dropped:
            axes[0].plot(dropped, np.zeros(len(dropped)), "rx", ms=4, label="dropped / error")
            axes[0].legend(loc="upper right", fontsize=7)
        axes[0].set_ylabel("people")
        tracks = _tracks(frames)
        for k, (tid, items) in enumerate(sorted(tracks.items())):
            axes[1].plot([x[0] for x in items], [tid] * len(items), ".", ms=2)
        axes[1].set_ylabel("track id")
        for tid, items in sorted(tracks.items()):
            axes[2].plot([x[0] for x in items], [np.degrees(x[1].elevation[x[2]]) for x in items], "-", lw=1)
        axes[2].set_ylabel("elevation (deg)")
        axes[2].set_xlabel("time (s)")
        axes[0].set_title("people, tracks and camera elevation over time")
        for a in axes:
            a.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(out_dir / "timeline.png", dpi=90)
        plt.close(fig)
        written.append("timeline.png")

    # jitter, plausibility, bone stability
    tracks = _tracks(frames)
    pose_acc = [v for items in tracks.values() for v in _acceleration(items)[0]]
    plaus = [float(v) for f in processed for v in f.plausibility if np.isfinite(v)]
    bones = r["bone_length_stability"]["tracks"]
    panels = [p for p in (("jitter", pose_acc), ("plausibility", plaus), ("bones", bones)) if len(p[1])]
    if panels:
        fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 3.2))
        axes = np.atleast_1d(axes)
        for ax, (name, v) in zip(axes, panels):
            if name == "jitter":
                ax.hist(np.clip(v, 0, np.percentile(v, 99)), bins=40)
                ax.set_xlabel("root-relative joint acceleration (m/s^2)")
                ax.set_title("temporal jitter")
            elif name == "plausibility":
                ax.hist(v, bins=40)
                ax.set_xlabel("negative log-likelihood")
                ax.set_title("plausibility")
            else:
                ids = list(v)[:40]
                ax.bar(range(len(ids)), [v[i]["cv_mean"] for i in ids])
                ax.set_xticks(range(len(ids)), ids, rotation=90, fontsize=6)
                ax.set_ylabel("bone length CV")
                ax.set_title("bone-length stability per track")
            ax.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(out_dir / "stability.png", dpi=90)
        plt.close(fig)
        written.append("stability.png")

    acc = r.get("accuracy")
    if acc and acc.get("matched"):
        fig, ax = plt.subplots(figsize=(8, 3))
        s = acc["per_frame_mpjpe_mm"]
        ax.plot(s["t_s"], s["mpjpe_mm"], lw=1)
        ax.set_xlabel("time (s)")
        ax.set_ylabel("MPJPE (mm)")
        ax.set_title("error against ground truth per frame (root-centred)")
        ax.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(out_dir / "accuracy.png", dpi=90)
        plt.close(fig)
        written.append("accuracy.png")
    written += scene_plot(r.get("scene"), out_dir)
    return written


def write_report(
    frames: Sequence[FrameRecord],
    out_dir: str | Path,
    meta: dict[str, Any] | None = None,
    with_plots: bool = True,
    node_diagnostics: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Analyse ``frames`` and write report.json, report.md and the plots into ``out_dir``; returns the dict.
    ``node_diagnostics``: the node's last /diagnostics key-values (the demo's per-stage percentiles)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    frames = sorted(frames, key=lambda f: (f.arrival_ns, f.index))
    if not frames:
        r = {"meta": dict(meta or {}), "frames": {"in": 0, "processed": 0, "dropped": 0, "errors": 0}}
        atomic_write_text(out_dir / "report.json", json.dumps(json_safe(r), indent=1) + "\n")
        atomic_write_text(out_dir / "report.md", "# Replay report\n\nNo input frames.\n")
        return r
    r = analyse(frames, meta)
    if node_diagnostics:
        r["node_diagnostics"] = dict(node_diagnostics)
    plots = plot(r, frames, out_dir) if with_plots else []
    r["plots"] = plots
    atomic_write_text(out_dir / "report.json", json.dumps(json_safe(r), indent=1) + "\n")
    atomic_write_text(out_dir / "report.md", markdown(r, plots))
    return r
