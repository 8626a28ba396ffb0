"""Ground-truth bags from mocap (make-bag --mocap-test-clips) and the report's accuracy section."""
from __future__ import annotations

import numpy as np
import pytest

from hpe3d_ros import camera, skeleton
from hpe3d_ros.lifting import Lifter
from hpe3d_ros.replay.bag_io import InputBag
from hpe3d_ros.replay.replay import ReplayOptions, parse_ground_truth, parse_keypoints, replay
from tests.hpe3d_ros.replay.replay_fixtures import tiny_model, topic_messages
from training.data.gt_bag import make_gt_bag

FIXTURE_BANDAI = "tests/fixtures/bandai"
PER_CLIP = 12


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return tiny_model(tmp_path_factory.mktemp("model"))


@pytest.fixture(scope="module")
def gt_bag(tmp_path_factory, fixtures_dir):
    out = tmp_path_factory.mktemp("gt") / "gt_bag"
    summary = make_gt_bag(out, clips=3, split="all", data_root=fixtures_dir / "bandai", max_frames_per_clip=PER_CLIP,
                          noise=False)
    return out, summary


def _frames(bag):
    infos = {t: m for t, m in topic_messages(bag, "/camera/camera_info")}
    kps = {t: parse_keypoints(m) for t, m in topic_messages(bag, "/hpe3d/keypoints2d")}
    gts = {t: (m, parse_ground_truth(m)) for t, m in topic_messages(bag, "/hpe3d/ground_truth")}
    return infos, kps, gts


def test_gt_bag_encoding(gt_bag):
    bag, summary = gt_bag
    assert len(summary["clips"]) == 3 and summary["frames"] == sum(c["frames"] for c in summary["clips"])
    with InputBag(bag) as b:
        assert b.topics == {"/camera/camera_info": "sensor_msgs/msg/CameraInfo",
                            "/hpe3d/keypoints2d": "std_msgs/msg/Float32MultiArray",
                            "/hpe3d/ground_truth": "geometry_msgs/msg/PoseArray"}
    infos, kps, gts = _frames(bag)
    assert set(infos) == set(kps) == set(gts) and len(kps) == summary["frames"]
    (_, first), *_ = topic_messages(bag, "/hpe3d/keypoints2d")
    assert [d.label for d in first.layout.dim] == ["person", "joint", "channel"]
    tracks = []
    for t in sorted(kps):
        kp, sc, ids = kps[t]
        gmsg, gt = gts[t]
        assert gmsg.header.stamp.sec * 1_000_000_000 + gmsg.header.stamp.nanosec == t
        assert gt.shape == (1, skeleton.NUM_JOINTS, 3) and np.all(gt[..., 2] > 0.5)
        k = np.reshape(infos[t].k, (3, 3))
        # clean bag: the 2D is the projection of the ground truth through the CameraInfo K
        np.testing.assert_allclose(kp, camera.project(gt, k), atol=2e-3)
        assert np.all(sc == 1.0)
        tracks.append(int(ids[0]))
    assert sorted(set(tracks)) == [0, 1, 2] and tracks == sorted(tracks)  # clips one after another
    # the gap between clips separates the tracks in time
    times = sorted(kps)
    assert max(np.diff(times)) >= 1_000_000_000


def test_replay_reports_accuracy_against_ground_truth(gt_bag, model, tmp_path):
    from hpe3d_ros import pose_metrics as metrics

    bag, summary = gt_bag
    res = replay(ReplayOptions(bag=bag, out=tmp_path / "o", overrides={"model_file_path": str(model)}, plots=True,
                               report_dir=tmp_path / "r"))
    acc = res.report["accuracy"]
    assert res.complete and acc["matched"] == summary["frames"] and acc["missed"] == 0
    # the same numbers by lifting the bag's 2D directly with the runtime and scoring with hpe3d_ros.pose_metrics
    infos, kps, gts = _frames(bag)
    lifter = Lifter(str(model), backend="onnxruntime")
    pred, gt = [], []
    for t in sorted(kps):
        kp, sc, _ = kps[t]
        pred.append(lifter.lift(kp, np.reshape(infos[t].k, (3, 3)), sc, height_m=1.70).joints_optical[0])
        gt.append(gts[t][1][0])
    expected = metrics.evaluate(np.array(pred), np.array(gt))
    for key in ("mpjpe_mm", "n_mpjpe_mm", "pa_mpjpe_mm"):
        assert acc[key] == pytest.approx(expected[key], rel=1e-4)
    assert acc["pa_mpjpe_mm"] <= acc["n_mpjpe_mm"] + 1e-6
    assert set(acc["per_track"]) == {"0", "1", "2"}
    md = (tmp_path / "r" / "report.md").read_text()
    assert "## Accuracy against ground truth" in md and "PA-MPJPE" in md
    assert (tmp_path / "r" / "accuracy.png").is_file()
    assert res.report["tracks"]["count"] == 3
