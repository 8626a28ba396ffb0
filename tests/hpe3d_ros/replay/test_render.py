"""The demo's 3D view is drawn honestly: the grid where the feet are, a floating skeleton shown floating,
the frame's camera elevation as the node used it."""
from __future__ import annotations

import numpy as np

from hpe3d_ros import skeleton
from hpe3d_ros.replay.records import FrameRecord
from hpe3d_ros.replay.render import ANKLES, TopView, compose, elevation_text, frame_ground, lowest_ankle, track_color

GRID = (215, 215, 215)


def _standing(x: float, z: float, feet_y: float) -> np.ndarray:
    """A straight standing body (upright frame: y down) whose ankles are at ``feet_y``."""
    heights = {
        "pelvis": 0.9,
        "right_hip": 0.9,
        "right_knee": 0.5,
        "right_ankle": 0.08,
        "left_hip": 0.9,
        "left_knee": 0.5,
        "left_ankle": 0.08,
        "spine": 1.15,
        "thorax": 1.4,
        "head": 1.6,
        "left_shoulder": 1.4,
        "left_elbow": 1.15,
        "left_wrist": 0.9,
        "right_shoulder": 1.4,
        "right_elbow": 1.15,
        "right_wrist": 0.9,
    }
    side = {n: (0.15 if n.startswith("left") else -0.15 if n.startswith("right") else 0.0) for n in heights}
    return np.array([[x + side[n], feet_y - (heights[n] - 0.08), z] for n in skeleton.JOINT_NAMES])


def _record(people: list[np.ndarray], elevation: np.ndarray) -> FrameRecord:
    n = len(people)
    up = np.array(people).reshape(n, skeleton.NUM_JOINTS, 3)
    return FrameRecord(
        0,
        0,
        0,
        track_ids=np.arange(1, n + 1),
        joints=up.copy(),
        upright=up,
        confidence=np.ones((n, skeleton.NUM_JOINTS)),
        plausibility=np.full(n, np.nan),
        elevation=elevation,
    )


def test_ground_is_the_lowest_ankle_of_the_frame():
    a, b = _standing(-1.0, 6.0, 1.6), _standing(1.0, 8.0, 1.2)
    b[ANKLES[0], 1] = 1.3  # b's right ankle lower than its left
    assert frame_ground(np.array([a, b])) == 1.6
    np.testing.assert_allclose(lowest_ankle(b), b[ANKLES[0]])
    assert frame_ground(np.zeros((0, 16, 3))) is None
    a[list(ANKLES)] = np.nan  # unknown feet do not make a ground
    assert frame_ground(np.array([a])) is None and frame_ground(np.array([a, b])) == 1.3


def test_feet_on_the_grid_and_a_floating_person_gets_a_line_down():
    grounded, floating = _standing(-1.0, 6.0, 1.6), _standing(1.5, 7.0, 0.9)  # 0.7 m above the ground
    rec = _record([grounded, floating], np.full(2, np.radians(20.0)))
    view = TopView([rec], (480, 360))
    rgb = np.zeros((360, 480, 3), np.uint8)
    frame = compose(rgb, rec, np.eye(3), view, held=False, label="t")
    right = frame[:, 480:]
    grid = np.all(right == GRID, axis=-1)
    grid[:60] = False  # the text lines (anti-aliased grey)
    assert grid.sum() > 500, "no grid drawn"
    rows, cols = np.nonzero(grid)
    # The grounded person's feet project inside the grid (the grid lies at their height, not below them).
    u, v = view(grounded[list(ANKLES)]).mean(axis=0)
    assert rows.min() <= v <= rows.max() and cols.min() <= u <= cols.max()
    # The floating person: their colour appears on the way down from the feet to the grid below them.
    foot = floating[ANKLES[0]]
    a, b = view(np.array([foot, [foot[0], 1.6, foot[2]]]))
    colour = np.array(track_color(2))
    segment = right[min(a[1], b[1]) + 8 : max(a[1], b[1]) + 4, a[0] - 4 : a[0] + 5]
    assert np.any(np.all(segment == colour, axis=-1)), "no line from the floating feet down to the ground"
    # Without people: no grid at all.
    assert not np.all(view.background(None)[60:] == GRID, axis=-1).any()


def test_elevation_text_is_the_frames_camera_elevation():
    assert elevation_text(np.radians([12.34, 12.34, 12.34])) == "camera elevation 12.3 deg (shared by 3 people)"
    assert elevation_text(np.radians([12.3])) == "camera elevation 12.3 deg"
    assert elevation_text(np.radians([10.0, 20.0])) == "camera elevation 10.0 to 20.0 deg (per person)"
    assert elevation_text(np.array([np.nan])) == "camera elevation n/a"


def test_the_grid_follows_each_frames_feet():
    """Two frames of one recording whose people stand at different heights: each frame's grid lies at its own feet."""
    high, low = _record([_standing(0.3, 6.0, 1.0)], np.zeros(1)), _record([_standing(0.3, 6.0, 1.6)], np.zeros(1))
    view = TopView([high, low], (480, 360))
    z = view.z_range[0] + 1.0  # a grid line across, 1 m beyond the nearest
    x = np.arange(*view.x_range) + 0.5  # between the lines along z
    n = len(x)

    def grid_at(img: np.ndarray, u: int, v: int) -> bool:
        return bool(np.all(img[v - 1 : v + 2, u] == GRID, axis=-1).any())  # a 1 px line, rounding aside

    for rec, here, elsewhere in ((high, 1.0, 1.6), (low, 1.6, 1.0)):
        right = compose(np.zeros((360, 480, 3), np.uint8), rec, np.eye(3), view, held=False, label="t")[:, 480:]
        on = view(np.column_stack([x, np.full(n, here), np.full(n, z)]))
        off = view(np.column_stack([x, np.full(n, elsewhere), np.full(n, z)]))
        assert all(grid_at(right, u, v) for u, v in on), f"grid not at the feet ({here} m)"
        assert not any(grid_at(right, u, v) for u, v in off), f"a grid at {elsewhere} m where nobody stands"
