"""The training method registry (project contract 3).

A method is a class registered with ``@register("name")``::

    @register("my_method")
    class MyMethod(Method):
        normalization = "tipsy"          # or "elepose"
        needs_3d = False                 # True: batches also hold "depth" and "pose3d"
        defaults = {"model": {...}, "optim": {...}}   # optional: config keys it accepts, with defaults

        def __init__(self, config: dict, device: torch.device): ...
        def modules(self) -> dict[str, nn.Module]: ...          # everything with state (checkpointed)
        def optimizers(self) -> dict[str, torch.optim.Optimizer]: ...
        def train_step(self, batch: dict[str, Tensor]) -> dict[str, float]: ...
        def end_epoch(self, epoch: int) -> None: ...
        def lifter(self) -> nn.Module: ...                      # forward(poses2d (B,16,2)) -> {"depth": (B,16), ...}
        def selection_score(self, poses2d: Tensor) -> float | None: ...   # optional, 3D-free, lower is better

Optional hooks the trainer also checkpoints: ``schedulers() -> dict[str, LRScheduler]`` and
``extra_state() -> dict`` / ``load_extra_state(state: dict)`` for plain state that is not in a
module (stage counters, running statistics as tensors or numbers).

Modules under training/methods/ are imported on the first lookup, so a new method only needs a
file here with the decorator.
"""
from __future__ import annotations

import importlib
import pkgutil
from typing import Callable

import torch
from torch import nn

_REGISTRY: dict[str, type] = {}
_IMPORT_ERRORS: dict[str, str] = {}
_DISCOVERED = False


def register(name: str) -> Callable[[type], type]:
    """Class decorator: make a method available to config files as ``method: name``."""

    def deco(cls: type) -> type:
        if name in _REGISTRY and _REGISTRY[name] is not cls:
            existing = _REGISTRY[name]
            # Re-import of the same module (e.g. importlib.reload) replaces; a clash between modules is an error.
            if existing.__module__ != cls.__module__ or existing.__qualname__ != cls.__qualname__:
                raise ValueError(f"training method {name!r} registered twice ({existing.__module__}, {cls.__module__})")
        for attr in ("normalization", "needs_3d"):
            if not hasattr(cls, attr):
                raise TypeError(f"training method {name!r} ({cls.__qualname__}) lacks class attribute {attr!r}")
        cls.method_name = name
        _REGISTRY[name] = cls
        return cls

    return deco


def _discover() -> None:
    global _DISCOVERED
    if _DISCOVERED:
        return
    _DISCOVERED = True
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        try:
            importlib.import_module(f"{__name__}.{info.name}")
        except Exception as e:  # noqa: BLE001 - one broken method module must not hide the others
            _IMPORT_ERRORS[info.name] = f"{type(e).__name__}: {e}"


def available() -> list[str]:
    """Names of all registered methods."""
    _discover()
    return sorted(_REGISTRY)


def get_method(name: str) -> type:
    """The class registered as ``name``; KeyError naming the known ones otherwise."""
    _discover()
    if name not in _REGISTRY:
        hint = f"; modules that failed to import: {_IMPORT_ERRORS}" if _IMPORT_ERRORS else ""
        raise KeyError(f"unknown training method {name!r} (known: {sorted(_REGISTRY)}){hint}")
    return _REGISTRY[name]


def create_method(config: dict, device: torch.device | str = "cpu") -> "Method":
    """Instantiate the method named by ``config['method']`` (a resolved config, see training.config)."""
    cls = get_method(config["method"])
    return cls(config, torch.device(device))


class Method:
    """Optional base class with the contract's defaults; subclasses override what they need."""

    method_name: str = ""
    normalization: str = "tipsy"
    needs_3d: bool = False
    defaults: dict = {}

    def __init__(self, config: dict, device: torch.device) -> None:
        self.config = config
        self.device = torch.device(device)

    def with_defaults(self, config: dict) -> dict:
        """``defaults`` overlaid with ``config``: sections (dicts) are merged key by key, plain values replaced."""
        cfg = {k: dict(v) if isinstance(v, dict) else v for k, v in self.defaults.items()}
        for k in cfg:
            if isinstance(cfg[k], dict):
                cfg[k].update(config.get(k) or {})
            elif k in config:
                cfg[k] = config[k]
        return cfg

    def modules(self) -> dict[str, nn.Module]:
        raise NotImplementedError

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        raise NotImplementedError

    def schedulers(self) -> dict:
        return {}

    def train_step(self, batch: dict[str, torch.Tensor]) -> dict[str, float]:
        raise NotImplementedError

    def end_epoch(self, epoch: int) -> None:
        for sched in self.schedulers().values():
            sched.step()

    def lifter(self) -> nn.Module:
        raise NotImplementedError

    def selection_score(self, poses2d: torch.Tensor) -> float | None:
        return None

    def extra_state(self) -> dict:
        return {}

    def load_extra_state(self, state: dict) -> None:
        pass

    def train(self, mode: bool = True) -> None:
        """Put every module in training (or eval) mode."""
        for m in self.modules().values():
            m.train(mode)


__all__ = ["Method", "register", "get_method", "create_method", "available"]
