"""Reading and writing ROS 2 bags (mcap and sqlite3) with the `rosbags` library.

Messages travel as serialised CDR bytes; `rclpy.serialization` turns them into the very message
classes the node uses, so a replay runs the node's own code on them.

Faults (docs/robustness.md):
- ``OutputBag`` writes split files closed in turn (``bag_split``), each MCAP chunk with its CRC, so a
  writer killed at any point leaves a bag rosbags reads with all but the last ``split_s`` seconds.
- ``InputBag`` reads MCAP data with ``mcap_scan``: from the file's start, as far as it is intact,
  checking chunk CRCs; a damaged chunk is skipped, a file cut short ends where it breaks, and
  ``damage`` says where. A bag directory without metadata.yaml (a recording killed before its
  first split closed, or by another recorder) is read from its .mcap files the same way, and so are
  the unfinished splits a killed ``OutputBag`` leaves.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from rosbags.rosbag2 import Reader, StoragePlugin
from rosbags.typesys import Stores, get_typestore

from .bag_split import DEFAULT_SPLIT_BYTES, DEFAULT_SPLIT_S, UNFINISHED, SplitBagWriter
from .mcap_scan import Damage, McapFormatError, McapScan

TYPESTORE = get_typestore(Stores.ROS2_KILTED)
IMAGE_TYPES = ("sensor_msgs/msg/Image", "sensor_msgs/msg/CompressedImage")


class BagError(RuntimeError):
    """A bag is missing, unreadable, truncated, or lacks what was asked of it."""


@dataclass
class RawMessage:
    """One message as stored: topic, type, receive time (ns) and CDR bytes."""

    topic: str
    msgtype: str
    timestamp: int
    data: bytes
    msgdef: str | None = None  # the type's definition as stored in the bag (copies keep types this install lacks)
    rihs01: str | None = None


def _natural(path: Path) -> tuple:
    """Sort key: bag_2.mcap before bag_10.mcap."""
    return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", path.name))


class InputBag:
    """A bag opened for reading, with errors that name the file and the problem.

    ``path`` is a bag directory or a single .mcap/.db3 file. ``damage`` lists what could not be read
    (filled while ``messages`` runs, and at opening for files rosbags refuses); ``notes`` says what
    else was found (unfinished splits, chunks without CRCs)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.damage: list[Damage] = []
        self.notes: list[str] = []
        self._open_damage: list[Damage] = []
        self._no_metadata = False
        self._reader: Reader | None = None
        self._scans: list[McapScan] = []  # the MCAP files, read with mcap_scan in this order
        self._types: dict[str, str] = {}
        self._counts: dict[str, int] = {}
        self._digests: dict[str, str] = {}
        if not self.path.exists():
            raise BagError(f"{self.path}: no such bag")
        listed = self._open_with_rosbags()
        if self._reader is None or self.storage == "mcap":
            self._add_unlisted_mcap_files(listed)

    # ----- opening -----
    def _open_with_rosbags(self) -> list[Path]:
        """Open with rosbags when the bag is intact; returns the storage files it lists."""
        if self.path.is_dir() and not (self.path / "metadata.yaml").is_file():
            if not any(self.path.glob("*.mcap")) and not any(self.path.glob(f"{UNFINISHED}*/*.mcap")):
                raise BagError(
                    f"{self.path}: no metadata.yaml: not a ROS 2 bag directory, or its recording never finished"
                )
            self._no_metadata = True
            self.notes.append(
                f"{self.path}: no metadata.yaml (a recording that never finished): reading its .mcap files "
                "as far as they are intact"
            )
            return []
        listed = [self.path] if self.path.is_file() else self._listed_files()
        try:
            reader = Reader(self.path)
            reader.open()
        except Exception as e:  # noqa: BLE001 - rosbags raises several types for corrupt or foreign files
            if self.path.suffix == ".mcap" or (self.path.is_dir() and any(self.path.glob("*.mcap"))):
                self.notes.append(
                    f"{self.path}: rosbags cannot open it ({type(e).__name__}: {e}): reading its MCAP data "
                    "as far as it is intact"
                )
                return [p for p in listed if p.is_file()]
            raise BagError(f"{self.path}: not a readable ROS 2 bag ({type(e).__name__}: {e})") from e
        self._reader = reader
        for c in reader.connections:
            self._types.setdefault(c.topic, c.msgtype)
            self._counts[c.topic] = self._counts.get(c.topic, 0) + c.msgcount
            if getattr(c, "digest", None):
                self._digests.setdefault(c.topic, c.digest)
        return listed

    def _listed_files(self) -> list[Path]:
        """The storage files metadata.yaml lists ([] when it cannot be read)."""
        import yaml

        try:
            meta = yaml.safe_load((self.path / "metadata.yaml").read_text())["rosbag2_bagfile_information"]
            return [self.path / Path(str(p)).name for p in meta.get("relative_file_paths", [])]
        except (OSError, yaml.YAMLError, KeyError, TypeError, AttributeError):
            return []

    def _add_unlisted_mcap_files(self, listed: list[Path]) -> None:
        """The MCAP files to read with mcap_scan: the listed ones, then any a killed writer left unlisted."""
        if self.path.is_file():
            files = [self.path]
        else:
            extra = sorted((p for p in self.path.glob("*.mcap") if p not in listed), key=_natural)
            unfinished = sorted(self.path.glob(f"{UNFINISHED}*/*.mcap"), key=lambda p: _natural(p.parent))
            for p in extra + unfinished:
                self.notes.append(
                    f"{p}: not listed in metadata.yaml (a split a killed recording left): read as far as it is intact"
                )
            files = listed + extra + unfinished
        self._scans = [McapScan(p) for p in files]
        if self._reader is not None and not (len(files) > len(listed)):
            return
        # Topics and counts of what rosbags could not index: one pass over those files.
        for scan in self._scans[len(listed) if self._reader is not None else 0 :]:
            try:
                types, counts = scan.topics()
            except McapFormatError as e:
                if len(self._scans) == 1 and self._reader is None:
                    raise self._unreadable(str(e)) from e
                self._open_damage.append(Damage(scan.path.name, 0, str(e)))
                continue
            for t, ty in types.items():
                self._types.setdefault(t, ty)
                self._counts[t] = self._counts.get(t, 0) + counts[t]
        self.damage = list(self._open_damage)
        if not self._types:
            raise self._unreadable("no intact message in " + (", ".join(p.name for p in files) or "it"))

    def _unreadable(self, reason: str) -> BagError:
        where = f"{self.path}: no metadata.yaml, and" if self._no_metadata else f"{self.path}:"
        return BagError(f"{where} not a readable ROS 2 bag ({reason})")

    def __enter__(self) -> "InputBag":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Close the reader."""
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    @property
    def topics(self) -> dict[str, str]:
        """Topic name -> message type."""
        return dict(self._types)

    @property
    def storage(self) -> str:
        """'mcap' or 'sqlite3'."""
        if self._reader is None:
            return "mcap"
        ids = {getattr(c.owner, "storage_identifier", None) for c in self._reader.connections} - {None}
        if len(ids) == 1:
            return ids.pop()
        if self.path.is_file():
            return "mcap" if self.path.suffix == ".mcap" else "sqlite3"
        return "mcap" if any(self.path.glob("*.mcap")) else "sqlite3"

    def message_count(self, topic: str | None = None) -> int:
        """Messages in the bag (as indexed, or found intact), or on one topic."""
        return sum(n for t, n in self._counts.items() if topic is None or t == topic)

    def require_topic(self, topic: str, allowed_types: tuple[str, ...] | None = None) -> str:
        """The type of ``topic``; a BagError naming the topics there are when it is absent or of another type."""
        topics = self.topics
        if topic not in topics:
            raise BagError(f"{self.path}: no topic {topic!r}; the bag has {sorted(topics)}")
        if allowed_types and topics[topic] not in allowed_types:
            raise BagError(
                f"{self.path}: topic {topic!r} has type {topics[topic]}, expected one of {list(allowed_types)}"
            )
        return topics[topic]

    def messages(self, topics: list[str] | None = None) -> Iterator[RawMessage]:
        """Messages in time order (MCAP: file order, each chunk in time order). A damaged MCAP chunk is
        skipped and a file cut short ends where it breaks, both recorded in ``damage``; a sqlite3 bag
        that breaks ends with a BagError after the good messages."""
        wanted = None if topics is None else set(topics)
        if self._scans:
            yield from self._scan_messages(wanted)
            return
        conns = [c for c in self._reader.connections if wanted is None or c.topic in wanted]
        try:
            for conn, timestamp, data in self._reader.messages(connections=conns):
                md = getattr(conn, "msgdef", None)
                yield RawMessage(
                    conn.topic,
                    conn.msgtype,
                    timestamp,
                    bytes(data),
                    getattr(md, "data", None) or None,
                    getattr(conn, "digest", None) or None,
                )
        except BagError:
            raise
        except Exception as e:
            raise BagError(f"{self.path}: unreadable message data ({type(e).__name__}: {e})") from e

    def _scan_messages(self, wanted: set[str] | None) -> Iterator[RawMessage]:
        self.damage = list(self._open_damage)
        unchecked = 0
        for scan in self._scans:
            try:
                for m in scan.messages():
                    if wanted is None or m.topic in wanted:
                        yield RawMessage(m.topic, m.msgtype, m.timestamp, m.data, m.msgdef, self._digests.get(m.topic))
            except McapFormatError:
                continue  # recorded when the bag was opened
            finally:
                self.damage += scan.damage
                unchecked += scan.unchecked_chunks
        if unchecked:
            note = (
                f"{self.path}: {unchecked} MCAP chunks carry no CRC (written without one): damage inside their data "
                "cannot be detected"
            )
            if note not in self.notes:
                self.notes.append(note)


class OutputBag:
    """A bag written incrementally as split files closed in turn (``bag_split``): closing it (also on
    Ctrl-C or an error) leaves a complete bag, and a kill leaves all but the last ``split_s`` seconds."""

    def __init__(
        self,
        path: str | Path,
        storage: str = "mcap",
        split_s: float = DEFAULT_SPLIT_S,
        split_bytes: int = DEFAULT_SPLIT_BYTES,
    ):
        self.path = Path(path)
        if self.path.exists():
            raise BagError(f"{self.path}: already exists; choose another output path or remove it")
        plugins = {"mcap": StoragePlugin.MCAP, "sqlite3": StoragePlugin.SQLITE3}
        if storage not in plugins:
            raise BagError(f"unknown bag storage {storage!r}; expected one of {sorted(plugins)}")
        self._writer: SplitBagWriter | None = SplitBagWriter(self.path, plugins[storage], split_s, split_bytes)
        self.count = 0

    def __enter__(self) -> "OutputBag":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def write(
        self,
        topic: str,
        msgtype: str,
        timestamp: int,
        data: bytes,
        msgdef: str | None = None,
        rihs01: str | None = None,
    ) -> None:
        """Append one serialised message, adding the topic on first use (with ``msgdef``/``rihs01`` when
        given, e.g. copied from an input bag, else from the typestore)."""
        self._writer.write(topic, msgtype, timestamp, data, msgdef, rihs01, TYPESTORE)
        self.count += 1

    def write_ros(self, topic: str, msg: object, timestamp: int) -> None:
        """Serialise an rclpy message and append it."""
        from rclpy.serialization import serialize_message

        self.write(topic, ros_type_name(msg), timestamp, serialize_message(msg))

    def rotate_if_due(self) -> None:
        """Close the open split file when it is due (writers call it while idle: a kill then loses nothing older)."""
        if self._writer is not None:
            self._writer.rotate_if_due()

    def close(self) -> None:
        """Finish the bag (the last split and metadata.yaml); safe to call twice."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def ros_type_name(msg: object) -> str:
    """'sensor_msgs/msg/Image' for an rclpy message instance."""
    module = type(msg).__module__.split(".")  # e.g. sensor_msgs.msg._image
    return f"{module[0]}/msg/{type(msg).__name__}"


def deserialize(raw: RawMessage) -> object:
    """CDR bytes to the rclpy message class of its type."""
    from rclpy.serialization import deserialize_message

    from ..ros_convert import message_class

    try:
        cls = message_class(raw.msgtype)
    except (ImportError, AttributeError, ValueError) as e:
        raise BagError(f"unknown message type {raw.msgtype!r} on {raw.topic!r}") from e
    try:
        return deserialize_message(raw.data, cls)
    except Exception as e:
        raise BagError(f"corrupt {raw.msgtype} message on {raw.topic!r} at t={raw.timestamp} ({e})") from e
