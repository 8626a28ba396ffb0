"""Reading and writing ROS 2 bags (mcap and sqlite3) with the `rosbags` library.

Messages travel as serialised CDR bytes; `rclpy.serialization` turns them into the very message
classes the node uses, so a replay runs the node's own code on them.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from rosbags.rosbag2 import Reader, StoragePlugin, Writer
from rosbags.typesys import Stores, get_typestore

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


class InputBag:
    """A bag opened for reading, with errors that name the file and the problem."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not self.path.exists():
            raise BagError(f"{self.path}: no such bag")
        if self.path.is_dir() and not (self.path / "metadata.yaml").is_file():
            raise BagError(f"{self.path}: no metadata.yaml: not a ROS 2 bag directory, or its recording never finished")
        try:
            self._reader = Reader(self.path)
            self._reader.open()
        except Exception as e:  # rosbags raises several types for corrupt or foreign files
            raise BagError(f"{self.path}: not a readable ROS 2 bag ({type(e).__name__}: {e})") from e

    def __enter__(self) -> "InputBag":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Close the reader."""
        self._reader.close()

    @property
    def topics(self) -> dict[str, str]:
        """Topic name -> message type."""
        return {c.topic: c.msgtype for c in self._reader.connections}

    @property
    def storage(self) -> str:
        """'mcap' or 'sqlite3'."""
        ids = {getattr(c.owner, "storage_identifier", None) for c in self._reader.connections} - {None}
        return ids.pop() if len(ids) == 1 else ("mcap" if any(self.path.glob("*.mcap")) else "sqlite3")

    def message_count(self, topic: str | None = None) -> int:
        """Messages in the bag, or on one topic."""
        return sum(c.msgcount for c in self._reader.connections if topic is None or c.topic == topic)

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
        """Messages in time order; a truncated or corrupt bag ends with a BagError after the good ones."""
        conns = [c for c in self._reader.connections if topics is None or c.topic in topics]
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


class OutputBag:
    """A bag written incrementally; closing it (also on Ctrl-C or an error) leaves a valid bag."""

    def __init__(self, path: str | Path, storage: str = "mcap"):
        self.path = Path(path)
        if self.path.exists():
            raise BagError(f"{self.path}: already exists; choose another output path or remove it")
        plugins = {"mcap": StoragePlugin.MCAP, "sqlite3": StoragePlugin.SQLITE3}
        if storage not in plugins:
            raise BagError(f"unknown bag storage {storage!r}; expected one of {sorted(plugins)}")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = Writer(self.path, version=9, storage_plugin=plugins[storage])
        self._writer.open()
        self._connections: dict[str, object] = {}
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
        conn = self._connections.get(topic)
        if conn is None:
            if msgdef and rihs01:
                conn = self._writer.add_connection(topic, msgtype, msgdef=msgdef, rihs01=rihs01)
            else:
                conn = self._writer.add_connection(topic, msgtype, typestore=TYPESTORE)
            self._connections[topic] = conn
        self._writer.write(conn, timestamp, data)
        self.count += 1

    def write_ros(self, topic: str, msg: object, timestamp: int) -> None:
        """Serialise an rclpy message and append it."""
        from rclpy.serialization import serialize_message

        self.write(topic, ros_type_name(msg), timestamp, serialize_message(msg))

    def close(self) -> None:
        """Finish the bag (writes metadata.yaml); safe to call twice."""
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
