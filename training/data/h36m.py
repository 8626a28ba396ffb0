"""Human3.6M in the two common redistributable layouts, mapped to the project's joint layout.

For users who hold the licensed data; nothing of it ships with this repository.

1. Martinez et al. (3d-pose-baseline): ``<root>/S<n>/MyPoses/3D_positions/<action>.h5`` with dataset
   ``3D_positions`` of shape (96, F) (32 joints x 3, millimetres, world frame, z up) and
   ``cameras.h5`` with ``subject<n>/camera<m>/{R, T, f, c, k, p}`` (``R`` stored transposed,
   ``T`` the camera centre in world mm; a world point P maps to the camera as ``R_file.T @ (P - T)``;
   the camera frame is the optical frame: x right, y down, z forward).
2. VideoPose3D (Pavllo et al.): ``data_3d_h36m.npz`` with ``positions_3d``: subject -> action ->
   (F, 32, 3) metres, world; ``data_2d_h36m_<name>.npz`` with ``positions_2d``: subject -> action ->
   [camera](F, 17, 2) pixels, and ``metadata`` (layout_name, num_joints, keypoints_symmetry).
   These files are pickled Python dicts inside .npz: load only files you trust.

Joint mapping to the layout (docs/data.md), by H3.6M 32-joint index:
pelvis = mean(RHip 1, LHip 6); hips, knees, ankles (RFoot 3 / LFoot 8 are the ankles), shoulders,
elbows, wrists one to one; thorax = mean of the shoulders (17, 25); spine = midpoint of pelvis and
thorax (the layout's rule, not H3.6M's Spine 12); head = Neck/Nose (14), the H3.6M point at the
height of the layout's MediaPipe head point (the ear midpoint: about 0.36 torso lengths above the
shoulder line, as the nose; the mean of Neck/Nose and the head top (15) used before sat about 0.49
torso lengths above it, 10-12 cm higher, outside every other source's definition; docs/joint_layout.md
"Joint definitions"). The 17-joint layout of VideoPose3D keeps the 32-joint indices
``H36M17_FROM_32``.

Standard protocol: train on S1, S5, S6, S7, S8; test on S9, S11, every 64th frame.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hpe3d_ros import camera, skeleton

TRAIN_SUBJECTS = (1, 5, 6, 7, 8)
TEST_SUBJECTS = (9, 11)
TEST_EVERY = 64

H36M_NAMES = [""] * 32
for _i, _n in {
    0: "Hip", 1: "RHip", 2: "RKnee", 3: "RFoot", 6: "LHip", 7: "LKnee", 8: "LFoot", 12: "Spine",
    13: "Thorax", 14: "Neck/Nose", 15: "Head", 17: "LShoulder", 18: "LElbow", 19: "LWrist",
    25: "RShoulder", 26: "RElbow", 27: "RWrist",
}.items():
    H36M_NAMES[_i] = _n
# VideoPose3D's 17 joints as indices into the 32.
H36M17_FROM_32 = (0, 1, 2, 3, 6, 7, 8, 12, 13, 14, 15, 17, 18, 19, 25, 26, 27)

# Layout joint -> the 32-joint indices averaged for it ("mid" joints are derived afterwards).
_RULES_32 = {
    "pelvis": (1, 6), "right_hip": (1,), "right_knee": (2,), "right_ankle": (3,),
    "left_hip": (6,), "left_knee": (7,), "left_ankle": (8,), "thorax": (17, 25), "head": (14,),
    "left_shoulder": (17,), "left_elbow": (18,), "left_wrist": (19,),
    "right_shoulder": (25,), "right_elbow": (26,), "right_wrist": (27,),
}


class H36MError(ValueError):
    """A Human3.6M file is missing or lacks a key or has the wrong shape; the message names it."""


def _map(points: np.ndarray, rules: dict) -> np.ndarray:
    points = np.asarray(points, dtype=np.float64)
    out = np.full(points.shape[:-2] + (skeleton.NUM_JOINTS, points.shape[-1]), np.nan)
    for name, idx in rules.items():
        out[..., skeleton.JOINT_NAMES.index(name), :] = points[..., list(idx), :].mean(axis=-2)
    spine = skeleton.JOINT_NAMES.index("spine")
    out[..., spine, :] = 0.5 * (out[..., skeleton.ROOT, :] + out[..., skeleton.JOINT_NAMES.index("thorax"), :])
    return out


def from_h36m32(points: np.ndarray) -> np.ndarray:
    """(..., 32, C) Human3.6M joints -> (..., 16, C) layout."""
    points = np.asarray(points)
    if points.ndim < 2 or points.shape[-2] != 32:
        raise H36MError(f"expected (..., 32, C) Human3.6M joints, got {points.shape}")
    return _map(points, _RULES_32)


_POS17 = {j32: k for k, j32 in enumerate(H36M17_FROM_32)}
_RULES_17 = {name: tuple(_POS17[i] for i in idx) for name, idx in _RULES_32.items()}


def from_h36m17(points: np.ndarray) -> np.ndarray:
    """(..., 17, C) VideoPose3D Human3.6M joints -> (..., 16, C) layout."""
    points = np.asarray(points)
    if points.ndim < 2 or points.shape[-2] != 17:
        raise H36MError(f"expected (..., 17, C) Human3.6M joints, got {points.shape}")
    return _map(points, _RULES_17)


# ---------------------------------------------------------------------------------------------
# Cameras


@dataclass
class H36MCamera:
    """One calibrated camera: world->camera rotation R (3,3), centre T (3,) in mm, focal f (2,),
    principal point c (2,), radial k (3,), tangential p (2,) distortion."""

    R: np.ndarray
    T: np.ndarray
    f: np.ndarray
    c: np.ndarray
    k: np.ndarray
    p: np.ndarray
    name: str = ""

    @property
    def intrinsics(self) -> np.ndarray:
        """Pinhole K (distortion not included)."""
        return camera.intrinsics_matrix(self.f[0], self.f[1], self.c[0], self.c[1])

    def to_camera(self, world_mm: np.ndarray) -> np.ndarray:
        """World points (..., 3) in mm -> camera optical frame (..., 3) in metres."""
        return np.einsum("ij,...j->...i", self.R, np.asarray(world_mm, dtype=np.float64) - self.T) / 1000.0

    def project(self, cam_m: np.ndarray, distort: bool = True) -> np.ndarray:
        """Camera-frame points (..., 3) to pixels (..., 2), with H3.6M's radial/tangential distortion."""
        cam_m = np.asarray(cam_m, dtype=np.float64)
        xy = cam_m[..., :2] / cam_m[..., 2:3]
        if distort:
            r2 = (xy**2).sum(-1)
            radial = 1 + self.k[0] * r2 + self.k[1] * r2**2 + self.k[2] * r2**3
            tan = self.p[0] * xy[..., 1] + self.p[1] * xy[..., 0]
            xy = xy * (radial + tan)[..., None] + np.stack([self.p[1] * r2, self.p[0] * r2], -1)
        return xy * self.f + self.c


def load_cameras_h5(path: str | Path) -> dict[tuple[int, int], H36MCamera]:
    """Martinez's cameras.h5 -> {(subject, camera): H36MCamera}."""
    import h5py

    path = Path(path)
    if not path.is_file():
        raise H36MError(f"{path}: no such file")
    out = {}
    shapes = {"R": (3, 3), "T": (3,), "f": (2,), "c": (2,), "k": (3,), "p": (2,)}
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise H36MError(f"{path}: not a readable HDF5 file ({e})") from e
    with f:
        subjects = [k for k in f.keys() if k.startswith("subject")]
        if not subjects:
            raise H36MError(f"{path}: no 'subject<n>' groups (keys: {sorted(f.keys())[:10]})")
        for sk in subjects:
            for ck in f[sk].keys():
                if not ck.startswith("camera"):
                    continue
                g = f[sk][ck]
                vals = {}
                for key, shape in shapes.items():
                    if key not in g:
                        raise H36MError(f"{path}: '{sk}/{ck}' lacks '{key}'")
                    v = np.asarray(g[key][()], dtype=np.float64)
                    if v.size != int(np.prod(shape)):
                        raise H36MError(f"{path}: '{sk}/{ck}/{key}' has shape {v.shape}, expected {shape}")
                    vals[key] = v.reshape(shape)
                name = ""
                if "Name" in g:
                    raw = np.asarray(g["Name"][()]).reshape(-1)
                    name = "".join(chr(int(c)) for c in raw) if raw.dtype.kind in "iuf" else str(raw[0])
                vals["R"] = vals["R"].T  # stored transposed (3d-pose-baseline's cameras.py)
                out[(int(sk[len("subject"):]), int(ck[len("camera"):]))] = H36MCamera(name=name, **vals)
    return out


# ---------------------------------------------------------------------------------------------
# Martinez layout


def load_martinez_3d(root: str | Path, subjects: tuple[int, ...]) -> dict[tuple[int, str], np.ndarray]:
    """{(subject, action): (F, 32, 3) world millimetres} from ``S<n>/MyPoses/3D_positions/*.h5``."""
    import h5py

    root = Path(root)
    out = {}
    for s in subjects:
        d = root / f"S{s}" / "MyPoses" / "3D_positions"
        files = sorted(d.glob("*.h5"))
        if not files:
            raise H36MError(f"{d}: no <action>.h5 files for subject S{s}")
        for p in files:
            try:
                with h5py.File(p, "r") as f:
                    if "3D_positions" not in f:
                        raise H36MError(f"{p}: no '3D_positions' dataset (keys: {sorted(f.keys())})")
                    a = np.asarray(f["3D_positions"][()], dtype=np.float64)
            except OSError as e:
                raise H36MError(f"{p}: not a readable HDF5 file ({e})") from e
            if a.ndim != 2 or a.shape[0] != 96:
                raise H36MError(f"{p}: '3D_positions' must have shape (96, F), got {a.shape}")
            if not np.isfinite(a).all():
                raise H36MError(f"{p}: '3D_positions' holds NaN or inf")
            out[(s, p.stem)] = a.T.reshape(-1, 32, 3)
    return out


def _protocol(split: str, subjects, every) -> tuple[tuple[int, ...], int]:
    if split not in ("train", "test"):
        raise ValueError(f"unknown Human3.6M split {split!r}; expected 'train' or 'test'")
    subs = tuple(subjects) if subjects else (TRAIN_SUBJECTS if split == "train" else TEST_SUBJECTS)
    step = int(every) if every else (TEST_EVERY if split == "test" else 1)
    if step < 1:
        raise ValueError(f"frame step must be positive, got {every}")
    return subs, step


def _stack(records: list[dict]) -> dict:
    if not records:
        raise H36MError("no frames selected")
    out = {k: np.concatenate([r[k] for r in records]) for k in records[0]}
    return out


def load_martinez(
    root: str | Path,
    split: str = "train",
    cameras_h5: str | Path | None = None,
    subjects: tuple[int, ...] | None = None,
    every: int | None = None,
    distort: bool = True,
) -> dict:
    """Human3.6M (Martinez layout) in the joint layout for the standard protocol.

    Without cameras: ``joints_world`` (N,16,3) metres (world, z up), ``subject``, ``action``, ``frame``.
    With ``cameras_h5`` every frame is seen by each camera of its subject: ``keypoints`` (N,16,2)
    px (projected with distortion unless ``distort=False``), ``joints3d`` (N,16,3) camera-frame
    metres, ``intrinsics`` (N,3,3), ``camera`` (N,) index, plus the above. Train: S1, S5-S8, all
    frames; test: S9, S11, every 64th frame.
    """
    subs, step = _protocol(split, subjects, every)
    poses = load_martinez_3d(root, subs)
    cams = load_cameras_h5(cameras_h5) if cameras_h5 else None
    records = []
    for (s, action), p32 in sorted(poses.items()):
        frames = np.arange(0, p32.shape[0], step)
        p32 = p32[frames]
        world16 = from_h36m32(p32)
        base = {
            "subject": np.full(len(frames), s),
            "action": np.full(len(frames), action, dtype=object),
            "frame": frames,
        }
        if cams is None:
            records.append({**base, "joints_world": world16 / 1000.0})
            continue
        subject_cams = sorted(c for (ss, c) in cams if ss == s)
        if not subject_cams:
            raise H36MError(f"{cameras_h5}: no cameras for subject{s}")
        for c in subject_cams:
            cam = cams[(s, c)]
            joints_cam = cam.to_camera(world16)
            records.append(
                {
                    **base,
                    "joints_world": world16 / 1000.0,
                    "joints3d": joints_cam,
                    "keypoints": cam.project(joints_cam, distort),
                    "intrinsics": np.broadcast_to(cam.intrinsics, (len(frames), 3, 3)),
                    "camera": np.full(len(frames), c),
                }
            )
    out = _stack(records)
    out["action"] = out["action"].astype(str)
    return out


# ---------------------------------------------------------------------------------------------
# VideoPose3D layout


def _load_pickled_dict(path: Path, key: str) -> dict:
    if not path.is_file():
        raise H36MError(f"{path}: no such file")
    try:
        with np.load(path, allow_pickle=True) as f:
            if key not in f.files:
                raise H36MError(f"{path}: no '{key}' (keys: {f.files})")
            value = f[key]
            meta = f["metadata"].item() if "metadata" in f.files else None
    except H36MError:
        raise
    except Exception as e:
        raise H36MError(f"{path}: not a readable .npz file ({type(e).__name__}: {e})") from e
    try:
        d = value.item()
    except ValueError:
        d = None
    if not isinstance(d, dict):
        raise H36MError(f"{path}: '{key}' must hold a dict subject -> action -> array")
    if meta is not None:
        d = dict(d)
        d["__metadata__"] = meta
    return d


def load_videopose3d(
    path_3d: str | Path,
    path_2d: str | Path | None = None,
    split: str = "train",
    subjects: tuple[int, ...] | None = None,
    every: int | None = None,
) -> dict:
    """Human3.6M (VideoPose3D npz) in the joint layout for the standard protocol.

    ``joints_world`` (N,16,3) metres, ``subject``, ``action``, ``frame``; with ``path_2d``:
    ``keypoints`` (N,16,2) px per camera and ``camera`` (N,) (frames are paired with the 3D by
    index; longer mocap is cut to the 2D length, as VideoPose3D does).
    """
    subs, step = _protocol(split, subjects, every)
    path_3d = Path(path_3d)
    pos3d = _load_pickled_dict(path_3d, "positions_3d")
    pos3d.pop("__metadata__", None)
    pos2d = None
    if path_2d is not None:
        path_2d = Path(path_2d)
        pos2d = _load_pickled_dict(path_2d, "positions_2d")
        meta = pos2d.pop("__metadata__", None)
        if meta is not None and int(meta.get("num_joints", 17)) != 17:
            raise H36MError(
                f"{path_2d}: metadata says {meta.get('num_joints')} joints; only the 17-joint H3.6M layout is supported"
            )
    records = []
    for s in subs:
        key = f"S{s}"
        if key not in pos3d:
            raise H36MError(f"{path_3d}: no subject '{key}' in positions_3d (has {sorted(pos3d)})")
        for action in sorted(pos3d[key]):
            p = np.asarray(pos3d[key][action], dtype=np.float64)
            if p.ndim != 3 or p.shape[1:] not in ((32, 3), (17, 3)):
                raise H36MError(f"{path_3d}: positions_3d['{key}']['{action}'] must be (F, 32, 3), got {p.shape}")
            world16 = from_h36m32(p) if p.shape[1] == 32 else from_h36m17(p)
            if pos2d is None:
                frames = np.arange(0, p.shape[0], step)
                records.append(
                    {
                        "joints_world": world16[frames],
                        "subject": np.full(len(frames), s),
                        "action": np.full(len(frames), action, dtype=object),
                        "frame": frames,
                    }
                )
                continue
            if key not in pos2d or action not in pos2d[key]:
                raise H36MError(f"{path_2d}: no positions_2d['{key}']['{action}']")
            for c, kp in enumerate(pos2d[key][action]):
                kp = np.asarray(kp, dtype=np.float64)
                if kp.ndim != 3 or kp.shape[1:] != (17, 2):
                    raise H36MError(
                        f"{path_2d}: positions_2d['{key}']['{action}'][{c}] must be (F, 17, 2), got {kp.shape}"
                    )
                if kp.shape[0] > p.shape[0]:
                    raise H36MError(
                        f"{path_2d}: positions_2d['{key}']['{action}'][{c}] has {kp.shape[0]} frames, the 3D only "
                        f"{p.shape[0]}"
                    )
                frames = np.arange(0, kp.shape[0], step)
                records.append(
                    {
                        "joints_world": world16[frames],
                        "keypoints": from_h36m17(kp[frames]),
                        "subject": np.full(len(frames), s),
                        "action": np.full(len(frames), action, dtype=object),
                        "frame": frames,
                        "camera": np.full(len(frames), c),
                    }
                )
    out = _stack(records)
    out["action"] = out["action"].astype(str)
    return out
