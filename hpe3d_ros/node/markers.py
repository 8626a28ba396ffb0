"""visualization_msgs/MarkerArray for RViz: per person a namespace, a sphere per joint, a LINE_LIST of
bones, and (from the scene stage) an ARROW for the heading and one for the walking velocity.

Marker ids are ``person * 100 + joint`` with ``person`` the stable track id, so RViz updates a
person's markers in place from frame to frame; the bones are ``person * 100 + BONES_ID``, the
heading arrow ``person * 100 + HEADING_ID`` (0.6 m from the pelvis, blue), the velocity arrow
``person * 100 + VELOCITY_ID`` (from the pelvis to where the person is in one second, magenta; only
above 0.1 m/s); the arrows' opacity grows with their confidence.
Colours go from red (confidence 0) through yellow to green (confidence 1). A short lifetime
makes skeletons of people who left the view vanish.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .. import skeleton

BONES_ID = 99
HEADING_ID = 97
VELOCITY_ID = 98
HEADING_ARROW_M = 0.6
MIN_ARROW_SPEED = 0.1  # m/s
ARROW_SCALE = (0.04, 0.08, 0.1)  # shaft diameter, head diameter, head length (metres)
SPHERE_DIAMETER_M = 0.06
LINE_WIDTH_M = 0.025


def confidence_rgb(confidence: float) -> tuple[float, float, float]:
    """Red -> yellow -> green for confidence 0 -> 0.5 -> 1 (clipped; NaN counts as 0)."""
    c = float(confidence)
    c = 0.0 if not np.isfinite(c) else min(max(c, 0.0), 1.0)
    return (min(1.0, 2.0 * (1.0 - c)), min(1.0, 2.0 * c), 0.0)


def namespace(track_id: int) -> str:
    """The marker namespace of one person."""
    return f"person_{int(track_id)}"


def _duration(seconds: float):
    from builtin_interfaces.msg import Duration

    ns = int(round(max(0.0, float(seconds)) * 1e9))
    return Duration(sec=ns // 1_000_000_000, nanosec=ns % 1_000_000_000)


def _point(p: np.ndarray):
    from geometry_msgs.msg import Point

    return Point(x=float(p[0]), y=float(p[1]), z=float(p[2]))


def _color(rgb: tuple[float, float, float], alpha: float = 1.0):
    from std_msgs.msg import ColorRGBA

    return ColorRGBA(r=float(rgb[0]), g=float(rgb[1]), b=float(rgb[2]), a=float(alpha))


def person_markers(header, track_id: int, joints: np.ndarray, confidence: np.ndarray, lifetime_s: float) -> list:
    """The 16 joint spheres and the bones LINE_LIST of one person (joints (16, 3) metres in header.frame_id)."""
    from visualization_msgs.msg import Marker

    joints = np.asarray(joints, dtype=np.float64).reshape(skeleton.NUM_JOINTS, 3)
    confidence = np.asarray(confidence, dtype=np.float64).reshape(skeleton.NUM_JOINTS)
    ns = namespace(track_id)
    life = _duration(lifetime_s)
    out = []
    for j in range(skeleton.NUM_JOINTS):
        m = Marker()
        m.header = header
        m.ns = ns
        m.id = int(track_id) * 100 + j
        m.type = Marker.SPHERE
        m.action = Marker.ADD
        m.pose.position = _point(joints[j])
        m.pose.orientation.w = 1.0
        m.scale.x = m.scale.y = m.scale.z = SPHERE_DIAMETER_M
        m.color = _color(confidence_rgb(confidence[j]))
        m.lifetime = life
        out.append(m)
    bones = Marker()
    bones.header = header
    bones.ns = ns
    bones.id = int(track_id) * 100 + BONES_ID
    bones.type = Marker.LINE_LIST
    bones.action = Marker.ADD
    bones.pose.orientation.w = 1.0
    bones.scale.x = LINE_WIDTH_M
    bones.color = _color((1.0, 1.0, 1.0))
    for parent, child in skeleton.BONES:
        c = min(confidence[parent], confidence[child])
        bones.points.extend([_point(joints[parent]), _point(joints[child])])
        bones.colors.extend([_color(confidence_rgb(c))] * 2)
    bones.lifetime = life
    out.append(bones)
    return out


def _arrow(header, ns: str, marker_id: int, start: np.ndarray, end: np.ndarray, rgb: tuple, alpha: float, life):
    from visualization_msgs.msg import Marker

    m = Marker()
    m.header = header
    m.ns = ns
    m.id = marker_id
    m.type = Marker.ARROW
    m.action = Marker.ADD
    m.pose.orientation.w = 1.0
    m.points = [_point(start), _point(end)]
    m.scale.x, m.scale.y, m.scale.z = ARROW_SCALE
    m.color = _color(rgb, alpha)
    m.lifetime = life
    return m


def person_arrows(header, person, lifetime_s: float) -> list:
    """The heading and velocity ARROWs of one person (none without a scene state or a finite estimate)."""
    s = getattr(person, "state", None)
    if s is None:
        return []
    ns, tid, life = namespace(person.track_id), int(person.track_id), _duration(lifetime_s)
    start = np.asarray(s.position_optical, dtype=np.float64)
    out = []
    if np.isfinite(s.heading):
        end = start + HEADING_ARROW_M * s.heading_direction_optical
        out.append(_arrow(header, ns, tid * 100 + HEADING_ID, start, end, (0.2, 0.6, 1.0),
                          0.3 + 0.7 * float(s.heading_confidence), life))
    v = np.asarray(s.velocity_optical, dtype=np.float64)
    if np.all(np.isfinite(v)) and np.linalg.norm(v) >= MIN_ARROW_SPEED:
        out.append(_arrow(header, ns, tid * 100 + VELOCITY_ID, start, start + v, (1.0, 0.0, 1.0),
                          0.3 + 0.7 * float(s.velocity_confidence), life))
    return out


def marker_array(header, people: Sequence, lifetime_s: float = 0.2):
    """MarkerArray for a frame's people (objects with track_id, joints_optical, confidence[, state])."""
    from visualization_msgs.msg import MarkerArray

    arr = MarkerArray()
    for p in people:
        arr.markers.extend(person_markers(header, p.track_id, p.joints_optical, p.confidence, lifetime_s))
        arr.markers.extend(person_arrows(header, p, lifetime_s))
    return arr


class MarkerBuilder:
    """``marker_array`` with the Marker objects of recent track ids kept and updated in place.

    Constructing a Marker message costs about 70 us in rclpy, most of the marker cost; this builder
    creates a person's 17 markers once and then only sets positions, colours, header and lifetime.
    Published arrays are serialised at publish time, so reusing the objects afterwards is safe.
    """

    def __init__(self, max_tracks: int = 64):
        self.max_tracks = max_tracks
        self._cache: dict[int, list] = {}

    def _markers_for(self, track_id: int) -> list:
        from geometry_msgs.msg import Point
        from std_msgs.msg import ColorRGBA

        ms = self._cache.pop(track_id, None)
        if ms is None:
            zeros = np.zeros((skeleton.NUM_JOINTS, 3))
            ms = person_markers(_header_stub(), track_id, zeros, np.ones(skeleton.NUM_JOINTS), 0.0)
            bones = ms[-1]
            bones.points = [Point() for _ in range(2 * len(skeleton.BONES))]
            bones.colors = [ColorRGBA(a=1.0) for _ in range(2 * len(skeleton.BONES))]
        self._cache[track_id] = ms  # most recently used last
        while len(self._cache) > self.max_tracks:
            self._cache.pop(next(iter(self._cache)))
        return ms

    def build(self, header, people: Sequence, lifetime_s: float = 0.2):
        """The MarkerArray of a frame's people (see ``person_markers`` for ids and colours)."""
        from visualization_msgs.msg import MarkerArray

        life = _duration(lifetime_s)
        arr = MarkerArray()
        out = []
        for p in people:
            ms = self._markers_for(int(p.track_id))
            joints = np.asarray(p.joints_optical, dtype=np.float64).reshape(skeleton.NUM_JOINTS, 3)
            conf = np.asarray(p.confidence, dtype=np.float64).reshape(skeleton.NUM_JOINTS)
            for j in range(skeleton.NUM_JOINTS):
                m = ms[j]
                m.header = header
                pos = m.pose.position
                pos.x, pos.y, pos.z = float(joints[j, 0]), float(joints[j, 1]), float(joints[j, 2])
                col = m.color
                col.r, col.g, col.b = confidence_rgb(conf[j])
                m.lifetime = life
            bones = ms[-1]
            bones.header = header
            bones.lifetime = life
            pts, cols = bones.points, bones.colors
            for b, (parent, child) in enumerate(skeleton.BONES):
                rgb = confidence_rgb(min(conf[parent], conf[child]))
                for k, idx in ((2 * b, parent), (2 * b + 1, child)):
                    pts[k].x, pts[k].y, pts[k].z = float(joints[idx, 0]), float(joints[idx, 1]), float(joints[idx, 2])
                    cols[k].r, cols[k].g, cols[k].b = rgb
            bones.points, bones.colors = pts, cols
            out.extend(ms)
            out.extend(person_arrows(header, p, lifetime_s))
        arr.markers = out
        return arr


def _header_stub():
    from std_msgs.msg import Header

    return Header()
