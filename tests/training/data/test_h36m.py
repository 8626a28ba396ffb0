"""Human3.6M loaders on tiny synthetic files of the real layouts (no licensed data)."""
from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from hpe3d_ros import skeleton
from training.data import h36m

RNG = np.random.default_rng(0)


def synthetic_poses32(frames: int) -> np.ndarray:
    """(F, 32, 3) world mm: a person standing 1 m in front of the origin plus noise."""
    base = RNG.normal(0.0, 300.0, (32, 3)) + [0.0, 0.0, 1000.0]
    return base + RNG.normal(0.0, 5.0, (frames, 32, 3))


def write_martinez(root: Path, subjects=(1, 5, 9), actions=("Walking", "Directions 1"), frames=130) -> dict:
    poses = {}
    for s in subjects:
        d = root / f"S{s}" / "MyPoses" / "3D_positions"
        d.mkdir(parents=True)
        for a in actions:
            p = synthetic_poses32(frames)
            with h5py.File(d / f"{a}.h5", "w") as f:
                f["3D_positions"] = p.reshape(frames, 96).T  # (96, F)
            poses[(s, a)] = p
    return poses


def write_cameras(path: Path, subjects=(1, 5, 9), k=(0.0, 0.0, 0.0), p=(0.0, 0.0)) -> None:
    # camera m at (0, -4000 - m, 1000) mm looking along world +y, x right, y down (optical)
    r_world_to_cam = np.array([[1.0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]])
    with h5py.File(path, "w") as f:
        for s in subjects:
            for m in (1, 2):
                g = f.create_group(f"subject{s}/camera{m}")
                g["R"] = r_world_to_cam.T  # stored transposed
                g["T"] = np.array([[0.0], [-4000.0 - m], [1000.0]])
                g["f"] = np.array([[1145.0], [1144.0]])
                g["c"] = np.array([[512.0], [515.0]])
                g["k"] = np.array(k).reshape(3, 1)
                g["p"] = np.array(p).reshape(2, 1)
                g["Name"] = np.array([ord(ch) for ch in f"cam{m}"])


def test_joint_mapping_rules():
    p32 = RNG.normal(size=(4, 32, 3))
    j = h36m.from_h36m32(p32)
    names = skeleton.JOINT_NAMES
    np.testing.assert_allclose(j[:, 0], (p32[:, 1] + p32[:, 6]) / 2)
    np.testing.assert_allclose(j[:, names.index("right_ankle")], p32[:, 3])
    np.testing.assert_allclose(j[:, names.index("left_wrist")], p32[:, 19])
    np.testing.assert_allclose(j[:, names.index("thorax")], (p32[:, 17] + p32[:, 25]) / 2)
    np.testing.assert_allclose(j[:, names.index("spine")], (j[:, 0] + j[:, names.index("thorax")]) / 2)
    np.testing.assert_allclose(j[:, names.index("head")], p32[:, 14])  # Neck/Nose: the ear level (docs/joint_layout.md)
    # the 17-joint layout gives the same joints
    np.testing.assert_allclose(h36m.from_h36m17(p32[:, list(h36m.H36M17_FROM_32)]), j)
    assert np.isfinite(j).all()
    with pytest.raises(h36m.H36MError, match=r"expected \(\.\.\., 32, C\)"):
        h36m.from_h36m32(np.zeros((2, 17, 3)))


def test_martinez_protocol_without_cameras(tmp_path: Path):
    poses = write_martinez(tmp_path)
    train = h36m.load_martinez(tmp_path, "train", subjects=(1, 5))
    assert train["joints_world"].shape == (4 * 130, 16, 3)
    assert set(train["subject"]) == {1, 5} and set(train["action"]) == {"Walking", "Directions 1"}
    np.testing.assert_allclose(train["joints_world"][:130], h36m.from_h36m32(poses[(1, "Directions 1")]) / 1000.0)


def test_martinez_missing_subject_is_named(tmp_path: Path):
    write_martinez(tmp_path)
    with pytest.raises(h36m.H36MError, match=r"S11/MyPoses/3D_positions: no <action>.h5 files for subject S11"):
        h36m.load_martinez(tmp_path, "test")


def test_martinez_test_split_every_64th_frame(tmp_path: Path):
    poses = write_martinez(tmp_path, subjects=(9, 11))
    test = h36m.load_martinez(tmp_path, "test")
    frames_per_action = len(range(0, 130, 64))  # 0, 64, 128
    assert test["joints_world"].shape == (2 * 2 * frames_per_action, 16, 3)
    sel = (test["subject"] == 9) & (test["action"] == "Walking")
    np.testing.assert_array_equal(test["frame"][sel], [0, 64, 128])
    np.testing.assert_allclose(
        test["joints_world"][sel], h36m.from_h36m32(poses[(9, "Walking")][[0, 64, 128]]) / 1000.0
    )


def test_martinez_with_cameras(tmp_path: Path):
    poses = write_martinez(tmp_path, subjects=(1,), actions=("Walking",), frames=10)
    write_cameras(tmp_path / "cameras.h5", subjects=(1,))
    d = h36m.load_martinez(tmp_path, "train", cameras_h5=tmp_path / "cameras.h5", subjects=(1,))
    assert (
        d["keypoints"].shape == (20, 16, 2)
        and d["joints3d"].shape == (20, 16, 3)
        and d["intrinsics"].shape == (20, 3, 3)
    )
    assert list(np.unique(d["camera"])) == [1, 2]
    # hand-computed: world (x, y, z) mm -> camera (x, -(z - 1000), y + 4000 + m) / 1000
    w = h36m.from_h36m32(poses[(1, "Walking")])
    cam1 = d["camera"] == 1
    expect = np.stack([w[..., 0], -(w[..., 2] - 1000.0), w[..., 1] + 4001.0], -1) / 1000.0
    np.testing.assert_allclose(d["joints3d"][cam1], expect, atol=1e-9)
    # no distortion: pinhole with f, c
    np.testing.assert_allclose(
        d["keypoints"][cam1][..., 0], 1145.0 * expect[..., 0] / expect[..., 2] + 512.0, atol=1e-6
    )
    np.testing.assert_allclose(d["intrinsics"][0], [[1145.0, 0, 512.0], [0, 1144.0, 515.0], [0, 0, 1]])


def test_camera_distortion_hand_computed(tmp_path: Path):
    write_cameras(tmp_path / "cameras.h5", subjects=(1,), k=(0.1, 0.0, 0.0), p=(0.0, 0.0))
    cam = h36m.load_cameras_h5(tmp_path / "cameras.h5")[(1, 1)]
    assert cam.name == "cam1"
    # x/z = 0.1, y/z = 0.2, r2 = 0.05, radial = 1.005
    np.testing.assert_allclose(cam.project(np.array([0.1, 0.2, 1.0])), [1145 * 0.1005 + 512, 1144 * 0.201 + 515])
    write_cameras(tmp_path / "c2.h5", subjects=(1,), k=(0.0, 0.0, 0.0), p=(0.01, 0.02))
    cam = h36m.load_cameras_h5(tmp_path / "c2.h5")[(1, 1)]
    # tan = p0*y + p1*x = 0.002 + 0.002 = 0.004;
    # x' = 0.1*1.004 + p1*r2 = 0.1004 + 0.001; y' = 0.2*1.004 + p0*r2 = 0.2008 + 0.0005
    np.testing.assert_allclose(cam.project(np.array([0.1, 0.2, 1.0])), [1145 * 0.1014 + 512, 1144 * 0.2013 + 515])


def test_cameras_missing_key(tmp_path: Path):
    with h5py.File(tmp_path / "cameras.h5", "w") as f:
        g = f.create_group("subject1/camera1")
        g["R"] = np.eye(3)
    with pytest.raises(h36m.H36MError, match=r"cameras.h5: 'subject1/camera1' lacks 'T'"):
        h36m.load_cameras_h5(tmp_path / "cameras.h5")
    with pytest.raises(h36m.H36MError, match="no such file"):
        h36m.load_cameras_h5(tmp_path / "nope.h5")


def test_martinez_bad_shape(tmp_path: Path):
    d = tmp_path / "S1" / "MyPoses" / "3D_positions"
    d.mkdir(parents=True)
    with h5py.File(d / "Walking.h5", "w") as f:
        f["3D_positions"] = np.zeros((51, 4))
    with pytest.raises(h36m.H36MError, match=r"Walking.h5: '3D_positions' must have shape \(96, F\), got \(51, 4\)"):
        h36m.load_martinez(tmp_path, "train", subjects=(1,))
    with h5py.File(d / "Walking.h5", "w") as f:
        f["poses"] = np.zeros((96, 4))
    with pytest.raises(h36m.H36MError, match="Walking.h5: no '3D_positions' dataset"):
        h36m.load_martinez(tmp_path, "train", subjects=(1,))


def write_videopose3d(tmp_path: Path, subjects=("S1", "S9"), frames=200, frames2d=190):
    pos3d = {
        s: {"Walking": synthetic_poses32(frames) / 1000.0, "Eating": synthetic_poses32(frames) / 1000.0}
        for s in subjects
    }
    pos2d = {s: {a: [RNG.uniform(0, 1000, (frames2d, 17, 2)) for _ in range(4)] for a in pos3d[s]} for s in subjects}
    meta = {
        "layout_name": "h36m",
        "num_joints": 17,
        "keypoints_symmetry": [[4, 5, 6, 11, 12, 13], [1, 2, 3, 14, 15, 16]],
    }
    np.savez_compressed(tmp_path / "data_3d_h36m.npz", positions_3d=pos3d)
    np.savez_compressed(tmp_path / "data_2d_h36m_gt.npz", positions_2d=pos2d, metadata=meta)
    return pos3d, pos2d


def test_videopose3d(tmp_path: Path):
    pos3d, pos2d = write_videopose3d(tmp_path)
    d = h36m.load_videopose3d(tmp_path / "data_3d_h36m.npz", tmp_path / "data_2d_h36m_gt.npz", "train", subjects=(1,))
    assert d["keypoints"].shape == (2 * 4 * 190, 16, 2) and d["joints_world"].shape == (2 * 4 * 190, 16, 3)
    sel = (d["action"] == "Walking") & (d["camera"] == 2)
    np.testing.assert_allclose(d["keypoints"][sel], h36m.from_h36m17(pos2d["S1"]["Walking"][2]))
    np.testing.assert_allclose(d["joints_world"][sel], h36m.from_h36m32(pos3d["S1"]["Walking"][:190]))
    test = h36m.load_videopose3d(tmp_path / "data_3d_h36m.npz", tmp_path / "data_2d_h36m_gt.npz", "test", subjects=(9,))
    assert test["keypoints"].shape[0] == 2 * 4 * len(range(0, 190, 64))
    only3d = h36m.load_videopose3d(tmp_path / "data_3d_h36m.npz", split="test", subjects=(9,))
    assert only3d["joints_world"].shape == (2 * len(range(0, 200, 64)), 16, 3) and "keypoints" not in only3d


def test_videopose3d_errors(tmp_path: Path):
    write_videopose3d(tmp_path)
    with pytest.raises(h36m.H36MError, match=r"data_3d_h36m.npz: no subject 'S11' in positions_3d"):
        h36m.load_videopose3d(tmp_path / "data_3d_h36m.npz", split="test")
    np.savez(tmp_path / "wrong.npz", poses=np.zeros(3))
    with pytest.raises(h36m.H36MError, match=r"wrong.npz: no 'positions_3d'"):
        h36m.load_videopose3d(tmp_path / "wrong.npz")
    with pytest.raises(h36m.H36MError, match="no such file"):
        h36m.load_videopose3d(tmp_path / "missing.npz")
    with pytest.raises(ValueError, match="unknown Human3.6M split 'val'"):
        h36m.load_videopose3d(tmp_path / "data_3d_h36m.npz", split="val")
