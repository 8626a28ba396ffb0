"""Many bodies: anthropometric skeletons for the Bandai motions, applied by forward kinematics.

The Bandai clips were retargeted to one body (narrow shoulders, short torso, long legs: docs/data.md
"Bodies"). ``sample_bodies`` draws adult bodies (sex, stature 1.45-2.00 m, limb and
trunk proportions, shoulder and hip widths, build) and ``fk_with_body`` runs the BVH forward
kinematics of a clip with that body's bone lengths: every joint keeps its rotations, only the
translations (the bone vectors) change, so the result is a valid skeleton of the new body, not a
scaled copy of the old one. The root translation is scaled by the leg-length ratio (the stride
and the pelvis height follow the legs) and each clip is shifted vertically so that its feet meet
the floor as in the source clip.

Proportions (fractions of stature H; ``BODY_MODEL``): the layout's joint-centre segments. Sources:
- stature by sex: ANSUR II (Gordon et al. 2014, US Army anthropometric survey; men 1756 +- 69 mm,
  women 1629 +- 64 mm), truncated to the issue's 1.45-2.00 m;
- segment lengths: Winter, *Biomechanics and Motor Control of Human Movement* (4th ed. 2009, Fig.
  4.1, after Drillis & Contini 1966): thigh 0.245 H, shank 0.246 H, upper arm 0.186 H (acromion to
  elbow; the joint-centre upper arm is shorter: 0.144-0.163 H measured on the five HDM05 actors),
  forearm 0.146 H, shoulder height 0.818 H, hip (greater trochanter) height 0.530 H, biacromial
  breadth 0.259 H (ANSUR II: 0.226 H men, 0.223 H women);
- hip joint centres: inter-HJC distance about 0.36 x 2 x half the inter-ASIS breadth (Bell,
  Pedersen & Brand 1990), 0.16-0.19 m in adults, ~0.10 H; wider relative to stature in women;
- cross-checked against the five HDM05 bodies (docs/data.md), whose fractions the means sit among.
Spreads (coefficient of variation 4-10 %) follow the ANSUR II spreads of the corresponding
lengths relative to stature.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hpe3d_ros import skeleton

from . import bvh as bvh_mod
from .body import BANDAI_GROUPS_M, GROUPS, layout_groups

# group -> (mean fraction of stature for men, for women, coefficient of variation)
BODY_MODEL = {
    "thigh": (0.238, 0.238, 0.04),  # hip joint to knee
    "shin": (0.246, 0.246, 0.04),  # knee to ankle
    "torso": (0.295, 0.290, 0.04),  # pelvis (mid hip joints) to thorax (mid shoulder joints)
    "neck": (0.082, 0.082, 0.08),  # thorax to skull base (the layout's head for mocap)
    "upper_arm": (0.158, 0.156, 0.05),  # shoulder joint to elbow
    "forearm": (0.150, 0.148, 0.05),  # elbow to wrist
    "shoulder": (0.117, 0.110, 0.07),  # half the shoulder-joint distance
    "hip": (0.048, 0.054, 0.10),  # half the hip-joint distance
}
STATURE = {"male": (1.756, 0.069), "female": (1.629, 0.064)}
STATURE_RANGE_M = (1.45, 2.00)
BUILD_SD = 0.05  # a common factor on both widths (slender .. broad)
ANKLE_HEIGHT_FRACTION = 0.039  # Winter: lateral malleolus height


@dataclass
class Body:
    """One body: sex, stature (m), build factor and the layout's bone-group lengths (m)."""

    sex: str
    stature_m: float
    build: float
    groups: dict

    def scales(self, reference: dict | None = None) -> dict:
        """Per-group length scales relative to ``reference`` (default the Bandai body)."""
        ref = reference or BANDAI_GROUPS_M
        return {g: self.groups[g] / ref[g] for g in GROUPS}


def sample_bodies(n: int, rng: np.random.Generator, female_fraction: float = 0.5) -> list[Body]:
    """``n`` adult bodies from ``BODY_MODEL`` (independent per-group variation around the sex's
    proportions, a common build factor on the widths; stature truncated to ``STATURE_RANGE_M``)."""
    out = []
    for _ in range(n):
        sex = "female" if rng.random() < female_fraction else "male"
        mu, sd = STATURE[sex]
        while True:
            h = rng.normal(mu, sd)
            if STATURE_RANGE_M[0] <= h <= STATURE_RANGE_M[1]:
                break
        build = float(np.clip(rng.normal(1.0, BUILD_SD), 0.85, 1.15))
        groups = {}
        for g, (m, f, cv) in BODY_MODEL.items():
            frac = (m if sex == "male" else f) * float(np.clip(rng.normal(1.0, cv), 1 - 2.5 * cv, 1 + 2.5 * cv))
            if g in ("shoulder", "hip"):
                frac *= build
            groups[g] = frac * h
        out.append(Body(sex, float(h), build, groups))
    return out


def stratified_statures(n: int, rng: np.random.Generator) -> list[Body]:
    """``n`` bodies with statures spread evenly over 1.45-2.00 m (for pictures and tests)."""
    bodies = sample_bodies(n, rng)
    for b, h in zip(bodies, np.linspace(*STATURE_RANGE_M, n)):
        f = h / b.stature_m
        b.groups = {g: v * f for g, v in b.groups.items()}
        b.stature_m = float(h)
    return bodies


# How each Bandai BVH joint's translation (its bone vector, in its parent's frame) scales: a
# group for the whole vector, or per component (x is the parent's up axis along the spine).
_BANDAI_JOINT_GROUP = {
    "UpperLeg_L": "hip",
    "UpperLeg_R": "hip",
    "LowerLeg_L": "thigh",
    "LowerLeg_R": "thigh",
    "Foot_L": "shin",
    "Foot_R": "shin",
    "Toes_L": "shin",
    "Toes_R": "shin",
    "Spine": "torso",
    "Chest": "torso",
    "UpperArm_L": "shoulder",
    "UpperArm_R": "shoulder",
    "LowerArm_L": "upper_arm",
    "LowerArm_R": "upper_arm",
    "Hand_L": "forearm",
    "Hand_R": "forearm",
}


def _joint_scales(bvh: bvh_mod.BvhMotion, s: dict) -> dict[str, np.ndarray]:
    """Per-joint component scales (3,) for the Bandai hierarchy."""
    names = bvh.names
    off = {j.name: j.offset for j in bvh.joints}
    out = {n: np.ones(3) for n in names}
    for n, g in _BANDAI_JOINT_GROUP.items():
        if n in out:
            out[n] = np.full(3, s[g])
    for n in ("Shoulder_L", "Shoulder_R"):  # up the chest with the torso, sideways with the shoulders
        out[n] = np.array([s["torso"], s["shoulder"], s["shoulder"]])
    # neck and head: keep the thorax-to-head distance at its group scale on top of the new thorax
    sh_up = off["Shoulder_L"][0]
    total = off["Neck"][0] + off["Head"][0]
    f = (sh_up * s["torso"] + s["neck"] * (total - sh_up)) / total
    out["Neck"] = np.full(3, f)
    out["Head"] = np.full(3, f)
    return out


def _leg_ratio(bvh: bvh_mod.BvhMotion, s: dict) -> float:
    off = {j.name: j.offset for j in bvh.joints}
    old = abs(off["LowerLeg_L"][0]) + abs(off["Foot_L"][0])
    new = abs(off["LowerLeg_L"][0]) * s["thigh"] + abs(off["Foot_L"][0]) * s["shin"]
    ank = 100 * ANKLE_HEIGHT_FRACTION * skeleton.REFERENCE_HEIGHT_M  # cm, the ankle above the sole
    return (new + ank * s["shin"]) / (old + ank)


def fk_with_body(bvh: bvh_mod.BvhMotion, body: Body, floor: bool = True, calibrate: bool = True) -> np.ndarray:
    """World positions (F, K, 3) metres of every BVH joint, the clip played by ``body``.

    Each joint's translation channels (and OFFSET) are scaled per ``_joint_scales``; the root
    (Hips) translation by the leg ratio. ``calibrate``: the torso and neck are chains whose layout
    length depends on the posture, so one more pass corrects their scales by the clip's median
    length (then within ~2 mm of the target). ``floor``: shift the clip vertically so that the 2nd
    percentile of its lower ankle's height equals the source clip's times the shin scale.
    """
    s = body.scales()
    if calibrate:
        first = skeleton.from_mocap(_fk_scaled(bvh, s), bvh.names)
        meas = layout_groups(first)
        s = dict(s)
        for g in ("torso", "neck"):
            s[g] *= body.groups[g] / float(np.median(meas[g]))
    pos = _fk_scaled(bvh, s)
    if floor:
        src = bvh_mod.forward_kinematics(bvh)
        ia, ib = bvh.names.index("Foot_L"), bvh.names.index("Foot_R")
        src_floor = np.percentile(np.minimum(src[:, ia, 2], src[:, ib, 2]), 2)
        new_floor = np.percentile(np.minimum(pos[:, ia, 2], pos[:, ib, 2]), 2)
        pos[..., 2] += src_floor * s["shin"] - new_floor
    return pos


def _fk_scaled(bvh: bvh_mod.BvhMotion, s: dict) -> np.ndarray:
    scales = _joint_scales(bvh, s)
    motion = bvh.motion.copy()
    joints = []
    leg = _leg_ratio(bvh, s)
    for j in bvh.joints:
        sc = scales[j.name] if j.parent >= 0 and j.name != "Hips" else np.full(3, leg if j.name == "Hips" else 1.0)
        new = bvh_mod.BvhJoint(j.name, j.parent, j.offset * sc, list(j.channels), j.channel_start, j.end_offset)
        for col, c in enumerate(j.channels):
            if c in ("Xposition", "Yposition", "Zposition"):
                motion[:, j.channel_start + col] *= sc["XYZ".index(c[0])]
        joints.append(new)
    return bvh_mod.forward_kinematics(bvh_mod.BvhMotion(bvh.path, joints, bvh.frame_time, motion))


def layout_with_body(bvh: bvh_mod.BvhMotion, body: Body) -> np.ndarray:
    """The clip played by ``body`` in the 16-joint layout (F, 16, 3) world metres."""
    return skeleton.from_mocap(fk_with_body(bvh, body), bvh.names)


def group_errors(joints: np.ndarray, body: Body) -> dict:
    """Per group: median over frames of (measured layout length - the body's target), metres."""
    meas = layout_groups(np.asarray(joints, dtype=np.float64))
    return {g: float(np.median(meas[g]) - body.groups[g]) for g in GROUPS}


# ---------------------------------------------------------------------------------------------
# Training poses played by many bodies

BODIES_VERSION = 1


def bodies_split_path(split: str, seed: int, cache=None) -> Path:
    """The cache file of ``split`` played by sampled bodies (``many_bodies_split``)."""
    from hpe3d_ros import paths

    base = Path(cache) if cache else paths.cache_dir()
    return base / "many_bodies" / f"bandai-{split}-v{BODIES_VERSION}-seed{seed}-{skeleton.LAYOUT_ID}.npz"


def many_bodies_split(split: str, seed: int, data_root=None, cache=None, progress: bool = False) -> dict:
    """Every frame of the Bandai ``split`` (aligned with ``mocap.load_split(split)``: same clips, same
    order) with each clip played by its own sampled body (``sample_bodies``, seeded per split and
    ``seed``), by FK. Returns {"joints" (N,16,3) float32 world metres, "stature" (N,), "female" (N,)
    bool, "frame" (N,)}; cached under ``<cache>/many_bodies/``."""
    import sys
    import time

    from hpe3d_ros import paths
    from hpe3d_ros.poses_io import save_npz_atomic

    from . import mocap

    path = bodies_split_path(split, seed, cache)
    meta = mocap.load_split(split, data_root=data_root, cache=cache)
    if path.is_file():
        try:
            with np.load(path, allow_pickle=False) as z:
                out = {k: z[k] for k in z.files}
            if len(out["joints"]) == len(meta) and np.array_equal(out["frame"], meta.frame):
                return out
        except (OSError, ValueError, KeyError):
            pass
        path.unlink(missing_ok=True)
    root = paths.bandai_dir() if data_root is None else data_root
    if root is None:
        raise FileNotFoundError("many bodies need the Bandai BVH clips (../shared/data/bandai-namco or data_root)")
    rng = np.random.default_rng([seed, {"train": 0, "val": 1, "test": 2}.get(split, 3)])
    sampled = sample_bodies(len(meta.clips), rng)
    joints, stature, female = [], [], []
    t0 = time.time()
    for k, (c, body) in enumerate(zip(meta.clips, sampled)):
        p = Path(root) / c["dataset"] / "data" / f"{c['name']}.bvh.gz"
        clip = bvh_mod.parse_bvh(p if p.is_file() else p.with_suffix(""))
        j = layout_with_body(clip, body)
        if len(j) != c["frames"]:
            raise ValueError(f"{p}: {len(j)} frames, the mocap cache says {c['frames']}")
        joints.append(j.astype(np.float32))
        stature.append(np.full(len(j), body.stature_m, np.float32))
        female.append(np.full(len(j), body.sex == "female"))
        if progress and k % 200 == 0:
            print(f"many bodies: {k}/{len(meta.clips)} clips, {time.time() - t0:.0f} s", file=sys.stderr, flush=True)
    out = {
        "joints": np.concatenate(joints),
        "stature": np.concatenate(stature),
        "female": np.concatenate(female),
        "frame": meta.frame.astype(np.int32),
    }
    save_npz_atomic(path, **out)
    return out


def relative_bone_band(
    n: int = 4000,
    seed: int = 0,
    bandai_share: float = 0.5,
    defs=None,
    quantiles: tuple = (0.01, 0.99),
    margin: float = 0.03,
) -> np.ndarray:
    """The range (2, 15) of relative bone lengths (bone / mean bone, in the order of
    ``skeleton.BONES``) over the training bodies: ``n`` poses' bodies, a share ``bandai_share`` the
    Bandai body and the rest sampled (``sample_bodies``), each with a joint definition drawn from
    ``defs`` (training.data.joint_defs.JointDefinitions; default its ranges). The ElePose bone prior
    of a many-bodies run (``bone_prior: bodies``) penalises only ratios outside this band (the
    ``quantiles``, widened by the relative ``margin`` so that the sources' own definitions, e.g. the
    Bandai skull base, lie inside). Lengths
    follow from the bone groups alone: the two spine bones are half the torso each; the head shift
    lengthens the neck by that many torso lengths."""
    from .joint_defs import JointDefinitions

    defs = defs or JointDefinitions()
    rng = np.random.default_rng(seed)
    sampled = sample_bodies(n, rng)
    bandai = rng.random(n) < bandai_share
    g = {k: np.array([BANDAI_GROUPS_M[k] if bandai[i] else b.groups[k] for i, b in enumerate(sampled)]) for k in GROUPS}
    f = defs.sample(n, rng)
    group_len = {
        "hip": g["hip"] * f["hip_scale"],
        "thigh": g["thigh"],
        "shin": g["shin"],
        "spine": 0.5 * g["torso"],
        "neck": g["neck"] + f["head_shift"] * g["torso"],
        "shoulder": g["shoulder"] * f["shoulder_scale"],
        "upper_arm": g["upper_arm"],
        "forearm": g["forearm"],
    }
    names = skeleton.JOINT_NAMES
    child_group = {
        "right_hip": "hip",
        "left_hip": "hip",
        "right_knee": "thigh",
        "left_knee": "thigh",
        "right_ankle": "shin",
        "left_ankle": "shin",
        "spine": "spine",
        "thorax": "spine",
        "head": "neck",
        "left_shoulder": "shoulder",
        "right_shoulder": "shoulder",
        "left_elbow": "upper_arm",
        "right_elbow": "upper_arm",
        "left_wrist": "forearm",
        "right_wrist": "forearm",
    }
    bones = np.stack([group_len[child_group[names[c]]] for _, c in skeleton.BONES], axis=1)
    rel = bones / bones.mean(axis=1, keepdims=True)
    lo, hi = np.quantile(rel, quantiles, axis=0)
    return np.stack([lo * (1.0 - margin), hi * (1.0 + margin)])
