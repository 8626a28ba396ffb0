"""The Bandai Namco mocap as arrays in the project's joint layout: ingest, cache, split.

``ingest()`` parses every ``dataset-*/data/*.bvh(.gz)`` clip, runs forward kinematics
(training.data.bvh), maps the joints to the layout (hpe3d_ros.skeleton.from_mocap) and caches
``joints`` (N, 16, 3) float32 world metres (x forward, y left, z up) with per-clip metadata under
``hpe3d_ros.paths.cache_dir()/mocap``. The cache is re-used while its recorded source listing
(file names and sizes), parser version and layout hash match.

``load_split(split)`` returns the frames of one split of config/data_split.yaml.
"""
from __future__ import annotations

import json
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import yaml

from hpe3d_ros import paths, skeleton
from hpe3d_ros.atomic import atomic_write_text
from hpe3d_ros.poses_io import save_npz_atomic

from .bvh import BvhError, forward_kinematics, parse_bvh

PARSER_VERSION = 1
SPLITS = ("train", "val", "test")
_CLIP_RE = re.compile(r"^(dataset-\d+)_(.+)_([^_]+)_(\d+)\.bvh(\.gz)?$")


class MocapError(ValueError):
    """Mocap data or its cache is missing or inconsistent; the message says which file and what."""


@dataclass
class MocapData:
    """Frames of mocap in the joint layout.

    ``joints`` (N, 16, 3) float32 world metres; ``clip`` (N,) index into ``clips``; ``frame`` (N,)
    frame number within the clip; ``clips`` list of dicts (name, dataset, content, style, split,
    frames, fps).
    """

    joints: np.ndarray
    clip: np.ndarray
    clips: list[dict]
    frame: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))

    def __len__(self) -> int:
        return int(self.joints.shape[0])

    def content(self) -> np.ndarray:
        """Per-frame content label (N,) str."""
        return np.array([c["content"] for c in self.clips])[self.clip] if len(self) else np.zeros(0, dtype=str)

    def select_clips(self, keep: Callable[[dict], bool]) -> "MocapData":
        """The frames of the clips for which ``keep(clip_dict)`` is true, clip indices renumbered."""
        chosen = [i for i, c in enumerate(self.clips) if keep(c)]
        remap = np.full(len(self.clips), -1, dtype=np.int64)
        remap[chosen] = np.arange(len(chosen))
        mask = remap[self.clip] >= 0
        frame = self.frame[mask] if self.frame.size else self.frame
        return MocapData(
            self.joints[mask], remap[self.clip[mask]].astype(np.int32), [self.clips[i] for i in chosen], frame
        )


# ---------------------------------------------------------------------------------------------
# Clip names, labels and the split


def read_labels(dataset_dir: Path) -> tuple[set[str], set[str]]:
    """Content and style labels from ``cfg/content_label.txt`` and ``cfg/style_label.txt``."""
    out = []
    for fname in ("content_label.txt", "style_label.txt"):
        p = dataset_dir / "cfg" / fname
        if not p.is_file():
            raise MocapError(f"{p}: label file missing")
        labels = set()
        for n, line in enumerate(p.read_text().splitlines(), 1):
            line = line.strip()
            if not line:
                continue
            prefix = dataset_dir.name + "_"
            if not line.startswith(prefix):
                raise MocapError(f"{p}:{n}: label {line!r} does not start with {prefix!r}")
            labels.add(line[len(prefix) :])
        out.append(labels)
    return out[0], out[1]


def parse_clip_name(path: str | Path, contents: set[str] | None = None, styles: set[str] | None = None) -> dict:
    """``dataset-N_{content}_{style}_{index}.bvh.gz`` -> dict(name, dataset, content, style, index).

    Labels are checked against ``contents``/``styles`` when given.
    """
    name = Path(path).name
    m = _CLIP_RE.match(name)
    if not m:
        raise MocapError(f"{path}: clip name does not follow dataset-N_<content>_<style>_<index>.bvh[.gz]")
    dataset, content, style, index = m.group(1), m.group(2), m.group(3), int(m.group(4))
    if contents is not None and content not in contents:
        raise MocapError(f"{path}: content {content!r} is not in the dataset's content_label.txt")
    if styles is not None and style not in styles:
        raise MocapError(f"{path}: style {style!r} is not in the dataset's style_label.txt")
    stem = name.split(".bvh")[0]
    return {"name": stem, "dataset": dataset, "content": content, "style": style, "index": index}


def default_split_config() -> Path:
    """config/data_split.yaml of the checkout or the installed share directory."""
    return paths.share_dir() / "config" / "data_split.yaml"


def load_split_rules(path: str | Path | None = None) -> dict:
    """Read and validate the split config: {'test': [rules], 'val': [rules]}."""
    path = Path(path) if path else default_split_config()
    if not path.is_file():
        raise MocapError(f"{path}: split config missing")
    try:
        cfg = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as e:
        raise MocapError(f"{path}: not valid YAML ({e})") from e
    out = {}
    for split in ("test", "val"):
        rules = cfg.get(split, [])
        if not isinstance(rules, list):
            raise MocapError(f"{path}: '{split}' must be a list of rules")
        for k, r in enumerate(rules):
            if not isinstance(r, dict) or "dataset" not in r:
                raise MocapError(f"{path}: {split}[{k}] must be a mapping with 'dataset'")
            unknown = set(r) - {"dataset", "content", "style"}
            if unknown:
                raise MocapError(f"{path}: {split}[{k}] has unknown keys {sorted(unknown)}")
            for key in ("content", "style"):
                if key in r and not isinstance(r[key], list):
                    raise MocapError(f"{path}: {split}[{k}].{key} must be a list")
        out[split] = rules
    return out


def assign_split(clip: dict, rules: dict) -> str:
    """'test', 'val' or 'train' for a clip dict (dataset, content, style)."""
    for split in ("test", "val"):
        for r in rules[split]:
            if r["dataset"] != clip["dataset"]:
                continue
            if "content" in r and clip["content"] not in r["content"]:
                continue
            if "style" in r and clip["style"] not in r["style"]:
                continue
            return split
    return "train"


# ---------------------------------------------------------------------------------------------
# Ingest and cache


def list_clips(data_root: str | Path) -> list[Path]:
    """All clip files under ``data_root/dataset-*/data``, sorted by name."""
    data_root = Path(data_root)
    if not data_root.is_dir():
        raise MocapError(f"{data_root}: mocap data directory not found")
    files = sorted(
        (p for d in sorted(data_root.glob("dataset-*")) if d.is_dir() for p in (d / "data").glob("*.bvh*")),
        key=lambda p: p.name,
    )
    if not files:
        raise MocapError(f"{data_root}: no dataset-*/data/*.bvh[.gz] clips found")
    return files


def source_key(files: Iterable[Path]) -> str:
    """A fingerprint of the source listing plus parser and layout versions."""
    import hashlib

    h = hashlib.sha256(f"parser{PARSER_VERSION}|{skeleton.layout_hash()}".encode())
    for p in files:
        h.update(f"|{p.name}:{p.stat().st_size}".encode())
    return h.hexdigest()[:16]


def clip_joints(path: str | Path) -> tuple[np.ndarray, float]:
    """One clip in the layout: (F, 16, 3) float32 world metres, frame time in seconds."""
    bvh = parse_bvh(path)
    try:
        joints = skeleton.from_mocap(forward_kinematics(bvh), bvh.names)
    except KeyError as e:
        raise BvhError(f"{path}: {e.args[0]} (skeleton has {bvh.names})") from None
    return joints.astype(np.float32), bvh.frame_time


def cache_paths(cache: str | Path | None = None) -> tuple[Path, Path]:
    """(arrays .npz, metadata .json) of the mocap cache."""
    base = Path(cache) if cache else paths.cache_dir()
    d = base / "mocap"
    return d / f"bandai-{skeleton.LAYOUT_ID}.npz", d / f"bandai-{skeleton.LAYOUT_ID}.json"


def ingest(
    data_root: str | Path | None = None,
    cache: str | Path | None = None,
    split_config: str | Path | None = None,
    force: bool = False,
    progress: bool = False,
) -> tuple[Path, Path, bool]:
    """Parse all clips into the cache unless a valid cache exists. Returns (npz, json, rebuilt)."""
    root = Path(data_root) if data_root else paths.bandai_dir()
    if root is None:
        raise MocapError("Bandai Namco mocap not found: pass --data-root or put it at ../shared/data/bandai-namco")
    files = list_clips(root)
    key = source_key(files)
    npz_path, json_path = cache_paths(cache)
    if not force and _cache_valid(npz_path, json_path, key):
        return npz_path, json_path, False
    rules = load_split_rules(split_config)
    labels = {d.name: read_labels(d) for d in sorted(root.glob("dataset-*")) if d.is_dir()}
    chunks, clips, t0 = [], [], time.time()
    start = 0
    for n, p in enumerate(files):
        ds = p.parent.parent.name
        info = parse_clip_name(p, *labels[ds])
        joints, frame_time = clip_joints(p)
        info.update(
            split=assign_split(info, rules), frames=int(joints.shape[0]), start=start, fps=round(1.0 / frame_time, 3)
        )
        start += joints.shape[0]
        chunks.append(joints)
        clips.append(info)
        if progress and (n % 200 == 0 or n == len(files) - 1):
            print(f"ingest: {n + 1}/{len(files)} clips, {start} frames, {time.time() - t0:.0f} s", file=sys.stderr)
    joints = np.concatenate(chunks)
    clip_idx = np.concatenate([np.full(c["frames"], i, dtype=np.int32) for i, c in enumerate(clips)])
    frame = np.concatenate([np.arange(c["frames"], dtype=np.int32) for c in clips])
    save_npz_atomic(npz_path, joints=joints, clip=clip_idx, frame=frame)
    meta = {
        "source_key": key,
        "source": str(root),
        "layout": skeleton.LAYOUT_ID,
        "layout_hash": skeleton.layout_hash(),
        "parser_version": PARSER_VERSION,
        "frames": int(joints.shape[0]),
        "ingest_seconds": round(time.time() - t0, 1),
        "clips": clips,
    }
    atomic_write_text(json_path, json.dumps(meta, indent=1))  # written last: its presence marks a complete cache
    return npz_path, json_path, True


def _cache_valid(npz_path: Path, json_path: Path, key: str | None) -> bool:
    if not (npz_path.is_file() and json_path.is_file()):
        return False
    try:
        meta = json.loads(json_path.read_text())
    except (OSError, ValueError):
        return False
    if meta.get("layout_hash") != skeleton.layout_hash() or meta.get("parser_version") != PARSER_VERSION:
        return False
    return key is None or meta.get("source_key") == key


_LOADED: dict = {}


def load_all(
    data_root: str | Path | None = None, cache: str | Path | None = None, split_config: str | Path | None = None
) -> MocapData:
    """Every ingested frame (ingesting first when needed); split labels re-applied from the config.

    The arrays are shared within the process and read-only; ``load_split`` returns writable copies.
    """
    npz_path, json_path = cache_paths(cache)
    root = Path(data_root) if data_root else paths.bandai_dir()
    if root is not None:
        npz_path, json_path, _ = ingest(root, cache, split_config)
    elif not _cache_valid(npz_path, json_path, None):
        raise MocapError(
            f"no mocap cache at {npz_path} and no Bandai Namco data (../shared/data/bandai-namco or --data-root): "
            "run `hpe3d ingest --data-root DIR` where the data is"
        )
    stamp = (str(npz_path), npz_path.stat().st_mtime_ns, str(split_config))
    if _LOADED.get("stamp") != stamp:
        meta = json.loads(json_path.read_text())
        try:
            with np.load(npz_path) as f:
                joints, clip, frame = f["joints"], f["clip"], f["frame"]
        except Exception as e:
            raise MocapError(
                f"{npz_path}: unreadable mocap cache ({type(e).__name__}: {e}); delete it and re-run `hpe3d ingest`"
            ) from e
        if joints.shape != (meta["frames"], skeleton.NUM_JOINTS, 3) or clip.shape != (meta["frames"],):
            raise MocapError(f"{npz_path}: arrays do not match {json_path}; delete both and re-run `hpe3d ingest`")
        rules = load_split_rules(split_config)
        clips = meta["clips"]
        for c in clips:
            c["split"] = assign_split(c, rules)
        for a in (joints, clip, frame):
            a.flags.writeable = False  # shared by every caller in this process: never edited in place
        _LOADED.clear()
        _LOADED.update(stamp=stamp, data=MocapData(joints, clip, clips, frame))
    d = _LOADED["data"]
    return MocapData(d.joints, d.clip, [dict(c) for c in d.clips], d.frame)


def load_split(
    split: str,
    subsample: int = 1,
    data_root: str | Path | None = None,
    cache: str | Path | None = None,
    split_config: str | Path | None = None,
) -> MocapData:
    """Frames of ``split`` ('train', 'val', 'test' or 'all'), every ``subsample``-th frame of each clip."""
    if split not in SPLITS + ("all",):
        raise ValueError(f"unknown split {split!r}; expected one of {SPLITS + ('all',)}")
    if int(subsample) < 1:
        raise ValueError(f"subsample must be a positive integer, got {subsample}")
    data = load_all(data_root, cache, split_config)
    if split != "all":
        data = data.select_clips(lambda c: c["split"] == split)
    elif subsample == 1:
        data = MocapData(data.joints.copy(), data.clip.copy(), data.clips, data.frame.copy())
    if subsample > 1:
        keep = data.frame % int(subsample) == 0
        data = MocapData(data.joints[keep], data.clip[keep], data.clips, data.frame[keep])
    return data


def split_summary(data: MocapData) -> dict:
    """Clip and frame counts per split (for docs/data.md)."""
    out = {}
    counts = np.bincount(data.clip, minlength=len(data.clips))
    for s in SPLITS:
        idx = [i for i, c in enumerate(data.clips) if c["split"] == s]
        out[s] = {"clips": len(idx), "frames": int(counts[idx].sum())}
    return out
