"""PyTorch backend, for debugging: run a ``torch.export`` program (.pt2), a TorchScript file, or any
other torch file that an installed *torch model loader* reads (a training checkpoint .pt from
``hpe3d train``: the training package registers its loader), without exporting to ONNX.

Loaders are plug-ins found through the entry-point group ``hpe3d_ros.torch_loaders`` (setup.py
registers ``training.torch_loader:load_checkpoint_lifter``), so this runtime never imports the
training code: an install without it runs TorchScript and .pt2 files and says that a checkpoint
needs a loader. A loader is ``loader(path, device) -> TorchModel | None`` (None: not my file).

torch is imported only when this backend is built. A loaded model carries no manifest file: the
backend derives one from the loader's normalisation (``manifest``), which the Lifter validates
like any other; .pt2 and TorchScript files need their manifest beside them (``foo.json`` for ``foo.pt2``).
"""
from __future__ import annotations

import logging
import zipfile
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .. import skeleton
from ..manifest import build_manifest, file_sha256
from .base import (
    INPUT_NAME,
    OUTPUT_NAMES,
    Backend,
    BackendUnavailable,
    ModelInterfaceError,
    check_batch,
    check_output_names,
    check_outputs,
)

log = logging.getLogger(__name__)

J = skeleton.NUM_JOINTS
#: The entry-point group of torch model loaders.
LOADER_GROUP = "hpe3d_ros.torch_loaders"


@dataclass
class TorchModel:
    """What a loader returns: a lifter module and what its manifest needs."""

    module: Any  # torch.nn.Module: forward(poses2d (B, 16, 2)) -> dict, or a tuple in OUTPUT_NAMES order
    normalization: str  # the normalisation kind of its input (hpe3d_ros.normalization)
    kind: str  # a short description for the providers line, e.g. "checkpoint of method 'elepose'"
    training: dict = field(default_factory=dict)  # the manifest's ``training`` field


def torch_loaders() -> list[tuple[str, Callable]]:
    """The installed torch model loaders as (entry point name, loader)."""
    return [(ep.name, ep.load()) for ep in entry_points(group=LOADER_GROUP)]


def load_torch_model(path: Path, device) -> TorchModel:
    """The first installed loader's model for ``path``; BackendUnavailable when none reads it."""
    loaders = torch_loaders()
    for _, loader in loaders:
        model = loader(path, device)
        if model is not None:
            return model
    names = ", ".join(name for name, _ in loaders) or "none installed"
    raise BackendUnavailable(
        f"{path}: neither TorchScript nor a torch.export program, and no torch model loader reads it "
        f"(entry points {LOADER_GROUP!r}: {names}); a training checkpoint needs the training package "
        "(`pip install .` registers its loader), or export it with `hpe3d export`"
    )


def is_torchscript(path: Path) -> bool:
    """TorchScript archives hold ``code/`` and ``constants.pkl``; torch.save files do not."""
    try:
        with zipfile.ZipFile(path) as z:
            return any(n.endswith("/constants.pkl") or "/code/" in n for n in z.namelist())
    except (zipfile.BadZipFile, OSError):
        return False


class TorchBackend(Backend):
    """Run a torch lifter (forward(poses2d) -> dict or tuple in OUTPUT_NAMES order) on ``device``."""

    name = "torch"

    def __init__(self, model_path: str | Path, device: str = "cpu", threads: int | None = None) -> None:
        try:
            import torch
        except ImportError as e:
            raise BackendUnavailable(
                f"torch is not installed ({e}); the torch backend is for debugging checkpoints"
            ) from e
        self.torch = torch
        self.model_path = Path(model_path)
        if not self.model_path.is_file():
            raise FileNotFoundError(f"{self.model_path}: no such model file")
        if threads:
            torch.set_num_threads(int(threads))
        self.device = torch.device(device)
        self.manifest: dict | None = None
        if self.model_path.suffix == ".pt2":
            try:
                self.module = torch.export.load(str(self.model_path)).module().to(self.device)
            except Exception as e:
                raise ModelInterfaceError(
                    f"{self.model_path}: not a torch.export program ({type(e).__name__}: {e})"
                ) from e
            kind = "torch.export"
        elif is_torchscript(self.model_path):
            self.module = torch.jit.load(str(self.model_path), map_location=self.device).eval()
            kind = "torchscript"
        else:
            loaded = load_torch_model(self.model_path, self.device)
            self.module = loaded.module.eval()
            kind = loaded.kind
        self.providers = [f"{self.device} ({kind})"]
        names = self._probe_outputs()
        self.output_names = check_output_names(names, str(self.model_path))
        if kind not in ("torchscript", "torch.export"):
            self.manifest = build_manifest(
                name=self.model_path.stem,
                normalization_kind=loaded.normalization,
                inputs=[{"name": INPUT_NAME, "shape": ["batch", J, 2], "dtype": "float32"}],
                outputs=[{"name": n} for n in self.output_names],
                training=loaded.training,
                model_sha256=file_sha256(self.model_path),
            )

    def _forward(self, x: np.ndarray) -> dict:
        with self.torch.inference_mode():
            out = self.module(self.torch.from_numpy(x).to(self.device))
        if isinstance(out, dict):
            return out
        if isinstance(out, (tuple, list)):
            return dict(zip(OUTPUT_NAMES, out))
        return {"depth": out}

    def _probe_outputs(self) -> list[str]:
        try:
            out = self._forward(np.zeros((1, J, 2), dtype=np.float32))
        except Exception as e:
            raise ModelInterfaceError(
                f"{self.model_path}: the model does not run on a (1, {J}, 2) input ({type(e).__name__}: {e})"
            ) from e
        return list(out)

    def infer(self, poses2d: np.ndarray) -> dict[str, np.ndarray]:
        x = check_batch(poses2d)
        out = self._forward(x)
        res = {k: out[k].detach().float().cpu().numpy() for k in self.output_names}
        return check_outputs(res, x.shape[0], str(self.model_path))

    def close(self) -> None:
        self.module = None
