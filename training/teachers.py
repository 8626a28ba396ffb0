"""Teachers of "ours" (training/methods/ours.py, ``distill.teachers``): the frozen lifting network of an
elepose or ours checkpoint, and the plausibility of a network's predictions under one scorer (the
3D-free measure training.studies.ours_teachers ranks teachers by).
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from training.trainer import method_from_checkpoint


def method_network(method, where: str) -> nn.Module:
    """The bare lifting network (no scorer) of an elepose or ours method; ``where`` names it in errors."""
    net = method._net() if hasattr(method, "_net") else getattr(method, "net", None)
    if not isinstance(net, nn.Module):
        raise ValueError(f"{where}: neither an elepose nor an ours checkpoint")
    return net


def network(path: str | Path, device: str | torch.device = "cpu") -> nn.Module:
    """The lifting network of an elepose or ours checkpoint, frozen, eval mode."""
    method, _ = method_from_checkpoint(path, device)
    if method.normalization != "elepose":
        raise ValueError(f"{path}: normalisation {method.normalization!r}, teachers must use 'elepose'")
    return method_network(method, str(path)).eval().requires_grad_(False)


@torch.no_grad()
def plausibility(scorer: nn.Module, net: nn.Module, poses2d: torch.Tensor) -> float:
    """Mean scorer NLL of a network's predictions (lower = more plausible)."""
    total = 0.0
    for chunk in poses2d.split(2048):
        out = net(chunk)
        total += float(scorer(chunk, out["depth"], out.get("elevation")).sum())
    return total / len(poses2d)
