"""Training batches (contract 3): shapes, targets consistent with lift_to_3d, cameras re-sampled
per epoch only when the method needs 3D, determinism."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from hpe3d_ros import normalization, skeleton
from training.config import load_config
from training.data.batches import TrainData, load_validation, synthetic_poses

REPO = Path(__file__).resolve().parents[3]
TINY = REPO / "config" / "train" / "supervised-martinez" / "supervised-martinez_synthetic_tipsy-norm_tiny.yaml"


def _data(needs_3d: bool, kind: str = "tipsy", extra: list[str] | None = None) -> TrainData:
    cfg = load_config(TINY, ["data.synthetic_poses=96", "batch_size=32"] + (extra or []))
    return TrainData(cfg, kind, needs_3d, torch.device("cpu"))


def test_synthetic_poses_are_finite_people_on_the_floor():
    p = synthetic_poses(50, seed=3)
    assert p.shape == (50, skeleton.NUM_JOINTS, 3) and np.all(np.isfinite(p))
    height = p[..., 2].max(axis=1) - p[..., 2].min(axis=1)
    assert np.all((height > 0.8) & (height < 2.2))
    assert np.all(p[..., 2].min(axis=1) < 0.1)


def test_supervised_batches_hold_consistent_targets():
    for kind in normalization.KINDS:
        data = _data(True, kind)
        batch = next(iter(data.batches(0)))
        assert batch["poses2d"].shape == (32, 16, 2)
        assert batch["depth"].shape == (32, 16) and batch["pose3d"].shape == (32, 16, 3)
        # the lifted target shape is the true 3D pose up to one scale per pose
        shape = normalization.lift_to_3d(batch["poses2d"].double(), batch["depth"].double(), kind)
        truth = batch["pose3d"].double()
        scale = (shape * truth).sum(dim=(1, 2)) / (shape * shape).sum(dim=(1, 2))
        err = (shape * scale[:, None, None] - truth).norm(dim=-1)
        # metres; not exact: both normalisations approximate the perspective camera
        assert err.mean() < 0.02 and err.max() < 0.1, (kind, float(err.mean()), float(err.max()))


def test_cameras_resampled_per_epoch_only_for_supervised():
    sup = _data(True)
    assert not torch.equal(sup.render(0)["poses2d"], sup.render(1)["poses2d"])
    assert torch.equal(sup.render(1)["poses2d"], _data(True).render(1)["poses2d"])  # deterministic
    unsup = _data(False)
    a, b = unsup.render(0), unsup.render(1)
    assert set(a) == {"poses2d"}
    assert torch.equal(a["poses2d"], b["poses2d"])
    assert len(list(unsup.batches(0))) == unsup.num_batches() == 3


def test_validation_rendered_from_the_val_split():
    cfg = load_config(TINY)
    val = load_validation(cfg, "tipsy", torch.device("cpu"))
    assert val["source"] == "rendered:val"
    assert val["poses2d"].shape == (256, 16, 2) and val["gt3d"].shape == (256, 16, 3)
    assert np.allclose(val["gt3d"][:, skeleton.ROOT], 0.0)


def test_2d_pose_file_source_for_2d_only_methods(tmp_path):
    import pytest

    from hpe3d_ros import camera, poses_io
    from training.data.render import render

    joints = synthetic_poses(40, seed=5)
    r = render(joints, seed=1)
    path = poses_io.save_poses2d(tmp_path / "p.npz", r["keypoints"], intrinsics=r["intrinsics"])
    cfg = load_config(TINY, ["data.source=poses2d", f"data.path={path}", "batch_size=16"])
    data = TrainData(cfg, "elepose", False, torch.device("cpu"))
    batch = next(iter(data.batches(0)))
    assert set(batch) == {"poses2d"} and batch["poses2d"].shape == (16, 16, 2)
    expect, _ = normalization.normalize_2d(camera.pixels_to_normalized(r["keypoints"], r["intrinsics"]), "elepose")
    assert torch.allclose(data.render(0)["poses2d"], torch.as_tensor(expect, dtype=torch.float32), atol=1e-5)
    with pytest.raises(ValueError, match="cannot train a method that needs 3D"):
        TrainData(cfg, "tipsy", True, torch.device("cpu"))
    no_k = poses_io.save_poses2d(tmp_path / "q.npz", r["keypoints"])
    with pytest.raises(ValueError, match="intrinsics"):
        TrainData(load_config(TINY, ["data.source=poses2d", f"data.path={no_k}"]), "tipsy", False, torch.device("cpu"))


def test_joint_definitions_change_the_2d_and_the_3d_target_together():
    plain = _data(True).render(0)
    defs = "data.joint_defs={hip_scale: [1.4, 1.5], shoulder_scale: [1.4, 1.5], head_shift: [0.1, 0.15]}"
    aug = _data(True, extra=[defs]).render(0)
    n = skeleton.JOINT_NAMES.index
    width = lambda p, a, b: (p[:, n(a)] - p[:, n(b)]).norm(dim=-1)  # noqa: E731
    ratio = width(aug["pose3d"], "left_hip", "right_hip") / width(plain["pose3d"], "left_hip", "right_hip")
    assert float(ratio.min()) > 1.39 and float(ratio.max()) < 1.51
    # the knees did not move; the 2D is the projection of the augmented 3D
    knee = n("left_knee")
    moved = aug["pose3d"][:, knee] - aug["pose3d"][:, 0]
    assert torch.allclose(moved, plain["pose3d"][:, knee] - plain["pose3d"][:, 0], atol=1e-5)
    assert not torch.allclose(aug["poses2d"], plain["poses2d"])


def test_detector_error_model_noise_on_a_share_of_the_poses():
    clean = _data(False).render(0)["poses2d"]
    half = _data(False, extra=["data.noise.model=detector", "data.noise.fraction=0.5"]).render(0)["poses2d"]
    changed = (half - clean).abs().flatten(1).max(dim=1).values > 1e-4
    assert 0.25 < float(changed.float().mean()) < 0.75
    all_ = _data(False, extra=["data.noise.model=detector"]).render(0)["poses2d"]
    assert bool(((all_ - clean).abs().flatten(1).max(dim=1).values > 1e-4).all())


def test_bad_joint_definitions_stop_the_run():
    import pytest

    with pytest.raises(ValueError, match="joint_defs"):
        _data(False, extra=["data.joint_defs={hips: [1, 2]}"])


def test_hdm05_source_refuses_the_test_actors():
    import pytest

    from training.data.batches import hdm05_poses

    with pytest.raises(ValueError, match="cross-dataset test actors"):
        hdm05_poses({"actors": ["bd", "bk"]})
