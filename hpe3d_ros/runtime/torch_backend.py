"""PyTorch backend, for debugging: run a training checkpoint (.pt from ``hpe3d train``) without
exporting it to ONNX, through an installed *torch model loader*.

Model files never run code while they load: the file is first read with
``torch.load(weights_only=True)`` (PyTorch's restricted unpickler: tensors and plain containers,
no callables), and anything it refuses is refused here before any loader sees it. TorchScript
archives and ``torch.export`` programs (.pt2) are not run at all: both carry code and pickles
(``torch.jit.load`` compiles the archive's code; ``torch.export.load`` falls back to a full
``torch.load``); export the model to ONNX (``hpe3d export``) instead.

Loaders are plug-ins found through the entry-point group ``hpe3d_ros.torch_loaders`` (setup.py
registers ``training.torch_loader:load_checkpoint_lifter``), so this runtime never imports the
training code: an install without it says that a checkpoint needs a loader. A loader is
``loader(path, device) -> TorchModel | None`` (None: not my file).

torch is imported only when this backend is built. A loaded model carries no manifest file: the
backend derives one from the loader's normalisation (``manifest``), which the Lifter validates
like any other.
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
        f"{path}: no torch model loader reads it (entry points {LOADER_GROUP!r}: {names}); a training checkpoint needs "
        "the training package (`pip install .` registers its loader), or export it with `hpe3d export`"
    )


def zip_names(path: Path) -> list[str]:
    """The member names of a zip archive ([] when ``path`` is not one)."""
    try:
        with zipfile.ZipFile(path) as z:
            return z.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return []


def is_torchscript(path: Path) -> bool:
    """TorchScript archives hold ``code/`` and ``constants.pkl``; torch.save files do not."""
    return any(n.endswith("/constants.pkl") or "/code/" in n for n in zip_names(path))


def is_torch_export(path: Path) -> bool:
    """A ``torch.export`` program (.pt2 archive), whatever its file name."""
    names = zip_names(path)
    return any(n.endswith(("archive_format", "serialized_exported_program.json")) or "/models/" in n for n in names)


def refuse_code(path: Path, torch) -> None:
    """Refuse, before anything loads it, a file that would run code: TorchScript, torch.export
    programs, and anything ``torch.load(weights_only=True)`` refuses (a pickle calling a function)."""
    fix = "export the model to ONNX with `hpe3d export` and run that"
    if path.suffix == ".pt2" or is_torch_export(path):
        raise ModelInterfaceError(
            f"{path}: torch.export programs (.pt2) are not run: loading one can execute a pickle; {fix}"
        )
    if is_torchscript(path):
        raise ModelInterfaceError(f"{path}: TorchScript archives are not run: they carry code and pickles; {fix}")
    try:
        torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - the restricted unpickler raises several types for what it refuses
        text = str(e).strip().splitlines()
        raise ModelInterfaceError(
            f"{path}: not a plain torch checkpoint (tensors and containers only; torch.load(weights_only=True) says: "
            f"{type(e).__name__}: {text[0][:300] if text else ''}); {fix}"
        ) from e


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
        refuse_code(self.model_path, torch)
        loaded = load_torch_model(self.model_path, self.device)
        self.module = loaded.module.eval()
        self.providers = [f"{self.device} ({loaded.kind})"]
        names = self._probe_outputs()
        self.output_names = check_output_names(names, str(self.model_path))
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
