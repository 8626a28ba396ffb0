"""TIPSy geometry and losses: rotations, the 90-degree identities, the cycle, the GAN losses."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from hpe3d_ros import camera, normalization
from tests.training.tipsy_toy import toy_poses2d, toy_poses3d
from training.losses import tipsy as L

torch.set_num_threads(1)


def _shape(n: int = 6, seed: int = 0) -> torch.Tensor:
    """Root-relative 3D shapes in tipsy units: (normalised 2D, depth) lifted."""
    p = torch.as_tensor(toy_poses3d(n, seed), dtype=torch.float64)
    return p / p[..., :2].abs().flatten(1).amax(1)[:, None, None]


def test_rotations_match_the_camera_module():
    a = torch.tensor([0.3, -1.2, math.pi / 2], dtype=torch.float64)
    np.testing.assert_allclose(L.rot_y(a).numpy(), camera.rot_y(a.numpy()), atol=1e-12)
    np.testing.assert_allclose(L.rot_x(a).numpy(), camera.rot_x(a.numpy()), atol=1e-12)


def test_random_rotations_respect_the_ranges():
    gen = torch.Generator().manual_seed(0)
    r = L.random_rotations(2000, gen, (-math.pi, math.pi), (-math.pi / 18, math.pi / 18)).double()
    np.testing.assert_allclose((r @ r.transpose(1, 2)).numpy(), np.broadcast_to(np.eye(3), r.shape), atol=1e-6)
    # R = rot_x(el) @ rot_y(az): R[1, 2] = -sin(el) * cos(az) ... the elevation is asin(-R[1,0]...);
    # recover el from the image of the vertical axis: R @ e_y = (0, cos el, sin el).
    el = torch.atan2(r[:, 2, 1], r[:, 1, 1])
    az = torch.atan2(r[:, 0, 2], r[:, 0, 0])
    assert el.abs().max() <= math.pi / 18 + 1e-6 and el.abs().max() > math.pi / 18 * 0.9
    assert az.min() < -3.0 and az.max() > 3.0


@pytest.mark.parametrize(
    "angle, expect_2d, expect_depth",
    [
        (math.pi / 2, lambda p: (p[..., 2], p[..., 1]), lambda p: -p[..., 0]),  # eq. 2: (z, y) -> -x
        (-math.pi / 2, lambda p: (-p[..., 2], p[..., 1]), lambda p: p[..., 0]),  # eq. 3: (-z, y) -> x
        (math.pi, lambda p: (-p[..., 0], p[..., 1]), lambda p: -p[..., 2]),  # eq. 4: (-x, y) -> -z
    ],
)
def test_ninety_degree_views_are_the_paper_identities(angle, expect_2d, expect_depth):
    p = _shape()
    seen2d, depth = L.view(p, L.rot_y(torch.tensor(angle, dtype=torch.float64)))
    xy = torch.stack(expect_2d(p), -1)
    want2d, scale = normalization.normalize_2d(xy, "tipsy")
    torch.testing.assert_close(seen2d, want2d, atol=1e-12, rtol=0)
    torch.testing.assert_close(depth, expect_depth(p) / scale[:, None], atol=1e-12, rtol=0)


class _Oracle:
    """A lifter that knows the answer for every view of a fixed set of shapes (nearest 2D match)."""

    def __init__(self, shapes: torch.Tensor, rotations: list[torch.Tensor]):
        keys, values = [], []
        for r in rotations:
            v2d, d = L.view(shapes, r)
            keys.append(v2d.flatten(1))
            values.append(d)
        self.keys, self.values = torch.cat(keys), torch.cat(values)

    def __call__(self, poses2d: torch.Tensor) -> torch.Tensor:
        idx = torch.cdist(poses2d.flatten(1), self.keys).argmin(1)
        return self.values[idx] + 0.3  # a constant offset must not matter (root-relative)


def test_consistency_terms_vanish_for_a_correct_lifter_and_not_for_a_flat_one():
    p = _shape(5, seed=3)
    r = L.random_rotations(5, torch.Generator().manual_seed(1)).double()
    eye = torch.eye(3, dtype=torch.float64)
    turns = [L.rot_y(torch.tensor(a, dtype=torch.float64)) for a in L.NINETY_DEGREE_ANGLES]
    oracle = _Oracle(p, [eye, *turns])
    poses2d, depth = L.view(p, eye)
    ninety = L.ninety_degree_consistency(oracle, poses2d, oracle(poses2d))
    assert float(ninety.abs().max()) < 1e-24
    # The cycle: an oracle that also knows each shape's randomly rotated view.
    rep, fake = L.cycle_reprojection(_Oracle(p, [eye, r]), poses2d, depth, r)
    assert float(rep.max()) < 1e-12
    torch.testing.assert_close(fake, L.view(p, r)[0])
    flat = lambda x: torch.zeros(x.shape[:-1], dtype=x.dtype)  # noqa: E731
    assert float(L.ninety_degree_consistency(flat, poses2d, flat(poses2d)).mean()) > 1e-2
    assert float(L.cycle_reprojection(flat, poses2d, flat(poses2d), r)[0].mean()) > 1e-3


def test_generator_terms_equal_the_separate_losses():
    x = toy_poses2d(16, seed=2).double()
    w = torch.randn(32, 16, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) * 0.2
    lifter = lambda p: torch.tanh(p.flatten(1) @ w)  # noqa: E731
    r = L.random_rotations(16, torch.Generator().manual_seed(4)).double()
    terms = L.generator_terms(lifter, x, r)
    rep, fake = L.cycle_reprojection(lifter, x, lifter(x), r)
    torch.testing.assert_close(terms["reprojection"], rep)
    torch.testing.assert_close(terms["fake2d"], fake)
    torch.testing.assert_close(terms["ninety"], L.ninety_degree_consistency(lifter, x, lifter(x)))


def test_label_flipping_rate_and_gan_losses():
    gen = torch.Generator().manual_seed(0)
    labels = torch.ones(20000)
    flipped = L.flipped_labels(labels, 0.05, gen)
    assert 0.04 < float((flipped == 0).float().mean()) < 0.06
    real, fake = torch.full((8,), 4.0), torch.full((8,), -4.0)
    assert float(L.discriminator_loss(real, fake, 0.0)) < 0.02  # a confident, correct discriminator
    assert float(L.discriminator_loss(fake, real, 0.0)) > 3.0
    assert float(L.generator_adversarial_loss(fake)) > 3.0 > float(L.generator_adversarial_loss(real))


def test_mirror_is_an_involution_that_swaps_sides():
    x = toy_poses2d(4)
    m = L.mirror_poses(x)
    torch.testing.assert_close(L.mirror_poses(m), x)
    torch.testing.assert_close(m[:, 4, 0], -x[:, 1, 0])  # left hip <- mirrored right hip


def _tiny_lifter(seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Flatten(1), torch.nn.Linear(32, 64), torch.nn.ReLU(), torch.nn.Linear(64, 16), torch.nn.Tanh()
    )


def _descend(loss_fn, params, steps: int = 40, lr: float = 1e-2) -> tuple[float, float]:
    opt = torch.optim.Adam(params, lr=lr)
    first = last = None
    for _ in range(steps):
        loss = loss_fn()
        opt.zero_grad()
        loss.backward()
        opt.step()
        first = float(loss.detach()) if first is None else first
        last = float(loss.detach())
    return first, last


def test_reprojection_loss_decreases_on_a_tiny_set():
    x = toy_poses2d(64, seed=5)
    net = _tiny_lifter()
    r = L.random_rotations(64, torch.Generator().manual_seed(0))
    first, last = _descend(lambda: L.cycle_reprojection(net, x, net(x), r)[0].mean(), net.parameters())
    assert last < 0.7 * first


def test_ninety_degree_loss_decreases_on_a_tiny_set():
    x = toy_poses2d(64, seed=6)
    net = _tiny_lifter(1)
    first, last = _descend(lambda: L.ninety_degree_consistency(net, x, net(x)).mean(), net.parameters())
    assert last < 0.7 * first


def test_adversarial_losses_decrease_on_a_tiny_set():
    from training.models.tipsy import Discriminator

    torch.manual_seed(0)
    real = toy_poses2d(64, seed=7)
    fake = torch.rand(64, 16, 2) * 2 - 1
    disc = Discriminator(hidden=32, blocks=1)
    first, last = _descend(lambda: L.discriminator_loss(disc.logits(real), disc.logits(fake), 0.0), disc.parameters())
    assert last < 0.5 * first
    # With the discriminator fixed, moving the fakes lowers the generator's adversarial loss.
    moved = fake.clone().requires_grad_(True)
    for p in disc.parameters():
        p.requires_grad_(False)
    first, last = _descend(lambda: L.generator_adversarial_loss(disc.logits(moved)), [moved])
    assert last < 0.5 * first


def test_distillation_loss_ignores_a_common_depth_offset():
    d = torch.randn(4, 16)
    assert float(L.distillation_loss(d + 0.7, d)) < 1e-12
    assert float(L.distillation_loss(-d, d)) > 0.1
