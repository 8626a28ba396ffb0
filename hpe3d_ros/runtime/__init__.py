"""Lifter runtimes: one interface (``Backend.infer``), three backends, and "auto" selection.

``make_backend(model_path, backend="auto", **options)`` is the entry point; see docs/runtime.md.
"""
from .base import BACKEND_NAMES, Backend, BackendUnavailable, ModelInterfaceError
from .select import cuda_gpu_present, make_backend, tensorrt_importable

__all__ = [
    "BACKEND_NAMES",
    "Backend",
    "BackendUnavailable",
    "ModelInterfaceError",
    "cuda_gpu_present",
    "make_backend",
    "tensorrt_importable",
]
