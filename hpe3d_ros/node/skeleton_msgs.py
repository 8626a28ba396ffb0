"""The machine-readable skeleton topics, standard messages only.

``skeletons`` (sensor_msgs/PointCloud2), one message per frame, stamped and framed like the input image:
one point per joint, person-major (person 0's 16 joints in the order of docs/joint_layout.md, then
person 1's, ...), ``height = 1``, ``width = people * 16``, little-endian, ``point_step = 52``.
Fields (all 4 bytes): ``x, y, z`` (float32, metres, camera optical frame), ``xu, yu, zu`` (float32,
metres, gravity-aligned camera frame: optical frame pitched back by the elevation), ``confidence``
(float32 in [0, 1]), ``plausibility`` (float32, the model's negative log-likelihood, lower = more
plausible; NaN when the model has none), ``elevation`` (float32 radians, the camera's downward pitch
predicted for that person), ``track_id`` (int32, stable across frames), ``joint`` (int32, 0..15),
``u, v`` (float32, the 2D detection the joint was lifted from, pixels of the input image; NaN when
unknown). ``read_skeletons`` turns it back into arrays.

``poses`` (geometry_msgs/PoseArray): the same joint positions in the same person-major order, with
identity orientations, for consumers that want positions only.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .. import skeleton

POINT_DTYPE = np.dtype(
    [
        ("x", "<f4"), ("y", "<f4"), ("z", "<f4"),
        ("xu", "<f4"), ("yu", "<f4"), ("zu", "<f4"),
        ("confidence", "<f4"), ("plausibility", "<f4"), ("elevation", "<f4"),
        ("track_id", "<i4"), ("joint", "<i4"), ("u", "<f4"), ("v", "<f4"),
    ]
)


def cloud_fields(dtype: np.dtype) -> list:
    """sensor_msgs/PointField list of a structured dtype of little-endian float32 / int32 fields."""
    from sensor_msgs.msg import PointField

    kinds = {"<f4": PointField.FLOAT32, "<i4": PointField.INT32}
    return [
        PointField(name=name, offset=int(dtype.fields[name][1]), datatype=kinds[dtype.fields[name][0].str], count=1)
        for name in dtype.names
    ]


def cloud_message(header, pts: np.ndarray):
    """sensor_msgs/PointCloud2 (height 1, little-endian) of a structured array with x, y, z fields."""
    from sensor_msgs.msg import PointCloud2

    msg = PointCloud2()
    msg.header = header
    msg.height = 1
    msg.width = int(pts.size)
    msg.fields = cloud_fields(pts.dtype)
    msg.is_bigendian = False
    msg.point_step = pts.dtype.itemsize
    msg.row_step = pts.dtype.itemsize * int(pts.size)
    msg.is_dense = bool(np.all(np.isfinite(np.stack([pts["x"], pts["y"], pts["z"]])))) if pts.size else True
    msg.data = pts.tobytes()
    return msg


def skeleton_points(people: Sequence) -> np.ndarray:
    """A structured array (people * 16,) of POINT_DTYPE from Person3D-like objects."""
    nj = skeleton.NUM_JOINTS
    pts = np.zeros(len(people) * nj, dtype=POINT_DTYPE)
    for i, p in enumerate(people):
        s = slice(i * nj, (i + 1) * nj)
        jo = np.asarray(p.joints_optical, dtype=np.float64).reshape(nj, 3)
        ju = np.asarray(p.joints_upright, dtype=np.float64).reshape(nj, 3)
        pts["x"][s], pts["y"][s], pts["z"][s] = jo[:, 0], jo[:, 1], jo[:, 2]
        pts["xu"][s], pts["yu"][s], pts["zu"][s] = ju[:, 0], ju[:, 1], ju[:, 2]
        pts["confidence"][s] = np.asarray(p.confidence, dtype=np.float64).reshape(nj)
        pts["plausibility"][s] = np.nan if p.plausibility is None else float(p.plausibility)
        pts["elevation"][s] = float(p.elevation)
        pts["track_id"][s] = int(p.track_id)
        pts["joint"][s] = np.arange(nj)
        kp = getattr(p, "keypoints_px", None)
        uv = np.full((nj, 2), np.nan) if kp is None else np.asarray(kp, dtype=np.float64).reshape(nj, 2)
        pts["u"][s], pts["v"][s] = uv[:, 0], uv[:, 1]
    return pts


def skeleton_cloud(header, people: Sequence):
    """sensor_msgs/PointCloud2 of a frame's people (see module docstring)."""
    return cloud_message(header, skeleton_points(people))


def read_skeletons(msg) -> dict[str, np.ndarray]:
    """A ``skeletons`` PointCloud2 back to arrays: track_id (N,), joints_optical (N,16,3),
    joints_upright (N,16,3), confidence (N,16), plausibility (N,), elevation (N,), keypoints_px (N,16,2)."""
    names = [f.name for f in msg.fields]
    if names != list(POINT_DTYPE.names) or msg.point_step != POINT_DTYPE.itemsize:
        raise ValueError(f"not a hpe3d skeletons cloud: fields {names}, point_step {msg.point_step}")
    pts = np.frombuffer(bytes(msg.data), dtype=POINT_DTYPE)
    nj = skeleton.NUM_JOINTS
    if pts.size % nj:
        raise ValueError(f"skeletons cloud has {pts.size} points, not a multiple of {nj}")
    n = pts.size // nj
    pts = pts.reshape(n, nj)
    return {
        "track_id": pts["track_id"][:, 0].astype(np.int64),
        "joints_optical": np.stack([pts["x"], pts["y"], pts["z"]], -1).astype(np.float64),
        "joints_upright": np.stack([pts["xu"], pts["yu"], pts["zu"]], -1).astype(np.float64),
        "confidence": pts["confidence"].astype(np.float64),
        "plausibility": pts["plausibility"][:, 0].astype(np.float64),
        "elevation": pts["elevation"][:, 0].astype(np.float64),
        "keypoints_px": np.stack([pts["u"], pts["v"]], -1).astype(np.float64),
    }


def pose_array(header, people: Sequence):
    """geometry_msgs/PoseArray: every joint of every person, person-major, identity orientation."""
    from geometry_msgs.msg import Pose, PoseArray

    msg = PoseArray()
    msg.header = header
    for p in people:
        for x, y, z in np.asarray(p.joints_optical, dtype=np.float64).reshape(skeleton.NUM_JOINTS, 3):
            pose = Pose()
            pose.position.x, pose.position.y, pose.position.z = float(x), float(y), float(z)
            pose.orientation.w = 1.0
            msg.poses.append(pose)
    return msg
