"""Bad input to make-bag and replay: clear errors naming the file (exit 1, no traceback); an interrupted
replay (SIGINT, a corrupt message) still leaves a valid output bag with what was processed."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hpe3d_ros import cli
from hpe3d_ros.replay.bag_io import TYPESTORE, InputBag
from hpe3d_ros.replay.replay import ReplayOptions, replay

from .replay_fixtures import clip_bag, stamps, tiny_model

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return tiny_model(tmp_path_factory.mktemp("model"))


@pytest.fixture(scope="module")
def good_bag(tmp_path_factory):
    return clip_bag(tmp_path_factory.mktemp("good") / "clip", 4)


def _cli(capsys, *argv) -> tuple[int, str]:
    rc = cli.main(list(argv))
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return rc, err


def test_missing_bag(capsys, tmp_path):
    rc, err = _cli(capsys, "replay", "--bag", str(tmp_path / "nope"), "--out", str(tmp_path / "o"))
    assert rc == 1 and "nope: no such bag" in err


def test_directory_without_metadata(capsys, tmp_path):
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "half_0.mcap").write_bytes(os.urandom(2000))
    rc, err = _cli(capsys, "replay", "--bag", str(tmp_path / "half"), "--out", str(tmp_path / "o"))
    assert rc == 1 and "half: no metadata.yaml" in err


@pytest.mark.parametrize("storage", ["mcap", "sqlite3"])
@pytest.mark.parametrize("damage", ["truncated", "corrupt"])
def test_truncated_or_corrupt_bag_file(capsys, tmp_path, storage, damage):
    bag = clip_bag(tmp_path / "b", 3, storage)
    data_file = next(p for p in bag.iterdir() if p.suffix in (".mcap", ".db3"))
    raw = data_file.read_bytes()
    data_file.write_bytes(raw[: len(raw) // 2] if damage == "truncated" else os.urandom(len(raw)))
    rc, err = _cli(capsys, "replay", "--bag", str(bag), "--out", str(tmp_path / "o"))
    assert rc == 1 and str(bag) in err and "not a readable ROS 2 bag" in err
    assert not (tmp_path / "o").exists()


def test_missing_topic_and_wrong_type(capsys, good_bag, tmp_path):
    rc, err = _cli(
        capsys, "replay", "--bag", str(good_bag), "--out", str(tmp_path / "o1"), "--image-topic", "/front/image"
    )
    assert rc == 1 and "no topic '/front/image'" in err and "/camera/image_raw" in err
    rc, err = _cli(
        capsys, "replay", "--bag", str(good_bag), "--out", str(tmp_path / "o2"), "--image-topic", "/camera/camera_info"
    )
    assert rc == 1 and "has type sensor_msgs/msg/CameraInfo" in err


def test_bag_without_images(capsys, tmp_path):
    from rosbags.rosbag2 import Writer

    with Writer(tmp_path / "noimg", version=9) as w:
        c = w.add_connection("/chatter", "std_msgs/msg/String", typestore=TYPESTORE)
        w.write(c, 1, TYPESTORE.serialize_cdr(TYPESTORE.types["std_msgs/msg/String"](data="hi"), "std_msgs/msg/String"))
    rc, err = _cli(capsys, "replay", "--bag", str(tmp_path / "noimg"), "--out", str(tmp_path / "o"))
    assert rc == 1 and "no image topic" in err and "/chatter (std_msgs/msg/String)" in err


def _bag_with_extras(path: Path, src: Path) -> Path:
    """``src``'s messages plus an unknown message type topic and one corrupt image message."""
    from rosbags.rosbag2 import Writer
    from rosbags.typesys import Stores, get_types_from_msg, get_typestore

    store = get_typestore(Stores.ROS2_KILTED)  # a fresh one: the product's TYPESTORE must not learn the test type
    store.register(get_types_from_msg("int32 value\n", "acme_msgs/msg/Gizmo"))
    with InputBag(src) as bag, Writer(path, version=9) as w:
        conns = {}
        times = []
        for m in bag.messages():
            if m.topic not in conns:
                conns[m.topic] = w.add_connection(m.topic, m.msgtype, typestore=store)
            w.write(conns[m.topic], m.timestamp, m.data)
            times.append(m.timestamp)
        gizmo = w.add_connection("/acme/gizmo", "acme_msgs/msg/Gizmo", typestore=store)
        w.write(
            gizmo, times[0], store.serialize_cdr(store.types["acme_msgs/msg/Gizmo"](value=7), "acme_msgs/msg/Gizmo")
        )
        w.write(conns["/camera/image_raw"], times[-1] + 1, b"\x00\x01\x00\x00garbage")
    return path


def test_unknown_type_and_corrupt_message_are_skipped_and_reported(good_bag, model, tmp_path, capsys):
    bag = _bag_with_extras(tmp_path / "extras", good_bag)
    res = replay(ReplayOptions(bag=bag, out=tmp_path / "o", overrides={"model_file_path": str(model)}, plots=False))
    assert res.complete
    fr = res.report["frames"]
    assert (
        fr["in"] == 5
        and fr["processed"] == 4
        and fr["errors"] == 1
        and fr["errors_by_reason"] == {"corrupt message": 1}
    )
    assert "acme_msgs/msg/Gizmo" not in TYPESTORE.types
    with InputBag(tmp_path / "o") as out:  # the unknown type is copied with the input bag's own definition
        assert out.topics["/acme/gizmo"] == "acme_msgs/msg/Gizmo"
        (gizmo,) = list(out.messages(["/acme/gizmo"]))
        assert "int32 value" in gizmo.msgdef
    assert len(stamps(tmp_path / "o", "/hpe3d/skeletons")) == 4
    assert "corrupt sensor_msgs/msg/Image message" in capsys.readouterr().err
    rc, err = _cli(capsys, "replay", "--bag", str(bag), "--out", str(tmp_path / "o2"), "--image-topic", "/acme/gizmo")
    assert rc == 1 and "acme_msgs/msg/Gizmo" in err


def test_undecodable_and_missing_video(capsys, tmp_path):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(os.urandom(4096))
    rc, err = _cli(capsys, "make-bag", "--video", str(bad), "--out", str(tmp_path / "b"))
    assert rc == 1 and "broken.mp4: cannot be opened as a video" in err
    rc, err = _cli(capsys, "make-bag", "--video", str(tmp_path / "none.mp4"), "--out", str(tmp_path / "b"))
    assert rc == 1 and "none.mp4: no such video file" in err
    assert not (tmp_path / "b").exists()


def test_output_bag_that_exists_is_refused(capsys, good_bag, model, tmp_path):
    (tmp_path / "o").mkdir()
    rc, err = _cli(capsys, "replay", "--bag", str(good_bag), "--out", str(tmp_path / "o"), "--model", str(model))
    assert rc == 1 and "already exists" in err


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupt_midway_leaves_a_valid_output_bag_and_a_report(model, tmp_path, sig):
    bag = clip_bag(tmp_path / "long", 40)
    out = tmp_path / "o"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    cmd = [
        sys.executable,
        "-m",
        "hpe3d_ros.cli",
        "replay",
        "--bag",
        str(bag),
        "--out",
        str(out),
        "--model",
        str(model),
        "--rate",
        "1",
        "--no-plots",
    ]
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        end = time.monotonic() + 120
        while not out.exists() and proc.poll() is None and time.monotonic() < end:
            time.sleep(0.1)
        assert proc.poll() is None, proc.communicate()[1][-2000:]
        time.sleep(1.5)  # 40 frames at 10 fps take 4 s: interrupt about a third of the way in
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err[-2000:]
    assert "Traceback" not in err and "interrupted" in err
    with InputBag(out) as b:
        n_images = b.message_count("/camera/image_raw")
    assert 0 < n_images < 40
    skel = stamps(out, "/hpe3d/skeletons")
    assert len(skel) >= 1 and set(skel) <= set(stamps(out, "/camera/image_raw"))
    report = json.loads((tmp_path / "o-report" / "report.json").read_text())
    assert report["meta"]["complete"] is False and report["frames"]["in"] == n_images


def test_bad_parameters_name_the_parameter(capsys, good_bag, tmp_path):
    o = str(tmp_path / "o")
    rc, err = _cli(capsys, "replay", "--bag", str(good_bag), "--out", o, "--set", "bodyheight=1.8")
    assert rc == 1 and "unknown lift_node parameter 'bodyheight'" in err
    rc, err = _cli(capsys, "replay", "--bag", str(good_bag), "--out", o, "--set", "body_height_m=9")
    assert rc == 1 and "body_height_m = 9.0; expected a value in [0.5, 2.5]" in err
    rc, err = _cli(capsys, "replay", "--bag", str(good_bag), "--out", o, "--rate", "-1")
    assert rc == 1 and "--rate" in err
    rc, err = _cli(capsys, "replay", "--bag", str(good_bag), "--out", o, "--params", str(tmp_path / "none.yaml"))
    assert rc == 1 and "none.yaml: no such parameter file" in err
    bad = tmp_path / "bad.yaml"
    bad.write_text("/**:\n  ros__parameters:\n    detector:\n      max_people: many\n")
    rc, err = _cli(capsys, "replay", "--bag", str(good_bag), "--out", o, "--params", str(bad))
    assert rc == 1 and "bad.yaml: parameter detector.max_people = 'many' is not a int" in err
    assert not (tmp_path / "o").exists()


def test_bag_without_camera_info_uses_the_field_of_view_fallback_and_says_so(good_bag, model, tmp_path, capsys):
    from hpe3d_ros.replay.bag_io import OutputBag

    with InputBag(good_bag) as src, OutputBag(tmp_path / "noinfo") as dst:
        for m in src.messages(["/camera/image_raw"]):
            dst.write(m.topic, m.msgtype, m.timestamp, m.data)
    res = replay(
        ReplayOptions(
            bag=tmp_path / "noinfo", out=tmp_path / "o", overrides={"model_file_path": str(model)}, plots=False
        )
    )
    assert res.complete and res.report["meta"]["camera_info_topic"] is None
    assert res.report["meta"]["frames_with_fallback_intrinsics"] == 4
    assert "field-of-view fallback" in capsys.readouterr().err
