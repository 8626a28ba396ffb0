"""Ground-plane placement fused with the body-height prior (docs/placement.md "Placement").

A lifted skeleton placed by the body-height prior ``H`` (``hpe3d_ros.metric``) can be scaled by any
``s`` about the camera centre without changing its projection: ``s`` is the one unknown, the ratio of
the person's true size (and distance) to the prior's. Two estimates of ``ln s``:

- the prior: ``ln s = 0`` with standard deviation ``placement.height_prior_rel_std``;
- the ground plane, when the camera's height ``h`` above it and the direction of gravity are known:
  the stance foot (the lower of the visible ankles along gravity, ``d`` metres below the camera in
  the prior's scale) stands on the plane, its ankle ``a = ankle_height_ratio * H`` above it, so
  ``s (d + a) = h`` and ``s_g = h / (d + a)``. Its standard deviation in ``ln s`` is
  ``sqrt((r sigma_theta)^2 + (r sigma_px / f)^2 + sigma_ground^2) / (d + a)`` with ``r`` the foot's
  distance, ``sigma_theta`` the uncertainty of the camera's pitch, ``sigma_px`` the foot's 2D
  uncertainty (``foot_pixel_std_ratio`` of the person's image height) and ``sigma_ground`` the
  plane's (``ground_std_m``): the angle error grows with distance squared, the prior's linearly.

The stance foot is the lower visible ankle, or the mean of the two when they differ by less than twice
their 2D noise (the lower of two equally noisy points is biased low).

Rule: the ground estimate is used when the feet are visible (ankle score >= ``min_foot_score``, not
at the image's bottom edge), below the camera (``d + a > 0.1 m`` in the prior's scale) and consistent
with the prior (gate: ``ln(s_g)^2 / (sigma_g^2 + sigma_p^2) <= gate_chi2``; otherwise the person is
taken as not standing on the plane: stairs, a kerb, a jump, uneven ground). Then the two are fused by
inverse variance in ``ln s``; else the prior is used alone. The position's covariance: the fused
relative uncertainty along the line of sight, the 2D uncertainty across it.

The same constraint, read the other way, measures the camera's pitch when its height is known
(``elevation_residual``): the pitch change that would put a prior-placed person's feet on the plane is
``h (1 - 1 / s_g) / r_h`` (``r_h`` the foot's horizontal distance), known to ``h sigma / r_h``: far
people measure the pitch finely, and over many people the prior's stature errors average out
(docs/placement.md "Elevation").
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .. import skeleton
from .params import PlacementParams

ANKLES = (skeleton.JOINT_NAMES.index("right_ankle"), skeleton.JOINT_NAMES.index("left_ankle"))
EDGE_MARGIN_PX = 3.0
MIN_FOOT_DROP_M = 0.1
MIN_LATERAL_STD_M = 0.02

METHODS = ("prior", "fused", "gated")  # gated: a ground estimate existed but failed the gate; prior used


@dataclass
class Placement:
    """The placement of one person: scale ``s`` applied to the prior's skeleton and its uncertainty."""

    scale: float  # s: fused size / distance over the prior's (1.0 = the prior alone)
    rel_std: float  # 1 sigma of ln s (relative distance uncertainty)
    method: str  # one of METHODS
    ground_scale: float = math.nan  # s_g of the ground plane alone (NaN without one)
    ground_rel_std: float = math.nan
    gate: float = math.nan  # the gate statistic (chi-square, 1 dof)


class GroundFit(NamedTuple):
    """The ground plane's estimate for one prior-placed person (NaN: none)."""

    scale: float  # s_g
    sigma: float  # 1 sigma of ln s_g
    sigma_no_pitch: float  # the same without the pitch's uncertainty (2D and ground only)
    horizontal_m: float  # the stance foot's horizontal distance from the camera (prior's scale)


NO_GROUND = GroundFit(math.nan, math.nan, math.nan, math.nan)


def person_height_px(keypoints_px: np.ndarray | None) -> float:
    """The person's extent in the image (pixels), the larger side of the keypoints' box."""
    if keypoints_px is None:
        return 0.0
    kp = np.asarray(keypoints_px, dtype=np.float64).reshape(-1, 2)
    kp = kp[np.isfinite(kp).all(axis=1)]
    return float((kp.max(0) - kp.min(0)).max()) if len(kp) else 0.0


def ground_scale(
    joints_optical: np.ndarray,
    scores: np.ndarray,
    keypoints_px: np.ndarray | None,
    k: np.ndarray,
    image_height: int | None,
    down_optical: np.ndarray,
    camera_height_m: float,
    pitch_std_rad: float,
    body_height_m: float,
    p: PlacementParams,
) -> GroundFit:
    """The ground plane's ``s_g`` and the sigma of ``ln s_g`` for one prior-placed skeleton, or
    ``NO_GROUND`` when its feet give no constraint (not visible, at the image edge, not below the camera)."""
    down = np.asarray(down_optical, dtype=np.float64)
    feet = []
    for j in ANKLES:
        if scores[j] < p.min_foot_score:
            continue
        if keypoints_px is not None and image_height:
            v = float(keypoints_px[j][1])
            if not math.isfinite(v) or v > image_height - 1 - EDGE_MARGIN_PX:
                continue
        feet.append((float(joints_optical[j] @ down), float(np.linalg.norm(joints_optical[j]))))
    if not feet:
        return NO_GROUND
    f = float(k[1, 1])
    sigma_px = p.foot_pixel_std_ratio * person_height_px(keypoints_px)
    drop, r = max(feet)
    if len(feet) == 2:
        # the stance foot is the lower one, unless the two differ by less than their 2D noise: then the lower
        # of two noisy values is biased low, and their mean is the better estimate
        noise = r * sigma_px / f
        if abs(feet[0][0] - feet[1][0]) < 2.0 * noise:
            drop, r = (feet[0][0] + feet[1][0]) / 2.0, (feet[0][1] + feet[1][1]) / 2.0
    denom = drop + p.ankle_height_ratio * body_height_m
    if not denom > MIN_FOOT_DROP_M:
        return NO_GROUND
    s_g = camera_height_m / denom
    # the plane's own uncertainty is in metres of the world: in the prior's units it is sigma_ground / s_g
    no_pitch = math.sqrt((r * sigma_px / f) ** 2 + (p.ground_std_m / s_g) ** 2) / denom
    sigma = math.hypot(no_pitch, r * pitch_std_rad / denom)
    return GroundFit(s_g, max(sigma, 1e-6), max(no_pitch, 1e-6), math.sqrt(max(r * r - drop * drop, 0.0)))


def elevation_residual(fit: GroundFit, camera_height_m: float, p: PlacementParams) -> tuple[float, float]:
    """``(delta, sigma)`` radians: the change of the camera's elevation that would put this prior-placed
    person's feet on the ground plane, and its uncertainty (the prior's and the foot's, seen from ``r_h``)."""
    if not (math.isfinite(fit.scale) and fit.scale > 0 and fit.horizontal_m > 0):
        return math.nan, math.nan
    h, r = camera_height_m, fit.horizontal_m
    return h * (1.0 - 1.0 / fit.scale) / r, h * math.hypot(p.height_prior_rel_std, fit.sigma_no_pitch) / r


def fuse(ground: tuple, p: PlacementParams) -> Placement:
    """The placement from a ground estimate ``(s_g, sigma, ...)`` (a ``GroundFit``; NaN: none) and the
    prior (see the module docstring)."""
    sp = p.height_prior_rel_std
    s_g, sg = ground[0], ground[1]
    if not (math.isfinite(s_g) and s_g > 0 and math.isfinite(sg)):
        return Placement(1.0, sp, "prior")
    d = math.log(s_g)
    gate = d * d / (sg * sg + sp * sp)
    if gate > p.gate_chi2:
        return Placement(1.0, sp, "gated", s_g, sg, gate)
    wg, wp = 1.0 / (sg * sg), 1.0 / (sp * sp)
    return Placement(math.exp(wg * d / (wg + wp)), 1.0 / math.sqrt(wg + wp), "fused", s_g, sg, gate)


def position_covariance(point_optical: np.ndarray, rel_std: float, lateral_std_m: float) -> np.ndarray:
    """(3, 3) covariance of a point seen along its line of sight: ``rel_std * range`` along it,
    ``lateral_std_m`` across it."""
    pt = np.asarray(point_optical, dtype=np.float64)
    rng = float(np.linalg.norm(pt))
    u = pt / max(rng, 1e-9)
    along = (rel_std * rng) ** 2
    across = max(lateral_std_m, MIN_LATERAL_STD_M) ** 2
    return along * np.outer(u, u) + across * (np.eye(3) - np.outer(u, u))
