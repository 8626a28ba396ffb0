"""The 2D detector error model: realistic 2D error on clean projections, fitted on real detections.

``load_error_model(path)`` reads config/detector_error_model.json (the default; docs/data.md "The 2D
error model" documents the schema): the errors of the runtime's 2D front end (BlazePose behind a
person detector) against COCO keypoint labels, per layout joint and per person-height bin, as
fractions of the person's box height. One ``ErrorModel`` per bin (``SIZE_BINS_PX``):

- position error of each detected joint: a two-component Gaussian mixture in image x/y, the *core*
  (the file's ``core.mean`` / ``core.cov``, errors within 3 robust sigmas) with probability
  ``1 - heavy_tail_fraction`` and a *tail* component whose mean and covariance are chosen so that
  the mixture has the file's overall ``mean`` and ``cov`` (moment matching; clipped to be at least
  the core's spread). A bin with fewer than ``MIN_SAMPLES`` labelled joints falls back to the
  joint's ``all`` statistics.
- left/right swaps: per person and per pair (hips, knees, ankles, shoulders, elbows, wrists) with
  the file's ``swap_rate``; a swapped pair exchanges its two detections.
- the derived joints (pelvis, thorax, spine) are recomputed from the noisy hips and shoulders by
  the layout's rules, as the runtime derives them from BlazePose landmarks.
- not modelled: ``miss_rate`` (joints the front end scores below 0.3; the lifter sees every joint
  anyway, and whole missed people are not lifted at all). Scores: ``exp(-(e / 0.1 H)^2 / 2)`` of
  the drawn radial error ``e``, so a far-off joint has a low score.

Units: the file's errors are fractions of the COCO box height; the box is taller than the extent of
the layout's 16 joints (head point to ankles), by ``BOX_OVER_KEYPOINT_EXTENT``, which converts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hpe3d_ros import paths, skeleton

J = skeleton.NUM_JOINTS
SIZE_BINS_PX = {"<50": (0.0, 50.0), "50-100": (50.0, 100.0), "100-200": (100.0, 200.0), ">200": (200.0, np.inf)}
# COCO person box height over the extent of the layout's joints: the box runs from the top of the
# head to the soles; the joints from the head point (skull base at 0.90 of stature, ears at 0.93) to
# the ankles (0.04): 0.86-0.89 of stature (Winter's segment heights).
BOX_OVER_KEYPOINT_EXTENT = 1.15
MIN_SAMPLES = 20
DERIVED = ("pelvis", "thorax", "spine")
SWAP_PAIRS = ("hip", "knee", "ankle", "shoulder", "elbow", "wrist")
_N = skeleton.JOINT_NAMES.index


def default_path() -> Path:
    """config/detector_error_model.json of the checkout or the installed share directory."""
    return paths.share_dir() / "config" / "detector_error_model.json"


def person_box_px(keypoints: np.ndarray) -> np.ndarray:
    """The person's box height in pixels (N,) estimated from its keypoints (N, 16, 2): the larger
    side of their extent times ``BOX_OVER_KEYPOINT_EXTENT``."""
    kp = np.asarray(keypoints, dtype=np.float64)
    return np.maximum((kp.max(1) - kp.min(1)).max(-1), 1.0) * BOX_OVER_KEYPOINT_EXTENT


@dataclass
class ErrorModel:
    """The error of one person-size bin: per joint (16) core and tail Gaussians (fractions of the box
    height, image x/y), the tail probability, and per-pair swap probabilities."""

    core_mean: np.ndarray  # (16, 2)
    core_cov: np.ndarray  # (16, 2, 2)
    tail_mean: np.ndarray  # (16, 2)
    tail_cov: np.ndarray  # (16, 2, 2)
    tail_prob: np.ndarray  # (16,)
    swap: dict  # pair name -> probability

    def apply(self, keypoints: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Noisy keypoints (N,16,2) float32, scores (N,16) float32 and the swapped pairs (N, 6) bool."""
        kp = np.asarray(keypoints, dtype=np.float64)
        n = len(kp)
        box = person_box_px(kp)
        tail = rng.random((n, J)) < self.tail_prob[None]
        z = rng.standard_normal((n, J, 2))
        core = self.core_mean[None] + np.einsum("jab,njb->nja", np.linalg.cholesky(self.core_cov), z)
        far = self.tail_mean[None] + np.einsum("jab,njb->nja", np.linalg.cholesky(self.tail_cov), z)
        err = np.where(tail[..., None], far, core)
        out = kp + err * box[:, None, None]
        scores = np.exp(-0.5 * (np.linalg.norm(err, axis=-1) / 0.1) ** 2)
        swapped = np.zeros((n, len(SWAP_PAIRS)), dtype=bool)
        for k, pair in enumerate(SWAP_PAIRS):
            s = rng.random(n) < self.swap.get(pair, 0.0)
            a, b = _N(f"left_{pair}"), _N(f"right_{pair}")
            out[s, a], out[s, b] = out[s, b].copy(), out[s, a].copy()
            scores[s, a], scores[s, b] = scores[s, b].copy(), scores[s, a].copy()
            swapped[:, k] = s
        out, scores = derive_midline(out, scores)
        return out.astype(np.float32), scores.astype(np.float32), swapped


def derive_midline(kp: np.ndarray, scores: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Pelvis, thorax and spine recomputed from the hips and shoulders by the layout's rules (in place
    on copies); a derived joint's score is the minimum of its sources' (``skeleton.scores_from_mediapipe``)."""
    kp = np.array(kp, dtype=np.float64)
    scores = None if scores is None else np.array(scores, dtype=np.float64)
    for name, (a, b) in (
        ("pelvis", ("left_hip", "right_hip")),
        ("thorax", ("left_shoulder", "right_shoulder")),
        ("spine", ("pelvis", "thorax")),
    ):
        i, ia, ib = _N(name), _N(a), _N(b)
        kp[..., i, :] = 0.5 * (kp[..., ia, :] + kp[..., ib, :])
        if scores is not None:
            scores[..., i] = np.minimum(scores[..., ia], scores[..., ib])
    return kp, scores


def _psd(c: np.ndarray, floor: np.ndarray) -> np.ndarray:
    """A symmetric 2x2 covariance at least ``floor`` in every direction (eigenvalues clipped)."""
    c = 0.5 * (c + c.T)
    w, v = np.linalg.eigh(c)
    lo = float(np.linalg.eigvalsh(floor).max())
    return (v * np.maximum(w, lo)) @ v.T


def _joint_stats(entry: dict, where: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    try:
        mean, cov = np.asarray(entry["mean"], float), np.asarray(entry["cov"], float)
        cm, cc = np.asarray(entry["core"]["mean"], float), np.asarray(entry["core"]["cov"], float)
        q = float(entry["heavy_tail_fraction"])
    except (KeyError, TypeError) as e:
        raise ValueError(f"{where}: lacks {e}") from e
    if mean.shape != (2,) or cov.shape != (2, 2) or cm.shape != (2,) or cc.shape != (2, 2) or not 0 <= q < 1:
        raise ValueError(f"{where}: mean/cov must be (2,)/(2,2) and heavy_tail_fraction in [0, 1)")
    cc = _psd(cc, np.eye(2) * 1e-8)
    if q <= 0:
        return cm, cc, cm, cc, 0.0
    # mixture moments: mean = (1-q) cm + q tm; cov = (1-q)(cc + cm cm^T) + q (tc + tm tm^T) - mean mean^T
    tm = (mean - (1 - q) * cm) / q
    second = cov + np.outer(mean, mean) - (1 - q) * (cc + np.outer(cm, cm))
    tc = _psd(second / q - np.outer(tm, tm), cc)
    return cm, cc, tm, tc, q


def load_error_model(path: str | Path | None = None) -> "BinnedErrorModel":
    """The fitted error model (default config/detector_error_model.json), one ``ErrorModel`` per size bin."""
    path = Path(path) if path else default_path()
    try:
        d = json.loads(path.read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: detector error model not found") from None
    except ValueError as e:
        raise ValueError(f"{path}: not valid JSON ({e})") from e
    if list(d.get("joint_order", [])) != list(skeleton.JOINT_NAMES):
        raise ValueError(f"{path}: joint_order is not the layout's {list(skeleton.JOINT_NAMES)}")
    models = {}
    for b in SIZE_BINS_PX:
        stats = []
        for name in skeleton.JOINT_NAMES:
            per = d.get("joints", {}).get(name, {})
            entry = per.get(b) if per.get(b, {}).get("n", 0) >= MIN_SAMPLES else per.get("all")
            if entry is None:
                raise ValueError(f"{path}: joints.{name} has neither bin {b!r} with n >= {MIN_SAMPLES} nor 'all'")
            stats.append(_joint_stats(entry, f"{path}: joints.{name}"))
        swap = {}
        for pair in SWAP_PAIRS:
            per = d.get("swap_rate", {}).get(pair, {})
            entry = per.get(b) if per.get(b, {}).get("n", 0) >= MIN_SAMPLES else per.get("all")
            if entry is None or "swap_rate" not in entry:
                raise ValueError(f"{path}: swap_rate.{pair} lacks bin {b!r} and 'all'")
            swap[pair] = float(entry["swap_rate"])
        models[b] = ErrorModel(
            *(np.stack([s[k] for s in stats]) for k in range(4)), np.array([s[4] for s in stats]), swap
        )
    return BinnedErrorModel(models, str(path), str(d.get("front_end", "")), str(d.get("data", "")))


@dataclass
class BinnedErrorModel:
    """One ``ErrorModel`` per person-size bin (``SIZE_BINS_PX`` of the box height); ``apply`` uses
    each person's bin. Deterministic for a given generator."""

    models: dict
    source: str = ""
    front_end: str = ""
    data: str = ""

    def apply(self, keypoints: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Noisy keypoints (N,16,2), scores (N,16) and swapped pairs (N,6) (``ErrorModel.apply``)."""
        kp = np.asarray(keypoints, dtype=np.float64)
        box = person_box_px(kp)
        out = np.zeros(kp.shape, np.float32)
        scores = np.zeros(kp.shape[:2], np.float32)
        swapped = np.zeros((len(kp), len(SWAP_PAIRS)), bool)
        for b, (lo, hi) in SIZE_BINS_PX.items():
            m = (box >= lo) & (box < hi)
            if m.any():
                out[m], scores[m], swapped[m] = self.models[b].apply(kp[m], rng)
        return out, scores, swapped

    def describe(self) -> dict:
        """Provenance and the per-bin spread (median core sd and tail probability over joints) for reports."""
        return {
            "source": self.source,
            "front_end": self.front_end,
            "data": self.data,
            "bins": {
                b: {
                    "core_sd_median": float(np.median(np.sqrt(np.diagonal(m.core_cov, axis1=1, axis2=2)))),
                    "tail_prob_median": float(np.median(m.tail_prob)),
                    "swap": m.swap,
                }
                for b, m in self.models.items()
            },
        }
