"""Per-person publishers on a real rclpy node: made when a person appears, at most max_bodies at a time,
destroyed after the timeout."""
from __future__ import annotations

import pytest
from sensor_msgs.msg import RegionOfInterest

from hpe3d_ros.node.body_topics import PER_PERSON, BodyPublishers
from hpe3d_ros.node.params import PARAMS

from .ros_harness import environment, isolated_ros_env


@pytest.fixture()
def node(tmp_path):
    import rclpy

    with environment(isolated_ros_env(tmp_path / "ros_logs")):
        ctx = rclpy.Context()
        rclpy.init(context=ctx)
        n = rclpy.create_node("body_topics_test", context=ctx)
    yield n
    n.destroy_node()
    rclpy.shutdown(context=ctx)



def _count(node, tid: int) -> int:
    return sum(node.count_publishers(f"/humans/bodies/b{tid}/{leaf}") for leaf in ("roi", "position", "velocity"))


def test_publishers_come_and_go_with_the_people_within_the_cap(node):
    values = {**{p.name: p.default for p in PARAMS}, "body_topics.max_bodies": 2, "body_topics.timeout_s": 1.0}
    bodies = BodyPublishers(node, values, 5)

    def frame(ids):  # only the per-person keys matter; any message of the right type per key
        from geometry_msgs.msg import PoseWithCovarianceStamped, TwistStamped

        types = {"body_roi": RegionOfInterest, "body_position": PoseWithCovarianceStamped,
                 "body_velocity": TwistStamped}
        return {o.key: {t: types[o.key]() for t in ids} for o in PER_PERSON}

    bodies.publish(frame([1, 2, 3]), now=0.0)  # three people, room for two
    assert sorted(bodies.bodies) == [1, 2] and bodies.skipped == 1
    assert _count(node, 1) == 3 and _count(node, 3) == 0
    bodies.publish(frame([2, 3]), now=0.5)  # 1 is gone: 3 takes its place
    assert sorted(bodies.bodies) == [2, 3] and _count(node, 1) == 0 and _count(node, 3) == 3
    bodies.publish(frame([3]), now=1.6)  # 2 unseen for more than the timeout
    assert sorted(bodies.bodies) == [3] and bodies.destroyed == 2
    bodies.close()
    assert not bodies.bodies and _count(node, 3) == 0
    off = BodyPublishers(node, {**values, "body_topics.enabled": False}, 5)
    off.publish(frame([7]), now=0.0)
    assert not off.bodies and _count(node, 7) == 0
