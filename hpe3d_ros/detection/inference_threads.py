"""How many threads MediaPipe's TFLite inference (the XNNPACK delegate) may use.

MediaPipe's Python solutions do not expose it: on desktop Linux its InferenceCalculator runs XNNPACK
on one thread unless the graph's ``delegate.xnnpack.num_threads`` says otherwise. The solutions
build their graph from a config that ``SolutionBase._modify_calculator_options`` may edit before
the graph starts (that is how they set their score thresholds); ``threaded_solution`` makes a
subclass whose edit also sets the thread count of every inference node.

Measured on the 2-core development machine (docs/benchmarks.md, "Detector threads"): one person's
detection on a 640x480 frame takes 20.3 ms p50 with one thread and 12.1 ms with two, for about 4 ms
more CPU time; in the running node the second thread widened the end-to-end tail (docs/benchmarks.md,
"Node latency"), so config/lift.yaml keeps MediaPipe's one.
"""
from __future__ import annotations

import functools
from typing import Any

MAX_THREADS = 16


def set_xnnpack_threads(graph_config: Any, threads: int) -> int:
    """Set ``delegate.xnnpack.num_threads`` on every InferenceCalculator node of an expanded
    ``CalculatorGraphConfig``; returns how many nodes it changed. ``threads`` 0 leaves them alone."""
    from mediapipe.calculators.tensor import inference_calculator_pb2 as pb

    threads = int(threads)
    if not 0 <= threads <= MAX_THREADS:
        raise ValueError(f"inference threads must be in [0, {MAX_THREADS}], got {threads}")
    if threads == 0:
        return 0
    name = pb.InferenceCalculatorOptions.DESCRIPTOR.full_name
    changed = 0
    for node in graph_config.node:
        if not node.calculator.startswith("InferenceCalculator"):
            continue
        packed = [e for e in node.node_options if e.type_url.split("/")[-1] == name]
        if packed:
            for elem in packed:
                opts = pb.InferenceCalculatorOptions.FromString(elem.value)
                opts.delegate.xnnpack.num_threads = threads
                elem.value = opts.SerializeToString()
        else:
            node.options.Extensions[pb.InferenceCalculatorOptions.ext].delegate.xnnpack.num_threads = threads
        changed += 1
    return changed


@functools.lru_cache(maxsize=None)
def threaded_solution(base: type) -> type:
    """A subclass of a MediaPipe ``SolutionBase`` class taking ``inference_threads=N`` (0: MediaPipe's
    default). The constructor must be given some ``calculator_params`` (MediaPipe edits the graph
    only then; every solution used here sets a score threshold)."""

    class Threaded(base):
        def __init__(self, *args: Any, inference_threads: int = 0, **kwargs: Any) -> None:
            self._inference_threads = int(inference_threads)
            self.inference_nodes_threaded = 0
            super().__init__(*args, **kwargs)
            if self._inference_threads and not self.inference_nodes_threaded:
                raise RuntimeError(
                    f"{base.__name__}: no inference node found to set {self._inference_threads} threads on"
                )

        def _modify_calculator_options(self, graph_config: Any, calculator_params: Any) -> None:
            super()._modify_calculator_options(graph_config, calculator_params)
            self.inference_nodes_threaded = set_xnnpack_threads(graph_config, self._inference_threads)

    Threaded.__name__ = Threaded.__qualname__ = f"Threaded{base.__name__}"
    return Threaded
