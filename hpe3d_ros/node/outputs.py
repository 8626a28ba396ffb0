"""The node's outputs, listed once: topic, message type and builder of each. lift_node publishes them,
the replay writes them into its output bag, the demo records them (docs/node.md describes them).

A frame output has a ``builder``: a factory of the per-frame function ``(header, people, values) ->
message`` (a factory, so a builder may keep state such as reusable marker objects); ``people`` are the
frame's ``pipeline.Person3D``, ``values`` the node's parameter values. Diagnostics have none: they are
periodic (hpe3d_ros.node.diagnostics). Adding an output format: its builder module and one entry here.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

from . import markers, skeleton_msgs

FrameBuilder = Callable[[Any, Sequence, dict], Any]


@dataclass(frozen=True)
class Output:
    """One output topic of the node."""

    key: str
    topic: str  # relative to the parameter output_namespace, or absolute when it starts with "/"
    msgtype: str  # pkg/msg/Type
    description: str
    builder: Callable[[], FrameBuilder] | None = None  # None: not built per frame


def _markers() -> FrameBuilder:
    cache = markers.MarkerBuilder()
    return lambda header, people, values: cache.build(header, people, float(values["marker_lifetime_s"]))


def _skeletons() -> FrameBuilder:
    return lambda header, people, _values: skeleton_msgs.skeleton_cloud(header, people)


def _poses() -> FrameBuilder:
    return lambda header, people, _values: skeleton_msgs.pose_array(header, people)


OUTPUTS: tuple[Output, ...] = (
    Output("markers", "markers", "visualization_msgs/msg/MarkerArray",
           "RViz: per person a namespace, a sphere per joint, a LINE_LIST of bones", _markers),
    Output("skeletons", "skeletons", "sensor_msgs/msg/PointCloud2",
           "the machine-readable skeletons: one point per joint with person, track id, confidence", _skeletons),
    Output("poses", "poses", "geometry_msgs/msg/PoseArray", "every joint as a pose, person-major", _poses),
    Output("diagnostics", "/diagnostics", "diagnostic_msgs/msg/DiagnosticArray",
           "rates, counts, per-stage latency, backend, status"),
)
OUTPUT_BY_KEY = {o.key: o for o in OUTPUTS}
FRAME_OUTPUTS = tuple(o for o in OUTPUTS if o.builder is not None)


def topic_name(output: Output, values: dict[str, Any], absolute: bool = True) -> str:
    """The topic of ``output`` for parameter ``values``: absolute, or as the node declares it (relative
    to its namespace) with ``absolute=False``."""
    if output.topic.startswith("/"):
        return output.topic
    ns = str(values["output_namespace"]).strip("/")
    name = f"{ns}/{output.topic}" if ns else output.topic
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
    """Output key -> the message of this frame, for every frame output."""
    return {key: build(header, people, values) for key, build in builders.items()}
