"""Pictures for checking skeletons by eye: world poses (x forward, y left, z up) in front and side
views (left side blue, right side red, midline grey), and 2D keypoints inside their image frame."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hpe3d_ros import skeleton

LEFT, RIGHT, MID = "#1f6fd1", "#d9480f", "#555555"


def pyplot():
    """matplotlib.pyplot on the Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _bone_color(b: int) -> str:
    name = skeleton.JOINT_NAMES[b]
    return LEFT if name.startswith("left") else RIGHT if name.startswith("right") else MID


def draw_2d(ax, pts: np.ndarray, alpha: float = 1.0, lw: float = 2.0) -> None:
    """Bones of one pose (16, 2) in the axes' coordinates."""
    for a, b in skeleton.BONES:
        ax.plot(pts[[a, b], 0], pts[[a, b], 1], color=_bone_color(b), lw=lw, alpha=alpha)
    ax.scatter(pts[:, 0], pts[:, 1], s=8, color="k", alpha=alpha, zorder=3)


def facing(pose: np.ndarray) -> float:
    """Heading (rad) of a world pose: the horizontal normal 'left x up' of the hip line."""
    lr = pose[skeleton.JOINT_NAMES.index("left_hip")] - pose[skeleton.JOINT_NAMES.index("right_hip")]
    fwd = np.cross(lr, [0.0, 0.0, 1.0])
    return float(np.arctan2(fwd[1], fwd[0]))


def plot_world_poses(
    poses: list[np.ndarray], titles: list[str], path: str | Path, extra_points: list | None = None
) -> None:
    """Each world pose (16, 3) in a front view (its left on the image's right) and a side view (from
    its left), the floor z = 0 drawn; ``extra_points`` (per pose (K, 3) or None) drawn as crosses."""
    plt = pyplot()
    n = len(poses)
    fig, axes = plt.subplots(2, n, figsize=(2.4 * n, 6.2), squeeze=False)
    for i, pose in enumerate(poses):
        pose = np.asarray(pose, dtype=np.float64)
        h = facing(pose)
        c, s = np.cos(-h), np.sin(-h)
        rz = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])  # turn the pose to face +x
        p = pose @ rz.T
        shift = p[skeleton.ROOT, :2].copy()
        p[:, :2] -= shift
        ex = None
        if extra_points is not None and extra_points[i] is not None:
            ex = np.asarray(extra_points[i], dtype=np.float64) @ rz.T
            ex[:, :2] -= shift
        for row, (cols, label) in enumerate(
            (((1, 2), "front (its left on the right)"), ((0, 2), "side (from its left)"))
        ):
            ax = axes[row, i]
            q = p[:, cols].copy()
            if row == 1:
                q[:, 0] = -q[:, 0]
            draw_2d(ax, q)
            if ex is not None:
                e = ex[:, cols].copy()
                if row == 1:
                    e[:, 0] = -e[:, 0]
                ax.scatter(e[:, 0], e[:, 1], marker="x", color="g", s=30, zorder=4)
            ax.axhline(0.0, color="#8a6d3b", lw=1)
            ax.set_aspect("equal")
            ax.set_xlim(-1.0, 1.0)
            ax.set_ylim(-0.1, 2.1)
            ax.grid(alpha=0.3)
            if row == 0:
                ax.set_title(titles[i], fontsize=8)
            ax.set_xlabel(label, fontsize=7)
            ax.tick_params(labelsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_image_poses(
    keypoints: np.ndarray, image_sizes: np.ndarray, titles: list[str], path: str | Path, noisy: np.ndarray | None = None
) -> None:
    """2D poses (N, 16, 2) in pixels inside their image rectangles (N, 2) (width, height); ``noisy``
    (the same poses with 2D error) drawn faintly on top."""
    plt = pyplot()
    n = len(keypoints)
    cols = min(n, 4)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.0 * cols, 3.0 * rows), squeeze=False)
    for i in range(rows * cols):
        ax = axes[i // cols, i % cols]
        if i >= n:
            ax.axis("off")
            continue
        w, h = image_sizes[i]
        ax.add_patch(plt.Rectangle((0, 0), w, h, fill=False, color="k"))
        ax.plot([w / 2], [h / 2], "k+")
        draw_2d(ax, keypoints[i], lw=1.5)
        if noisy is not None:
            draw_2d(ax, noisy[i], alpha=0.4, lw=1.0)
        ax.set_xlim(-10, w + 10)
        ax.set_ylim(h + 10, -10)
        ax.set_aspect("equal")
        ax.set_title(titles[i], fontsize=8)
        ax.tick_params(labelsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
