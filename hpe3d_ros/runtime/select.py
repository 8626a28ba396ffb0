"""Pick and build a lifter backend: "auto" takes TensorRT (importable and a CUDA GPU present),
then ONNX Runtime with CUDA, then ONNX Runtime on the CPU; it logs which one it took and why.

A PyTorch file (.pt/.pth checkpoint or TorchScript) always goes to the torch backend.
"""
from __future__ import annotations

import importlib.util
import logging
import os
import sys
from pathlib import Path

from .base import BACKEND_NAMES, Backend, BackendUnavailable

log = logging.getLogger(__name__)

TORCH_SUFFIXES = (".pt", ".pth", ".ts", ".ckpt")


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
        except Exception:
            return False
    return Path("/dev/nvidia0").exists()


def _build(kind: str, model_path: Path, options: dict) -> Backend:
    opts = {k: v for k, v in options.items() if v is not None}
    if kind == "onnxruntime":
        from .onnxruntime_backend import OnnxRuntimeBackend

        keys = ("device", "intra_op_threads", "allow_spinning", "cuda_device_id")
        return OnnxRuntimeBackend(model_path, **{k: opts[k] for k in keys if k in opts})
    if kind == "tensorrt":
        from .tensorrt_backend import TensorRTBackend

        keys = ("engine_file_path", "force_engine_update", "max_batch", "opt_batch", "fp16", "workspace_mb", "cuda_device_id")
        return TensorRTBackend(model_path, **{k: opts[k] for k in keys if k in opts})
    if kind == "torch":
        from .torch_backend import TorchBackend

        keys = ("torch_device", "torch_threads")
        return TorchBackend(model_path, **{k.replace("torch_", ""): opts[k] for k in keys if k in opts})
    raise ValueError(f"unknown backend {kind!r}; expected 'auto' or one of {BACKEND_NAMES}")


def make_backend(model_path: str | Path, backend: str = "auto", **options) -> Backend:
    """Build the backend named ``backend`` ("auto" or one of BACKEND_NAMES) for ``model_path``.

    ``options`` go to the backend that takes them (``intra_op_threads``, ``device`` for ONNX Runtime;
    ``engine_file_path``, ``force_engine_update``, ``max_batch``, ``opt_batch``, ``fp16`` for TensorRT;
    ``torch_device`` for torch). The returned backend's ``why`` says why it was chosen.
    """
    model_path = Path(model_path)
    if backend != "auto":
        b = _build(backend, model_path, options)
        b.why = b.why or f"backend {backend!r} requested"
        log.info("lifter backend: %s", b.describe())
        return b

    if model_path.suffix in TORCH_SUFFIXES:
        b = _build("torch", model_path, options)
        b.why = f"auto: {model_path.suffix} is a PyTorch file"
        log.info("lifter backend: %s", b.describe())
        return b

    reasons: list[str] = []
    gpu = cuda_gpu_present()
    if not tensorrt_importable():
        reasons.append("tensorrt not importable")
    elif not gpu:
        reasons.append("tensorrt importable but no CUDA GPU")
    else:
        try:
            b = _build("tensorrt", model_path, options)
            b.why = "auto: tensorrt importable and a CUDA GPU present"
            log.info("lifter backend: %s", b.describe())
            return b
        except (BackendUnavailable, ImportError, RuntimeError) as e:
            reasons.append(f"tensorrt failed ({e})")
            log.warning("lifter backend: TensorRT unusable, falling back: %s", e)

    from .onnxruntime_backend import CUDA_PROVIDER, available_providers

    have_cuda_ep = CUDA_PROVIDER in available_providers()
    if have_cuda_ep and gpu:
        try:
            b = _build("onnxruntime", model_path, {**options, "device": "cuda"})
            b.why = "auto: " + "; ".join(reasons + ["onnxruntime has the CUDA provider and a GPU is present"])
            log.info("lifter backend: %s", b.describe())
            return b
        except BackendUnavailable as e:
            reasons.append(f"onnxruntime CUDA failed ({e})")
            log.warning("lifter backend: ONNX Runtime CUDA unusable, falling back to CPU: %s", e)
    elif have_cuda_ep:
        reasons.append("onnxruntime has the CUDA provider but no GPU is present")
    else:
        reasons.append("onnxruntime has no CUDA provider")
    b = _build("onnxruntime", model_path, {**options, "device": "cpu"})
    b.why = "auto: " + "; ".join(reasons + ["using onnxruntime on the CPU"])
    log.info("lifter backend: %s", b.describe())
    return b
