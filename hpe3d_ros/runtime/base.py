"""The one interface every lifter backend implements (ONNX Runtime, TensorRT, PyTorch).

A backend runs the model of contract (1) (docs/model_interface.md): input ``poses2d`` float32
(B, 16, 2), already normalised; outputs ``depth`` (B, 16) and optionally ``elevation`` (B,) and
``nll`` (B,). It knows nothing about pixels, cameras or metres: that is ``hpe3d_ros.lifting``.
"""
from __future__ import annotations

import abc

import numpy as np

from .. import skeleton

INPUT_NAME = "poses2d"
OUTPUT_NAMES = ("depth", "elevation", "nll")
REQUIRED_OUTPUTS = ("depth",)
BACKEND_NAMES = ("onnxruntime", "tensorrt", "torch")


class BackendUnavailable(RuntimeError):
    """A backend cannot run here (library missing, no GPU); the message says why and what to do."""


class ModelInterfaceError(ValueError):
    """A model's inputs or outputs do not follow the lifter interface (docs/model_interface.md)."""


class Backend(abc.ABC):
    """A loaded lifter model, ready to run batches of normalised 2D poses."""

    #: one of BACKEND_NAMES
    name: str = ""
    #: execution providers or devices actually in use, e.g. ["CPUExecutionProvider"] or ["cuda:0 (fp16)"]
    providers: list[str]
    #: why this backend/provider was taken (filled in by ``select.make_backend``)
    why: str = ""
    #: the model's outputs among OUTPUT_NAMES, in the model's order
    output_names: tuple[str, ...] = ()

    @abc.abstractmethod
    def infer(self, poses2d: np.ndarray) -> dict[str, np.ndarray]:
        """Run one batch: float32 (B, 16, 2) -> {"depth": (B, 16), ["elevation": (B,)], ["nll": (B,)]}.

        The returned arrays may be reused buffers: copy them if you keep them past the next call.
        """

    def close(self) -> None:
        """Free the model (sessions, engines, device memory)."""

    def describe(self) -> str:
        """One line for logs and diagnostics."""
        return f"{self.name} [{', '.join(self.providers)}]" + (f": {self.why}" if self.why else "")

    def __enter__(self) -> "Backend":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def check_output_names(names: list[str] | tuple[str, ...], where: str) -> tuple[str, ...]:
    """Keep the interface's outputs among a model's outputs; a model without ``depth`` is refused."""
    missing = [n for n in REQUIRED_OUTPUTS if n not in names]
    if missing:
        raise ModelInterfaceError(f"{where}: model lacks required output(s) {missing}; it has {list(names)}")
    return tuple(n for n in names if n in OUTPUT_NAMES)


def check_batch(poses2d: np.ndarray) -> np.ndarray:
    """Validate a batch for ``infer`` and return it as C-contiguous float32 (no copy when it already is)."""
    if poses2d.ndim != 3 or poses2d.shape[1:] != (skeleton.NUM_JOINTS, 2):
        raise ValueError(f"{INPUT_NAME} must have shape (B, {skeleton.NUM_JOINTS}, 2), got {poses2d.shape}")
    return np.ascontiguousarray(poses2d, dtype=np.float32)


def check_outputs(out: dict[str, np.ndarray], batch: int, where: str) -> dict[str, np.ndarray]:
    """Check the shapes a model returned; flatten (B, 1) scalars to (B,)."""
    depth = out["depth"]
    if depth.shape != (batch, skeleton.NUM_JOINTS):
        raise ModelInterfaceError(
            f"{where}: output 'depth' has shape {depth.shape}, expected ({batch}, {skeleton.NUM_JOINTS})"
        )
    for key in ("elevation", "nll"):
        if key in out:
            v = out[key]
            if v.shape == (batch, 1):
                out[key] = v = v.reshape(batch)
            if v.shape != (batch,):
                raise ModelInterfaceError(f"{where}: output {key!r} has shape {v.shape}, expected ({batch},)")
    return out
