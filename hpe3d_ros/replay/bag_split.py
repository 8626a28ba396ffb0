"""A ROS 2 bag written as a series of split files, each closed in turn, so that a process killed at any
moment (SIGKILL, power cut of the process) leaves a bag that rosbags reads with everything but the
last split.

Layout of ``BAG/`` while it is written:
- ``BAG_0.mcap``, ``BAG_1.mcap``, ...: closed split files, each a complete bag file (summary, footer);
- ``metadata.yaml``: the rosbag2 metadata listing the closed splits, rewritten atomically after each;
- ``unfinished_N/``: the split being written (rosbags' own Writer); on a clean close it becomes the
  last ``BAG_N.mcap`` and the directory goes away. After a kill it stays: ``InputBag`` reads what of
  it is intact (``mcap_scan``), rosbags ignores it.

A split is closed when it has been open ``split_s`` seconds (wall clock) or holds ``split_bytes`` of
message data, on a write or on ``rotate_if_due`` (a recorder calls it while idle). MCAP chunks carry
CRC-32s of their data (rosbags 0.11.9's writer leaves them 0: ``CrcMcapWriter`` fills them in), so a
reader can tell a damaged chunk; rosbags checks them when it reads, and so does ``mcap_scan``.
"""
from __future__ import annotations

import shutil
import struct
import time
from binascii import crc32
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from rosbags.rosbag2 import StoragePlugin, Writer
from rosbags.rosbag2.storage_mcap import McapWriter
from rosbags.rosbag2.storage_sqlite3 import Sqlite3Writer

from ..atomic import atomic_write_text

#: Default longest time a split stays open (seconds): at most this much is lost to a kill.
DEFAULT_SPLIT_S = 2.0
#: Default largest amount of message data in one split (bytes).
DEFAULT_SPLIT_BYTES = 256 * 1024 * 1024
UNFINISHED = "unfinished_"
# An MCAP chunk record: opcode (1), length (8), start time (8), end time (8), uncompressed size (8), CRC (4).
_CHUNK_CRC_OFFSET = 1 + 8 + 8 + 8 + 8


class CrcMcapWriter(McapWriter):
    """rosbags' MCAP writer with the CRC-32 of every chunk's uncompressed records written in."""

    def close_chunk(self) -> None:
        records = self.chunk.bio.getvalue()
        start = self.bio.tell()
        super().close_chunk()
        end = self.bio.tell()
        self.bio.seek(start + _CHUNK_CRC_OFFSET)
        self.bio.write(struct.pack("<I", crc32(records)))
        self.bio.seek(end)


class _CrcWriter(Writer):
    STORAGE_PLUGINS = {StoragePlugin.SQLITE3: Sqlite3Writer, StoragePlugin.MCAP: CrcMcapWriter}


@dataclass
class _Split:
    writer: Writer
    directory: Path
    opened: float
    connections: dict[str, object] = field(default_factory=dict)
    nbytes: int = 0


class SplitBagWriter:
    """Writes ``path`` as closed split files plus metadata.yaml (see the module docstring)."""

    def __init__(self, path: Path, storage: StoragePlugin, split_s: float = DEFAULT_SPLIT_S,
                 split_bytes: int = DEFAULT_SPLIT_BYTES):
        if not split_s > 0 or not split_bytes > 0:
            raise ValueError(f"split_s and split_bytes must be positive, got {split_s} and {split_bytes}")
        self.path = Path(path)
        self.storage = storage
        self.split_s, self.split_bytes = float(split_s), int(split_bytes)
        self.path.mkdir(parents=True)  # FileExistsError when it exists: the caller refuses that first
        self.suffix = ".mcap" if storage == StoragePlugin.MCAP else ".db3"
        self._split: _Split | None = None
        self._index = 0
        self._closed: list[dict] = []  # the closed splits' own metadata (rosbag2_bagfile_information)
        self._names: list[str] = []
        self._types: dict[str, tuple[str, str | None, str | None]] = {}  # topic -> (type, msgdef, rihs01)

    def _open(self) -> _Split:
        directory = self.path / f"{UNFINISHED}{self._index}"
        writer = _CrcWriter(directory, version=9, storage_plugin=self.storage)
        writer.open()
        return _Split(writer, directory, time.monotonic())

    def _connection(self, split: _Split, topic: str, msgtype: str, msgdef: str | None, rihs01: str | None,
                    typestore) -> object:
        conn = split.connections.get(topic)
        if conn is not None:
            return conn
        known = self._types.get(topic)
        if known is not None:  # the same definition in every split
            msgtype, msgdef, rihs01 = known
        if msgdef and rihs01:
            conn = split.writer.add_connection(topic, msgtype, msgdef=msgdef, rihs01=rihs01)
        else:
            conn = split.writer.add_connection(topic, msgtype, typestore=typestore)
        self._types.setdefault(topic, (msgtype, conn.msgdef.data, conn.digest))
        split.connections[topic] = conn
        return conn

    def write(self, topic: str, msgtype: str, timestamp: int, data: bytes, msgdef: str | None, rihs01: str | None,
              typestore) -> None:
        """Append one serialised message (the topic's definition: ``msgdef``+``rihs01``, else the typestore)."""
        if self._split is None:
            self._split = self._open()
        split = self._split
        split.writer.write(self._connection(split, topic, msgtype, msgdef, rihs01, typestore), timestamp, data)
        split.nbytes += len(data)
        self.rotate_if_due()

    def rotate_if_due(self) -> None:
        """Close the open split when it is old or large enough (called on every write; call it while idle)."""
        s = self._split
        if s is not None and (time.monotonic() - s.opened >= self.split_s or s.nbytes >= self.split_bytes):
            self._close_split()

    def _close_split(self) -> None:
        s, self._split = self._split, None
        s.writer.close()
        info = yaml.safe_load((s.directory / "metadata.yaml").read_text())["rosbag2_bagfile_information"]
        name = f"{self.path.name}_{self._index}{self.suffix}"
        src = next(p for p in s.directory.iterdir() if p.suffix == self.suffix)
        src.replace(self.path / name)
        self._closed.append(info)
        self._names.append(name)
        self._index += 1
        atomic_write_text(self.path / "metadata.yaml", yaml.safe_dump(self.metadata(), sort_keys=False))
        shutil.rmtree(s.directory, ignore_errors=True)

    def metadata(self) -> dict:
        """The bag's metadata.yaml content for the closed splits."""
        topics: dict[tuple[str, str], dict] = {}
        files = []
        start, end, total = None, None, 0
        for name, info in zip(self._names, self._closed):
            for t in info["topics_with_message_count"]:
                key = (t["topic_metadata"]["name"], t["topic_metadata"]["type"])
                entry = topics.setdefault(key, {"topic_metadata": t["topic_metadata"], "message_count": 0})
                entry["message_count"] += int(t["message_count"])
            n = int(info["message_count"])
            s0 = int(info["starting_time"]["nanoseconds_since_epoch"])
            d = int(info["duration"]["nanoseconds"])
            files.append(
                {
                    "path": name,
                    "starting_time": {"nanoseconds_since_epoch": s0},
                    "duration": {"nanoseconds": d},
                    "message_count": n,
                }
            )
            if n:
                start = s0 if start is None else min(start, s0)
                end = s0 + d if end is None else max(end, s0 + d)
            total += n
        first = self._closed[0] if self._closed else {}
        return {
            "rosbag2_bagfile_information": {
                "version": 9,
                "storage_identifier": self.storage.name.lower(),
                "relative_file_paths": list(self._names),
                "duration": {"nanoseconds": 0 if start is None else end - start},
                "starting_time": {"nanoseconds_since_epoch": 0 if start is None else start},
                "message_count": total,
                "topics_with_message_count": list(topics.values()),
                "compression_format": first.get("compression_format", ""),
                "compression_mode": first.get("compression_mode", ""),
                "files": files,
                "custom_data": None,
                "ros_distro": "rosbags",
            }
        }

    def close(self) -> None:
        """Close the open split (an empty one when nothing was ever written, so the bag is complete)."""
        if self._split is None and not self._closed:
            self._split = self._open()
        if self._split is not None:
            self._close_split()
