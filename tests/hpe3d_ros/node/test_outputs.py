"""The node's output table: one list of topics, types and builders for the node, the replay and the demo."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from hpe3d_ros.node.outputs import FRAME_OUTPUTS, OUTPUTS, frame_builders, frame_messages, output_topics, topic_name
from hpe3d_ros.node.params import PARAMS
from hpe3d_ros.pipeline import Person3D
from hpe3d_ros.replay.bag_io import ros_type_name
from hpe3d_ros.ros_convert import message_class

REPO = Path(__file__).resolve().parents[3]
DEFAULTS = {p.name: p.default for p in PARAMS}


def _person(track_id: int) -> Person3D:
    joints = np.random.default_rng(track_id).normal(0, 0.3, (16, 3)) + [0, 0, 3]
    return Person3D(track_id, joints, joints, np.full(16, 0.8), -5.0, 0.1)


def test_topics_are_unique_and_follow_the_namespace():
    names = output_topics(DEFAULTS)
    assert names == {"markers": "/hpe3d/markers", "skeletons": "/hpe3d/skeletons", "poses": "/hpe3d/poses",
                     "diagnostics": "/diagnostics"}
    assert len(set(names.values())) == len(OUTPUTS)
    robot = output_topics({**DEFAULTS, "output_namespace": "/robot/humans/"})
    assert robot["skeletons"] == "/robot/humans/skeletons" and robot["diagnostics"] == "/diagnostics"
    assert output_topics({**DEFAULTS, "output_namespace": ""})["poses"] == "/poses"
    assert [topic_name(o, DEFAULTS, absolute=False) for o in OUTPUTS] == ["hpe3d/markers", "hpe3d/skeletons",
                                                                          "hpe3d/poses", "/diagnostics"]


def test_every_frame_builder_makes_its_declared_type_with_the_header():
    from std_msgs.msg import Header

    header = Header()
    header.frame_id = "cam"
    header.stamp.sec = 7
    builders = frame_builders()
    assert set(builders) == {o.key for o in FRAME_OUTPUTS} == {"markers", "skeletons", "poses"}
    for people in ([_person(1), _person(4)], []):
        msgs = frame_messages(builders, header, people, DEFAULTS)
        for o in FRAME_OUTPUTS:
            msg = msgs[o.key]
            assert isinstance(msg, message_class(o.msgtype)) and ros_type_name(msg) == o.msgtype
    assert len(frame_messages(builders, header, [_person(1)], DEFAULTS)["markers"].markers) == 17
    assert len(frame_messages(builders, header, [_person(1)], DEFAULTS)["poses"].poses) == 16


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
