"""The "tipsy" and "tipsy_solo" training methods: contract, part separation, stages, distillation,
checkpoint round trip, the 3D-free selection score."""
from __future__ import annotations

import io

import pytest
import torch

from hpe3d_ros import skeleton
from tests.training.tipsy_toy import toy_poses2d
from training.config import resolve_config
from training.methods import get_method
from training.trainer import load_method_state, method_state

torch.set_num_threads(1)


def _method(name: str = "tipsy", **over):
    raw = {"method": name, "epochs": 3, "batch_size": 32, "seed": 0,
           "model": {"hidden": 32, "blocks": 4}, "selection": {"rotations": 2}}
    if name == "tipsy":
        raw["stages"] = {"distill_epochs": 1}
    for k, v in over.items():
        raw[k] = {**raw.get(k, {}), **v} if isinstance(v, dict) else v
    cfg = resolve_config(raw)
    return get_method(name)(cfg, torch.device("cpu"))


def test_registered_as_unsupervised_tipsy_normalised_methods():
    for name in ("tipsy", "tipsy_solo"):
        cls = get_method(name)
        assert cls.needs_3d is False and cls.normalization == "tipsy"


def test_generators_see_only_their_own_keypoints():
    m = _method()
    gen = m.generator.eval()
    x = toy_poses2d(8)
    y = x.clone()
    y[:, list(skeleton.LEGS)] += 0.3  # move only the legs
    with torch.no_grad():
        d0, d1 = gen.depth(x), gen.depth(y)
    torch.testing.assert_close(d0[:, list(skeleton.TORSO)], d1[:, list(skeleton.TORSO)])
    assert float((d0[:, list(skeleton.LEGS)] - d1[:, list(skeleton.LEGS)]).abs().max()) > 1e-4
    out = m.lifter()(x)
    assert set(out) == {"depth"} and out["depth"].shape == (8, skeleton.NUM_JOINTS)


def test_gan_step_lowers_the_consistency_losses_on_a_tiny_set():
    for name in ("tipsy", "tipsy_solo"):
        m = _method(name, optim={"lr": 3e-3, "disc_lr": 3e-3})
        x = toy_poses2d(64, seed=1)
        history = [m.train_step({"poses2d": x}) for _ in range(25)]
        parts = ("torso", "legs") if name == "tipsy" else ("body",)
        for part in parts:
            first = sum(h[f"reprojection_{part}"] + h[f"ninety_{part}"] for h in history[:3]) / 3
            last = sum(h[f"reprojection_{part}"] + h[f"ninety_{part}"] for h in history[-3:]) / 3
            assert last < 0.8 * first, (name, part, first, last)


def test_each_generator_takes_only_its_own_loss():
    # The torso's adversarial weight must not change the leg generator's update (and vice versa),
    # which it would if the two losses were summed into one backward pass.
    x = toy_poses2d(32, seed=2)
    steps = {}
    for adv_torso in (0.0, 1000.0):
        m = _method(loss={"adv_torso": adv_torso})
        m.train_step({"poses2d": x})
        steps[adv_torso] = m
    a, b = steps[0.0].generator, steps[1000.0].generator
    assert all(torch.equal(p, q) for p, q in zip(a.legs.parameters(), b.legs.parameters()))
    assert any(not torch.equal(p, q) for p, q in zip(a.torso.parameters(), b.torso.parameters()))


def test_stage_switch_and_distillation_drive_the_student_to_the_teachers():
    m = _method(optim={"lr": 3e-3, "disc_lr": 3e-3, "distill_lr": 3e-3})
    x = toy_poses2d(64, seed=3)
    for _ in range(5):
        m.train_step({"poses2d": x})
    m.end_epoch(0)
    assert m.stage == "gan" and m.lifter() is m.generator
    m.end_epoch(1)
    assert m.stage == "distill" and m.lifter() is m.generator  # until the student has trained

    def gap() -> float:
        with torch.no_grad():
            m.generator.eval()
            m.student.eval()
            t = m.generator.depth(x)
            s = m.student.depth(x)
            return float(((s - s[:, :1]) - (t - t[:, :1])).pow(2).mean())

    teacher_before = {k: v.clone() for k, v in m.generator.state_dict().items()}
    before = gap()
    losses = [m.train_step({"poses2d": x})["distill"] for _ in range(40)]
    after = gap()
    assert m.lifter() is m.student
    assert after < 0.3 * before, (before, after)
    assert losses[-1] < losses[0]
    for k, v in m.generator.state_dict().items():  # the teachers stay fixed
        torch.testing.assert_close(v, teacher_before[k])


def test_best_score_teacher_is_restored_before_distillation():
    m = _method(stages={"distill_epochs": 1, "teacher": "best_score"}, optim={"lr": 3e-3})
    x = toy_poses2d(32, seed=4)
    m.train_step({"poses2d": x})
    m.end_epoch(0)
    m.selection_score(x)
    snapshot = {k: v.clone() for k, v in m.generator.state_dict().items()}
    m.best_teacher["score"] = -1.0  # nothing later can beat it
    m.train_step({"poses2d": x})
    m.end_epoch(1)
    m.selection_score(x)
    m.train_step({"poses2d": x})  # first distillation step restores the best teacher
    for k, v in m.generator.state_dict().items():
        torch.testing.assert_close(v, snapshot[k])


@pytest.mark.parametrize("name", ["tipsy", "tipsy_solo"])
def test_checkpoint_round_trip_continues_identically(name):
    x = toy_poses2d(32, seed=5)
    a = _method(name)
    for _ in range(2):
        a.train_step({"poses2d": x})
    a.end_epoch(0)
    buf = io.BytesIO()
    torch.save(method_state(a), buf)
    buf.seek(0)
    b = _method(name, seed=123)  # different initial weights: everything must come from the state
    load_method_state(b, torch.load(buf, weights_only=True))
    for epoch in (1, 2):
        la, lb = a.train_step({"poses2d": x}), b.train_step({"poses2d": x})
        assert la == pytest.approx(lb, rel=1e-6, abs=1e-7)
        a.end_epoch(epoch)
        b.end_epoch(epoch)
    for k, v in a.lifter().state_dict().items():
        torch.testing.assert_close(v, b.lifter().state_dict()[k])


def test_selection_score_is_deterministic_and_prefers_a_consistent_lifter():
    m = _method("tipsy_solo", optim={"lr": 3e-3, "disc_lr": 3e-3})
    x = toy_poses2d(64, seed=6)
    s0 = m.selection_score(x)
    assert s0 == m.selection_score(x)
    for _ in range(30):
        m.train_step({"poses2d": x})
    assert m.selection_score(x) < s0
    assert m.lifter().training  # the score leaves the lifter's mode as it was


def test_bad_stage_settings_are_rejected():
    with pytest.raises(ValueError, match="distill_epochs"):
        _method(stages={"distill_epochs": 3})
    with pytest.raises(ValueError, match="teacher"):
        _method(stages={"distill_epochs": 1, "teacher": "oracle"})


def test_tiny_config_trains_through_the_trainer_and_reloads(tmp_path):
    from pathlib import Path

    from training.config import load_config
    from training.trainer import method_from_checkpoint, train

    repo = Path(__file__).resolve().parents[3]
    cfg = load_config(repo / "config" / "train" / "tipsy-gan" / "tipsy-gan_synthetic-2d_tiny.yaml",
                      ["epochs=2", "data.synthetic_poses=128", "val.max_poses=64"])
    summary = train(cfg, out_dir=tmp_path, progress=False)
    assert [h["epoch"] for h in summary["history"]] == [0, 1]
    assert "selection_score" in summary["history"][0]["val"]
    method, _ = method_from_checkpoint(tmp_path / "last.pt")
    assert method.lifter() is method.student  # the last epoch distilled
    x = toy_poses2d(4)
    out = method.lifter()(x)["depth"]
    assert out.shape == (4, skeleton.NUM_JOINTS) and torch.isfinite(out).all()


def test_root_depth_is_zero_so_the_leg_generator_does_not_depend_on_the_torso():
    for name in ("tipsy", "tipsy_solo"):
        m = _method(name)
        m.generator.eval()
        with torch.no_grad():
            d = m.generator.depth(toy_poses2d(8))
        assert float(d[:, skeleton.ROOT].abs().max()) == 0.0
        assert float(d.abs().max()) > 0.0
