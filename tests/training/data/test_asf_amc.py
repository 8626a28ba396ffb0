"""ASF/AMC parser and forward kinematics (training.data.asf_amc) and the HDM05 loader
(training.data.hdm05): a tiny synthetic fixture with hand-computed poses, malformed files, and the
HDM05 subset when ../shared has it."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from hpe3d_ros import skeleton
from training.data import asf_amc, body, hdm05

FIX = Path(__file__).resolve().parents[2] / "fixtures" / "asf_amc"
K = 0.45 / 0.0254  # ASF units per metre at 'length 0.45'
N = skeleton.JOINT_NAMES.index


def world(v_asf) -> np.ndarray:
    return asf_amc.ASF_TO_WORLD @ np.asarray(v_asf, dtype=float)


@pytest.fixture(scope="module")
def tiny():
    skel = asf_amc.parse_asf(FIX / "tiny.asf")
    motion = asf_amc.parse_amc(FIX / "tiny.amc", skel)
    pos, names = asf_amc.forward_kinematics(skel, motion)
    return skel, motion, pos, names


def test_axis_map_is_a_proper_rotation():
    assert np.linalg.det(asf_amc.ASF_TO_WORLD) == pytest.approx(1.0)
    np.testing.assert_allclose(world([0, 1, 0]), [0, 0, 1])  # ASF up -> world up
    np.testing.assert_allclose(world([0, 0, 1]), [1, 0, 0])  # ASF facing -> world forward
    np.testing.assert_allclose(world([1, 0, 0]), [0, 1, 0])  # ASF left -> world left


def test_units_and_hierarchy(tiny):
    skel, motion, _, _ = tiny
    assert skel.length_to_m == pytest.approx(0.0254 / 0.45)
    assert skel.bones["lfemur"].length == pytest.approx(0.40, abs=1e-4)
    assert skel.bones["lhipjoint"].parent == "root"
    assert skel.bones["lwrist"].parent == "lradius"
    assert skel.order.index("lfemur") < skel.order.index("ltibia")
    assert motion.num_frames == 3
    assert motion.root[0, 1] == pytest.approx(0.95, abs=1e-4)  # root translation in metres
    assert motion.dofs["lfemur"].shape == (3, 3) and motion.dofs["lclavicle"].shape == (3, 2)


def test_rest_pose_is_the_sum_of_bone_vectors(tiny):
    skel, _, pos, names = tiny
    i = {n: k for k, n in enumerate(names)}
    root = world([0, 0.95, 0])
    hip = root + world(np.array([1, -1, 0]) / np.sqrt(2) * 0.10)
    np.testing.assert_allclose(pos[0, i["lhipjoint"]], hip, atol=1e-4)
    np.testing.assert_allclose(pos[0, i["ltibia"]], hip + world([0, -0.80, 0]), atol=1e-4)
    np.testing.assert_allclose(pos[0, i["upperneck"]], root + world([0, 0.61, 0]), atol=1e-4)
    # wrist: the end of the 'wrist' bone (see asf_amc.HDM05_AS_BANDAI)
    np.testing.assert_allclose(pos[0, i["lwrist"]], root + world([0.75, 0.61 - 0.16, 0]), atol=1e-4)


def test_bone_lengths_are_kept_in_every_frame(tiny):
    skel, _, pos, names = tiny
    i = {n: k for k, n in enumerate(names)}
    for n in skel.order:
        got = np.linalg.norm(pos[:, i[n]] - pos[:, i[skel.bones[n].parent]], axis=-1)
        np.testing.assert_allclose(got, skel.bones[n].length, atol=1e-9)


def test_knee_flexion_about_the_bone_axis_c_m_cinv(tiny):
    # ltibia: axis (0, 0, 20) XYZ, so C = Rz(20); rx = 90 rotates about C x = (cos20, sin20, 0):
    # the shin (0, -1, 0) goes to (-sin20 cos20, -sin20^2, -cos20), i.e. backwards (-z is behind).
    _, _, pos, names = tiny
    i = {n: k for k, n in enumerate(names)}
    s, c = np.sin(np.radians(20)), np.cos(np.radians(20))
    shin = pos[1, i["ltibia"]] - pos[1, i["lfemur"]]
    np.testing.assert_allclose(shin, world(np.array([-s * c, -s * s, -c]) * 0.40), atol=1e-4)


def test_root_translation_and_rotation(tiny):
    # frame 3: root at ASF x = 1 m and turned 90 degrees about Y: the face (+z) turns to +x, the
    # left hip (+x) to -z.
    _, _, pos, names = tiny
    i = {n: k for k, n in enumerate(names)}
    root = world([1.0, 0.95, 0])
    np.testing.assert_allclose(pos[2, 0], root, atol=1e-4)
    hip = root + world(np.array([0, -1, -1]) / np.sqrt(2) * 0.10)
    np.testing.assert_allclose(pos[2, i["lhipjoint"]], hip, atol=1e-4)


def test_layout_mapping(tiny):
    _, _, pos, names = tiny
    j = asf_amc.to_layout(pos, names)
    i = {n: k for k, n in enumerate(names)}
    np.testing.assert_allclose(j[:, N("pelvis")], 0.5 * (pos[:, i["lhipjoint"]] + pos[:, i["rhipjoint"]]))
    np.testing.assert_allclose(j[:, N("left_knee")], pos[:, i["lfemur"]])
    np.testing.assert_allclose(j[:, N("right_wrist")], pos[:, i["rwrist"]])
    np.testing.assert_allclose(j[:, N("head")], pos[:, i["upperneck"]])
    np.testing.assert_allclose(j[:, N("thorax")], 0.5 * (pos[:, i["lclavicle"]] + pos[:, i["rclavicle"]]))
    # rest pose facing +x (world): its left hip is at +y
    assert j[0, N("left_hip"), 1] > j[0, N("right_hip"), 1]
    head_end = asf_amc.to_layout(pos, names, head="head_end")[:, N("head")]
    np.testing.assert_allclose(head_end, pos[:, i["head"]])
    with pytest.raises(ValueError, match="unknown head point"):
        asf_amc.to_layout(pos, names, head="nose")


def test_retarget_changes_bone_lengths_not_rotations(tiny):
    skel, motion, pos, names = tiny
    lengths = {**skel.bone_lengths(), "ltibia": 0.5}
    pos2, _ = asf_amc.forward_kinematics(skel, motion, lengths=lengths)
    i = {n: k for k, n in enumerate(names)}
    a = pos[1, i["ltibia"]] - pos[1, i["lfemur"]]
    b = pos2[1, i["ltibia"]] - pos2[1, i["lfemur"]]
    np.testing.assert_allclose(b, a / skel.bones["ltibia"].length * 0.5, atol=1e-9)


def test_rest_layout_bones_and_retarget(tiny):
    skel = tiny[0]
    rest = hdm05.rest_layout_bones(skel)
    assert rest["thigh"] == pytest.approx(0.40, abs=1e-4) and rest["forearm"] == pytest.approx(0.25, abs=1e-4)
    target = {**rest, "shoulder": 0.10, "torso": 0.40, "thigh": 0.45}
    lengths, root_scale = hdm05.Retarget(target, "t").lengths_for(skel)
    got = hdm05.rest_layout_bones(skel, lengths)
    for g in ("shoulder", "torso", "thigh", "shin", "neck"):
        assert got[g] == pytest.approx(target[g], abs=1e-3), g
    assert root_scale > 1.0  # longer legs lift the root


ASF_HEAD = ":units\n length 0.45\n angle deg\n:root\n order TX TY TZ RX RY RZ\n axis XYZ\n:bonedata\n"


@pytest.mark.parametrize(
    "text, match",
    [
        (":root\n order TX TY TZ RX RY RZ\n:bonedata\n:hierarchy\n begin\n end\n", "units length"),
        (ASF_HEAD + " begin\n name a\n direction 1 0 0\n length x\n end\n:hierarchy\n root a\n", "non-numeric length"),
        (
            ASF_HEAD + " begin\n name a\n direction 1 0 0\n length 1\n dof rx tx\n end\n:hierarchy\n root a\n",
            "unsupported dof",
        ),
        (ASF_HEAD + " begin\n name a\n direction 1 0 0\n length 1\n end\n:hierarchy\n root b\n", "unknown bone"),
        (
            ASF_HEAD
            + " begin\n name a\n direction 1 0 0\n length 1\n end\n begin\n name b\n direction 1 0 0\n length 1\n end\n"
            ":hierarchy\n root a\n",
            "not in the hierarchy",
        ),
        (ASF_HEAD + " begin\n name a\n direction 1 0 0\n length 1\n", "has no 'end'"),
    ],
)
def test_malformed_asf(text, match):
    with pytest.raises(asf_amc.AsfAmcError, match=match):
        asf_amc.parse_asf("bad.asf", text)


@pytest.mark.parametrize(
    "edit, match",
    [
        (lambda t: t.replace("ltibia 90", "ltibia 90 1"), "has 2 values"),
        (lambda t: t.replace("lhand 0 0\n", "", 1), "lacks \\['lhand'\\]"),
        (lambda t: t.replace("rtoes 0\n", "rtoes 0\nnose 1\n", 1), "unknown bone 'nose'"),
        (lambda t: t.replace("ltibia 90", "ltibia x"), "non-numeric"),
        (lambda t: t.replace("root 0 16.8307 0 0 0 0", "root 0 16.8307 0"), "root has 3 values"),
        (lambda t: "lfemur 0 0 0\n" + t.split(":DEGREES\n")[1], "before the first frame"),
        (lambda _t: ":DEGREES\n", "no frames"),
    ],
)
def test_malformed_amc(tiny, edit, match):
    text = (FIX / "tiny.amc").read_text()
    with pytest.raises(asf_amc.AsfAmcError, match=match):
        asf_amc.parse_amc("bad.amc", tiny[0], edit(text))


def test_gzipped_and_missing_files(tmp_path, tiny):
    p = tmp_path / "t.amc.gz"
    p.write_bytes(gzip.compress((FIX / "tiny.amc").read_bytes()))
    assert asf_amc.parse_amc(p, tiny[0]).num_frames == 3
    with pytest.raises(asf_amc.AsfAmcError, match="no such file"):
        asf_amc.parse_asf(tmp_path / "none.asf")


# ---- the HDM05 subset (skips without ../shared) -------------------------------------------------


@pytest.fixture(scope="module")
def hdm05_root():
    d = hdm05.hdm05_dir()
    if d is None:
        pytest.skip("../shared/data/hdm05-subset is not available")
    return d


@pytest.mark.usefixtures("hdm05_root")
def test_every_actor_parses_and_keeps_its_bone_lengths():
    for a in hdm05.ACTORS:
        skel = hdm05.skeleton_of(a)
        f = hdm05.clip_files(a)[0]
        pos, names = asf_amc.forward_kinematics(skel, asf_amc.parse_amc(f, skel))
        i = {n: k for k, n in enumerate(names)}
        for n in skel.order:
            got = np.linalg.norm(pos[:, i[n]] - pos[:, i[skel.bones[n].parent]], axis=-1)
            np.testing.assert_allclose(got, skel.bones[n].length, atol=1e-9)


def _clips(actor: str, motion: str) -> list[np.ndarray]:
    skel = hdm05.skeleton_of(actor)
    return [asf_amc.load_clip(skel, f) for f in hdm05.clip_files(actor) if f"_{motion}_" in f.name][:2]


@pytest.mark.parametrize("actor", hdm05.ACTORS)
@pytest.mark.usefixtures("hdm05_root")
def test_left_and_right_and_the_floor(actor):
    # kickLFront: the LEFT ankle goes up; grabHighR: the RIGHT wrist; elbowToKnee (left elbow first):
    # the left elbow meets the right knee
    for j in _clips(actor, "kickLFront1Reps"):
        assert j[:, N("left_ankle"), 2].max() > 0.6 > j[:, N("right_ankle"), 2].max()
    for j in _clips(actor, "grabHighR"):
        assert j[:, N("right_wrist"), 2].max() > j[:, N("left_wrist"), 2].max() + 0.3
    for j in _clips(actor, "elbowToKnee1RepsLelbowStart"):
        assert np.linalg.norm(j[:, N("left_elbow")] - j[:, N("right_knee")], axis=-1).min() < 0.25
        # upright, feet on the floor: the ankles' lowest heights 3-15 cm, the head above the pelvis
        low = np.percentile(j[:, [N("left_ankle"), N("right_ankle")], 2].min(1), 5)
        assert 0.03 < low < 0.15
        assert (j[:, N("head"), 2] > j[:, N("pelvis"), 2] + 0.3).all()


@pytest.mark.usefixtures("hdm05_root")
def test_statures_are_adult(tmp_path):
    d = hdm05.load_hdm05(subsample=8, cache=tmp_path)
    for a in hdm05.ACTORS:
        s = body.stature(d.joints[d.actor == a])
        assert 1.6 < s["stature_m"] < 2.0, (a, s)
