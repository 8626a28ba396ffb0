"""Parameters of the scene stage (camera mounting, running elevation, ground placement, per-track
kinematics), rclpy-free: the node declares them as ``camera_mount.*``, ``elevation.*``, ``placement.*``
and ``tracking.*`` (``hpe3d_ros.node.params``), the replay reads them from the node's parameter file,
docs/node.md's table is generated from the field metadata.

The mounting has ONE source of truth, the camera's pose in the base frame (``camera_mount.x .. yaw``);
``camera_mount.mode`` says how much of it is known (docs/placement.md "Frames"):

- ``none``: nothing; the camera's elevation is the lifter's (a running estimate over frames), its height
  is unknown, so people are placed by the body-height prior alone;
- ``height``: the camera's height above the ground (``z - ground_z``), ``x, y``, ``roll`` and ``yaw``
  are known; its pitch is the running elevation estimate (the ``pitch`` parameter is not used);
- ``full``: the whole pose is known (a mounted camera, e.g. in a car): its pitch overrides the
  lifter's elevation prediction, and the ground plane is known.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

MOUNT_MODES = ("none", "height", "full")


def _p(description: str, range: tuple | None = None, choices: tuple = ()) -> dict:
    return {"description": description, "range": range, "choices": choices, "read_only": False}


@dataclass(frozen=True)
class MountParams:
    """The camera's pose in the base frame (REP-103/105: x forward, y left, z up; metres, radians)."""

    mode: str = field(default="none", metadata=_p(
        "what is known of the camera's mounting: none (elevation from the lifter, height unknown), height (height, "
        "x, y, roll, yaw known; pitch estimated) or full (the whole pose: its pitch overrides the lifter's)",
        choices=MOUNT_MODES))
    x: float = field(default=0.0, metadata=_p("camera position in base_frame, x (forward), metres", (-100.0, 100.0)))
    y: float = field(default=0.0, metadata=_p("camera position in base_frame, y (left), metres", (-100.0, 100.0)))
    z: float = field(default=1.2, metadata=_p("camera position in base_frame, z (up), metres", (-100.0, 100.0)))
    roll: float = field(default=0.0, metadata=_p(
        "camera roll about its forward axis (radians, REP-103 fixed-axis roll-pitch-yaw of the camera's body frame "
        "x forward / y left / z up in base_frame)", (-0.5, 0.5)))
    pitch: float = field(default=0.0, metadata=_p(
        "camera pitch (radians, positive = looking down): with mode full, the camera's elevation", (-1.2, 1.2)))
    yaw: float = field(default=0.0, metadata=_p("camera yaw about base_frame's z (radians)", (-3.1416, 3.1416)))
    ground_z: float = field(default=0.0, metadata=_p(
        "z of the ground plane in base_frame (0: base_frame lies on the ground, like base_footprint)",
        (-100.0, 100.0)))
    pitch_std_deg: float = field(default=0.5, metadata=_p(
        "uncertainty (1 sigma, degrees) of the given pitch, for the ground-plane placement's covariance "
        "(mode full)", (0.0, 20.0)))


@dataclass(frozen=True)
class ElevationParams:
    """The running estimate of the camera's elevation over frames (modes none and height)."""

    time_constant_s: float = field(default=5.0, metadata=_p(
        "time constant (seconds) of the running camera-elevation estimate over frames (a static camera); "
        "0 = each frame's pooled estimate alone", (0.0, 3600.0)))
    outlier_deg: float = field(default=8.0, metadata=_p(
        "a frame whose pooled elevation is further than this (degrees) from the running estimate is an outlier "
        "and does not move it", (0.5, 90.0)))
    jump_frames: int = field(default=15, metadata=_p(
        "this many outlier frames in a row are a persistent jump (the camera moved): the estimate restarts from "
        "them", (1, 100000)))
    bias_std_deg: float = field(default=5.0, metadata=_p(
        "systematic uncertainty (1 sigma, degrees) of the lifter's elevation, for the ground-plane placement's "
        "covariance (mode height)", (0.0, 45.0)))
    from_people: bool = field(default=False, metadata=_p(
        "mode none, for a STATIC camera only: once people standing at different distances determine it, the "
        "elevation that makes their image heights fit one ground plane (scene/horizon.py, lifter-free) replaces the "
        "lifter's running estimate. Keep false for a camera that tilts (a robot head following people: a camera "
        "aimed at each person looks level to it)"))
    people_window: int = field(default=600, metadata=_p(
        "mode none, from_people: the last this many standing people (observations) make the estimate", (10, 100000)))
    people_min: int = field(default=60, metadata=_p(
        "mode none, from_people: observations needed before the people's elevation is used", (3, 100000)))


@dataclass(frozen=True)
class PlacementParams:
    """Ground-plane placement fused with the body-height prior (docs/placement.md)."""

    height_prior_rel_std: float = field(default=0.10, metadata=_p(
        "relative uncertainty (1 sigma) of a distance from the body-height prior: people's statures (about 5 %) "
        "and the lifter's scale under a detector's 2D noise", (0.001, 1.0)))
    foot_pixel_std_ratio: float = field(default=0.03, metadata=_p(
        "2D uncertainty (1 sigma) of a foot point, as a fraction of the person's height in the image",
        (0.0, 0.5)))
    ankle_height_ratio: float = field(default=0.039, metadata=_p(
        "height of the ankle joint above the ground over the person's stature (0.039: the malleolus, "
        "anthropometric tables)", (0.0, 0.2)))
    ground_std_m: float = field(default=0.05, metadata=_p(
        "uncertainty (1 sigma, metres) of the foot's height above the ground plane: ground flatness, the "
        "stance foot's lift", (0.0, 2.0)))
    gate_chi2: float = field(default=6.63, metadata=_p(
        "gate of the ground-plane estimate against the height prior (chi-square, 1 dof; 6.63 = 99 %): beyond it "
        "the feet are taken as not on the plane and the prior alone is used", (0.1, 1000.0)))
    min_foot_score: float = field(default=0.3, metadata=_p(
        "a foot point (ankle) below this 2D confidence is not used", (0.0, 1.0)))


@dataclass(frozen=True)
class TrackingParams:
    """Per-track heading, walking velocity and head yaw (docs/placement.md "Per track")."""

    acceleration_std: float = field(default=0.5, metadata=_p(
        "process noise of the constant-velocity Kalman filter on ground positions: white acceleration "
        "(1 sigma, m/s^2)", (0.01, 50.0)))
    max_gap_s: float = field(default=1.0, metadata=_p(
        "a track unseen this long (seconds) starts its filters afresh", (0.01, 60.0)))
    heading_time_constant_s: float = field(default=0.3, metadata=_p(
        "time constant (seconds) of the per-track heading smoothing (0 = none)", (0.0, 60.0)))
    looking_max_deg: float = field(default=20.0, metadata=_p(
        "a person whose head yaw relative to the camera is within this (degrees) looks at the camera",
        (1.0, 90.0)))


GROUPS: tuple[tuple[str, type], ...] = (
    ("camera_mount.", MountParams),
    ("elevation.", ElevationParams),
    ("placement.", PlacementParams),
    ("tracking.", TrackingParams),
)
PREFIXES = tuple(prefix for prefix, _ in GROUPS)


@dataclass(frozen=True)
class SceneParams:
    """All of the scene stage's parameters."""

    mount: MountParams = field(default_factory=MountParams)
    elevation: ElevationParams = field(default_factory=ElevationParams)
    placement: PlacementParams = field(default_factory=PlacementParams)
    tracking: TrackingParams = field(default_factory=TrackingParams)

    @classmethod
    def from_flat(cls, values: dict[str, Any]) -> "SceneParams":
        """From node parameter values (``camera_mount.z`` ...; other names are ignored, missing ones default)."""
        parts = []
        for prefix, kind in GROUPS:
            names = {f.name for f in fields(kind)}
            parts.append(kind(**{k[len(prefix):]: v for k, v in values.items()
                                 if k.startswith(prefix) and k[len(prefix):] in names}))
        out = cls(*parts)
        problem = out.problem()
        if problem:
            raise ValueError(problem)
        return out

    def to_flat(self) -> dict[str, Any]:
        """Node parameter name -> value."""
        out: dict[str, Any] = {}
        for (prefix, _), part in zip(GROUPS, (self.mount, self.elevation, self.placement, self.tracking)):
            out.update({prefix + k: v for k, v in asdict(part).items()})
        return out

    def problem(self) -> str:
        """'' or what is inconsistent (a mode the values contradict)."""
        m = self.mount
        if m.mode not in MOUNT_MODES:
            return f"camera_mount.mode = {m.mode!r}; expected one of {', '.join(MOUNT_MODES)}"
        if m.mode in ("height", "full") and not m.z - m.ground_z > 0.05:
            return (f"camera_mount.z - camera_mount.ground_z = {m.z - m.ground_z:.3f} m: the camera must be above "
                    "the ground (by more than 5 cm) for mode " + m.mode)
        return ""


def check_scene_values(values: dict[str, Any], base_frame: str = "") -> str:
    """'' or what makes these node parameter values an inconsistent scene (cross-parameter checks)."""
    try:
        p = SceneParams.from_flat(values)
    except (TypeError, ValueError) as e:
        return str(e)
    if base_frame and p.mount.mode == "none":
        return (f"base_frame = {base_frame!r} needs the camera's pose in it: set camera_mount.mode to height or "
                "full and camera_mount.x .. yaw")
    return ""
