"""Lifter-only throughput and latency at batch 1 and 1024 for every backend available here.

Two measurements per backend and batch size:
- ``infer``: the network alone (``Backend.infer`` on normalised 2D), what the backend costs;
- ``lift``: the whole ``Lifter.lift`` (pixels -> normalise -> network -> metric 3D, upright frame),
  what the node pays per frame.

The model is ``--model`` (an ONNX file with its manifest; ``--checkpoint`` adds the torch backend for
it), else a stand-in with the architecture of the supervised Martinez baseline (hidden 1024,
2 residual blocks, random weights: cost does not depend on the weights), exported to ONNX and
saved as a training checkpoint for the torch backend.

    nice -n 10 .venv/bin/python benchmarks/lifter_throughput.py --json docs/bench/lifter_throughput.json

Backends that cannot run here (TensorRT without tensorrt/GPU, ONNX Runtime CUDA without the
provider) are listed as skipped with the reason. Numbers on a shared CPU are noisy: each cell is
the median over ``--repeats`` timed calls after warm-up, and p99 is reported beside it.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from hpe3d_ros import camera, skeleton
from hpe3d_ros.lifting import Lifter
from hpe3d_ros.runtime import BackendUnavailable, cuda_gpu_present, tensorrt_importable
from hpe3d_ros.runtime.onnxruntime_backend import CUDA_PROVIDER, available_providers

J = skeleton.NUM_JOINTS


def stand_in_model(out_dir: Path) -> tuple[Path, Path]:
    """A Martinez-baseline-sized lifter (random weights) as ONNX + manifest and as a training checkpoint
    (.pt, run by the torch backend through training's loader)."""
    import torch

    from hpe3d_ros.manifest import build_manifest, write_bound_manifest
    from training.config import resolve_config
    from training.export import export_onnx, io_description
    from training.methods import create_method
    from training.trainer import CHECKPOINT_FORMAT

    torch.manual_seed(0)
    config = resolve_config({"method": "supervised_martinez", "model": {"hidden": 1024, "blocks": 2}}, "benchmark")
    method = create_method(config, "cpu")
    method.train(False)
    onnx_path = out_dir / "martinez_standin.onnx"
    names = export_onnx(method.lifter(), onnx_path)
    inputs, outputs = io_description(names)
    manifest = build_manifest(
        name=onnx_path.stem,
        normalization_kind=method.normalization,
        inputs=inputs,
        outputs=outputs,
        training={"data": "none: random weights, for timing only"},
    )
    write_bound_manifest(onnx_path, manifest)
    ckpt = out_dir / "martinez_standin.pt"
    modules = {k: m.state_dict() for k, m in method.modules().items()}
    torch.save({"format": CHECKPOINT_FORMAT, "config": config, "modules": modules}, ckpt)
    return onnx_path, ckpt


def constant_model(out_dir: Path) -> Path:
    """A contract model whose network is a single Add (depth = 0 * input + c): timing the Lifter
    with it isolates the per-call cost of the geometry around the network."""
    import onnx
    from onnx import TensorProto, helper

    from hpe3d_ros.manifest import build_manifest, write_bound_manifest

    x = helper.make_tensor_value_info("poses2d", TensorProto.FLOAT, ["batch", J, 2])
    y = helper.make_tensor_value_info("depth", TensorProto.FLOAT, ["batch", J])
    nodes = [
        helper.make_node("Constant", [], ["ax"], value=helper.make_tensor("ax_v", TensorProto.INT64, [1], [2])),
        helper.make_node(
            "Constant",
            [],
            ["c"],
            value=helper.make_tensor("c_v", TensorProto.FLOAT, [J], np.linspace(-0.1, 0.1, J).tolist()),
        ),
        helper.make_node("ReduceSum", ["poses2d", "ax"], ["s"], keepdims=0),
        helper.make_node("Mul", ["s", "zero"], ["z"]),
        helper.make_node("Add", ["z", "c"], ["depth"]),
    ]
    zero = helper.make_tensor("zero", TensorProto.FLOAT, [], [0.0])
    model = helper.make_model(
        helper.make_graph(nodes, "constant", [x], [y], initializer=[zero]), opset_imports=[helper.make_opsetid("", 17)]
    )
    model.ir_version = 8
    path = out_dir / "constant_depth.onnx"
    onnx.save(model, str(path))
    m = build_manifest(
        name=path.stem,
        normalization_kind="tipsy",
        inputs=[{"name": "poses2d"}],
        outputs=[{"name": "depth"}],
        training={"data": "none: constant output, for timing only"},
    )
    write_bound_manifest(path, m)
    return path


def _time(fn, repeats: int, warmup: int) -> tuple[float, float, float]:
    """Median and p99 wall time, and median CPU time of this process (all threads), per call."""
    for _ in range(warmup):
        fn()
    wall, cpu = np.empty(repeats), np.empty(repeats)
    for i in range(repeats):
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        wall[i], cpu[i] = time.perf_counter() - t0, time.process_time() - c0
    return float(np.median(wall)), float(np.percentile(wall, 99)), float(np.median(cpu))


def synthetic_inputs(batch: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Plausible pixels (people of ~300 px), K, scores for ``batch`` people."""
    rng = np.random.default_rng(seed)
    base = np.column_stack([np.linspace(-40, 40, J), np.linspace(-150, 150, J)])
    kp = base[None] + rng.normal(0, 8, (batch, J, 2)) + rng.uniform([100, 150], [540, 330], (batch, 1, 2))
    return kp, camera.intrinsics_from_fov(640, 480, 70.0), rng.uniform(0.5, 1.0, (batch, J))


def run(args: argparse.Namespace) -> dict:
    configs: list[tuple[str, Path, str, dict]] = []  # (label, model, backend, options)
    skipped: list[tuple[str, str]] = []
    tmp = tempfile.TemporaryDirectory(prefix="lifter_bench_")
    if args.model:
        onnx_path, torch_path = Path(args.model), (Path(args.checkpoint) if args.checkpoint else None)
        model_desc = f"{onnx_path.name}"
    else:
        onnx_path, torch_path = stand_in_model(Path(tmp.name))
        model_desc = "Martinez-baseline stand-in (hidden 1024, 2 residual blocks, 4.3 M parameters, random weights)"
    for threads in args.threads:
        configs.append(
            (
                f"onnxruntime CPU, {threads} thread(s)",
                onnx_path,
                "onnxruntime",
                {"device": "cpu", "intra_op_threads": threads},
            )
        )
    if CUDA_PROVIDER in available_providers() and cuda_gpu_present():
        configs.append(("onnxruntime CUDA", onnx_path, "onnxruntime", {"device": "cuda"}))
    else:
        skipped.append(("onnxruntime CUDA", f"providers {available_providers()}, GPU present: {cuda_gpu_present()}"))
    if tensorrt_importable() and cuda_gpu_present():
        configs.append(
            (
                "tensorrt FP16",
                onnx_path,
                "tensorrt",
                {
                    "max_batch": max(args.batches),
                    "opt_batch": 1,
                    "engine_file_path": str(Path(tmp.name) / "bench.plan"),
                },
            )
        )
    else:
        skipped.append(("tensorrt", f"tensorrt importable: {tensorrt_importable()}, GPU present: {cuda_gpu_present()}"))
    configs.append(
        (
            "geometry only (constant model, onnxruntime 1 thread)",
            constant_model(Path(tmp.name)),
            "onnxruntime",
            {"device": "cpu", "intra_op_threads": 1},
        )
    )
    if torch_path is not None:
        configs.append(
            (
                f"torch CPU, {args.torch_threads} thread(s)",
                torch_path,
                "torch",
                {"torch_device": "cpu", "torch_threads": args.torch_threads},
            )
        )
    else:
        skipped.append(("torch", "no --checkpoint for --model"))

    rows = []
    load0 = os.getloadavg()[0]
    for label, model, backend, options in configs:
        try:
            lifter = Lifter(model, backend=backend, **options)
        except (BackendUnavailable, ImportError, RuntimeError) as e:
            skipped.append((label, str(e)))
            continue
        for batch in args.batches:
            kp, k, scores = synthetic_inputs(batch)
            x = np.random.default_rng(batch).normal(0, 0.4, (batch, J, 2)).astype(np.float32)
            repeats = args.repeats if batch < 64 else max(10, args.repeats // 20)
            inf_med, inf_p99, inf_cpu = _time(lambda: lifter.infer_normalized(x), repeats, args.warmup)
            lift_med, lift_p99, lift_cpu = _time(lambda: lifter.lift(kp, k, scores), repeats, args.warmup)
            rows.append(
                {
                    "backend": label,
                    "batch": batch,
                    "infer_ms": inf_med * 1e3,
                    "infer_p99_ms": inf_p99 * 1e3,
                    "infer_cpu_ms": inf_cpu * 1e3,
                    "infer_poses_per_s": batch / inf_med,
                    "lift_ms": lift_med * 1e3,
                    "lift_p99_ms": lift_p99 * 1e3,
                    "lift_cpu_ms": lift_cpu * 1e3,
                    "lift_poses_per_s": batch / lift_med,
                }
            )
            print(
                f"{label:32s} batch {batch:5d}: infer {inf_med * 1e3:8.3f} ms ({batch / inf_med:10.0f} poses/s)   "
                f"lift {lift_med * 1e3:8.3f} ms ({batch / lift_med:10.0f} poses/s)",
                flush=True,
            )
        lifter.close()
    tmp.cleanup()
    load = " -> ".join(f"{a:.1f}" for a in (load0, os.getloadavg()[0]))
    return {
        "model": model_desc,
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU(s) visible",
        "load": load,
        "rows": rows,
        "skipped": [{"backend": b, "why": w} for b, w in skipped],
    }


def markdown(result: dict) -> str:
    lines = [
        f"Model: {result['model']}. Machine: {result['machine']}, load average {result['load']}.",
        "",
        "| backend | batch | network wall ms p50 / p99 | network CPU ms p50 | network poses/s | "
        "full lift wall ms p50 / p99 | full lift CPU ms p50 | full lift poses/s |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in result["rows"]:
        lines.append(
            f"| {r['backend']} | {r['batch']} | {r['infer_ms']:.3f} / {r['infer_p99_ms']:.3f} | "
            f"{r['infer_cpu_ms']:.3f} | "
            f"{r['infer_poses_per_s']:,.0f} | {r['lift_ms']:.3f} / {r['lift_p99_ms']:.3f} | {r['lift_cpu_ms']:.3f} | "
            f"{r['lift_poses_per_s']:,.0f} |"
        )
    for s in result["skipped"]:
        lines.append(f"\nSkipped {s['backend']}: {s['why']}")
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", help="ONNX model with manifest (default: a Martinez-sized stand-in)")
    p.add_argument("--checkpoint", help="training checkpoint of the same model for the torch backend (with --model)")
    p.add_argument("--batches", type=int, nargs="+", default=[1, 1024])
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="ONNX Runtime intra-op thread counts to try")
    p.add_argument("--torch-threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=400)
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--json", help="write the results here too")
    args = p.parse_args()
    result = run(args)
    text = markdown(result)
    print("\n" + text)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({**result, "markdown": text}, indent=1))


if __name__ == "__main__":
    main()
