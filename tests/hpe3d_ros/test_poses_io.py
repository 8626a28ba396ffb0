"""The 2D pose file: validation errors name the file and the problem; writes are atomic."""
from __future__ import annotations

import numpy as np
import pytest

from hpe3d_ros import poses_io


def test_round_trip_with_defaults(tmp_path):
    kp = np.random.default_rng(0).uniform(0, 600, size=(4, 16, 2))
    path = poses_io.save_poses2d(tmp_path / "p.npz", kp, image_size=np.array([640, 480]), frame=np.arange(4))
    data = poses_io.load_poses2d(path)
    np.testing.assert_allclose(data["keypoints"], kp)
    np.testing.assert_array_equal(data["scores"], np.ones((4, 16)))
    np.testing.assert_array_equal(data["frame"], np.arange(4))
    assert list(tmp_path.iterdir()) == [path]  # no temporary files left


@pytest.mark.parametrize(
    "arrays, message",
    [
        ({"keypoints": np.zeros((3, 17, 2))}, "shape"),
        ({"keypoints": np.full((2, 16, 2), np.nan)}, "NaN"),
        ({"keypoints": np.zeros((2, 16, 2)), "scores": np.zeros((2, 15))}, "'scores'"),
        ({"keypoints": np.zeros((2, 16, 2)), "intrinsics": np.zeros((3, 3))}, "positive focal"),
        ({"keypoints": np.zeros((2, 16, 2)), "intrinsics": np.eye(4)}, "'intrinsics'"),
        ({"scores": np.zeros((2, 16))}, "no 'keypoints'"),
    ],
)
def test_bad_files_are_named(tmp_path, arrays, message):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(poses_io.PoseFileError, match=message) as e:
        poses_io.load_poses2d(path)
    assert str(path) in str(e.value)


def test_not_an_npz(tmp_path):
    path = tmp_path / "x.npz"
    path.write_text("hello")
    with pytest.raises(poses_io.PoseFileError, match="not a readable"):
        poses_io.load_poses2d(path)
    with pytest.raises(poses_io.PoseFileError, match="no such file"):
        poses_io.load_poses2d(tmp_path / "missing.npz")


def test_invalid_data_is_not_written(tmp_path):
    with pytest.raises(poses_io.PoseFileError):
        poses_io.save_poses2d(tmp_path / "p.npz", np.zeros((2, 3, 2)))
    assert not any(tmp_path.iterdir())
