"""The residual MLP of Martinez et al. (2017), "A simple yet effective baseline for 3d human pose
estimation": linear -> batch norm -> activation -> dropout, then residual blocks of two such
layers, then an output linear (optionally tanh).

``MartinezMLP`` works on flat features; ``PartLifter`` reads the 2D of a subset of joints and
predicts the depth of a (possibly other) subset, which is what TIPSy's torso and leg generators
are; ``MartinezLifter`` is a whole-body lifter per contract (2) (dict with "depth" and an optional
"elevation" head).
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from hpe3d_ros import skeleton


def make_activation(name: str, negative_slope: float = 0.01) -> nn.Module:
    """``relu`` or ``leaky_relu`` (with ``negative_slope``)."""
    if name == "relu":
        return nn.ReLU()
    if name in ("leaky_relu", "lrelu", "leakyrelu"):
        return nn.LeakyReLU(negative_slope)
    raise ValueError(f"unknown activation {name!r}; expected relu or leaky_relu")


class LinearBlock(nn.Sequential):
    """linear -> batch norm (optional) -> activation -> dropout."""

    def __init__(
        self, n_in: int, n_out: int, activation: str, dropout: float, batchnorm: bool, negative_slope: float = 0.01
    ):
        layers: list[nn.Module] = [nn.Linear(n_in, n_out)]
        if batchnorm:
            layers.append(nn.BatchNorm1d(n_out))
        layers.append(make_activation(activation, negative_slope))
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        super().__init__(*layers)


class ResidualBlock(nn.Module):
    """Two ``LinearBlock``s with a skip connection around them."""

    def __init__(self, width: int, activation: str, dropout: float, batchnorm: bool, negative_slope: float = 0.01):
        super().__init__()
        self.layers = nn.Sequential(
            LinearBlock(width, width, activation, dropout, batchnorm, negative_slope),
            LinearBlock(width, width, activation, dropout, batchnorm, negative_slope),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.layers(x)


class MartinezMLP(nn.Module):
    """Flat residual MLP: (B, in_features) -> (B, out_features)."""

    def __init__(
        self,
        in_features: int,
        out_features: int,
        hidden: int = 1024,
        blocks: int = 2,
        dropout: float = 0.5,
        activation: str = "relu",
        batchnorm: bool = True,
        tanh: bool = False,
        negative_slope: float = 0.01,
    ) -> None:
        super().__init__()
        if in_features < 1 or out_features < 1 or hidden < 1 or blocks < 0:
            raise ValueError(
                f"bad MartinezMLP sizes: in={in_features} out={out_features} hidden={hidden} blocks={blocks}"
            )
        self.input = LinearBlock(in_features, hidden, activation, dropout, batchnorm, negative_slope)
        self.blocks = nn.Sequential(
            *[ResidualBlock(hidden, activation, dropout, batchnorm, negative_slope) for _ in range(blocks)]
        )
        self.output = nn.Linear(hidden, out_features)
        self.tanh = tanh

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The last hidden layer (B, hidden): for extra heads."""
        return self.blocks(self.input(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.output(self.features(x))
        return torch.tanh(y) if self.tanh else y


def _indices(joints: Sequence[int] | str | None) -> list[int]:
    if joints is None or joints == "all":
        return list(range(skeleton.NUM_JOINTS))
    if joints == "torso":
        return list(skeleton.TORSO)
    if joints == "legs":
        return list(skeleton.LEGS)
    idx = [int(j) for j in joints]
    if not idx or min(idx) < 0 or max(idx) >= skeleton.NUM_JOINTS or len(set(idx)) != len(idx):
        raise ValueError(f"joint subset must be distinct indices in [0, {skeleton.NUM_JOINTS}), got {joints}")
    return idx


class PartLifter(nn.Module):
    """Reads the 2D of ``in_joints`` from (B, 16, 2) and predicts the depth of ``out_joints`` (B, len(out)).

    ``in_joints`` / ``out_joints``: index lists, or "all", "torso", "legs" (skeleton.TORSO / LEGS).
    """

    def __init__(
        self, in_joints: Sequence[int] | str | None = None, out_joints: Sequence[int] | str | None = None, **mlp
    ) -> None:
        super().__init__()
        self.register_buffer("in_idx", torch.tensor(_indices(in_joints), dtype=torch.long), persistent=False)
        self.register_buffer(
            "out_idx",
            torch.tensor(_indices(out_joints if out_joints is not None else in_joints), dtype=torch.long),
            persistent=False,
        )
        self.mlp = MartinezMLP(2 * len(self.in_idx), len(self.out_idx), **mlp)

    def forward(self, poses2d: torch.Tensor) -> torch.Tensor:
        x = poses2d.index_select(1, self.in_idx).flatten(1)
        return self.mlp(x)


class MartinezLifter(nn.Module):
    """Whole-body lifter per contract (2): forward(poses2d (B,16,2)) -> {"depth": (B,16)[, "elevation": (B,)]}.

    ``elevation_head``: a parallel linear head on the last hidden layer predicting the camera
    elevation in radians (``elevation_scale * tanh``, so it stays in a physical range).
    """

    def __init__(
        self,
        hidden: int = 1024,
        blocks: int = 2,
        dropout: float = 0.5,
        activation: str = "relu",
        batchnorm: bool = True,
        tanh: bool = False,
        negative_slope: float = 0.01,
        elevation_head: bool = False,
        elevation_scale: float = 1.5707963,
    ) -> None:
        super().__init__()
        j = skeleton.NUM_JOINTS
        self.mlp = MartinezMLP(2 * j, j, hidden, blocks, dropout, activation, batchnorm, tanh, negative_slope)
        self.elevation = nn.Linear(hidden, 1) if elevation_head else None
        self.elevation_scale = float(elevation_scale)

    def forward(self, poses2d: torch.Tensor) -> dict[str, torch.Tensor]:
        h = self.mlp.features(poses2d.flatten(1))
        depth = self.mlp.output(h)
        if self.mlp.tanh:
            depth = torch.tanh(depth)
        out = {"depth": depth}
        if self.elevation is not None:
            out["elevation"] = self.elevation_scale * torch.tanh(self.elevation(h)[:, 0])
        return out


def lifter_from_config(model: dict) -> MartinezLifter:
    """A MartinezLifter from a config's ``model`` mapping (keys as the constructor's)."""
    try:
        return MartinezLifter(**model)
    except TypeError as e:
        raise ValueError(f"model settings do not fit MartinezLifter: {e}") from e
