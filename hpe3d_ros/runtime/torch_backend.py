"""PyTorch backend, for debugging: run a training checkpoint (.pt from ``hpe3d train``, rebuilt
through the training method registry, contract (3)), a ``torch.export`` program (.pt2) or a
TorchScript file, without exporting to ONNX.

torch is imported only when this backend is built. A checkpoint carries no manifest file: the
backend derives one from its method's normalisation (``manifest``), which the Lifter validates
like any other; .pt2 and TorchScript files need their manifest beside them (``foo.json`` for ``foo.pt2``).
"""
from __future__ import annotations

import logging
import zipfile
from pathlib import Path

import numpy as np

from .. import skeleton
from ..manifest import build_manifest, file_sha256
from .base import INPUT_NAME, OUTPUT_NAMES, Backend, BackendUnavailable, ModelInterfaceError, check_batch, check_output_names, check_outputs

log = logging.getLogger(__name__)

J = skeleton.NUM_JOINTS


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
            raise BackendUnavailable(f"torch is not installed ({e}); the torch backend is for debugging checkpoints") from e
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
                raise ModelInterfaceError(f"{self.model_path}: not a torch.export program ({type(e).__name__}: {e})") from e
            kind = "torch.export"
        elif is_torchscript(self.model_path):
            self.module = torch.jit.load(str(self.model_path), map_location=self.device).eval()
            kind = "torchscript"
        else:
            try:
                from training.trainer import method_from_checkpoint
            except ImportError as e:
                raise BackendUnavailable(f"{self.model_path}: a training checkpoint needs the training package ({e})") from e
            method, _ = method_from_checkpoint(self.model_path, self.device)
            self.module = method.lifter().eval()
            kind = f"checkpoint of method {getattr(method, 'method_name', type(method).__name__)!r}"
            self._normalization = method.normalization
        self.providers = [f"{self.device} ({kind})"]
        names = self._probe_outputs()
        self.output_names = check_output_names(names, str(self.model_path))
        if kind not in ("torchscript", "torch.export"):
            self.manifest = build_manifest(
                name=self.model_path.stem,
                normalization_kind=self._normalization,
                inputs=[{"name": INPUT_NAME, "shape": ["batch", J, 2], "dtype": "float32"}],
                outputs=[{"name": n} for n in self.output_names],
                training={"checkpoint": str(self.model_path)},
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
            raise ModelInterfaceError(f"{self.model_path}: the model does not run on a (1, {J}, 2) input ({type(e).__name__}: {e})") from e
        return list(out)

    def infer(self, poses2d: np.ndarray) -> dict[str, np.ndarray]:
        x = check_batch(poses2d)
        out = self._forward(x)
        res = {k: out[k].detach().float().cpu().numpy() for k in self.output_names}
        return check_outputs(res, x.shape[0], str(self.model_path))

    def close(self) -> None:
        self.module = None
