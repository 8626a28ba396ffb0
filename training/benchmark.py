"""Both benchmarks side by side: in-domain (the Bandai test split) and cross-dataset (held-out HDM05
actors through independent cameras), each with clean 2D and with the fitted detector error model.

Every model runs through ``training.evaluation.predict`` (``hpe3d_ros.lifting.Lifter``, the runtime
path: people off the optical axis are lifted in a virtual camera at their root) and is scored by
``training.evaluation.score`` (hpe3d_ros.pose_metrics). ``hpe3d eval --cross`` prints the table
of ``evaluate_model``; docs/results.md explains the columns.

Sets (``SETS``): 'in_domain' (``--split``: test, val or fixture), 'cross' (crossdata.build_set, or the
bundled cross fixture without ../shared), their '_noisy' versions (training.data.error_model, seeded),
and 'cross_val' (the HDM05 *training* actors through other cameras: a validation set for choosing
recipes; never the test actors).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from hpe3d_ros import metric

from . import evaluation

# Camera-elevation bands of the view regimes (degrees, [low, high)) and person-size bins (pixels).
VIEW_BANDS = {"level": (-90.0, 10.0), "robot": (10.0, 30.0), "cctv": (30.0, 90.0)}
SIZE_BINS_PX = {"<50": (0.0, 50.0), "50-100": (50.0, 100.0), "100-200": (100.0, 200.0), ">200": (200.0, np.inf)}
# HDM05 motion classes performed at floor level (no Bandai training motion is): reported apart too.
FLOOR_LEVEL_MOTIONS = ("lieDownFloor", "squat1Reps", "depositFloorR")
SETS = {
    "in_domain": "the Bandai split (--split), training cameras, clean 2D",
    "in_domain_noisy": "the same with the detector error model",
    "cross": "HDM05 held-out actors, own bodies, independent cameras, clean 2D",
    "cross_noisy": "the same with the detector error model",
    "cross_val": "HDM05 training actors through other cameras (validation), clean 2D",
    "cross_val_noisy": "the same with the detector error model",
}
DEFAULT_SETS = ("in_domain", "in_domain_noisy", "cross", "cross_noisy")
EXTRA_KEYS = ("person_px", "view", "actor", "swap")


def cross_fixture_path() -> Path:
    """The bundled cross-dataset fixture hpe3d_ros/data/cross_fixture.npz (CC BY-SA 3.0, see its NOTICE)."""
    from hpe3d_ros import paths

    return paths.package_data_dir() / "cross_fixture.npz"


def load_set(name: str, split: str = "test", config: dict | None = None) -> dict:
    """One of ``SETS`` as a validated evaluation set (with ``person_px`` and, where known, ``view``,
    ``actor``, ``swap``). ``split``: the in-domain split; with 'fixture' the cross sets are the
    bundled cross fixture (no ../shared needed)."""
    from .data import crossdata

    if name not in SETS:
        raise ValueError(f"unknown set {name!r}; expected one of {sorted(SETS)}")
    noisy = name.endswith("_noisy")
    if name.startswith("in_domain"):
        d = dict(evaluation.load_split(split))
    elif name.startswith("cross_val"):
        d = crossdata.build_set(config, actors="train")
    elif split == "fixture":
        d = load_cross_fixture()
    else:
        d = crossdata.build_set(config)
    d.setdefault("person_px", (d["keypoints"].max(1) - d["keypoints"].min(1)).max(-1))
    if noisy:
        d = crossdata.add_noise(d, config)
    keep = {k: v for k, v in d.items() if k in evaluation.EVAL_KEYS or k in EXTRA_KEYS}
    return evaluation.validate_eval_set(keep, name)


def load_cross_fixture() -> dict:
    """The bundled cross fixture as an evaluation set dict."""
    p = cross_fixture_path()
    if not p.is_file():
        raise FileNotFoundError(
            f"{p}: bundled cross-dataset fixture missing; rebuild it with "
            "`python -m training.studies.cross_dataset fixture`"
        )
    with np.load(p, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def elevation_stats(pred_rad: np.ndarray, gt_rad: np.ndarray) -> dict:
    """Bias (mean of pred - gt) and mean absolute error in degrees, and the count."""
    e = np.degrees(np.asarray(pred_rad, dtype=np.float64) - np.asarray(gt_rad, dtype=np.float64))
    if e.size == 0:
        return {"bias_deg": None, "mae_deg": None, "n": 0}
    return {"bias_deg": float(e.mean()), "mae_deg": float(np.abs(e).mean()), "n": int(e.size)}


def view_regime(data: dict) -> np.ndarray:
    """Per pose (N,) the view regime name by the ground-truth elevation (``VIEW_BANDS``)."""
    deg = np.degrees(np.asarray(data["elevation"], dtype=np.float64))
    out = np.full(deg.shape, "", dtype=object)
    for name, (lo, hi) in VIEW_BANDS.items():
        out[(deg >= lo) & (deg < hi)] = name
    return out.astype(str)


def evaluate_set(
    model: str | Path, data: dict, height_m: float = metric.DEFAULT_BODY_HEIGHT_M, backend: str = "auto"
) -> dict:
    """Metrics of ``model`` on one set: ``evaluation.score``'s metric keys, PA-MPJPE per motion class
    (their mean), on upright motions only, per view regime (with elevation bias / mean absolute error,
    also on upright motions), per person-size bin and per actor."""
    pred = evaluation.predict(model, data, backend=backend, height_m=height_m)
    result, per_pose = evaluation.score(pred, data)
    pa = per_pose["pa_mpjpe_mm"]
    upright = ~np.isin(np.asarray(data["content"]).astype(str), FLOOR_LEVEL_MOTIONS)
    out = {
        k: result[k] for k in ("mpjpe_mm", "n_mpjpe_mm", "pa_mpjpe_mm", "pck3d", "auc", "cps", "bone_err_mm", "n_poses")
    }
    out["per_content_pa_mm"] = {c: v["pa_mpjpe_mm"] for c, v in result["per_content"].items()}
    out["pa_mpjpe_class_mean_mm"] = float(np.mean(list(out["per_content_pa_mm"].values())))
    out["pa_mpjpe_upright_mm"] = float(pa[upright].mean()) if upright.any() else None
    regime = view_regime(data)
    views = {}
    for name in VIEW_BANDS:
        m = regime == name
        v = {"n": int(m.sum()), "pa_mpjpe_mm": float(pa[m].mean()) if m.any() else None}
        if pred.elevation is not None:
            v["elevation"] = elevation_stats(pred.elevation[m], data["elevation"][m])
            v["elevation_upright_motions"] = elevation_stats(
                pred.elevation[m & upright], data["elevation"][m & upright]
            )
        views[name] = v
    out["per_view"] = views
    out["elevation"] = elevation_stats(pred.elevation, data["elevation"]) if pred.elevation is not None else None
    px = np.asarray(data["person_px"], dtype=np.float64)
    out["per_size_pa_mm"] = {}
    for name, (lo, hi) in SIZE_BINS_PX.items():
        m = (px >= lo) & (px < hi)
        out["per_size_pa_mm"][name] = {"pa_mpjpe_mm": float(pa[m].mean()) if m.any() else None, "n": int(m.sum())}
    if "actor" in data:
        out["per_actor_pa_mm"] = {str(a): float(pa[data["actor"] == a].mean()) for a in np.unique(data["actor"])}
    return out


def evaluate_model(
    model: str | Path,
    sets: tuple[str, ...] = DEFAULT_SETS,
    split: str = "test",
    config: dict | None = None,
    cache: dict | None = None,
    height_m: float = metric.DEFAULT_BODY_HEIGHT_M,
    backend: str = "auto",
) -> dict:
    """Every set of ``sets`` for one model, with the cross / in-domain PA-MPJPE ratios (clean, noisy).
    ``cache`` (a dict) keeps loaded sets between models."""
    cache = {} if cache is None else cache
    res = {}
    for s in sets:
        if (s, split) not in cache:
            cache[(s, split)] = load_set(s, split, config)
        t = time.perf_counter()
        res[s] = evaluate_set(model, cache[(s, split)], height_m=height_m, backend=backend)
        res[s]["wall_s"] = round(time.perf_counter() - t, 2)
    ratios = {}
    for a, b in (("in_domain", "cross"), ("in_domain_noisy", "cross_noisy")):
        if a in res and b in res:
            ratios[b] = res[b]["pa_mpjpe_mm"] / res[a]["pa_mpjpe_mm"]
    return {"model": str(model), "split": split, "height_m": height_m, "sets": res, "ratio_pa": ratios}


def label(model: str | Path) -> str:
    """A short name for a table row: the file name, or for a checkpoint its run directory and file."""
    p = Path(model)
    return f"{p.parent.name}/{p.name}" if p.suffix == ".pt" else p.name


def _f(v, spec: str = ".1f") -> str:
    return "" if v is None else format(v, spec)


def markdown(results: list[dict]) -> str:
    """The tables of docs/results.md: in-domain and cross side by side (PA-MPJPE, MPJPE at the stated
    prior), the elevation per view regime, PA-MPJPE per person size."""
    lines = [
        "| model | 2D | in-domain PA / MPJPE (mm) | cross-dataset PA / MPJPE (mm) | ratio PA | "
        "cross PA, mean over motion classes | cross PA, upright motions |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        s = r["sets"]
        for kind, a, b in (("clean", "in_domain", "cross"), ("detector error", "in_domain_noisy", "cross_noisy")):
            if a in s and b in s:
                fa, fb = s[a], s[b]
                lines.append(
                    f"| {label(r['model'])} | {kind} | {_f(fa['pa_mpjpe_mm'])} / {_f(fa['mpjpe_mm'])} | "
                    f"{_f(fb['pa_mpjpe_mm'])} / {_f(fb['mpjpe_mm'])} | "
                    f"{_f(fb['pa_mpjpe_mm'] / fa['pa_mpjpe_mm'], '.2f')}x | "
                    f"{_f(fb['pa_mpjpe_class_mean_mm'])} | {_f(fb['pa_mpjpe_upright_mm'])} |"
                )
    lines += [
        "",
        "Camera elevation error per view regime (bias = mean(pred - truth) / mean absolute, degrees):",
        "",
        "| model | set | level (<10 deg) | robot (10-30) | cctv (>=30) | all |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        for name, s in r["sets"].items():
            if s.get("elevation") is None:
                continue
            pv = s["per_view"]
            rows = [(name, "elevation")]
            if name.startswith("cross"):
                rows.append((f"{name}, upright motions", "elevation_upright_motions"))
            for set_name, key in rows:
                cells = [f"{_f(pv[b][key]['bias_deg'], '+.1f')} / {_f(pv[b][key]['mae_deg'])}" for b in VIEW_BANDS]
                tail = (
                    f"{_f(s['elevation']['bias_deg'], '+.1f')} / {_f(s['elevation']['mae_deg'])}"
                    if key == "elevation"
                    else ""
                )
                lines.append(f"| {label(r['model'])} | {set_name} | " + " | ".join(cells) + f" | {tail} |")
    lines += [
        "",
        "PA-MPJPE (mm) per person height in the image (<50 / 50-100 / 100-200 / >200 px; n below):",
        "",
        "| model | set | <50 | 50-100 | 100-200 | >200 |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        for name, s in r["sets"].items():
            cells = [f"{_f(v['pa_mpjpe_mm'])} (n {v['n']})" for v in s["per_size_pa_mm"].values()]
            lines.append(f"| {label(r['model'])} | {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
