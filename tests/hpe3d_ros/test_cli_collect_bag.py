"""`hpe3d collect --bag`: 2D training data from a recorded bag, intrinsics from its CameraInfo."""
from __future__ import annotations

import numpy as np
import pytest

from hpe3d_ros import cli, poses_io
from hpe3d_ros.replay.make_bag import make_bag

from ..conftest import FIXTURES

VIDEO = FIXTURES / "media" / "street-demo.mp4"


@pytest.fixture(scope="module")
def street_bag(tmp_path_factory):
    out = tmp_path_factory.mktemp("bags") / "street"
    info = make_bag(VIDEO, out, hfov_deg=65.0, max_frames=3)
    return out, np.asarray(info["K"])


def test_collect_from_bag_uses_its_camera_info(street_bag, tmp_path):
    bag, k = street_bag
    out = tmp_path / "poses.npz"
    assert cli.main(["collect", "--bag", str(bag), "--out", str(out), "--max-people", "3"]) == 0
    data = poses_io.load_poses2d(out)
    assert len(data["keypoints"]) >= 3  # people in each of the 3 frames
    np.testing.assert_allclose(data["intrinsics"], np.broadcast_to(k, data["intrinsics"].shape))
    assert set(data["frame"].tolist()) <= {0, 1, 2}
    assert np.all((data["keypoints"][..., 0] >= -50) & (data["keypoints"][..., 0] <= 1010))


def test_collect_missing_bag_is_a_clear_error(tmp_path, capsys):
    out = tmp_path / "poses.npz"
    assert cli.main(["collect", "--bag", str(tmp_path / "nope"), "--out", str(out)]) == 1
    assert "no such bag" in capsys.readouterr().err
    assert not out.exists()


def test_collect_wrong_image_topic_names_the_topics(street_bag, tmp_path, capsys):
    bag, _ = street_bag
    out = tmp_path / "poses.npz"
    assert cli.main(["collect", "--bag", str(bag), "--image-topic", "/nope", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "/nope" in err and "/camera/image_raw" in err
    assert not out.exists()
