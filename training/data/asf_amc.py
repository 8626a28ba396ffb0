"""Acclaim ASF/AMC motion capture (HDM05, CMU-style): a strict parser and vectorised forward kinematics.

Conventions (the Acclaim format, as HDM05 writes it; see ../shared/data/hdm05-subset/README.md)
- ASF ``:units length u``: lengths and root translations are in inches / u, so metres are
  ``value * 0.0254 / u``. ``angle deg``: every angle in degrees.
- A bone has a unit ``direction`` (in the global rest frame), a ``length``, an ``axis`` (three
  angles and their order, e.g. ``0 0 20 XYZ``) and its ``dof`` (rx, ry, rz in the order the AMC
  lines give the values). A bone's **end** is the joint the name stands for (hip = end of
  l/rhipjoint, knee = end of l/rfemur, ...); the root has no length.
- Rotations: ``C`` from the axis, ``M`` from the frame's dof values, each composed so that the
  first-listed axis is applied first (``XYZ`` gives ``Rz @ Ry @ Rx``). A bone's global rotation is
  ``L = L_parent @ C @ M @ C^-1`` and its end sits at ``p = p_parent + length * L @ direction``
  (``L_root = C_root @ M_root @ C_root^-1`` with the root's ``axis`` and the AMC root angles).
- World axes: the ASF frame is Y up with the character's left at +X and its face towards +Z
  (the same as the Bandai BVH files), so the project's world frame (x forward, y left, z up) is
  ``(x, y, z)_world = (z, x, y)_asf`` (``training.data.bvh.BVH_TO_WORLD``, a proper rotation).

``to_layout`` maps the bone ends to the project's 16-joint layout through the Bandai rules of
``hpe3d_ros.skeleton`` (``HDM05_AS_BANDAI`` renames the bones the layout reads), so pelvis, spine
and thorax are derived exactly as for the Bandai mocap.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import numpy as np

from hpe3d_ros import skeleton

from .bvh import BVH_TO_WORLD

INCH_M = 0.0254
# The ASF axes are the Bandai BVH's (Y up, left +X, facing +Z): the same map to the world frame.
ASF_TO_WORLD = BVH_TO_WORLD

# The layout reads these Bandai joint names (skeleton.MOCAP_JOINTS_USED); each is the END of the
# HDM05 bone on the right. Head: the Bandai 'Head' joint is the top of the neck (skull base), which
# in HDM05 is the end of 'upperneck' (see HEAD_POINTS for the alternatives and docs of the gap).
HDM05_AS_BANDAI = {
    "UpperLeg_L": "lhipjoint",
    "UpperLeg_R": "rhipjoint",
    "LowerLeg_L": "lfemur",
    "LowerLeg_R": "rfemur",
    "Foot_L": "ltibia",
    "Foot_R": "rtibia",
    "UpperArm_L": "lclavicle",
    "UpperArm_R": "rclavicle",
    "LowerArm_L": "lhumerus",
    "LowerArm_R": "rhumerus",
    "Hand_L": "lwrist",
    "Hand_R": "rwrist",
    "Head": "upperneck",
}
# Wrist: the END of the 'wrist' bone, not of 'radius'. The dofs say where the joints are: 'radius'
# has rx only (elbow flexion), 'wrist' ry only (forearm pronation/supination: a twist about the
# forearm's own axis, collinear with the radius), 'hand' rx rz (wrist flexion and deviation), so the
# wrist joint is the start of 'hand' = the end of 'wrist'. Lengths agree: radius + wrist = 0.145-0.166
# of stature for the HDM05 actors, the elbow-to-wrist fraction of Winter's segment table (0.146);
# radius alone is 0.10. (The subset's README names the end of radius.)
# Candidate head points of an HDM05 skeleton (name -> (bone end a, bone end b, weight of b)).
HEAD_POINTS = {
    "skull_base": ("upperneck", "upperneck", 0.0),  # = Bandai 'Head' (top of the neck)
    "mid_head": ("upperneck", "head", 0.5),  # about the ear canal / head centre
    "head_end": ("head", "head", 0.0),  # end of the head bone (about the vertex)
}


class AsfAmcError(ValueError):
    """An ASF or AMC file is unreadable, malformed or inconsistent; the message names the file and line."""


@dataclass
class AsfBone:
    """One bone of an ASF skeleton. ``length`` is in metres; ``direction`` a unit vector (ASF axes)."""

    name: str
    direction: np.ndarray
    length: float
    axis_deg: np.ndarray
    axis_order: str
    dofs: list[str]
    parent: str = ""


@dataclass
class AsfSkeleton:
    """A parsed ASF file: bones in hierarchy order (parents before children), the root's settings."""

    path: str
    name: str
    length_to_m: float
    bones: dict[str, AsfBone]
    root_order: list[str]
    root_axis: str
    root_position: np.ndarray  # metres, ASF axes
    root_orientation_deg: np.ndarray
    order: list[str] = field(default_factory=list)  # bone names, parents first

    def bone_lengths(self) -> dict[str, float]:
        """Bone lengths in metres."""
        return {n: b.length for n, b in self.bones.items()}


@dataclass
class AmcMotion:
    """A parsed AMC file: ``root`` (F, 6) in the ASF ``root_order`` (translation in metres, angles in
    degrees); ``dofs[bone]`` (F, n_dof) degrees; ``frame_numbers`` (F,)."""

    path: str
    frame_numbers: np.ndarray
    root: np.ndarray
    dofs: dict[str, np.ndarray]

    @property
    def num_frames(self) -> int:
        return int(self.root.shape[0])


def _read_text(path: Path) -> str:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rt", encoding="latin-1") as f:
                return f.read()
        return path.read_text(encoding="latin-1")
    except FileNotFoundError:
        raise AsfAmcError(f"{path}: no such file") from None
    except (OSError, EOFError) as e:
        raise AsfAmcError(f"{path}: cannot read ({type(e).__name__}: {e})") from e


def _floats(toks: list[str], n: int, where: str, what: str) -> np.ndarray:
    if len(toks) < n:
        raise AsfAmcError(f"{where}: {what} needs {n} numbers, got {len(toks)}")
    try:
        v = np.array([float(t) for t in toks[:n]])
    except ValueError:
        raise AsfAmcError(f"{where}: non-numeric {what} {' '.join(toks[:n])!r}") from None
    if not np.all(np.isfinite(v)):
        raise AsfAmcError(f"{where}: non-finite {what}")
    return v


def euler_matrix(angles_deg: np.ndarray, order: str) -> np.ndarray:
    """Rotation(s) (..., 3, 3) from angles (..., len(order)) in degrees about the axes of ``order``
    (letters x, y, z), the first-listed axis applied first: ``order='xyz'`` gives ``Rz @ Ry @ Rx``."""
    a = np.radians(np.asarray(angles_deg, dtype=np.float64))
    out = np.broadcast_to(np.eye(3), a.shape[:-1] + (3, 3)).copy()
    for i, ax in enumerate(order.lower()):
        c, s = np.cos(a[..., i]), np.sin(a[..., i])
        o, z = np.ones_like(c), np.zeros_like(c)
        if ax == "x":
            rows = [[o, z, z], [z, c, -s], [z, s, c]]
        elif ax == "y":
            rows = [[c, z, s], [z, o, z], [-s, z, c]]
        elif ax == "z":
            rows = [[c, -s, z], [s, c, z], [z, z, o]]
        else:
            raise ValueError(f"unknown rotation axis {ax!r} in {order!r}")
        r = np.stack([np.stack(row, -1) for row in rows], -2)
        out = r @ out
    return out


def parse_asf(path: str | Path, text: str | None = None) -> AsfSkeleton:
    """Parse an ASF skeleton (``text`` overrides reading ``path``, for tests). Lengths become metres."""
    path = Path(path)
    where = str(path)
    if text is None:
        text = _read_text(path)
    lines = text.splitlines()
    section = ""
    units_length = None
    name = ""
    root = {"order": None, "axis": None, "position": np.zeros(3), "orientation": np.zeros(3)}
    raw_bones: list[dict] = []
    hierarchy: list[tuple[int, list[str]]] = []
    cur: dict | None = None
    limits_open = False
    for ln, line in enumerate(lines, 1):
        s = line.split("#", 1)[0].strip()
        if not s:
            continue
        toks = s.split()
        at = f"{where}:{ln}"
        if toks[0].startswith(":"):
            section = toks[0]
            if section == ":name" and len(toks) > 1:
                name = toks[1]
            limits_open = False
            continue
        if section == ":units":
            if toks[0] == "length":
                units_length = float(_floats(toks[1:], 1, at, "units length")[0])
                if not units_length > 0:
                    raise AsfAmcError(f"{at}: units length must be positive, got {units_length}")
            elif toks[0] == "angle" and (len(toks) < 2 or toks[1].lower() not in ("deg", "degree", "degrees")):
                raise AsfAmcError(f"{at}: only 'angle deg' is supported, got {s!r}")
        elif section == ":root":
            key = toks[0]
            if key == "order":
                root["order"] = [t.lower() for t in toks[1:]]
            elif key == "axis":
                root["axis"] = toks[1] if len(toks) > 1 else ""
            elif key in ("position", "orientation"):
                root[key] = _floats(toks[1:], 3, at, f"root {key}")
        elif section == ":bonedata":
            key = toks[0]
            if key == "begin":
                if cur is not None:
                    raise AsfAmcError(f"{at}: 'begin' inside a bone")
                cur = {"line": ln, "dof": []}
                limits_open = False
            elif key == "end":
                if cur is None:
                    raise AsfAmcError(f"{at}: 'end' without 'begin'")
                raw_bones.append(cur)
                cur = None
                limits_open = False
            elif cur is None:
                raise AsfAmcError(f"{at}: {key!r} outside of a bone's begin/end")
            elif key == "name":
                cur["name"] = toks[1] if len(toks) > 1 else ""
            elif key == "direction":
                cur["direction"] = _floats(toks[1:], 3, at, "direction")
            elif key == "length":
                cur["length"] = float(_floats(toks[1:], 1, at, "length")[0])
            elif key == "axis":
                cur["axis"] = _floats(toks[1:], 3, at, "axis")
                cur["axis_order"] = toks[4] if len(toks) > 4 else "XYZ"
            elif key == "dof":
                cur["dof"] = [t.lower() for t in toks[1:]]
            elif key == "limits":
                limits_open = True
            elif limits_open and toks[0].startswith("("):
                pass
            elif key in ("id", "bodymass", "cofmass"):
                pass
            else:
                raise AsfAmcError(f"{at}: unexpected {s[:40]!r} in a bone")
        elif section == ":hierarchy":
            if toks[0] in ("begin", "end"):
                continue
            hierarchy.append((ln, toks))
    if units_length is None:
        raise AsfAmcError(f"{where}: no ':units length' given")
    if root["order"] is None:
        raise AsfAmcError(f"{where}: no ':root order' given")
    if cur is not None:
        raise AsfAmcError(f"{where}: bone starting at line {cur['line']} has no 'end'")
    if not hierarchy:
        raise AsfAmcError(f"{where}: no ':hierarchy'")
    to_m = INCH_M / units_length
    bones: dict[str, AsfBone] = {}
    for b in raw_bones:
        at = f"{where}:{b['line']}"
        for k in ("name", "direction", "length"):
            if k not in b or (isinstance(b[k], str) and not b[k]):
                raise AsfAmcError(f"{at}: bone lacks {k!r}")
        if b["name"] in bones or b["name"] == "root":
            raise AsfAmcError(f"{at}: duplicate bone name {b['name']!r}")
        bad = [d for d in b["dof"] if d not in ("rx", "ry", "rz")]
        if bad:
            raise AsfAmcError(f"{at}: bone {b['name']!r}: unsupported dof {bad} (rotations rx, ry, rz only)")
        d = b["direction"]
        norm = float(np.linalg.norm(d))
        if b["length"] < 0 or (b["length"] > 0 and norm < 1e-9):
            raise AsfAmcError(f"{at}: bone {b['name']!r} has a negative length or a zero direction")
        axis_order = b.get("axis_order", "XYZ")
        if sorted(axis_order.lower()) != ["x", "y", "z"]:
            raise AsfAmcError(f"{at}: bone {b['name']!r}: axis order {axis_order!r} is not a permutation of XYZ")
        bones[b["name"]] = AsfBone(
            b["name"], d / max(norm, 1e-12), b["length"] * to_m, b.get("axis", np.zeros(3)), axis_order, b["dof"]
        )
    order: list[str] = []
    known = {"root"}
    for ln, toks in hierarchy:
        parent, children = toks[0], toks[1:]
        if parent not in known:
            raise AsfAmcError(
                f"{where}:{ln}: hierarchy parent {parent!r} appears before it is attached (or is unknown)"
            )
        for c in children:
            if c not in bones:
                raise AsfAmcError(f"{where}:{ln}: hierarchy names unknown bone {c!r}")
            if c in known:
                raise AsfAmcError(f"{where}:{ln}: bone {c!r} has two parents")
            bones[c].parent = parent
            known.add(c)
            order.append(c)
    unattached = sorted(set(bones) - set(order))
    if unattached:
        raise AsfAmcError(f"{where}: bones not in the hierarchy: {unattached}")
    return AsfSkeleton(
        where,
        name,
        to_m,
        bones,
        root["order"],
        root["axis"] or "XYZ",
        root["position"] * to_m,
        root["orientation"],
        order,
    )


def parse_amc(path: str | Path, skel: AsfSkeleton, text: str | None = None) -> AmcMotion:
    """Parse an AMC motion for ``skel`` (``text`` overrides reading ``path``). Every frame must give
    the root and every bone that has dofs, each with the ASF's number of values."""
    path = Path(path)
    where = str(path)
    if text is None:
        text = _read_text(path)
    need = {n: len(b.dofs) for n, b in skel.bones.items() if b.dofs}
    nroot = len(skel.root_order)
    frames: list[int] = []
    rows: dict[str, list] = {n: [] for n in need}
    root_rows: list = []
    seen: set[str] = set()
    frame_line = 0

    def close_frame() -> None:
        if not frames:
            return
        missing = sorted(({"root"} | set(need)) - seen)
        if missing:
            raise AsfAmcError(f"{where}:{frame_line}: frame {frames[-1]} lacks {missing}")

    for ln, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if not s or s.startswith("#") or s.startswith(":"):
            continue
        toks = s.split()
        if len(toks) == 1 and toks[0].lstrip("-").isdigit():
            close_frame()
            frames.append(int(toks[0]))
            frame_line = ln
            seen = set()
            continue
        if not frames:
            raise AsfAmcError(f"{where}:{ln}: motion data before the first frame number")
        bone = toks[0]
        at = f"{where}:{ln}"
        if bone in seen:
            raise AsfAmcError(f"{at}: bone {bone!r} given twice in frame {frames[-1]}")
        if bone == "root":
            if len(toks) - 1 != nroot:
                raise AsfAmcError(f"{at}: root has {len(toks) - 1} values, the ASF order has {nroot}")
            root_rows.append(_floats(toks[1:], nroot, at, "root values"))
        elif bone in need:
            if len(toks) - 1 != need[bone]:
                raise AsfAmcError(f"{at}: bone {bone!r} has {len(toks) - 1} values, its ASF dof has {need[bone]}")
            rows[bone].append(_floats(toks[1:], need[bone], at, f"{bone} values"))
        elif bone in skel.bones:
            raise AsfAmcError(f"{at}: bone {bone!r} has no dof in the ASF but values in the AMC")
        else:
            raise AsfAmcError(f"{at}: unknown bone {bone!r} (not in {skel.path})")
        seen.add(bone)
    close_frame()
    if not frames:
        raise AsfAmcError(f"{where}: no frames")
    root = np.array(root_rows)
    order = skel.root_order
    for i, ch in enumerate(order):
        if ch in ("tx", "ty", "tz"):
            root[:, i] *= skel.length_to_m
    return AmcMotion(where, np.array(frames), root, {n: np.array(v) for n, v in rows.items()})


def _root_parts(skel: AsfSkeleton, motion: AmcMotion) -> tuple[np.ndarray, np.ndarray]:
    """Root translation (F, 3) metres and rotation (F, 3, 3) in ASF axes."""
    order = skel.root_order
    f = motion.num_frames
    t = np.tile(skel.root_position, (f, 1))
    angles = {}
    for i, ch in enumerate(order):
        if ch in ("tx", "ty", "tz"):
            t[:, "xyz".index(ch[1])] = motion.root[:, i]
        elif ch in ("rx", "ry", "rz"):
            angles[ch[1]] = motion.root[:, i]
        else:
            raise AsfAmcError(f"{skel.path}: unknown root channel {ch!r}")
    axis = skel.root_axis.lower()
    if sorted(axis) != ["x", "y", "z"]:
        raise AsfAmcError(f"{skel.path}: root axis {skel.root_axis!r} is not a permutation of XYZ")
    # The root's rotation: its angles composed in the ASF root 'axis' order, about its rest orientation.
    m = euler_matrix(np.stack([angles.get(a, np.zeros(f)) for a in axis], -1), axis)
    c = euler_matrix(skel.root_orientation_deg, axis)
    r = c @ m @ c.T
    return t, r


def forward_kinematics(
    skel: AsfSkeleton,
    motion: AmcMotion,
    lengths: Mapping[str, float] | None = None,
    root_scale: float = 1.0,
    world: bool = True,
) -> tuple[np.ndarray, list[str]]:
    """Bone-end positions (F, 1 + B, 3) and their names (``'root'`` first, then ``skel.order``).

    ``lengths`` overrides bone lengths (metres; a retargeting: the same joint rotations on another
    body); ``root_scale`` scales the root translation (keep the feet on the floor when the legs
    change). ``world=True``: the project's world frame (x forward, y left, z up); else ASF axes.
    """
    f = motion.num_frames
    t_root, r_root = _root_parts(skel, motion)
    names = ["root"] + list(skel.order)
    index = {n: i for i, n in enumerate(names)}
    pos = np.empty((f, len(names), 3))
    rot = np.empty((f, len(names), 3, 3))
    pos[:, 0] = t_root * root_scale
    rot[:, 0] = r_root
    for i, n in enumerate(skel.order, 1):
        b = skel.bones[n]
        c = euler_matrix(b.axis_deg, b.axis_order)
        if b.dofs:
            m = euler_matrix(motion.dofs[n], "".join(d[1] for d in b.dofs))
            local = c @ m @ c.T
        else:
            local = np.broadcast_to(np.eye(3), (f, 3, 3))
        p = index[b.parent]
        rot[:, i] = rot[:, p] @ local
        length = b.length if lengths is None else float(lengths.get(n, b.length))
        pos[:, i] = pos[:, p] + length * (rot[:, i] @ b.direction)
    if world:
        pos = np.einsum("ij,fkj->fki", ASF_TO_WORLD, pos)
    return pos, names


def to_layout(positions: np.ndarray, names: list[str], head: str = "skull_base") -> np.ndarray:
    """Bone ends (F, K, 3) named ``names`` -> the 16-joint layout (F, 16, 3) by the Bandai rules,
    with the head point ``head`` (a key of ``HEAD_POINTS``; 'skull_base' matches Bandai's Head)."""
    if head not in HEAD_POINTS:
        raise ValueError(f"unknown head point {head!r}; expected one of {sorted(HEAD_POINTS)}")
    lookup = {n: i for i, n in enumerate(names)}
    missing = sorted({v for v in HDM05_AS_BANDAI.values()} - set(lookup))
    if missing:
        raise KeyError(f"ASF skeleton lacks bones the layout needs: {missing}")
    src = [positions[..., lookup[HDM05_AS_BANDAI[n]], :] for n in skeleton.MOCAP_JOINTS_USED]
    a, b, w = HEAD_POINTS[head]
    head_pt = (1 - w) * positions[..., lookup[a], :] + w * positions[..., lookup[b], :]
    src[list(skeleton.MOCAP_JOINTS_USED).index("Head")] = head_pt
    return skeleton.from_mocap(np.stack(src, axis=-2), list(skeleton.MOCAP_JOINTS_USED))


def load_clip(asf: AsfSkeleton, amc_path: str | Path, **fk_kwargs) -> np.ndarray:
    """An AMC file of ``asf`` in the layout: (F, 16, 3) world metres."""
    head = fk_kwargs.pop("head", "skull_base")
    pos, names = forward_kinematics(asf, parse_amc(amc_path, asf), **fk_kwargs)
    return to_layout(pos, names, head=head)
