"""One frame through the product: RGB image -> 2D people -> one lifter batch -> metric 3D people.

ROS-free: the ROS node (hpe3d_ros.node.lift_node) and the bag replay both call exactly
``PosePipeline(params).process(image_rgb, K, stamp_ns)``. Decoding the image is the caller's job.

Stages timed per frame (seconds, in ``FrameResult.timings``):
- ``detect``: the 2D detector (``hpe3d_ros.detection.make_detector``, NanoDet + BlazePose by default) on the RGB image;
- ``map``: the detections to one batch (keypoints, scores, intrinsics) in the joint layout;
- ``lift``: all people of the frame in one call of hpe3d_ros.lifting.Lifter (normalise, network,
  elevation, metric scale and root translation);
- ``scene``: the scene stage (``hpe3d_ros.scene``, docs/placement.md): the camera's elevation (the
  mount's pitch or a running estimate over frames), ground-plane placement fused with the body-height
  prior, per-track heading, velocity and head yaw (``Person3D.state``). Not in detector-only mode.

Parameters (a flat dict; unknown keys are an error so that typos do not pass silently):
``model_file_path``, ``backend`` (the lifter's runtime, or ``mediapipe_world``: BlazePose's own world
landmarks instead of a learned lifter, hpe3d_ros.world_landmarks), ``engine_file_path``,
``force_engine_update``, ``lifter_threads`` (ONNX Runtime intra-op threads, 0 = its default),
``body_height_m``, ``fallback_hfov_deg``, ``lift`` (False: detector only, for measuring the cost of
lifting), ``scene`` (a dict of the scene stage's parameters by their node names, ``camera_mount.z`` ...:
``hpe3d_ros.scene.SceneParams``) and ``detector`` (a dict passed to
``hpe3d_ros.detection.make_detector``: ``kind``, default "nanodet", and that kind's parameters).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from . import camera, paths, skeleton
from .metric import DEFAULT_BODY_HEIGHT_M
from .scene import Scene, SceneParams

DEFAULT_MODEL = "engines/ours_bandai.onnx"

DEFAULTS: dict[str, Any] = {
    "model_file_path": DEFAULT_MODEL,
    "backend": "auto",
    "engine_file_path": "",
    "force_engine_update": False,
    "lifter_threads": 1,
    "body_height_m": DEFAULT_BODY_HEIGHT_M,
    "fallback_hfov_deg": 60.0,
    "lift": True,
    "detector": {},
    "scene": {},
}
BACKENDS = ("auto", "onnxruntime", "tensorrt", "torch", "mediapipe_world")  # the last: world_landmarks.py


@dataclass
class Person3D:
    """One person of a frame in metres; joints follow hpe3d_ros.skeleton (16 joints)."""

    track_id: int
    joints_optical: np.ndarray  # (16, 3) metres, camera optical frame (z forward, x right, y down)
    joints_upright: np.ndarray  # (16, 3) metres, gravity-aligned camera frame (y along gravity)
    confidence: np.ndarray  # (16,) per-joint 2D confidence in [0, 1]
    plausibility: float | None  # the model's negative log-likelihood (lower = more plausible), or None
    elevation: float  # camera elevation (downward pitch) in radians predicted for this person
    keypoints_px: np.ndarray | None = None  # (16, 2) the 2D joints it was lifted from
    bbox: tuple | None = None  # (x0, y0, x1, y1) pixels
    landmarks: np.ndarray | None = None  # the detector's own points (Person2D.landmarks), when it gives them
    state: Any = None  # hpe3d_ros.scene.PersonState: placement, heading, velocity, head yaw (the scene stage)


@dataclass
class FrameResult:
    """What ``PosePipeline.process`` returns for one frame."""

    people: list[Person3D]
    timings: dict[str, float]  # stage -> seconds
    stamp_ns: int = 0
    intrinsics: np.ndarray | None = None  # the K used (the fallback one when none was given)
    intrinsics_fallback: bool = False  # True when K was missing, uncalibrated or implausible
    backend: str = ""
    extra: dict = field(default_factory=dict)
    intrinsics_problem: str = ""  # why the fallback was used ('' when K was used)
    dropped_nonfinite: int = 0  # people left out because their lift came out non-finite (LiftResult.valid)


def resolve_model_path(model: str | Path) -> Path:
    """A model path as given, or relative to the package share directory (engines/...)."""
    p = Path(str(model)).expanduser()
    if p.is_absolute() or p.is_file():
        return p
    return paths.share_dir() / p


def check_params(params: dict | None) -> dict:
    """Defaults filled in and values checked; raises ValueError naming the bad key."""
    params = dict(params or {})
    unknown = set(params) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"PosePipeline: unknown parameters {sorted(unknown)}; known: {sorted(DEFAULTS)}")
    out = {**DEFAULTS, **params}
    if out["backend"] not in BACKENDS:
        raise ValueError(f"PosePipeline: backend must be one of {BACKENDS}, got {out['backend']!r}")
    if not 0.5 <= float(out["body_height_m"]) <= 2.5:
        raise ValueError(f"PosePipeline: body_height_m must be in [0.5, 2.5] metres, got {out['body_height_m']}")
    if not 1.0 < float(out["fallback_hfov_deg"]) < 179.0:
        raise ValueError(f"PosePipeline: fallback_hfov_deg must be in (1, 179) degrees, got {out['fallback_hfov_deg']}")
    if not isinstance(out["detector"], dict):
        raise ValueError(
            f"PosePipeline: detector must be a dict of detector parameters, got {type(out['detector']).__name__}"
        )
    if not isinstance(out["scene"], dict):
        raise ValueError(f"PosePipeline: scene must be a dict of scene parameters, got {type(out['scene']).__name__}")
    try:
        SceneParams.from_flat(out["scene"])
    except (TypeError, ValueError) as e:
        raise ValueError(f"PosePipeline: scene: {e}") from None
    return out


def frame_intrinsics(k: np.ndarray | None, width: int, height: int, fallback_hfov_deg: float) -> tuple[np.ndarray, str]:
    """K to use for a frame, and '' or why the field-of-view fallback is used instead: K missing, or
    not a plausible camera for this image size (``camera.intrinsics_problem``)."""
    problem = "no camera intrinsics"
    if k is not None:
        problem = camera.intrinsics_problem(k, width, height)
        if not problem:
            return np.asarray(k, dtype=np.float64).reshape(3, 3), ""
    return camera.intrinsics_from_fov(width, height, fallback_hfov_deg), problem


class PosePipeline:
    """Detect -> map -> lift for one RGB frame at a time; holds the detector (with its tracker) and the lifter."""

    def __init__(self, params: dict | None = None, detector: Any = None, lifter: Any = None):
        """Build the detector and the lifter from ``params`` (see module docstring); either may be
        passed in ready-made instead (tests, benchmarks)."""
        self.params = check_params(params)
        if detector is None:
            from .detection import make_detector

            detector = make_detector(self.params["detector"])
        self.detector = detector
        self.lifter = None
        if self.params["lift"]:
            if lifter is None:
                lifter = self._make_lifter()
            self.lifter = lifter
        self.scene = Scene(SceneParams.from_flat(self.params["scene"]))
        self.backend = self._describe_backend()

    def _describe_backend(self) -> str:
        if self.lifter is None:
            return "none (detector only)"
        if hasattr(self.lifter, "describe"):
            return str(self.lifter.describe())
        b = getattr(self.lifter, "backend", None)
        if hasattr(b, "describe"):
            return str(b.describe())
        return str(getattr(self.lifter, "backend_name", b or ""))

    def _make_lifter(self) -> Any:
        from .lifting import Lifter

        model = resolve_model_path(self.params["model_file_path"])
        if not model.is_file():
            raise FileNotFoundError(f"PosePipeline: model_file_path {model} does not exist")
        if self.params["backend"] == "mediapipe_world":  # the lifter model gives the elevation only
            from .world_landmarks import WorldLandmarkLifter

            return WorldLandmarkLifter(Lifter(str(model), backend="auto", intra_op_threads=1))
        kwargs: dict[str, Any] = {"backend": self.params["backend"]}
        if self.params["engine_file_path"]:
            kwargs["engine_file_path"] = str(self.params["engine_file_path"])
        if self.params["force_engine_update"]:
            kwargs["force_engine_update"] = True
        if int(self.params["lifter_threads"]) > 0:
            kwargs["intra_op_threads"] = int(self.params["lifter_threads"])
        return Lifter(str(model), **kwargs)

    def set_body_height(self, height_m: float) -> None:
        """Change the body-height prior (metres) used for metric scale."""
        self.params = check_params({**self.params, "body_height_m": float(height_m)})

    def set_scene_params(self, scene: dict) -> None:
        """New scene-stage parameters (node names; thread-safe): its elevation estimate and track filters restart."""
        self.params = check_params({**self.params, "scene": dict(scene)})
        self.scene.configure(SceneParams.from_flat(self.params["scene"]))

    def place(self, people: Sequence[Person3D], k: np.ndarray, stamp_ns: int, image_size: tuple[int, int]) -> None:
        """The scene stage on a frame's lifted people (changed in place; docs/placement.md)."""
        self.scene.update(list(people), k, stamp_ns, image_size, float(self.params["body_height_m"]))

    def set_fallback_hfov(self, hfov_deg: float) -> None:
        """Change the field of view used when K is missing or uncalibrated."""
        self.params = check_params({**self.params, "fallback_hfov_deg": float(hfov_deg)})

    def process(self, image_rgb: np.ndarray, k: np.ndarray | None = None, stamp_ns: int = 0) -> FrameResult:
        """Run one RGB uint8 frame (H, W, 3) with intrinsics K (3, 3) or None (field-of-view fallback)."""
        image_rgb = np.asarray(image_rgb)
        if image_rgb.ndim != 3 or image_rgb.shape[2] != 3 or image_rgb.dtype != np.uint8:
            raise ValueError(
                f"PosePipeline.process: expected an RGB uint8 (H, W, 3) image, got {image_rgb.dtype} {image_rgb.shape}"
            )
        h, w = image_rgb.shape[:2]
        timings: dict[str, float] = {}

        t0 = time.perf_counter()
        detections = list(self.detector.detect(image_rgb))
        t1 = time.perf_counter()
        timings["detect"] = t1 - t0

        k_used, problem = frame_intrinsics(k, w, h, self.params["fallback_hfov_deg"])
        n = len(detections)
        keypoints = np.zeros((n, skeleton.NUM_JOINTS, 2), dtype=np.float64)
        scores = np.zeros((n, skeleton.NUM_JOINTS), dtype=np.float64)
        for i, d in enumerate(detections):
            keypoints[i] = np.asarray(d.keypoints, dtype=np.float64).reshape(skeleton.NUM_JOINTS, 2)
            scores[i] = np.asarray(d.scores, dtype=np.float64).reshape(skeleton.NUM_JOINTS)
        t2 = time.perf_counter()
        timings["map"] = t2 - t1

        dropped = 0
        if self.lifter is not None:
            bboxes = [
                tuple(float(v) for v in d.bbox) if getattr(d, "bbox", None) is not None else None for d in detections
            ]
            world = None
            if getattr(self.lifter, "needs_world_landmarks", False):
                if any(getattr(d, "world_landmarks", None) is None for d in detections):
                    raise ValueError("PosePipeline: backend mediapipe_world needs a detector giving world landmarks")
                world = np.array([d.world_landmarks for d in detections]).reshape(n, -1, 3)
            people, dropped = self.lift_batch(
                keypoints, scores, k_used, [d.track_id for d in detections], bboxes, world
            )
        else:
            people = [self._unlifted(d.track_id, keypoints[i], scores[i], k_used, d) for i, d in enumerate(detections)]
            finite = [p for p in people if np.isfinite(p.joints_optical).all() and np.isfinite(p.confidence).all()]
            people, dropped = finite, len(people) - len(finite)
        t3 = time.perf_counter()
        timings["lift"] = t3 - t2
        if self.lifter is not None:
            landmarks = {d.track_id: getattr(d, "landmarks", None) for d in detections}
            for p in people:
                p.landmarks = landmarks.get(p.track_id)
            self.place(people, k_used, stamp_ns, (w, h))
            timings["scene"] = time.perf_counter() - t3
        return FrameResult(
            people,
            timings,
            int(stamp_ns),
            k_used,
            bool(problem),
            self.backend,
            intrinsics_problem=problem,
            dropped_nonfinite=dropped,
        )

    def lift_batch(
        self,
        keypoints: np.ndarray,
        scores: np.ndarray,
        k: np.ndarray,
        track_ids: Sequence[int],
        bboxes: Sequence[tuple | None] | None = None,
        world: np.ndarray | None = None,
    ) -> tuple[list[Person3D], int]:
        """Lift N people of one frame (keypoints (N, 16, 2) px, scores (N, 16), K (3, 3)) in one batch;
        returns the people and the number left out because their lift came out non-finite
        (``LiftResult.valid``: NaN or inf joints or elevation; a non-finite plausibility becomes None),
        so nothing non-finite reaches the output messages.

        They are seen by one camera at one instant, so they share one camera elevation: the median of
        the people's estimates (``Lifter.lift(pool_elevation=True)``), and every skeleton is made
        upright with it (docs/runtime.md). ``world`` (N, 33, 3): the detector's world landmarks, for the
        ``mediapipe_world`` backend."""
        n = len(keypoints)
        if n == 0:
            return [], 0
        extra = {} if world is None else {"world": world}
        res = self.lifter.lift(
            keypoints, k, scores, height_m=float(self.params["body_height_m"]), pool_elevation=True, **extra
        )
        plaus = getattr(res, "plausibility", None)
        valid = np.ones(n, dtype=bool) if res.valid is None else np.asarray(res.valid, dtype=bool)
        valid &= np.isfinite(np.asarray(scores, dtype=np.float64)).all(axis=1)
        people = [
            Person3D(
                track_id=int(track_ids[i]),
                joints_optical=np.asarray(res.joints_optical[i], dtype=np.float64),
                joints_upright=np.asarray(res.joints_upright[i], dtype=np.float64),
                confidence=scores[i],
                plausibility=None if plaus is None or not np.isfinite(plaus[i]) else float(plaus[i]),
                elevation=float(res.elevation[i]),
                keypoints_px=keypoints[i],
                bbox=None if bboxes is None else bboxes[i],
            )
            for i in range(n)
            if valid[i]
        ]
        return people, int(n - valid.sum())

    def _unlifted(self, track_id: int, kp: np.ndarray, sc: np.ndarray, k: np.ndarray, d: Any) -> Person3D:
        """Detector-only mode: the 2D joints on their camera rays at a fixed 3 m (a placeholder, not a 3D estimate)."""
        xy = camera.pixels_to_normalized(kp, k)
        pts = np.concatenate([xy * 3.0, np.full((len(xy), 1), 3.0)], axis=-1)
        bbox = tuple(float(v) for v in d.bbox) if getattr(d, "bbox", None) is not None else None
        return Person3D(int(track_id), pts, pts.copy(), sc, None, 0.0, kp, bbox)
