"""Many bodies (training.data.bodies): anthropometric sampling, forward kinematics of Bandai clips
with other bone lengths (the bundled Bandai fixture clips), the relative bone band of ElePose's prior."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hpe3d_ros import skeleton
from training.data import bodies
from training.data import bvh as bvh_mod
from training.data.body import BANDAI_GROUPS_M, layout_groups
from training.data.joint_defs import JointDefinitions
from training.losses.elepose import BANDAI_TRAIN_BONE_RATIOS, bone_ratios_from_spec

REPO_FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "bandai"


@pytest.fixture(scope="module")
def clip():
    files = sorted(REPO_FIXTURES.rglob("*.bvh*"))
    if not files:
        pytest.skip("the repository's Bandai fixture clips are not present")
    return bvh_mod.parse_bvh(files[0])


def test_sampled_bodies_are_adult_and_varied():
    bs = bodies.sample_bodies(400, np.random.default_rng(0))
    h = np.array([b.stature_m for b in bs])
    assert h.min() >= 1.45 and h.max() <= 2.0 and h.std() > 0.07
    assert {b.sex for b in bs} == {"male", "female"}
    for g in bodies.GROUPS:
        frac = np.array([b.groups[g] / b.stature_m for b in bs])
        assert frac.std() / frac.mean() > 0.03, g  # proportions vary, not only the size
    again = bodies.sample_bodies(400, np.random.default_rng(0))
    assert [b.groups for b in again] == [b.groups for b in bs]


def test_fk_with_body_reaches_the_target_lengths(clip):
    for body in bodies.stratified_statures(4, np.random.default_rng(1)):
        j = bodies.layout_with_body(clip, body)
        err = bodies.group_errors(j, body)
        for g in ("thigh", "shin", "upper_arm", "forearm", "hip"):
            assert abs(err[g]) < 0.002, (g, err[g])
        for g in ("torso", "neck", "shoulder"):
            assert abs(err[g]) < 0.01, (g, err[g])
        bl = skeleton.bone_lengths(j)
        child = {c: k for k, (_, c) in enumerate(skeleton.BONES)}
        n = skeleton.JOINT_NAMES.index
        for a, b in (("left_knee", "right_knee"), ("left_wrist", "right_wrist")):
            np.testing.assert_allclose(
                bl[:, child[n(a)]], bl[:, child[n(b)]], atol=2e-5
            )  # the source is symmetric to 3 um
        # feet on the floor: the lower ankle's 2nd-percentile height scales with the shin
        ank = np.percentile(j[:, [n("left_ankle"), n("right_ankle")], 2].min(1), 2)
        src = skeleton.from_mocap(bvh_mod.forward_kinematics(clip), clip.names)
        ank0 = np.percentile(src[:, [n("left_ankle"), n("right_ankle")], 2].min(1), 2)
        assert ank == pytest.approx(ank0 * body.scales()["shin"], abs=1e-6)


def test_the_bandai_body_reproduces_the_clip(clip):
    body = bodies.Body("male", 1.58, 1.0, dict(BANDAI_GROUPS_M))
    src = skeleton.from_mocap(bvh_mod.forward_kinematics(clip), clip.names)
    j = bodies.layout_with_body(clip, body)
    # the stored group lengths are rounded medians: the same clip within a few millimetres
    assert np.abs(j - src).max() < 0.02
    rot_only = j - j[:, :1] - (src - src[:, :1])
    assert np.abs(rot_only).max() < 0.02


def test_bodies_change_the_2d_proportions_the_lifter_sees(clip):
    wide = bodies.Body("male", 1.8, 1.0, {**BANDAI_GROUPS_M, "shoulder": 0.21})
    j = bodies.layout_with_body(clip, wide)
    g = layout_groups(j)
    assert np.median(g["shoulder"]) == pytest.approx(0.21, abs=0.01)


def test_relative_bone_band_holds_the_bodies_and_definitions():
    band = bodies.relative_bone_band(n=2000, seed=1)
    assert band.shape == (2, 15) and (band[1] > band[0]).all()
    bandai = np.array(BANDAI_TRAIN_BONE_RATIOS)
    assert ((bandai >= band[0]) & (bandai <= band[1])).all()  # the Bandai body is in the training mix
    # the head shift widens the neck's range
    width = band[1] - band[0]
    n = skeleton.JOINT_NAMES.index
    child = {c: k for k, (_, c) in enumerate(skeleton.BONES)}
    fixed_head = bodies.relative_bone_band(n=2000, seed=1, defs=JointDefinitions(head_shift=(0.0, 0.0)))
    assert width[child[n("head")]] > 1.5 * (fixed_head[1] - fixed_head[0])[child[n("head")]]
    narrow = bodies.relative_bone_band(
        n=2000, seed=1, defs=JointDefinitions((1, 1), (1, 1), (0, 0)), bandai_share=1.0, margin=0.0
    )
    assert (narrow[1] - narrow[0]).max() < 1e-6  # one body, one definition: one point
    t = bone_ratios_from_spec("bodies")
    assert tuple(t.shape) == (2, 15)
