"""Per-person outputs of the scene stage (hpe3d_ros.scene), standard messages only (docs/node.md).

- ``people`` (sensor_msgs/PointCloud2, one message per frame): one point per person, fields in
  ``PEOPLE_DTYPE``; the header's frame is ``base_frame`` when it is set, else the image's optical frame.
  ``read_people`` turns it back into arrays.
- per body, in the manner of REP-155 (``<body_topics.namespace>/b<track_id>/...``):
  ``roi`` (sensor_msgs/RegionOfInterest: the person's box in the image, pixels), ``position``
  (geometry_msgs/PoseWithCovarianceStamped: the pelvis, oriented by the heading, with covariance) and
  ``velocity`` (geometry_msgs/TwistStamped: the walking velocity), in the same frame as ``people``;
- ``tracked`` (std_msgs/Int32MultiArray): the track ids of the frame, one message per frame.

Frames: ``base_frame`` set: positions, covariances, velocities and orientations are in it (REP-103:
x forward, y left, z up); else in the optical frame of the image. Headings are yaws about the ground
frame's up axis (base_frame, else the camera's levelled frame; docs/placement.md "Frames").
"""
from __future__ import annotations

import copy
import math
from typing import Any, Sequence

import numpy as np

from .. import camera
from ..scene.placement import METHODS
from .skeleton_msgs import cloud_message

PEOPLE_DTYPE = np.dtype(
    [
        ("x", "<f4"), ("y", "<f4"), ("z", "<f4"),
        ("ox", "<f4"), ("oy", "<f4"), ("oz", "<f4"),
        ("vx", "<f4"), ("vy", "<f4"), ("vz", "<f4"),
        ("speed", "<f4"), ("velocity_confidence", "<f4"),
        ("heading", "<f4"), ("heading_confidence", "<f4"),
        ("head_yaw", "<f4"), ("head_yaw_confidence", "<f4"), ("looking", "<f4"),
        ("distance", "<f4"), ("distance_std", "<f4"), ("body_height", "<f4"),
        ("cov_xx", "<f4"), ("cov_xy", "<f4"), ("cov_xz", "<f4"), ("cov_yy", "<f4"), ("cov_yz", "<f4"),
        ("cov_zz", "<f4"),
        ("placement", "<i4"), ("track_id", "<i4"),
    ]
)
HEADING_STD_AT_FULL_CONFIDENCE = 0.2  # rad: the heading's 1 sigma at confidence 1 (grows as 1 / confidence)
BODY_TILT_STD = 0.2  # rad: people stand upright, give or take this much (roll and pitch of a body's pose)


def out_frame(values: dict[str, Any]) -> str:
    """'' (the image's optical frame) or the base frame the per-person outputs are expressed in."""
    return str(values.get("base_frame", "") or "")


def _header_in(header, values: dict[str, Any]):
    frame = out_frame(values)
    if not frame:
        return header
    h = copy.copy(header)
    h.frame_id = frame
    return h


def _in_frame(state, values: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(position, its covariance, velocity, rotation from the ground frame) in the output frame."""
    if out_frame(values):
        return state.position_base, state.position_cov_base, state.velocity_base, np.eye(3)
    r_o_b = state.base_from_optical.T
    return state.position_optical, state.position_cov_optical, state.velocity_optical, r_o_b


def heading_std(confidence: float) -> float:
    """The heading's 1 sigma (radians) from its confidence: 0.2 rad at 1, as 1 / confidence, at most pi."""
    if not confidence > 0:
        return math.pi
    return min(math.pi, HEADING_STD_AT_FULL_CONFIDENCE / confidence)


def people_points(people: Sequence, values: dict[str, Any]) -> np.ndarray:
    """A structured array (people with a scene state,) of PEOPLE_DTYPE."""
    placed = [p for p in people if getattr(p, "state", None) is not None]
    pts = np.zeros(len(placed), dtype=PEOPLE_DTYPE)
    for i, p in enumerate(placed):
        s = p.state
        pos, cov, vel, _ = _in_frame(s, values)
        row = pts[i]
        row["x"], row["y"], row["z"] = pos
        row["ox"], row["oy"], row["oz"] = s.position_optical
        row["vx"], row["vy"], row["vz"] = vel
        row["speed"] = float(np.linalg.norm(s.velocity_base))
        row["velocity_confidence"] = s.velocity_confidence
        row["heading"], row["heading_confidence"] = s.heading, s.heading_confidence
        row["head_yaw"], row["head_yaw_confidence"] = s.head.yaw, s.head.confidence
        row["looking"] = 1.0 if s.head.looking else 0.0
        row["distance"] = s.distance_m
        row["distance_std"] = s.placement.rel_std * s.distance_m
        row["body_height"] = s.body_height_m
        for name, (a, b) in zip(("cov_xx", "cov_xy", "cov_xz", "cov_yy", "cov_yz", "cov_zz"),
                                ((0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2))):
            row[name] = cov[a, b]
        row["placement"] = METHODS.index(s.placement.method)
        row["track_id"] = int(p.track_id)
    return pts


def people_cloud(header, people: Sequence, values: dict[str, Any]):
    """sensor_msgs/PointCloud2 of a frame's people (see the module docstring)."""
    return cloud_message(_header_in(header, values), people_points(people, values))


def read_people(msg) -> dict[str, np.ndarray]:
    """A ``people`` PointCloud2 back to one array per field (N,)."""
    names = [f.name for f in msg.fields]
    if names != list(PEOPLE_DTYPE.names) or msg.point_step != PEOPLE_DTYPE.itemsize:
        raise ValueError(f"not a hpe3d people cloud: fields {names}, point_step {msg.point_step}")
    pts = np.frombuffer(bytes(msg.data), dtype=PEOPLE_DTYPE)
    return {name: pts[name].astype(np.float64 if pts[name].dtype.kind == "f" else np.int64) for name in pts.dtype.names}


def _quaternion(r: np.ndarray) -> tuple[float, float, float, float]:
    from scipy.spatial.transform import Rotation

    x, y, z, w = Rotation.from_matrix(r).as_quat()
    return float(x), float(y), float(z), float(w)


def body_position(header, person, values: dict[str, Any]):
    """geometry_msgs/PoseWithCovarianceStamped: the pelvis, oriented by the heading (x forward, z up),
    covariance 6x6 (x, y, z, rotation about x, y, z) in the output frame."""
    from geometry_msgs.msg import PoseWithCovarianceStamped

    s = person.state
    pos, cov, _, r_frame_ground = _in_frame(s, values)
    msg = PoseWithCovarianceStamped()
    msg.header = _header_in(header, values)
    msg.pose.pose.position.x, msg.pose.pose.position.y, msg.pose.pose.position.z = (float(v) for v in pos)
    yaw = s.heading if math.isfinite(s.heading) else 0.0
    q = _quaternion(r_frame_ground @ camera.rot_z(yaw))
    o = msg.pose.pose.orientation
    o.x, o.y, o.z, o.w = q
    up = r_frame_ground @ np.array([0.0, 0.0, 1.0])
    rot_cov = heading_std(s.heading_confidence if math.isfinite(s.heading) else 0.0) ** 2 * np.outer(up, up)
    rot_cov += BODY_TILT_STD**2 * (np.eye(3) - np.outer(up, up))
    full = np.zeros((6, 6))
    full[:3, :3] = cov
    full[3:, 3:] = rot_cov
    msg.pose.covariance = [float(v) for v in full.reshape(-1)]
    return msg


def body_velocity(header, person, values: dict[str, Any]):
    """geometry_msgs/TwistStamped: the walking velocity (m/s) in the output frame; no angular part."""
    from geometry_msgs.msg import TwistStamped

    _, _, vel, _ = _in_frame(person.state, values)
    msg = TwistStamped()
    msg.header = _header_in(header, values)
    msg.twist.linear.x, msg.twist.linear.y, msg.twist.linear.z = (float(v) for v in vel)
    return msg


def body_roi(person, image_size: tuple[int, int] | None = None):
    """sensor_msgs/RegionOfInterest: the person's box in the image (pixels), from the detector's box or
    the 2D joints' extent."""
    from sensor_msgs.msg import RegionOfInterest

    box = person.bbox
    if box is None and person.keypoints_px is not None:
        kp = np.asarray(person.keypoints_px, dtype=np.float64)
        box = (*kp.min(axis=0), *kp.max(axis=0))
    msg = RegionOfInterest()
    if box is None or not np.all(np.isfinite(box)):
        return msg
    x0, y0, x1, y1 = (float(v) for v in box)
    x0, y0 = max(0.0, x0), max(0.0, y0)
    if image_size:
        x1, y1 = min(x1, image_size[0] - 1.0), min(y1, image_size[1] - 1.0)
    msg.x_offset, msg.y_offset = int(math.floor(x0)), int(math.floor(y0))
    msg.width = max(0, int(math.ceil(x1)) - msg.x_offset)
    msg.height = max(0, int(math.ceil(y1)) - msg.y_offset)
    msg.do_rectify = False
    return msg


def tracked_ids(people: Sequence):
    """std_msgs/Int32MultiArray of the frame's track ids (layout dimension 'track_id')."""
    from std_msgs.msg import Int32MultiArray, MultiArrayDimension

    ids = [int(p.track_id) for p in people]
    msg = Int32MultiArray()
    msg.layout.dim = [MultiArrayDimension(label="track_id", size=len(ids), stride=len(ids))]
    msg.data = ids
    return msg
