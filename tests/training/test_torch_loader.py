"""training.torch_loader: the runtime's torch backend runs training checkpoints through the loader
that setup.py registers, without the runtime importing training."""
from __future__ import annotations

import numpy as np
import torch

from hpe3d_ros.lifting import Lifter
from hpe3d_ros.manifest import manifest_path
from hpe3d_ros.runtime.torch_backend import is_torchscript, torch_loaders
from training.config import resolve_config
from training.methods import create_method
from training.torch_loader import load_checkpoint_lifter
from training.trainer import CHECKPOINT_FORMAT


def test_the_loader_is_registered_for_the_runtime():
    loaders = dict(torch_loaders())
    assert loaders.get("training") is load_checkpoint_lifter, (
        f"entry point group hpe3d_ros.torch_loaders holds {loaders}: reinstall with `pip install --no-deps .`")


def test_training_checkpoint_via_method_registry(tmp_path):
    config = resolve_config({"method": "supervised_martinez", "model": {"hidden": 32, "blocks": 1}}, "test")
    method = create_method(config, "cpu")
    method.train(False)
    ckpt = tmp_path / "last.pt"
    torch.save(
        {
            "format": CHECKPOINT_FORMAT,
            "config": config,
            "modules": {k: m.state_dict() for k, m in method.modules().items()},
        },
        ckpt,
    )
    assert not is_torchscript(ckpt)
    assert not manifest_path(ckpt).exists()
    lifter = Lifter(ckpt)  # manifest derived from the method
    assert lifter.backend_name == "torch" and lifter.normalization == method.normalization
    x = np.random.default_rng(4).normal(0, 0.5, (6, 16, 2)).astype(np.float32)
    with torch.inference_mode():
        ref = method.lifter()(torch.from_numpy(x))
    np.testing.assert_allclose(lifter.infer_normalized(x)["depth"], ref["depth"].numpy(), atol=1e-6)
