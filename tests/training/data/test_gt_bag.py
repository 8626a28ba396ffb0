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


@pytest.fixture(scope="module")
def mounted_bag(tmp_path_factory, fixtures_dir):
    from training.data.gt_bag import make_mounted_gt_bag

    out = tmp_path_factory.mktemp("gt_mounted") / "bag"
    summary = make_mounted_gt_bag(out, clips=3, split="all", data_root=fixtures_dir / "bandai", max_frames_per_clip=45,
                                  noise=False)
    return out, summary


def test_mounted_bag_one_camera_people_on_the_ground(mounted_bag):
    from hpe3d_ros.replay.keypoint_msgs import parse_camera_pose
    from training.data.gt_bag import CAMERA_POSE_TOPIC, load_mounted_settings

    bag, summary = mounted_bag
    cam = load_mounted_settings()["camera"]
    with InputBag(bag) as b:
        assert b.topics[CAMERA_POSE_TOPIC] == "geometry_msgs/msg/PoseStamped"
    infos, kps, gts = _frames(bag)
    poses = {t: parse_camera_pose(m) for t, m in topic_messages(bag, CAMERA_POSE_TOPIC)}
    assert set(poses) == set(kps) and len(kps) == summary["frames"] > 0
    # half locomotion: the fixture's dash and walk-turn clips are chosen beside the wave
    assert {c["content"] for c in summary["clips"]} >= {"dash", "wave-left-hand"}
    by_track: dict = {}
    for t in sorted(kps):
        r_b_o, pos = poses[t]
        assert pos == pytest.approx([0, 0, cam["height_m"]])
        assert np.degrees(np.arcsin(-r_b_o[2, 2])) == pytest.approx(cam["pitch_deg"], abs=1e-6)
        kp, sc, ids = kps[t]
        gt = gts[t][1][0]
        np.testing.assert_allclose(kp[0], camera.project(gt, np.reshape(infos[t].k, (3, 3))), atol=2e-3)
        by_track.setdefault(int(ids[0]), []).append(gt @ r_b_o.T + pos)  # the true joints in the ground frame
    for clip in summary["clips"]:
        ground = np.array(by_track[clip["track_id"]])
        lowest_ankle = ground[:, [3, 6], 2].min(axis=1)
        # the mocap floor is the ground plane: standing on it, the lower ankle is at the body's ankle height
        assert np.percentile(lowest_ankle, 5) == pytest.approx(0.117 * clip["stature_m"] / skeleton.REFERENCE_HEIGHT_M,
                                                        abs=0.02)
        dist = np.linalg.norm(ground[:, skeleton.ROOT, :2].mean(axis=0))
        assert 2.0 < dist < 42.0 and clip["distance_m"] == pytest.approx(dist, abs=1.5)


def test_replay_scores_placement_heading_and_velocity_of_a_mounted_bag(mounted_bag, model, tmp_path):
    bag, _ = mounted_bag
    mount = {"camera_mount.mode": "full", "camera_mount.z": 1.3, "camera_mount.pitch": float(np.radians(2.0)),
             "camera_mount.pitch_std_deg": 0.1, "placement.ankle_height_ratio": 0.074}
    res = replay(ReplayOptions(bag=bag, out=tmp_path / "o", overrides={"model_file_path": str(model), **mount},
                               plots=True, report_dir=tmp_path / "r"))
    sc = res.report["scene"]
    assert res.complete and sc["matched"] == res.report["accuracy"]["matched"] > 0
    bins = [b for b in sc["distance_by_bin"] if b["n"]]
    assert bins and sum(b["n"] for b in bins) == sc["matched"]
    for b in bins:  # clean 2D of people on flat ground seen by a known camera: the plane beats the prior
        assert b["ground_available_pct"] == 100.0
        assert b["published"]["mean_abs_rel_pct"] < b["prior"]["mean_abs_rel_pct"]
    assert sc["heading"]["n"] > 0 and sc["heading"]["median_abs_deg"] < 45.0
    assert sc["elevation_error_deg"]["mean_abs"] < 1e-6  # the mounted pitch is the true one
    assert sc["velocity_walking"]["n"] + sc["velocity_standing"]["n"] > 0
    md = (tmp_path / "r" / "report.md").read_text()
    assert "## Scene: placement, heading and velocity against ground truth" in md
    assert (tmp_path / "r" / "placement.png").is_file()
    # the replay wrote the per-person topics into its bag
    with InputBag(tmp_path / "o") as b:
        assert "/humans/bodies/tracked" in b.topics and "/hpe3d/people" in b.topics
        assert any(t.startswith("/humans/bodies/b") and t.endswith("/position") for t in b.topics)


def test_mounted_bag_of_the_held_out_hdm05_actors(tmp_path):
    """`make-bag --mocap-split hdm05-cross --mounted-camera`: the cross-dataset twin of the placement bags."""
    from training.data import hdm05
    from training.data.gt_bag import CAMERA_POSE_TOPIC, CROSS_SPLIT, make_mounted_gt_bag

    if hdm05.hdm05_dir() is None:
        pytest.skip("../shared/data/hdm05-subset is not available")
    with pytest.raises(ValueError, match="--mocap-root"):
        make_mounted_gt_bag(tmp_path / "refused", clips=2, split=CROSS_SPLIT, data_root=tmp_path)
    summary = make_mounted_gt_bag(tmp_path / "bag", clips=6, split=CROSS_SPLIT, max_frames_per_clip=30, noise=False)
    assert len(summary["clips"]) == 6 and summary["frames"] > 0
    assert all(c["name"].startswith(("HDM_bk_", "HDM_mm_")) for c in summary["clips"])  # held-out actors only
    assert any(c["content"].startswith(("jog", "sneak")) for c in summary["clips"])  # locomotion among them
    from hpe3d_ros.replay.keypoint_msgs import parse_camera_pose

    poses = {t: parse_camera_pose(m) for t, m in topic_messages(tmp_path / "bag", CAMERA_POSE_TOPIC)}
    _, kps, gts = _frames(tmp_path / "bag")
    tops: dict = {}
    for t in kps:
        r_b_o, pos = poses[t]
        ground = gts[t][1][0] @ r_b_o.T + pos
        track = int(kps[t][2][0])
        tops[track] = max(tops.get(track, 0.0), float(ground[skeleton.HEAD, 2]))
    for clip in summary["clips"]:
        # scaled from the actor's own stature: the skull base never rises above the drawn stature
        assert 0.3 * clip["stature_m"] < tops[clip["track_id"]] < clip["stature_m"]
