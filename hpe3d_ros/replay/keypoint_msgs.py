"""The bag encoding of 2D keypoints and 3D ground truth (bags without images: `hpe3d make-bag
--mocap-test-clips`, docs/replay.md), written by training.data.gt_bag and read by the replay.

- keypoints: std_msgs/Float32MultiArray, layout dims ``person`` (P), ``joint`` (16), ``channel`` (4 =
  u, v in pixels, score 0..1, track id; 3 without the track id), row-major, data_offset 0;
- ground truth: geometry_msgs/PoseArray of the P x 16 joints (person-major, docs/joint_layout.md order)
  in metres in the camera optical frame, identity orientations;
- ground-truth camera (mounted-camera bags): geometry_msgs/PoseStamped, the pose of the camera's body
  frame (x forward along the optical axis, y left, z up) in a ground frame (REP-103: x forward, y left,
  z up, the ground plane at z = 0), header stamp as the frame's.
"""
from __future__ import annotations

import numpy as np

from .. import skeleton
from ..ros_convert import stamp_from_ns

J = skeleton.NUM_JOINTS


def keypoints_msg(keypoints: np.ndarray, scores: np.ndarray, track_ids: np.ndarray):
    """std_msgs/Float32MultiArray (person, joint, channel = u, v, score, track id)."""
    from std_msgs.msg import Float32MultiArray, MultiArrayDimension

    kp = np.asarray(keypoints, dtype=np.float32).reshape(-1, J, 2)
    n = kp.shape[0]
    data = np.concatenate([kp, np.asarray(scores, np.float32).reshape(n, J, 1),
                           np.broadcast_to(np.asarray(track_ids, np.float32).reshape(n, 1, 1), (n, J, 1))], axis=-1)
    msg = Float32MultiArray()
    msg.layout.dim = [
        MultiArrayDimension(label="person", size=n, stride=n * J * 4),
        MultiArrayDimension(label="joint", size=J, stride=J * 4),
        MultiArrayDimension(label="channel", size=4, stride=4),
    ]
    msg.layout.data_offset = 0
    msg.data = data.reshape(-1).tolist()
    return msg


def ground_truth_msg(joints: np.ndarray, stamp_ns: int, frame_id: str):
    """geometry_msgs/PoseArray of (P, 16, 3) optical-frame joints, person-major."""
    from geometry_msgs.msg import Pose, PoseArray

    msg = PoseArray()
    msg.header.stamp = stamp_from_ns(stamp_ns)
    msg.header.frame_id = frame_id
    for x, y, z in np.asarray(joints, dtype=np.float64).reshape(-1, 3):
        p = Pose()
        p.position.x, p.position.y, p.position.z = float(x), float(y), float(z)
        p.orientation.w = 1.0
        msg.poses.append(p)
    return msg


def parse_keypoints(msg) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A keypoints Float32MultiArray (people, 16, 3 or 4: u, v, score[, track_id]) to arrays; ValueError if "
    "malformed."""
    data = np.asarray(msg.data, dtype=np.float64)
    dims = [int(d.size) for d in msg.layout.dim]
    if len(dims) != 3 or dims[1] != J or dims[2] not in (3, 4):
        raise ValueError(f"keypoints layout {dims} is not (people, {J}, 3 or 4)")
    n = dims[0]
    if data.size != n * J * dims[2]:
        raise ValueError(f"keypoints hold {data.size} values, layout {dims} needs {n * J * dims[2]}")
    a = data.reshape(n, J, dims[2])
    ids = a[:, 0, 3].astype(np.int64) if dims[2] == 4 else np.arange(n)
    return a[..., :2], a[..., 2], ids


def parse_ground_truth(msg) -> np.ndarray:
    """A ground-truth PoseArray (people * 16 poses, person-major) to (people, 16, 3) metres."""
    n = len(msg.poses)
    if n % J:
        raise ValueError(f"ground truth has {n} poses, not a multiple of {J}")
    return np.array([[p.position.x, p.position.y, p.position.z] for p in msg.poses], dtype=np.float64).reshape(
        n // J, J, 3
    )


def camera_pose_msg(rotation_base_camera: np.ndarray, position: np.ndarray, stamp_ns: int, frame_id: str):
    """geometry_msgs/PoseStamped of the camera's body frame (rotation (3, 3) and position (3,)) in ``frame_id``."""
    from geometry_msgs.msg import PoseStamped
    from scipy.spatial.transform import Rotation

    msg = PoseStamped()
    msg.header.stamp = stamp_from_ns(stamp_ns)
    msg.header.frame_id = frame_id
    msg.pose.position.x, msg.pose.position.y, msg.pose.position.z = (float(v) for v in position)
    x, y, z, w = Rotation.from_matrix(np.asarray(rotation_base_camera, dtype=np.float64)).as_quat()
    o = msg.pose.orientation
    o.x, o.y, o.z, o.w = float(x), float(y), float(z), float(w)
    return msg


def parse_camera_pose(msg) -> tuple[np.ndarray, np.ndarray]:
    """A ground-truth camera PoseStamped to (R_B_O (3, 3): optical-frame vectors into the ground frame, the
    camera position (3,))."""
    from scipy.spatial.transform import Rotation

    from ..camera import OPTICAL_FROM_WORLD

    o = msg.pose.orientation
    r_b_c = Rotation.from_quat([o.x, o.y, o.z, o.w]).as_matrix()
    p = msg.pose.position
    return r_b_c @ OPTICAL_FROM_WORLD.T, np.array([p.x, p.y, p.z], dtype=np.float64)
