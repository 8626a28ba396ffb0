"""make-bag on the bundled clip and `hpe3d replay` of it in both storage formats, through the real pipeline."""
from __future__ import annotations

import json

import numpy as np
import pytest

from hpe3d_ros import camera
from hpe3d_ros.node import image_decode, skeleton_msgs
from hpe3d_ros.replay.bag_io import InputBag
from hpe3d_ros.replay.replay import ReplayOptions, replay

from .replay_fixtures import clip_bag, first_frame_rgb, skeleton_payloads, stamps, tiny_model, topic_messages

FRAMES = 6


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return tiny_model(tmp_path_factory.mktemp("model"))


@pytest.fixture(scope="module")
def bags(tmp_path_factory):
    d = tmp_path_factory.mktemp("bags")
    return {s: clip_bag(d / f"clip_{s}", FRAMES, s) for s in ("mcap", "sqlite3")}


def _replay(bag, out, model, **kw):
    return replay(
        ReplayOptions(bag=bag, out=out, overrides={"model_file_path": str(model)}, plots=False, **kw),
        log=lambda _: None,
    )


def test_make_bag_holds_the_clip_frames_and_intrinsics(bags):
    for storage, path in bags.items():
        with InputBag(path) as bag:
            assert bag.storage == storage
            assert bag.topics == {
                "/camera/image_raw": "sensor_msgs/msg/Image",
                "/camera/camera_info": "sensor_msgs/msg/CameraInfo",
            }
            assert (
                bag.message_count("/camera/image_raw") == FRAMES and bag.message_count("/camera/camera_info") == FRAMES
            )
        (_, img0), *_ = topic_messages(path, "/camera/image_raw")
        np.testing.assert_array_equal(image_decode.decode_image(img0), first_frame_rgb())
        (_, info0), *_ = topic_messages(path, "/camera/camera_info")
        np.testing.assert_allclose(np.reshape(info0.k, (3, 3)), camera.intrinsics_from_fov(480, 360, 70.0))
        assert info0.header.stamp == img0.header.stamp


@pytest.mark.parametrize("storage", ["mcap", "sqlite3"])
def test_replay_writes_the_inputs_and_the_node_outputs(bags, model, tmp_path, storage):
    out = tmp_path / "out"
    res = _replay(bags[storage], out, model, storage=storage, report_dir=tmp_path / "report")
    assert res.complete
    with InputBag(out) as bag:
        assert bag.storage == storage
        topics = bag.topics
    assert topics["/camera/image_raw"] == "sensor_msgs/msg/Image"
    assert topics["/hpe3d/markers"] == "visualization_msgs/msg/MarkerArray"
    assert topics["/hpe3d/skeletons"] == "sensor_msgs/msg/PointCloud2"
    assert topics["/hpe3d/poses"] == "geometry_msgs/msg/PoseArray"
    assert topics["/diagnostics"] == "diagnostic_msgs/msg/DiagnosticArray"
    image_stamps = stamps(out, "/camera/image_raw")
    assert len(image_stamps) == FRAMES
    assert stamps(out, "/hpe3d/skeletons") == image_stamps  # one skeletons message per frame, stamped like it
    people = []
    for _, cloud in topic_messages(out, "/hpe3d/skeletons"):
        assert cloud.header.frame_id == "camera_optical_frame"
        sk = skeleton_msgs.read_skeletons(cloud)
        people.append(len(sk["track_id"]))
        assert np.all(sk["joints_optical"][..., 2] > 0)
    assert max(people) >= 1, "the clip shows pedestrians; the detector found none"
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    assert report["frames"]["in"] == FRAMES and report["frames"]["processed"] == FRAMES
    assert report["people_per_frame"]["max"] == max(people)
    assert report["latency_ms"]["detect"]["n"] == FRAMES
    assert (tmp_path / "report" / "report.md").read_text().startswith("# Replay report")


def test_fast_replay_twice_gives_identical_skeletons(bags, model, tmp_path):
    _replay(bags["mcap"], tmp_path / "a", model)
    _replay(bags["mcap"], tmp_path / "b", model)
    a, b = skeleton_payloads(tmp_path / "a"), skeleton_payloads(tmp_path / "b")
    assert len(a) == FRAMES and a == b
    assert any(len(data) for _, data in a)


def test_paced_replay_counts_what_it_dropped(bags, model, tmp_path):
    res = _replay(bags["mcap"], tmp_path / "paced", model, rate=4.0)
    fr = res.report["frames"]
    assert res.complete and fr["in"] == FRAMES
    assert fr["processed"] + fr["dropped"] + fr["errors"] == FRAMES
    assert len(stamps(tmp_path / "paced", "/hpe3d/skeletons")) == fr["processed"]
    assert res.report["latency_ms"]["end_to_end"]["n"] == fr["processed"] == res.report["latency_ms"]["wait"]["n"]


def test_compressed_image_bag_goes_through_the_node_decoder(model, tmp_path):
    from hpe3d_ros.replay.demo import sample_clip
    from hpe3d_ros.replay.make_bag import make_bag

    bag = tmp_path / "jpeg"
    make_bag(sample_clip(), bag, max_frames=3, jpeg_quality=90)
    with InputBag(bag) as b:
        assert b.topics["/camera/image_raw/compressed"] == "sensor_msgs/msg/CompressedImage"
    (_, msg), *_ = topic_messages(bag, "/camera/image_raw/compressed")
    rgb = image_decode.decode_compressed(msg)
    assert rgb.shape == (360, 480, 3) and np.abs(rgb.astype(int) - first_frame_rgb()).mean() < 4.0
    res = _replay(bag, tmp_path / "out", model)
    assert res.complete and res.report["frames"]["processed"] == 3
    assert stamps(tmp_path / "out", "/hpe3d/skeletons") == stamps(bag, "/camera/image_raw/compressed")


def test_cli_replay_with_a_rendered_video(bags, model, tmp_path, capsys):
    import cv2

    from hpe3d_ros import cli

    rc = cli.main(
        [
            "replay",
            "--bag",
            str(bags["mcap"]),
            "--out",
            str(tmp_path / "o"),
            "--model",
            str(model),
            "--max-frames",
            "3",
            "--no-plots",
            "--render",
            str(tmp_path / "v.mp4"),
        ]
    )
    out = capsys.readouterr().out
    assert rc == 0 and "replayed 3 frames (3 processed" in out and "rendered 3 frames" in out
    cap = cv2.VideoCapture(str(tmp_path / "v.mp4"))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 3 and int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)) == 2 * 480
    cap.release()
    assert (tmp_path / "o-report" / "report.md").is_file()
