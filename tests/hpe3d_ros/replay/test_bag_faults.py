"""Bags that survive faults: written as split files with chunk CRCs, readable by rosbags after a SIGKILL
of the real writer at a random moment (``hpe3d replay``, the demo's recorder); damaged input bags (cut
short, a chunk overwritten) replayed as far as they are intact, with the damage named."""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rosbags.rosbag2 import Reader

from hpe3d_ros import cli
from hpe3d_ros.replay.bag_io import InputBag, OutputBag
from hpe3d_ros.replay.mcap_scan import McapScan
from hpe3d_ros.replay.replay import ReplayOptions, replay

from .replay_fixtures import clip_bag, ros_env, tiny_model

REPO = Path(__file__).resolve().parents[3]
IMAGE = "/camera/image_raw"


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return tiny_model(tmp_path_factory.mktemp("model"))


@pytest.fixture(scope="module")
def long_bag(tmp_path_factory):
    """40 frames of the sample clip (4 s at 10 fps) in ONE mcap file of many chunks (frames of ~0.5 MB)."""
    src = clip_bag(tmp_path_factory.mktemp("clip") / "clip", 40)
    dst = tmp_path_factory.mktemp("one") / "one"
    with InputBag(src) as a, OutputBag(dst, split_s=3600) as b:
        for m in a.messages():
            b.write(m.topic, m.msgtype, m.timestamp, m.data)
    files = list(dst.glob("*.mcap"))
    assert len(files) == 1
    return dst


def _rosbags_stamps(path: Path, topic: str) -> list[int]:
    with Reader(path) as r:
        conns = [c for c in r.connections if c.topic == topic]
        return [t for _, t, _ in r.messages(connections=conns)]


def _image_times(path: Path) -> list[int]:
    with InputBag(path) as b:
        return [m.timestamp for m in b.messages([IMAGE])]


def test_output_bags_are_split_files_with_chunk_crcs(tmp_path):
    from std_msgs.msg import String

    with OutputBag(tmp_path / "b", split_s=0.2) as b:
        for i in range(30):
            b.write_ros("/chatter", String(data="x" * 100_000), 1000 + i)  # several 1 MiB chunks
            time.sleep(0.02)
    files = sorted((tmp_path / "b").glob("*.mcap"))
    assert len(files) >= 2 and not list((tmp_path / "b").glob("unfinished_*"))
    with Reader(tmp_path / "b") as r:
        assert r.message_count == 30 and len(list(r.messages())) == 30
    for f in files:
        scan = McapScan(f)
        n = len(list(scan.messages()))
        assert n > 0 and scan.complete and scan.checked_chunks >= 1 and scan.unchecked_chunks == 0 and not scan.damage


def test_a_damaged_chunk_is_detected_by_rosbags_and_skipped_by_the_replay(long_bag, model, tmp_path, capsys):
    bag = tmp_path / "damaged"
    bag.mkdir()
    for p in long_bag.iterdir():
        (bag / p.name).write_bytes(p.read_bytes())
    data = next(bag.glob("*.mcap"))
    raw = bytearray(data.read_bytes())
    at = len(raw) // 2
    raw[at:at + 64] = os.urandom(64)  # bytes overwritten in the middle of the file
    data.write_bytes(bytes(raw))
    with pytest.raises(Exception, match="checksum"):  # rosbags itself checks the CRCs we write
        _rosbags_stamps(bag, IMAGE)
    rc = cli.main(["replay", "--bag", str(bag), "--out", str(tmp_path / "o"), "--model", str(model), "--no-plots"])
    err = capsys.readouterr().err
    assert rc == 1 and "the input bag is damaged" in err and "CRC mismatch" in err and data.name in err
    out_images = _rosbags_stamps(tmp_path / "o", IMAGE)
    assert 30 <= len(out_images) < 40, "everything but the damaged chunk's frames is replayed"
    report = json.loads((tmp_path / "o-report" / "report.json").read_text())
    assert report["meta"]["complete"] is False and "CRC mismatch" in report["meta"]["input_damage"][0]
    assert report["frames"]["processed"] == len(out_images)


@pytest.mark.parametrize("keep", [0.5, 0.8])
def test_a_truncated_input_bag_replays_up_to_where_it_breaks(long_bag, model, tmp_path, capsys, keep):
    bag = tmp_path / "cut"
    bag.mkdir()
    for p in long_bag.iterdir():
        (bag / p.name).write_bytes(p.read_bytes())
    data = next(bag.glob("*.mcap"))
    raw = data.read_bytes()
    data.write_bytes(raw[: int(len(raw) * keep)])
    rc = cli.main(["replay", "--bag", str(bag), "--out", str(tmp_path / "o"), "--model", str(model), "--no-plots"])
    err = capsys.readouterr().err
    assert rc == 1 and "the input bag is damaged" in err and "cut short" in err and "read up to the message at" in err
    n = len(_rosbags_stamps(tmp_path / "o", IMAGE))
    assert abs(n - 40 * keep) <= 3, f"{n} of 40 frames replayed from a bag cut at {keep:.0%}"
    assert len(_rosbags_stamps(tmp_path / "o", "/hpe3d/skeletons")) == n


def test_a_bag_without_crcs_says_damage_cannot_be_detected(tmp_path, model):
    from rosbags.rosbag2 import StoragePlugin, Writer

    src = clip_bag(tmp_path / "clip", 3)
    plain = tmp_path / "plain"  # rosbags' own writer: chunk CRCs 0
    with InputBag(src) as a, Writer(plain, version=9, storage_plugin=StoragePlugin.MCAP) as w:
        conns = {}
        for m in a.messages():
            if m.topic not in conns:
                from hpe3d_ros.replay.bag_io import TYPESTORE

                conns[m.topic] = w.add_connection(m.topic, m.msgtype, typestore=TYPESTORE)
            w.write(conns[m.topic], m.timestamp, m.data)
    res = replay(ReplayOptions(bag=plain, out=tmp_path / "o", overrides={"model_file_path": str(model)}, plots=False))
    assert res.complete
    assert any("carry no CRC" in n for n in res.report["meta"]["input_notes"])


def test_replay_killed_at_a_random_moment_leaves_a_readable_bag(long_bag, model, tmp_path):
    """SIGKILL a real `hpe3d replay` (paced at the recorded rate, so bag time runs with the wall clock) at
    a random moment: rosbags reads the output bag as it is, and it holds all the output but at most the
    last split (1 s here) plus slack; InputBag also reads the unfinished split as far as it is intact."""
    split_s = 1.0
    delay = random.Random().uniform(1.0, 3.0)
    out = tmp_path / "o"
    cmd = [
        sys.executable,
        "-m",
        "hpe3d_ros.cli",
        "replay",
        "--bag",
        str(long_bag),
        "--out",
        str(out),
        "--model",
        str(model),
        "--rate",
        "1",
        "--no-plots",
        "--split-s",
        str(split_s),
    ]
    proc = subprocess.Popen(
        cmd,
        cwd=REPO,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        end = time.monotonic() + 120
        # the first split closed (its metadata written): on a loaded machine the replay can take longer than
        # the delay to fill it, and a bag killed inside its first split has nothing finished to read
        while not (out / "metadata.yaml").exists() and proc.poll() is None and time.monotonic() < end:
            time.sleep(0.05)
        assert proc.poll() is None, proc.communicate()[1][-2000:]
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    info = f"killed {delay:.2f} s after the first split was closed"
    readable = _rosbags_stamps(out, IMAGE)  # rosbags, as the bag was left: no repair step
    everything = _image_times(out)  # plus the unfinished split, as far as it is intact
    assert readable, info
    assert everything[: len(readable)] == readable, info
    lost_s = (everything[-1] - readable[-1]) * 1e-9
    assert lost_s <= split_s + 1.0, f"{info}: rosbags reads up to {lost_s:.2f} s before the last message written"
    skel = _rosbags_stamps(out, "/hpe3d/skeletons")
    assert skel and max(skel) <= readable[-1] + 10**9


def test_recorder_killed_at_a_random_moment_leaves_a_readable_bag(tmp_path):
    """The demo's recorder, SIGKILLed while `hpe3d play` feeds it: rosbags reads all it recorded but the last
    split (1 s) plus slack."""
    env = ros_env(tmp_path / "ros_logs")
    src = clip_bag(tmp_path / "clip", 60)
    out = tmp_path / "rec"
    rec = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hpe3d_ros.replay.recorder",
            "--out",
            str(out),
            "--split-s",
            "1",
            "--topic",
            f"{IMAGE}:sensor_msgs/msg/Image",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    play = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hpe3d_ros.cli",
            "play",
            "--bag",
            str(src),
            "--topics",
            IMAGE,
            "--wait-subscribers",
            "1",
            "--restamp",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        end = time.monotonic() + 120
        while time.monotonic() < end and not list(out.glob("*.mcap")) and rec.poll() is None:
            time.sleep(0.05)  # the first split closed: messages are flowing
        assert rec.poll() is None and list(out.glob("*.mcap")), rec.communicate()[1][-2000:]
        time.sleep(random.Random().uniform(0.5, 2.5))
        killed_ns = time.time_ns()
        rec.send_signal(signal.SIGKILL)
        rec.communicate(timeout=30)
    finally:
        for p in (rec, play):
            if p.poll() is None:
                p.kill()
        play.communicate(timeout=30)
    readable = _rosbags_stamps(out, IMAGE)
    assert len(readable) >= 5
    lost_s = (killed_ns - readable[-1]) * 1e-9
    assert lost_s <= 1.0 + 1.5, f"the readable bag ends {lost_s:.2f} s before the kill"
