"""A bag with 3D ground truth from mocap: `hpe3d make-bag --mocap-test-clips N --out B` (training/cli_make_bag.py).

Bandai Namco test clips (``training.data.mocap.load_split``) are seen through one fixed virtual camera
per clip (the project's camera model: ``camera.sample_cameras`` with config/cameras.yaml, aimed at
the clip's mean pelvis position and resampled until every frame is inside the image; the 2D gets
``training.data.render.detector_noise`` unless ``--clean``). Clips follow each other with a one-second
gap, one person per frame, track id = clip number. Per frame, at one bag time (= the stamps):

- ``/camera/camera_info`` sensor_msgs/CameraInfo: K of the clip's camera, 640x480, no distortion;
- ``/hpe3d/keypoints2d`` std_msgs/Float32MultiArray: layout dims ``person`` (P), ``joint`` (16),
  ``channel`` (4) = u, v (pixels), score (0..1), track id; row-major, data_offset 0;
- ``/hpe3d/ground_truth`` geometry_msgs/PoseArray: the P x 16 joints (person-major, the order of
  docs/joint_layout.md) in metres in the camera optical frame, identity orientations, header stamp
  and frame_id as the CameraInfo.

`hpe3d replay` lifts such bags through the pipeline's lift stage and reports the accuracy.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from hpe3d_ros import camera, paths, skeleton
from hpe3d_ros.replay.bag_io import OutputBag
from hpe3d_ros.replay.keypoint_msgs import ground_truth_msg, keypoints_msg
from hpe3d_ros.replay.make_bag import DEFAULT_START_NS
from hpe3d_ros.ros_convert import camera_info_msg

J = skeleton.NUM_JOINTS
FRAME_ID = "mocap_camera_optical_frame"
CLIP_GAP_NS = 1_000_000_000
CAMERA_TRIES = 200


def fixed_camera(joints_world: np.ndarray, config: camera.VirtualCameraConfig, rng: np.random.Generator,
                 min_depth_m: float = 0.5, margin_px: float = 2.0):
    """One camera aimed at the clip's mean pelvis that sees every frame; (VirtualCameras of 1, optical joints, "
    "pixels)."""
    roots = joints_world[:, skeleton.ROOT].mean(axis=0, keepdims=True)
    w, h = config.image_size
    best = None
    for _ in range(CAMERA_TRIES):
        cams = camera.sample_cameras(1, roots, config, rng)
        pts = np.einsum("ij,nkj->nki", cams.rotation[0], joints_world) + cams.translation[0]
        with np.errstate(invalid="ignore", divide="ignore"):
            uv = camera.project(pts, cams.intrinsics[0])
        ok = (
            (pts[..., 2] >= min_depth_m).all(-1)
            & (uv[..., 0] >= margin_px).all(-1)
            & (uv[..., 0] <= w - 1 - margin_px).all(-1)
            & (uv[..., 1] >= margin_px).all(-1)
            & (uv[..., 1] <= h - 1 - margin_px).all(-1)
        )
        if ok.all():
            return cams, pts, uv, ok
        if best is None or ok.sum() > best[3].sum():
            best = (cams, pts, uv, ok)
    return best


def make_gt_bag(
    out: str | Path,
    clips: int,
    split: str = "test",
    data_root: str | Path | None = None,
    max_frames_per_clip: int | None = 150,
    every: int = 1,
    seed: int = 0,
    noise: bool = True,
    storage: str = "mcap",
) -> dict:
    """Write the ground-truth bag (see the module docstring); returns a summary."""
    from . import mocap, render

    if clips < 1:
        raise ValueError(f"--mocap-test-clips must be at least 1, got {clips}")
    cache = None
    if data_root is not None:  # a private cache: never overwrite the shared dataset's cache with another root's
        key = hashlib.sha1(str(Path(data_root).resolve()).encode()).hexdigest()[:10]
        cache = paths.cache_dir() / f"gt-bag-mocap-{key}"
    elif paths.bandai_dir() is None:
        raise FileNotFoundError("the Bandai Namco mocap is not at ../shared/data/bandai-namco; pass --mocap-root")
    data = mocap.load_split(split, data_root=data_root, cache=cache)
    if not len(data.clips):
        raise ValueError(f"the {split!r} split has no clips")
    settings = render.load_camera_settings()
    config, noise_cfg = settings["cameras"], settings["detector_noise"]
    rng = np.random.default_rng(seed)
    chosen = sorted(set(np.linspace(0, len(data.clips) - 1, min(clips, len(data.clips))).round().astype(int).tolist()))
    stamp = DEFAULT_START_NS
    summary = {"bag": str(out), "clips": [], "frames": 0}
    with OutputBag(out, storage=storage) as bag:
        for track, ci in enumerate(chosen):
            clip = data.clips[ci]
            sel = np.flatnonzero(data.clip == ci)
            sel = sel[np.argsort(data.frame[sel])] if data.frame.size else sel
            sel = sel[:: max(1, int(every))]
            if max_frames_per_clip:
                sel = sel[:max_frames_per_clip]
            world = data.joints[sel].astype(np.float64)
            cams, pts, uv, ok = fixed_camera(
                world, config, rng, settings["render"]["min_depth_m"], settings["render"]["margin_px"]
            )
            pts, uv = pts[ok], uv[ok]
            scores = np.ones((len(uv), J), dtype=np.float32)
            if noise:
                uv, scores = render.detector_noise(uv, scores, rng, noise_cfg["jitter_px"], noise_cfg["drop_prob"])
            k = cams.intrinsics[0]
            period = int(round(1e9 * max(1, int(every)) / float(clip.get("fps", 30.0))))
            for i in range(len(uv)):
                bag.write_ros(
                    "/camera/camera_info",
                    camera_info_msg(k, config.image_size[0], config.image_size[1], stamp, FRAME_ID),
                    stamp,
                )
                bag.write_ros(
                    "/hpe3d/keypoints2d", keypoints_msg(uv[i][None], scores[i][None], np.array([track])), stamp
                )
                bag.write_ros("/hpe3d/ground_truth", ground_truth_msg(pts[i][None], stamp, FRAME_ID), stamp)
                stamp += period
            stamp += CLIP_GAP_NS
            summary["clips"].append(
                {
                    "track_id": track,
                    "name": clip["name"],
                    "content": clip["content"],
                    "frames": int(len(uv)),
                    "elevation_deg": float(np.degrees(cams.elevation[0])),
                    "hfov_k_fx": float(k[0, 0]),
                }
            )
            summary["frames"] += int(len(uv))
    return summary
