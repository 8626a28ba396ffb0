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

With ``--mounted-camera`` (``make_mounted_gt_bag``, settings in config/mounted_camera.yaml) the clips are
seen instead by ONE camera mounted at a known height and pitch above flat ground (an in-car camera):
each clip's body is scaled to a stature drawn from an adult mixture and the clip is put at a random
distance (3-40 m), bearing (inside the field of view) and walking direction; half of the clips are
locomotion (walk, run). ``--mocap-split hdm05-cross`` takes the clips instead from the cross-dataset
benchmark's held-out HDM05 actors (their own bodies and motions, scaled uniformly from their
own stature; locomotion: jog, sneak), for the cross-dataset twin of the placement figures.
Beside the topics above, per frame:

- ``/hpe3d/ground_truth_camera`` geometry_msgs/PoseStamped: the camera's body frame (x forward, y left,
  z up) in the ground frame (z up, ground at z = 0), so the report can score the placement, the
  heading and the velocity in the true ground frame (hpe3d_ros.replay.keypoint_msgs.parse_camera_pose).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hpe3d_ros import camera, paths, skeleton
from hpe3d_ros.replay.bag_io import OutputBag
from hpe3d_ros.replay.keypoint_msgs import camera_pose_msg, ground_truth_msg, keypoints_msg
from hpe3d_ros.replay.make_bag import DEFAULT_START_NS
from hpe3d_ros.ros_convert import camera_info_msg

J = skeleton.NUM_JOINTS
FRAME_ID = "mocap_camera_optical_frame"
CLIP_GAP_NS = 1_000_000_000
CAMERA_TRIES = 200
GROUND_FRAME_ID = "mocap_ground"
CAMERA_POSE_TOPIC = "/hpe3d/ground_truth_camera"
LOCOMOTION_CONTENT = ("walk", "run", "dash", "jog", "sneak")  # content names starting with these are locomotion
CROSS_SPLIT = "hdm05-cross"  # --mocap-split: the cross-dataset benchmark's held-out HDM05 actors (crossdata.yaml)
HDM05_BAG_SUBSAMPLE = 4  # 120 fps -> 30 fps
MOUNTED_KEYS = {"camera": {"height_m", "pitch_deg", "roll_deg", "image_size", "hfov_deg"},
                "people": {"distance_m", "bearing_margin_deg", "stature_m", "stature_range_m", "locomotion_share",
                           "tries"}}


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


@dataclass
class _Clips:
    """Frames of clips in the shape the bag writers read from ``mocap.load_split``: ``joints`` (N, 16, 3)
    world metres, per frame its ``clip`` index into ``clips`` (dicts: name, content, fps, stature_m) and
    ``frame``."""

    joints: np.ndarray
    clip: np.ndarray
    frame: np.ndarray
    clips: list[dict]


def _load_hdm05_cross() -> _Clips:
    """The held-out HDM05 actors of the cross-dataset benchmark (never trained on) at 30 fps, each clip
    with its actor's own stature (``training.data.body.stature``)."""
    from . import body, crossdata, hdm05

    d = hdm05.load_hdm05(crossdata.load_config()["hdm05"]["test_actors"], subsample=HDM05_BAG_SUBSAMPLE)
    names, clip_idx = np.unique(d.clip, return_inverse=True)
    stature = {str(a): body.stature(d.joints[d.actor == a])["stature_m"] for a in np.unique(d.actor)}
    clips = []
    for i, name in enumerate(names):
        first = int(np.flatnonzero(clip_idx == i)[0])
        clips.append({"name": str(name), "content": str(d.motion[first]), "fps": 120.0 / HDM05_BAG_SUBSAMPLE,
                      "stature_m": stature[str(d.actor[first])]})
    return _Clips(d.joints, clip_idx, d.frame, clips)


def _load_split(split: str, data_root: str | Path | None):
    from . import mocap

    if split == CROSS_SPLIT:
        if data_root is not None:
            raise ValueError(f"--mocap-root does not apply to --mocap-split {CROSS_SPLIT} (it reads hdm05-subset)")
        return _load_hdm05_cross()

    cache = None
    if data_root is not None:  # a private cache: never overwrite the shared dataset's cache with another root's
        key = hashlib.sha1(str(Path(data_root).resolve()).encode()).hexdigest()[:10]
        cache = paths.cache_dir() / f"gt-bag-mocap-{key}"
    elif paths.bandai_dir() is None:
        raise FileNotFoundError("the Bandai Namco mocap is not at ../shared/data/bandai-namco; pass --mocap-root")
    data = mocap.load_split(split, data_root=data_root, cache=cache)
    if not len(data.clips):
        raise ValueError(f"the {split!r} split has no clips")
    return data


def _clip_frames(data, ci: int, every: int, max_frames_per_clip: int | None) -> np.ndarray:
    sel = np.flatnonzero(data.clip == ci)
    sel = sel[np.argsort(data.frame[sel])] if data.frame.size else sel
    sel = sel[:: max(1, int(every))]
    return sel[:max_frames_per_clip] if max_frames_per_clip else sel


def _write_frame(bag, k, image_size, uv, scores, pts, track: int, stamp: int, frame_id: str) -> None:
    bag.write_ros("/camera/camera_info", camera_info_msg(k, image_size[0], image_size[1], stamp, frame_id), stamp)
    bag.write_ros("/hpe3d/keypoints2d", keypoints_msg(uv[None], scores[None], np.array([track])), stamp)
    bag.write_ros("/hpe3d/ground_truth", ground_truth_msg(pts[None], stamp, frame_id), stamp)


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
    jitter_px: float | None = None,
) -> dict:
    """Write the ground-truth bag (see the module docstring); returns a summary. ``jitter_px``: the
    detector noise's sigma for a person 200 px tall (default config/cameras.yaml's)."""
    from . import render

    if clips < 1:
        raise ValueError(f"--mocap-test-clips must be at least 1, got {clips}")
    data = _load_split(split, data_root)
    settings = render.load_camera_settings()
    config, noise_cfg = settings["cameras"], settings["detector_noise"]
    rng = np.random.default_rng(seed)
    chosen = sorted(set(np.linspace(0, len(data.clips) - 1, min(clips, len(data.clips))).round().astype(int).tolist()))
    stamp = DEFAULT_START_NS
    summary = {"bag": str(out), "clips": [], "frames": 0}
    with OutputBag(out, storage=storage) as bag:
        for track, ci in enumerate(chosen):
            clip = data.clips[ci]
            sel = _clip_frames(data, ci, every, max_frames_per_clip)
            world = data.joints[sel].astype(np.float64)
            cams, pts, uv, ok = fixed_camera(
                world, config, rng, settings["render"]["min_depth_m"], settings["render"]["margin_px"]
            )
            pts, uv = pts[ok], uv[ok]
            scores = np.ones((len(uv), J), dtype=np.float32)
            if noise:
                jitter = noise_cfg["jitter_px"] if jitter_px is None else float(jitter_px)
                uv, scores = render.detector_noise(uv, scores, rng, jitter, noise_cfg["drop_prob"])
            k = cams.intrinsics[0]
            period = int(round(1e9 * max(1, int(every)) / float(clip.get("fps", 30.0))))
            for i in range(len(uv)):
                _write_frame(bag, k, config.image_size, uv[i], scores[i], pts[i], track, stamp, FRAME_ID)
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


def load_mounted_settings(path: str | Path | None = None) -> dict:
    """config/mounted_camera.yaml (``camera`` and ``people`` sections); unknown keys are an error."""
    import yaml

    path = Path(path) if path else paths.share_dir() / "config" / "mounted_camera.yaml"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: mounted-camera settings file missing")
    cfg = yaml.safe_load(path.read_text()) or {}
    for section, keys in MOUNTED_KEYS.items():
        got = set(cfg.get(section) or {})
        if got != keys:
            raise ValueError(f"{path}: {section}: expected the keys {sorted(keys)}, got {sorted(got)}")
    if set(cfg) != set(MOUNTED_KEYS):
        raise ValueError(f"{path}: expected the sections {sorted(MOUNTED_KEYS)}, got {sorted(cfg)}")
    return cfg


def _stature(people: dict, rng: np.random.Generator) -> float:
    comps = people["stature_m"]
    w = np.array([c["weight"] for c in comps], dtype=np.float64)
    c = comps[rng.choice(len(comps), p=w / w.sum())]
    lo, hi = people["stature_range_m"]
    return float(np.clip(rng.normal(c["mean"], c["std"]), lo, hi))


def _choose_clips(data, clips: int, share: float) -> list[int]:
    """``clips`` clip indices spread evenly over the split, ``share`` of them locomotion."""
    loco = [i for i, c in enumerate(data.clips) if str(c["content"]).startswith(LOCOMOTION_CONTENT)]
    other = [i for i, c in enumerate(data.clips) if not str(c["content"]).startswith(LOCOMOTION_CONTENT)]
    n_loco = min(len(loco), int(round(clips * share))) if other else min(len(loco), clips)
    n_other = min(len(other), clips - n_loco)

    def spread(pool: list[int], n: int) -> list[int]:
        if not n:
            return []
        return [pool[i] for i in sorted(set(np.linspace(0, len(pool) - 1, n).round().astype(int).tolist()))]

    return sorted(spread(loco, n_loco) + spread(other, n_other))


def make_mounted_gt_bag(
    out: str | Path,
    clips: int,
    split: str = "test",
    data_root: str | Path | None = None,
    max_frames_per_clip: int | None = 150,
    every: int = 1,
    seed: int = 0,
    noise: bool = True,
    storage: str = "mcap",
    settings_path: str | Path | None = None,
    jitter_px: float | None = None,
) -> dict:
    """Write a mounted-camera ground-truth bag (module docstring); returns a summary with the camera."""
    from hpe3d_ros.scene.mount import rpy_matrix

    from . import render

    if clips < 1:
        raise ValueError(f"--mocap-test-clips must be at least 1, got {clips}")
    cfg = load_mounted_settings(settings_path)
    cam, people = cfg["camera"], cfg["people"]
    noise_cfg = render.load_camera_settings()["detector_noise"]
    jitter = float(noise_cfg["jitter_px"] if jitter_px is None else jitter_px)
    data = _load_split(split, data_root)
    rng = np.random.default_rng(seed)
    w, h = (int(v) for v in cam["image_size"])
    k = camera.intrinsics_from_fov(w, h, float(cam["hfov_deg"]))
    r_b_c = rpy_matrix(np.radians(cam["roll_deg"]), np.radians(cam["pitch_deg"]), 0.0)
    r_b_o = r_b_c @ camera.OPTICAL_FROM_WORLD.T
    position = np.array([0.0, 0.0, float(cam["height_m"])])
    half_fov = np.radians(float(cam["hfov_deg"]) / 2.0 - float(people["bearing_margin_deg"]))
    summary = {"bag": str(out), "clips": [], "frames": 0, "camera": {**cam, "jitter_px": jitter if noise else 0.0}}
    stamp = DEFAULT_START_NS
    with OutputBag(out, storage=storage) as bag:
        for track, ci in enumerate(_choose_clips(data, clips, float(people["locomotion_share"]))):
            clip = data.clips[ci]
            sel = _clip_frames(data, ci, every, max_frames_per_clip)
            world = data.joints[sel].astype(np.float64)  # x forward, y left, z up; the mocap floor at z = 0
            stature = _stature(people, rng)
            world[..., :2] -= world[:, skeleton.ROOT, :2].mean(axis=0)
            world *= stature / float(clip.get("stature_m", skeleton.REFERENCE_HEIGHT_M))
            best = None
            for _ in range(int(people["tries"])):
                dist = rng.uniform(*people["distance_m"])
                bearing = rng.uniform(-half_fov, half_fov)
                placed = world @ camera.rot_z(rng.uniform(-np.pi, np.pi)).T
                placed[..., :2] += dist * np.array([np.cos(bearing), np.sin(bearing)])
                pts = (placed - position) @ r_b_o
                with np.errstate(invalid="ignore", divide="ignore"):
                    uv = camera.project(pts, k)
                ok = ((pts[..., 2] > 0.5) & (uv[..., 0] >= 2) & (uv[..., 0] <= w - 3) & (uv[..., 1] >= 2)
                      & (uv[..., 1] <= h - 3)).all(-1)
                if best is None or ok.sum() > best[3].sum():
                    best = (dist, pts, uv, ok)
                if ok.all():
                    break
            dist, pts, uv, ok = best
            pts, uv = pts[ok], uv[ok]
            scores = np.ones((len(uv), J), dtype=np.float32)
            if noise and len(uv):
                uv, scores = render.detector_noise(uv, scores, rng, jitter, noise_cfg["drop_prob"])
            period = int(round(1e9 * max(1, int(every)) / float(clip.get("fps", 30.0))))
            for i in range(len(uv)):
                _write_frame(bag, k, (w, h), uv[i], scores[i], pts[i], track, stamp, FRAME_ID)
                bag.write_ros(CAMERA_POSE_TOPIC, camera_pose_msg(r_b_c, position, stamp, GROUND_FRAME_ID), stamp)
                stamp += period
            stamp += CLIP_GAP_NS
            summary["clips"].append({"track_id": track, "name": clip["name"], "content": clip["content"],
                                     "frames": int(len(uv)), "distance_m": float(dist), "stature_m": stature})
            summary["frames"] += int(len(uv))
    return summary
