"""lift_lifecycle_node: lift_node as a managed (lifecycle) node, so a stack can start and stop perception.

Run: ``lift_lifecycle_node --ros-args --params-file config/lift.yaml`` (or ``ros2 launch hpe3d_ros
lift.launch.py lifecycle:=true``), then drive it through its lifecycle services
``/lift_node/change_state`` and ``/lift_node/get_state`` (lifecycle_msgs), e.g.
``ros2 lifecycle set /lift_node configure`` then ``activate``.

Transitions (the same parameters, topics and behaviour as lift_node; docs/node.md "Lifecycle"):

- constructed (unconfigured): parameters declared and checked, nothing loaded;
- ``configure``: the 2D detector and the lifter are loaded, the output publishers, the diagnostics
  timer and the ``~/reset_elevation`` service made (a model that fails to load fails the transition
  with its error in the log, and the node stays unconfigured);
- ``activate``: the image and CameraInfo subscriptions and the worker thread start;
- ``deactivate``: the worker finishes its frame and stops, the subscriptions are destroyed (the
  models stay loaded: activating again is immediate);
- ``cleanup``: the models are freed, the publishers, timer and service destroyed;
- ``shutdown``: whatever is up is taken down.
"""
from __future__ import annotations

import traceback

from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn

from .lift_node import LiftCore, run
from .params import NODE_NAME


class LiftLifecycleNode(LiftCore, LifecycleNode):
    """lift_node with the lifecycle transitions of the module docstring."""

    def __init__(self, **node_kwargs):
        LifecycleNode.__init__(self, NODE_NAME, **node_kwargs)
        self._declare()
        self.configured = False

    def _transition(self, name: str, step) -> TransitionCallbackReturn:
        try:
            step()
        except Exception as e:  # noqa: BLE001 - a failed transition is reported, the node stays up
            self.get_logger().error(f"{name} failed: {type(e).__name__}: {e}")
            self.get_logger().debug(traceback.format_exc())
            return TransitionCallbackReturn.FAILURE
        self.get_logger().info(f"{name}: done")
        return TransitionCallbackReturn.SUCCESS

    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:  # noqa: ARG002 - rclpy API
        def configure():
            self._load()
            self.configured = True

        return self._transition("configure", configure)

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        ret = self._transition("activate", self._subscribe)
        return super().on_activate(state) if ret == TransitionCallbackReturn.SUCCESS else ret

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        ret = self._transition("deactivate", self._unsubscribe)
        return super().on_deactivate(state) if ret == TransitionCallbackReturn.SUCCESS else ret

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:  # noqa: ARG002 - rclpy API
        def cleanup():
            self._unload()
            self.configured = False

        return self._transition("cleanup", cleanup)

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:  # noqa: ARG002 - rclpy API
        def shutdown():
            self._unsubscribe()
            if self.configured:
                self._unload()
                self.configured = False

        return self._transition("shutdown", shutdown)


def main(args: list[str] | None = None) -> int:
    """Entry point ``lift_lifecycle_node``."""
    return run(LiftLifecycleNode, "lift_lifecycle_node", args)


if __name__ == "__main__":
    import sys

    sys.exit(main())
