"""People away from the image centre: the runtime lifts them in a virtual camera looking at their
root (as training sees people), so their 3D reprojects onto the detections and the camera
elevation does not depend on where they stand in the image."""
from __future__ import annotations

import numpy as np
import pytest

from hpe3d_ros import camera, paths
from hpe3d_ros.lifting import Lifter

MODEL = paths.repo_root() / "engines" / "ours_bandai.onnx" if paths.repo_root() else None


def test_root_camera_rotation_centres_the_root():
    xy = np.array([[0.4, -0.25], [0.0, 0.0], [-1.2, 0.7]])
    rot = camera.root_camera_rotation(xy)
    rays = np.concatenate([xy, np.ones((3, 1))], 1)
    v = np.einsum("nij,nj->ni", rot, rays)
    np.testing.assert_allclose(v[:, :2], 0, atol=1e-12)
    np.testing.assert_allclose(rot[1], np.eye(3))
    np.testing.assert_allclose(rot @ rot.transpose(0, 2, 1), np.tile(np.eye(3), (3, 1, 1)), atol=1e-12)


def test_elevation_in_optical_undoes_the_virtual_pitch():
    e = camera.elevation_in_optical(np.array([0.3]), camera.rot_x(np.array([0.1])))
    assert e[0] == pytest.approx(0.2)


@pytest.mark.skipif(
    MODEL is None or not MODEL.is_file(), reason="the default model engines/ours_bandai.onnx is not in this checkout"
)
def test_off_centre_people_reproject_and_keep_their_elevation():
    data = np.load(paths.package_data_dir() / "eval_fixture.npz")
    sel = slice(0, 300)
    joints, k, elev = data["joints3d"][sel], data["intrinsics"][sel], data["elevation"][sel]
    with Lifter(MODEL, backend="onnxruntime") as lifter:
        errors = {}
        for shift in (0.0, 2.5):  # metres sideways and down: the person moves off the optical axis
            moved = joints + np.array([shift, 0.5 * shift, 0.0])
            kp = camera.project(moved, k)
            res = lifter.lift(kp, k)
            reproj = np.linalg.norm(camera.project(res.joints_optical, k) - kp, axis=-1)
            assert np.median(reproj) < 1.0  # pixels
            errors[shift] = np.degrees(np.abs(res.elevation - elev)).mean()
    assert errors[2.5] < errors[0.0] + 3.0
