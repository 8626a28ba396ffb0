"""Lift 2D keypoints in pixels to metric 3D skeletons: the runtime half of contract (6).

Pipeline per call (all people of a frame in ONE batch):

1. pixels -> normalised image coordinates in a virtual camera looking at the person's root
   (``camera.pixels_to_root_camera`` with K: the lifters are trained with the root on the optical
   axis, so an off-centre person is seen as training saw people; identity for a centred person);
2. ``normalization.normalize_2d`` with the model's normalisation (read from its manifest);
3. the backend (ONNX Runtime, TensorRT or torch) -> per-joint depth, camera elevation, plausibility;
4. ``normalization.lift_to_3d`` -> root-relative shape in normalised units (``LiftResult.shape``);
5. ``metric.scale_to_height`` with the body-height prior -> metres;
6. ``metric.solve_root_translation`` (weights = per-joint scores) -> the person's position;
   ``joints_optical = shape_m + t`` in the camera optical frame (z forward, x right, y down);
7. ``joints_upright = camera.upright_from_optical(joints_optical, elevation)``: the same points
   rotated about the camera centre into the gravity-aligned frame (y along gravity, z horizontal).
   They are absolute positions, not root-relative: subtract joint 0 for a body-centred skeleton.
   A model without an elevation output gives elevation 0 (upright == optical), noted once in the log.

Low-confidence joints: the lifter still sees every joint (the models are trained on detector-noisy
2D with all 16 joints present, so dropping one would be out of distribution); the scores only weight
the root-translation fit, and are passed through unchanged as ``LiftResult.confidence``.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import camera, metric, normalization, skeleton
from .manifest import ManifestError, load_manifest, manifest_path
from .runtime import Backend, make_backend
from .runtime.base import INPUT_NAME
from .runtime.select import TORCH_SUFFIXES

log = logging.getLogger(__name__)

J = skeleton.NUM_JOINTS


@dataclass
class LiftResult:
    """3D skeletons for N people; all arrays float64, joint order of ``skeleton.JOINT_NAMES``."""

    joints_optical: np.ndarray  # (N, 16, 3) metres, camera optical frame
    joints_upright: np.ndarray  # (N, 16, 3) metres, gravity-aligned frame at the camera centre
    shape: np.ndarray  # (N, 16, 3) root-relative, normalisation units, optical-frame axes
    elevation: np.ndarray  # (N,) radians, camera downward pitch (0 when the model has no elevation head)
    plausibility: np.ndarray | None  # (N,) negative log-likelihood, lower = more plausible; None without an nll head
    confidence: np.ndarray  # (N, 16) per-joint 2D confidence passed through (1 when no scores were given)
    translation: np.ndarray  # (N, 3) metres, the root joint's position in the optical frame
    backend: str  # backend name ("onnxruntime", "tensorrt", "torch")
    valid: np.ndarray | None = None  # (N,) bool: False where a skeleton (or its elevation) came out non-finite

    def __len__(self) -> int:
        return int(self.joints_optical.shape[0])


def check_manifest_io(manifest: dict, backend: Backend, where: str) -> None:
    """Refuse a model whose manifest's inputs/outputs disagree with what the backend loaded."""
    ins = [i.get("name") if isinstance(i, dict) else i for i in manifest["inputs"]]
    if INPUT_NAME not in ins:
        raise ManifestError(f"{where}: field 'inputs' lacks {INPUT_NAME!r} (has {ins})")
    for i in manifest["inputs"]:
        if isinstance(i, dict) and i.get("name") == INPUT_NAME and "shape" in i:
            shape = list(i["shape"])
            if len(shape) != 3 or shape[1:] != [J, 2]:
                raise ManifestError(
                    f"{where}: field 'inputs' gives {INPUT_NAME!r} shape {shape}, runtime needs (batch, {J}, 2)"
                )
    outs = {o.get("name") if isinstance(o, dict) else o for o in manifest["outputs"]}
    declared = {n for n in outs if n in ("depth", "elevation", "nll")}
    actual = set(backend.output_names)
    if declared != actual:
        raise ManifestError(f"{where}: field 'outputs' lists {sorted(declared)} but the model has {sorted(actual)}")


class Lifter:
    """A lifter model with its manifest and backend; ``lift`` turns pixels into metric 3D.

    ``backend``: "auto" (see ``runtime.select``), "onnxruntime", "tensorrt" or "torch".
    ``backend_options``: passed to the backend (``intra_op_threads``, ``device``,
    ``engine_file_path``, ``force_engine_update``, ``max_batch``, ``opt_batch``, ``torch_device``).
    """

    def __init__(self, model_path: str | Path, backend: str = "auto", **backend_options) -> None:
        self.model_path = Path(model_path)
        if not self.model_path.is_file():
            raise FileNotFoundError(f"{self.model_path}: no such model file")
        torch_file = self.model_path.suffix in TORCH_SUFFIXES
        # An ONNX model's manifest is checked (and its binding to the model) before the model is loaded;
        # a training checkpoint's is derived by the torch backend from its method.
        manifest = None if torch_file else load_manifest(self.model_path)
        self.backend: Backend = make_backend(self.model_path, backend, **backend_options)
        if manifest is None:
            manifest = getattr(self.backend, "manifest", None)
            if manifest is None:
                raise ManifestError(f"{self.model_path}: no manifest at {manifest_path(self.model_path)}")
        check_manifest_io(manifest, self.backend, str(manifest_path(self.model_path)))
        self.manifest = manifest
        self.normalization: str = manifest["normalization"]["kind"]
        self.depth_offset = float(manifest["normalization"].get("depth_offset", normalization.ELEPOSE_DEPTH_OFFSET))
        self.has_elevation = "elevation" in self.backend.output_names
        self.has_plausibility = "nll" in self.backend.output_names
        # One warm-up call: the first inference allocates (arenas, kernels), so it is paid here and
        # not on the first camera frame; it also refuses, at start-up, outputs of the wrong shape.
        self.backend.infer(np.zeros((1, J, 2), dtype=np.float32))
        if not self.has_elevation:
            log.info(
                "%s has no elevation output: elevation is taken as 0 and joints_upright equals joints_optical",
                self.model_path.name,
            )
        log.info(
            "lifter %s: normalisation %s, backend %s", self.model_path.name, self.normalization, self.backend.describe()
        )

    @property
    def backend_name(self) -> str:
        return self.backend.name

    def infer_normalized(self, poses2d: np.ndarray) -> dict[str, np.ndarray]:
        """Run the model alone on already-normalised 2D (B, 16, 2) (for evaluation and benchmarks)."""
        return self.backend.infer(poses2d)

    def lift(
        self,
        keypoints_px: np.ndarray,
        intrinsics: np.ndarray,
        scores: np.ndarray | None = None,
        height_m: float = metric.DEFAULT_BODY_HEIGHT_M,
        pool_elevation: bool = False,
    ) -> LiftResult:
        """Lift N people (N, 16, 2) pixels with K (3, 3) or (N, 3, 3) and scores (N, 16) to 3D.

        ``pool_elevation``: the N people are seen by one camera (one frame), so give them all the
        median of their elevation estimates (steadier with several people); leave False when a
        batch mixes frames of different cameras (files, evaluation).
        """
        kp = np.asarray(keypoints_px, dtype=np.float64)
        if kp.ndim != 3 or kp.shape[1:] != (J, 2):
            raise ValueError(f"keypoints_px must have shape (N, {J}, 2), got {kp.shape}")
        n = kp.shape[0]
        k = np.asarray(intrinsics, dtype=np.float64)
        if k.shape not in ((3, 3), (n, 3, 3)):
            raise ValueError(f"intrinsics must have shape (3, 3) or ({n}, 3, 3), got {k.shape}")
        if scores is None:
            conf = np.ones((n, J))
        else:
            conf = np.asarray(scores, dtype=np.float64)
            if conf.shape != (n, J):
                raise ValueError(f"scores must have shape ({n}, {J}), got {conf.shape}")
        if not height_m > 0:
            raise ValueError(f"height_m must be positive, got {height_m}")
        if n == 0:
            z3 = np.zeros((0, J, 3))
            return LiftResult(
                z3,
                z3.copy(),
                z3.copy(),
                np.zeros(0),
                np.zeros(0) if self.has_plausibility else None,
                conf,
                np.zeros((0, 3)),
                self.backend.name,
                np.zeros(0, dtype=bool),
            )
        if not np.all(np.isfinite(kp)):
            raise ValueError("keypoints_px holds NaN or inf")
        kk = k.reshape(-1, 3, 3)
        if not (np.all(np.isfinite(kk)) and np.all(kk[:, 0, 0] > 0) and np.all(kk[:, 1, 1] > 0)):
            raise ValueError("intrinsics must be finite with positive focal lengths (an uncalibrated K is all zeros)")

        xy, rot = camera.pixels_to_root_camera(kp, k)
        norm, _ = normalization.normalize_2d(xy, self.normalization, self.depth_offset)
        out = self.backend.infer(norm.astype(np.float32))
        return recover_3d(
            kp,
            k,
            conf,
            norm,
            out,
            self.normalization,
            height_m,
            self.depth_offset,
            self.backend.name,
            pool_elevation,
            root_rotation=rot,
        )

    def close(self) -> None:
        """Free the backend."""
        self.backend.close()

    def __enter__(self) -> "Lifter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def recover_3d(
    keypoints_px: np.ndarray,
    intrinsics: np.ndarray,
    scores: np.ndarray,
    normalized: np.ndarray,
    outputs: dict[str, np.ndarray],
    kind: str,
    height_m: float = metric.DEFAULT_BODY_HEIGHT_M,
    depth_offset: float = normalization.ELEPOSE_DEPTH_OFFSET,
    backend: str = "",
    pool_elevation: bool = False,
    root_rotation: np.ndarray | None = None,
) -> LiftResult:
    """Steps 3-7 of the pipeline (module docstring): a lifter's ``outputs`` ("depth", optional
    "elevation", "nll") for the ``normalized`` 2D of ``keypoints_px`` to metric 3D.

    ``Lifter.lift`` calls this after the network; benchmarks/metric_recovery.py calls it with
    oracle outputs (true depths and elevation) to measure the error of the geometry alone.
    ``root_rotation`` (N, 3, 3): the optical-to-virtual-camera rotations of
    ``camera.pixels_to_root_camera`` that ``normalized`` was made in (None: identity); the shape and
    the predicted elevation are rotated back into the optical frame.
    """
    n = keypoints_px.shape[0]
    depth = np.asarray(outputs["depth"], dtype=np.float64)
    shape = normalization.lift_to_3d(normalized, depth, kind, depth_offset)
    if root_rotation is not None:
        shape = np.einsum("nji,nkj->nki", root_rotation, shape)  # virtual camera -> optical axes
    shape_m = metric.scale_to_height(shape, height_m)
    t = metric.solve_root_translation(shape_m, keypoints_px, intrinsics, weights=scores)
    joints_optical = shape_m + t[:, None, :]
    if outputs.get("elevation") is not None:
        elevation = np.asarray(outputs["elevation"], dtype=np.float64)
        if root_rotation is not None:
            elevation = camera.elevation_in_optical(elevation, root_rotation)
        if pool_elevation and n > 1 and np.isfinite(elevation).any():  # one person's NaN must not spoil the others
            elevation = np.full(n, np.nanmedian(elevation))
        joints_upright = camera.upright_from_optical(joints_optical, elevation)
    else:
        elevation = np.zeros(n)
        joints_upright = joints_optical.copy()
    plaus = np.asarray(outputs["nll"], dtype=np.float64) if outputs.get("nll") is not None else None
    valid = (
        np.isfinite(joints_upright).all(axis=(1, 2))
        & np.isfinite(joints_optical).all(axis=(1, 2))
        & np.isfinite(elevation)
    )
    if not valid.all():
        log.warning(
            "lifter returned non-finite joints for %d of %d people (see LiftResult.valid)", int((~valid).sum()), n
        )
    return LiftResult(joints_optical, joints_upright, shape, elevation, plaus, scores, t, backend, valid)
