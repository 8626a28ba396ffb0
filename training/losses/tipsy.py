"""TIPSy-GAN geometry and losses (Hardy et al., "Teaching Independent Parts Separately").

All poses use the ``tipsy`` normalisation of :mod:`hpe3d_ros.normalization` (root-centred 2D in
normalised image coordinates divided by the largest absolute coordinate; scaled orthographic
lift ``(x, y, depth)``), and the optical-frame axes of :mod:`hpe3d_ros.camera`: x right,
y down (the vertical axis), z forward (depth).

A "lifter" here is any callable ``(B, J, 2) normalised 2D -> (B, J) depth``. Per-joint losses are
returned as ``(B, J)`` tensors so that each TIPSy generator can take the loss of its own keypoints.

The three 90-degree consistency terms (eqs. 2-4 of the paper): turning a lifted pose
``(x, y, z)`` by +90 degrees about the vertical axis shows the 2D pose ``(z, y)`` whose depth is
``-x``; by -90 degrees it shows ``(-z, y)`` with depth ``x``; by 180 degrees ``(-x, y)`` with
depth ``-z``. The lifter, applied to each of those views, must give back that depth. Here every
view is re-normalised exactly as real input is (root-centred, max-abs), and the target depth is
scaled by the same factor, so the terms are exact identities for a correct lifter.
"""
from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn.functional as F

from hpe3d_ros import normalization, skeleton

KIND = "tipsy"
Lifter = Callable[[torch.Tensor], torch.Tensor]
NINETY_DEGREE_ANGLES = (math.pi / 2, -math.pi / 2, math.pi)


def rot_x(angle: torch.Tensor) -> torch.Tensor:
    """Rotations (..., 3, 3) about the optical x axis (pitch, as camera elevation)."""
    c, s = torch.cos(angle), torch.sin(angle)
    o, z = torch.ones_like(angle), torch.zeros_like(angle)
    return torch.stack([torch.stack([o, z, z], -1), torch.stack([z, c, -s], -1), torch.stack([z, s, c], -1)], -2)


def rot_y(angle: torch.Tensor) -> torch.Tensor:
    """Rotations (..., 3, 3) about the optical y axis (vertical: azimuth); same as hpe3d_ros.camera.rot_y."""
    c, s = torch.cos(angle), torch.sin(angle)
    o, z = torch.ones_like(angle), torch.zeros_like(angle)
    return torch.stack([torch.stack([c, z, s], -1), torch.stack([z, o, z], -1), torch.stack([-s, z, c], -1)], -2)


def random_rotations(
    n: int,
    generator: torch.Generator | None = None,
    azimuth_range: tuple[float, float] = (-math.pi, math.pi),
    elevation_range: tuple[float, float] = (-math.pi / 18, math.pi / 18),
    device: torch.device | str = "cpu",
) -> torch.Tensor:
    """``n`` rotations ``R = rot_x(elevation) @ rot_y(azimuth)`` with uniform angles in the ranges."""
    u = torch.rand(n, 2, generator=generator, device=generator.device if generator is not None else device)
    u = u.to(device)
    az = azimuth_range[0] + (azimuth_range[1] - azimuth_range[0]) * u[:, 0]
    el = elevation_range[0] + (elevation_range[1] - elevation_range[0]) * u[:, 1]
    return rot_x(el) @ rot_y(az)


def rotate(pose3d: torch.Tensor, rotation: torch.Tensor) -> torch.Tensor:
    """Rotate poses (B, J, 3) by rotations (B, 3, 3) or (3, 3): ``p' = R p`` for each joint."""
    if rotation.dim() == 2:
        return pose3d @ rotation.transpose(0, 1)
    return torch.einsum("bij,bkj->bki", rotation, pose3d)


def lift(poses2d: torch.Tensor, depth: torch.Tensor) -> torch.Tensor:
    """Normalised 2D (B, J, 2) and depth (B, J) to the root-relative 3D shape (B, J, 3)."""
    return normalization.lift_to_3d(poses2d, depth, KIND)


def root_relative_depth(depth: torch.Tensor) -> torch.Tensor:
    """Depth (B, J) minus the root joint's depth (lift_to_3d ignores a common offset)."""
    return depth - depth[..., skeleton.ROOT : skeleton.ROOT + 1]


def view(pose3d: torch.Tensor, rotation: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """What a lifter sees when a root-relative shape (B, J, 3) is turned by ``rotation``:
    the re-normalised 2D (B, J, 2) and the matching root-relative depth (B, J) in its units."""
    turned = normalization.root_center(rotate(pose3d, rotation))
    poses2d, scale = normalization.normalize_2d(turned[..., :2], KIND)
    return poses2d, turned[..., 2] / scale[..., None]


def cycle_reprojection(
    lifter: Lifter, poses2d: torch.Tensor, depth: torch.Tensor, rotation: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """The reprojection-consistency cycle: lift, rotate, project, lift again, rotate back, project.

    Returns ``(per-joint squared 2D error (B, J) against the input, the rotated 2D view (B, J, 2))``;
    the rotated view is what the discriminator judges.
    """
    pose = lift(poses2d, depth)
    seen2d, _ = view(pose, rotation)
    again = lift(seen2d, lifter(seen2d))
    back2d, _ = view(again, rotation.transpose(-1, -2))
    return ((back2d - poses2d) ** 2).sum(-1), seen2d


def ninety_degree_consistency(lifter: Lifter, poses2d: torch.Tensor, depth: torch.Tensor) -> torch.Tensor:
    """Sum of the three 90-degree terms (eqs. 2-4), per joint (B, J): squared error between the
    lifter's root-relative depth on each turned view and the depth that view must have."""
    pose = lift(poses2d, depth)
    total = torch.zeros_like(depth)
    for angle in NINETY_DEGREE_ANGLES:
        rotation = rot_y(torch.tensor(angle, dtype=pose.dtype, device=pose.device))
        seen2d, target = view(pose, rotation)
        total = total + (root_relative_depth(lifter(seen2d)) - target) ** 2
    return total


def flipped_labels(labels: torch.Tensor, flip_prob: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Binary labels with a random fraction ``flip_prob`` flipped (label noise for the discriminator)."""
    if flip_prob <= 0:
        return labels
    u = torch.rand(
        labels.shape, generator=generator, device=generator.device if generator is not None else labels.device
    )
    flip = u.to(labels.device) < flip_prob
    return torch.where(flip, 1.0 - labels, labels)


def discriminator_loss(
    real_logits: torch.Tensor,
    fake_logits: torch.Tensor,
    flip_prob: float = 0.05,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Standard GAN discriminator loss (binary cross-entropy, real = 1, fake = 0) with label flipping."""
    logits = torch.cat([real_logits, fake_logits])
    labels = torch.cat([torch.ones_like(real_logits), torch.zeros_like(fake_logits)])
    return F.binary_cross_entropy_with_logits(logits, flipped_labels(labels, flip_prob, generator))


def generator_adversarial_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """Non-saturating generator loss: binary cross-entropy of the fakes against the label 'real'."""
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))


def part_mean(per_joint: torch.Tensor, joints: tuple[int, ...] | list[int]) -> torch.Tensor:
    """Mean of a per-joint loss (B, J) over the batch and the given joints."""
    return per_joint[:, list(joints)].mean()


def mirror_poses(poses2d: torch.Tensor) -> torch.Tensor:
    """Left-right mirrored 2D poses: negate x and swap left and right joints (a valid pose of the
    mirrored person, unlike a bare negation of x)."""
    flipped = poses2d[:, list(skeleton.MIRROR)]
    return torch.stack([-flipped[..., 0], flipped[..., 1]], -1)


def generator_terms(lifter: Lifter, poses2d: torch.Tensor, rotation: torch.Tensor) -> dict[str, torch.Tensor]:
    """All consistency terms of one generator step with two lifter calls (the input, then the
    rotated view and the three 90-degree views in one batch).

    Returns ``depth`` (B, J), ``reprojection`` (B, J) as in ``cycle_reprojection``, ``ninety``
    (B, J) as in ``ninety_degree_consistency``, and ``fake2d`` (B, J, 2), the rotated view.
    """
    n = poses2d.shape[0]
    depth = lifter(poses2d)
    pose = lift(poses2d, depth)
    seen2d, _ = view(pose, rotation)
    views, targets = [seen2d], []
    for angle in NINETY_DEGREE_ANGLES:
        v2d, target = view(pose, rot_y(torch.tensor(angle, dtype=pose.dtype, device=pose.device)))
        views.append(v2d)
        targets.append(target)
    out = lifter(torch.cat(views)).split(n)
    back2d, _ = view(lift(seen2d, out[0]), rotation.transpose(-1, -2))
    ninety = sum((root_relative_depth(o) - t) ** 2 for o, t in zip(out[1:], targets))
    return {"depth": depth, "reprojection": ((back2d - poses2d) ** 2).sum(-1), "ninety": ninety, "fake2d": seen2d}


def distillation_loss(student_depth: torch.Tensor, teacher_depth: torch.Tensor) -> torch.Tensor:
    """MSE between the student's and the teachers' root-relative depth (B, J)."""
    return F.mse_loss(root_relative_depth(student_depth), root_relative_depth(teacher_depth))
