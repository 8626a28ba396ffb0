"""Export a lifter (contract 2) to ONNX (contract 1) with its manifest.

ONNX: input "poses2d" float32 (batch, 16, 2); outputs "depth" (batch, 16) and, when the lifter
predicts them, "elevation" (batch,) and "nll" (batch,); dynamic axis "batch"; opset 17.
The manifest (hpe3d_ros.manifest.build_manifest) records layout, normalisation, inputs and
outputs, training data and its license, metrics, the command and the model's sha256; the model's
ONNX metadata records the manifest's digest (hpe3d_ros.manifest.write_bound_manifest), so the
runtime refuses either file edited alone.
"""
from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn

from hpe3d_ros import manifest as manifest_mod
from hpe3d_ros import skeleton
from hpe3d_ros.atomic import atomic_path

OPSET = 17
OUTPUT_ORDER = ("depth", "elevation", "nll")
BANDAI_TRAINING = {
    "data": "Bandai Namco Research Motion Dataset 1+2",
    "license": "CC BY-NC 4.0",
    "non_commercial": True,
    "url": "https://github.com/BandaiNamcoResearchInc/Bandai-Namco-Research-Motiondataset",
}


class OnnxLifter(nn.Module):
    """Wraps a dict-returning lifter into a tuple of outputs in ``OUTPUT_ORDER``."""

    def __init__(self, lifter: nn.Module, outputs: list[str]) -> None:
        super().__init__()
        self.lifter = lifter
        self.outputs = list(outputs)

    def forward(self, poses2d: torch.Tensor):
        out = self.lifter(poses2d)
        return tuple(out[k] for k in self.outputs)


def lifter_outputs(lifter: nn.Module) -> list[str]:
    """The contract outputs a lifter produces (checked on a dummy batch), in ``OUTPUT_ORDER``."""
    j = skeleton.NUM_JOINTS
    was = lifter.training
    lifter.eval()
    with torch.no_grad():
        out = lifter(torch.zeros(2, j, 2))
    lifter.train(was)
    if "depth" not in out:
        raise ValueError(f"lifter output has no 'depth' (keys: {sorted(out)})")
    shapes = {"depth": (2, j), "elevation": (2,), "nll": (2,)}
    for k in OUTPUT_ORDER:
        if k in out and tuple(out[k].shape) != shapes[k]:
            raise ValueError(
                f"lifter output {k!r} has shape {tuple(out[k].shape)}, contract wants {shapes[k]} for batch 2"
            )
    return [k for k in OUTPUT_ORDER if k in out]


def export_onnx(lifter: nn.Module, path: str | Path) -> list[str]:
    """Write ``lifter`` (eval mode, CPU, float32) to ``path`` atomically; returns the output names."""
    path = Path(path)
    lifter = lifter.to("cpu").float().eval()
    names = lifter_outputs(lifter)
    wrapper = OnnxLifter(lifter, names).eval()
    with atomic_path(path, suffix=".tmp.onnx") as tmp:
        dynamic = {"poses2d": {0: "batch"}, **{n: {0: "batch"} for n in names}}
        torch.onnx.export(
            wrapper,
            (torch.zeros(1, skeleton.NUM_JOINTS, 2),),
            str(tmp),
            input_names=["poses2d"],
            output_names=names,
            dynamic_axes=dynamic,
            opset_version=OPSET,
            dynamo=False,
            do_constant_folding=True,
        )
        import onnx

        onnx.checker.check_model(str(tmp))
    return names


def io_description(names: list[str]) -> tuple[list, list]:
    """Manifest ``inputs`` and ``outputs`` entries."""
    j = skeleton.NUM_JOINTS
    inputs = [
        {
            "name": "poses2d",
            "dtype": "float32",
            "shape": ["batch", j, 2],
            "description": "2D joints, pixels -> camera.pixels_to_root_camera -> normalization.normalize_2d",
        }
    ]
    desc = {
        "depth": ("float32", ["batch", j], "per-joint depth in the normalisation's units (normalization.lift_to_3d)"),
        "elevation": ("float32", ["batch"], "camera elevation (downward pitch), radians"),
        "nll": ("float32", ["batch"], "plausibility as a negative log-likelihood, lower = more plausible"),
    }
    outputs = [{"name": n, "dtype": desc[n][0], "shape": desc[n][1], "description": desc[n][2]} for n in names]
    return inputs, outputs


def export_checkpoint(
    checkpoint: str | Path,
    out: str | Path,
    name: str | None = None,
    metrics: dict | None = None,
    command: str = "",
    training: dict | None = None,
) -> tuple[Path, Path]:
    """Export a training checkpoint's lifter to ``out`` (.onnx) and its manifest beside it (.json)."""
    from training.trainer import method_from_checkpoint

    out = Path(out)
    if out.suffix != ".onnx":
        raise ValueError(f"--out {out}: expected a path ending in .onnx")
    method, ckpt = method_from_checkpoint(checkpoint, "cpu")
    lifter = method.lifter()
    names = export_onnx(lifter, out)
    cfg = ckpt["config"]
    if metrics is None:
        best = ckpt.get("best") or {}
        metrics = {
            "split": "val",
            "epoch": best.get("epoch"),
            **{k: v for k, v in (best.get("val") or {}).items() if isinstance(v, (int, float))},
        }
    train_info = dict(training or BANDAI_TRAINING)
    if cfg.get("data", {}).get("source") == "synthetic":
        train_info = {
            "data": "procedural synthetic poses (training.data.batches.synthetic_poses)",
            "license": "Apache-2.0",
            "non_commercial": False,
        }
    train_info.update(
        {
            "method": cfg["method"],
            "config": cfg.get("_config_name"),
            "epochs_trained": int(ckpt["epoch"]) + 1,
            "seed": cfg.get("seed"),
            "split": cfg.get("data", {}).get("split"),
        }
    )
    inputs, outputs = io_description(names)
    manifest = manifest_mod.build_manifest(
        name=name or out.stem,
        normalization_kind=method.normalization,
        inputs=inputs,
        outputs=outputs,
        training=train_info,
        metrics=metrics,
        command=command,
        extra={"opset": OPSET, "framework": f"torch {torch.__version__}"},
    )
    manifest_mod.validate_manifest(manifest, str(out))
    manifest_mod.write_bound_manifest(out, manifest)
    return out, manifest_mod.manifest_path(out)


def bind_model(model: str | Path) -> Path:
    """Bind an ONNX model and the manifest beside it again (after the manifest was edited on purpose):
    the manifest's digest into the model's metadata, the model's new sha256 into the manifest.
    Weights and graph are unchanged. Returns the manifest's path."""
    model = Path(model)
    mpath = manifest_mod.manifest_path(model)
    if not model.is_file():
        raise ValueError(f"--bind {model}: no such model file")
    try:
        manifest = json.loads(mpath.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise ValueError(f"--bind {model}: its manifest {mpath} is not a readable JSON file ({e})") from e
    manifest_mod.validate_manifest(manifest, str(mpath))
    manifest_mod.write_bound_manifest(model, manifest)
    return mpath
