"""The generic training loop for every registered method (contract 3).

``train(config)`` runs a resolved config (training.config.load_config): seeds python, numpy and
torch; picks CUDA when present, else the CPU; keeps the data on the device; shows a tqdm bar;
logs TensorBoard scalars under ``<out_dir>/tb``; validates every epoch (3D metrics via
hpe3d_ros.pose_metrics on the predicted shape scaled by the height prior, plus the method's 3D-free
``selection_score``); writes ``last.pt`` every epoch and ``best.pt`` when the selection criterion
improves (atomically); and writes ``metrics.json`` at the end. ``resume=True`` continues from
``last.pt`` (loaded with ``torch.load(weights_only=True)``) and reproduces an uninterrupted run
exactly on the CPU.

Checkpoint layout (plain types and tensors only): format, config, epoch (last finished, 0-based),
modules, optimizers, schedulers, extra (method.extra_state()), rng, history, best.
"""
from __future__ import annotations

import json
import math
import os
import random
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hpe3d_ros import metric, normalization
from hpe3d_ros.atomic import atomic_path, atomic_write_text
from training.data import batches as data_mod
from training.methods import Method, create_method

CHECKPOINT_FORMAT = 1


# ---------------------------------------------------------------- small helpers


def select_device(name: str = "auto") -> torch.device:
    """``auto``: the first CUDA device when present, else the CPU."""
    if name in (None, "", "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(name)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} requested but CUDA is not available")
    return dev


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch (all devices)."""
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)


def rng_state() -> dict:
    """The global RNG states as plain types and tensors (loadable with weights_only=True)."""
    np_state = np.random.get_state()
    state = {
        "python": _to_lists(random.getstate()),
        "numpy": {"keys": torch.from_numpy(np_state[1].astype(np.int64)), "pos": int(np_state[2]),
                  "has_gauss": int(np_state[3]), "cached_gaussian": float(np_state[4])},
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    """Restore what ``rng_state`` saved."""
    random.setstate(_to_tuples(state["python"]))
    n = state["numpy"]
    np.random.set_state(
        ("MT19937", n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["cached_gaussian"])
    )
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _to_lists(x: Any) -> Any:
    return [_to_lists(v) for v in x] if isinstance(x, (tuple, list)) else x


def _to_tuples(x: Any) -> Any:
    return tuple(_to_tuples(v) for v in x) if isinstance(x, list) else x


def atomic_torch_save(obj: Any, path: str | Path) -> Path:
    """torch.save through a temporary file in the same directory and a rename."""
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)
    return Path(path)


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict:
    """Read a checkpoint with ``torch.load(weights_only=True)``; clear error when it is not one."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} not found")
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:
        raise ValueError(f"{path}: not a loadable checkpoint ({type(e).__name__}: {e})") from e
    if not isinstance(ckpt, dict) or ckpt.get("format") != CHECKPOINT_FORMAT or "modules" not in ckpt:
        raise ValueError(f"{path}: not an hpe3d training checkpoint (format {CHECKPOINT_FORMAT})")
    return ckpt


def method_from_checkpoint(path: str | Path, device: str | torch.device = "cpu") -> tuple[Method, dict]:
    """Rebuild the method of a checkpoint with its weights; returns (method, checkpoint)."""
    ckpt = load_checkpoint(path, map_location=device)
    method = create_method(ckpt["config"], torch.device(device))
    load_method_state(method, ckpt, with_optim=False)
    _set_train_mode(method, False)
    return method, ckpt


def method_state(method: Method) -> dict:
    """What a checkpoint holds of a method: modules, optimizers, schedulers and extra state."""
    scheds = method.schedulers() if hasattr(method, "schedulers") else {}
    return {
        "modules": {k: m.state_dict() for k, m in method.modules().items()},
        "optimizers": {k: o.state_dict() for k, o in method.optimizers().items()},
        "schedulers": {k: s.state_dict() for k, s in scheds.items()},
        "extra": method.extra_state() if hasattr(method, "extra_state") else {},
    }


def load_method_state(method: Method, ckpt: dict, with_optim: bool = True) -> None:
    """Restore ``method_state`` (from a checkpoint); ``with_optim`` False restores weights and extra state only."""
    mods = method.modules()
    missing = set(mods) ^ set(ckpt["modules"])
    if missing:
        raise ValueError(f"checkpoint modules {sorted(ckpt['modules'])} do not match the method's {sorted(mods)}")
    for name, m in mods.items():
        m.load_state_dict(ckpt["modules"][name])
    if with_optim:
        for name, opt in method.optimizers().items():
            opt.load_state_dict(ckpt["optimizers"][name])
        scheds = method.schedulers() if hasattr(method, "schedulers") else {}
        for name, s in scheds.items():
            s.load_state_dict(ckpt["schedulers"][name])
    if hasattr(method, "load_extra_state") and ckpt.get("extra"):
        method.load_extra_state(ckpt["extra"])


def _set_train_mode(method: Method, mode: bool) -> None:
    for m in method.modules().values():
        m.train(mode)


# ---------------------------------------------------------------- evaluation


@torch.no_grad()
def predict(lifter: torch.nn.Module, poses2d: torch.Tensor, batch_size: int = 8192) -> dict[str, np.ndarray]:
    """Run a lifter (eval mode) over normalised 2D in batches; numpy outputs by name."""
    was = lifter.training
    lifter.eval()
    outs: dict[str, list] = {}
    for s in range(0, len(poses2d), batch_size):
        for k, v in lifter(poses2d[s : s + batch_size]).items():
            outs.setdefault(k, []).append(v.detach().float().cpu().numpy())
    lifter.train(was)
    return {k: np.concatenate(v) for k, v in outs.items()}


def predicted_shape(lifter: torch.nn.Module, poses2d: torch.Tensor, kind: str) -> np.ndarray:
    """Root-relative 3D shape (M,16,3) in the normalisation's units (optical axes)."""
    depth = predict(lifter, poses2d)["depth"]
    return normalization.lift_to_3d(poses2d.detach().cpu().numpy().astype(np.float64), depth.astype(np.float64), kind)


def metrics_3d(shape: np.ndarray, gt3d: np.ndarray) -> dict[str, float]:
    """3D metrics of predicted shapes made metric by the height prior, against root-relative GT metres."""
    pred = metric.scale_to_height(shape)
    try:
        from hpe3d_ros import pose_metrics as tm

        out = tm.evaluate(pred, gt3d)
        return {k: float(v) for k, v in out.items() if isinstance(v, (int, float))}
    except ImportError:
        err = np.linalg.norm(pred - gt3d, axis=-1)
        return {"mpjpe_mm": float(err.mean() * 1000.0), "n_poses": int(len(pred))}


def validate(method: Method, val: dict | None) -> dict[str, float]:
    """Validation metrics (3D, for reporting) and the method's 3D-free selection score."""
    if val is None:
        return {}
    out: dict[str, float] = {}
    lifter = method.lifter()
    shape = predicted_shape(lifter, val["poses2d"], method.normalization)
    if np.all(np.isfinite(shape)):
        out.update(metrics_3d(shape, val["gt3d"]))
    else:
        out["mpjpe_mm"] = float("nan")
    score_fn = getattr(method, "selection_score", None)
    if score_fn is not None:
        with torch.no_grad():
            score = score_fn(val["poses2d"])
        if score is not None:
            out["selection_score"] = float(score)
    return out


# ---------------------------------------------------------------- the loop


class Trainer:
    """One training run of a resolved config; ``run()`` returns the summary written to metrics.json."""

    def __init__(
        self, config: dict, out_dir: str | Path | None = None, resume: bool = False, progress: bool | None = None
    ) -> None:
        self.config = config
        self.out_dir = Path(out_dir or config["out_dir"])
        self.resume = resume
        self.progress = config.get("progress", True) if progress is None else progress
        self.device = select_device(config.get("device", "auto"))
        seed_everything(int(config["seed"]))
        self.method = create_method(config, self.device)
        self.data = data_mod.TrainData(config, self.method.normalization, self.method.needs_3d, self.device)
        self.val = data_mod.load_validation(config, self.method.normalization, self.device)
        self.history: list[dict] = []
        self.best: dict = {}
        self.start_epoch = 0
        self.global_step = 0
        self.wall_before = 0.0
        if resume:
            self._resume()

    # -- checkpoints
    def _state(self, epoch: int) -> dict:
        cfg = {k: v for k, v in self.config.items()}
        return {
            "format": CHECKPOINT_FORMAT,
            "config": cfg,
            "epoch": epoch,
            "global_step": self.global_step,
            "wall_s": self.wall_before + (time.perf_counter() - self._t0),
            **method_state(self.method),
            "rng": rng_state(),
            "history": self.history,
            "best": self.best,
        }

    def _resume(self) -> None:
        path = self.out_dir / "last.pt"
        # CPU first: RNG states must stay CPU tensors; load_state_dict moves weights and optimizer state.
        ckpt = load_checkpoint(path, map_location="cpu")
        if ckpt["config"].get("method") != self.config["method"]:
            raise ValueError(
                f"{path}: checkpoint is of method {ckpt['config'].get('method')!r}, config says "
                f"{self.config['method']!r}"
            )
        load_method_state(self.method, ckpt)
        set_rng_state(ckpt["rng"])
        self.start_epoch = int(ckpt["epoch"]) + 1
        self.global_step = int(ckpt.get("global_step", 0))
        self.wall_before = float(ckpt.get("wall_s", 0.0))
        self.history = list(ckpt.get("history", []))
        self.best = dict(ckpt.get("best", {}))

    def _criterion(self, vals: dict) -> str:
        sel = self.config.get("select_by", "auto")
        if sel != "auto":
            return sel
        if self.method.needs_3d:
            return "pa_mpjpe_mm"
        return "selection_score" if "selection_score" in vals else "last"

    # -- main loop
    def run(self) -> dict:
        """Train the remaining epochs; returns the summary (also written to metrics.json)."""
        from tqdm import tqdm

        self._t0 = time.perf_counter()
        self.out_dir.mkdir(parents=True, exist_ok=True)
        writer = self._writer()
        epochs = int(self.config["epochs"])
        nb = self.data.num_batches()
        bar = tqdm(
            total=(epochs - self.start_epoch) * nb,
            disable=not self.progress,
            desc=self.config.get("_config_name", "train"),
            unit="step",
            dynamic_ncols=True,
        )
        log_every = max(1, int(self.config.get("log_every", 20)))
        for epoch in range(self.start_epoch, epochs):
            t_epoch = time.perf_counter()
            _set_train_mode(self.method, True)
            sums: dict[str, float] = {}
            count = 0
            for batch in self.data.batches(epoch):
                losses = self.method.train_step(batch)
                self.global_step += 1
                count += 1
                for k, v in losses.items():
                    sums[k] = sums.get(k, 0.0) + float(v)
                if writer is not None and self.global_step % log_every == 0:
                    for k, v in losses.items():
                        writer.add_scalar(f"train/{k}", float(v), self.global_step)
                bar.update(1)
                if losses:
                    first = next(iter(losses))
                    bar.set_postfix({"epoch": epoch, first: f"{float(losses[first]):.4g}"}, refresh=False)
            self.method.end_epoch(epoch)
            train_means = {k: v / max(count, 1) for k, v in sums.items()}
            _set_train_mode(self.method, False)
            every = max(1, int(self.config["val"].get("every", 1)))
            vals = validate(self.method, self.val) if ((epoch + 1) % every == 0 or epoch == epochs - 1) else {}
            _set_train_mode(self.method, True)
            record = {"epoch": epoch, "train": train_means, "val": vals, "epoch_wall_s": time.perf_counter() - t_epoch}
            self.history.append(record)
            if writer is not None:
                for k, v in vals.items():
                    if isinstance(v, float) and math.isfinite(v):
                        writer.add_scalar(f"val/{k}", v, epoch)
                for k, v in train_means.items():
                    writer.add_scalar(f"epoch/{k}", v, epoch)
                writer.flush()
            improved = self._update_best(epoch, vals)
            state = self._state(epoch)
            atomic_torch_save(state, self.out_dir / "last.pt")
            if improved:
                atomic_torch_save(state, self.out_dir / "best.pt")
            if self.config.get("keep_epoch_checkpoints"):
                atomic_torch_save(state, self.out_dir / f"epoch_{epoch:03d}.pt")
            if vals and self.progress:
                shown = {k: round(v, 2) for k, v in vals.items() if k in ("mpjpe_mm", "pa_mpjpe_mm", "selection_score")}
                bar.write(f"epoch {epoch}: train { ({k: round(v, 4) for k, v in train_means.items()}) } val {shown}")
        bar.close()
        if writer is not None:
            writer.close()
        summary = self._summary()
        atomic_write_text(self.out_dir / "metrics.json", json.dumps(summary, indent=2, default=float) + "\n")
        return summary

    def _update_best(self, epoch: int, vals: dict) -> bool:
        crit = self._criterion(vals)
        if crit == "last":
            self.best = {"epoch": epoch, "criterion": "last", "value": None, "val": vals}
            return True
        if crit not in vals:
            if not self.best:
                self.best = {"epoch": epoch, "criterion": crit, "value": None, "val": vals}
                return True
            return False
        value = float(vals[crit])
        old = self.best.get("value")
        if old is None or (math.isfinite(value) and value < old):
            self.best = {"epoch": epoch, "criterion": crit, "value": value, "val": vals}
            return True
        return False

    def _writer(self):
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            return None
        return SummaryWriter(str(self.out_dir / "tb"), purge_step=self.global_step if self.resume else None)

    def _summary(self) -> dict:
        last = self.history[-1] if self.history else {}
        return {
            "config": self.config.get("_config_path"),
            "method": self.config["method"],
            "normalization": self.method.normalization,
            "needs_3d": self.method.needs_3d,
            "seed": self.config["seed"],
            "device": str(self.device),
            "epochs": self.config["epochs"],
            "n_train": self.data.n,
            "val_source": self.val["source"] if self.val else None,
            "wall_s": self.wall_before + (time.perf_counter() - self._t0),
            "best": self.best,
            "last": {"epoch": last.get("epoch"), "val": last.get("val", {}), "train": last.get("train", {})},
            "history": self.history,
        }


def train(config: dict, out_dir: str | Path | None = None, resume: bool = False, progress: bool | None = None) -> dict:
    """Run a resolved config (see training.config.load_config); returns the metrics summary."""
    torch.set_num_threads(min(torch.get_num_threads(), int(os.environ.get("HPE3D_THREADS", "2"))))
    return Trainer(config, out_dir, resume, progress).run()
