"""The cross-dataset benchmark: bodies, motions and cameras that training never saw.

Poses: HDM05 actors held out by ``config/crossdata.yaml`` (``hdm05.test_actors``), every
``subsample``-th frame (120 fps -> 12 fps at 10). Cameras: drawn from their own seeded settings,
independent of the training cameras (config/cameras.yaml): three view regimes with their pitch
(elevation), height and distance ranges, roll, focal lengths of 500-2000 px, several image sizes,
and people placed anywhere in the image (their root is NOT on the optical axis). The camera is
placed by choosing the root's pixel and its distance along that pixel's ray; the camera's height
above the floor then follows and must lie in the regime's range (rejection sampling).

2D: clean projections, and with the realistic 2D error of the detector error model fitted on real
detections (training.data.error_model, config/detector_error_model.json) on top.

Ground truth: the HDM05 joints in the layout with Bandai's joint definitions (head point = skull
base, hip and shoulder joint centres; training.data.asf_amc), never changed for a model's sake.

``build_set(...)`` returns a dict in the evaluation-set format of ``training.data.evalset``
(keypoints, intrinsics, scores, joints3d, elevation, content, clip) plus ``view``, ``roll``,
``image_size``, ``person_px``, ``actor``, ``azimuth``, ``distance``, ``camera_height``, ``frame``;
cached as npz keyed by all settings. Other camera settings files (e.g. one fixed camera:
config/crossdata_vtest.yaml) go through ``load_config(path)``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import yaml

from hpe3d_ros import camera, paths, skeleton
from hpe3d_ros.poses_io import save_npz_atomic

from . import hdm05
from .body import BANDAI_GROUPS_M

SET_VERSION = 1
J = skeleton.NUM_JOINTS


# ---------------------------------------------------------------------------------------------
# Cameras


@dataclass
class ViewRegime:
    """One kind of camera: pitch (elevation) range in degrees, camera height above the floor (m),
    distance from the camera to the person's root (m) and a sampling weight."""

    elevation_deg: tuple
    height_m: tuple
    distance_m: tuple
    weight: float = 1.0


@dataclass
class CrossCameraConfig:
    """Cameras of the cross-dataset benchmark (config/crossdata.yaml ``cameras``)."""

    views: dict = field(
        default_factory=lambda: {
            "level": ViewRegime((0.0, 10.0), (0.9, 1.7), (3.0, 20.0)),
            "robot": ViewRegime((10.0, 30.0), (0.9, 2.0), (1.5, 8.0)),
            "cctv": ViewRegime((30.0, 60.0), (2.5, 8.0), (3.0, 20.0)),
        }
    )
    focal_px: tuple = (500.0, 2000.0)
    max_hfov_deg: float = 100.0  # wider pinhole views are resampled (real wide lenses are not pinholes)
    image_sizes: tuple = ((1280, 720), (1920, 1080), (640, 480), (1280, 960))
    roll_deg: float = 5.0
    principal_jitter: float = 0.02  # principal point offset, fraction of the image size
    root_region: float = 0.9  # the root's pixel is uniform over this central fraction of the image
    min_person_px: float = 20.0
    margin_px: float = 2.0
    min_depth_m: float = 0.5
    max_tries: int = 200

    @classmethod
    def from_dict(cls, d: dict | None) -> "CrossCameraConfig":
        d = dict(d or {})
        unknown = set(d) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown cross-dataset camera settings: {sorted(unknown)}")
        if "views" in d:
            views = {}
            for name, v in d["views"].items():
                bad = set(v) - set(ViewRegime.__dataclass_fields__)
                if bad:
                    raise ValueError(f"view {name!r}: unknown keys {sorted(bad)}")
                views[name] = ViewRegime(**{k: (tuple(x) if isinstance(x, list) else x) for k, x in v.items()})
            d["views"] = views
        for key in ("focal_px",):
            if key in d:
                d[key] = tuple(d[key])
        if "image_sizes" in d:
            d["image_sizes"] = tuple(tuple(s) for s in d["image_sizes"])
        return cls(**d)

    def to_dict(self) -> dict:
        return json.loads(json.dumps(asdict(self)))


def camera_rotation(azimuth: np.ndarray, elevation: np.ndarray, roll: np.ndarray) -> np.ndarray:
    """Optical-from-world rotations (N, 3, 3): the camera turned by ``azimuth`` about world z,
    pitched down by ``elevation`` (hpe3d_ros.camera convention), rolled by ``roll`` about its
    optical axis."""
    return camera.rot_z(roll) @ camera.optical_from_world_rotation(azimuth, elevation)


def gravity_elevation(rotation: np.ndarray) -> np.ndarray:
    """The camera's pitch (N,) from its optical-from-world rotation: asin of the optical z
    component of gravity (equals the sampled elevation whatever the roll)."""
    g = rotation @ np.array([0.0, 0.0, -1.0])
    return np.arcsin(np.clip(g[..., 2], -1.0, 1.0))


def _yaw_about_root(joints: np.ndarray, yaw: np.ndarray) -> np.ndarray:
    root = joints[:, skeleton.ROOT : skeleton.ROOT + 1, :].copy()
    root[..., 2] = 0.0
    return np.einsum("nij,nkj->nki", camera.rot_z(yaw), joints - root) + root


def sample_views(joints_world: np.ndarray, cfg: CrossCameraConfig, rng: np.random.Generator) -> dict:
    """One camera per world pose (N, 16, 3) (floor z = 0), each person turned by a uniform yaw.

    Returns float64 arrays: keypoints (N,16,2), intrinsics (N,3,3), joints_cam (N,16,3), elevation,
    roll, azimuth, distance, camera_height (N,), image_size (N,2), person_px (N,), view (N,) int
    (index into ``cfg.views``). Raises ValueError when a pose finds no valid camera.
    """
    pts = np.asarray(joints_world, dtype=np.float64)
    n = len(pts)
    names = list(cfg.views)
    w = np.array([cfg.views[v].weight for v in names], dtype=np.float64)
    view = rng.choice(len(names), size=n, p=w / w.sum())
    yaw = rng.uniform(-np.pi, np.pi, n)
    pts = _yaw_about_root(pts, yaw)
    out = {
        k: np.zeros(s)
        for k, s in (
            ("keypoints", (n, J, 2)),
            ("intrinsics", (n, 3, 3)),
            ("joints_cam", (n, J, 3)),
            ("elevation", n),
            ("roll", n),
            ("azimuth", n),
            ("distance", n),
            ("camera_height", n),
            ("image_size", (n, 2)),
            ("person_px", n),
        )
    }
    out["view"] = view
    sizes = np.array(cfg.image_sizes, dtype=np.float64)
    todo = np.arange(n)
    for _ in range(cfg.max_tries):
        if todo.size == 0:
            break
        m = todo.size
        v = view[todo]
        lo = lambda attr, i: np.array([getattr(cfg.views[names[k]], attr)[i] for k in v])  # noqa: E731
        elev = np.radians(rng.uniform(lo("elevation_deg", 0), lo("elevation_deg", 1)))
        roll = np.radians(rng.uniform(-cfg.roll_deg, cfg.roll_deg, m))
        az = rng.uniform(-np.pi, np.pi, m)
        dist = rng.uniform(lo("distance_m", 0), lo("distance_m", 1))
        size = sizes[rng.integers(len(sizes), size=m)]
        f = rng.uniform(*cfg.focal_px, m)
        cx = (size[:, 0] - 1) / 2 + rng.uniform(-1, 1, m) * cfg.principal_jitter * size[:, 0]
        cy = (size[:, 1] - 1) / 2 + rng.uniform(-1, 1, m) * cfg.principal_jitter * size[:, 1]
        k = np.zeros((m, 3, 3))
        k[:, 0, 0], k[:, 1, 1], k[:, 0, 2], k[:, 1, 2], k[:, 2, 2] = f, f, cx, cy, 1.0
        # the root's pixel, uniform over the central region, and its ray in world axes
        half = 0.5 * cfg.root_region
        u = size[:, 0] * rng.uniform(0.5 - half, 0.5 + half, m)
        vv = size[:, 1] * rng.uniform(0.5 - half, 0.5 + half, m)
        ray = np.stack([(u - cx) / f, (vv - cy) / f, np.ones(m)], -1)
        ray /= np.linalg.norm(ray, axis=-1, keepdims=True)
        rot = camera_rotation(az, elev, roll)
        ray_w = np.einsum("nji,nj->ni", rot, ray)  # R^T ray
        root = pts[todo, skeleton.ROOT]
        centre = root - dist[:, None] * ray_w
        cam_pts = np.einsum("nij,nkj->nki", rot, pts[todo] - centre[:, None, :])
        with np.errstate(invalid="ignore", divide="ignore"):
            kp = camera.project(cam_pts, k)
        inside = (
            (kp[..., 0] >= cfg.margin_px)
            & (kp[..., 0] <= size[:, None, 0] - 1 - cfg.margin_px)
            & (kp[..., 1] >= cfg.margin_px)
            & (kp[..., 1] <= size[:, None, 1] - 1 - cfg.margin_px)
        ).all(-1)
        ok = inside & (cam_pts[..., 2] >= cfg.min_depth_m).all(-1) & np.isfinite(kp).all(axis=(-1, -2))
        h = centre[:, 2]
        ok &= (h >= lo("height_m", 0)) & (h <= lo("height_m", 1))
        person = (kp.max(1) - kp.min(1)).max(-1)
        ok &= person >= cfg.min_person_px
        ok &= 2 * np.degrees(np.arctan(0.5 * size[:, 0] / f)) <= cfg.max_hfov_deg
        idx = todo[ok]
        out["keypoints"][idx] = kp[ok]
        out["intrinsics"][idx] = k[ok]
        out["joints_cam"][idx] = cam_pts[ok]
        out["elevation"][idx] = gravity_elevation(rot[ok])
        out["roll"][idx] = roll[ok]
        out["azimuth"][idx] = az[ok]
        out["distance"][idx] = dist[ok]
        out["camera_height"][idx] = h[ok]
        out["image_size"][idx] = size[ok]
        out["person_px"][idx] = person[ok]
        todo = todo[~ok]
    if todo.size:
        raise ValueError(
            f"{todo.size} of {n} poses found no valid camera in {cfg.max_tries} tries "
            f"(first: index {todo[0]}, view {names[view[todo[0]]]}); widen the regime's ranges"
        )
    return out


# ---------------------------------------------------------------------------------------------
# The set


def config_path() -> Path:
    """config/crossdata.yaml of the checkout or the installed share directory."""
    return paths.share_dir() / "config" / "crossdata.yaml"


def load_config(path: str | Path | None = None) -> dict:
    """A cross-dataset settings file (default config/crossdata.yaml): {'hdm05': {...}, 'cameras':
    CrossCameraConfig, 'seeds': {...}, 'noise': {'model': path}, 'path': str}. A relative
    ``noise.model`` is relative to the share directory (the checkout)."""
    path = Path(path) if path else config_path()
    if not path.is_file():
        raise FileNotFoundError(f"{path}: cross-dataset settings missing")
    cfg = yaml.safe_load(path.read_text()) or {}
    unknown = set(cfg) - {"hdm05", "cameras", "seeds", "noise"}
    if unknown:
        raise ValueError(f"{path}: unknown sections {sorted(unknown)}")
    h = dict(cfg.get("hdm05") or {})
    test, train = list(h.get("test_actors", [])), list(h.get("train_actors", []))
    if len(test) < 2:
        raise ValueError(f"{path}: hdm05.test_actors needs at least two actors, got {test}")
    if set(test) & set(train):
        raise ValueError(f"{path}: actors {sorted(set(test) & set(train))} are both test and train")
    bad = sorted(set(test + train) - set(hdm05.ACTORS))
    if bad:
        raise ValueError(f"{path}: unknown HDM05 actors {bad}; expected some of {hdm05.ACTORS}")
    seeds = {"cameras": 11011, "noise": 12012, "val_cameras": 13013, **(cfg.get("seeds") or {})}
    noise = dict(cfg.get("noise") or {})
    if set(noise) - {"model"}:
        raise ValueError(f"{path}: noise: unknown keys {sorted(set(noise) - {'model'})}")
    model = Path(noise.get("model") or "config/detector_error_model.json")
    noise["model"] = str(model if model.is_absolute() else paths.share_dir() / model)
    return {
        "hdm05": {"test_actors": test, "train_actors": train, "subsample": int(h.get("subsample", 10))},
        "cameras": CrossCameraConfig.from_dict(cfg.get("cameras")),
        "seeds": seeds,
        "noise": noise,
        "path": str(path),
    }


def bandai_body_retarget() -> hdm05.Retarget:
    """Retarget to the Bandai body (``body.BANDAI_GROUPS_M``; 'neck' to the skull base, as the Bandai Head joint)."""
    return hdm05.Retarget(BANDAI_GROUPS_M, "bandai-body")


def _key(blob: dict) -> str:
    return hashlib.sha256(json.dumps(blob, sort_keys=True, default=str).encode()).hexdigest()[:12]


def build_set(
    config: dict | None = None,
    actors: str = "test",
    bodies: str = "native",
    cameras: str = "cross",
    noisy: bool = False,
    cache: str | Path | None = None,
) -> dict:
    """The cross-dataset evaluation set.

    ``actors``: 'test' (the held-out actors: the benchmark) or 'train' (the training actors through
    other cameras, seed ``seeds.val_cameras``: a validation set for choosing recipes; never the test
    actors). ``bodies``: 'native' (each actor's own skeleton) or 'bandai' (the same motions retargeted
    to the Bandai body by FK). ``cameras``: 'cross' (this benchmark's cameras) or 'train' (the
    training cameras of config/cameras.yaml, aimed at the root, via training.data.render).
    ``noisy``: the 2D detector error model (training.data.error_model) on top, seeded.
    """
    config = config or load_config()
    h = config["hdm05"]
    if actors not in ("test", "train"):
        raise ValueError(f"actors must be 'test' or 'train', got {actors!r}")
    names = list(h["test_actors"] if actors == "test" else h["train_actors"])
    if not names:
        raise ValueError(f"{config['path']}: no hdm05.{actors}_actors")
    if bodies not in ("native", "bandai"):
        raise ValueError(f"bodies must be 'native' or 'bandai', got {bodies!r}")
    if cameras not in ("cross", "train"):
        raise ValueError(f"cameras must be 'cross' or 'train', got {cameras!r}")
    seed = config["seeds"]["cameras" if actors == "test" else "val_cameras"]
    base = Path(cache) if cache else paths.cache_dir()
    key = _key(
        {
            "v": SET_VERSION,
            "actors": names,
            "sub": h["subsample"],
            "bodies": bodies,
            "cameras": cameras,
            "cam": config["cameras"].to_dict() if cameras == "cross" else "train",
            "seed": seed,
            "layout": skeleton.layout_hash(),
        }
    )
    path = base / "crossdata" / f"hdm05-{'-'.join(names)}-{bodies}-{cameras}-{key}.npz"
    clean = None
    if path.is_file():
        try:
            with np.load(path, allow_pickle=False) as z:
                clean = {k: z[k] for k in z.files}
        except (OSError, ValueError, KeyError):  # a corrupt cache entry is rebuilt
            path.unlink(missing_ok=True)
    if clean is None:
        clean = _render_set(config, names, bodies, cameras, seed, cache)
        save_npz_atomic(path, **clean)
    out = dict(clean)
    if noisy:
        out = add_noise(out, config)
    return out


def _render_set(config: dict, names: list[str], bodies: str, cameras: str, seed: int, cache) -> dict:
    data = hdm05.load_hdm05(
        names,
        subsample=config["hdm05"]["subsample"],
        cache=cache,
        retarget=bandai_body_retarget() if bodies == "bandai" else None,
    )
    if cameras == "cross":
        r = sample_views(data.joints, config["cameras"], np.random.default_rng(seed))
        view_names = np.array(list(config["cameras"].views))[r["view"]]
    else:
        from . import render

        settings = render.load_camera_settings()
        rr = render.render(data.joints, settings["cameras"], seed=seed, **settings["render"])
        r = {
            "keypoints": rr["keypoints"],
            "intrinsics": rr["intrinsics"],
            "joints_cam": rr["joints_cam"],
            "elevation": rr["elevation"],
            "azimuth": rr["azimuth"],
            "roll": np.zeros(len(data)),
            "image_size": np.tile(settings["cameras"].image_size, (len(data), 1)),
            "person_px": (rr["keypoints"].max(1) - rr["keypoints"].min(1)).max(-1),
            "distance": rr["joints_cam"][:, skeleton.ROOT, 2],
            "camera_height": np.full(len(data), np.nan),
        }
        view_names = np.array(list(settings["cameras"].views))[rr["view"]]
    return {
        "keypoints": r["keypoints"].astype(np.float32),
        "intrinsics": r["intrinsics"].astype(np.float32),
        "scores": np.ones((len(data), J), np.float32),
        "joints3d": r["joints_cam"].astype(np.float32),
        "elevation": r["elevation"].astype(np.float32),
        "roll": r["roll"].astype(np.float32),
        "azimuth": r["azimuth"].astype(np.float32),
        "image_size": r["image_size"].astype(np.int32),
        "person_px": r["person_px"].astype(np.float32),
        "distance": r["distance"].astype(np.float32),
        "camera_height": r["camera_height"].astype(np.float32),
        "view": view_names.astype(str),
        "content": data.motion.astype(str),
        "clip": data.clip.astype(str),
        "actor": data.actor.astype(str),
        "frame": data.frame.astype(np.int32),
    }


def add_noise(data: dict, config: dict | None = None, seed: int | None = None) -> dict:
    """Any evaluation set (this one, the in-domain test split) with the detector error model, seeded
    (default ``seeds.noise``). ``person_px`` (the clean extent) is kept or added, so size bins stay
    those of the true person; ``swap`` (N, 6) marks the swapped left/right pairs."""
    from .error_model import load_error_model

    config = config or load_config()
    model = load_error_model(config["noise"]["model"])
    rng = np.random.default_rng(config["seeds"]["noise"] if seed is None else seed)
    out = dict(data)
    out.setdefault("person_px", (data["keypoints"].max(1) - data["keypoints"].min(1)).max(-1).astype(np.float32))
    out["keypoints"], out["scores"], out["swap"] = model.apply(data["keypoints"], rng)
    return out
