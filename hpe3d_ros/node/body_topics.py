"""Per-person publishers (REP-155 style ``<namespace>/b<track_id>/<topic>``), created when a track
appears and destroyed when it has been gone for ``body_topics.timeout_s``, at most
``body_topics.max_bodies`` people at a time (docs/node.md "Per-person topics").

At the cap, a new person takes the publishers of the person seen longest ago if that one is not in the
current frame; otherwise the new person gets none this frame (counted in ``skipped``). The parameters
are plain data (this module imports rclpy only when publishers are made), so the node's parameter
schema stays rclpy-free.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..ros_convert import message_class
from .outputs import OUTPUTS, topic_name


def _p(description: str, range: tuple | None = None) -> dict:
    return {"description": description, "range": range, "choices": (), "read_only": True}


@dataclass(frozen=True)
class BodyTopicsParams:
    """Declared as ``body_topics.<field>``."""

    enabled: bool = field(default=True, metadata=_p(
        "publish per-person topics <namespace>/b<track_id>/roi, position, velocity (REP-155 style)"))
    namespace: str = field(default="/humans/bodies", metadata=_p(
        "namespace of the per-person topics and of the frame's list of track ids (<namespace>/tracked)"))
    max_bodies: int = field(default=32, metadata=_p(
        "at most this many people have per-person publishers at a time", (1, 1000)))
    timeout_s: float = field(default=2.0, metadata=_p(
        "a person's publishers are destroyed when it has not been seen for this long (seconds)", (0.0, 3600.0)))


PER_PERSON = tuple(o for o in OUTPUTS if o.per_person)


@dataclass
class _Body:
    publishers: dict[str, Any]
    last_seen: float


class BodyPublishers:
    """The per-person publishers of one node."""

    def __init__(self, node, values: dict[str, Any], qos):
        self.node = node
        self.values = values
        self.qos = qos
        self.enabled = bool(values.get("body_topics.enabled", True))
        self.max_bodies = int(values.get("body_topics.max_bodies", 32))
        self.timeout = float(values.get("body_topics.timeout_s", 2.0))
        self.bodies: dict[int, _Body] = {}
        self.created = self.destroyed = self.skipped = 0

    def _make(self, track_id: int) -> dict[str, Any]:
        self.created += 1
        return {o.key: self.node.create_publisher(message_class(o.msgtype),
                                                  topic_name(o, self.values, absolute=True, track_id=track_id),
                                                  self.qos)
                for o in PER_PERSON}

    def _drop(self, track_id: int) -> None:
        body = self.bodies.pop(track_id)
        for pub in body.publishers.values():
            self.node.destroy_publisher(pub)
        self.destroyed += 1

    def publish(self, messages: dict[str, Any], now: float) -> None:
        """Publish a frame's per-person messages (``frame_messages`` output; other keys are ignored)."""
        if not self.enabled:
            return
        per_person = {o.key: messages.get(o.key, {}) for o in PER_PERSON}
        ids = sorted({tid for msgs in per_person.values() for tid in msgs})
        for tid in ids:
            if tid in self.bodies:
                self.bodies[tid].last_seen = now
        for tid in ids:
            if tid in self.bodies:
                continue
            if len(self.bodies) >= self.max_bodies:
                stale = [t for t in self.bodies if t not in ids]
                if not stale:
                    self.skipped += 1
                    continue
                self._drop(min(stale, key=lambda t: self.bodies[t].last_seen))
            self.bodies[tid] = _Body(self._make(tid), now)
        for key, msgs in per_person.items():
            for tid, msg in msgs.items():
                body = self.bodies.get(tid)
                if body is not None:
                    body.publishers[key].publish(msg)
        for tid in [t for t, b in self.bodies.items() if now - b.last_seen > self.timeout]:
            self._drop(tid)

    def close(self) -> None:
        """Destroy every per-person publisher."""
        for tid in list(self.bodies):
            self._drop(tid)
