"""BVH motion files (plain or gzipped): a strict parser and vectorised forward kinematics.

Conventions
- Every joint's local transform is ``T(t) @ R``: ``t`` is the joint's translation in its parent's
  frame and ``R`` the product of its rotation channels *in the order written* for that joint
  (``CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation`` gives
  ``R = Rz(z) @ Rx(x) @ Ry(y)``, angles in degrees).
- A joint with translation channels takes ``t`` from them (they replace its OFFSET; in the
  Bandai Namco data the channel values of every non-root joint equal its OFFSET, while the
  Hips' OFFSET is a rest placement that the channels override). A joint without translation
  channels uses its OFFSET.
- World position of joint j: ``p_j = p_parent + R_parent_world @ t_j``, ``R_j_world = R_parent_world @ R_j``.
- Units and axes: BVH centimetres, Y up, the character facing +Z with its left at +X. The
  project's world frame is x forward, y left, z up, metres (REP-103). The map is the cyclic,
  right-handed (det +1, no mirroring) permutation ``(x, y, z)_world = (z, x, y)_bvh / 100``,
  i.e. ``p_world = BVH_TO_WORLD @ p_bvh * CM_TO_M``.
"""
from __future__ import annotations

import gzip
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

CM_TO_M = 0.01
# Rows: world x (forward) = bvh z, world y (left) = bvh x, world z (up) = bvh y.
BVH_TO_WORLD = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])

_POSITION = {"Xposition": 0, "Yposition": 1, "Zposition": 2}
_ROTATION = {"Xrotation": "x", "Yrotation": "y", "Zrotation": "z"}


class BvhError(ValueError):
    """A BVH file is unreadable, malformed, truncated or inconsistent; the message names the file and line."""


@dataclass
class BvhJoint:
    """One named joint of the hierarchy (End Sites are kept only as ``end_offset``)."""

    name: str
    parent: int
    offset: np.ndarray  # (3,) in the file's units
    channels: list[str]
    channel_start: int  # first column of this joint in a motion row
    end_offset: np.ndarray | None = None


@dataclass
class BvhMotion:
    """A parsed BVH file."""

    path: str
    joints: list[BvhJoint]
    frame_time: float
    motion: np.ndarray  # (F, C) float64 channel values as written
    names: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.names = [j.name for j in self.joints]

    @property
    def num_frames(self) -> int:
        return int(self.motion.shape[0])


def _read_text(path: Path) -> str:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rt", encoding="utf-8", errors="strict") as f:
                return f.read()
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BvhError(f"{path}: no such file") from None
    except (OSError, EOFError, UnicodeDecodeError) as e:  # gzip errors are OSError/EOFError
        raise BvhError(f"{path}: cannot read ({type(e).__name__}: {e})") from e


def parse_bvh(path: str | Path, text: str | None = None) -> BvhMotion:
    """Parse a BVH file (``.bvh`` or ``.bvh.gz``); ``text`` overrides reading the file (for tests).

    Raises BvhError naming the file, the line and the problem.
    """
    path = Path(path)
    if text is None:
        text = _read_text(path)
    lines = text.split("\n")
    where = str(path)

    def fail(lineno: int, msg: str) -> BvhError:
        return BvhError(f"{where}:{lineno}: {msg}")

    i = 0
    n = len(lines)

    def next_tokens() -> tuple[int, list[str]]:
        nonlocal i
        while i < n:
            toks = lines[i].split()
            i += 1
            if toks:
                return i, toks
        raise BvhError(f"{where}:{n}: unexpected end of file in HIERARCHY")

    lineno, toks = next_tokens()
    if toks[0] != "HIERARCHY":
        raise fail(lineno, f"expected 'HIERARCHY', got {lines[lineno - 1].strip()[:40]!r}")

    joints: list[BvhJoint] = []
    stack: list[int] = []  # joint index per open brace; -2 marks an End Site
    pending: tuple[str, int] | None = None  # (kind, lineno) of a ROOT/JOINT/End Site awaiting '{'
    pending_name = ""
    ncols = 0
    while True:
        lineno, toks = next_tokens()
        key = toks[0]
        if key in ("ROOT", "JOINT"):
            if key == "ROOT" and (joints or stack):
                raise fail(lineno, "only one ROOT is supported")
            if key == "JOINT" and not stack:
                raise fail(lineno, "JOINT outside of a ROOT")
            if len(toks) != 2:
                raise fail(lineno, f"{key} needs exactly one name, got {toks[1:]}")
            if stack and stack[-1] == -2:
                raise fail(lineno, "JOINT inside an End Site")
            pending, pending_name = (key, lineno), toks[1]
        elif key == "End":
            if len(toks) != 2 or toks[1] != "Site":
                raise fail(lineno, f"expected 'End Site', got {' '.join(toks)!r}")
            if not stack or stack[-1] == -2:
                raise fail(lineno, "End Site outside of a joint")
            pending, pending_name = ("End", lineno), ""
        elif key == "{":
            if pending is None:
                raise fail(lineno, "'{' without a ROOT, JOINT or End Site")
            if pending[0] == "End":
                stack.append(-2)
                joints[_last_joint(stack)].end_offset = np.zeros(3)
            else:
                if pending_name in (j.name for j in joints):
                    raise fail(lineno, f"duplicate joint name {pending_name!r}")
                parent = _last_joint(stack) if stack else -1
                joints.append(BvhJoint(pending_name, parent, np.full(3, np.nan), [], -1))
                stack.append(len(joints) - 1)
            pending = None
        elif key == "}":
            if not stack:
                raise fail(lineno, "unbalanced '}'")
            top = stack.pop()
            if top >= 0:
                j = joints[top]
                if np.isnan(j.offset).any():
                    raise fail(lineno, f"joint {j.name!r} has no OFFSET")
                if j.channel_start < 0:
                    raise fail(lineno, f"joint {j.name!r} has no CHANNELS")
            if not stack:
                break  # end of the hierarchy
        elif key == "OFFSET":
            if not stack:
                raise fail(lineno, "OFFSET outside of a joint")
            if len(toks) != 4:
                raise fail(lineno, f"OFFSET needs 3 numbers, got {len(toks) - 1}")
            try:
                off = np.array([float(t) for t in toks[1:]])
            except ValueError:
                raise fail(lineno, f"non-numeric OFFSET {' '.join(toks[1:])!r}") from None
            if not np.all(np.isfinite(off)):
                raise fail(lineno, "non-finite OFFSET")
            if stack[-1] == -2:
                joints[_last_joint(stack)].end_offset = off
            else:
                joints[stack[-1]].offset = off
        elif key == "CHANNELS":
            if not stack or stack[-1] == -2:
                raise fail(lineno, "CHANNELS outside of a joint")
            try:
                count = int(toks[1])
            except (IndexError, ValueError):
                raise fail(lineno, "CHANNELS needs a count") from None
            names = toks[2:]
            if count != len(names):
                raise fail(lineno, f"CHANNELS says {count} channels but names {len(names)}")
            if count not in (0, 3, 6):
                raise fail(lineno, f"unsupported channel count {count} (expected 3 or 6)")
            bad = [c for c in names if c not in _POSITION and c not in _ROTATION]
            if bad:
                raise fail(lineno, f"unknown channel name(s) {bad}")
            if len(set(names)) != len(names):
                raise fail(lineno, f"repeated channel in {names}")
            j = joints[stack[-1]]
            if j.channel_start >= 0:
                raise fail(lineno, f"joint {j.name!r} has CHANNELS twice")
            j.channels, j.channel_start = names, ncols
            ncols += count
        else:
            raise fail(lineno, f"unexpected {' '.join(toks)[:40]!r} in HIERARCHY")

    lineno, toks = next_tokens()
    if toks != ["MOTION"]:
        raise fail(lineno, f"expected 'MOTION', got {' '.join(toks)[:40]!r}")
    lineno, toks = next_tokens()
    if len(toks) != 2 or toks[0] != "Frames:":
        raise fail(lineno, "expected 'Frames: <count>'")
    try:
        frames = int(toks[1])
    except ValueError:
        raise fail(lineno, f"frame count {toks[1]!r} is not an integer") from None
    if frames < 1:
        raise fail(lineno, f"frame count must be positive, got {frames}")
    lineno, toks = next_tokens()
    if len(toks) != 3 or toks[:2] != ["Frame", "Time:"]:
        raise fail(lineno, "expected 'Frame Time: <seconds>'")
    try:
        frame_time = float(toks[2])
    except ValueError:
        raise fail(lineno, f"frame time {toks[2]!r} is not a number") from None
    if not frame_time > 0:
        raise fail(lineno, f"frame time must be positive, got {frame_time}")

    first = i  # index of the first motion line
    body = lines[first:]
    while body and not body[-1].strip():
        body.pop()
    if len(body) < frames:
        raise BvhError(f"{where}:{first + len(body)}: truncated: header says {frames} frames, found {len(body)} "
                       "motion lines")
    if len(body) > frames:
        raise fail(first + frames + 1, f"{len(body) - frames} motion line(s) beyond the {frames} frames in the header")
    try:
        values = np.array(" ".join(body).split(), dtype=np.float64)
    except ValueError:
        values = None
    if values is None or values.size != frames * ncols:
        for k, line in enumerate(body):
            toks = line.split()
            if len(toks) != ncols:
                raise fail(first + k + 1, f"motion line has {len(toks)} values, expected {ncols}")
            try:
                [float(t) for t in toks]
            except ValueError:
                bad = next(t for t in toks if not _is_float(t))
                raise fail(first + k + 1, f"non-numeric motion value {bad[:20]!r}") from None
        raise BvhError(f"{where}: motion block does not parse")  # pragma: no cover - defensive
    motion = values.reshape(frames, ncols)
    if not np.all(np.isfinite(motion)):
        row = int(np.nonzero(~np.isfinite(motion).all(axis=1))[0][0])
        raise fail(first + row + 1, "non-finite motion value (nan or inf)")
    return BvhMotion(where, joints, frame_time, motion)


def _is_float(t: str) -> bool:
    try:
        float(t)
        return True
    except ValueError:
        return False


def _last_joint(stack: list[int]) -> int:
    for s in reversed(stack):
        if s >= 0:
            return s
    raise AssertionError("no joint on the stack")


def _axis_rotations(axis: str, degrees: np.ndarray) -> np.ndarray:
    a = np.radians(degrees)
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    if axis == "x":
        rows = [[o, z, z], [z, c, -s], [z, s, c]]
    elif axis == "y":
        rows = [[c, z, s], [z, o, z], [-s, z, c]]
    else:
        rows = [[c, -s, z], [s, c, z], [z, z, o]]
    return np.stack([np.stack(r, -1) for r in rows], -2)


def local_transforms(bvh: BvhMotion) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame local rotations (F, K, 3, 3) and translations (F, K, 3) in file units."""
    f = bvh.num_frames
    k = len(bvh.joints)
    rot = np.broadcast_to(np.eye(3), (f, k, 3, 3)).copy()
    trans = np.empty((f, k, 3))
    for ji, j in enumerate(bvh.joints):
        trans[:, ji] = j.offset
        pos_cols = [(bvh_col, _POSITION[c]) for bvh_col, c in enumerate(j.channels) if c in _POSITION]
        for col, axis in pos_cols:
            trans[:, ji, axis] = bvh.motion[:, j.channel_start + col]
        r = None
        for col, c in enumerate(j.channels):
            if c in _ROTATION:
                m = _axis_rotations(_ROTATION[c], bvh.motion[:, j.channel_start + col])
                r = m if r is None else r @ m
        if r is not None:
            rot[:, ji] = r
    return rot, trans


def forward_kinematics(bvh: BvhMotion, world: bool = True) -> np.ndarray:
    """Joint positions (F, K, 3) for every named joint, in ``bvh.names`` order.

    ``world=True``: metres in the project's world frame (x forward, y left, z up);
    ``world=False``: the file's own units and axes.
    """
    rot, trans = local_transforms(bvh)
    f, k = rot.shape[:2]
    g_rot = np.empty_like(rot)
    g_pos = np.empty((f, k, 3))
    for ji, j in enumerate(bvh.joints):  # parents precede children in file order
        if j.parent < 0:
            g_rot[:, ji] = rot[:, ji]
            g_pos[:, ji] = trans[:, ji]
        else:
            p = j.parent
            g_rot[:, ji] = g_rot[:, p] @ rot[:, ji]
            g_pos[:, ji] = g_pos[:, p] + np.einsum("fij,fj->fi", g_rot[:, p], trans[:, ji])
    if not world:
        return g_pos
    return np.einsum("ij,fkj->fki", BVH_TO_WORLD, g_pos) * CM_TO_M


def load_bvh_positions(path: str | Path) -> tuple[np.ndarray, list[str], float]:
    """Parse a file and run FK: (world positions (F, K, 3) metres, joint names, frame time s)."""
    bvh = parse_bvh(path)
    return forward_kinematics(bvh), bvh.names, bvh.frame_time
