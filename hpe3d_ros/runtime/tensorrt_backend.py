"""TensorRT backend (TensorRT 10 Python API): builds an engine from the ONNX model on first use,
caches it (see ``engine_cache``), and runs it with ``execute_async_v3``.

Parameters follow NVIDIA Isaac ROS: ``model_file_path`` (the ONNX model), ``engine_file_path``
(the cached engine; default ``<cache>/engines/<model>.plan``), ``force_engine_update``. The engine
has one optimisation profile for batch 1..``max_batch`` tuned for ``opt_batch`` (the typical number
of people), and FP16 where the GPU has fast FP16. Device memory comes from torch.cuda when torch
with CUDA is importable, else from cuda-python. TensorRT could not be installed where this was
written: see docs/runtime.md for what has and has not run.
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from .. import skeleton
from ..manifest import file_sha256
from .base import (
    INPUT_NAME,
    Backend,
    BackendUnavailable,
    ModelInterfaceError,
    check_batch,
    check_output_names,
    check_outputs,
)
from .engine_cache import default_engine_path, engine_cache_key, rebuild_reason, write_engine

log = logging.getLogger(__name__)

J = skeleton.NUM_JOINTS


def import_tensorrt():
    """``import tensorrt``, turning a missing library into a BackendUnavailable that says what to do."""
    try:
        import tensorrt as trt
    except ImportError as e:
        raise BackendUnavailable(
            f"TensorRT is not installed ({e}). Install TensorRT 10 for your CUDA version "
            "(pip install tensorrt-cu12, or JetPack on Jetson), or use backend 'onnxruntime'."
        ) from e
    return trt


class _TorchCuda:
    """Device buffers and a stream from torch.cuda."""

    def __init__(self, device_id: int) -> None:
        import torch

        if not torch.cuda.is_available():
            raise BackendUnavailable("torch is installed but sees no CUDA device")
        self.torch = torch
        self.device = torch.device("cuda", device_id)
        self.stream = torch.cuda.Stream(self.device)
        self.stream_handle = self.stream.cuda_stream

    def device_name(self) -> str:
        return self.torch.cuda.get_device_name(self.device)

    def alloc(self, shape: tuple, dtype=np.float32):  # noqa: ARG002 - every binding is float32
        """(device buffer, its address, pinned host array of the same shape)."""
        d = self.torch.empty(shape, dtype=self.torch.float32, device=self.device)
        h = self.torch.empty(shape, dtype=self.torch.float32, pin_memory=True)
        return d, d.data_ptr(), h.numpy()

    def h2d(self, dev, host: np.ndarray, n: int) -> None:
        with self.torch.cuda.stream(self.stream):
            dev[:n].copy_(self.torch.from_numpy(host[:n]), non_blocking=True)

    def d2h(self, host: np.ndarray, dev, n: int) -> None:
        with self.torch.cuda.stream(self.stream):
            self.torch.from_numpy(host[:n]).copy_(dev[:n], non_blocking=True)

    def sync(self) -> None:
        self.stream.synchronize()

    def free(self) -> None:
        pass  # torch frees its tensors


class _CudaPython:
    """Device buffers and a stream from cuda-python (cuda.bindings.runtime or the older cuda.cudart)."""

    def __init__(self, device_id: int) -> None:
        try:
            from cuda.bindings import runtime as cudart
        except ImportError:
            try:
                from cuda import cudart
            except ImportError as e:
                raise BackendUnavailable(
                    "the TensorRT backend needs torch with CUDA or cuda-python for device memory"
                ) from e
        self.cudart = cudart
        self._check(cudart.cudaSetDevice(device_id))
        self.device_id = device_id
        self.stream_handle = self._check(cudart.cudaStreamCreate())
        self._ptrs: list = []

    def _check(self, result):
        err, *rest = result if isinstance(result, tuple) else (result,)
        if int(err) != 0:
            raise RuntimeError(f"CUDA error {err}")
        return rest[0] if len(rest) == 1 else rest

    def device_name(self) -> str:
        props = self._check(self.cudart.cudaGetDeviceProperties(self.device_id))
        name = props.name
        return (name.decode(errors="replace") if isinstance(name, bytes) else str(name)).rstrip("\x00")

    def alloc(self, shape: tuple, dtype=np.float32):  # noqa: ARG002 - every binding is float32
        host = np.empty(shape, dtype=np.float32)
        ptr = self._check(self.cudart.cudaMalloc(host.nbytes))
        self._ptrs.append(ptr)
        return (ptr, host[0].nbytes if host.ndim > 1 else 4), int(ptr), host

    def h2d(self, dev, host: np.ndarray, n: int) -> None:
        ptr, row = dev
        kind = self.cudart.cudaMemcpyKind.cudaMemcpyHostToDevice
        self._check(self.cudart.cudaMemcpyAsync(ptr, host.ctypes.data, n * row, kind, self.stream_handle))

    def d2h(self, host: np.ndarray, dev, n: int) -> None:
        ptr, row = dev
        kind = self.cudart.cudaMemcpyKind.cudaMemcpyDeviceToHost
        self._check(self.cudart.cudaMemcpyAsync(host.ctypes.data, ptr, n * row, kind, self.stream_handle))

    def sync(self) -> None:
        self._check(self.cudart.cudaStreamSynchronize(self.stream_handle))

    def free(self) -> None:
        for p in self._ptrs:
            self.cudart.cudaFree(p)
        self._ptrs = []


def _cuda_memory(device_id: int):
    try:
        import torch

        if torch.cuda.is_available():
            return _TorchCuda(device_id)
    except ImportError:
        pass
    return _CudaPython(device_id)


def build_serialized_engine(
    trt, logger, onnx_path: Path, min_batch: int, opt_batch: int, max_batch: int, fp16: bool, workspace_mb: int
) -> bytes:
    """ONNX -> serialized engine with one optimisation profile for the batch axis."""
    builder = trt.Builder(logger)
    flags = 0
    if hasattr(trt.NetworkDefinitionCreationFlag, "EXPLICIT_BATCH"):  # required before TensorRT 10, a no-op in 10
        flags = 1 << int(trt.NetworkDefinitionCreationFlag.EXPLICIT_BATCH)
    network = builder.create_network(flags)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse(onnx_path.read_bytes()):
        errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
        raise ModelInterfaceError(f"{onnx_path}: the TensorRT ONNX parser failed: {errors}")
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, int(workspace_mb) << 20)
    if fp16 and getattr(builder, "platform_has_fast_fp16", False):
        config.set_flag(trt.BuilderFlag.FP16)
    profile = builder.create_optimization_profile()
    profile.set_shape(INPUT_NAME, (min_batch, J, 2), (opt_batch, J, 2), (max_batch, J, 2))
    config.add_optimization_profile(profile)
    blob = builder.build_serialized_network(network, config)
    if blob is None:
        raise RuntimeError(f"{onnx_path}: TensorRT failed to build an engine (see the TensorRT log above)")
    return bytes(blob)


class TensorRTBackend(Backend):
    """Run an ONNX lifter as a TensorRT engine, building and caching the engine when needed."""

    name = "tensorrt"

    def __init__(
        self,
        model_file_path: str | Path,
        engine_file_path: str | Path | None = None,
        force_engine_update: bool = False,
        max_batch: int = 16,
        opt_batch: int = 1,
        fp16: bool = True,
        workspace_mb: int = 256,
        cuda_device_id: int = 0,
    ) -> None:
        trt = import_tensorrt()
        self.model_path = Path(model_file_path)
        if not self.model_path.is_file():
            raise FileNotFoundError(f"{self.model_path}: no such ONNX model")
        self.engine_path = Path(engine_file_path) if engine_file_path else default_engine_path(self.model_path)
        self.max_batch = int(max_batch)
        self._mem = _cuda_memory(int(cuda_device_id))
        self._trt_logger = trt.Logger(trt.Logger.WARNING)
        key = engine_cache_key(
            tensorrt_version=trt.__version__,
            gpu_name=self._mem.device_name(),
            model_sha256=file_sha256(self.model_path),
            max_batch=self.max_batch,
            opt_batch=min(int(opt_batch), self.max_batch),
            fp16=bool(fp16),
        )
        runtime = trt.Runtime(self._trt_logger)
        reason = rebuild_reason(self.engine_path, key, force_engine_update)
        engine = None
        if reason is None:
            engine = runtime.deserialize_cuda_engine(self.engine_path.read_bytes())
            if engine is None:
                reason = f"{self.engine_path} failed to deserialize"
        if engine is None:
            log.warning("building TensorRT engine %s (%s); this takes a while once", self.engine_path, reason)
            blob = build_serialized_engine(
                trt,
                self._trt_logger,
                self.model_path,
                key["min_batch"],
                key["opt_batch"],
                key["max_batch"],
                key["fp16"],
                workspace_mb,
            )
            write_engine(self.engine_path, blob, key)
            engine = runtime.deserialize_cuda_engine(blob)
            if engine is None:
                raise RuntimeError(f"{self.engine_path}: TensorRT could not deserialize the engine it just built")
        else:
            log.info("reusing TensorRT engine %s", self.engine_path)
        self._engine = engine
        self._context = engine.create_execution_context()
        names = [engine.get_tensor_name(i) for i in range(engine.num_io_tensors)]
        inputs = [n for n in names if engine.get_tensor_mode(n) == trt.TensorIOMode.INPUT]
        if inputs != [INPUT_NAME]:
            raise ModelInterfaceError(f"{self.model_path}: expected exactly one input {INPUT_NAME!r}, got {inputs}")
        self.output_names = check_output_names([n for n in names if n not in inputs], str(self.model_path))
        for n in (INPUT_NAME, *self.output_names):
            if engine.get_tensor_dtype(n) != trt.float32:
                raise ModelInterfaceError(
                    f"{self.model_path}: tensor {n!r} is {engine.get_tensor_dtype(n)}, expected float32"
                )
        shapes = {
            INPUT_NAME: (self.max_batch, J, 2),
            "depth": (self.max_batch, J),
            "elevation": (self.max_batch,),
            "nll": (self.max_batch,),
        }
        self._buffers = {}
        for n in (INPUT_NAME, *self.output_names):
            dev, addr, host = self._mem.alloc(shapes[n])
            self._buffers[n] = (dev, host)
            self._context.set_tensor_address(n, addr)
        self.providers = [f"{self._mem.device_name()} ({'fp16' if key['fp16'] else 'fp32'}, batch 1..{self.max_batch})"]

    def _run_chunk(self, x: np.ndarray) -> dict[str, np.ndarray]:
        n = x.shape[0]
        dev_in, host_in = self._buffers[INPUT_NAME]
        host_in[:n] = x
        self._mem.h2d(dev_in, host_in, n)
        self._context.set_input_shape(INPUT_NAME, (n, J, 2))
        if not self._context.execute_async_v3(self._mem.stream_handle):
            raise RuntimeError(f"{self.engine_path}: execute_async_v3 failed")
        for name in self.output_names:
            dev, host = self._buffers[name]
            self._mem.d2h(host, dev, n)
        self._mem.sync()
        return {name: self._buffers[name][1][:n].copy() for name in self.output_names}

    def infer(self, poses2d: np.ndarray) -> dict[str, np.ndarray]:
        x = check_batch(poses2d)
        b = x.shape[0]
        if b <= self.max_batch:
            out = self._run_chunk(x)
        else:  # more people than the profile allows: run in chunks
            parts = [self._run_chunk(x[i : i + self.max_batch]) for i in range(0, b, self.max_batch)]
            out = {k: np.concatenate([p[k] for p in parts]) for k in self.output_names}
        return check_outputs(out, b, str(self.engine_path))

    def close(self) -> None:
        self._context = None
        self._engine = None
        if getattr(self, "_mem", None) is not None:
            self._mem.free()
