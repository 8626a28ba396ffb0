"""The node's output table: one list of topics, types and builders for the node, the replay and the demo."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from hpe3d_ros.node.outputs import (
    FRAME_OUTPUTS,
    OUTPUT_BY_KEY,
    OUTPUTS,
    frame_builders,
    frame_messages,
    output_topics,
    topic_messages,
    topic_name,
)
from hpe3d_ros.node.params import PARAMS
from hpe3d_ros.pipeline import Person3D
from hpe3d_ros.replay.bag_io import ros_type_name
from hpe3d_ros.ros_convert import message_class

REPO = Path(__file__).resolve().parents[3]
DEFAULTS = {p.name: p.default for p in PARAMS}


def _person(track_id: int) -> Person3D:
    joints = np.random.default_rng(track_id).normal(0, 0.3, (16, 3)) + [0, 0, 3]
    return Person3D(track_id, joints, joints, np.full(16, 0.8), -5.0, 0.1)


def _placed(people: list[Person3D]) -> list[Person3D]:
    from hpe3d_ros.camera import intrinsics_from_fov
    from hpe3d_ros.scene import Scene

    for p in people:
        p.keypoints_px = np.random.default_rng(p.track_id).uniform(100, 400, (16, 2))
    Scene().update(people, intrinsics_from_fov(640, 480, 60.0), 1_000, (640, 480), 1.7)
    return people


def test_topics_are_unique_and_follow_the_namespace():
    names = output_topics(DEFAULTS)
    assert names == {"markers": "/hpe3d/markers", "skeletons": "/hpe3d/skeletons", "poses": "/hpe3d/poses",
                     "people": "/hpe3d/people", "tracked": "/humans/bodies/tracked",
                     "body_roi": "/humans/bodies/*/roi", "body_position": "/humans/bodies/*/position",
                     "body_velocity": "/humans/bodies/*/velocity", "diagnostics": "/diagnostics"}
    assert len(set(names.values())) == len(OUTPUTS)
    robot = output_topics({**DEFAULTS, "output_namespace": "/robot/humans/", "body_topics.namespace": "/robot/b"})
    assert robot["skeletons"] == "/robot/humans/skeletons" and robot["diagnostics"] == "/diagnostics"
    assert robot["tracked"] == "/robot/b/tracked" and robot["body_roi"] == "/robot/b/*/roi"
    assert output_topics({**DEFAULTS, "output_namespace": ""})["poses"] == "/poses"
    assert [topic_name(o, DEFAULTS, absolute=False) for o in OUTPUTS if not o.per_person] == [
        "hpe3d/markers", "hpe3d/skeletons", "hpe3d/poses", "hpe3d/people", "/humans/bodies/tracked", "/diagnostics"]
    pos = OUTPUT_BY_KEY["body_position"]
    assert topic_name(pos, DEFAULTS, track_id=12) == "/humans/bodies/b12/position"


def test_every_frame_builder_makes_its_declared_type_with_the_header():
    from std_msgs.msg import Header

    header = Header()
    header.frame_id = "cam"
    header.stamp.sec = 7
    builders = frame_builders()
    assert set(builders) == {o.key for o in FRAME_OUTPUTS} == {"markers", "skeletons", "poses", "people", "tracked",
                                                                "body_roi", "body_position", "body_velocity"}
    for people in (_placed([_person(1), _person(4)]), [], [_person(2)]):
        msgs = frame_messages(builders, header, people, DEFAULTS)
        for o in FRAME_OUTPUTS:
            per = msgs[o.key] if o.per_person else {None: msgs[o.key]}
            if o.per_person:  # one message per person with a scene state
                assert set(per) == {p.track_id for p in people if p.state is not None}
            for msg in per.values():
                assert isinstance(msg, message_class(o.msgtype)) and ros_type_name(msg) == o.msgtype
        topics = [t for t, _ in topic_messages(msgs, DEFAULTS)]
        assert len(topics) == len(set(topics))
    one = frame_messages(builders, header, [_person(1)], DEFAULTS)
    assert len(one["markers"].markers) == 17 and len(one["poses"].poses) == 16  # no scene state: no arrows
    assert "/humans/bodies/b4/velocity" in dict(topic_messages(frame_messages(builders, header, _placed(
        [_person(4)]), DEFAULTS), DEFAULTS))


def test_docs_list_every_output():
    text = (REPO / "docs" / "node.md").read_text()
    for o in OUTPUTS:
        row = f"| out | `{topic_name(o, DEFAULTS, absolute=False)}` | {o.msgtype.replace('/msg/', '/')}"
        assert row in text, row


def test_the_demo_records_every_output():
    from hpe3d_ros.replay.demo import CAMERA_TOPICS, recorded_topics

    rec = recorded_topics(DEFAULTS)
    assert rec[: len(CAMERA_TOPICS)] == list(CAMERA_TOPICS)
    assert rec[len(CAMERA_TOPICS):] == [(output_topics(DEFAULTS)[o.key], o.msgtype) for o in OUTPUTS]
