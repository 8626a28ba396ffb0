"""ElePose geometry, losses and the plausibility scorer (torch; "elepose" normalisation throughout).

Frames follow hpe3d_ros.camera: optical (x right, y down, z forward) and the upright frame
``p_up = rot_x(e)^T p_opt`` for a camera pitched down by ``e``. A virtual camera used in training:

    R = rot_x(e~) rot_y(a) rot_x(e)^T

first rotates the lifted pose to gravity with the predicted elevation ``e``, then turns it by an
azimuth ``a ~ U(-pi, pi)`` about the vertical axis (y), then pitches the view by a new elevation
``e~ ~ N(mu_e, sigma_e)`` (the batch's predicted elevations, reparametrised so the elevation head
gets gradients). Without the elevation head (ablation) ``R = rot_x(u) rot_y(a)``, ``u ~ U(-pi/9, pi/9)``.

Lifting uses ``normalization.lift_to_3d(.., "elepose")`` and projecting ``xy = X / (Z + D)``: the
runtime's very definitions. A reprojection is renormalised (head distance 1/D) before the flow or
the lifter sees it; the lift of the renormalised pose is scaled back by the renormalisation's
scale ``s`` so that it is comparable with the rotated pose (exact for s = 1, first order in depth/D).
"""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from hpe3d_ros import normalization, skeleton
from training.losses.tipsy import mirror_poses

KIND = "elepose"
D = normalization.ELEPOSE_DEPTH_OFFSET

# Relative bone lengths (bone / mean bone) in the order of skeleton.BONES, from anthropometric
# segment lengths as fractions of body height (Winter, Biomechanics and Motor Control of Human
# Movement, 4th ed., fig. 4.1; hip and shoulder joint centres and the head joint as documented in
# docs/elepose.md). No 3D pose data is used: this is the method's fixed body-proportion prior.
ANTHROPOMETRIC_BONES_OVER_HEIGHT = {
    ("pelvis", "right_hip"): 0.052,
    ("right_hip", "right_knee"): 0.245,
    ("right_knee", "right_ankle"): 0.246,
    ("pelvis", "left_hip"): 0.052,
    ("left_hip", "left_knee"): 0.245,
    ("left_knee", "left_ankle"): 0.246,
    ("pelvis", "spine"): 0.144,
    ("spine", "thorax"): 0.144,
    ("thorax", "head"): 0.100,
    ("thorax", "left_shoulder"): 0.105,
    ("left_shoulder", "left_elbow"): 0.186,
    ("left_elbow", "left_wrist"): 0.146,
    ("thorax", "right_shoulder"): 0.105,
    ("right_shoulder", "right_elbow"): 0.186,
    ("right_elbow", "right_wrist"): 0.146,
}


# Relative bone lengths measured on the training split's mocap skeletons (mean over all frames of
# bone / mean bone; `hpe3d_ros.skeleton.bone_lengths` on `training.data.mocap.load_split("train")`),
# as ElePose took its ratios from the Human3.6M training subjects. 15 numbers of body proportion,
# fixed in code: the method still never sees a 3D pose. The Bandai skeletons share one proportion
# (std < 0.02), so on this data the prior is nearly exact; on real people it is a prior.
BANDAI_TRAIN_BONE_RATIOS = [
    0.2886,
    1.7433,
    1.8283,
    0.2886,
    1.7433,
    1.8283,
    0.8881,
    0.8881,
    0.4531,
    0.4455,
    1.0853,
    0.9944,
    0.4455,
    1.0853,
    0.9944,
]


def anthropometric_bone_ratios() -> list[float]:
    """The fixed prior: bone lengths divided by their mean, in the order of ``skeleton.BONES``."""
    names = skeleton.JOINT_NAMES
    vals = [ANTHROPOMETRIC_BONES_OVER_HEIGHT[(names[p], names[c])] for p, c in skeleton.BONES]
    mean = sum(vals) / len(vals)
    return [v / mean for v in vals]


def bone_ratios_from_spec(spec, device: torch.device | str = "cpu") -> Tensor | None:
    """The bone-length prior from a config value: target ratios (15,) for 'bandai_train' (measured on
    the training skeletons), 'anthropometric' or a list of 15 ratios; a band (2, 15) of allowed
    ratios for 'bodies' (the many-bodies training mix: ``training.data.bodies.relative_bone_band``);
    None for 'none'/None/False (no prior)."""
    if spec is None or spec == "none" or spec is False:
        return None
    if spec == "bodies":
        from training.data.bodies import relative_bone_band

        return torch.tensor(relative_bone_band(), dtype=torch.float32, device=device)
    if spec == "anthropometric":
        vals = anthropometric_bone_ratios()
    elif spec == "bandai_train":
        vals = list(BANDAI_TRAIN_BONE_RATIOS)
    elif isinstance(spec, (list, tuple)) and len(spec) == 15:
        vals = [float(v) for v in spec]
    else:
        raise ValueError(
            "bone_prior must be 'bandai_train', 'anthropometric', 'bodies', 'none' or a list of 15 ratios, "
            f"got {spec!r}"
        )
    return torch.tensor(vals, dtype=torch.float32, device=device)


def rot_x(a: Tensor) -> Tensor:
    """(B,) -> (B,3,3) rotations about x (same matrices as hpe3d_ros.camera.rot_x)."""
    c, s = torch.cos(a), torch.sin(a)
    o, z = torch.ones_like(a), torch.zeros_like(a)
    return torch.stack([torch.stack([o, z, z], -1), torch.stack([z, c, -s], -1), torch.stack([z, s, c], -1)], -2)


def rot_y(a: Tensor) -> Tensor:
    """(B,) -> (B,3,3) rotations about y (the vertical axis of the upright frame)."""
    c, s = torch.cos(a), torch.sin(a)
    o, z = torch.ones_like(a), torch.zeros_like(a)
    return torch.stack([torch.stack([c, z, s], -1), torch.stack([z, o, z], -1), torch.stack([-s, z, c], -1)], -2)


def rotate(points: Tensor, r: Tensor) -> Tensor:
    """Apply (B,3,3) rotations to (B,J,3) points: p' = R p."""
    return points @ r.transpose(-1, -2)


def lift(poses2d: Tensor, depth: Tensor) -> Tensor:
    """Root-relative 3D (B,J,3) from normalised 2D and depth (the runtime's lift_to_3d)."""
    return normalization.lift_to_3d(poses2d, depth, KIND)


def project(pose3d: Tensor, min_z: float = 1e-3) -> Tensor:
    """Perspective projection of a root-relative pose placed at distance D: xy = X / (Z + D)."""
    z = torch.clamp(pose3d[..., 2:3] + D, min=min_z)
    return pose3d[..., :2] / z


def reproject_normalized(pose3d: Tensor) -> tuple[Tensor, Tensor]:
    """Project and renormalise: (normalised 2D (B,J,2), scale s (B,)) with normalised = xy / s."""
    return normalization.normalize_2d(project(pose3d), KIND)


def bone_lengths(pose3d: Tensor) -> Tensor:
    """(B,J,3) -> (B,15) in the order of skeleton.BONES."""
    p = torch.tensor([b[0] for b in skeleton.BONES], device=pose3d.device)
    c = torch.tensor([b[1] for b in skeleton.BONES], device=pose3d.device)
    return (pose3d[:, c] - pose3d[:, p]).norm(dim=-1)


def sample_rotations(
    elevation: Tensor | None,
    batch: int,
    generator: torch.Generator | None = None,
    device=None,
    fixed_elevation_range: float = math.pi / 9,
) -> Tensor:
    """Training rotations R (B,3,3) (module docstring); ``elevation`` (B,) predicted, or None."""
    dev = elevation.device if elevation is not None else device
    dt = elevation.dtype if elevation is not None else torch.float32
    azim = (torch.rand(batch, generator=generator, device=dev, dtype=dt) * 2.0 - 1.0) * math.pi
    if elevation is None:
        new_e = (torch.rand(batch, generator=generator, device=dev, dtype=dt) * 2.0 - 1.0) * fixed_elevation_range
        return rot_x(new_e) @ rot_y(azim)
    mu, sigma = elevation.mean(), elevation.std() if batch > 1 else elevation.new_tensor(0.0)
    new_e = mu + sigma * torch.randn(batch, generator=generator, device=dev, dtype=dt)
    return rot_x(new_e) @ rot_y(azim) @ rot_x(elevation).transpose(-1, -2)


def soft_clip(x: Tensor, limit: float) -> Tensor:
    """x below ``limit``; above it ``limit + log(1 + x - limit)``: keeps a gradient, tames outliers."""
    over = torch.clamp(x - limit, min=0.0)
    return torch.where(x > limit, limit + torch.log1p(over), x)


def _masked_mean(x: Tensor, mask: Tensor) -> Tensor:
    return (x * mask).sum() / mask.sum().clamp_min(1.0)


def elepose_losses(
    lifter: nn.Module,
    prior: nn.Module,
    poses2d: Tensor,
    bone_ratios: Tensor | None,
    use_elevation: bool = True,
    generator: torch.Generator | None = None,
    nll_soft_max: float | None = None,
    min_reprojection_scale: float = 0.0,
) -> dict[str, Tensor]:
    """All ElePose loss terms for one batch of normalised 2D (B,J,2) (unweighted, each a scalar).

    nll: flow NLL of the renormalised reprojection; l3d: |s * lift(reprojection) - R pose|;
    l2d: |projection of the re-rotated second lift - input|; ldef: pairwise deformation;
    bone: relative bone lengths against ``bone_ratios`` (0 when None): the squared distance to the
    target ratios (15,), or for a band (2, 15) only the squared distance outside [low, high].

    Robustness (not in the paper, whose normalisation is one global scale): a virtual view in which
    the root-to-head segment shrinks below ``min_reprojection_scale`` of its input length makes the
    per-pose head normalisation blow up, so such samples are left out of the rotation-based terms;
    per-sample NLLs above ``nll_soft_max`` are log-compressed (``soft_clip``).
    """
    b = poses2d.shape[0]
    out = lifter(poses2d)
    pose = lift(poses2d, out["depth"])
    elev = out.get("elevation") if use_elevation else None
    r = sample_rotations(elev, b, generator, device=poses2d.device)
    rot_pose = rotate(pose, r)
    rep2d, scale = reproject_normalized(rot_pose)
    valid = (scale > min_reprojection_scale).to(poses2d.dtype)
    # Invalid views would divide by ~0: feed them their (finite) input instead and mask them out.
    rep2d = torch.where(valid[:, None, None] > 0, rep2d, poses2d)
    scale = torch.where(valid > 0, scale, torch.ones_like(scale))
    nll_each = prior.nll(rep2d)
    if nll_soft_max is not None:
        nll_each = soft_clip(nll_each, nll_soft_max)
    nll = _masked_mean(nll_each, valid)

    out2 = lifter(rep2d)
    pose2 = lift(rep2d, out2["depth"]) * scale[:, None, None]
    l3d = _masked_mean((pose2 - rot_pose).flatten(1).norm(dim=1), valid)
    back = rotate(pose2, r.transpose(-1, -2))
    l2d = _masked_mean((project(back) - poses2d).abs().flatten(1).sum(dim=1), valid)

    pairs = b // 2
    if pairs > 0:
        d_in = pose[0:pairs] - pose[pairs : 2 * pairs]
        d_back = back[0:pairs] - back[pairs : 2 * pairs]
        pair_valid = valid[0:pairs] * valid[pairs : 2 * pairs]
        ldef = _masked_mean((d_in - d_back).flatten(1).norm(dim=1), pair_valid)
    else:
        ldef = poses2d.new_zeros(())

    if bone_ratios is not None:
        bl = bone_lengths(pose)
        rel = bl / bl.mean(dim=1, keepdim=True).clamp_min(1e-8)
        if bone_ratios.dim() == 2:
            outside = torch.relu(bone_ratios[0] - rel) + torch.relu(rel - bone_ratios[1])
            bone = outside.square().sum(dim=1).mean()
        else:
            bone = (rel - bone_ratios).square().sum(dim=1).mean()
    else:
        bone = poses2d.new_zeros(())
    losses = {"nll": nll, "l3d": l3d, "l2d": l2d, "ldef": ldef, "bone": bone, "valid_views": valid.mean().detach()}
    if elev is not None:
        losses["elevation_mean"] = elev.mean().detach()
        losses["elevation_std"] = elev.std().detach() if b > 1 else elev.new_zeros(())
    return losses


def fixed_view_rotations(azimuths: int, elevations: list[float]) -> Tensor:
    """Fixed virtual views (K,3,3) = rot_x(e_i) rot_y(a_j), azimuths evenly spaced over the circle."""
    a = torch.arange(azimuths, dtype=torch.float64) * (2.0 * math.pi / azimuths)
    e = torch.tensor(elevations, dtype=torch.float64)
    aa, ee = torch.meshgrid(a, e, indexing="ij")
    return (rot_x(ee.reshape(-1)) @ rot_y(aa.reshape(-1))).float()


class PlausibilityScorer(nn.Module):
    """ElePose sect. 4.3: the prior's NLL of a prediction's reprojections to fixed virtual views.

    forward(poses2d (B,J,2), depth (B,J), elevation (B,) or None) -> nll (B,), lower = more
    plausible. The pose is lifted, rotated to gravity by its elevation, then seen from each of the
    K fixed views (a buffer; no randomness, so it exports to ONNX and is deterministic).
    """

    def __init__(self, prior: nn.Module, azimuths: int = 8, elevations: list[float] | None = None) -> None:
        super().__init__()
        self.prior = prior
        self.register_buffer("views", fixed_view_rotations(azimuths, elevations if elevations is not None else [0.0]))

    def set_elevations(self, elevations: list[float], azimuths: int) -> None:
        """Replace the fixed views (e.g. with quantiles of the learned elevation distribution)."""
        self.views = fixed_view_rotations(azimuths, elevations).to(self.views.device)

    def forward(self, poses2d: Tensor, depth: Tensor, elevation: Tensor | None = None) -> Tensor:
        pose = lift(poses2d, depth)
        if elevation is not None:
            pose = rotate(pose, rot_x(elevation).transpose(-1, -2))
        b, j = pose.shape[0], pose.shape[1]
        k = self.views.shape[0]
        # (B,J,3) x (K,3,3) -> (B,K,J,3)
        views = (pose[:, None] @ self.views.transpose(-1, -2)[None]).reshape(b * k, j, 3)
        rep, _ = reproject_normalized(views)
        return self.prior.nll(rep).reshape(b, k).mean(dim=1)


class FlipAveraged(nn.Module):
    """Test-time mirror averaging: the mean of a lifter's outputs for a 2D pose and for its
    left-right mirror image (negated x, swapped sides), mirrored back. A root-centred pose's
    mirror image is the image of the mirrored 3D pose, whose depths are the same with the sides
    swapped and whose camera elevation is the same; so both predictions estimate the same thing."""

    def __init__(self, lifter: nn.Module) -> None:
        super().__init__()
        self.lifter = lifter

    def forward(self, poses2d: Tensor) -> dict[str, Tensor]:
        both = self.lifter(torch.cat([poses2d, mirror_poses(poses2d)], 0))
        n = poses2d.shape[0]
        out = {"depth": 0.5 * (both["depth"][:n] + both["depth"][n:][:, list(skeleton.MIRROR)])}
        if "elevation" in both:
            out["elevation"] = 0.5 * (both["elevation"][:n] + both["elevation"][n:])
        return out


class ScoredLifter(nn.Module):
    """A lifter whose output dict also carries the plausibility ``nll`` (contract (1)/(2))."""

    def __init__(self, lifter: nn.Module, scorer: PlausibilityScorer) -> None:
        super().__init__()
        self.lifter = lifter
        self.scorer = scorer

    def forward(self, poses2d: Tensor) -> dict[str, Tensor]:
        out = dict(self.lifter(poses2d))
        out["nll"] = self.scorer(poses2d, out["depth"], out.get("elevation"))
        return out
