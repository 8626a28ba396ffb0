"""Per-frame records from a recorded output bag (the demo's recording of the live graph).

Each input image becomes a FrameRecord; the skeletons message with the image's stamp makes it
'processed' with ``latency_s`` = (bag time the skeletons were received) - (image stamp), the
end-to-end latency from camera stamp to the recorder; an image without one was dropped by the node.
The node's last /diagnostics status supplies the per-stage latency percentiles.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..node import skeleton_msgs
from ..node.outputs import OUTPUT_BY_KEY, output_topics
from ..node.params import PARAMS
from ..node.people_msgs import read_people
from ..ros_convert import stamp_to_ns
from .bag_io import IMAGE_TYPES, InputBag, deserialize
from .records import FrameRecord, record_from_skeletons

SKELETON_TYPE = OUTPUT_BY_KEY["skeletons"].msgtype
_DEFAULT_TOPICS = output_topics({p.name: p.default for p in PARAMS})  # the node's outputs with its default parameters
DEFAULT_SKELETON_TOPIC = _DEFAULT_TOPICS["skeletons"]
DIAGNOSTICS_TOPIC = _DEFAULT_TOPICS["diagnostics"]


def _stamp(msg) -> int:
    return stamp_to_ns(msg.header.stamp)


@dataclass
class RecordedBag:
    """What the renderer and the report need from an output bag."""

    frames: list[FrameRecord]
    images: dict[int, tuple[int, str]] = field(default_factory=dict)  # stamp -> (bag time, topic) of each image
    intrinsics: np.ndarray | None = None
    image_size: tuple[int, int] | None = None
    node_diagnostics: dict[str, str] = field(default_factory=dict)


def _people_by_track(cloud: dict, track_ids: np.ndarray) -> dict:
    """An optical-frame people cloud's heading (P,) and velocity (P, 3), in the order of ``track_ids``."""
    index = {int(t): i for i, t in enumerate(cloud["track_id"])}
    rows = [index.get(int(t)) for t in track_ids]
    pick = lambda a: np.array([a[r] if r is not None else np.nan for r in rows], dtype=np.float64)  # noqa: E731
    vel = np.stack([pick(cloud["vx"]), pick(cloud["vy"]), pick(cloud["vz"])], axis=-1).reshape(-1, 3)
    return {"heading": pick(cloud["heading"]), "velocity_optical": vel}


def read_recorded(bag_path: str | Path, image_topic: str | None = None, skeleton_topic: str = DEFAULT_SKELETON_TOPIC,
                  info_topic: str | None = None) -> RecordedBag:
    """Records per image of ``bag_path`` (see the module docstring)."""
    with InputBag(bag_path) as bag:
        topics = bag.topics
        image_topic = image_topic or next((t for t, ty in sorted(topics.items()) if ty in IMAGE_TYPES), None)
        info_topic = info_topic or next(
            (t for t, ty in sorted(topics.items()) if ty == "sensor_msgs/msg/CameraInfo"), None
        )
        if image_topic is None:
            raise ValueError(f"{bag_path}: no image topic")
        bag.require_topic(skeleton_topic, (SKELETON_TYPE,)) if skeleton_topic in topics else None
        image_times: dict[int, int] = {}
        skeletons: dict[int, tuple[int, dict]] = {}
        people: dict[int, tuple[str, dict]] = {}
        skeleton_frames: dict[int, str] = {}
        people_topic = skeleton_topic.rsplit("/", 1)[0] + "/people"  # the scene stage's outputs, same namespace
        out = RecordedBag(frames=[])
        wanted = [t for t in (image_topic, skeleton_topic, people_topic, info_topic, DIAGNOSTICS_TOPIC) if t in topics]
        for raw in bag.messages(wanted):
            if raw.topic == image_topic:
                # only the header is needed: deserialise, keep the stamp, drop the pixels
                msg = deserialize(raw)
                image_times[_stamp(msg)] = raw.timestamp
                out.images[_stamp(msg)] = (raw.timestamp, image_topic)
                out.image_size = (int(msg.width), int(msg.height)) if hasattr(msg, "width") else out.image_size
            elif raw.topic == skeleton_topic:
                msg = deserialize(raw)
                skeletons.setdefault(_stamp(msg), (raw.timestamp, skeleton_msgs.read_skeletons(msg)))
                skeleton_frames[_stamp(msg)] = msg.header.frame_id
            elif raw.topic == people_topic:
                msg = deserialize(raw)
                try:
                    people.setdefault(_stamp(msg), (msg.header.frame_id, read_people(msg)))
                except ValueError:  # not this version's people cloud: the video has no arrows
                    pass
            elif raw.topic == info_topic:
                msg = deserialize(raw)
                k = np.asarray(msg.k, dtype=np.float64).reshape(3, 3)
                out.intrinsics = k
                out.image_size = out.image_size or (int(msg.width), int(msg.height))
            elif raw.topic == DIAGNOSTICS_TOPIC:
                msg = deserialize(raw)
                for st in msg.status:
                    if "3D human pose lifting" in st.name:
                        out.node_diagnostics = {kv.key: kv.value for kv in st.values}
    for i, (stamp, arrival) in enumerate(sorted(image_times.items())):
        if stamp in skeletons:
            t_out, sk = skeletons[stamp]
            rec = record_from_skeletons(i, stamp, arrival, sk, (t_out - stamp) * 1e-9)
            frame_id, cloud = people.get(stamp, ("", None))
            if cloud is not None and frame_id == skeleton_frames.get(stamp):  # in the optical frame (no base_frame)
                rec.scene = _people_by_track(cloud, rec.track_ids)
            out.frames.append(rec)
        else:
            out.frames.append(FrameRecord(i, stamp, arrival, status="dropped"))
    return out
