"""Pick and build a lifter backend.

"auto" takes TensorRT (importable and a CUDA GPU present), then ONNX Runtime with the CUDA
provider (provider installed and a GPU present), then ONNX Runtime on the CPU; a candidate that
fails to start is logged and the next one tried. A PyTorch file (.pt/.pth/.pt2/.ts/.ckpt) always goes
to the torch backend. The chosen backend's ``why`` says what was taken and why the others were not.
"""
from __future__ import annotations

import importlib.util
import logging
import os
import sys
from pathlib import Path

from .base import BACKEND_NAMES, Backend, BackendUnavailable

log = logging.getLogger(__name__)

TORCH_SUFFIXES = (".pt", ".pth", ".pt2", ".ts", ".ckpt")
CUDA_PROVIDER = "CUDAExecutionProvider"


def tensorrt_importable() -> bool:
    """True when the ``tensorrt`` Python package is installed (without importing it)."""
    return importlib.util.find_spec("tensorrt") is not None


def cuda_gpu_present() -> bool:
    """True when an NVIDIA GPU is visible: the driver lists one, or an already-imported torch sees one.

    Checked without importing torch or CUDA libraries, so "auto" costs nothing on a CPU-only machine.
    """
    if os.environ.get("CUDA_VISIBLE_DEVICES", None) in ("", "-1"):
        return False
    gpus = Path("/proc/driver/nvidia/gpus")
    if gpus.is_dir() and any(gpus.iterdir()):
        return True
    torch = sys.modules.get("torch")
    if torch is not None:
        try:
            return bool(torch.cuda.is_available())
        except Exception:  # noqa: BLE001 - whatever breaks the probe, there is no usable GPU
            return False
    return Path("/dev/nvidia0").exists()


def ort_providers() -> list[str]:
    """Execution providers of the installed onnxruntime ([] when it is not installed)."""
    from .onnxruntime_backend import available_providers

    return available_providers()


def auto_candidates(
    model_suffix: str, trt_ok: bool, gpu: bool, providers: list[str]
) -> tuple[list[tuple[str, dict, str]], list[str]]:
    """The "auto" decision, as a pure function of what this machine has.

    Returns (candidates in order of preference as (backend, options, reason), reasons for skipping the others).
    """
    if model_suffix in TORCH_SUFFIXES:
        return [("torch", {}, f"{model_suffix} is a PyTorch file")], []
    candidates: list[tuple[str, dict, str]] = []
    skipped: list[str] = []
    if not trt_ok:
        skipped.append("tensorrt not importable")
    elif not gpu:
        skipped.append("tensorrt importable but no CUDA GPU")
    else:
        candidates.append(("tensorrt", {}, "tensorrt importable and a CUDA GPU present"))
    if CUDA_PROVIDER in providers and gpu:
        candidates.append(("onnxruntime", {"device": "cuda"}, "onnxruntime has the CUDA provider and a GPU is present"))
    elif CUDA_PROVIDER in providers:
        skipped.append("onnxruntime has the CUDA provider but no GPU is present")
    else:
        skipped.append("onnxruntime has no CUDA provider")
    candidates.append(("onnxruntime", {"device": "cpu"}, "onnxruntime on the CPU"))
    return candidates, skipped


_OPTION_KEYS = {
    "onnxruntime": ("device", "intra_op_threads", "allow_spinning", "cuda_device_id"),
    "tensorrt": (
        "engine_file_path",
        "force_engine_update",
        "max_batch",
        "opt_batch",
        "fp16",
        "workspace_mb",
        "cuda_device_id",
    ),
    "torch": ("torch_device", "torch_threads"),
}


def _build(kind: str, model_path: Path, options: dict) -> Backend:
    if kind not in _OPTION_KEYS:
        raise ValueError(f"unknown backend {kind!r}; expected 'auto' or one of {BACKEND_NAMES}")
    opts = {k: v for k, v in options.items() if v is not None and k in _OPTION_KEYS[kind]}
    if kind == "onnxruntime":
        from .onnxruntime_backend import OnnxRuntimeBackend

        return OnnxRuntimeBackend(model_path, **opts)
    if kind == "tensorrt":
        from .tensorrt_backend import TensorRTBackend

        return TensorRTBackend(model_path, **opts)
    from .torch_backend import TorchBackend

    return TorchBackend(model_path, **{k.replace("torch_", ""): v for k, v in opts.items()})


def make_backend(model_path: str | Path, backend: str = "auto", **options) -> Backend:
    """Build the backend named ``backend`` ("auto" or one of BACKEND_NAMES) for ``model_path``.

    ``options`` go to the backend that takes them and are ignored by the others:
    ONNX Runtime ``device``, ``intra_op_threads``, ``allow_spinning``, ``cuda_device_id``;
    TensorRT ``engine_file_path``, ``force_engine_update``, ``max_batch``, ``opt_batch``, ``fp16``,
    ``workspace_mb``; torch ``torch_device``, ``torch_threads``.
    """
    model_path = Path(model_path)
    if backend != "auto":
        b = _build(backend, model_path, options)
        b.why = b.why or f"backend {backend!r} requested"
        log.info("lifter backend: %s", b.describe())
        return b
    candidates, skipped = auto_candidates(model_path.suffix, tensorrt_importable(), cuda_gpu_present(), ort_providers())
    for i, (kind, extra, reason) in enumerate(candidates):
        try:
            b = _build(kind, model_path, {**options, **extra})
        except (BackendUnavailable, ImportError, RuntimeError) as e:
            if i == len(candidates) - 1:
                raise
            skipped.append(f"{kind} {extra.get('device', '')} failed: {e}".replace("  ", " "))
            log.warning("lifter backend: %s unusable, trying the next: %s", kind, e)
            continue
        b.why = "auto: " + "; ".join(skipped + [f"took {reason}"])
        log.info("lifter backend: %s", b.describe())
        return b
    raise AssertionError("unreachable: the CPU candidate always exists")
