"""Metrics against hand-computed cases: known displacements, scales, rotations and reflections."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from hpe3d_ros import pose_metrics as metrics
from hpe3d_ros import skeleton

J = skeleton.NUM_JOINTS


def _pose(seed: int = 0, n: int = 1) -> np.ndarray:
    """Random non-planar poses (n, 16, 3) in metres, root at the origin."""
    rng = np.random.default_rng(seed)
    p = rng.normal(scale=0.3, size=(n, J, 3))
    return p - p[:, :1]


def test_mpjpe_single_displaced_joint():
    gt = _pose()
    pred = gt.copy()
    pred[0, 5] += [0.0, 0.1, 0.0]  # one joint 100 mm off
    assert metrics.mpjpe(pred, gt) == pytest.approx(100.0 / J)
    assert metrics.mpjpe(gt, gt) == 0.0


def test_mpjpe_constant_offset_and_mean_over_poses():
    gt = _pose(n=2)
    pred = gt.copy()
    pred[0] += [0.03, 0.04, 0.0]  # 50 mm at every joint
    pred[1] += [0.0, 0.0, 0.01]  # 10 mm at every joint
    assert metrics.mpjpe_per_pose(pred, gt) == pytest.approx([50.0, 10.0])
    assert metrics.mpjpe(pred, gt) == pytest.approx(30.0)


def test_n_mpjpe_removes_scale_only():
    gt = _pose(n=3, seed=1)
    assert metrics.n_mpjpe(2.5 * gt, gt) == pytest.approx(0.0, abs=1e-9)
    assert metrics.mpjpe(2.5 * gt, gt) > 100.0
    # Scale is optimal: pred = 2 g with one joint moved; hand value for a 2-joint case.
    g = np.zeros((1, 2, 3))
    g[0, 1] = [1.0, 0.0, 0.0]
    p = np.zeros((1, 2, 3))
    p[0, 1] = [1.0, 1.0, 0.0]  # <p,g>=1, <p,p>=2 -> s=0.5 -> p'=(0.5,0.5,0): error sqrt(0.5) m on one of 2 joints
    assert metrics.n_mpjpe(p, g) == pytest.approx(1000.0 * np.sqrt(0.5) / 2)
    # A rotation is not removed.
    rot = Rotation.from_euler("z", 90, degrees=True).as_matrix()
    assert metrics.n_mpjpe(gt @ rot.T, gt) > 10.0


def test_pa_mpjpe_removes_similarity_transform():
    gt = _pose(n=4, seed=2)
    rots = Rotation.from_euler("xyz", [[10, 20, 30], [90, 0, 0], [0, 180, 0], [-45, 60, 170]], degrees=True).as_matrix()
    pred = 0.7 * np.einsum("nij,nkj->nki", rots, gt) + np.array([0.5, -1.0, 3.0])
    assert metrics.pa_mpjpe(pred, gt) == pytest.approx(0.0, abs=1e-7)
    aligned, (s, r, t) = metrics.procrustes_align(pred, gt, return_transform=True)
    np.testing.assert_allclose(s, 1 / 0.7, rtol=1e-9)
    np.testing.assert_allclose(r, np.transpose(rots, (0, 2, 1)), atol=1e-9)
    np.testing.assert_allclose(s[:, None, None] * np.einsum("nij,nkj->nki", r, pred) + t[:, None], gt, atol=1e-9)


def test_pa_mpjpe_does_not_undo_a_reflection():
    gt = _pose(seed=3)
    mirrored = gt * np.array([-1.0, 1.0, 1.0])  # chiral: no rotation maps it back
    aligned, (s, r, _) = metrics.procrustes_align(mirrored, gt, return_transform=True)
    assert np.linalg.det(r[0]) == pytest.approx(1.0)
    err = metrics.pa_mpjpe(mirrored, gt)
    assert err > 1.0
    # Independent reference: scipy's Kabsch (proper rotation) plus the closed-form optimal scale.
    p0, g0 = mirrored[0] - mirrored[0].mean(0), gt[0] - gt[0].mean(0)
    rot, _ = Rotation.align_vectors(g0, p0)
    rp = rot.apply(p0)
    scale = (rp * g0).sum() / (rp * rp).sum()
    ref = 1000.0 * np.linalg.norm(scale * rp - g0, axis=-1).mean()
    assert err == pytest.approx(ref, rel=1e-6)


def test_pa_mpjpe_planar_mirror_is_a_rotation():
    # A pose in the x-y plane mirrored in x equals itself turned 180 degrees about y: error 0.
    gt = _pose(seed=4)
    gt[..., 2] = 0.0
    assert metrics.pa_mpjpe(gt * np.array([-1.0, 1.0, 1.0]), gt) == pytest.approx(0.0, abs=1e-7)


def test_pa_hand_computed_reflection_case():
    # In principal axes (diagonal second moments a > b > c of x, y, z), the mirror z -> -z is undone
    # at best by the identity rotation with scale (a + b - c) / (a + b + c): the aligned pose is
    # s * (x, y, -z), so joint j is off by ((1 - s) x, (1 - s) y, (1 + s) z).
    p = _pose(seed=10)[0]
    p = p - p.mean(0)
    w, v = np.linalg.eigh(p.T @ p)
    p = p @ v[:, ::-1]  # x: largest variance, z: smallest
    a, b, c = (p**2).sum(0)
    assert a > b > c
    s = (a + b - c) / (a + b + c)
    expected = 1000.0 * np.linalg.norm(p * np.array([1 - s, 1 - s, 1 + s]), axis=-1).mean()
    mirrored = p * np.array([1.0, 1.0, -1.0])
    assert metrics.pa_mpjpe(mirrored[None], p[None]) == pytest.approx(expected, rel=1e-9)
    # A reflection-allowing alignment would have reached 0 here.
    assert expected > 1.0


def test_pck_auc_cps_hand_computed():
    gt = np.zeros((2, 4, 3))
    gt[:, 1:, 0] = [1.0, 2.0, 3.0]  # a line of 4 joints, 1 m apart
    pred = gt.copy()
    # pose 0: errors 0, 0.1, 0.2, 0 m in y (not removable by a similarity? keep them small)
    pred[0, 1, 1] = 0.1
    pred[0, 2, 1] = 0.2
    # pose 1: exact
    err = metrics.joint_errors(pred, gt)
    np.testing.assert_allclose(err, [[0, 100, 200, 0], [0, 0, 0, 0]], atol=1e-9)
    assert metrics.pck3d(pred, gt) == pytest.approx(7 / 8)  # 200 mm > 150 mm
    assert metrics.pck3d(pred, gt, threshold_mm=100.0) == pytest.approx(7 / 8)
    assert metrics.pck3d(pred, gt, threshold_mm=99.0) == pytest.approx(6 / 8)
    # AUC over t = 0, 5, ..., 150: errors of 0 count at every t (31 of 31); the 100 mm error counts
    # at t >= 100 (11 of 31); the 200 mm one never.
    expected_auc = (6 * 31 + 11 + 0) / (8 * 31)
    assert metrics.auc(pred, gt) == pytest.approx(expected_auc)
    # CPS: pose 1 is perfect -> 300; pose 0's worst PA error w gives 300 - w.
    pa = metrics.joint_errors(metrics.procrustes_align(pred, gt), gt)
    w = pa[0].max()
    assert 0 < w < 200
    assert metrics.cps(pred, gt) == pytest.approx((300.0 + 300.0 - w) / 2)
    # The CPS integral numerically: mean over t in [0, 300] of the fraction of correct poses.
    t = np.linspace(0, 300, 300001)
    pcps = ((pa.max(axis=1)[None, :] <= t[:, None]).mean(axis=1))
    assert metrics.cps(pred, gt) == pytest.approx(np.trapz(pcps, t), abs=0.01)


def test_cps_saturates_beyond_300mm():
    gt = _pose(seed=5)
    pred = gt.copy()
    pred[0, 3] += [5.0, 0.0, 0.0]  # 5 m off: no alignment brings every joint within 300 mm
    assert metrics.cps(pred, gt) == 0.0
    assert metrics.cps(gt, gt) == pytest.approx(300.0)


def test_bone_length_error_hand_computed():
    gt = _pose(seed=6)
    pred = gt.copy()
    # Moving the right wrist (a leaf) along its bone by 30 mm changes one bone of 15 by 30 mm.
    wrist = skeleton.JOINT_NAMES.index("right_wrist")
    parent = skeleton.PARENTS[wrist]
    d = gt[0, wrist] - gt[0, parent]
    pred[0, wrist] += 0.03 * d / np.linalg.norm(d)
    assert metrics.bone_length_error(pred, gt) == pytest.approx(30.0 / len(skeleton.BONES))
    # Bone lengths ignore rotation and translation.
    rot = Rotation.from_euler("y", 77, degrees=True).as_matrix()
    assert metrics.bone_length_error(gt @ rot.T + 1.0, gt) == pytest.approx(0.0, abs=1e-9)


def test_evaluate_keys_groups_and_root_alignment():
    gt = _pose(n=6, seed=7) + np.array([0.0, 0.0, 5.0])  # camera frame, 5 m away
    pred = gt - gt[:, :1]  # root-relative prediction of the same shapes
    pred[3:, 2] += [0.0, 0.0, 0.16]  # the second group has one joint 160 mm off
    groups = np.array(["walk"] * 3 + ["dance"] * 3)
    out = metrics.evaluate(pred, gt, groups)
    for key in metrics.METRIC_KEYS:
        assert key in out
    assert out["n_poses"] == 6
    assert out["mpjpe_mm"] == pytest.approx(0.5 * 160.0 / J)
    assert out["pck3d"] == pytest.approx(1 - 3 / (6 * J))
    assert out["per_group"]["walk"]["mpjpe_mm"] == pytest.approx(0.0, abs=1e-9)
    assert out["per_group"]["dance"]["mpjpe_mm"] == pytest.approx(160.0 / J)
    assert out["per_group"]["dance"]["n_poses"] == 3
    assert out["per_joint_mm"][2] == pytest.approx(80.0)
    assert len(out["per_joint_mm"]) == J
    # The scalar functions agree with evaluate on root-centred input.
    rc_pred, rc_gt = metrics.root_center(pred), metrics.root_center(gt)
    assert out["pa_mpjpe_mm"] == pytest.approx(metrics.pa_mpjpe(rc_pred, rc_gt))
    assert out["n_mpjpe_mm"] == pytest.approx(metrics.n_mpjpe(rc_pred, rc_gt))
    assert out["auc"] == pytest.approx(metrics.auc(rc_pred, rc_gt))
    assert out["cps"] == pytest.approx(metrics.cps(rc_pred, rc_gt))
    assert out["bone_err_mm"] == pytest.approx(metrics.bone_length_error(rc_pred, rc_gt))


def test_bad_input_is_refused():
    gt = _pose(n=2)
    with pytest.raises(ValueError, match="differ in shape"):
        metrics.mpjpe(gt[:1], gt)
    bad = gt.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        metrics.evaluate(bad, gt)
    with pytest.raises(ValueError, match="one label per pose"):
        metrics.evaluate(gt, gt, groups=["a"])


def test_large_split_is_fast_enough_to_run():
    # 40k poses: the vectorised path must handle the test split's size (no timing assertion).
    gt = _pose(n=40000, seed=8)
    pred = gt + np.random.default_rng(9).normal(scale=0.02, size=gt.shape)
    out = metrics.evaluate(pred, gt, groups=np.arange(40000) % 7)
    assert out["n_poses"] == 40000
    assert 0 < out["pa_mpjpe_mm"] < out["mpjpe_mm"]
