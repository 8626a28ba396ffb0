"""Lifter (contract 6) with real ONNX Runtime on tiny models built here."""
from __future__ import annotations

import json

import numpy as np
import pytest

from hpe3d_ros import camera, normalization, skeleton
from hpe3d_ros.lifting import Lifter
from hpe3d_ros.manifest import ManifestError, manifest_path
from tests.hpe3d_ros.runtime.tiny_lifters import constant_depth_onnx, write_manifest

# A standing pose in world coordinates (x forward, y left, z up), scaled to the reference body.
_WORLD = np.array([
    [0, 0, 1.0], [0, -0.1, 1.0], [0.05, -0.1, 0.55], [0, -0.1, 0.1], [0, 0.1, 1.0], [-0.05, 0.1, 0.55], [0, 0.1, 0.1],
    [0, 0, 1.25], [0, 0, 1.5], [0, 0, 1.68], [0, 0.18, 1.5], [0.1, 0.3, 1.3], [0.3, 0.3, 1.25],
    [0, -0.18, 1.5], [0, -0.35, 1.3], [0, -0.4, 1.05],
])
WORLD = _WORLD * skeleton.REFERENCE_BONE_SUM_M / skeleton.bone_lengths(_WORLD).sum()
K = camera.intrinsics_from_fov(640, 480, 70.0)


def pose_in_camera(elevation: float, distance: float, azimuth: float = 0.7, offset=(0.0, 0.0)) -> np.ndarray:
    r = camera.optical_from_world_rotation(azimuth, elevation)
    p = WORLD @ r.T
    return p - p[0] + np.array([offset[0], offset[1], distance])


@pytest.mark.parametrize("kind", normalization.KINDS)
@pytest.mark.parametrize("elevation", [0.0, 0.3, 0.8])
@pytest.mark.parametrize("distance", [4.0, 6.0])
def test_lift_recovers_synthetic_pose(tmp_path, kind, elevation, distance):
    """A model that returns the pose's true depths: the lift recovers its 3D (the remaining error is
    the normalisations' perspective approximation, a few cm at these distances) and gravity."""
    truth = pose_in_camera(elevation, distance)
    uv = camera.project(truth, K)
    model = constant_depth_onnx(
        tmp_path / "m.onnx", normalization.depth_target(truth, kind), elevation=elevation, normalization=kind
    )
    res = Lifter(model, backend="onnxruntime").lift(uv[None], K, height_m=skeleton.REFERENCE_HEIGHT_M)
    assert res.joints_optical.shape == (1, 16, 3) and res.backend == "onnxruntime"
    rel = res.joints_optical[0] - res.joints_optical[0, 0]
    assert np.linalg.norm(rel - (truth - truth[0]), axis=-1).mean() < 0.035
    assert np.linalg.norm(res.translation[0] - truth[0]) < 0.03 * distance
    np.testing.assert_allclose(res.translation[0], res.joints_optical[0, 0], atol=1e-9)
    # Upright frame: pelvis -> head points against +y (gravity) within a few degrees.
    up = res.joints_upright[0, skeleton.HEAD] - res.joints_upright[0, skeleton.ROOT]
    assert np.degrees(np.arccos(-up[1] / np.linalg.norm(up))) < 5.0
    np.testing.assert_allclose(res.elevation, [elevation], atol=1e-6)
    # The metric skeleton has the prior's bone-length sum.
    assert skeleton.bone_lengths(res.joints_optical[0]).sum() == pytest.approx(skeleton.REFERENCE_BONE_SUM_M, rel=1e-6)


def test_wrong_elevation_tilts_upright_frame(tmp_path):
    """The upright check above can fail: a model claiming elevation 0 for a 0.8 rad view leaves the body tilted."""
    truth = pose_in_camera(0.8, 5.0)
    model = constant_depth_onnx(tmp_path / "m.onnx", normalization.depth_target(truth, "tipsy"), elevation=0.0)
    res = Lifter(model, backend="onnxruntime").lift(
        camera.project(truth, K)[None], K, height_m=skeleton.REFERENCE_HEIGHT_M
    )
    up = res.joints_upright[0, skeleton.HEAD] - res.joints_upright[0, skeleton.ROOT]
    assert np.degrees(np.arccos(-up[1] / np.linalg.norm(up))) > 30.0


def test_batch_equals_single_lifts_and_height_prior(tmp_path):
    """Several people (per-person K and scores) in one call give what separate calls give."""
    truths = [
        pose_in_camera(0.2, 5.0, az, off) for az, off in [(0.3, (-1.0, 0.2)), (2.0, (0.5, 0.0)), (-1.2, (1.5, -0.1))]
    ]
    ks = np.stack([K, camera.intrinsics_from_fov(640, 480, 60.0), K])
    uv = np.stack([camera.project(t, k) for t, k in zip(truths, ks)])
    scores = np.random.default_rng(0).uniform(0.2, 1.0, (3, 16))
    model = constant_depth_onnx(tmp_path / "m.onnx", normalization.depth_target(truths[0], "tipsy"), elevation=0.2)
    lifter = Lifter(model, backend="onnxruntime")
    batch = lifter.lift(uv, ks, scores, height_m=1.8)
    assert batch.plausibility is not None and batch.plausibility.shape == (3,)
    for i in range(3):
        one = lifter.lift(uv[i : i + 1], ks[i], scores[i : i + 1], height_m=1.8)
        np.testing.assert_allclose(batch.joints_optical[i], one.joints_optical[0], atol=1e-6)
        np.testing.assert_allclose(batch.plausibility[i], one.plausibility[0], rtol=1e-5)
    np.testing.assert_array_equal(batch.confidence, scores)
    bone_sum = skeleton.bone_lengths(batch.joints_optical).sum(-1)
    np.testing.assert_allclose(bone_sum, skeleton.REFERENCE_BONE_SUM_M * 1.8 / skeleton.REFERENCE_HEIGHT_M, rtol=1e-6)


def test_model_without_elevation_gives_zero_and_upright_equals_optical(tmp_path):
    model = constant_depth_onnx(tmp_path / "m.onnx", np.zeros(16), elevation=None, with_nll=False)
    lifter = Lifter(model, backend="onnxruntime")
    res = lifter.lift(camera.project(pose_in_camera(0.0, 5.0), K)[None], K)
    assert res.plausibility is None
    np.testing.assert_array_equal(res.elevation, [0.0])
    np.testing.assert_array_equal(res.joints_upright, res.joints_optical)


def test_empty_batch(tmp_path):
    lifter = Lifter(constant_depth_onnx(tmp_path / "m.onnx", np.zeros(16), elevation=0.1), backend="onnxruntime")
    res = lifter.lift(np.zeros((0, 16, 2)), K)
    assert res.joints_optical.shape == (0, 16, 3) and res.elevation.shape == (0,) and len(res) == 0


def _edit_manifest(model, **changes):
    path = manifest_path(model)
    m = json.loads(path.read_text())
    for dotted, value in changes.items():
        d = m
        *parents, leaf = dotted.split(".")
        for p in parents:
            d = d[p]
        d[leaf] = value
    path.write_text(json.dumps(m))


@pytest.mark.parametrize(
    "change, field",
    [
        ({"layout.hash": "0123456789abcdef"}, "hash"),
        ({"layout.joints": list(reversed(skeleton.JOINT_NAMES))}, "joints"),
        ({"normalization.kind": "h36m"}, "normalisation"),
        ({"normalization.depth_offset": 5.0}, "depth_offset"),
        ({"model_sha256": "0" * 64}, "sha256"),
    ],
)
def test_manifest_disagreeing_with_runtime_is_refused(tmp_path, change, field):
    model = constant_depth_onnx(tmp_path / "m.onnx", np.zeros(16), elevation=0.1, normalization="elepose")
    _edit_manifest(model, **change)
    with pytest.raises(ManifestError, match=field):
        Lifter(model, backend="onnxruntime")


def test_manifest_outputs_must_match_model(tmp_path):
    model = constant_depth_onnx(tmp_path / "m.onnx", np.zeros(16), elevation=None, with_nll=True)
    write_manifest(model, "tipsy", ["depth", "elevation", "nll"])  # claims an elevation head it lacks
    with pytest.raises(ManifestError, match="'outputs'.*elevation"):
        Lifter(model, backend="onnxruntime")


def test_missing_manifest_is_refused(tmp_path):
    model = constant_depth_onnx(tmp_path / "m.onnx", np.zeros(16), manifest=False)
    with pytest.raises(ManifestError, match="no manifest"):
        Lifter(model, backend="onnxruntime")


@pytest.mark.parametrize(
    "kp, k, scores, message",
    [
        (np.zeros((2, 17, 2)), K, None, "keypoints_px must have shape"),
        (np.full((1, 16, 2), np.nan), K, None, "NaN"),
        (np.ones((2, 16, 2)), np.zeros((3, 3)), None, "uncalibrated"),
        (np.ones((2, 16, 2)), np.stack([K] * 3), None, "intrinsics must have shape"),
        (np.ones((2, 16, 2)), K, np.ones((2, 15)), "scores must have shape"),
    ],
)
def test_bad_lift_input_is_a_clear_error(tmp_path, kp, k, scores, message):
    lifter = Lifter(constant_depth_onnx(tmp_path / "m.onnx", np.zeros(16)), backend="onnxruntime")
    with pytest.raises(ValueError, match=message):
        lifter.lift(kp, k, scores)


def test_default_height_prior_is_an_adult(tmp_path):
    model = constant_depth_onnx(tmp_path / "m.onnx", normalization.depth_target(pose_in_camera(0.2, 5.0), "tipsy"))
    res = Lifter(model, backend="onnxruntime").lift(camera.project(pose_in_camera(0.2, 5.0), K)[None], K)
    expected = skeleton.REFERENCE_BONE_SUM_M * 1.70 / skeleton.REFERENCE_HEIGHT_M
    assert skeleton.bone_lengths(res.joints_optical[0]).sum() == pytest.approx(expected, rel=1e-6)


def test_non_finite_model_output_is_flagged_not_raised(tmp_path):
    """A model that returns NaN for someone must not stop the node: the person is marked invalid."""
    depth = np.zeros(16)
    depth[3] = np.nan
    lifter = Lifter(constant_depth_onnx(tmp_path / "m.onnx", depth, elevation=0.1), backend="onnxruntime")
    res = lifter.lift(camera.project(pose_in_camera(0.1, 5.0), K)[None], K)
    assert res.valid.tolist() == [False]
    good = Lifter(constant_depth_onnx(tmp_path / "g.onnx", np.zeros(16), elevation=0.1), backend="onnxruntime")
    assert good.lift(camera.project(pose_in_camera(0.1, 5.0), K)[None], K).valid.tolist() == [True]


def test_model_with_wrong_output_shape_is_refused_at_start_up(tmp_path):
    import onnx
    from onnx import TensorProto, helper

    from hpe3d_ros.runtime import ModelInterfaceError

    x = helper.make_tensor_value_info("poses2d", TensorProto.FLOAT, ["batch", 16, 2])
    y = helper.make_tensor_value_info("depth", TensorProto.FLOAT, ["batch", 16, 2])
    model = helper.make_model(
        helper.make_graph([helper.make_node("Identity", ["poses2d"], ["depth"])], "g", [x], [y]),
        opset_imports=[helper.make_opsetid("", 17)],
    )
    model.ir_version = 8
    path = tmp_path / "wrong.onnx"
    onnx.save(model, str(path))
    write_manifest(path, "tipsy", ["depth"])
    with pytest.raises(ModelInterfaceError, match="'depth' has shape"):
        Lifter(path, backend="onnxruntime")


@pytest.mark.parametrize("kind", normalization.KINDS)
def test_oracle_lift_of_bundled_mocap_fixture(kind):
    """recover_3d (what Lifter.lift runs after the network) with the true depths and elevation of
    the bundled evaluation fixture (real mocap through virtual cameras): distance and shape are
    recovered, and a wrong height prior biases the distance by the relative height error."""
    from hpe3d_ros.lifting import recover_3d
    from hpe3d_ros.paths import package_data_dir

    with np.load(package_data_dir() / "eval_fixture.npz") as f:
        d = {k: f[k].astype(np.float64) for k in ("keypoints", "intrinsics", "scores", "joints3d", "elevation")}
    d = {k: v[:500] for k, v in d.items()}
    norm, _ = normalization.normalize_2d(camera.pixels_to_normalized(d["keypoints"], d["intrinsics"]), kind)
    oracle = {"depth": normalization.depth_target(d["joints3d"], kind), "elevation": d["elevation"]}
    gt = d["joints3d"]
    dist = np.linalg.norm(gt[:, 0], axis=-1)
    for height, bias in ((skeleton.REFERENCE_HEIGHT_M, 0.0), (1.70, 1.70 / skeleton.REFERENCE_HEIGHT_M - 1)):
        res = recover_3d(d["keypoints"], d["intrinsics"], d["scores"], norm, oracle, kind, height)
        derr = np.linalg.norm(res.translation, axis=-1) / dist - 1
        assert abs(np.median(derr) - bias) < 0.01
    rel = np.linalg.norm((res.joints_optical - res.joints_optical[:, :1]) / (1 + bias) - (gt - gt[:, :1]), axis=-1)
    assert np.median(rel) < 0.015
    assert res.valid.all()


def test_pool_elevation_gives_one_camera_one_elevation(tmp_path):
    from tests.hpe3d_ros.runtime.tiny_lifters import export_onnx, tiny_mlp

    model = export_onnx(tiny_mlp(seed=11), tmp_path / "mlp.onnx")
    lifter = Lifter(model, backend="onnxruntime")
    people = np.stack(
        [camera.project(pose_in_camera(0.3, 5.0, az, (x, 0.0)), K) for az, x in [(0.2, -1.5), (1.9, 0.0), (-2.5, 1.5)]]
    )
    free = lifter.lift(people, K)
    pooled = lifter.lift(people, K, pool_elevation=True)
    assert np.ptp(free.elevation) > 0  # the tiny network's estimates differ per person
    np.testing.assert_allclose(pooled.elevation, np.median(free.elevation))
    np.testing.assert_allclose(pooled.joints_optical, free.joints_optical)  # elevation only rotates the upright frame
    single = lifter.lift(people[:1], K, pool_elevation=True)
    np.testing.assert_allclose(single.elevation, free.elevation[:1])
