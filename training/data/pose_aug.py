"""Pose-diversity augmentation: more poses than the mocap clips hold, by forward kinematics.

The cross-dataset benchmark (docs/results.md) shows that, once bodies vary, most of the remaining
error is motion the Bandai clips do not contain (bent-knee standing, leaning, reaching low). A share
``fraction`` of the training frames (drawn per frame, seeded) gets, in 3D world coordinates (x
forward, y left, z up) before any camera:

- **joint-angle perturbation**: each limb is rotated about its proximal joint, the subtree moving
  with it, so bone lengths are kept exactly: hips and shoulders (ball joints) about a random axis by
  N(0, ``hip_deg``) / N(0, ``shoulder_deg``) degrees; knees flexed further about the hip line by
  U(0, ``knee_flex_deg``) (the ankle moves backwards: a knee never bends forward); elbows flexed by
  U(0, ``elbow_flex_deg``) about the axis normal to the upper arm and the person's forward direction
  (the wrist moves forwards); the head about a random axis by N(0, ``neck_deg``);
- **trunk lean**: the upper body (spine and everything above) rotated about the pelvis, forwards,
  by U(0, ``lean_deg``);
- **arm swap**: with probability ``arm_swap``, both arms are replaced by those of another random
  training frame, carried over in the torso's own frame (shoulders to wrists, relative to each
  shoulder).

The pose is then put back on the floor (the lowest joint at the original lowest height). No 3D label
is used by the unsupervised methods: the augmented poses are only rendered to 2D, like every
training pose.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hpe3d_ros import skeleton

from .config_section import optional_section

_N = skeleton.JOINT_NAMES.index
PELVIS, SPINE, THORAX, HEAD = _N("pelvis"), _N("spine"), _N("thorax"), skeleton.HEAD
R_HIP, R_KNEE, R_ANKLE = _N("right_hip"), _N("right_knee"), _N("right_ankle")
L_HIP, L_KNEE, L_ANKLE = _N("left_hip"), _N("left_knee"), _N("left_ankle")
L_SH, L_EL, L_WR = _N("left_shoulder"), _N("left_elbow"), _N("left_wrist")
R_SH, R_EL, R_WR = _N("right_shoulder"), _N("right_elbow"), _N("right_wrist")
LOWER_BODY = (PELVIS, R_HIP, R_KNEE, R_ANKLE, L_HIP, L_KNEE, L_ANKLE)
UPPER_BODY = [j for j in range(skeleton.NUM_JOINTS) if j not in LOWER_BODY]


@dataclass
class PoseAugmentation:
    """Settings of ``data.pose_aug`` (a training config): the share of frames and the angle ranges (degrees)."""

    fraction: float = 0.5
    seed: int = 0
    hip_deg: float = 15.0
    knee_flex_deg: float = 60.0
    shoulder_deg: float = 25.0
    elbow_flex_deg: float = 60.0
    neck_deg: float = 10.0
    lean_deg: float = 30.0
    arm_swap: float = 0.3

    @classmethod
    def from_dict(cls, d: dict | None) -> "PoseAugmentation | None":
        """The augmentation of a config mapping, or None when it is absent, ``enabled: false`` or fraction 0."""
        d = optional_section(d, cls, "pose_aug")
        if d is None:
            return None
        out = cls(**d)
        if not 0.0 <= out.fraction <= 1.0:
            raise ValueError(f"data.pose_aug.fraction must be in [0, 1], got {out.fraction}")
        if not 0.0 <= out.arm_swap <= 1.0:
            raise ValueError(f"data.pose_aug.arm_swap must be in [0, 1], got {out.arm_swap}")
        for name in ("hip_deg", "knee_flex_deg", "shoulder_deg", "elbow_flex_deg", "neck_deg", "lean_deg"):
            v = float(getattr(out, name))
            if not 0.0 <= v <= 180.0:
                raise ValueError(f"data.pose_aug.{name} must be in [0, 180] degrees, got {v}")
        return out if out.fraction > 0 else None


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


def rotation(axis: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Rotation matrices (N,3,3) about unit-normalised ``axis`` (N,3) by ``angle`` (N,) radians (Rodrigues)."""
    k = _unit(axis)
    kx = np.zeros(k.shape[:-1] + (3, 3))
    kx[..., 0, 1], kx[..., 0, 2], kx[..., 1, 2] = -k[..., 2], k[..., 1], -k[..., 0]
    kx = kx - np.swapaxes(kx, -1, -2)
    s, c = np.sin(angle)[..., None, None], np.cos(angle)[..., None, None]
    return np.eye(3) + s * kx + (1 - c) * kx @ kx


def _rotate_subtree(j: np.ndarray, pivot: int, subtree: list[int], rot: np.ndarray) -> None:
    """Rotate joints ``subtree`` of poses ``j`` (N,16,3) in place by ``rot`` (N,3,3) about joint ``pivot``."""
    p = j[:, pivot : pivot + 1]
    j[:, subtree] = p + np.einsum("nij,nkj->nki", rot, j[:, subtree] - p)


def body_frame(j: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per pose (N,3) each: the person's left (right hip -> left hip), up (pelvis -> thorax, made
    normal to left) and forward (left x up) unit vectors."""
    left = _unit(j[:, L_HIP] - j[:, R_HIP])
    up = j[:, THORAX] - j[:, PELVIS]
    up = _unit(up - np.sum(up * left, -1, keepdims=True) * left)
    return left, up, np.cross(left, up)


def _flex(
    j: np.ndarray, pivot: int, subtree: list[int], tip: int, axis: np.ndarray, angle: np.ndarray, toward: np.ndarray
) -> None:
    """Rotate ``subtree`` about ``pivot`` by ``angle`` about ``axis``, in the sense that moves ``tip`` along
    ``toward``."""
    before = j[:, tip] - j[:, pivot]
    moved = np.einsum("nij,nj->ni", rotation(axis, angle), before)
    sign = np.where(np.sum((moved - before) * toward, -1) >= 0, 1.0, -1.0)
    _rotate_subtree(j, pivot, subtree, rotation(axis, sign * angle))


def augment_poses(joints: np.ndarray, aug: PoseAugmentation, rng: np.random.Generator) -> np.ndarray:
    """All of ``joints`` (N,16,3) world poses augmented (see the module); float32. Bone lengths are kept."""
    j = np.array(joints, dtype=np.float64)
    n = len(j)
    if n == 0:
        return j.astype(np.float32)
    floor = j[..., 2].min(axis=1)
    rad = np.deg2rad

    # arm swap first (the donor's arms, then perturbed like every arm)
    swap = rng.random(n) < aug.arm_swap
    if swap.any():
        donor = rng.integers(0, n, n)
        left, up, fwd = body_frame(j)
        basis = np.stack([fwd, left, up], axis=1)  # (N,3,3): rows = the body axes
        d = j[donor]
        idx = np.flatnonzero(swap)
        for sh, el, wr in ((L_SH, L_EL, L_WR), (R_SH, R_EL, R_WR)):
            # the donor's arm directions in its body frame, with this pose's own bone lengths
            upper = np.einsum("nij,nj->ni", basis[donor], d[:, el] - d[:, sh])
            fore = np.einsum("nij,nj->ni", basis[donor], d[:, wr] - d[:, el])
            l_up = np.linalg.norm(j[:, el] - j[:, sh], axis=-1, keepdims=True)
            l_fo = np.linalg.norm(j[:, wr] - j[:, el], axis=-1, keepdims=True)
            new_el = j[:, sh] + np.einsum("nji,nj->ni", basis, _unit(upper)) * l_up
            new_wr = new_el + np.einsum("nji,nj->ni", basis, _unit(fore)) * l_fo
            j[idx, el], j[idx, wr] = new_el[idx], new_wr[idx]

    left, up, fwd = body_frame(j)
    # trunk lean about the pelvis, forwards
    _flex(j, PELVIS, UPPER_BODY, HEAD, left, rad(rng.uniform(0, aug.lean_deg, n)), fwd)
    # hips: ball joints, the whole leg moves
    for hip, leg in ((R_HIP, [R_KNEE, R_ANKLE]), (L_HIP, [L_KNEE, L_ANKLE])):
        _rotate_subtree(j, hip, leg, rotation(rng.standard_normal((n, 3)), rad(rng.normal(0, aug.hip_deg, n))))
    # knees: more flexion about the hip line, the ankle moving backwards
    for knee, ankle in ((R_KNEE, R_ANKLE), (L_KNEE, L_ANKLE)):
        _flex(j, knee, [ankle], ankle, left, rad(rng.uniform(0, aug.knee_flex_deg, n)), -fwd)
    left, up, fwd = body_frame(j)
    # shoulders: ball joints, the whole arm moves
    for sh, arm in ((L_SH, [L_EL, L_WR]), (R_SH, [R_EL, R_WR])):
        _rotate_subtree(j, sh, arm, rotation(rng.standard_normal((n, 3)), rad(rng.normal(0, aug.shoulder_deg, n))))
    # elbows: flexion about the axis normal to the upper arm and forward, the wrist moving forwards
    for sh, el, wr in ((L_SH, L_EL, L_WR), (R_SH, R_EL, R_WR)):
        axis = np.cross(j[:, el] - j[:, sh], fwd)
        axis = np.where(np.linalg.norm(axis, axis=-1, keepdims=True) > 1e-6, axis, left)
        _flex(j, el, [wr], wr, axis, rad(rng.uniform(0, aug.elbow_flex_deg, n)), fwd)
    # the head about the thorax
    _rotate_subtree(j, THORAX, [HEAD], rotation(rng.standard_normal((n, 3)), rad(rng.normal(0, aug.neck_deg, n))))

    j[..., 2] += (floor - j[..., 2].min(axis=1))[:, None]
    return j.astype(np.float32)


def mix(joints: np.ndarray, aug: PoseAugmentation) -> np.ndarray:
    """``joints`` (N,16,3) with a seeded share ``aug.fraction`` of the frames replaced by augmented ones."""
    rng = np.random.default_rng([int(aug.seed), 23])
    use = rng.random(len(joints)) < aug.fraction
    out = np.array(joints, dtype=np.float32)
    if use.any():
        out[use] = augment_poses(out[use], aug, rng)
    return out
