"""Networks of the "ours" method (training/methods/ours.py): TIPSy-style part-wise teachers with an
ElePose elevation head, all in the "elepose" normalisation.

``PartsElevationLifter`` (the teacher): a torso generator that reads only the torso's 2D and
predicts the torso's depth, a leg generator likewise for the legs (skeleton.TORSO / LEGS, the
partition TIPSy-GAN uses), and a camera-elevation network on the whole 2D pose. Each network is the
ElePose residual MLP (input layer to ``width``, ``blocks`` residual blocks of two ``width``-wide
layers with leaky ReLU, linear output; training.models.elepose_lifter). Output per contract (2):
``depth`` (B,16) with the root at 0 and ``depth + D >= min_depth`` (as EleposeLifter) and
``elevation`` (B,) radians. The student is training.models.elepose_lifter.EleposeLifter.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from hpe3d_ros import normalization, skeleton
from training.models.elepose_lifter import ResBlock


def residual_mlp(n_in: int, n_out: int, width: int, blocks: int) -> nn.Sequential:
    """linear -> [ResBlock -> leaky ReLU] x blocks -> linear (the ElePose lifter's layout)."""
    layers: list[nn.Module] = [nn.Linear(n_in, width)]
    for _ in range(blocks):
        layers += [ResBlock(width), nn.LeakyReLU()]
    layers.append(nn.Linear(width, n_out))
    return nn.Sequential(*layers)


class PartsElevationLifter(nn.Module):
    """Torso and leg depth generators on their own keypoints' 2D, plus a whole-pose elevation head.

    forward(poses2d (B,16,2) "elepose"-normalised) -> {"depth": (B,16), "elevation": (B,)}.
    """

    def __init__(
        self,
        width: int = 1024,
        blocks: int = 3,
        elevation_width: int | None = None,
        elevation_blocks: int | None = None,
        min_depth: float = 1.0,
        depth_offset: float = normalization.ELEPOSE_DEPTH_OFFSET,
    ) -> None:
        super().__init__()
        torso, legs = list(skeleton.TORSO), list(skeleton.LEGS)
        if sorted(torso + legs) != list(range(skeleton.NUM_JOINTS)):
            raise ValueError("skeleton.TORSO and skeleton.LEGS must partition the joints")
        self.register_buffer("torso_idx", torch.tensor(torso, dtype=torch.long), persistent=False)
        self.register_buffer("legs_idx", torch.tensor(legs, dtype=torch.long), persistent=False)
        order = torch.empty(skeleton.NUM_JOINTS, dtype=torch.long)
        order[torso + legs] = torch.arange(skeleton.NUM_JOINTS)
        self.register_buffer("order", order, persistent=False)
        mask = torch.ones(skeleton.NUM_JOINTS)
        mask[skeleton.ROOT] = 0.0
        self.register_buffer("root_mask", mask, persistent=False)
        self.torso = residual_mlp(2 * len(torso), len(torso), width, blocks)
        self.legs = residual_mlp(2 * len(legs), len(legs), width, blocks)
        self.elevation = residual_mlp(
            2 * skeleton.NUM_JOINTS,
            1,
            int(elevation_width or width),
            int(blocks if elevation_blocks is None else elevation_blocks),
        )
        self.min_depth = float(min_depth)
        self.depth_offset = float(depth_offset)

    def forward(self, poses2d: Tensor) -> dict[str, Tensor]:
        b = poses2d.shape[0]
        d_torso = self.torso(poses2d.index_select(1, self.torso_idx).reshape(b, -1))
        d_legs = self.legs(poses2d.index_select(1, self.legs_idx).reshape(b, -1))
        depth = torch.cat([d_torso, d_legs], dim=1).index_select(1, self.order) * self.root_mask
        depth = torch.clamp(depth, min=self.min_depth - self.depth_offset)
        return {"depth": depth, "elevation": self.elevation(poses2d.reshape(b, -1))[:, 0]}


class MeanLifter(nn.Module):
    """Mean depth and elevation of several lifters (the distillation target of ``distill.teachers``)."""

    def __init__(self, nets: list[nn.Module]) -> None:
        super().__init__()
        self.nets = nn.ModuleList(nets)

    def forward(self, poses2d: torch.Tensor) -> dict[str, torch.Tensor]:
        outs = [n(poses2d) for n in self.nets]
        return {
            "depth": torch.stack([o["depth"] for o in outs]).mean(0),
            "elevation": torch.stack([o["elevation"] for o in outs]).mean(0),
        }
