"""BVH parser and forward kinematics: hand-computed cases, malformed files, bundled Bandai clips."""
from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from hpe3d_ros import skeleton
from training.data.bvh import BVH_TO_WORLD, BvhError, forward_kinematics, load_bvh_positions, parse_bvh

HEADER = """HIERARCHY
ROOT root
{
  OFFSET 0 0 0
  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
  JOINT a
  {
    OFFSET 10 0 0
    CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
    JOINT b
    {
      OFFSET 0 20 0
      CHANNELS 3 Xrotation Zrotation Yrotation
      End Site
      {
        OFFSET 0 5 0
      }
    }
  }
}
MOTION
Frames: {frames}
Frame Time: 0.0333333
"""


def bvh_text(rows: list[list[float]]) -> str:
    return HEADER.replace("{frames}", str(len(rows))) + "\n".join(" ".join(str(v) for v in r) for r in rows) + "\n"


def fk_bvh_units(rows: list[list[float]]) -> np.ndarray:
    return forward_kinematics(parse_bvh("t.bvh", bvh_text(rows)), world=False)


def to_world(p_bvh_cm: list[float]) -> np.ndarray:
    return BVH_TO_WORLD @ np.asarray(p_bvh_cm, dtype=float) / 100.0


def test_axis_map_is_a_proper_rotation():
    assert np.linalg.det(BVH_TO_WORLD) == pytest.approx(1.0)
    # BVH up (+Y) -> world up (+z); BVH +Z (facing) -> world forward (+x); BVH +X (left) -> world left (+y)
    np.testing.assert_allclose(BVH_TO_WORLD @ [0, 1, 0], [0, 0, 1])
    np.testing.assert_allclose(BVH_TO_WORLD @ [0, 0, 1], [1, 0, 0])
    np.testing.assert_allclose(BVH_TO_WORLD @ [1, 0, 0], [0, 1, 0])


def test_identity_pose_uses_translation_channels():
    # root at (1, 2, 3); a's translation channels (10, 0, 0); b has no translation channels -> OFFSET (0, 20, 0)
    p = fk_bvh_units([[1, 2, 3, 0, 0, 0, 10, 0, 0, 0, 0, 0, 0, 0, 0]])
    np.testing.assert_allclose(p[0], [[1, 2, 3], [11, 2, 3], [11, 22, 3]], atol=1e-9)


def test_translation_channels_replace_offset():
    # a's OFFSET is (10, 0, 0) but its channels say (0, 0, 7)
    p = fk_bvh_units([[0, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0]])
    np.testing.assert_allclose(p[0, 1], [0, 0, 7], atol=1e-9)


def test_root_yaw_rotates_children():
    # Yrotation 90 deg at the root: a's translation (10, 0, 0) -> Ry(90) (10,0,0) = (0, 0, -10)
    p = fk_bvh_units([[0, 100, 0, 0, 0, 90, 10, 0, 0, 0, 0, 0, 0, 0, 0]])
    np.testing.assert_allclose(p[0, 1], [0, 100, -10], atol=1e-9)
    world = load_world([[0, 100, 0, 0, 0, 90, 10, 0, 0, 0, 0, 0, 0, 0, 0]])
    np.testing.assert_allclose(world[0, 1], to_world([0, 100, -10]), atol=1e-12)
    np.testing.assert_allclose(world[0, 1], [-0.1, 0.0, 1.0], atol=1e-12)


def load_world(rows):
    return forward_kinematics(parse_bvh("t.bvh", bvh_text(rows)))


def test_channel_order_is_honoured_per_joint():
    # a: Zrotation 90 then Xrotation 90 (order Z X Y): R = Rz(90) Rx(90); b's offset (0, 20, 0):
    # Rx(90) (0,20,0) = (0,0,20); Rz(90) (0,0,20) = (0,0,20). So b = a + (0, 0, 20).
    p = fk_bvh_units([[0, 0, 0, 0, 0, 0, 10, 0, 0, 90, 90, 0, 0, 0, 0]])
    np.testing.assert_allclose(p[0, 2], [10, 0, 20], atol=1e-9)
    # Same angles through b's own order X Z Y on a child does not matter for b's position; check it on
    # a grandchild instead: b's rotation applies to its End Site only, which FK does not output.
    # Rz(90) alone: (0,20,0) -> (-20, 0, 0)
    p = fk_bvh_units([[0, 0, 0, 0, 0, 0, 10, 0, 0, 90, 0, 0, 0, 0, 0]])
    np.testing.assert_allclose(p[0, 2], [-10, 0, 0], atol=1e-9)
    # Xrotation 90 with Zrotation 90 in the written order Z, X differs from X, Z:
    # Rx(90) Rz(90) (0,20,0) = Rx(90) (-20,0,0) = (-20,0,0) != (0,0,20)
    ztext = bvh_text([[0, 0, 0, 0, 0, 0, 10, 0, 0, 90, 90, 0, 0, 0, 0]])
    xz = ztext.replace(
        "OFFSET 10 0 0\n    CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation",
        "OFFSET 10 0 0\n    CHANNELS 6 Xposition Yposition Zposition Xrotation Zrotation Yrotation",
    )
    p = forward_kinematics(parse_bvh("xz.bvh", xz), world=False)
    np.testing.assert_allclose(p[0, 2], [-10, 0, 0], atol=1e-9)


def test_rotations_compose_down_the_chain():
    # root Yrotation 90, a Zrotation 90: b = a + Ry(90) Rz(90) (0,20,0) = a + Ry(90) (-20,0,0) = a + (0,0,20)
    # a = Ry(90) (10,0,0) = (0,0,-10)
    p = fk_bvh_units([[0, 0, 0, 0, 0, 90, 10, 0, 0, 90, 0, 0, 0, 0, 0]])
    np.testing.assert_allclose(p[0, 1], [0, 0, -10], atol=1e-9)
    np.testing.assert_allclose(p[0, 2], [0, 0, 10], atol=1e-9)


def test_multiple_frames_and_metadata():
    rows = [[0, 0, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0, 0, 0, 0], [5, 0, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0, 0, 0, 0]]
    b = parse_bvh("t.bvh", bvh_text(rows))
    assert b.names == ["root", "a", "b"] and b.num_frames == 2
    assert b.frame_time == pytest.approx(1 / 30, rel=1e-4)
    assert [j.parent for j in b.joints] == [-1, 0, 1]
    np.testing.assert_allclose(b.joints[2].end_offset, [0, 5, 0])
    p = forward_kinematics(b, world=False)
    np.testing.assert_allclose(p[1] - p[0], [[5, 0, 0]] * 3, atol=1e-9)


GOOD_ROW = [0, 0, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0, 0, 0, 0]


@pytest.mark.parametrize(
    "mutate, pattern",
    [
        (lambda t: t.replace("Frames: 2", "Frames: 3"), r"t\.bvh:25: truncated: header says 3 frames"),
        (
            lambda t: t.replace("0 0 0 0 0 0 10 0 0 0 0 0 0 0 0\n", "0 0 0 0 0 0 10 0 0 0 0 0 0 0\n", 1),
            r"t\.bvh:24: motion line has 14 values, expected 15",
        ),
        (
            lambda t: t.replace("0 0 0 0 0 0 10 0 0 0 0 0 0 0 0\n", "0 0 0 0 abc 0 10 0 0 0 0 0 0 0 0\n", 1),
            r"t\.bvh:24: non-numeric motion value 'abc'",
        ),
        (
            lambda t: t.replace("CHANNELS 3 Xrotation", "CHANNELS 4 Xrotation"),
            r"t\.bvh:13: CHANNELS says 4 channels but names 3",
        ),
        (
            lambda t: t.replace("Zrotation Xrotation Yrotation\n  JOINT", "Zrotation Xrotation Wrotation\n  JOINT"),
            r"t\.bvh:5: unknown channel name",
        ),
        (lambda t: t.replace("OFFSET 10 0 0", "OFFSET 10 zero 0"), r"t\.bvh:8: non-numeric OFFSET"),
        (lambda t: t.replace("HIERARCHY", "HIERARCHI"), r"t\.bvh:1: expected 'HIERARCHY'"),
        (lambda t: t.split("MOTION")[0], r"t\.bvh:\d+: unexpected end of file"),
        (
            lambda t: t.replace("Frame Time: 0.0333333", "Frame Time: soon"),
            r"t\.bvh:23: frame time 'soon' is not a number",
        ),
        (
            lambda t: t.replace("0 0 0 0 0 0 10 0 0 0 0 0 0 0 0\n", "0 0 0 0 nan 0 10 0 0 0 0 0 0 0 0\n", 1),
            r"t\.bvh:24: non-finite motion value",
        ),
        (lambda t: t + "1 2 3\n", r"t\.bvh:26: 1 motion line\(s\) beyond the 2 frames"),
        (lambda t: t.replace("JOINT b", "JOINT a"), r"duplicate joint name 'a'"),
    ],
)
def test_malformed_files_name_file_line_and_problem(mutate, pattern):
    text = mutate(bvh_text([GOOD_ROW, GOOD_ROW]))
    with pytest.raises(BvhError, match=pattern):
        parse_bvh("t.bvh", text)


def test_truncated_gzip_and_missing_file(tmp_path: Path):
    p = tmp_path / "clip.bvh.gz"
    with gzip.open(p, "wt") as f:
        f.write(bvh_text([GOOD_ROW] * 50))
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(BvhError, match="clip.bvh.gz"):
        parse_bvh(p)
    with pytest.raises(BvhError, match="no such file"):
        parse_bvh(tmp_path / "missing.bvh")


def test_plain_and_gzip_read_the_same(tmp_path: Path):
    text = bvh_text([GOOD_ROW, [1, 2, 3, 10, 20, 30, 10, 0, 0, 5, 6, 7, 8, 9, 10]])
    (tmp_path / "a.bvh").write_text(text)
    with gzip.open(tmp_path / "a.bvh.gz", "wt") as f:
        f.write(text)
    a, _, _ = load_bvh_positions(tmp_path / "a.bvh")
    b, _, _ = load_bvh_positions(tmp_path / "a.bvh.gz")
    np.testing.assert_array_equal(a, b)


def bundled_clips(fixtures_dir: Path) -> list[Path]:
    clips = sorted((fixtures_dir / "bandai").glob("dataset-*/data/*.bvh.gz"))
    assert len(clips) >= 2, "bundled Bandai clips missing from tests/fixtures/bandai"
    return clips


def test_bundled_bandai_clips_are_plausible_people(fixtures_dir: Path):
    for path in bundled_clips(fixtures_dir):
        pos, names, frame_time = load_bvh_positions(path)
        assert frame_time == pytest.approx(1 / 30, rel=1e-3)
        assert set(skeleton.MOCAP_JOINTS_USED) <= set(names)
        j = skeleton.from_mocap(pos, names)
        # up is +z: head above pelvis above ankles; feet near the floor
        assert np.all(j[:, skeleton.HEAD, 2] > j[:, 0, 2] + 0.3)
        assert np.all(j[:, 0, 2] > j[:, [3, 6], 2].max(-1) + 0.3)
        assert 0.0 < j[:, [3, 6], 2].min() < 0.2
        # right-handed map: the left hip is on the left of the facing direction (forward = left x up)
        left = j[:, 4] - j[:, 1]
        assert np.all(left[:, 2] ** 2 < 0.25 * (left**2).sum(-1))  # hips roughly level
        # bones are the same in every clip (proportion-aligned): thigh and shin lengths in cm
        bl = skeleton.bone_lengths(j)
        np.testing.assert_allclose(bl[:, 1], 0.3908, atol=2e-3)
        np.testing.assert_allclose(bl[:, 2], 0.4099, atol=2e-3)


def test_walking_clip_moves_forward_of_its_facing(fixtures_dir: Path):
    """Mirroring check: in a walk, the body travels along left x up (its forward)."""
    path = fixtures_dir / "bandai" / "dataset-2" / "data" / "dataset-2_walk-turn-left_elderly_004.bvh.gz"
    pos, names, _ = load_bvh_positions(path)
    j = skeleton.from_mocap(pos, names)
    left = j[:, 4] - j[:, 1]
    forward = np.cross(left, [0.0, 0.0, 1.0])
    velocity = np.gradient(j[:, 0], axis=0)
    moving = np.linalg.norm(velocity[:, :2], axis=-1) > 0.005
    assert moving.sum() > 20
    cos = (forward[moving, :2] * velocity[moving, :2]).sum(-1) / (
        np.linalg.norm(forward[moving, :2], axis=-1) * np.linalg.norm(velocity[moving, :2], axis=-1)
    )
    assert np.median(cos) > 0.7


def test_every_bandai_clip_header_parses(bandai_dir: Path):
    """Over the full data: a sample of clips from both datasets parse with 22 joints of 6 channels."""
    clips = sorted(bandai_dir.glob("dataset-*/data/*.bvh.gz"))
    assert len(clips) == 3076
    for path in clips[:: max(1, len(clips) // 20)]:
        b = parse_bvh(path)
        assert len(b.joints) == 22 and all(len(j.channels) == 6 for j in b.joints)
