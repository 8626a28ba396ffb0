"""MediaPipe's own 3D, as a lifter: the ``mediapipe_world`` backend (a baseline to compare the learned
lifters with on your own data, published through the same outputs).

BlazePose predicts, besides its 2D landmarks, 33 "world landmarks": metric 3D points with the origin
between the hips, in the frame of the region it looked at (x right, y down, z away from the camera;
blazepose.py / landmarker.py rotate them back from the region's rotation). Every detector kind here
runs BlazePose, so every person comes with them (``Person2D.world_landmarks``). This lifter:

1. maps them to the joint layout with the MediaPipe rules of hpe3d_ros.skeleton (the same rules as the
   2D keypoints) and makes them root-relative;
2. takes their frame as the person's root-centred virtual camera, as the learned lifters' input is
   (camera.pixels_to_root_camera: the region is centred on the person), and rotates them into the
   camera's optical frame as lifting.recover_3d does for a lifter's output;
3. scales them to the body-height prior (``body_height_m``, as every lifter: BlazePose's own metric
   size is replaced so that the comparison is of shape, not of scale) and places them with the same
   least-squares root translation on the 2D keypoints (metric.solve_root_translation).

Elevation and "upright": world landmarks carry no gravity; their frame is the camera's. The elevation
(and so ``joints_upright``) is taken from the learned lifter of ``model_file_path``, pooled over the
people of the frame exactly as with that lifter, so the two backends stand skeletons up the same way;
without a lifter model the elevation is 0 and ``joints_upright`` equals ``joints_optical``.
Plausibility: none (no likelihood head).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from . import camera, metric, skeleton
from .lifting import LiftResult

BACKEND = "mediapipe_world"


class WorldLandmarkLifter:
    """``lift(keypoints_px, K, scores, height_m, pool_elevation, world)`` -> LiftResult (module docstring)."""

    backend_name = BACKEND
    needs_world_landmarks = True

    def __init__(self, elevation_lifter: Any | None = None):
        """``elevation_lifter``: a hpe3d_ros.lifting.Lifter whose pooled elevation stands the skeletons
        upright (None: elevation 0)."""
        self.elevation_lifter = elevation_lifter

    def describe(self) -> str:
        """One line for logs and diagnostics."""
        if self.elevation_lifter is None:
            return f"{BACKEND} (no elevation: upright = optical)"
        lifter = self.elevation_lifter
        return f"{BACKEND}, elevation from {lifter.model_path.name} ({lifter.backend_name})"

    def lift(
        self,
        keypoints_px: np.ndarray,
        intrinsics: np.ndarray,
        scores: np.ndarray | None = None,
        height_m: float = metric.DEFAULT_BODY_HEIGHT_M,
        pool_elevation: bool = False,
        world: np.ndarray | None = None,
    ) -> LiftResult:
        """N people: keypoints (N, 16, 2) px, K (3, 3), scores (N, 16), world landmarks (N, 33, 3) metres."""
        kp = np.asarray(keypoints_px, dtype=np.float64)
        n = kp.shape[0]
        conf = np.ones((n, skeleton.NUM_JOINTS)) if scores is None else np.asarray(scores, dtype=np.float64)
        if world is None or np.asarray(world).shape != (n, skeleton.NUM_MEDIAPIPE_LANDMARKS, 3):
            got = None if world is None else np.asarray(world).shape
            raise ValueError(f"{BACKEND}: needs the detector's world landmarks ({n}, 33, 3), got {got}")
        if n == 0:
            z3 = np.zeros((0, skeleton.NUM_JOINTS, 3))
            return LiftResult(z3, z3.copy(), z3.copy(), np.zeros(0), None, conf, np.zeros((0, 3)), BACKEND,
                              np.zeros(0, dtype=bool))
        joints = skeleton.from_mediapipe(np.asarray(world, dtype=np.float64))
        virtual = joints - joints[:, skeleton.ROOT : skeleton.ROOT + 1]
        _, rot = camera.pixels_to_root_camera(kp, intrinsics)
        shape = np.einsum("nji,nkj->nki", rot, virtual)  # virtual camera -> optical axes
        shape_m = metric.scale_to_height(shape, height_m)
        t = metric.solve_root_translation(shape_m, kp, intrinsics, weights=conf)
        joints_optical = shape_m + t[:, None, :]
        if self.elevation_lifter is not None:
            elevation = np.asarray(
                self.elevation_lifter.lift(kp, intrinsics, conf, height_m=height_m, pool_elevation=pool_elevation)
                .elevation, dtype=np.float64)
        else:
            elevation = np.zeros(n)
        joints_upright = camera.upright_from_optical(joints_optical, elevation)
        valid = np.isfinite(joints_upright).all(axis=(1, 2))
        return LiftResult(joints_optical, joints_upright, shape, elevation, None, conf, t, BACKEND, valid)

    def close(self) -> None:
        """Free the elevation lifter."""
        if self.elevation_lifter is not None:
            self.elevation_lifter.close()
