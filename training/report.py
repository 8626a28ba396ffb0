"""The evaluation report of `hpe3d eval --report DIR`: report.md plus PNG plots (matplotlib, Agg).

Plots: error per joint, error per content, error against camera elevation, and a few skeletons
(prediction against ground truth, in 3D and front/side views, drawn with the layout's bones).
Every file is written to a temporary name in DIR and renamed into place (atomic).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from hpe3d_ros import camera, skeleton
from hpe3d_ros.atomic import atomic_path, atomic_write_text
from hpe3d_ros.metric import DEFAULT_BODY_HEIGHT_M
from hpe3d_ros.strict_json import json_safe

from .evaluation import Prediction

GT_COLOR = "#2a7ab0"
PRED_COLOR = "#d9480f"


def _save_fig(fig, path: Path) -> None:
    import matplotlib.pyplot as plt

    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def plot_error_per_joint(result: dict, path: Path) -> None:
    """Bar chart: mean error per joint (root-aligned) and after Procrustes alignment."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(9, 3.8))
    x = np.arange(skeleton.NUM_JOINTS)
    ax.bar(x, result["per_joint_mm"], color=PRED_COLOR, label="MPJPE")
    ax.set_xticks(x, skeleton.JOINT_NAMES, rotation=45, ha="right")
    ax.set_ylabel("error (mm)")
    ax.set_title("Error per joint (root-aligned, height prior)")
    ax.grid(axis="y", alpha=0.3)
    ax.legend()
    _save_fig(fig, path)


def plot_error_per_content(result: dict, path: Path) -> None:
    """Grouped bars: MPJPE, N-MPJPE and PA-MPJPE for every content."""
    plt = _plt()
    groups = sorted(result["per_content"])
    keys = (("mpjpe_mm", "MPJPE"), ("n_mpjpe_mm", "N-MPJPE"), ("pa_mpjpe_mm", "PA-MPJPE"))
    fig, ax = plt.subplots(figsize=(min(14.0, max(5.0, 0.55 * len(groups) + 2)), 3.8))
    x = np.arange(len(groups))
    width = 0.27
    for i, (key, label) in enumerate(keys):
        ax.bar(x + (i - 1) * width, [result["per_content"][g][key] for g in groups], width, label=label)
    ax.set_xticks(x, groups, rotation=30, ha="right")
    ax.set_ylabel("error (mm)")
    ax.set_title("Error per content")
    ax.grid(axis="y", alpha=0.3)
    ax.legend()
    _save_fig(fig, path)


def elevation_bins(
    elevation_rad: np.ndarray, values: np.ndarray, width_deg: float = 5.0
) -> list[tuple[float, float, int]]:
    """Mean of ``values`` in elevation bins: (bin centre in degrees, mean, count) for non-empty bins."""
    deg = np.degrees(np.asarray(elevation_rad, dtype=np.float64))
    idx = np.floor(deg / width_deg).astype(int)
    out = []
    for b in np.unique(idx):
        sel = idx == b
        out.append(((b + 0.5) * width_deg, float(values[sel].mean()), int(sel.sum())))
    return out


def plot_error_vs_elevation(per_pose: dict, data: dict, pred: Prediction, path: Path) -> None:
    """Per-pose errors against the ground-truth camera elevation (binned means over a scatter)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 3.8))
    if "elevation" in data:
        elev = np.asarray(data["elevation"], dtype=np.float64)
        for key, label, color in (("mpjpe_mm", "MPJPE", PRED_COLOR), ("pa_mpjpe_mm", "PA-MPJPE", GT_COLOR)):
            ax.scatter(np.degrees(elev), per_pose[key], s=3, alpha=0.15, color=color)
            bins = elevation_bins(elev, per_pose[key])
            ax.plot(
                [b[0] for b in bins], [b[1] for b in bins], "-o", ms=3, color=color, label=f"{label} (mean per 5 deg)"
            )
        if pred.elevation is not None:
            ax2 = ax.twinx()
            err = np.degrees(np.abs(pred.elevation - elev))
            bins = elevation_bins(elev, err)
            ax2.plot([b[0] for b in bins], [b[1] for b in bins], "--", color="gray", label="elevation error (deg)")
            ax2.set_ylabel("elevation error (deg)")
            ax2.legend(loc="upper right")
        ax.set_xlabel("camera elevation (deg, ground truth)")
        ax.legend(loc="upper left")
    else:
        ax.text(0.5, 0.5, "this evaluation set has no elevation", ha="center", va="center", transform=ax.transAxes)
    ax.set_ylabel("per-pose error (mm)")
    ax.set_title("Error against camera elevation")
    ax.grid(alpha=0.3)
    _save_fig(fig, path)


def pick_examples(pa_mpjpe_mm: np.ndarray, count: int = 4) -> list[int]:
    """Pose indices to draw: the best, quantiles between, and the worst by PA-MPJPE."""
    order = np.argsort(pa_mpjpe_mm, kind="stable")
    pos = np.linspace(0, len(order) - 1, min(count, len(order))).round().astype(int)
    return [int(order[p]) for p in dict.fromkeys(pos)]


def _draw(ax, pts: np.ndarray, color: str, dims: tuple[int, ...], label: str | None = None) -> None:
    for a, b in skeleton.BONES:
        seg = pts[[a, b]]
        ax.plot(*(seg[:, d] for d in dims), color=color, lw=1.8, label=label if (a, b) == skeleton.BONES[0] else None)
    ax.scatter(*(pts[:, d] for d in dims), color=color, s=8)


def plot_skeletons(per_pose: dict, data: dict, path: Path, count: int = 4) -> list[int]:
    """Prediction against ground truth for a few poses: 3D, front and side views in the
    gravity-aligned frame (ground-truth elevation), x right, y up, z away from the camera."""
    plt = _plt()
    idx = pick_examples(per_pose["pa_mpjpe_mm"], count)
    fig = plt.figure(figsize=(12, 3.6 * len(idx)))
    for row, i in enumerate(idx):
        elev = float(data["elevation"][i]) if "elevation" in data else 0.0
        views = []
        for pts in (per_pose["gt_m"][i], per_pose["pred_m"][i]):
            up = camera.upright_from_optical(pts[None], elev)[0]
            views.append(up * np.array([1.0, -1.0, 1.0]))  # y up for drawing
        gt, pr = views
        ax = fig.add_subplot(len(idx), 3, 3 * row + 1, projection="3d")
        _draw(ax, gt, GT_COLOR, (0, 2, 1), "ground truth")
        _draw(ax, pr, PRED_COLOR, (0, 2, 1), "prediction")
        ax.set_xlabel("x")
        ax.set_ylabel("z (depth)")
        ax.set_zlabel("y (up)")
        ax.view_init(elev=15, azim=-70)
        lim = np.abs(np.concatenate([gt, pr])).max()
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        ax.set_zlim(-lim, lim)
        content = str(data["content"][i]) if "content" in data else ""
        ax.set_title(
            f"#{i} {content}: MPJPE {per_pose['mpjpe_mm'][i]:.0f} mm, PA {per_pose['pa_mpjpe_mm'][i]:.0f} mm",
            fontsize=8,
        )
        if row == 0:
            ax.legend(fontsize=7, loc="upper left")
        for col, (dims, name) in enumerate((((0, 1), "front (x-y)"), ((2, 1), "side (depth-y)"))):
            ax2 = fig.add_subplot(len(idx), 3, 3 * row + 2 + col)
            _draw(ax2, gt, GT_COLOR, dims)
            _draw(ax2, pr, PRED_COLOR, dims)
            ax2.set_aspect("equal", adjustable="datalim")
            ax2.set_title(name, fontsize=8)
            ax2.grid(alpha=0.3)
    fig.subplots_adjust(wspace=0.35, hspace=0.35)
    _save_fig(fig, path)
    return idx


def _fmt(v, spec: str) -> str:
    return "n/a" if v is None else format(v, spec)


def render_markdown(result: dict, examples: list[int], command: str = "") -> str:
    """The report's markdown text."""
    lines = [
        f"# Evaluation of `{result['model']}`",
        "",
        f"Split: `{result['split']}`" + (f" ({result['noise']} 2D noise)" if result.get("noise") else "") + ", "
        f"{result['n_poses']} poses; backend `{result.get('backend', '?')}`, normalisation "
        f"`{result.get('normalization', '?')}`, "
        f"height prior {result.get('height_m', DEFAULT_BODY_HEIGHT_M):.2f} m. Definitions: docs/metrics.md.",
        "",
    ]
    if command:
        lines += ["Command:", "", "```bash", command, "```", ""]
    lines += [
        "| metric | value |",
        "| --- | --- |",
        f"| MPJPE | {result['mpjpe_mm']:.1f} mm |",
        f"| N-MPJPE | {result['n_mpjpe_mm']:.1f} mm |",
        f"| PA-MPJPE | {result['pa_mpjpe_mm']:.1f} mm |",
        f"| PCK3D @ 150 mm | {100 * result['pck3d']:.1f} % |",
        f"| AUC 0-150 mm | {100 * result['auc']:.1f} % |",
        f"| CPS 0-300 mm | {result['cps']:.1f} mm |",
        f"| bone-length error | {result['bone_err_mm']:.1f} mm |",
        f"| elevation error | {_fmt(result.get('elevation_err_deg'), '.2f')} deg |",
        f"| Spearman(nll, PA-MPJPE) | {_fmt(result.get('spearman_nll_pa'), '.3f')} |",
        "",
        "## Per content",
        "",
        "| content | poses | MPJPE (mm) | N-MPJPE (mm) | PA-MPJPE (mm) | PCK3D (%) | AUC (%) | CPS (mm) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name in sorted(result["per_content"]):
        r = result["per_content"][name]
        lines.append(
            f"| {name} | {r['n_poses']} | {r['mpjpe_mm']:.1f} | {r['n_mpjpe_mm']:.1f} | {r['pa_mpjpe_mm']:.1f} | "
            f"{100 * r['pck3d']:.1f} | {100 * r['auc']:.1f} | {r['cps']:.1f} |"
        )
    lines += [
        "",
        "![error per content](error_per_content.png)",
        "",
    ]
    if result.get("per_elevation"):
        lines += [
            "## Per camera elevation",
            "",
            "| elevation band | poses | MPJPE (mm) | N-MPJPE (mm) | PA-MPJPE (mm) | PCK3D (%) | CPS (mm) |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        for name, r in result["per_elevation"].items():
            lines.append(
                f"| {name} | {r['n_poses']} | {r['mpjpe_mm']:.1f} | {r['n_mpjpe_mm']:.1f} | {r['pa_mpjpe_mm']:.1f} | "
                f"{100 * r['pck3d']:.1f} | {r['cps']:.1f} |"
            )
        lines.append("")
    lines += [
        "## Per joint",
        "",
        "| joint | MPJPE (mm) |",
        "| --- | --- |",
    ]
    lines += [f"| {n} | {v:.1f} |" for n, v in zip(skeleton.JOINT_NAMES, result["per_joint_mm"])]
    lines += [
        "",
        "![error per joint](error_per_joint.png)",
        "",
        "## Error against camera elevation",
        "",
        "![error vs elevation](error_vs_elevation.png)",
        "",
        "## Examples",
        "",
        f"Poses {', '.join(f'#{i}' for i in examples)} (best to worst PA-MPJPE); blue: ground truth, orange: "
        "prediction,",
        "in the gravity-aligned camera frame.",
        "",
        "![skeletons](skeletons.png)",
        "",
        "Full results: [result.json](result.json).",
        "",
    ]
    return "\n".join(lines)


def write_report(out_dir: Path, result: dict, per_pose: dict, data: dict, pred: Prediction, command: str = "") -> Path:
    """Write report.md, result.json and the PNG plots into ``out_dir``; return the report's path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    plot_error_per_joint(result, out_dir / "error_per_joint.png")
    plot_error_per_content(result, out_dir / "error_per_content.png")
    plot_error_vs_elevation(per_pose, data, pred, out_dir / "error_vs_elevation.png")
    examples = plot_skeletons(per_pose, data, out_dir / "skeletons.png")
    text = json.dumps(json_safe({**result, "command": command}), indent=1)
    atomic_write_text(out_dir / "result.json", text)
    md = render_markdown(result, examples, command)
    path = out_dir / "report.md"
    atomic_write_text(path, md)
    return path
