"""The node's outputs, listed once: topic, message type and builder of each. lift_node publishes them,
the replay writes them into its output bag, the demo records them (docs/node.md describes them).

A frame output has a ``builder``: a factory of the per-frame function ``(header, people, values) ->
message`` (a factory, so a builder may keep state such as reusable marker objects); ``people`` are the
frame's ``pipeline.Person3D``, ``values`` the node's parameter values. Diagnostics have none: they are
periodic (hpe3d_ros.node.diagnostics). Adding an output format: its builder module and one entry here.

A per-person output (``per_person=True``, REP-155 style) has one topic per tracked person,
``<body_topics.namespace>/b<track_id>/<topic>``; its builder returns ``{track_id: message}`` for the
people of the frame that have a scene state. Topics with ``{bodies}`` are under
``body_topics.namespace``. The node creates and destroys the per-person publishers as tracks come and
go (``node/body_topics.py``); the replay writes them into its bag; the demo records them by pattern.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

from . import markers, people_msgs, skeleton_msgs

FrameBuilder = Callable[[Any, Sequence, dict], Any]


@dataclass(frozen=True)
class Output:
    """One output topic of the node."""

    key: str
    topic: str  # relative to the parameter output_namespace, or absolute when it starts with "/"
    msgtype: str  # pkg/msg/Type
    description: str
    builder: Callable[[], FrameBuilder] | None = None  # None: not built per frame
    per_person: bool = False  # one topic per person: the builder returns {track_id: message}


def _markers() -> FrameBuilder:
    cache = markers.MarkerBuilder()
    return lambda header, people, values: cache.build(header, people, float(values["marker_lifetime_s"]))


def _skeletons() -> FrameBuilder:
    return lambda header, people, _values: skeleton_msgs.skeleton_cloud(header, people)


def _poses() -> FrameBuilder:
    return lambda header, people, _values: skeleton_msgs.pose_array(header, people)


def _people() -> FrameBuilder:
    return people_msgs.people_cloud


def _tracked() -> FrameBuilder:
    return lambda _header, people, _values: people_msgs.tracked_ids(people)


def _placed(people: Sequence) -> list:
    return [p for p in people if getattr(p, "state", None) is not None]


def _body_roi() -> FrameBuilder:
    return lambda _header, people, _values: {int(p.track_id): people_msgs.body_roi(p) for p in _placed(people)}


def _body_position() -> FrameBuilder:
    return lambda header, people, values: {
        int(p.track_id): people_msgs.body_position(header, p, values) for p in _placed(people)
    }


def _body_velocity() -> FrameBuilder:
    return lambda header, people, values: {
        int(p.track_id): people_msgs.body_velocity(header, p, values) for p in _placed(people)
    }


OUTPUTS: tuple[Output, ...] = (
    Output("markers", "markers", "visualization_msgs/msg/MarkerArray",
           "RViz: per person a namespace, a sphere per joint, a LINE_LIST of bones", _markers),
    Output("skeletons", "skeletons", "sensor_msgs/msg/PointCloud2",
           "the machine-readable skeletons: one point per joint with person, track id, confidence", _skeletons),
    Output("poses", "poses", "geometry_msgs/msg/PoseArray", "every joint as a pose, person-major", _poses),
    Output("people", "people", "sensor_msgs/msg/PointCloud2",
           "one point per person: position (base_frame and optical), velocity, heading, head yaw, covariance",
           _people),
    Output("tracked", "{bodies}/tracked", "std_msgs/msg/Int32MultiArray", "the track ids of the frame", _tracked),
    Output("body_roi", "roi", "sensor_msgs/msg/RegionOfInterest", "per person: the box in the image (pixels)",
           _body_roi, per_person=True),
    Output("body_position", "position", "geometry_msgs/msg/PoseWithCovarianceStamped",
           "per person: the pelvis, oriented by the heading, with covariance", _body_position, per_person=True),
    Output("body_velocity", "velocity", "geometry_msgs/msg/TwistStamped", "per person: the walking velocity",
           _body_velocity, per_person=True),
    Output("diagnostics", "/diagnostics", "diagnostic_msgs/msg/DiagnosticArray",
           "rates, counts, per-stage latency, backend, status"),
)
OUTPUT_BY_KEY = {o.key: o for o in OUTPUTS}
FRAME_OUTPUTS = tuple(o for o in OUTPUTS if o.builder is not None)


def body_name(track_id: int) -> str:
    """The REP-155-style body id of a track (a topic token must not start with a digit): ``b<track_id>``."""
    return f"b{int(track_id)}"


def topic_name(output: Output, values: dict[str, Any], absolute: bool = True, track_id: int | None = None) -> str:
    """The topic of ``output`` for parameter ``values``: absolute, or as the node declares it (relative
    to its namespace) with ``absolute=False``. A per-person output's topic is that of ``track_id``, or the
    pattern with ``*`` for the body id when ``track_id`` is None."""
    topic = output.topic
    if output.per_person:
        topic = "{bodies}/" + (body_name(track_id) if track_id is not None else "*") + "/" + topic
    if "{bodies}" in topic:
        bodies = str(values.get("body_topics.namespace", "/humans/bodies")).rstrip("/")
        topic = topic.replace("{bodies}", bodies)
    if topic.startswith("/"):
        return topic
    if "{bodies}" in output.topic or output.per_person:  # a relative body namespace: relative to the node's
        return "/" + topic if absolute else topic
    ns = str(values["output_namespace"]).strip("/")
    name = f"{ns}/{topic}" if ns else topic
    return "/" + name if absolute else name


def output_topics(values: dict[str, Any]) -> dict[str, str]:
    """Output key -> absolute topic name the node uses for parameter ``values``."""
    return {o.key: topic_name(o, values) for o in OUTPUTS}


def frame_builders() -> dict[str, FrameBuilder]:
    """A fresh per-frame builder for every frame output (keep them for a stream)."""
    return {o.key: o.builder() for o in FRAME_OUTPUTS}


def frame_messages(
    builders: dict[str, FrameBuilder], header, people: Sequence, values: dict[str, Any]
) -> dict[str, Any]:
    """Output key -> the message of this frame, for every frame output ({track_id: message} for a
    per-person output)."""
    return {key: build(header, people, values) for key, build in builders.items()}


def topic_messages(messages: dict[str, Any], values: dict[str, Any]) -> list[tuple[str, Any]]:
    """``frame_messages``' result as (absolute topic, message) pairs, per-person outputs one per person."""
    out = []
    for key, msg in messages.items():
        o = OUTPUT_BY_KEY[key]
        if o.per_person:
            out += [(topic_name(o, values, track_id=tid), m) for tid, m in msg.items()]
        else:
            out.append((topic_name(o, values), msg))
    return out
