"""`hpe3d eval` end to end: a tiny ONNX lifter built here, a synthetic evaluation set with known
answers, real ONNX Runtime through hpe3d_ros.lifting.Lifter, JSON keys, report and refusals."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from hpe3d_ros import camera, manifest, skeleton
from hpe3d_ros import pose_metrics as metrics
from hpe3d_ros.cli import main
from training import evaluation

J = skeleton.NUM_JOINTS

# A standing person in the optical frame (x right, y down), metres, layout order.
TEMPLATE = np.array([
    [0.0, 0.0, 0.0], [-0.1, 0.0, 0.0], [-0.1, 0.45, 0.0], [-0.1, 0.9, 0.0],  # pelvis, right leg
    [0.1, 0.0, 0.0], [0.1, 0.45, 0.0], [0.1, 0.9, 0.0],  # left leg
    [0.0, -0.25, 0.0], [0.0, -0.5, 0.0], [0.0, -0.75, 0.0],  # spine, thorax, head
    [0.18, -0.5, 0.0], [0.2, -0.22, 0.0], [0.22, 0.03, 0.0],  # left arm
    [-0.18, -0.5, 0.0], [-0.2, -0.22, 0.0], [-0.22, 0.03, 0.0],  # right arm
])


def planar_eval_set(n: int = 60, seed: int = 0) -> dict:
    """Fronto-parallel poses (every joint at the same depth) with the reference body's bone sum.

    For these the true per-joint depth is 0 in both normalisations, so a lifter that outputs zero
    depth is exact and ``scale_to_height`` recovers the metric pose: every error is ~0.
    """
    rng = np.random.default_rng(seed)
    poses = np.repeat(TEMPLATE[None], n, axis=0)
    for arm in ((10, 11, 12), (13, 14, 15)):  # swing the arms in the image plane
        ang = rng.uniform(-1.2, 1.2, n)
        c, s = np.cos(ang), np.sin(ang)
        sh = poses[:, arm[0]].copy()
        for j in arm[1:]:
            d = poses[:, j] - sh
            poses[:, j, 0] = sh[:, 0] + c * d[:, 0] - s * d[:, 1]
            poses[:, j, 1] = sh[:, 1] + s * d[:, 0] + c * d[:, 1]
    poses *= (skeleton.REFERENCE_BONE_SUM_M / skeleton.bone_lengths(poses).sum(-1))[:, None, None]
    offset = np.stack([rng.uniform(-1, 1, n), rng.uniform(-0.5, 0.5, n), rng.uniform(4, 9, n)], -1)
    # face each pose to the camera centre: fronto-parallel in the virtual camera that looks at its
    # root, which is how the runtime presents an off-centre person to the lifter
    turn = camera.root_camera_rotation(offset[:, :2] / offset[:, 2:])
    joints3d = np.einsum("nji,nkj->nki", turn, poses - poses[:, :1]) + offset[:, None, :]
    k = np.stack([camera.intrinsics_from_fov(640, 480, f) for f in rng.uniform(50, 90, n)])
    content = np.array(["walk", "dance", "fight"])[np.arange(n) % 3]
    return {
        "keypoints": camera.project(joints3d, k),
        "intrinsics": k,
        "scores": np.full((n, J), 0.9),
        "joints3d": joints3d,
        "elevation": np.radians(rng.uniform(0, 50, n)),
        "content": content,
        "clip": np.array([f"clip{i % 5}" for i in range(n)]),
    }


def linear_lifter(
    path: Path,
    gain: float,
    elevation: float | None = 0.2,
    nll: bool = True,
    normalization: str = "tipsy",
    manifest_outputs: list[str] | None = None,
    **manifest_overrides,
) -> Path:
    """An ONNX lifter with depth_j = gain * x_j (0 -> exact on planar poses), a constant elevation
    and nll = sum of |x|; with its manifest."""
    x = helper.make_tensor_value_info("poses2d", TensorProto.FLOAT, ["batch", J, 2])
    nodes = [
        helper.make_node(
            "Constant", [], ["w"], value=helper.make_tensor("w_v", TensorProto.FLOAT, [2, 1], [gain, 0.0])
        ),
        helper.make_node("Constant", [], ["ax2"], value=helper.make_tensor("ax2_v", TensorProto.INT64, [1], [2])),
        helper.make_node("Constant", [], ["ax1"], value=helper.make_tensor("ax1_v", TensorProto.INT64, [1], [1])),
        helper.make_node("Constant", [], ["ax12"], value=helper.make_tensor("ax12_v", TensorProto.INT64, [2], [1, 2])),
        helper.make_node("MatMul", ["poses2d", "w"], ["d3"]),
        helper.make_node("Squeeze", ["d3", "ax2"], ["depth"]),
    ]
    outs = [helper.make_tensor_value_info("depth", TensorProto.FLOAT, ["batch", J])]
    names = ["depth"]
    if elevation is not None:
        nodes += [
            helper.make_node("Constant", [], ["zero"], value=helper.make_tensor("z_v", TensorProto.FLOAT, [], [0.0])),
            helper.make_node(
                "Constant", [], ["e"], value=helper.make_tensor("e_v", TensorProto.FLOAT, [], [elevation])
            ),
            helper.make_node("ReduceSum", ["depth", "ax1"], ["ds"], keepdims=0),
            helper.make_node("Mul", ["ds", "zero"], ["dz"]),
            helper.make_node("Add", ["dz", "e"], ["elevation"]),
        ]
        outs.append(helper.make_tensor_value_info("elevation", TensorProto.FLOAT, ["batch"]))
        names.append("elevation")
    if nll:
        nodes += [
            helper.make_node("Abs", ["poses2d"], ["ab"]),
            helper.make_node("ReduceSum", ["ab", "ax12"], ["nll"], keepdims=0),
        ]
        outs.append(helper.make_tensor_value_info("nll", TensorProto.FLOAT, ["batch"]))
        names.append("nll")
    model = helper.make_model(
        helper.make_graph(nodes, "linear_lifter", [x], outs),
        opset_imports=[helper.make_opsetid("", 17)],
        producer_name="hpe3d_ros-tests",
    )
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    m = manifest.build_manifest(
        name=path.stem,
        normalization_kind=normalization,
        inputs=[{"name": "poses2d", "shape": ["batch", J, 2], "dtype": "float32"}],
        outputs=[{"name": n} for n in (manifest_outputs or names)],
        training={"data": "none (test model)", "license": "Apache-2.0"},
        command="tests/training/test_cli_eval.py",
    )
    m.update(manifest_overrides)
    manifest.write_bound_manifest(path, m)
    return path


@pytest.fixture()
def eval_file(tmp_path: Path) -> Path:
    data = planar_eval_set()
    path = tmp_path / "planar.npz"
    np.savez(path, **data)
    return path


def _eval_json(capsys, *args) -> dict:
    rc = main(["eval", *map(str, args), "--json"])
    out = capsys.readouterr()
    assert rc == 0, out.err
    return json.loads(out.out)


@pytest.mark.parametrize("norm", ["tipsy", "elepose"])
def test_exact_lifter_scores_perfectly(tmp_path, eval_file, capsys, norm):
    model = linear_lifter(tmp_path / f"zero_{norm}.onnx", gain=0.0, normalization=norm)
    # the set's bodies are the reference body: with its height as the prior, every metric error is ~0
    res = _eval_json(
        capsys,
        "--model",
        model,
        "--data",
        eval_file,
        "--backend",
        "onnxruntime",
        "--height",
        skeleton.REFERENCE_HEIGHT_M,
    )
    for key in (
        *metrics.METRIC_KEYS,
        "model",
        "split",
        "per_content",
        "elevation_err_deg",
        "spearman_nll_pa",
        "per_joint_mm",
    ):
        assert key in res
    assert res["n_poses"] == 60
    assert res["normalization"] == norm
    assert res["backend"] == "onnxruntime"
    assert res["mpjpe_mm"] < 0.05 and res["pa_mpjpe_mm"] < 0.05 and res["n_mpjpe_mm"] < 0.05
    assert res["pck3d"] == 1.0
    assert 30 / 31 <= res["auc"] < 1.0  # t = 0 of the 31 thresholds counts only exact zeros (the root)
    assert res["cps"] == pytest.approx(300.0, abs=0.1)
    assert res["bone_err_mm"] < 0.05
    assert sorted(res["per_content"]) == ["dance", "fight", "walk"]
    assert res["per_content"]["walk"]["n_poses"] == 20
    # Constant predicted elevation 0.2 rad (of the virtual camera looking at each person, turned into
    # the camera's own elevation by the runtime) against the known ground truth.
    data = planar_eval_set()
    _, rot = camera.pixels_to_root_camera(data["keypoints"], data["intrinsics"])
    predicted = camera.elevation_in_optical(np.full(len(rot), 0.2), rot)
    assert res["elevation_err_deg"] == pytest.approx(np.degrees(np.abs(predicted - data["elevation"])).mean(), rel=1e-4)


def test_eval_defaults_to_the_runtime_height_prior(tmp_path, eval_file, capsys):
    """One body-height prior everywhere: `hpe3d eval` scales with the node's, `hpe3d lift`'s and the
    pipeline's default, and MPJPE then carries exactly the prior's scale error (N-MPJPE removes it)."""
    import argparse

    from hpe3d_ros import cli_lift, metric, pipeline
    from hpe3d_ros.node import lift_node

    assert lift_node.PARAM_BY_NAME["body_height_m"].default == metric.DEFAULT_BODY_HEIGHT_M
    assert pipeline.DEFAULTS["body_height_m"] == metric.DEFAULT_BODY_HEIGHT_M
    lift_parser = argparse.ArgumentParser()
    cli_lift.add_arguments(lift_parser)
    assert lift_parser.parse_args(["--input", "x.npz", "--output", "y.npz"]).height == metric.DEFAULT_BODY_HEIGHT_M
    model = linear_lifter(tmp_path / "zero.onnx", gain=0.0)
    res = _eval_json(capsys, "--model", model, "--data", eval_file)
    assert res["height_m"] == metric.DEFAULT_BODY_HEIGHT_M
    data = planar_eval_set()
    gt = data["joints3d"] - data["joints3d"][:, :1]
    expected = (
        1000 * np.linalg.norm(gt * (metric.DEFAULT_BODY_HEIGHT_M / skeleton.REFERENCE_HEIGHT_M - 1), axis=-1).mean()
    )
    assert res["mpjpe_mm"] == pytest.approx(expected, rel=1e-3) and expected > 20
    assert res["n_mpjpe_mm"] < 0.05 and res["pa_mpjpe_mm"] < 0.05


def test_wrong_depth_is_measured(tmp_path, eval_file, capsys):
    model = linear_lifter(tmp_path / "sheared.onnx", gain=0.8)
    res = _eval_json(capsys, "--model", model, "--data", eval_file, "--limit", 30)
    assert res["n_poses"] == 30
    assert res["mpjpe_mm"] > 20.0
    assert res["pa_mpjpe_mm"] <= res["n_mpjpe_mm"] + 1e-6  # PA removes at least what scale removes
    assert res["pck3d"] < 1.0 and res["cps"] < 300.0
    assert -1.0 <= res["spearman_nll_pa"] <= 1.0
    # Elevation bands partition the poses; each band's numbers are those of its poses.
    bands = res["per_elevation"]
    assert sum(b["n_poses"] for b in bands.values()) == 30
    # The CLI's numbers equal the metrics computed here from the same predictions.
    data = evaluation.subset(evaluation.load_eval_file(eval_file), 30)
    pred = evaluation.predict(model, data, backend="onnxruntime")
    direct = metrics.evaluate(pred.joints_m, data["joints3d"])
    for key in ("mpjpe_mm", "n_mpjpe_mm", "pa_mpjpe_mm", "pck3d", "auc", "cps", "bone_err_mm"):
        assert res[key] == pytest.approx(direct[key], rel=1e-9)
    low = np.degrees(data["elevation"]) < 10.0
    assert bands["below_10deg"]["n_poses"] == int(low.sum())
    assert bands["below_10deg"]["mpjpe_mm"] == pytest.approx(
        metrics.mpjpe(metrics.root_center(pred.joints_m[low]), metrics.root_center(data["joints3d"][low])), rel=1e-9
    )


def test_model_without_optional_heads_gives_nulls(tmp_path, eval_file, capsys):
    model = linear_lifter(tmp_path / "depth_only.onnx", gain=0.0, elevation=None, nll=False)
    res = _eval_json(capsys, "--model", model, "--data", eval_file)
    assert res["elevation_err_deg"] is None and res["spearman_nll_pa"] is None


def test_mismatched_manifest_is_refused(tmp_path, eval_file, capsys):
    layout = skeleton.layout_description()
    layout["hash"] = "0000000000000000"
    model = linear_lifter(tmp_path / "other_layout.onnx", gain=0.0, layout=layout)
    rc = main(["eval", "--model", str(model), "--data", str(eval_file), "--json"])
    err = capsys.readouterr()
    assert rc == 1
    assert err.out == ""
    assert "joint layout" in err.err and "hash" in err.err
    # A normalisation constant that differs from the runtime's.
    norm = {"kind": "elepose", "depth_offset": 5.0, "root": 0}
    model = linear_lifter(tmp_path / "other_offset.onnx", gain=0.0, normalization="elepose")
    m = json.loads(manifest.manifest_path(model).read_text())
    m["normalization"] = norm
    manifest.manifest_path(model).write_text(json.dumps(m))
    assert main(["eval", "--model", str(model), "--data", str(eval_file), "--json"]) == 1
    assert "depth_offset" in capsys.readouterr().err
    # Outputs the manifest promises but the model lacks.
    model = linear_lifter(
        tmp_path / "liar.onnx", gain=0.0, elevation=None, manifest_outputs=["depth", "elevation", "nll"]
    )
    assert main(["eval", "--model", str(model), "--data", str(eval_file)]) == 1
    assert "outputs" in capsys.readouterr().err


def test_bad_evaluation_file_is_refused(tmp_path, capsys):
    data = planar_eval_set(n=4)
    data["keypoints"] = data["keypoints"][:, :10]
    path = tmp_path / "bad.npz"
    np.savez(path, **data)
    model = linear_lifter(tmp_path / "m.onnx", gain=0.0)
    assert main(["eval", "--model", str(model), "--data", str(path)]) == 1
    err = capsys.readouterr().err
    assert "bad.npz" in err and "keypoints" in err


def test_report_is_written(tmp_path, eval_file, capsys):
    model = linear_lifter(tmp_path / "sheared.onnx", gain=0.5)
    out = tmp_path / "report"
    res = _eval_json(capsys, "--model", model, "--data", eval_file, "--report", out)
    md = (out / "report.md").read_text()
    assert f"{res['pa_mpjpe_mm']:.1f}" in md
    for png in ("error_per_joint.png", "error_per_content.png", "error_vs_elevation.png", "skeletons.png"):
        data = (out / png).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 1000
        assert png in md
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


def test_spearman_hand_computed():
    assert evaluation.spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert evaluation.spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    # ranks (1,2,3) vs (1,3,2): 1 - 6*sum(d^2)/(n(n^2-1)) = 1 - 6*2/24 = 0.5
    assert evaluation.spearman([1, 2, 3], [5, 9, 7]) == pytest.approx(0.5)
    assert np.isnan(evaluation.spearman([1, 2, 3], [1, 1, 1]))


@pytest.mark.parametrize("split", ["fixture"])
def test_fixture_split(tmp_path, capsys, split):
    pytest.importorskip("training.data.evalset", reason="training.data.evalset (data engineer) has not landed yet")
    model = linear_lifter(tmp_path / "zero.onnx", gain=0.0)
    res = _eval_json(capsys, "--model", model, "--split", split, "--limit", 50)
    assert res["split"] == split and 0 < res["n_poses"] <= 50
    assert res["mpjpe_mm"] > 0 and res["per_content"]


def test_checkpoint_and_its_onnx_export_agree(tmp_path, capsys):
    """A training checkpoint (through the method registry's lifter) and its ONNX export give the
    same metrics on the bundled fixture."""
    pytest.importorskip("training.trainer")
    from training.config import load_config
    from training.trainer import train

    repo = Path(__file__).resolve().parents[2]
    cfg = load_config(
        repo / "config" / "train" / "supervised-martinez" / "supervised-martinez_synthetic_tipsy-norm_tiny.yaml",
        ["epochs=1"],
    )
    train(cfg, out_dir=tmp_path / "run", progress=False)
    capsys.readouterr()
    ckpt = tmp_path / "run" / "last.pt"
    res_pt = _eval_json(capsys, "--model", ckpt, "--split", "fixture", "--limit", 200)
    assert res_pt["backend"] == "torch" and res_pt["n_poses"] == 200
    assert main(["export", "--checkpoint", str(ckpt), "--out", str(tmp_path / "tiny.onnx")]) == 0
    capsys.readouterr()
    res_onnx = _eval_json(
        capsys, "--model", tmp_path / "tiny.onnx", "--split", "fixture", "--limit", 200, "--backend", "onnxruntime"
    )
    for key in ("mpjpe_mm", "n_mpjpe_mm", "pa_mpjpe_mm", "cps", "bone_err_mm"):
        assert res_onnx[key] == pytest.approx(res_pt[key], abs=0.05), key


def test_limit_is_evenly_spaced():
    data = evaluation.validate_eval_set(planar_eval_set(n=60))
    sub = evaluation.subset(data, 6)
    assert len(sub["keypoints"]) == 6
    np.testing.assert_array_equal(sub["joints3d"], data["joints3d"][[0, 12, 24, 35, 47, 59]])
    assert evaluation.subset(data, 100) is data
    with pytest.raises(ValueError, match="limit"):
        evaluation.subset(data, 0)


def test_report_helpers_hand_computed():
    from training import report

    # Bins of 5 degrees: 1 and 4 deg -> bin centre 2.5 (mean 2.0); 7 deg -> 7.5; -3 deg -> -2.5.
    bins = report.elevation_bins(np.radians([1.0, 4.0, 7.0, -3.0]), np.array([1.0, 3.0, 10.0, 5.0]))
    assert [(round(c, 6), v, n) for c, v, n in bins] == [(-2.5, 5.0, 1), (2.5, 2.0, 2), (7.5, 10.0, 1)]
    # Examples: best, intermediate quantiles and worst by PA-MPJPE.
    assert report.pick_examples(np.array([5.0, 1.0, 9.0, 3.0, 7.0]), count=3) == [1, 0, 2]
    assert report.pick_examples(np.array([2.0]), count=4) == [0]
