"""The HDM05 subset (../shared/data/hdm05-subset) in the project's joint layout, split by actor.

``load_hdm05(actors, subsample)`` parses every AMC clip of the given actors with its actor's ASF
(``asf_amc``), runs forward kinematics and maps to the 16-joint layout; the result is cached as one
npz per (actor, subsample, head point, retarget) under ``<cache>/hdm05/``, keyed by the source
files' names and sizes and the parser version.

Clip names: ``HDM_<actor>_<motion>_<take>_120.amc.gz`` (120 fps). Licence of the data: CC BY-SA 3.0
(attribution, share-alike: weights trained on it carry that licence; see engines/README.md).
Measured bodies (statures, bone groups): ``python -m training.studies.bodies table``.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import numpy as np

from hpe3d_ros import paths
from hpe3d_ros.poses_io import save_npz_atomic

from . import asf_amc
from .body import layout_groups

LOADER_VERSION = 2
ACTORS = ("bd", "bk", "dg", "mm", "tr")
FPS = 120
_CLIP_RE = re.compile(r"^HDM_([a-z]+)_(.+)_(\d+)_(\d+)\.amc(\.gz)?$")


@dataclass
class Hdm05Data:
    """Frames of HDM05 in the layout: ``joints`` (N, 16, 3) world metres (floor z = 0); per frame its
    ``actor``, ``motion`` (class), ``clip`` (name) and ``frame`` (index in the clip at 120 fps);
    ``head_points`` (N, 3, 3): the skull base, mid-head and head-bone end (``asf_amc.HEAD_POINTS``).
    Frames of one actor come in clip order, each clip's frames in time order."""

    joints: np.ndarray
    actor: np.ndarray
    motion: np.ndarray
    clip: np.ndarray
    frame: np.ndarray
    head_points: np.ndarray

    def __len__(self) -> int:
        return int(self.joints.shape[0])

    def select(self, mask: np.ndarray) -> "Hdm05Data":
        """The frames where ``mask`` is true."""
        return Hdm05Data(
            *(getattr(self, k)[mask] for k in ("joints", "actor", "motion", "clip", "frame", "head_points"))
        )

    @staticmethod
    def concat(parts: list["Hdm05Data"]) -> "Hdm05Data":
        keys = ("joints", "actor", "motion", "clip", "frame", "head_points")
        return Hdm05Data(*(np.concatenate([getattr(p, k) for p in parts]) for k in keys))


def hdm05_dir() -> Path | None:
    """../shared/data/hdm05-subset, or None."""
    s = paths.shared_dir()
    d = s / "data" / "hdm05-subset" if s else None
    return d if d is not None and d.is_dir() else None


def _require_dir(root: str | Path | None) -> Path:
    d = Path(root) if root else hdm05_dir()
    if d is None or not (d / "asf").is_dir() or not (d / "amc").is_dir():
        raise FileNotFoundError(f"HDM05 subset not found at {d or '../shared/data/hdm05-subset'} (needs asf/ and amc/)")
    return d


def parse_clip_name(path: str | Path) -> dict:
    """``HDM_<actor>_<motion>_<take>_<fps>.amc[.gz]`` -> dict(name, actor, motion, take, fps)."""
    name = Path(path).name
    m = _CLIP_RE.match(name)
    if not m:
        raise ValueError(f"{path}: clip name does not follow HDM_<actor>_<motion>_<take>_<fps>.amc[.gz]")
    return {
        "name": name.split(".amc")[0],
        "actor": m.group(1),
        "motion": m.group(2),
        "take": int(m.group(3)),
        "fps": int(m.group(4)),
    }


def clip_files(actor: str, root: str | Path | None = None) -> list[Path]:
    """The actor's AMC files, sorted by name."""
    d = _require_dir(root)
    return sorted(p for p in (d / "amc").glob(f"HDM_{actor}_*.amc*"))


def skeleton_of(actor: str, root: str | Path | None = None) -> asf_amc.AsfSkeleton:
    """The actor's ASF skeleton."""
    d = _require_dir(root)
    return asf_amc.parse_asf(d / "asf" / f"HDM_{actor}.asf")


def _fingerprint(files: list[Path], asf: Path) -> str:
    blob = json.dumps([LOADER_VERSION, asf.name, asf.stat().st_size] + [[f.name, f.stat().st_size] for f in files])
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def _load_actor(
    actor: str,
    subsample: int,
    root: Path,
    lengths: Mapping[str, float] | None,
    root_scale: float,
    tag: str,
    cache: Path | None,
) -> Hdm05Data:
    files = clip_files(actor, root)
    if not files:
        raise FileNotFoundError(f"{root}/amc: no clips of actor {actor!r}")
    asf_path = root / "asf" / f"HDM_{actor}.asf"
    key = _fingerprint(files, asf_path)
    base = Path(cache) if cache else paths.cache_dir()
    out = base / "hdm05" / f"{actor}-sub{subsample}-{tag}-{key}.npz"
    if out.is_file():
        try:
            with np.load(out, allow_pickle=False) as z:
                return Hdm05Data(*(z[k] for k in ("joints", "actor", "motion", "clip", "frame", "head_points")))
        except (OSError, ValueError, KeyError):  # a corrupt cache entry is rebuilt
            out.unlink(missing_ok=True)
    skel = asf_amc.parse_asf(asf_path)
    parts = {k: [] for k in ("joints", "actor", "motion", "clip", "frame", "head_points")}
    for f in files:
        meta = parse_clip_name(f)
        if meta["fps"] != FPS:
            raise ValueError(f"{f}: expected {FPS} fps clips, the name says {meta['fps']}")
        pos, names = asf_amc.forward_kinematics(
            skel, asf_amc.parse_amc(f, skel), lengths=lengths, root_scale=root_scale
        )
        keep = np.arange(0, len(pos), subsample)
        pos = pos[keep]
        parts["joints"].append(asf_amc.to_layout(pos, names).astype(np.float32))
        heads = [asf_amc.to_layout(pos, names, head=h)[:, 9] for h in asf_amc.HEAD_POINTS]
        parts["head_points"].append(np.stack(heads, axis=1).astype(np.float32))
        parts["actor"].append(np.full(len(keep), actor))
        parts["motion"].append(np.full(len(keep), meta["motion"]))
        parts["clip"].append(np.full(len(keep), meta["name"]))
        parts["frame"].append(keep.astype(np.int32))
    data = Hdm05Data(*(np.concatenate(parts[k]) for k in ("joints", "actor", "motion", "clip", "frame", "head_points")))
    save_npz_atomic(out, **{k: getattr(data, k) for k in ("joints", "actor", "motion", "clip", "frame", "head_points")})
    return data


def load_hdm05(
    actors: tuple[str, ...] | list[str] = ACTORS,
    subsample: int = 10,
    root: str | Path | None = None,
    cache: str | Path | None = None,
    retarget: "Retarget | None" = None,
) -> Hdm05Data:
    """Every ``subsample``-th frame of every clip of ``actors`` in the layout (world metres).

    ``retarget``: give every actor other bone lengths (``Retarget``), e.g. the Bandai body, by FK.
    """
    d = _require_dir(root)
    out = []
    for a in actors:
        if a not in ACTORS:
            raise ValueError(f"unknown HDM05 actor {a!r}; expected one of {ACTORS}")
        if retarget is None:
            out.append(_load_actor(a, subsample, d, None, 1.0, "native", cache))
        else:
            skel = asf_amc.parse_asf(d / "asf" / f"HDM_{a}.asf")
            lengths, root_scale = retarget.lengths_for(skel)
            out.append(_load_actor(a, subsample, d, lengths, root_scale, retarget.tag, cache))
    return Hdm05Data.concat(out)


class Retarget:
    """Bone lengths for an ASF skeleton that give its layout bones the lengths of a target body.

    ``target`` maps layout bone groups to metres: 'hip' (pelvis to hip), 'thigh', 'shin',
    'torso' (pelvis to thorax in the rest pose), 'neck' (thorax to head point), 'shoulder'
    (thorax to shoulder), 'upper_arm', 'forearm'. ASF bones are scaled per group:
    hipjoint (hip), femur (thigh), tibia (shin), lowerback+upperback+thorax (torso),
    lowerneck+upperneck (neck), clavicle (shoulder), humerus (upper arm), radius+wrist (forearm);
    foot, toes, hand, fingers and head bones keep their proportion to the shin / forearm / neck.
    The root translation is scaled by the new hip height over the old (feet stay on the floor).
    """

    def __init__(self, target: Mapping[str, float], tag: str) -> None:
        self.target = dict(target)
        self.tag = tag

    def lengths_for(self, skel: asf_amc.AsfSkeleton) -> tuple[dict[str, float], float]:
        """(bone lengths in metres, root translation scale) for ``skel``."""
        rest = rest_layout_bones(skel)
        lengths = skel.bone_lengths()
        groups = ASF_GROUPS
        scale = {g: self.target[g] / rest[g] for g in groups}
        new = dict(lengths)
        for g, bones in groups.items():
            for b in bones:
                if b in new:
                    new[b] = lengths[b] * scale[g]
        # the torso and neck are chains: scale them iteratively until the rest-pose distances match
        for _ in range(4):
            got = rest_layout_bones(skel, new)
            for g in ("torso", "neck", "shoulder", "hip"):
                f = self.target[g] / got[g]
                for b in groups[g]:
                    new[b] *= f
        for tip, base in (("foot", "shin"), ("hand", "forearm")):
            for b in ASF_TIPS[tip]:
                if b in new:
                    new[b] = lengths[b] * scale[base]
        new["head"] = lengths["head"] * scale["neck"]
        old_leg = rest["hip_height"]
        new_leg = rest_layout_bones(skel, new)["hip_height"]
        return new, new_leg / old_leg


ASF_GROUPS = {
    "hip": ("lhipjoint", "rhipjoint"),
    "thigh": ("lfemur", "rfemur"),
    "shin": ("ltibia", "rtibia"),
    "torso": ("lowerback", "upperback", "thorax"),
    "neck": ("lowerneck", "upperneck"),
    "shoulder": ("lclavicle", "rclavicle"),
    "upper_arm": ("lhumerus", "rhumerus"),
    "forearm": ("lradius", "rradius", "lwrist", "rwrist"),
}
ASF_TIPS = {
    "foot": ("lfoot", "rfoot", "ltoes", "rtoes"),
    "hand": ("lhand", "rhand", "lfingers", "rfingers", "lthumb", "rthumb"),
}


def rest_layout_bones(skel: asf_amc.AsfSkeleton, lengths: Mapping[str, float] | None = None) -> dict[str, float]:
    """Layout bone-group lengths of ``skel`` in its rest pose (all angles 0), plus 'hip_height'
    (hip joints above the lowest toe end)."""
    motion = asf_amc.AmcMotion(
        "rest",
        np.array([1]),
        np.zeros((1, len(skel.root_order))),
        {n: np.zeros((1, len(b.dofs))) for n, b in skel.bones.items() if b.dofs},
    )
    pos, names = asf_amc.forward_kinematics(skel, motion, lengths=lengths)
    j = asf_amc.to_layout(pos, names)[0]
    out = {k: float(v) for k, v in layout_groups(j).items()}
    idx = {n: i for i, n in enumerate(names)}
    foot = min(pos[0, idx["ltoes"], 2], pos[0, idx["rtoes"], 2], pos[0, idx["ltibia"], 2], pos[0, idx["rtibia"], 2])
    out["hip_height"] = float(j[1, 2] - foot)
    return out
