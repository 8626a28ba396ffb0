"""2D person detectors by kind: the seam where another detector plugs in (docs/architecture.md).

A detector is anything with ``detect(image_rgb) -> list[Person2D]`` (people of one RGB uint8 frame,
their joints already in the layout of hpe3d_ros.skeleton, per-joint scores, a box, stable track ids
and optionally the detector's own landmarks), ``reset()`` (a new stream starts: forget the tracks)
and ``close()``. ``DETECTORS`` maps a kind to its class, its parameter dataclass (fields carry
``metadata={"description": ..., "range": (lo, hi)}``; hpe3d_ros.node.params makes them node
parameters) and the skeleton source whose rules map its keypoints (``skeleton.SOURCES``). Classes
are named as ``"module:attribute"`` and imported only when built, so looking a kind up loads no model.

Adding a detector: its module under hpe3d_ros/detection/, one entry here, and (when its keypoints
are new) one ``Source`` in hpe3d_ros/skeleton.py.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Protocol, runtime_checkable

import numpy as np

from .types import Person2D


@runtime_checkable
class Detector(Protocol):
    """What PosePipeline and ``hpe3d collect`` need from a 2D detector."""

    def detect(self, image_rgb: np.ndarray) -> list[Person2D]:
        """People of one RGB uint8 (H, W, 3) frame; frames of one stream come in order."""

    def reset(self) -> None:
        """Forget the tracks (another stream starts)."""

    def close(self) -> None:
        """Free the models."""


@dataclass(frozen=True)
class DetectorKind:
    """One registered detector."""

    factory: str | Callable[..., Detector]  # "module:Class" (imported on use) or the callable itself
    params: str | type  # its parameter dataclass, "module:Class" or the class
    source: str  # the skeleton source (hpe3d_ros.skeleton.SOURCES) its keypoints are mapped from
    description: str = ""


DEFAULT_KIND = "nanodet"
DETECTORS: dict[str, DetectorKind] = {
    "nanodet": DetectorKind(
        "hpe3d_ros.detection.nanodet:NanoDetPoseDetector", "hpe3d_ros.detection.params:NanoDetParams", "mediapipe",
        "NanoDet-m person boxes -> BlazePose landmarks per person, tracked by box (docs/detection.md)",
    ),
    "mediapipe": DetectorKind(
        "hpe3d_ros.detection.pose_detector:PoseDetector", "hpe3d_ros.detection.params:DetectorParams", "mediapipe",
        "MediaPipe BlazePose: its person detector + landmark model per person, with tracking (docs/detection.md)",
    ),
}


def _resolve(ref: str | Any) -> Any:
    if not isinstance(ref, str):
        return ref
    module, _, attr = ref.partition(":")
    return getattr(importlib.import_module(module), attr)


def detector_kind(kind: str) -> DetectorKind:
    """The registry entry of ``kind``; ValueError naming the known kinds."""
    if kind not in DETECTORS:
        raise ValueError(f"unknown detector kind {kind!r}; known: {', '.join(sorted(DETECTORS))}")
    return DETECTORS[kind]


def detector_params_class(kind: str = DEFAULT_KIND) -> type:
    """The parameter dataclass of a detector kind."""
    return _resolve(detector_kind(kind).params)


def make_detector(params: Mapping[str, Any] | None = None) -> Detector:
    """Build a detector from a parameter mapping: ``kind`` (default ``DEFAULT_KIND``) picks the entry,
    the other keys are its parameters (checked by the kind's parameter dataclass)."""
    params = dict(params or {})
    entry = detector_kind(str(params.pop("kind", DEFAULT_KIND)))
    return _resolve(entry.factory)(**params)
