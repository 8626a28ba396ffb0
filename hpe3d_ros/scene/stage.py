"""The scene stage: after the lift, per camera stream, for every person of a frame (docs/placement.md).

``Scene.update(result, image_size, body_height_m)`` runs after ``PosePipeline``'s lift and changes the
frame's people in place:

1. elevation: the mount's pitch (``camera_mount.mode: full``); with a known height (``height``) the
   running estimate of the pitch that puts people's feet on the ground plane (``placement.
   elevation_residual``, once ``MIN_GROUND_FRAMES`` frames gave one); with nothing known (``none``) the
   elevation that makes the standing people's image heights fit one ground plane (``horizon.
   PeopleHorizon``, ``elevation.from_people``) once they determine it, before that the running estimate
   over frames of the lifter's pooled elevation (``elevation.*``); every upright skeleton is re-made with it;
2. placement: ground plane fused with the body-height prior (``placement.*``); the skeleton is scaled
   about the camera centre by the fused factor (its projection is unchanged), so the skeleton topics
   carry the placed people too;
3. per track: heading, velocity (``tracking.*``) and head yaw, in the ground frame.

Each person gets a ``PersonState`` (``Person3D.state``) that the output builders and the replay's
report read.
"""
from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field

import numpy as np

from .. import camera, skeleton
from .elevation import RunningElevation
from .head_yaw import UNKNOWN, HeadYaw, head_yaw
from .horizon import PeopleHorizon
from .kinematics import Kinematics, body_heading
from .mount import Mount
from .params import SceneParams
from .placement import (
    NO_GROUND,
    Placement,
    elevation_residual,
    fuse,
    ground_scale,
    person_height_px,
    position_covariance,
)

ROOT = skeleton.ROOT
MIN_GROUND_FRAMES = 10  # frames with feet on the ground before their pitch replaces the lifter's elevation
# what averaging cannot remove: the crowd's mean size against the prior (statures, the lifter's scale bias)
GROUND_ELEVATION_FLOOR_RAD = math.radians(0.3)
# what the people's elevation cannot average away (roll, posture, people taller far away than near)
PEOPLE_ELEVATION_FLOOR_RAD = math.radians(0.5)
PEOPLE_REFIT_OBSERVATIONS = 20  # the people's elevation is re-fitted after this many new observations ...
PEOPLE_REFIT_MIN_S = 1.0  # ... and at most once in this many seconds (stamps): a fit costs a few ms


@dataclass
class PersonState:
    """What the scene stage knows about one person in one frame. "base" is the ground frame: the
    base frame when the mounting is known, else the camera's levelled frame (docs/placement.md)."""

    position_optical: np.ndarray  # (3,) the pelvis, metres, optical frame, after placement
    position_cov_optical: np.ndarray  # (3, 3)
    position_base: np.ndarray  # (3,)
    position_cov_base: np.ndarray  # (3, 3)
    prior_position_optical: np.ndarray  # (3,) the pelvis placed by the body-height prior alone
    ground_position_optical: np.ndarray  # (3,) by the ground plane alone (NaN without one)
    placement: Placement
    body_height_m: float  # the stature the placement implies (prior x scale)
    velocity_base: np.ndarray  # (3,) m/s, ground frame (z = 0: the filter runs on the ground)
    velocity_cov_base: np.ndarray  # (2, 2)
    velocity_optical: np.ndarray  # (3,)
    velocity_confidence: float
    heading: float  # radians about the ground frame's z, smoothed per track (NaN when unknown)
    heading_confidence: float
    heading_raw: float  # this frame's alone
    base_from_optical: np.ndarray = field(default_factory=lambda: np.eye(3))  # R_B_O of the frame's mount
    head: HeadYaw = field(default_factory=lambda: UNKNOWN)

    @property
    def heading_direction_optical(self) -> np.ndarray:
        """The heading as a unit vector in the optical frame (NaN when unknown)."""
        v = np.array([math.cos(self.heading), math.sin(self.heading), 0.0])
        return self.base_from_optical.T @ v

    @property
    def distance_m(self) -> float:
        return float(np.linalg.norm(self.position_optical))


class Scene:
    """The scene stage of one camera stream (state: the elevation estimate and the tracks' filters)."""

    def __init__(self, params: SceneParams | None = None):
        self.lock = threading.Lock()
        self.params = params or SceneParams()
        self._build()
        self.elevation: float | None = None  # the last frame's elevation (radians)
        self.elevation_source = ""  # "mount", "ground" or "lifter"
        self.mount: Mount | None = None

    def _build(self) -> None:
        e = self.params.elevation
        self.filter = RunningElevation(e.time_constant_s, math.radians(e.outlier_deg), e.jump_frames)
        self.ground_filter = RunningElevation(e.time_constant_s, math.radians(e.outlier_deg), e.jump_frames)
        self.horizon = PeopleHorizon(e.people_window, e.people_min, jump_rad=math.radians(e.outlier_deg))
        self._horizon_fit_ns: int | None = None
        self.kinematics = Kinematics(self.params.tracking)

    def configure(self, params: SceneParams) -> None:
        """New parameters (thread-safe): the elevation estimate and the tracks' filters restart."""
        with self.lock:
            self.params = params
            self._build()

    def reset_elevation(self) -> None:
        """Restart the running elevation estimate (the node's ``~/reset_elevation`` service)."""
        with self.lock:
            self.filter.reset()
            self.ground_filter.reset()
            self.horizon.reset()

    def _ground_ready(self) -> bool:
        return self.params.mount.mode == "height" and self.ground_filter.value is not None and \
            self.ground_filter.n >= MIN_GROUND_FRAMES

    def _people_ready(self) -> bool:
        return self.params.mount.mode == "none" and self.params.elevation.from_people and \
            self.horizon.value is not None

    def elevation_std(self) -> float:
        """1-sigma uncertainty (radians) of the elevation in use, bias included."""
        m, e = self.params.mount, self.params.elevation
        if m.mode == "full":
            return math.radians(m.pitch_std_deg)
        if self._ground_ready():
            return math.hypot(self.ground_filter.std, GROUND_ELEVATION_FLOOR_RAD)
        if self._people_ready():
            return math.hypot(self.horizon.std, PEOPLE_ELEVATION_FLOOR_RAD)
        return math.hypot(self.filter.std if self.filter.value is not None else math.inf, math.radians(e.bias_std_deg))

    def diagnostics_values(self) -> list[tuple[str, str]]:
        """Key/values for /diagnostics: the mounting mode, the elevation in use, its source and uncertainty."""
        with self.lock:
            e = self.elevation
            std = self.elevation_std() if e is not None else math.nan
            return [("camera_mount_mode", self.params.mount.mode),
                    ("camera_elevation_deg", f"{math.degrees(e):.2f}" if e is not None else "nan"),
                    ("camera_elevation_source", self.elevation_source or "none yet"),
                    ("camera_elevation_std_deg", f"{math.degrees(std):.2f}"),
                    ("elevation_resets", str(self.filter.resets + self.ground_filter.resets)),
                    ("elevation_people_observations", str(len(self.horizon.foot))),
                    ("tracks_filtered", str(len(self.kinematics.tracks)))]

    def update(self, people: list, k: np.ndarray, stamp_ns: int, image_size: tuple[int, int] | None,
               body_height_m: float) -> None:
        """Run the stage on a frame's lifted people (``pipeline.Person3D``, changed in place)."""
        with self.lock:
            self._update(people, np.asarray(k, dtype=np.float64), int(stamp_ns), image_size, float(body_height_m))

    def _update(self, people: list, k: np.ndarray, stamp_ns: int, image_size, body_height_m: float) -> None:
        p = self.params
        if p.mount.mode == "full":
            mount = Mount.from_params(p.mount)
            elevation, self.elevation_source = mount.elevation, "mount"
        else:
            frame_e = [float(x.elevation) for x in people if math.isfinite(float(x.elevation))]
            if not frame_e and self.filter.value is None:
                self.kinematics.prune(stamp_ns)
                return
            elevation = self.filter.update(float(np.median(frame_e)), stamp_ns) if frame_e else self.filter.value
            self.elevation_source = "lifter"
            if p.mount.mode == "none" and p.elevation.from_people:
                self._update_people_elevation(people, k, stamp_ns)
                if self._people_ready():
                    elevation, self.elevation_source = self.horizon.value, "people"
            if self._ground_ready():
                elevation, self.elevation_source = self.ground_filter.value, "ground"
            mount = Mount.from_params(p.mount, elevation=elevation)
        self.elevation, self.mount = elevation, mount
        residuals = []
        down = mount.down_optical
        pitch_std = self.elevation_std()
        image_h = int(image_size[1]) if image_size else None
        for person in people:
            if float(person.elevation) != elevation:
                person.joints_upright = camera.upright_from_optical(person.joints_optical, elevation)
                person.elevation = float(elevation)
            prior = np.array(person.joints_optical[ROOT], dtype=np.float64)
            ground = NO_GROUND
            if mount.height_known:
                ground = ground_scale(person.joints_optical, person.confidence, person.keypoints_px, k, image_h, down,
                                      mount.height, pitch_std, body_height_m, p.placement)
                residuals.append(elevation_residual(ground, mount.height, p.placement))
            placed = fuse(ground, p.placement)
            if placed.scale != 1.0:
                person.joints_optical = person.joints_optical * placed.scale
                person.joints_upright = person.joints_upright * placed.scale
            pos = prior * placed.scale
            lateral = p.placement.foot_pixel_std_ratio * person_height_px(person.keypoints_px) * \
                float(np.linalg.norm(pos)) / float(k[0, 0])
            cov = position_covariance(pos, placed.rel_std, lateral)
            pos_b, cov_b = mount.to_base(pos), mount.covariance_to_base(cov)
            yaw_raw, yaw_conf = body_heading(mount.to_base(person.joints_optical), person.confidence)
            motion = self.kinematics.update(int(person.track_id), stamp_ns, pos_b[:2], cov_b[:2, :2], yaw_raw,
                                            yaw_conf)
            v_b = np.array([motion.velocity[0], motion.velocity[1], 0.0])
            person.state = PersonState(
                position_optical=pos,
                position_cov_optical=cov,
                position_base=pos_b,
                position_cov_base=cov_b,
                prior_position_optical=prior,
                ground_position_optical=prior * placed.ground_scale,
                placement=placed,
                body_height_m=body_height_m * placed.scale,
                velocity_base=v_b,
                velocity_cov_base=motion.velocity_cov,
                velocity_optical=mount.vectors_to_optical(v_b),
                velocity_confidence=motion.velocity_confidence,
                heading=motion.heading,
                heading_confidence=motion.heading_confidence,
                heading_raw=yaw_raw,
                base_from_optical=mount.rotation,
                head=head_yaw(getattr(person, "landmarks", None), k, down,
                              math.radians(p.tracking.looking_max_deg)),
            )
        if p.mount.mode == "height":
            self._update_ground_elevation(elevation, residuals, stamp_ns)
        self.kinematics.prune(stamp_ns)

    def _update_people_elevation(self, people: list, k: np.ndarray, stamp_ns: int) -> None:
        """Feed the frame's standing people to the people's elevation and re-fit it now and then (stamps going
        backwards start it afresh; a moved camera is ``PeopleHorizon``'s jump rule)."""
        if self._horizon_fit_ns is not None and stamp_ns < self._horizon_fit_ns:
            self.horizon.reset()
            self._horizon_fit_ns = None
        for person in people:
            kp = getattr(person, "keypoints_px", None)
            if kp is not None:
                self.horizon.observe(kp, person.confidence, person.joints_optical, k)
        due = self._horizon_fit_ns is None or stamp_ns - self._horizon_fit_ns >= PEOPLE_REFIT_MIN_S * 1e9
        if self.horizon.new >= PEOPLE_REFIT_OBSERVATIONS and due:
            self.horizon.estimate()
            self._horizon_fit_ns = stamp_ns

    def _update_ground_elevation(self, elevation: float, residuals: list, stamp_ns: int) -> None:
        """Feed the pitch the frame's feet ask for (inverse-variance mean over its people) to the ground filter."""
        gate = math.radians(self.params.elevation.outlier_deg)
        r = np.array([(d, s) for d, s in residuals
                      if math.isfinite(d) and math.isfinite(s) and s > 0 and abs(d) <= gate])
        if len(r):
            w = 1.0 / r[:, 1] ** 2
            self.ground_filter.update(elevation + float((w * r[:, 0]).sum() / w.sum()), stamp_ns)
