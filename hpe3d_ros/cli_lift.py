"""`hpe3d lift`: lift a file of 2D keypoints (hpe3d_ros.poses_io format) to 3D with a model.

Writes (atomically, .npz): ``joints3d`` (N, 16, 3) metres in the camera optical frame,
``joints_upright`` (N, 16, 3) gravity-aligned, ``elevation`` (N,) rad, ``plausibility`` (N,) when
the model has an nll head, ``shape`` (N, 16, 3) normalised root-relative, ``translation`` (N, 3),
``scores`` (N, 16), ``intrinsics`` used, ``joint_names``, ``backend``, and every other array of the
input (``keypoints``, frame indices, ...; an input key that clashes with an output is kept as
``input_<key>``).
"""
from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np

from . import camera, skeleton
from .metric import DEFAULT_BODY_HEIGHT_M
from .pipeline import DEFAULT_MODEL, resolve_model_path
from .poses_io import PoseFileError, load_poses2d, save_npz_atomic

log = logging.getLogger(__name__)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", default=DEFAULT_MODEL,
                   help="ONNX model with its .json manifest (or a .pt checkpoint for --backend torch); a relative path "
                        "that does not exist here is looked up in the package share directory (default: %(default)s)")
    p.add_argument(
        "--input",
        required=True,
        help="2D pose file (.npz: keypoints (N,16,2) px, optional scores (N,16), intrinsics (3,3) or (N,3,3), "
        "image_size (2,) = width, height; docs/runtime.md)",
    )
    p.add_argument("--output", required=True, help="3D pose file to write (.npz)")
    p.add_argument(
        "--backend",
        default="auto",
        choices=["auto", "onnxruntime", "tensorrt", "torch"],
        help="lifter runtime (default: auto)",
    )
    p.add_argument(
        "--height",
        type=float,
        default=DEFAULT_BODY_HEIGHT_M,
        help="body-height prior in metres for metric scale (default: %(default)s, docs/metrics.md)",
    )
    p.add_argument(
        "--hfov",
        type=float,
        default=None,
        help="horizontal field of view in degrees, used with the file's image_size when it has no intrinsics",
    )
    p.add_argument("--threads", type=int, default=1, help="ONNX Runtime intra-op threads (default: %(default)s)")
    p.add_argument("--batch-size", type=int, default=4096, help="poses per lifter call (default: %(default)s)")
    p.add_argument("--engine-file-path", default=None, help="TensorRT engine cache file (backend tensorrt)")
    p.add_argument("--force-engine-update", action="store_true", help="rebuild the TensorRT engine")


def intrinsics_for(data: dict, hfov: float | None, where: str) -> np.ndarray:
    """K from the file, else from its image_size and --hfov; a clear error otherwise."""
    if "intrinsics" in data:
        return np.asarray(data["intrinsics"], dtype=np.float64)
    if "image_size" not in data:
        raise PoseFileError(
            f"{where}: no 'intrinsics' and no 'image_size'; add intrinsics to the file, or image_size and --hfov DEG"
        )
    if hfov is None:
        raise PoseFileError(
            f"{where}: no 'intrinsics'; give --hfov DEG (horizontal field of view) to use its image_size "
            f"{list(data['image_size'])}"
        )
    w, h = (int(v) for v in data["image_size"])
    log.warning("%s: no intrinsics, assuming a centred pinhole with %.1f deg horizontal field of view", where, hfov)
    return camera.intrinsics_from_fov(w, h, hfov)


def run(args: argparse.Namespace) -> int:
    if not args.height > 0:
        raise ValueError(f"--height must be positive, got {args.height}")
    if args.batch_size < 1:
        raise ValueError(f"--batch-size must be >= 1, got {args.batch_size}")
    inp, out = Path(args.input), Path(args.output)
    if inp.resolve() == out.resolve():
        raise ValueError(f"--output {out} would overwrite the --input file")
    data = load_poses2d(inp)
    k = intrinsics_for(data, args.hfov, str(inp))  # before loading the model: fail fast on bad input

    from .lifting import Lifter
    from .runtime import BackendUnavailable

    options = {
        "intra_op_threads": args.threads,
        "engine_file_path": args.engine_file_path,
        "force_engine_update": args.force_engine_update,
    }
    try:
        lifter = Lifter(resolve_model_path(args.model), backend=args.backend, **options)
    except BackendUnavailable as e:  # a missing library or GPU: the user's to fix, no traceback
        raise ValueError(f"backend {args.backend!r} unavailable: {e}") from e
    kp, scores = data["keypoints"], data["scores"]
    n = kp.shape[0]
    parts = []
    for i in range(0, max(n, 1), args.batch_size):
        sl = slice(i, min(i + args.batch_size, n))
        parts.append(lifter.lift(kp[sl], k if k.ndim == 2 else k[sl], scores[sl], height_m=args.height))
    results = {
        "joints3d": np.concatenate([p.joints_optical for p in parts]),
        "joints_upright": np.concatenate([p.joints_upright for p in parts]),
        "elevation": np.concatenate([p.elevation for p in parts]),
        "shape": np.concatenate([p.shape for p in parts]),
        "translation": np.concatenate([p.translation for p in parts]),
        "scores": scores,
        "intrinsics": k,
        "joint_names": np.array(skeleton.JOINT_NAMES),
        "backend": np.array(lifter.backend_name),
        "height_m": np.array(args.height),
    }
    if lifter.has_plausibility:
        results["plausibility"] = np.concatenate([p.plausibility for p in parts])
    carried = {}
    for key, value in data.items():
        if key in ("scores", "intrinsics"):
            continue
        carried[key if key not in results else f"input_{key}"] = np.asarray(value)
    save_npz_atomic(out, **carried, **results)
    print(f"lifted {n} pose(s) with {lifter.backend.describe()} -> {out}")
    return 0
