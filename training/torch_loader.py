"""The torch model loader of training checkpoints: how the runtime's torch backend runs a ``.pt``
from ``hpe3d train`` (rebuilt through the method registry) without importing training itself.

setup.py registers ``load_checkpoint_lifter`` in the entry-point group ``hpe3d_ros.torch_loaders``
(hpe3d_ros/runtime/torch_backend.py); ``Lifter("runs/x/best.pt")``, ``hpe3d eval --model
runs/x/best.pt`` and ``hpe3d lift --backend torch`` all come here.
"""
from __future__ import annotations

from pathlib import Path

import torch

from hpe3d_ros.runtime.torch_backend import TorchModel
from training.trainer import method_from_checkpoint


def load_checkpoint_lifter(path: str | Path, device: str | torch.device = "cpu") -> TorchModel:
    """The lifter of a training checkpoint (eval mode) with its normalisation; ValueError if ``path``
    is not an hpe3d training checkpoint."""
    method, _ = method_from_checkpoint(path, device)
    name = getattr(method, "method_name", type(method).__name__)
    return TorchModel(module=method.lifter().eval(), normalization=method.normalization,
                      kind=f"checkpoint of method {name!r}", training={"checkpoint": str(path)})
