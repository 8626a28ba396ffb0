"""ElePose geometry, losses and plausibility scorer on tiny synthetic poses (CPU, seconds)."""
from __future__ import annotations

import math

import numpy as np
import onnxruntime as ort
import pytest
import torch

from hpe3d_ros import camera, normalization, skeleton
from training.data.batches import synthetic_poses
from training.export import export_onnx
from training.losses.elepose import (
    BANDAI_TRAIN_BONE_RATIOS,
    FlipAveraged,
    PlausibilityScorer,
    ScoredLifter,
    anthropometric_bone_ratios,
    elepose_losses,
    lift,
    reproject_normalized,
    rot_x,
    rot_y,
    rotate,
    sample_rotations,
)
from training.models.elepose_lifter import EleposeLifter
from training.models.flow import PosePrior, pretrain_prior


def render(n: int, seed: int = 0) -> tuple[torch.Tensor, np.ndarray, np.ndarray]:
    """Normalised 2D (n,16,2), optical-frame 3D (n,16,3) and elevations of synthetic poses."""
    joints = synthetic_poses(n, seed).astype(np.float64)
    rng = np.random.default_rng(seed)
    cams = camera.sample_cameras(n, joints[:, skeleton.ROOT], camera.VirtualCameraConfig(), rng)
    pc = cams.to_optical(joints)
    xy = pc[..., :2] / pc[..., 2:3]
    x2, _ = normalization.normalize_2d(torch.tensor(xy, dtype=torch.float32), "elepose")
    return x2, pc, cams.elevation


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    x, pc, elev = render(768)
    prior = PosePrior(num_bases=12, blocks=2, width=32, hidden_layers=1)
    pretrain_prior(prior, x, epochs=3, batch_size=128, lr=2e-3)
    prior.eval().requires_grad_(False)
    return x, pc, elev, prior


def test_rotations_match_camera_module():
    a = torch.tensor([0.3, -1.2], dtype=torch.float64)
    np.testing.assert_allclose(rot_x(a).numpy(), camera.rot_x(a.numpy()), atol=1e-12)
    np.testing.assert_allclose(rot_y(a).numpy(), camera.rot_y(a.numpy()), atol=1e-12)


def test_gravity_rotation_undoes_the_camera_pitch():
    """With sigma_e = 0 and azimuth 0 the sampled R is rot_x(mu) rot_x(e)^T: a pose pitched by its own
    elevation e comes out pitched by the batch mean elevation (the upright pose re-viewed)."""
    up = torch.tensor(render(1)[1][0] - render(1)[1][0][0], dtype=torch.float64)[None]
    e = torch.tensor([0.4, 0.4], dtype=torch.float64)
    optical = rotate(up.repeat(2, 1, 1), rot_x(e))  # p_opt = rot_x(e) p_up (camera.py)
    torch.testing.assert_close(rotate(optical, rot_x(e).transpose(-1, -2)), up.repeat(2, 1, 1))
    np.testing.assert_allclose(
        camera.upright_from_optical(optical.numpy(), 0.4), up.repeat(2, 1, 1).numpy(), atol=1e-12
    )
    r = sample_rotations(e, 2, generator=torch.Generator().manual_seed(0))
    # Equal elevations: sigma = 0, so R = rot_x(e) rot_y(a) rot_x(e)^T, i.e. in the upright frame a pure
    # turn about the vertical (y) axis: the pose is seen from another azimuth at the same pitch.
    m = rot_x(e).transpose(-1, -2) @ r @ rot_x(e)
    torch.testing.assert_close(m[:, 1], torch.tensor([[0.0, 1.0, 0.0]] * 2, dtype=torch.float64))
    torch.testing.assert_close(m[:, :, 1], torch.tensor([[0.0, 1.0, 0.0]] * 2, dtype=torch.float64))


def test_identity_reprojection_is_exact():
    x, pc, _ = render(16)
    depth = normalization.depth_target(torch.tensor(pc, dtype=torch.float32), "elepose")
    rep, scale = reproject_normalized(lift(x, depth))
    torch.testing.assert_close(rep, x, atol=1e-5, rtol=0)
    torch.testing.assert_close(scale, torch.ones_like(scale), atol=1e-4, rtol=0)


def test_true_depth_has_lower_losses_than_flat_depth(tiny):
    """The lift of the true depth is a plausible 3D pose: its NLL over random views and its bone
    prior term are lower than those of a flat (zero-depth) pose: the losses point the right way."""
    x, pc, elev, prior = tiny
    true_depth = normalization.depth_target(torch.tensor(pc[:256], dtype=torch.float32), "elepose")

    class Fixed(torch.nn.Module):
        def __init__(self, depth, elevation):
            super().__init__()
            self.d, self.e = depth, elevation

        def forward(self, p):  # lookup by identity of the first batch; the second pass is a reprojection
            if p.shape[0] == self.d.shape[0] and torch.equal(p, x[:256]):
                return {"depth": self.d, "elevation": self.e}
            return {"depth": torch.zeros(p.shape[:2]), "elevation": self.e}

    e = torch.tensor(elev[:256], dtype=torch.float32)
    bones = torch.tensor(anthropometric_bone_ratios())
    g = torch.Generator().manual_seed(3)
    good = elepose_losses(Fixed(true_depth, e), prior, x[:256], bones, generator=g)
    g = torch.Generator().manual_seed(3)
    flat = elepose_losses(Fixed(torch.zeros_like(true_depth), e), prior, x[:256], bones, generator=g)
    assert good["nll"] < flat["nll"]
    assert good["bone"] < flat["bone"]


@pytest.mark.parametrize("term", ["nll", "l3d", "l2d", "ldef", "bone"])
def test_each_loss_decreases_on_a_tiny_set(tiny, term):
    x, _, _, prior = tiny
    torch.manual_seed(1)
    net = EleposeLifter(width=32, common_blocks=1, head_blocks=1)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    bones = torch.tensor(BANDAI_TRAIN_BONE_RATIOS)
    batch = x[:128]

    def value() -> float:
        g = torch.Generator().manual_seed(123)  # the same virtual cameras before and after
        with torch.no_grad():
            return float(elepose_losses(net, prior, batch, bones, generator=g)[term])

    before = value()
    for step in range(40):
        g = torch.Generator().manual_seed(step)
        loss = elepose_losses(net, prior, batch, bones, generator=g)[term]
        opt.zero_grad()
        loss.backward()
        opt.step()
    after = value()
    assert after < before - 1e-3 * abs(before), (term, before, after)


def test_no_elevation_rotations_stay_in_range():
    g = torch.Generator().manual_seed(0)
    r = sample_rotations(None, 1000, generator=g, device="cpu")
    # R = rot_x(u) rot_y(a): the image of the vertical axis makes angle |u| <= pi/9 with it
    tilt = torch.acos(r[:, 1, 1].clamp(-1, 1))
    assert float(tilt.max()) <= math.pi / 9 + 1e-6


def test_scorer_is_deterministic_and_ranks_true_over_wrong_depth(tiny):
    x, pc, elev, prior = tiny
    scorer = PlausibilityScorer(prior, azimuths=8, elevations=[0.0, 0.3]).eval()
    true_depth = normalization.depth_target(torch.tensor(pc[:200], dtype=torch.float32), "elepose")
    e = torch.tensor(elev[:200], dtype=torch.float32)
    with torch.no_grad():
        a = scorer(x[:200], true_depth, e)
        b = scorer(x[:200], true_depth, e)
        wrong = scorer(x[:200], -2.0 * true_depth, e)
    assert torch.equal(a, b)
    assert a.shape == (200,)
    assert float((a < wrong).float().mean()) > 0.7


def test_lifter_with_scorer_exports_to_onnx_and_matches_torch(tiny, tmp_path):
    x, _, _, prior = tiny
    torch.manual_seed(0)
    model = ScoredLifter(EleposeLifter(width=32, head_blocks=1), PlausibilityScorer(prior, 4, [0.0, 0.2])).eval()
    path = tmp_path / "elepose.onnx"
    names = export_onnx(model, path)  # the project's exporter (contract (1))
    assert names == ["depth", "elevation", "nll"]
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = sess.run(names, {"poses2d": x[:37].numpy()})
    with torch.no_grad():
        want = model(x[:37])
    for name, g in zip(names, got):
        np.testing.assert_allclose(g, want[name].numpy(), atol=1e-4, rtol=1e-4, err_msg=name)


def test_flip_averaged_is_mirror_equivariant_and_exports(tiny, tmp_path):
    x, _, _, prior = tiny
    torch.manual_seed(0)
    net = EleposeLifter(width=32, head_blocks=1).eval()
    avg = FlipAveraged(net).eval()
    mirror = list(skeleton.MIRROR)
    xm = torch.stack([-x[:, mirror, 0], x[:, mirror, 1]], -1)
    with torch.no_grad():
        plain, a, b = net(x), avg(x), avg(xm)
        plain_m = net(xm)
    # the mirror image's answer is this answer mirrored (depths swapped sides, same elevation)
    torch.testing.assert_close(b["depth"], a["depth"][:, mirror], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(b["elevation"], a["elevation"], atol=1e-6, rtol=1e-6)
    # and it is the mean of the two plain answers
    torch.testing.assert_close(a["depth"], 0.5 * (plain["depth"] + plain_m["depth"][:, mirror]), atol=1e-5, rtol=1e-5)
    assert not torch.allclose(a["depth"], plain["depth"])  # a random net is not symmetric: the test can fail
    model = ScoredLifter(avg, PlausibilityScorer(prior, 4, [0.0, 0.2])).eval()
    path = tmp_path / "flip.onnx"
    names = export_onnx(model, path)
    got = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(names, {"poses2d": x[:5].numpy()})
    with torch.no_grad():
        want = model(x[:5])
    for name, g in zip(names, got):
        np.testing.assert_allclose(g, want[name].numpy(), atol=1e-4, rtol=1e-4, err_msg=name)


def test_soft_clip_keeps_values_below_the_limit_and_compresses_above():
    from training.losses.elepose import soft_clip

    x = torch.tensor([-50.0, 0.0, 1.0, 1e6, 1e12])
    y = soft_clip(x, 0.0)
    assert y[0] == -50.0 and y[1] == 0.0
    assert 0.0 < y[2] < 1.0 and y[3] < 15.0 and y[4] < 30.0
    assert bool((y[1:] >= y[:-1]).all())


def test_degenerate_views_are_masked_out(tiny):
    """A pose whose head lies on the optical axis after rotation has scale ~0; with the mask its
    losses stay finite and it counts as an invalid view."""
    x, pc, elev, prior = tiny
    net = EleposeLifter(width=16, head_blocks=1)
    g = torch.Generator().manual_seed(0)
    out = elepose_losses(net, prior, x[:64], None, generator=g, nll_soft_max=0.0, min_reprojection_scale=0.99)
    assert 0.0 <= float(out["valid_views"]) < 1.0
    assert all(torch.isfinite(v) for v in out.values())
