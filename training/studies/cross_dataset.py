"""The studies behind docs/results.md "Cross-dataset": where the gap between the in-domain and the
cross-dataset error comes from, and the pictures.

    python -m training.studies.cross_dataset table --model engines/ours_bandai.onnx [--model ...] --json out.json
    python -m training.studies.cross_dataset body-gap --model engines/ours_bandai.onnx --json out.json
    python -m training.studies.cross_dataset tilt --model engines/ours_bandai.onnx --png docs/figures/x.png
    python -m training.studies.cross_dataset images --png docs/figures/crossdata_images.png
    python -m training.studies.cross_dataset fixture        # hpe3d_ros/data/cross_fixture.npz

``table``: both benchmarks (training.benchmark) plus the decomposition sets: the held-out HDM05
motions retargeted to the Bandai body by FK and/or rendered through the training cameras, so each
step from in-domain to cross changes one thing (motions, bodies, cameras). ``body-gap``: one bone
group at a time set to the Bandai length (the rest the actor's own), and the head-point variants.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from hpe3d_ros import camera, metric, skeleton
from hpe3d_ros.strict_json import json_safe
from training import benchmark, evaluation
from training.data import asf_amc, crossdata, hdm05
from training.data.body import BANDAI_GROUPS_M, GROUPS

from .pose_figures import plot_image_poses, pyplot

DECOMPOSITION = {
    "cross_bandai_body_train_cams": ("bandai", "train"),
    "cross_train_cams": ("native", "train"),
    "cross_bandai_body": ("bandai", "cross"),
}
# Diagnostic sets whose points follow MediaPipe's landmark definitions (docs/joint_layout.md "Joint
# definitions": hips 1.3x the joint-centre width, shoulder width 0.70 torso lengths, the head point
# 0.13 torso lengths above the skull base), in 2D AND 3D (the same points on both sides): factors
# (hip scale, shoulder scale, head shift) per source. Not the benchmark, whose ground truth keeps the
# mocap definitions.
MEDIAPIPE_DEFINITIONS = {
    "in_domain_mp_defs": ("in_domain", 1.3, 0.70 / 0.505, 0.13),
    "cross_mp_defs": ("cross", 1.3, 0.70 / 0.845, 0.13),
}
FIXTURE_SIZE = 1000
FIXTURE_SEED = 5005


def decomposition_set(name: str, config: dict | None = None) -> dict:
    """One decomposition set (``DECOMPOSITION`` or ``MEDIAPIPE_DEFINITIONS``) as a validated evaluation set."""
    if name in MEDIAPIPE_DEFINITIONS:
        from training.data.joint_defs import apply_definitions

        base, hip, shoulder, head = MEDIAPIPE_DEFINITIONS[name]
        d = dict(benchmark.load_set(base, "test", config))
        n = len(d["keypoints"])
        d["joints3d"] = apply_definitions(d["joints3d"], np.full(n, hip), np.full(n, shoulder), np.full(n, head))
        d["keypoints"] = camera.project(d["joints3d"], d["intrinsics"])
        return evaluation.validate_eval_set(d, name)
    bodies, cams = DECOMPOSITION[name]
    d = crossdata.build_set(config, bodies=bodies, cameras=cams)
    keep = {k: v for k, v in d.items() if k in evaluation.EVAL_KEYS or k in benchmark.EXTRA_KEYS}
    return evaluation.validate_eval_set(keep, name)


def table(models: list[str], json_path: str | None, sets: list[str] | None = None) -> int:
    """Both benchmarks and the decomposition (or ``sets``: names of benchmark.SETS and DECOMPOSITION)
    for each model; Markdown on stdout."""
    sets = sets or list(benchmark.DEFAULT_SETS) + list(DECOMPOSITION)
    extra = {**DECOMPOSITION, **MEDIAPIPE_DEFINITIONS}
    bad = sorted(set(sets) - set(benchmark.SETS) - set(extra))
    if bad:
        raise SystemExit(f"unknown sets {bad}; expected some of {sorted(benchmark.SETS) + sorted(extra)}")
    cache: dict = {}
    results = []
    for m in models:
        r = benchmark.evaluate_model(m, tuple(s for s in sets if s in benchmark.SETS), cache=cache)
        for name in (s for s in sets if s in extra):
            if name not in cache:
                cache[name] = decomposition_set(name)
            r["sets"][name] = benchmark.evaluate_set(m, cache[name])
        results.append(r)
        print(
            f"{m}: " + ", ".join(f"{k} {v['pa_mpjpe_mm']:.1f}" for k, v in r["sets"].items()),
            file=sys.stderr,
            flush=True,
        )
    text = benchmark.markdown(results)
    if "cross_val" in sets:
        text += (
            "\nValidation (HDM05 training actors, independent cameras; PA-MPJPE mm, clean / detector error): "
            + "; ".join(
                f"{benchmark.label(r['model'])} {r['sets']['cross_val']['pa_mpjpe_mm']:.1f}"
                + (f" / {r['sets']['cross_val_noisy']['pa_mpjpe_mm']:.1f}" if "cross_val_noisy" in r["sets"] else "")
                for r in results
            )
            + "\n"
        )
    if not all(k in sets for k in ("in_domain", "cross", *DECOMPOSITION)):
        print(text)
        if json_path:
            Path(json_path).write_text(json.dumps(json_safe({"results": results}), indent=1))
        return 0
    text += (
        "\nDecomposition (PA-MPJPE mm, clean 2D): in-domain -> HDM05 motions on the Bandai body through the training "
        "cameras -> their own bodies -> the Bandai body through the independent cameras -> the cross set:\n\n"
        "| model | in-domain | motions (Bandai body, training cams) | + own bodies (training cams) | "
        "motions + independent cams (Bandai body) | + own bodies = cross |\n"
        "| --- | ---: | ---: | ---: | ---: | ---: |\n"
    )
    for r in results:
        s = r["sets"]
        cells = [
            f"{s[k]['pa_mpjpe_mm']:.1f}"
            for k in ("in_domain", "cross_bandai_body_train_cams", "cross_train_cams", "cross_bandai_body", "cross")
        ]
        text += f"| {benchmark.label(r['model'])} | " + " | ".join(cells) + " |\n"
    print(text)
    if json_path:
        Path(json_path).write_text(json.dumps(json_safe({"results": results}), indent=1))
    return 0


def body_gap_set(config: dict, groups: tuple[str, ...], head: str = "skull_base") -> dict:
    """The test actors with the bone ``groups`` at the Bandai lengths (FK retarget) and the head
    point ``head`` (asf_amc.HEAD_POINTS), through the cross cameras (same seed), clean 2D."""
    h = config["hdm05"]
    parts = []
    for a in h["test_actors"]:
        if groups:
            target = hdm05.rest_layout_bones(hdm05.skeleton_of(a))
            target.update({g: BANDAI_GROUPS_M[g] for g in groups})
            parts.append(
                hdm05.load_hdm05([a], h["subsample"], retarget=hdm05.Retarget(target, "part-" + "-".join(groups)))
            )
        else:
            parts.append(hdm05.load_hdm05([a], h["subsample"]))
    data = hdm05.Hdm05Data.concat(parts)
    joints = data.joints.copy()
    if head != "skull_base":
        joints[:, skeleton.HEAD] = data.head_points[:, list(asf_amc.HEAD_POINTS).index(head)]
    r = crossdata.sample_views(joints, config["cameras"], np.random.default_rng(config["seeds"]["cameras"]))
    return evaluation.validate_eval_set(
        {
            "keypoints": r["keypoints"],
            "intrinsics": r["intrinsics"],
            "joints3d": r["joints_cam"],
            "elevation": r["elevation"],
            "content": data.motion,
            "clip": data.clip,
        },
        "body-gap set",
    )


def body_gap(models: list[str], json_path: str | None) -> int:
    """PA-MPJPE and the level-view elevation bias per body variant (see the module docstring)."""
    config = crossdata.load_config()
    variants = {"own body": ((), "skull_base"), "all groups Bandai": (GROUPS, "skull_base")}
    variants.update({f"{g} Bandai": ((g,), "skull_base") for g in GROUPS})
    variants["shoulder+torso+neck Bandai"] = (("shoulder", "torso", "neck"), "skull_base")
    variants["own body, head = mid-head"] = ((), "mid_head")
    variants["own body, head = head-bone end"] = ((), "head_end")
    out = {}
    for name, (groups, head) in variants.items():
        data = body_gap_set(config, groups, head)
        row = {}
        for m in models:
            pred = evaluation.predict(m, data)
            res, _ = evaluation.score(pred, data)
            lvl = np.degrees(data["elevation"]) < 10
            bias = (
                float(np.degrees(pred.elevation - data["elevation"])[lvl].mean())
                if pred.elevation is not None
                else None
            )
            row[m] = {"pa_mpjpe_mm": res["pa_mpjpe_mm"], "n_mpjpe_mm": res["n_mpjpe_mm"], "elev_bias_level_deg": bias}
        out[name] = row
        print(
            f"| {name} | "
            + " | ".join(
                f"{v['pa_mpjpe_mm']:.1f}"
                + ("" if v["elev_bias_level_deg"] is None else f" ({v['elev_bias_level_deg']:+.1f} deg)")
                for v in row.values()
            )
            + " |",
            flush=True,
        )
    if json_path:
        Path(json_path).write_text(json.dumps(out, indent=1))
    return 0


def tilt(model: str, png: str, count: int = 6) -> int:
    """Held-out poses seen by level cameras, lifted through the runtime and turned upright with the
    PREDICTED elevation (as the node publishes them), against the truth turned upright with the true
    elevation; side views (depth to the right, up), both scaled to the same bone sum."""
    from hpe3d_ros.lifting import Lifter

    d = crossdata.build_set()
    motions = ["grabHighR", "jogLeftCircle4StepsRstart", "throwBasketball", "sneak2StepsLStart"]
    sel = np.nonzero((d["view"] == "level") & np.isin(d["content"], motions))[0]
    idx = sel[np.linspace(0, len(sel) - 1, count).round().astype(int)]
    lifter = Lifter(model)
    try:
        res = lifter.lift(d["keypoints"][idx], d["intrinsics"][idx], height_m=metric.DEFAULT_BODY_HEIGHT_M)
    finally:
        lifter.close()
    plt = pyplot()
    fig, axes = plt.subplots(1, len(idx), figsize=(2.6 * len(idx), 3.6), squeeze=False)
    for k, i in enumerate(idx):
        gt = camera.upright_from_optical(d["joints3d"][i][None].astype(float), float(d["elevation"][i]))[0]
        gt = gt - gt[skeleton.ROOT]
        pr = res.joints_upright[k] - res.joints_upright[k][skeleton.ROOT]
        pr = pr * (skeleton.bone_lengths(gt).sum() / skeleton.bone_lengths(pr).sum())
        ax = axes[0, k]
        for pts, col, lab in ((gt, "#2a7ab0", "truth"), (pr, "#d9480f", "prediction")):
            for n, (a, b) in enumerate(skeleton.BONES):
                ax.plot(pts[[a, b], 2], -pts[[a, b], 1], color=col, lw=1.8, label=lab if n == 0 else None)
        ax.set_aspect("equal")
        ax.grid(alpha=0.3)
        ax.set_title(
            f"{d['actor'][i]} {d['content'][i][:9]}\ne true {np.degrees(d['elevation'][i]):.0f} / pred "
            f"{np.degrees(res.elevation[k]):.0f} deg",
            fontsize=8,
        )
        ax.set_xlabel("depth (m)", fontsize=7)
        if k == 0:
            ax.legend(fontsize=7)
    fig.suptitle(Path(model).name, fontsize=9)
    fig.tight_layout()
    fig.savefig(png, dpi=100)
    plt.close(fig)
    return 0


def images(png: str, count: int = 8) -> int:
    """Cross-dataset 2D poses in their images (clean, with the detector error model faint on top)."""
    clean = crossdata.build_set()
    noisy = crossdata.build_set(noisy=True)
    rng = np.random.default_rng(0)
    idx = []
    for v in ("level", "robot", "cctv"):
        m = np.nonzero(clean["view"] == v)[0]
        idx += list(rng.choice(m, size=count // 3 + (1 if v == "level" else 0), replace=False))
    idx = np.array(idx[:count])
    titles = [
        f"{clean['actor'][i]} {clean['content'][i][:12]} {clean['view'][i]} e={np.degrees(clean['elevation'][i]):.0f} "
        f"roll={np.degrees(clean['roll'][i]):+.0f} f={clean['intrinsics'][i, 0, 0]:.0f}"
        for i in idx
    ]
    plot_image_poses(clean["keypoints"][idx], clean["image_size"][idx], titles, png, noisy=noisy["keypoints"][idx])
    return 0


def fixture(out: str | None) -> int:
    """``FIXTURE_SIZE`` poses of the cross set (clean; seeded) -> the bundled cross fixture."""
    d = crossdata.build_set()
    idx = np.sort(np.random.default_rng(FIXTURE_SEED).choice(len(d["keypoints"]), FIXTURE_SIZE, replace=False))
    keys = (
        "keypoints",
        "intrinsics",
        "scores",
        "joints3d",
        "elevation",
        "content",
        "clip",
        "actor",
        "view",
        "person_px",
    )
    path = Path(out) if out else benchmark.cross_fixture_path()
    np.savez_compressed(path, **{k: np.asarray(d[k])[idx] for k in keys})
    print(f"{path}: {len(idx)} poses")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("table", "body-gap"):
        p = sub.add_parser(name)
        p.add_argument("--model", action="append", required=True)
        p.add_argument("--json", default=None)
        if name == "table":
            p.add_argument(
                "--sets",
                default=None,
                help="comma-separated set names (default: both benchmarks and the decomposition)",
            )
    p = sub.add_parser("tilt")
    p.add_argument("--model", required=True)
    p.add_argument("--png", required=True)
    p = sub.add_parser("images")
    p.add_argument("--png", required=True)
    p = sub.add_parser("fixture")
    p.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    if args.cmd == "table":
        return table(args.model, args.json, args.sets.split(",") if args.sets else None)
    if args.cmd == "body-gap":
        return body_gap(args.model, args.json)
    if args.cmd == "tilt":
        return tilt(args.model, args.png)
    if args.cmd == "images":
        return images(args.png)
    return fixture(args.out)


if __name__ == "__main__":
    sys.exit(main())
