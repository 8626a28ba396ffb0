"""The scene stage after the lift: camera mounting and elevation, ground-plane placement, per-track
heading, velocity and head yaw (docs/placement.md). ROS-free."""
from .params import SceneParams
from .stage import PersonState, Scene

__all__ = ["PersonState", "Scene", "SceneParams"]
