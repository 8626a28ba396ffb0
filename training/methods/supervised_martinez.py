"""Supervised reference: the Martinez et al. residual MLP trained on depth targets with 3D ground truth.

Predicts per-joint depth (contract 2) from normalised 2D; the loss is the MSE on
``normalization.depth_target`` plus, optionally (``optim.pose_weight``), the MSE of the lifted 3D
shape (``lift_to_3d``) against the target shape made from the same targets.
"""
from __future__ import annotations

import torch
from torch import nn

from hpe3d_ros import normalization
from training.methods import Method, register
from training.models.martinez import lifter_from_config


@register("supervised_martinez")
class SupervisedMartinez(Method):
    normalization = "tipsy"
    needs_3d = True
    defaults = {
        "normalization": "tipsy",
        "model": {"hidden": 1024, "blocks": 2, "dropout": 0.5, "activation": "relu", "batchnorm": True, "tanh": False},
        "optim": {"lr": 1e-3, "weight_decay": 0.0, "lr_decay": 0.96, "pose_weight": 0.0, "grad_clip": 1.0},
    }

    def __init__(self, config: dict, device: torch.device) -> None:
        super().__init__(config, device)
        self.normalization = config.get("normalization", "tipsy")
        if self.normalization not in normalization.KINDS:
            raise ValueError(f"normalization must be one of {normalization.KINDS}, got {self.normalization!r}")
        self.net = lifter_from_config(config["model"]).to(device)
        o = config["optim"]
        self.opt = torch.optim.Adam(self.net.parameters(), lr=float(o["lr"]), weight_decay=float(o["weight_decay"]))
        self.sched = torch.optim.lr_scheduler.ExponentialLR(self.opt, gamma=float(o["lr_decay"]))
        self.pose_weight = float(o["pose_weight"])
        self.grad_clip = float(o.get("grad_clip") or 0.0)

    def modules(self) -> dict[str, nn.Module]:
        return {"lifter": self.net}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"adam": self.opt}

    def schedulers(self) -> dict:
        return {"exp": self.sched}

    def train_step(self, batch: dict[str, torch.Tensor]) -> dict[str, float]:
        pred = self.net(batch["poses2d"])["depth"]
        loss_depth = torch.mean((pred - batch["depth"]) ** 2)
        loss = loss_depth
        out = {"loss": 0.0, "depth_mse": float(loss_depth.detach())}
        if self.pose_weight > 0:
            p3 = normalization.lift_to_3d(batch["poses2d"], pred, self.normalization)
            t3 = normalization.lift_to_3d(batch["poses2d"], batch["depth"], self.normalization)
            loss_pose = torch.mean(torch.sum((p3 - t3) ** 2, dim=-1))
            loss = loss + self.pose_weight * loss_pose
            out["pose_mse"] = float(loss_pose.detach())
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        if self.grad_clip > 0:
            nn.utils.clip_grad_norm_(self.net.parameters(), self.grad_clip)
        self.opt.step()
        out["loss"] = float(loss.detach())
        return out

    def end_epoch(self, epoch: int) -> None:
        self.sched.step()

    def lifter(self) -> nn.Module:
        return self.net
