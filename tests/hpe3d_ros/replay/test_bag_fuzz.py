"""Fuzz: a bag cut anywhere or with bytes overwritten anywhere is read as far as it is intact: InputBag
never raises on it (beyond a BagError for a bag with nothing intact), never yields a message that was not
written (the chunk CRCs catch damaged data), and reports damage whenever messages are missing.
Regressions of issue 13: a bag cut at 50 % was refused whole; random bytes in its middle replayed as if
nothing happened."""
from __future__ import annotations

import shutil
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hpe3d_ros.replay.bag_io import BagError, InputBag, OutputBag
from tests.fuzz import fuzz


@pytest.fixture(scope="module")
def bag(tmp_path_factory):
    """Two split files of 20 messages each on two topics, several CRC'd chunks per file."""
    from std_msgs.msg import String

    path = tmp_path_factory.mktemp("fuzz") / "b"
    written = []
    with OutputBag(path, split_s=3600, split_bytes=2_000_000) as b:
        for i in range(40):
            msg = String(data=f"{i:04d}" * 25_000)  # 100 kB: a 1 MiB chunk every ~10 messages
            topic = "/a" if i % 3 else "/b"
            b.write_ros(topic, msg, 1_000 + i)
            written.append((topic, 1_000 + i))
            time.sleep(0.001)
    files = sorted(path.glob("*.mcap"))
    assert len(files) == 2
    with InputBag(path) as ib:
        got = [(m.topic, m.timestamp, bytes(m.data)) for m in ib.messages()]
    assert [(t, s) for t, s, _ in got] == written and not ib.damage
    return path, {(t, s): d for t, s, d in got}


def _read(path):
    with InputBag(path) as ib:
        got = [(m.topic, m.timestamp, bytes(m.data)) for m in ib.messages()]
        return got, list(ib.damage)


@fuzz(60)
@given(
    which=st.integers(0, 1),
    cut=st.floats(0.0, 1.0),
    edits=st.lists(st.tuples(st.floats(0, 1), st.binary(min_size=1, max_size=32)), max_size=3),
)
def test_damaged_bags_yield_only_intact_messages(bag, tmp_path_factory, which, cut, edits):
    src, original = bag
    dst = tmp_path_factory.mktemp("d") / "b"
    shutil.copytree(src, dst)
    f = sorted(dst.glob("*.mcap"))[which]
    raw = bytearray(f.read_bytes())
    for at, junk in edits:
        i = int(at * (len(raw) - 1))
        raw[i : i + len(junk)] = junk
    raw = raw[: max(0, int(cut * len(raw)))] if cut < 1.0 else raw
    f.write_bytes(bytes(raw))
    try:
        got, damage = _read(dst)
    except BagError:
        return  # nothing intact at all, or a file that is not MCAP any more: refused by name
    for topic, stamp, data in got:
        assert original.get((topic, stamp)) == data, f"a message that was never written: {topic} at {stamp}"
    assert len({(t, s) for t, s, _ in got}) == len(got), "a message read twice"
    if len(got) < len(original):
        assert damage, "messages are missing but no damage is reported"
