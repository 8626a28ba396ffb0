"""`hpe3d lift` end to end on tiny models: outputs, intrinsics fallback, and every bad input."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hpe3d_ros import camera, skeleton
from hpe3d_ros.cli import main
from hpe3d_ros.lifting import Lifter
from hpe3d_ros.manifest import manifest_path
from hpe3d_ros.poses_io import save_npz_atomic
from tests.hpe3d_ros.runtime.tiny_lifters import constant_depth_onnx

K = camera.intrinsics_from_fov(640, 480, 70.0)
REPO = Path(__file__).resolve().parents[2]


def _poses(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = np.column_stack([np.linspace(280, 360, 16), np.linspace(120, 400, 16)])
    return base[None] + rng.normal(0, 5, (n, 16, 2))


@pytest.fixture
def model(tmp_path):
    depth = np.linspace(-0.1, 0.1, 16)
    return constant_depth_onnx(tmp_path / "tiny.onnx", depth, elevation=0.25, normalization="elepose")


def test_lift_writes_all_outputs_matching_the_lifter(tmp_path, model):
    kp, scores = _poses(7), np.random.default_rng(1).uniform(0.3, 1, (7, 16))
    inp = save_npz_atomic(
        tmp_path / "in.npz",
        keypoints=kp,
        scores=scores,
        intrinsics=K,
        frame=np.arange(7),
        joints3d=np.zeros((7, 16, 3)),
    )
    out = tmp_path / "out" / "poses3d.npz"
    assert (
        main(
            [
                "lift",
                "--model",
                str(model),
                "--input",
                str(inp),
                "--output",
                str(out),
                "--batch-size",
                "3",
                "--height",
                "1.8",
            ]
        )
        == 0
    )
    with np.load(out) as f:
        res = {k: f[k] for k in f.files}
    ref = Lifter(model, backend="onnxruntime").lift(kp, K, scores, height_m=1.8)
    np.testing.assert_allclose(res["joints3d"], ref.joints_optical, atol=1e-9)
    np.testing.assert_allclose(res["joints_upright"], ref.joints_upright, atol=1e-9)
    np.testing.assert_allclose(res["plausibility"], ref.plausibility, rtol=1e-6)
    assert res["joints3d"].shape == (7, 16, 3) and res["shape"].shape == (7, 16, 3)
    _, rot = camera.pixels_to_root_camera(kp, K)  # the model's 0.25 rad is the virtual camera's pitch
    np.testing.assert_allclose(res["elevation"], camera.elevation_in_optical(np.full(7, 0.25), rot), atol=1e-6)
    np.testing.assert_array_equal(res["frame"], np.arange(7))
    np.testing.assert_array_equal(res["keypoints"], kp)
    np.testing.assert_array_equal(res["input_joints3d"], np.zeros((7, 16, 3)))  # ground truth kept, renamed
    assert list(res["joint_names"]) == list(skeleton.JOINT_NAMES) and str(res["backend"]) == "onnxruntime"


def test_per_frame_intrinsics_and_fov_fallback(tmp_path, model):
    kp = _poses(4)
    ks = np.stack([K] * 4)
    a = save_npz_atomic(tmp_path / "a.npz", keypoints=kp, intrinsics=ks)
    b = save_npz_atomic(tmp_path / "b.npz", keypoints=kp, image_size=np.array([640, 480]))
    assert main(["lift", "--model", str(model), "--input", str(a), "--output", str(tmp_path / "a3.npz")]) == 0
    assert (
        main(["lift", "--model", str(model), "--input", str(b), "--output", str(tmp_path / "b3.npz"), "--hfov", "70"])
        == 0
    )
    with np.load(tmp_path / "a3.npz") as fa, np.load(tmp_path / "b3.npz") as fb:
        np.testing.assert_allclose(fa["joints3d"], fb["joints3d"], atol=1e-9)
        np.testing.assert_allclose(fb["intrinsics"], K)


def _fails(args, tmp_path, capsys, message):
    out = tmp_path / "never.npz"
    rc = main(["lift", *args, "--output", str(out)])
    err = capsys.readouterr().err
    assert rc == 1, err
    assert message in err, err
    assert not out.exists() and not list(tmp_path.glob("never.npz*"))
    return err


def test_missing_intrinsics_needs_hfov(tmp_path, model, capsys):
    inp = save_npz_atomic(tmp_path / "in.npz", keypoints=_poses(2), image_size=np.array([640, 480]))
    _fails(["--model", str(model), "--input", str(inp)], tmp_path, capsys, "--hfov")
    bare = save_npz_atomic(tmp_path / "bare.npz", keypoints=_poses(2))
    _fails(["--model", str(model), "--input", str(bare), "--hfov", "60"], tmp_path, capsys, "no 'image_size'")


@pytest.mark.parametrize(
    "arrays, message",
    [
        ({"keypoints": np.full((3, 16, 2), np.nan)}, "NaN"),
        ({"keypoints": np.zeros((3, 17, 2))}, "(N, 16, 2)"),
        ({"keypoints": np.zeros((3, 16, 2)), "scores": np.ones((3, 4))}, "'scores'"),
        ({"keypoints": np.zeros((3, 16, 2)), "intrinsics": np.zeros((3, 3))}, "positive focal"),
        ({"frames": np.zeros(3)}, "no 'keypoints'"),
    ],
)
def test_bad_pose_files_name_the_file(tmp_path, model, capsys, arrays, message):
    inp = save_npz_atomic(tmp_path / "bad.npz", **arrays)
    err = _fails(["--model", str(model), "--input", str(inp), "--hfov", "60"], tmp_path, capsys, message)
    assert "bad.npz" in err


def test_truncated_input_and_bad_model(tmp_path, model, capsys):
    good = save_npz_atomic(tmp_path / "good.npz", keypoints=_poses(2), intrinsics=K)
    trunc = tmp_path / "trunc.npz"
    trunc.write_bytes(good.read_bytes()[:40])
    _fails(["--model", str(model), "--input", str(trunc)], tmp_path, capsys, "not a readable .npz")
    m = json.loads(manifest_path(model).read_text())
    m["normalization"]["kind"] = "tipsy-v0"
    manifest_path(model).write_text(json.dumps(m))
    _fails(["--model", str(model), "--input", str(good)], tmp_path, capsys, "normalisation")
    _fails(["--model", str(tmp_path / "nope.onnx"), "--input", str(good)], tmp_path, capsys, "nope.onnx")


def test_output_may_not_overwrite_input(tmp_path, model, capsys):
    inp = save_npz_atomic(tmp_path / "in.npz", keypoints=_poses(1), intrinsics=K)
    rc = main(["lift", "--model", str(model), "--input", str(inp), "--output", str(inp)])
    assert rc == 1 and "overwrite" in capsys.readouterr().err


def test_console_command_in_a_subprocess(tmp_path, model):
    inp = save_npz_atomic(tmp_path / "in.npz", keypoints=_poses(2), intrinsics=K)
    out = tmp_path / "out.npz"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "hpe3d_ros.cli",
            "lift",
            "--model",
            str(model),
            "--input",
            str(inp),
            "--output",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr
    assert "lifted 2 pose(s)" in proc.stdout
    with np.load(out) as f:
        assert f["joints3d"].shape == (2, 16, 3) and np.all(np.isfinite(f["joints3d"]))


def test_lifting_with_onnxruntime_does_not_import_torch(model):
    """The node and `hpe3d lift` stay light: the ONNX Runtime path never imports torch."""
    code = (
        "import sys, numpy as np; from hpe3d_ros.lifting import Lifter; "
        f"r = Lifter({str(model)!r}).lift(np.random.rand(2, 16, 2) * 100 + 200, np.diag([500.0, 500.0, 1.0])); "
        "assert r.joints_optical.shape == (2, 16, 3); print('torch' in sys.modules)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"
