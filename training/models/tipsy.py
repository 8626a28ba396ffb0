"""TIPSy-GAN networks: the torso and leg generators as one whole-body lifter, the solo generator,
the 2D discriminator. Built from training.models.martinez (linear, batch norm, activation, then
residual blocks; tanh output).
"""
from __future__ import annotations

import torch
from torch import nn

from hpe3d_ros import skeleton
from training.models.martinez import MartinezMLP, PartLifter


def _mlp_settings(cfg: dict) -> dict:
    keys = ("hidden", "blocks", "dropout", "activation", "batchnorm", "negative_slope")
    return {k: cfg[k] for k in keys if k in cfg}


def _zero_root(depth: torch.Tensor) -> torch.Tensor:
    """Depth (B, 16) with the root's set to 0: depth is root-relative by construction.

    The root's 2D is always (0, 0) after root-centring and ``lift_to_3d`` subtracts the root's
    depth; leaving it free would make the leg generator's root-relative depth depend on the torso
    generator's (arbitrary) pelvis output, which the leg generator cannot see. The paper's code
    likewise predicts depth for the joints other than the root only.
    """
    keep = torch.ones(depth.shape[-1], dtype=depth.dtype, device=depth.device)
    keep[skeleton.ROOT] = 0.0
    return depth * keep


class TorsoLegsLifter(nn.Module):
    """TIPSy's two generators side by side: the torso generator reads the torso's 2D and predicts
    the torso's depth, the leg generator likewise for the legs (skeleton.TORSO / LEGS).

    forward(poses2d (B,16,2)) -> {"depth": (B,16)} (contract 2).
    """

    def __init__(self, **mlp) -> None:
        super().__init__()
        self.torso = PartLifter("torso", "torso", tanh=True, **mlp)
        self.legs = PartLifter("legs", "legs", tanh=True, **mlp)
        order = torch.empty(skeleton.NUM_JOINTS, dtype=torch.long)
        order[list(skeleton.TORSO) + list(skeleton.LEGS)] = torch.arange(skeleton.NUM_JOINTS)
        self.register_buffer("order", order, persistent=False)

    def depth(self, poses2d: torch.Tensor) -> torch.Tensor:
        """Per-joint depth (B, 16) in layout order, the root's fixed at 0 (see ``_zero_root``)."""
        both = torch.cat([self.torso(poses2d), self.legs(poses2d)], dim=1)
        return _zero_root(both.index_select(1, self.order))

    def forward(self, poses2d: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"depth": self.depth(poses2d)}


class WholeBodyLifter(nn.Module):
    """One generator for the whole pose (the solo baseline, and the distilled TIPSy student).

    forward(poses2d (B,16,2)) -> {"depth": (B,16)} (contract 2).
    """

    def __init__(self, tanh: bool = True, **mlp) -> None:
        super().__init__()
        self.body = PartLifter("all", "all", tanh=tanh, **mlp)

    def depth(self, poses2d: torch.Tensor) -> torch.Tensor:
        """Per-joint depth (B, 16), the root's fixed at 0 (see ``_zero_root``)."""
        return _zero_root(self.body(poses2d))

    def forward(self, poses2d: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"depth": self.depth(poses2d)}


class Discriminator(nn.Module):
    """2D pose discriminator: (B,16,2) -> probability that the pose is real (B,), sigmoid output.

    The losses use ``logits`` (numerically stable binary cross-entropy).
    """

    def __init__(self, hidden: int = 1024, blocks: int = 3, dropout: float = 0.0, activation: str = "relu",
                 batchnorm: bool = False, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.mlp = MartinezMLP(
            2 * skeleton.NUM_JOINTS, 1, hidden, blocks, dropout, activation, batchnorm, False, negative_slope
        )

    def logits(self, poses2d: torch.Tensor) -> torch.Tensor:
        """Pre-sigmoid scores (B,)."""
        return self.mlp(poses2d.flatten(1))[:, 0]

    def forward(self, poses2d: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.logits(poses2d))


def build_generator(parts: str, model_cfg: dict) -> nn.Module:
    """``parts`` "torso_legs" -> TorsoLegsLifter, "solo" -> WholeBodyLifter, from a ``model`` mapping."""
    mlp = _mlp_settings(model_cfg)
    if parts == "torso_legs":
        return TorsoLegsLifter(**mlp)
    if parts == "solo":
        return WholeBodyLifter(tanh=True, **mlp)
    raise ValueError(f"unknown generator layout {parts!r}; expected torso_legs or solo")


def build_discriminator(model_cfg: dict) -> Discriminator:
    """The discriminator from a ``model`` mapping: one residual block fewer than the generators
    unless ``disc_blocks`` says otherwise; ``disc_hidden`` defaults to ``hidden``."""
    blocks = model_cfg.get("disc_blocks")
    if blocks is None:
        blocks = max(int(model_cfg.get("blocks", 4)) - 1, 0)
    return Discriminator(
        hidden=int(model_cfg.get("disc_hidden") or model_cfg.get("hidden", 1024)),
        blocks=int(blocks),
        dropout=float(model_cfg.get("disc_dropout", 0.0)),
        activation=model_cfg.get("activation", "relu"),
        batchnorm=bool(model_cfg.get("disc_batchnorm", False)),
    )


def build_student(model_cfg: dict) -> WholeBodyLifter:
    """The whole-body student of the distillation stage (``student_hidden`` / ``student_blocks``
    override the generator sizes)."""
    mlp = _mlp_settings(model_cfg)
    if model_cfg.get("student_hidden"):
        mlp["hidden"] = int(model_cfg["student_hidden"])
    if model_cfg.get("student_blocks") is not None:
        mlp["blocks"] = int(model_cfg["student_blocks"])
    return WholeBodyLifter(tanh=True, **mlp)
