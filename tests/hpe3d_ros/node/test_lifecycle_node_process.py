"""lift_lifecycle_node as a real process, driven through its lifecycle services (lifecycle_msgs ChangeState and
GetState) from this test's rclpy client: unconfigured -> configure -> activate -> deactivate -> activate ->
deactivate -> cleanup -> shutdown, with what exists in each state checked over DDS (publishers, subscriptions,
outputs for a published frame)."""
from __future__ import annotations

import time

import pytest

from hpe3d_ros import camera
from hpe3d_ros.ros_convert import camera_info_msg, image_msg

from .ros_harness import Client, environment, first_people_frame, isolated_ros_env, start_node, stop_node, tiny_model

FRAME_ID = "lifecycle_test_optical_frame"


@pytest.fixture(scope="module")
def frame():
    return first_people_frame()


class Lifecycle:
    """Service clients of /lift_node's lifecycle interface."""

    def __init__(self, client: Client, env: dict):
        from lifecycle_msgs.srv import ChangeState, GetState

        with environment(env):
            self.change = client.node.create_client(ChangeState, "/lift_node/change_state")
            self.get = client.node.create_client(GetState, "/lift_node/get_state")
        self.client = client
        # A server can answer before it has discovered the client's response reader, and that answer is lost
        # (Fast DDS: "failed to send response"). Calls without side effects, repeated until answered, make sure
        # both response paths are matched before a transition is requested.
        self._call(self.get, GetState.Request(), retries=12)
        no_such = ChangeState.Request()
        no_such.transition.label = "no_such_transition"
        assert not self._call(self.change, no_such, retries=12).success

    def _call(self, cli, request, timeout: float = 120.0, retries: int = 1):
        assert self.client.spin_until(lambda: cli.service_is_ready(), 60.0), f"{cli.srv_name} not available"
        for _ in range(retries):
            future = cli.call_async(request)
            if self.client.spin_until(future.done, timeout if retries == 1 else 10.0):
                return future.result()
        raise AssertionError(f"{cli.srv_name}: no answer")

    def state(self) -> str:
        from lifecycle_msgs.srv import GetState

        return self._call(self.get, GetState.Request()).current_state.label

    def transition(self, label: str) -> bool:
        from lifecycle_msgs.srv import ChangeState

        req = ChangeState.Request()
        req.transition.label = label
        return bool(self._call(self.change, req).success)


def _frame_answered(client: Client, rgb, timeout: float) -> bool:
    h, w = rgb.shape[:2]
    stamp = time.time_ns()
    client.info_pub.publish(camera_info_msg(camera.intrinsics_from_fov(w, h, 65.0), w, h, stamp, FRAME_ID))
    client.spin_for(0.05)
    client.image_pub.publish(image_msg(rgb, stamp, FRAME_ID))
    return client.spin_until(lambda: bool(client.skeletons_with_stamp(stamp)), timeout)


def test_configure_activate_deactivate_cleanup(tmp_path, frame):
    env = isolated_ros_env(tmp_path / "ros_logs")
    log = tmp_path / "lift_lifecycle_node.log"
    proc = start_node(env, f"model_file_path:={tiny_model(tmp_path)}", "backend:=onnxruntime",
                      "status_log_period_s:=0.0", log=log, module="hpe3d_ros.node.lifecycle_node")
    client = Client(env)
    node = client.node
    try:
        lc = Lifecycle(client, env)
        assert lc.state() == "unconfigured"
        # unconfigured: parameters only; no models, no publishers, no subscriptions
        assert node.count_publishers("/hpe3d/skeletons") == 0 and node.count_subscribers("/image") == 0

        assert lc.transition("configure") and lc.state() == "inactive"
        assert client.spin_until(lambda: node.count_publishers("/hpe3d/skeletons") == 1, 10.0)
        assert node.count_subscribers("/image") == 0
        assert client.spin_until(lambda: bool(client.received["diagnostics"]), 10.0)  # it reports while inactive
        assert not _frame_answered(client, frame, 3.0), "an inactive node must not process images"

        for _ in range(2):  # activate twice: deactivating keeps the models, re-activating subscribes again
            assert lc.transition("activate") and lc.state() == "active"
            assert client.spin_until(lambda: node.count_subscribers("/image") == 1, 10.0)
            assert client.spin_until(lambda: client.image_pub.get_subscription_count() > 0, 10.0)
            assert _frame_answered(client, frame, 60.0), "no skeletons from the active node"
            assert lc.transition("deactivate") and lc.state() == "inactive"
            assert client.spin_until(lambda: node.count_subscribers("/image") == 0, 10.0)
            assert node.count_publishers("/hpe3d/skeletons") == 1
            assert not _frame_answered(client, frame, 3.0), "a deactivated node must not process images"

        assert lc.transition("cleanup") and lc.state() == "unconfigured"
        assert client.spin_until(lambda: node.count_publishers("/hpe3d/skeletons") == 0, 10.0)
        assert node.count_subscribers("/image") == 0
        assert not lc.transition("activate"), "activate from unconfigured is not a transition"
        # configure again after cleanup (models reloaded), then shut down from inactive
        assert lc.transition("configure") and lc.state() == "inactive"
        assert lc.transition("shutdown") and lc.state() == "finalized"
        assert proc.poll() is None, "the process stays up in finalized until it is stopped"
    finally:
        client.close()
        code = stop_node(proc)
        print(log.read_text()[-4000:])
    assert code in (0, -2, 130), f"lift_lifecycle_node exited with {code}"
    text = log.read_text()
    for step in ("configure: done", "activate: done", "deactivate: done", "cleanup: done", "shutdown: done"):
        assert step in text, step


def test_a_model_that_fails_to_load_fails_configure_and_the_node_stays_up(tmp_path):
    env = isolated_ros_env(tmp_path / "ros_logs")
    log = tmp_path / "lift_lifecycle_node.log"
    proc = start_node(env, f"model_file_path:={tmp_path / 'missing.onnx'}", "status_log_period_s:=0.0", log=log,
                      module="hpe3d_ros.node.lifecycle_node")
    client = Client(env)
    try:
        lc = Lifecycle(client, env)
        assert lc.state() == "unconfigured"
        assert not lc.transition("configure")
        assert lc.state() == "unconfigured" and proc.poll() is None
    finally:
        client.close()
        stop_node(proc)
    assert "configure failed: FileNotFoundError" in log.read_text()
