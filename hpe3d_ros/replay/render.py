"""A video of an output bag: each camera frame with the skeletons drawn over it, beside a 3D view.

Left: the image with every person's 16 joints (the 2D detection each skeleton was lifted from, as
published in the skeleton topic's u, v fields; the 3D skeleton projected through the CameraInfo K
where those are missing) and the track id. Right: the
same people in 3D, gravity-aligned (the upright joints, made upright with the camera elevation the
node estimated for the frame), seen obliquely from above and behind the camera (the triangle).
The 1 m ground grid is drawn per frame where the skeletons stand: at the height of the frame's
lowest ankle (``frame_ground``); a person whose feet are above it gets a dashed line down to it, so
a skeleton that floats (a wrong elevation or distance) is shown floating, not hidden. The text
gives the frame's camera elevation and the camera's height above that grid. Without people there
is no grid. When the bag has the people cloud in the optical frame (no ``base_frame``), arrows from
each pelvis show the heading (thin, 0.6 m) and the walking velocity (thick, one second ahead). A
frame the node dropped shows the last skeletons (up to ``HOLD_S`` old), marked "held". Drawn with
OpenCV (fast, no display needed); written with cv2.VideoWriter (mp4v) plus one preview PNG.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import camera, skeleton
from ..ros_convert import stamp_to_ns
from .bag_frames import RecordedBag, read_recorded
from .bag_io import InputBag, deserialize
from .records import FrameRecord

HOLD_S = 0.5
VIEW_PITCH_DEG = 20.0
ANKLES = (skeleton.JOINT_NAMES.index("right_ankle"), skeleton.JOINT_NAMES.index("left_ankle"))
FLOAT_MARK_M = 0.05  # feet further above the grid than this get a line down to it
PALETTE = [(230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48), (145, 30, 180),
           (70, 240, 240), (240, 50, 230), (210, 245, 60), (250, 190, 212), (0, 128, 128), (170, 110, 40)]


def track_color(track_id: int) -> tuple[int, int, int]:
    """An RGB colour per track id."""
    return PALETTE[int(track_id) % len(PALETTE)]


def lowest_ankle(joints: np.ndarray) -> np.ndarray:
    """(3,) the lower of a person's two ankles (largest y: y points down) in the upright frame; NaN if neither is "
    "finite."""
    ankles = np.asarray(joints, dtype=np.float64)[list(ANKLES)]
    ok = np.isfinite(ankles).all(axis=1)
    return ankles[ok][np.argmax(ankles[ok, 1])] if ok.any() else np.full(3, np.nan)


def frame_ground(upright: np.ndarray) -> float | None:
    """The ground plane of a frame (y down, metres below the camera in the upright frame): the lowest
    ankle of the frame's people; None without people."""
    feet = np.array([lowest_ankle(p)[1] for p in upright]) if len(upright) else np.zeros(0)
    feet = feet[np.isfinite(feet)]
    return float(feet.max()) if feet.size else None


def elevation_text(elevation: np.ndarray) -> str:
    """The frame's camera elevation as the node used it (one value when pooled over the people)."""
    e = np.degrees(np.asarray(elevation, dtype=np.float64))
    e = e[np.isfinite(e)]
    if not e.size:
        return "camera elevation n/a"
    if np.ptp(e) < 0.05:
        return f"camera elevation {e[0]:.1f} deg" + (f" (shared by {e.size} people)" if e.size > 1 else "")
    return f"camera elevation {e.min():.1f} to {e.max():.1f} deg (per person)"


class TopView:
    """Oblique orthographic view of upright-frame points (x right, y down along gravity, z forward)."""

    def __init__(self, records: list[FrameRecord], size: tuple[int, int]):
        self.w, self.h = size
        pts = [f.upright.reshape(-1, 3) for f in records if f.status == "processed" and f.people]
        pts = np.concatenate(pts) if pts else np.array([[-2.0, 1.0, 2.0], [2.0, -1.0, 8.0]])
        pts = pts[np.all(np.isfinite(pts), axis=1)]
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        self.ground = float(hi[1])  # the lowest point of the recording: the framing reaches down to it
        a = np.radians(VIEW_PITCH_DEG)
        self.c, self.s = np.cos(a), np.sin(a)
        z0 = max(0.0, float(np.floor(lo[2] - 1)))  # frame the people, not the empty space in front of the camera
        corners = np.array(
            [[x, y, z] for x in (lo[0] - 1, hi[0] + 1) for y in (lo[1], self.ground) for z in (z0, hi[2] + 1)]
        )
        uv = self._raw(corners)
        self.lo, span = uv.min(0), np.maximum(uv.max(0) - uv.min(0), 1e-6)
        self.scale = 0.9 * min(self.w / span[0], self.h / span[1])
        self.off = (np.array([self.w, self.h]) - span * self.scale) / 2
        self.x_range = (np.floor(lo[0] - 1), np.ceil(hi[0] + 1))
        self.z_range = (z0, np.ceil(hi[2] + 1))

    def _raw(self, p: np.ndarray) -> np.ndarray:
        p = np.asarray(p, dtype=np.float64)
        return np.stack([p[..., 0], p[..., 1] * self.c - p[..., 2] * self.s], -1)

    def __call__(self, p: np.ndarray) -> np.ndarray:
        return ((self._raw(p) - self.lo) * self.scale + self.off).astype(np.int32)

    def background(self, ground: float | None = None) -> np.ndarray:
        """The empty view with the 1 m grid at ``ground`` (y down, metres; None: no grid) and the camera."""
        import cv2

        img = np.full((self.h, self.w, 3), 250, np.uint8)
        g = ground
        for x in np.arange(self.x_range[0], self.x_range[1] + 1) if g is not None else ():
            a, b = self(np.array([[x, g, self.z_range[0]], [x, g, self.z_range[1]]]))
            cv2.line(img, tuple(map(int, a)), tuple(map(int, b)), (215, 215, 215), 1)
        for z in np.arange(self.z_range[0], self.z_range[1] + 1) if g is not None else ():
            a, b = self(np.array([[self.x_range[0], g, z], [self.x_range[1], g, z]]))
            cv2.line(img, tuple(map(int, a)), tuple(map(int, b)), (215, 215, 215), 1)
        cam = self(np.zeros((1, 3)))[0]
        if 0 <= cam[0] < self.w and 0 <= cam[1] < self.h:
            cv2.drawMarker(img, tuple(map(int, cam)), (60, 60, 60), cv2.MARKER_TRIANGLE_UP, 12, 2)
        lines = ["3D, gravity-aligned; camera = triangle"]
        if g is not None:
            lines.append(f"1 m grid at the lowest feet: {g:.1f} m below the camera")
        else:
            lines.append("no people, no ground")
        for i, text in enumerate(lines):
            cv2.putText(img, text, (6, 16 + 16 * i), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (40, 40, 40), 1, cv2.LINE_AA)
        return img

    def drop_line(self, img: np.ndarray, foot: np.ndarray, ground: float, color: tuple) -> None:
        """A dashed line from a foot above the grid straight down to it (a floating skeleton shows)."""
        import cv2

        if not (np.all(np.isfinite(foot)) and ground - foot[1] > FLOAT_MARK_M):
            return
        a, b = self(np.array([foot, [foot[0], ground, foot[2]]], dtype=np.float64))
        n = max(int(np.linalg.norm(b - a) / 6), 1)
        for i in range(0, n, 2):
            p, q = a + (b - a) * i / n, a + (b - a) * min(i + 1, n) / n
            cv2.line(img, tuple(map(int, p)), tuple(map(int, q)), color, 1, cv2.LINE_AA)
        cv2.drawMarker(img, tuple(map(int, b)), color, cv2.MARKER_TILTED_CROSS, 7, 1)


def _draw_skeleton(img: np.ndarray, pts: np.ndarray, color: tuple, thickness: int = 2) -> None:
    import cv2

    for a, b in skeleton.BONES:
        if np.all(np.isfinite(pts[[a, b]])):
            cv2.line(img, tuple(map(int, pts[a])), tuple(map(int, pts[b])), color, thickness, cv2.LINE_AA)
    for p in pts:
        if np.all(np.isfinite(p)):
            cv2.circle(img, tuple(map(int, p)), thickness + 1, color, -1, cv2.LINE_AA)


def _draw_motion(img: np.ndarray, view: "TopView", rec: FrameRecord, i: int, color: tuple) -> None:
    """The heading (0.6 m) and the velocity (one second ahead) as arrows from the pelvis in the 3D view, from the
    recorded people cloud (no base frame: velocity in the optical frame, heading in the camera's levelled frame)."""
    import cv2

    sc = rec.scene
    if not sc or "velocity_optical" not in sc:
        return
    pelvis = rec.upright[i][skeleton.ROOT]
    e = float(rec.elevation[i])
    ends = []
    h = float(sc["heading"][i])
    if np.isfinite(h):  # levelled camera frame (x forward, y left) -> upright (x right, y down, z forward)
        ends.append((pelvis + 0.6 * np.array([-np.sin(h), 0.0, np.cos(h)]), 1))
    v = camera.upright_from_optical(np.asarray(sc["velocity_optical"][i])[None], e)[0]
    if np.all(np.isfinite(v)) and np.linalg.norm(v) >= 0.1:
        ends.append((pelvis + v, 2))
    start = view(pelvis[None])[0]
    for end, width in ends:
        p = view(end[None])[0]
        if np.all(np.isfinite(p)) and np.all(np.isfinite(start)):
            cv2.arrowedLine(img, tuple(map(int, start)), tuple(map(int, p)), color, width, cv2.LINE_AA, tipLength=0.3)


def compose(
    rgb: np.ndarray, rec: FrameRecord | None, k: np.ndarray | None, view: TopView, held: bool, label: str
) -> np.ndarray:
    """One output frame (RGB): the image with the skeletons, and the 3D view beside it."""
    import cv2

    left = rgb.copy()
    ground = frame_ground(rec.upright) if rec is not None and rec.people else None
    right = view.background(ground)
    if rec is not None and rec.people and k is not None:
        for i, tid in enumerate(rec.track_ids):
            col = track_color(int(tid))
            if held:
                col = tuple(int(0.5 * c + 100) for c in col)
            kp = None if rec.keypoints_px is None else rec.keypoints_px[i]
            if kp is not None and np.all(np.isfinite(kp)):
                uv = kp  # the 2D detection the skeleton was lifted from
            else:
                with np.errstate(invalid="ignore", divide="ignore"):
                    uv = camera.project(rec.joints[i], k)
            _draw_skeleton(left, uv, col, 2)
            head = uv[skeleton.HEAD]
            if np.all(np.isfinite(head)):
                cv2.putText(
                    left,
                    str(int(tid)),
                    (int(head[0]) + 4, int(head[1]) - 4),
                    cv2.FONT_HERSHEY_SIMPLEX,
                    0.45,
                    col,
                    1,
                    cv2.LINE_AA,
                )
            _draw_skeleton(right, view(rec.upright[i]), col, 2)
            _draw_motion(right, view, rec, i, col)
            if ground is not None:
                view.drop_line(right, lowest_ankle(rec.upright[i]), ground, col)
        cv2.putText(
            right, elevation_text(rec.elevation), (6, 48), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (40, 40, 40), 1, cv2.LINE_AA
        )
    text = label + ("  (held: frame dropped)" if held else "")
    cv2.putText(left, text, (6, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(left, text, (6, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1, cv2.LINE_AA)
    return np.concatenate([left, right], axis=1)


def render_bag(
    bag_path: str | Path,
    out_video: str | Path,
    preview_png: str | Path | None = None,
    recorded: RecordedBag | None = None,
    fps: float | None = None,
) -> dict:
    """Write the side-by-side video of ``bag_path`` (and a preview PNG of the frame with most people)."""
    import cv2

    from ..node import image_decode

    recorded = recorded or read_recorded(bag_path)
    if not recorded.frames:
        raise ValueError(f"{bag_path}: no image frames to render")
    by_stamp = {f.stamp_ns: f for f in recorded.frames}
    stamps = sorted(by_stamp)
    if fps is None:
        fps = (len(stamps) - 1) / max((stamps[-1] - stamps[0]) * 1e-9, 1e-9) if len(stamps) > 1 else 10.0
    w, h = recorded.image_size or (640, 480)
    view = TopView(recorded.frames, (w, h))
    out_video = Path(out_video)
    out_video.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(out_video), cv2.VideoWriter_fourcc(*"mp4v"), float(fps), (2 * w, h))
    if not writer.isOpened():
        raise OSError(f"{out_video}: cv2.VideoWriter cannot write mp4v here")
    last: FrameRecord | None = None
    best = (-1, None)
    n = 0
    image_topic = next(iter(recorded.images.values()))[1]
    try:
        with InputBag(bag_path) as bag:
            for raw in bag.messages([image_topic]):
                msg = deserialize(raw)
                stamp = stamp_to_ns(msg.header.stamp)
                try:
                    rgb = (
                        image_decode.decode_compressed(msg)
                        if raw.msgtype.endswith("CompressedImage")
                        else image_decode.decode_image(msg)
                    )
                except image_decode.ImageDecodeError:
                    continue
                if rgb.shape[:2] != (h, w):
                    rgb = cv2.resize(rgb, (w, h))
                rec = by_stamp.get(stamp)
                held = False
                if rec is not None and rec.status == "processed":
                    last = rec
                elif last is not None and (stamp - last.stamp_ns) * 1e-9 <= HOLD_S:
                    rec, held = last, True
                else:
                    rec = None
                t = (stamp - stamps[0]) * 1e-9
                label = f"t={t:5.1f}s  people: {rec.people if rec is not None else 0}"
                frame = compose(rgb, rec, recorded.intrinsics, view, held, label)
                writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
                n += 1
                if rec is not None and not held and rec.people > best[0]:
                    best = (rec.people, frame)
    finally:
        writer.release()
    if preview_png is not None and best[1] is not None:
        cv2.imwrite(str(preview_png), cv2.cvtColor(best[1], cv2.COLOR_RGB2BGR))
    return {"video": str(out_video), "frames": n, "fps": fps, "preview": str(preview_png) if preview_png else None}
