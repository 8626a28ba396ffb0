"""The ElePose lifter (Wandt et al. 2022): a residual MLP with a depth head and a parallel
camera-elevation head.

Layout as in the authors' ``DepthAngleEstimator``: an input layer to ``width``, ``common_blocks``
shared residual blocks, then per head ``head_blocks`` residual blocks (each of two ``width``-wide
linear layers with leaky ReLU) and a linear output. Input: (B, 16, 2) poses in the "elepose"
normalisation. Output dict: ``depth`` (B, 16) in that normalisation's units with the root at 0 and
``depth + D >= min_depth`` (the authors clamp at 1), and ``elevation`` (B,) radians (camera.py
convention: downward pitch) when the elevation head is on.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from hpe3d_ros import normalization, skeleton


class ResBlock(nn.Module):
    """x + act(L2(act(L1(x))))."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.l1 = nn.Linear(width, width)
        self.l2 = nn.Linear(width, width)
        self.act = nn.LeakyReLU()

    def forward(self, x: Tensor) -> Tensor:
        return x + self.act(self.l2(self.act(self.l1(x))))


def _path(width: int, blocks: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for _ in range(blocks):
        layers += [ResBlock(width), nn.LeakyReLU()]
    return nn.Sequential(*layers)


class EleposeLifter(nn.Module):
    """forward(poses2d (B,16,2)) -> {"depth": (B,16), "elevation": (B,) if the head is on}."""

    def __init__(
        self,
        width: int = 1024,
        common_blocks: int = 1,
        head_blocks: int = 2,
        elevation_head: bool = True,
        min_depth: float = 1.0,
        depth_offset: float = normalization.ELEPOSE_DEPTH_OFFSET,
    ) -> None:
        super().__init__()
        j = skeleton.NUM_JOINTS
        self.elevation_head = bool(elevation_head)
        self.depth_offset = float(depth_offset)
        self.min_depth = float(min_depth)
        self.inp = nn.Linear(2 * j, width)
        self.common = _path(width, common_blocks)
        self.depth_path = _path(width, head_blocks)
        self.depth_out = nn.Linear(width, j)
        if self.elevation_head:
            self.elev_path = _path(width, head_blocks)
            self.elev_out = nn.Linear(width, 1)
        mask = torch.ones(j)
        mask[skeleton.ROOT] = 0.0
        self.register_buffer("root_mask", mask)

    def forward(self, poses2d: Tensor) -> dict[str, Tensor]:
        x = self.common(self.inp(poses2d.reshape(poses2d.shape[0], -1)))
        depth = self.depth_out(self.depth_path(x)) * self.root_mask
        # z = depth + D stays in front of the camera (the authors clamp z at 1).
        depth = torch.clamp(depth, min=self.min_depth - self.depth_offset)
        out = {"depth": depth}
        if self.elevation_head:
            out["elevation"] = self.elev_out(self.elev_path(x))[:, 0]
        return out

    @classmethod
    def from_config(cls, cfg: dict | None) -> "EleposeLifter":
        """Build from the ``model`` config mapping; unknown keys are an error."""
        cfg = dict(cfg or {})
        allowed = {"width", "common_blocks", "head_blocks", "elevation_head", "min_depth"}
        unknown = set(cfg) - allowed
        if unknown:
            raise ValueError(f"model config: unknown keys {sorted(unknown)} (allowed: {sorted(allowed)})")
        return cls(**cfg)
