"""Joint-definition augmentation: make the lifter consistent for any reasonable definition of the
hip, shoulder and head points.

A 2D detector's landmarks are not mocap joint centres (docs/joint_layout.md "Joint definitions"):
MediaPipe's hip landmarks sit about 1.3x wider apart than mocap hip-joint centres, its shoulders
1.39x wider than the Bandai body's shoulder joints (0.85x the HDM05 actors'), and its head point (the
ear midpoint) 0.13 torso lengths above the mocap skull base. The evaluation ground truth keeps the
mocap definitions; instead, every training pose gets, in 3D before projection, its own definition:

- hips scaled about the pelvis by ``hip_scale`` ~ U(lo, hi) (the pelvis, their midpoint, stays);
- shoulders scaled about the thorax by ``shoulder_scale`` ~ U(lo, hi) (the thorax stays);
- the head point moved along the thorax-to-head direction by ``head_shift`` ~ U(lo, hi) torso lengths
  (0: the skull base; about 0.10-0.13: the mid-head / ear level).

Only the points move (knees, elbows and the rest keep their places): a definition, not a body.
The spine, the midpoint of pelvis and thorax, is unchanged by construction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hpe3d_ros import skeleton

from .config_section import optional_section

_N = skeleton.JOINT_NAMES.index
HIPS = (_N("left_hip"), _N("right_hip"))
SHOULDERS = (_N("left_shoulder"), _N("right_shoulder"))
PELVIS, THORAX, HEAD = _N("pelvis"), _N("thorax"), skeleton.HEAD


@dataclass
class JointDefinitions:
    """Ranges of the augmentation (``data.joint_defs`` of a training config); ``prob``: the share of
    poses that get a random definition (the others keep the source's)."""

    hip_scale: tuple = (0.8, 1.5)
    shoulder_scale: tuple = (0.8, 1.6)
    head_shift: tuple = (0.0, 0.15)
    prob: float = 1.0

    @classmethod
    def from_dict(cls, d: dict | None) -> "JointDefinitions | None":
        """The augmentation of a config mapping, or None when it is absent or ``enabled: false``."""
        d = optional_section(d, cls, "joint_defs")
        if d is None:
            return None
        out = cls(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in d.items()})
        for name in ("hip_scale", "shoulder_scale", "head_shift"):
            lo, hi = getattr(out, name)
            if not lo <= hi or (name != "head_shift" and lo <= 0):
                raise ValueError(
                    f"data.joint_defs.{name}: need 0 < low <= high (head_shift: low <= high), got {(lo, hi)}"
                )
        if not 0.0 <= out.prob <= 1.0:
            raise ValueError(f"data.joint_defs.prob must be in [0, 1], got {out.prob}")
        return out

    def sample(self, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Per-pose factors (n,): hip_scale, shoulder_scale, head_shift (identity where not drawn)."""
        on = rng.random(n) < self.prob
        out = {}
        for name, ident in (("hip_scale", 1.0), ("shoulder_scale", 1.0), ("head_shift", 0.0)):
            lo, hi = getattr(self, name)
            out[name] = np.where(on, rng.uniform(lo, hi, n), ident)
        return out


def apply_definitions(
    joints: np.ndarray, hip_scale: np.ndarray, shoulder_scale: np.ndarray, head_shift: np.ndarray
) -> np.ndarray:
    """Poses (N,16,3) (any frame: world or camera) with the hips scaled about the pelvis, the
    shoulders about the thorax and the head moved along thorax->head by ``head_shift`` torso lengths."""
    j = np.array(joints, dtype=np.float64)
    pelvis, thorax = j[:, PELVIS : PELVIS + 1], j[:, THORAX : THORAX + 1]
    j[:, HIPS] = pelvis + np.asarray(hip_scale, dtype=np.float64)[:, None, None] * (j[:, HIPS] - pelvis)
    j[:, SHOULDERS] = thorax + np.asarray(shoulder_scale, dtype=np.float64)[:, None, None] * (j[:, SHOULDERS] - thorax)
    neck = j[:, HEAD] - j[:, THORAX]
    torso = np.linalg.norm(j[:, THORAX] - j[:, PELVIS], axis=-1)
    unit = neck / np.maximum(np.linalg.norm(neck, axis=-1, keepdims=True), 1e-9)
    j[:, HEAD] = j[:, HEAD] + (np.asarray(head_shift, dtype=np.float64) * torso)[:, None] * unit
    return j


def augment(joints: np.ndarray, defs: JointDefinitions, rng: np.random.Generator) -> np.ndarray:
    """``apply_definitions`` with factors drawn from ``defs``; float32 like the training poses."""
    f = defs.sample(len(joints), rng)
    return apply_definitions(joints, f["hip_scale"], f["shoulder_scale"], f["head_shift"]).astype(np.float32)
