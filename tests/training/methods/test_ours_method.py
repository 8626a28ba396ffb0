"""The "ours" training method (TIPSy part teachers + ElePose elevation head and flow prior, distilled):
losses decrease on a tiny set, export parity, checkpoint round trip, resume (CPU, seconds)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch

from hpe3d_ros import skeleton
from training.config import load_config
from training.export import export_checkpoint
from training.methods import create_method, get_method
from training.models.ours import PartsElevationLifter
from training.trainer import (
    CHECKPOINT_FORMAT,
    atomic_torch_save,
    load_checkpoint,
    load_method_state,
    method_from_checkpoint,
    method_state,
    train,
)

REPO = Path(__file__).resolve().parents[3]
TINY = REPO / "config" / "train" / "ours" / "ours_synthetic-2d_tiny.yaml"
FAST = ["data.synthetic_poses=256", "val.max_poses=64", "flow_pretrain.pca_samples=128", "batch_size=64"]


def _poses2d(n: int = 64, seed: int = 0) -> torch.Tensor:
    """Normalised ("elepose") 2D of procedural poses seen by the default virtual cameras."""
    from hpe3d_ros import camera, normalization
    from training.data.batches import synthetic_poses

    joints = synthetic_poses(n, seed).astype(np.float64)
    cams = camera.sample_cameras(n, joints[:, skeleton.ROOT], camera.VirtualCameraConfig(), np.random.default_rng(seed))
    pc = cams.to_optical(joints)
    return torch.tensor(normalization.normalize_2d(pc[..., :2] / pc[..., 2:3], "elepose")[0], dtype=torch.float32)


def _method(overrides: list[str] | None = None):
    cfg = load_config(TINY, FAST + list(overrides or []))
    torch.manual_seed(0)
    return create_method(cfg, torch.device("cpu")), cfg


def _state(m, cfg, epoch: int) -> dict:
    return {
        "format": CHECKPOINT_FORMAT, "config": cfg, "epoch": epoch, "best": {}, **method_state(m),
    }


def _through_flow(m, x: torch.Tensor) -> None:
    """Fit the prior's PCA on x (one flow epoch of one batch)."""
    m.train_step({"poses2d": x})
    m.train_step({"poses2d": x})
    m.end_epoch(0)
    assert m.stage == "teacher" and m.prior.fitted


def test_registered_unsupervised_and_parts_are_independent():
    cls = get_method("ours")
    assert cls.normalization == "elepose" and cls.needs_3d is False
    net = PartsElevationLifter(width=16, blocks=1).eval()
    x = _poses2d(8)
    y = x.clone()
    y[:, list(skeleton.LEGS)] += 0.01  # move only the legs' 2D
    a, b = net(x), net(y)
    torso = [j for j in skeleton.TORSO if j != skeleton.ROOT]
    assert torch.equal(a["depth"][:, torso], b["depth"][:, torso])  # the torso generator never reads the legs
    assert not torch.equal(a["depth"][:, list(skeleton.LEGS)], b["depth"][:, list(skeleton.LEGS)])
    assert torch.all(a["depth"][:, skeleton.ROOT] == 0) and a["elevation"].shape == (8,)


@pytest.mark.parametrize("teacher", ["whole", "parts"])
def test_flow_teacher_and_distill_losses_decrease(teacher):
    m, _ = _method(["optim.lr=0.003", "optim.distill_lr=0.003", "flow_pretrain.lr=0.003", f"model.teacher={teacher}",
                    "loss.mirror=true"])
    x = _poses2d(128)
    m.train_step({"poses2d": x})  # buffers 128 poses = pca_samples: the PCA is fitted
    flow = [m.train_step({"poses2d": x})["flow_nll"] for _ in range(12)]
    assert np.mean(flow[-3:]) < np.mean(flow[:3])
    m.end_epoch(0)
    torch.manual_seed(1)
    teacher = [m.train_step({"poses2d": x})["loss"] for _ in range(30)]
    assert np.mean(teacher[-5:]) < np.mean(teacher[:5])
    m.end_epoch(1)
    assert m.selection_score(x) is None and m.best_teacher["epoch"] == 1  # recorded, not reported
    assert m.stage == "distill"
    distill = [m.train_step({"poses2d": x})["distill"] for _ in range(30)]
    assert np.mean(distill[-5:]) < 0.5 * np.mean(distill[:5])
    m.end_epoch(2)
    assert m.lifter().lifter is m.student and np.isfinite(m.selection_score(x))


def test_export_parity_depth_elevation_nll(tmp_path):
    m, cfg = _method()
    x = _poses2d(128)
    _through_flow(m, x)
    for _ in range(2):
        m.train_step({"poses2d": x})
    m.end_epoch(1)
    m.selection_score(x)
    for _ in range(2):
        m.train_step({"poses2d": x})
    m.end_epoch(2)
    atomic_torch_save(_state(m, cfg, 2), tmp_path / "c.pt")
    onnx_path, manifest_path = export_checkpoint(tmp_path / "c.pt", tmp_path / "ours.onnx")
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    assert [o.name for o in sess.get_outputs()] == ["depth", "elevation", "nll"]
    assert sess.get_inputs()[0].shape[0] == "batch"
    xs = _poses2d(20, seed=3)
    got = sess.run(None, {"poses2d": xs.numpy()})
    with torch.no_grad():
        want = m.lifter().eval()(xs)
    for name, g in zip(["depth", "elevation", "nll"], got):
        np.testing.assert_allclose(g, want[name].numpy(), atol=1e-4, rtol=1e-4, err_msg=name)


def test_checkpoint_round_trip_restores_outputs_and_training(tmp_path):
    m, cfg = _method()
    x = _poses2d(128)
    _through_flow(m, x)
    m.train_step({"poses2d": x[:64]})
    m.end_epoch(1)
    m.selection_score(x)
    m.train_step({"poses2d": x[64:]})  # first distill step: the student takes over
    atomic_torch_save(_state(m, cfg, 1), tmp_path / "c.pt")
    ckpt = load_checkpoint(tmp_path / "c.pt")  # weights_only=True
    m2 = create_method(ckpt["config"], torch.device("cpu"))
    load_method_state(m2, ckpt)
    assert m2.stage == "distill" and m2.distill_steps == 1 and m2.best_teacher["epoch"] == 1
    with torch.no_grad():
        a, b = m.lifter().eval()(x), m2.lifter().eval()(x)
    for k in ("depth", "elevation", "nll"):
        assert torch.equal(a[k], b[k]), k
    torch.manual_seed(5)
    la = m.train_step({"poses2d": x[:64]})
    torch.manual_seed(5)
    lb = m2.train_step({"poses2d": x[:64]})
    assert la == lb
    rebuilt, _ = method_from_checkpoint(tmp_path / "c.pt")
    assert rebuilt.lifter().lifter is rebuilt.student


def test_resumed_run_matches_uninterrupted(tmp_path):
    """Resume from the teacher epoch's checkpoint: the distilled result equals the uninterrupted run's."""
    over = FAST + ["data.synthetic_poses=192", "keep_epoch_checkpoints=true"]
    full = train(load_config(TINY, over), out_dir=tmp_path / "full", progress=False)
    assert full["best"]["criterion"] == "selection_score" and full["best"]["epoch"] == 2
    part = tmp_path / "part"
    part.mkdir()
    (part / "last.pt").write_bytes((tmp_path / "full" / "epoch_001.pt").read_bytes())
    resumed = train(load_config(TINY, over), out_dir=part, resume=True, progress=False)
    assert resumed["history"][-1]["val"] == full["history"][-1]["val"]
    a = torch.load(tmp_path / "full" / "last.pt", weights_only=True)
    b = torch.load(part / "last.pt", weights_only=True)
    for k in a["modules"]:
        for n, t in a["modules"][k].items():
            assert torch.equal(t, b["modules"][k][n]), (k, n)


def _teacher_checkpoints(tmp_path) -> list[str]:
    """Two tiny ours checkpoints (seeds 0, 1) after one teacher step, to distil from."""
    paths = []
    for seed in (0, 1):
        m, cfg = _method([f"seed={seed}"])
        x = _poses2d(128, seed=seed)
        _through_flow(m, x)
        m.train_step({"poses2d": x})
        atomic_torch_save(_state(m, cfg, 1), tmp_path / f"t{seed}.pt")
        paths.append(str(tmp_path / f"t{seed}.pt"))
    return paths


def test_distill_from_external_teachers_uses_their_mean(tmp_path):
    """distill.teachers: a distil-only run (no own teacher) learns the mean of frozen checkpoints."""
    paths = _teacher_checkpoints(tmp_path)
    over = ["epochs=1", "distill.epochs=1", "distill.own_teacher=false", f"distill.teachers={paths}",
            f"flow_pretrain.init={paths[0]}", "optim.distill_lr=0.003"]
    m, _ = _method(over)
    assert m.stage == "distill" and m.prior.fitted
    x = _poses2d(64, seed=4)
    teachers = m.extra_teachers()
    assert len(teachers) == 2
    with torch.no_grad():
        want = (teachers[0](x)["depth"] + teachers[1](x)["depth"]) / 2
    torch.testing.assert_close(m.teacher_targets(x)["depth"], want)
    losses = [m.train_step({"poses2d": x})["distill"] for _ in range(25)]
    assert np.mean(losses[-5:]) < 0.5 * np.mean(losses[:5])
    assert m.lifter().lifter is m.student


def test_student_can_start_from_the_first_teacher_and_export_flip_averaged(tmp_path):
    """distill.init_student: first_teacher copies teachers[0] into the student before the first step;
    model.flip_average wraps the exported lifter so that it averages each pose with its mirror image."""
    from training.losses.elepose import FlipAveraged

    paths = _teacher_checkpoints(tmp_path)
    over = ["epochs=1", "distill.epochs=1", "distill.own_teacher=false", f"distill.teachers={paths}",
            f"flow_pretrain.init={paths[0]}", "optim.distill_lr=0.0", "distill.init_student=first_teacher",
            "model.flip_average=true", "model.student_head_blocks=1"]
    m, _ = _method(over)
    x = _poses2d(64, seed=4)
    first = m.extra_teachers()[0]
    with torch.no_grad():
        assert not torch.allclose(m.student(x)["depth"], first(x)["depth"])  # random before the first step
    m.train_step({"poses2d": x})  # lr 0: the step changes nothing but the initialisation
    m.student.eval()
    with torch.no_grad():
        torch.testing.assert_close(m.student(x)["depth"], first(x)["depth"])
    lifter = m.lifter()
    assert isinstance(lifter.lifter, FlipAveraged) and lifter.lifter.lifter is m.student
    with pytest.raises(ValueError, match="init_student"):
        _method(["distill.init_student=best"])
