"""ONNX Runtime backend: CPU, and the CUDA execution provider when the installed build has it.

Session options are chosen for a small shared CPU (the target runs detector, lifter and ROS on a
few cores): one intra-op thread by default, sequential execution, no inter-op pool, and no
spin-waiting threads (spinning burns a core between 30 Hz frames for no gain on a model this size).
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from .. import skeleton
from .base import (
    INPUT_NAME,
    Backend,
    BackendUnavailable,
    ModelInterfaceError,
    check_batch,
    check_output_names,
    check_outputs,
)

log = logging.getLogger(__name__)

CUDA_PROVIDER = "CUDAExecutionProvider"
CPU_PROVIDER = "CPUExecutionProvider"


def available_providers() -> list[str]:
    """Execution providers of the installed onnxruntime ([] when it is not installed)."""
    try:
        import onnxruntime as ort
    except ImportError:
        return []
    return list(ort.get_available_providers())


class OnnxRuntimeBackend(Backend):
    """Run an ONNX lifter with ONNX Runtime.

    ``device``: "cpu", "cuda" (error when the CUDA provider is missing) or "auto" (CUDA when
    available). ``intra_op_threads``: threads for one inference (1 suits small MLPs and busy CPUs;
    0 lets ONNX Runtime use every core). ``allow_spinning``: let idle threads spin (lower latency
    with threads > 1, at the cost of CPU).
    """

    name = "onnxruntime"

    def __init__(
        self,
        model_path: str | Path,
        device: str = "auto",
        intra_op_threads: int = 1,
        allow_spinning: bool = False,
        cuda_device_id: int = 0,
    ) -> None:
        try:
            import onnxruntime as ort
        except ImportError as e:
            raise BackendUnavailable(
                f"onnxruntime is not installed ({e}); install the pinned version from requirements.lock"
            ) from e
        if device not in ("auto", "cpu", "cuda"):
            raise ValueError(f"device must be 'auto', 'cpu' or 'cuda', got {device!r}")
        if intra_op_threads < 0:
            raise ValueError(f"intra_op_threads must be >= 0, got {intra_op_threads}")
        self.model_path = Path(model_path)
        if not self.model_path.is_file():
            raise FileNotFoundError(f"{self.model_path}: no such ONNX model")
        have_cuda = CUDA_PROVIDER in ort.get_available_providers()
        if device == "cuda" and not have_cuda:
            raise BackendUnavailable(
                f"onnxruntime {ort.__version__} has no {CUDA_PROVIDER} (providers: {ort.get_available_providers()}); "
                "install onnxruntime-gpu or use device 'cpu'"
            )
        providers: list = [CPU_PROVIDER]
        if have_cuda and device in ("auto", "cuda"):
            providers = [(CUDA_PROVIDER, {"device_id": int(cuda_device_id)}), CPU_PROVIDER]

        so = ort.SessionOptions()
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        so.intra_op_num_threads = int(intra_op_threads)
        so.inter_op_num_threads = 1
        so.add_session_config_entry("session.intra_op.allow_spinning", "1" if allow_spinning else "0")
        so.add_session_config_entry("session.inter_op.allow_spinning", "0")
        so.log_severity_level = 3
        try:
            self._session = ort.InferenceSession(str(self.model_path), sess_options=so, providers=providers)
        except Exception as e:  # onnxruntime raises its own exception types for bad files
            raise ModelInterfaceError(
                f"{self.model_path}: ONNX Runtime cannot load the model ({type(e).__name__}: {e})"
            ) from e
        self.providers = list(self._session.get_providers())
        if device == "cuda" and CUDA_PROVIDER not in self.providers:
            raise BackendUnavailable(
                f"{self.model_path}: the CUDA provider failed to initialise (providers in use: {self.providers})"
            )
        self._check_io(str(self.model_path))
        self._run = self._session.run  # bound once: saves an attribute lookup per call

    def _check_io(self, where: str) -> None:
        inputs = self._session.get_inputs()
        if len(inputs) != 1 or inputs[0].name != INPUT_NAME:
            raise ModelInterfaceError(
                f"{where}: expected exactly one input {INPUT_NAME!r}, got {[i.name for i in inputs]}"
            )
        inp = inputs[0]
        if inp.type != "tensor(float)":
            raise ModelInterfaceError(f"{where}: input {INPUT_NAME!r} must be float32, got {inp.type}")
        shape = list(inp.shape)
        if len(shape) != 3 or shape[1:] != [skeleton.NUM_JOINTS, 2]:
            raise ModelInterfaceError(
                f"{where}: input {INPUT_NAME!r} must be (batch, {skeleton.NUM_JOINTS}, 2), got {shape}"
            )
        self.dynamic_batch = not isinstance(shape[0], int)
        self.fixed_batch = None if self.dynamic_batch else int(shape[0])
        self.output_names = check_output_names([o.name for o in self._session.get_outputs()], where)
        self._out_list = list(self.output_names)

    def infer(self, poses2d: np.ndarray) -> dict[str, np.ndarray]:
        x = check_batch(poses2d)
        if self.fixed_batch is not None and x.shape[0] != self.fixed_batch:
            raise ModelInterfaceError(
                f"{self.model_path}: model has a fixed batch of {self.fixed_batch}, got {x.shape[0]}"
            )
        values = self._run(self._out_list, {INPUT_NAME: x})
        return check_outputs(dict(zip(self._out_list, values)), x.shape[0], str(self.model_path))

    def close(self) -> None:
        self._session = None
        self._run = None
