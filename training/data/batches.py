"""Training batches per contract (3), rendered from 3D poses through random virtual cameras.

The 3D poses (world metres, x forward, y left, z up) come from the mocap split
(training.data.mocap.load_split), from procedural synthetic poses (tests, and development without
../shared), or, for 2D-only training on a user's own footage, a 2D pose file (hpe3d_ros.poses_io).
Rendering uses training.data.render (the renderer and config/cameras.yaml of the evaluation sets, so
training and evaluation cameras match); the rendered set then lives on the training device as
tensors and an epoch is a random permutation cut into batches. Cameras are re-sampled every epoch
when ``data.resample_cameras`` is true (default: for methods that need 3D), so a supervised model
never sees the same 2D twice.

Batches: "poses2d" (B,16,2) normalised with the method's normalisation; only when the method needs
3D also "depth" (B,16) = normalization.depth_target(pose_cam, kind) and "pose3d" (B,16,3)
root-relative camera-frame metres.
"""
from __future__ import annotations

from typing import Iterator

import numpy as np
import torch

from hpe3d_ros import camera, normalization, skeleton
from training.data import pose_aug
from training.data.joint_defs import JointDefinitions, augment

# ---------------------------------------------------------------- synthetic poses


def _rest_pose() -> np.ndarray:
    """A standing rest pose (16,3) in world metres for a 1.70 m person (x forward, y left, z up)."""
    p = {
        "pelvis": (0, 0, 0.95),
        "right_hip": (0, -0.10, 0.95),
        "right_knee": (0.01, -0.10, 0.52),
        "right_ankle": (0, -0.10, 0.09),
        "left_hip": (0, 0.10, 0.95),
        "left_knee": (0.01, 0.10, 0.52),
        "left_ankle": (0, 0.10, 0.09),
        "spine": (0, 0, 1.20),
        "thorax": (0, 0, 1.45),
        "head": (0.02, 0, 1.62),
        "left_shoulder": (0, 0.18, 1.44),
        "left_elbow": (0, 0.20, 1.16),
        "left_wrist": (0.02, 0.21, 0.91),
        "right_shoulder": (0, -0.18, 1.44),
        "right_elbow": (0, -0.20, 1.16),
        "right_wrist": (0.02, -0.21, 0.91),
    }
    return np.array([p[n] for n in skeleton.JOINT_NAMES], dtype=np.float64)


_axis_angle = pose_aug.rotation  # rotation matrices (N,3,3) from axes (N,3) and angles (N,)


# Per-bone spread of the random rotation (radians), by child joint name: limbs move more than the trunk.
_BONE_SPREAD = {
    "spine": 0.15,
    "thorax": 0.15,
    "head": 0.25,
    "right_hip": 0.05,
    "left_hip": 0.05,
    "right_knee": 0.45,
    "left_knee": 0.45,
    "right_ankle": 0.5,
    "left_ankle": 0.5,
    "left_shoulder": 0.1,
    "right_shoulder": 0.1,
    "left_elbow": 0.9,
    "right_elbow": 0.9,
    "left_wrist": 0.9,
    "right_wrist": 0.9,
}


def synthetic_poses(n: int, seed: int = 0) -> np.ndarray:
    """``n`` procedural human poses (n,16,3) float32 in world metres: random bone rotations
    accumulated down the kinematic chain, random body size, heading and root height.

    Not a motion model: only for tests and for developing without the mocap data.
    """
    rng = np.random.default_rng(seed)
    rest = _rest_pose()
    out = np.zeros((n, skeleton.NUM_JOINTS, 3))
    glob_rot = np.zeros((n, skeleton.NUM_JOINTS, 3, 3))
    size = rng.uniform(0.85, 1.15, n)
    yaw = rng.uniform(-np.pi, np.pi, n)
    base = _axis_angle(np.tile([0.0, 0.0, 1.0], (n, 1)), yaw) @ _axis_angle(
        np.concatenate([rng.standard_normal((n, 2)), np.zeros((n, 1))], 1) + 1e-9, rng.normal(0, 0.1, n)
    )
    out[:, skeleton.ROOT] = rest[skeleton.ROOT] * size[:, None]
    glob_rot[:, skeleton.ROOT] = base
    order = sorted(range(skeleton.NUM_JOINTS), key=lambda j: _depth_in_tree(j))
    for j in order:
        parent = skeleton.PARENTS[j]
        if parent < 0:
            continue
        spread = _BONE_SPREAD[skeleton.JOINT_NAMES[j]]
        local = _axis_angle(rng.standard_normal((n, 3)), rng.normal(0, spread, n))
        rot = glob_rot[:, parent] @ local
        glob_rot[:, j] = rot
        bone = (rest[j] - rest[parent]) * size[:, None]
        out[:, j] = out[:, parent] + np.einsum("nij,nj->ni", rot, bone)
    out[..., 2] -= out[..., 2].min(axis=1, keepdims=True) - rng.uniform(0.0, 0.05, (n, 1))  # feet near the floor
    return out.astype(np.float32)


def _depth_in_tree(j: int) -> int:
    d = 0
    while skeleton.PARENTS[j] >= 0:
        j = skeleton.PARENTS[j]
        d += 1
    return d


# ---------------------------------------------------------------- sources


def load_poses3d(data_cfg: dict, split: str) -> np.ndarray:
    """3D world poses (N,16,3) float32 of ``split`` per the ``data`` config (mocap or synthetic).

    Mocap: the Bandai ``split`` (every ``subsample``-th frame); with ``bodies.fraction`` > 0 that share
    of the frames (drawn per frame, seeded) is replaced by the same frame played by the clip's sampled
    body (training.data.bodies: anthropometric bone lengths by FK); for the train split, the HDM05
    actors of ``hdm05.actors`` (never the cross-dataset test actors) are appended, every
    ``hdm05.subsample``-th frame, ``hdm05.repeat`` times; with ``pose_aug`` (train split only) a share
    of the Bandai frames gets more varied joint angles (training.data.pose_aug).
    """
    source = data_cfg["source"]
    if source == "synthetic":
        # Different splits get different poses (a fixed offset per split name).
        offset = {"train": 0, "val": 1, "test": 2}.get(split, 3)
        joints = synthetic_poses(int(data_cfg["synthetic_poses"]), seed=1000 * offset + 7)
    elif source == "mocap":
        from training.data import mocap

        sub = int(data_cfg.get("subsample") or 1)
        data = mocap.load_split(split, subsample=sub)
        joints = np.asarray(data.joints, dtype=np.float32)
        bcfg = data_cfg.get("bodies") or {}
        if float(bcfg.get("fraction") or 0.0) > 0:
            joints = _mix_bodies(joints, data.frame, split, sub, bcfg)
        aug = pose_aug.PoseAugmentation.from_dict(data_cfg.get("pose_aug"))
        if aug is not None and split == "train":
            joints = pose_aug.mix(joints, aug)
        hcfg = data_cfg.get("hdm05") or {}
        if hcfg.get("actors") and split == "train":
            joints = np.concatenate([joints] + [hdm05_poses(hcfg)] * max(1, int(hcfg.get("repeat") or 1)))
    else:
        raise ValueError(f"data.source {source!r} has no 3D poses")
    cap = data_cfg.get("max_poses")
    if cap and len(joints) > int(cap):
        joints = joints[np.linspace(0, len(joints) - 1, int(cap)).round().astype(np.int64)]
    if len(joints) == 0:
        raise ValueError(f"data: split {split!r} of source {source!r} holds no poses")
    return joints


def _mix_bodies(joints: np.ndarray, frame: np.ndarray, split: str, subsample: int, bcfg: dict) -> np.ndarray:
    from training.data import bodies

    frac = float(bcfg["fraction"])
    if not 0.0 < frac <= 1.0:
        raise ValueError(f"data.bodies.fraction must be in (0, 1], got {frac}")
    bseed = int(bcfg.get("seed") or 0)
    many = bodies.many_bodies_split(split, bseed)
    keep = many["frame"] % subsample == 0
    other, other_frame = many["joints"][keep], many["frame"][keep]
    if other.shape != joints.shape or not np.array_equal(other_frame, frame):
        raise ValueError(f"data.bodies: the many-bodies cache of split {split!r} does not match the mocap split")
    use = np.random.default_rng([bseed, 17]).random(len(joints)) < frac
    return np.where(use[:, None, None], other, joints).astype(np.float32)


def hdm05_poses(hcfg: dict) -> np.ndarray:
    """World poses (N,16,3) float32 of the HDM05 training actors ``hcfg['actors']`` (CC BY-SA 3.0),
    every ``hcfg['subsample']``-th frame; refuses the cross-dataset benchmark's test actors."""
    from training.data import crossdata, hdm05

    actors = list(hcfg["actors"])
    held_out = set(crossdata.load_config()["hdm05"]["test_actors"]) & set(actors)
    if held_out:
        raise ValueError(
            f"data.hdm05.actors: {sorted(held_out)} are the cross-dataset test actors: never train on them"
        )
    return hdm05.load_hdm05(actors, subsample=int(hcfg.get("subsample") or 4)).joints.astype(np.float32)


def camera_settings(data_cfg: dict) -> tuple[camera.VirtualCameraConfig, dict]:
    """Virtual cameras and render settings: config/cameras.yaml (training.data.render's defaults, the
    same as the evaluation sets use) with ``data.cameras`` overriding single fields."""
    from training.data import render

    settings = render.load_camera_settings()
    base = {k: getattr(settings["cameras"], k) for k in settings["cameras"].__dataclass_fields__}
    over = dict(data_cfg.get("cameras") or {})
    try:
        cams = camera.VirtualCameraConfig.from_dict({**base, **over})
    except (TypeError, ValueError) as e:
        raise ValueError(f"data.cameras: {e}") from e
    return cams, settings["render"]


def render_batch(
    joints_world: np.ndarray,
    cams: camera.VirtualCameraConfig,
    render_settings: dict,
    seed: int,
    kind: str,
    needs_3d: bool,
    noise: dict | None = None,
    joint_defs: dict | None = None,
) -> dict[str, torch.Tensor]:
    """Render world poses (N,16,3) through one virtual camera each (training.data.render.render: the
    evaluation sets' renderer) and build a contract-(3) batch as CPU float32 tensors.

    ``joint_defs``: joint-definition augmentation in 3D before projection
    (training.data.joint_defs; the 3D target carries it too). ``noise``: 2D error on the rendered
    keypoints, either the mild ``jitter_px`` / ``drop_prob`` (training.data.render.detector_noise) or
    ``model``: the fitted detector error model ('detector': config/detector_error_model.json, or a
    path; training.data.error_model) on a share ``fraction`` of the poses.
    """
    from training.data import render

    defs = JointDefinitions.from_dict(joint_defs)
    if defs is not None:
        joints_world = augment(joints_world, defs, np.random.default_rng([seed, 47]))
    r = render.render(joints_world, cams, seed=seed, **render_settings)
    kp = r["keypoints"]
    noise = noise or {}
    if float(noise.get("jitter_px") or 0.0) > 0 or float(noise.get("drop_prob") or 0.0) > 0:
        rng = np.random.default_rng([seed, 31])
        kp, _ = render.detector_noise(
            kp, None, rng, float(noise.get("jitter_px") or 0.0), float(noise.get("drop_prob") or 0.0)
        )
    if noise.get("model"):
        from training.data.error_model import load_error_model

        model = load_error_model(None if noise["model"] == "detector" else noise["model"])
        rng = np.random.default_rng([seed, 53])
        sel = rng.random(len(kp)) < float(noise.get("fraction", 1.0))
        kp = np.array(kp)
        if sel.any():
            kp[sel] = model.apply(kp[sel], rng)[0]
    xy = camera.pixels_to_normalized(kp, r["intrinsics"])
    poses2d, _ = normalization.normalize_2d(xy, kind)
    batch = {"poses2d": torch.as_tensor(poses2d, dtype=torch.float32)}
    if needs_3d:
        pc = r["joints_cam"].astype(np.float64)
        batch["depth"] = torch.as_tensor(normalization.depth_target(pc, kind), dtype=torch.float32)
        batch["pose3d"] = torch.as_tensor(normalization.root_center(pc), dtype=torch.float32)
    return batch


class TrainData:
    """The training set on the device; ``batches(epoch)`` yields shuffled batches for one epoch.

    Deterministic given (seed, epoch): cameras and order come from generators seeded by both,
    so a resumed run sees exactly the batches an uninterrupted one would.
    """

    def __init__(self, config: dict, normalization_kind: str, needs_3d: bool, device: torch.device) -> None:
        self.cfg = config["data"]
        self.kind = normalization_kind
        self.needs_3d = needs_3d
        self.device = torch.device(device)
        self.seed = int(config["seed"])
        self.batch_size = int(config["batch_size"])
        self.cam_cfg, self.render_settings = camera_settings(self.cfg)
        resample = self.cfg.get("resample_cameras")
        self.resample = needs_3d if resample is None else bool(resample)
        self.views = max(1, int(self.cfg.get("views_per_pose") or 1))
        JointDefinitions.from_dict(self.cfg.get("joint_defs"))  # a bad setting stops the run before any work
        self._cached: dict[str, torch.Tensor] | None = None
        if self.cfg["source"] == "poses2d":
            if needs_3d:
                raise ValueError("data.source poses2d holds no 3D: it cannot train a method that needs 3D")
            self.joints = None
            self._cached = self._load_poses2d()
            self.n = len(self._cached["poses2d"])
        else:
            joints = load_poses3d(self.cfg, self.cfg.get("split", "train"))
            self.joints = np.repeat(joints, self.views, axis=0)
            self.n = len(self.joints)

    def _load_poses2d(self) -> dict[str, torch.Tensor]:
        from hpe3d_ros import poses_io

        path = self.cfg.get("path")
        if not path:
            raise ValueError("data.path: a 2D pose file is required for data.source poses2d")
        d = poses_io.load_poses2d(path)
        if "intrinsics" not in d:
            raise ValueError(f"{path}: training on 2D needs 'intrinsics' (3,3) or (N,3,3) in the file")
        # detections of real footage stand anywhere in the image: seen from a virtual camera
        # looking at each person's root, as the runtime sees them (rendered mocap has the root on axis)
        xy, _ = camera.pixels_to_root_camera(d["keypoints"], d["intrinsics"])
        poses2d, _ = normalization.normalize_2d(torch.as_tensor(xy, dtype=torch.float32), self.kind)
        return {"poses2d": poses2d.to(self.device)}

    def render(self, epoch: int) -> dict[str, torch.Tensor]:
        """The whole epoch's rendered set (cached when cameras are not re-sampled)."""
        if self._cached is not None and not (self.resample and self.joints is not None):
            return self._cached
        cam_epoch = epoch if self.resample else 0
        batch = render_batch(self.joints, self.cam_cfg, self.render_settings, self.seed * 1000003 + cam_epoch,
                             self.kind, self.needs_3d, self.cfg.get("noise"), self.cfg.get("joint_defs"))
        data = {k: v.to(self.device) for k, v in batch.items()}
        if not self.resample:
            self._cached = data
        return data

    def num_batches(self) -> int:
        """Batches per epoch (the last partial batch is dropped when there is more than one)."""
        return max(1, self.n // self.batch_size)

    def batches(self, epoch: int) -> Iterator[dict[str, torch.Tensor]]:
        """Shuffled batches of one epoch."""
        data = self.render(epoch)
        gen = torch.Generator(device="cpu").manual_seed(self.seed * 7919 + epoch)
        perm = torch.randperm(self.n, generator=gen).to(self.device)
        bs = min(self.batch_size, self.n)
        for b in range(self.num_batches()):
            idx = perm[b * bs : (b + 1) * bs]
            yield {k: v.index_select(0, idx) for k, v in data.items()}


# ---------------------------------------------------------------- validation


def load_validation(config: dict, normalization_kind: str, device: torch.device) -> dict | None:
    """Validation poses: {"poses2d" (M,16,2) tensor on device, "gt3d" (M,16,3) numpy root-relative
    camera-frame metres, "source": str}, or None when validation is off.

    ``val.source`` auto: the data engineer's fixed eval set ('val') when it loads, else the ``val``
    split rendered through cameras seeded by ``val.seed``.
    """
    vcfg = config["val"]
    source = vcfg["source"]
    if source == "none":
        return None
    cap = int(vcfg.get("max_poses") or 0)
    if source in ("auto", "evalset") and config["data"]["source"] == "mocap":
        try:
            from training.data import evalset

            ev = evalset.load_eval_set(vcfg.get("split", "val"))
            kp, k, gt = ev["keypoints"], ev["intrinsics"], ev["joints3d"]
            if cap and len(kp) > cap:
                sel = np.linspace(0, len(kp) - 1, cap).round().astype(np.int64)
                kp, k, gt = kp[sel], k[sel], gt[sel]
            xy = camera.pixels_to_normalized(kp, k)
            poses2d, _ = normalization.normalize_2d(torch.as_tensor(xy, dtype=torch.float32), normalization_kind)
            gt = np.asarray(gt, dtype=np.float64)
            return {
                "poses2d": poses2d.to(device),
                "gt3d": gt - gt[:, skeleton.ROOT : skeleton.ROOT + 1],
                "source": "evalset:" + vcfg.get("split", "val"),
            }
        except (ImportError, AttributeError, FileNotFoundError) as e:
            if source == "evalset":
                raise ValueError(f"val.source evalset: the eval set could not be loaded ({e})") from e
    if config["data"]["source"] == "poses2d":
        return None
    dcfg = dict(config["data"], max_poses=cap or None)
    joints = load_poses3d(dcfg, vcfg.get("split", "val"))
    cams, settings = camera_settings(config["data"])
    batch = render_batch(joints, cams, settings, int(vcfg["seed"]), normalization_kind, True)
    return {
        "poses2d": batch["poses2d"].to(device),
        "gt3d": batch["pose3d"].double().numpy(),
        "source": f"rendered:{vcfg.get('split', 'val')}",
    }
