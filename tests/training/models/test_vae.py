"""The beta-VAE lifter: shapes, the mean lifter at z = 0, prior samples, KL."""
from __future__ import annotations

import torch

from training.models.vae import PoseVAE, VAEMeanLifter, kl_divergence


def test_vae_shapes_and_mean_lifter_uses_zero_code():
    torch.manual_seed(0)
    vae = PoseVAE(hidden=16, latent=4, blocks=1).eval()
    x, d = torch.randn(5, 16, 2), torch.randn(5, 16)
    rec, mu, logvar = vae(x, d)
    assert rec.shape == (5, 16) and mu.shape == (5, 4) and logvar.shape == (5, 4)
    mean = VAEMeanLifter(vae)(x)["depth"]
    assert torch.allclose(mean, vae.decode(x, torch.zeros(5, 4)))
    samples = vae.sample(x, 3, torch.Generator().manual_seed(1))
    assert samples.shape == (3, 5, 16)
    assert not torch.allclose(samples[0], samples[1])


def test_kl_is_zero_for_the_prior_and_positive_otherwise():
    assert torch.allclose(kl_divergence(torch.zeros(2, 3), torch.zeros(2, 3)), torch.zeros(2))
    # KL(N(1, 1) || N(0, 1)) = 0.5 per dimension
    assert torch.allclose(kl_divergence(torch.ones(1, 3), torch.zeros(1, 3)), torch.tensor([1.5]))
