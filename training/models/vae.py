"""The thesis's beta-VAE lifter (Budaraju): an encoder that sees 2D and depth, a decoder from 2D
and a latent code to depth.

Encoder: (2D, depth) -> residual MLP (hidden 512) -> mean and log-variance of a 100-d latent.
Decoder: (2D, z) -> residual MLP (hidden 512) -> depth (B,16). At test time the mean prediction
uses z = 0 (the prior's mean); ``sample`` draws K codes from the prior for best-of-K reports.
"""
from __future__ import annotations

import torch
from torch import nn

from hpe3d_ros import skeleton
from training.models.martinez import MartinezMLP


class PoseVAE(nn.Module):
    """Conditional beta-VAE over per-joint depth given 2D."""

    def __init__(self, hidden: int = 512, latent: int = 100, blocks: int = 2, dropout: float = 0.0,
                 activation: str = "leaky_relu", batchnorm: bool = False) -> None:
        super().__init__()
        j = skeleton.NUM_JOINTS
        self.latent = int(latent)
        self.encoder = MartinezMLP(3 * j, 2 * self.latent, hidden, blocks, dropout, activation, batchnorm)
        self.decoder = MartinezMLP(2 * j + self.latent, j, hidden, blocks, dropout, activation, batchnorm)

    def encode(self, poses2d: torch.Tensor, depth: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and log-variance (B, latent) of q(z | 2D, depth)."""
        h = self.encoder(torch.cat([poses2d.flatten(1), depth], dim=1))
        mu, logvar = h.chunk(2, dim=1)
        return mu, logvar.clamp(-20.0, 10.0)

    def decode(self, poses2d: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """Depth (B,16) from 2D and a latent code."""
        return self.decoder(torch.cat([poses2d.flatten(1), z], dim=1))

    def forward(self, poses2d: torch.Tensor, depth: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Reconstruction through a reparametrised sample: (depth_hat, mu, logvar)."""
        mu, logvar = self.encode(poses2d, depth)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return self.decode(poses2d, z), mu, logvar

    @torch.no_grad()
    def sample(self, poses2d: torch.Tensor, k: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """K depth hypotheses (K, B, 16) from codes drawn from the prior N(0, I)."""
        b = poses2d.shape[0]
        z = torch.randn((k, b, self.latent), generator=generator, device=poses2d.device, dtype=poses2d.dtype)
        rep = poses2d.unsqueeze(0).expand(k, *poses2d.shape).reshape(k * b, *poses2d.shape[1:])
        return self.decode(rep, z.reshape(k * b, -1)).reshape(k, b, -1)


class VAEMeanLifter(nn.Module):
    """The VAE's decoder at z = 0 as a lifter per contract (2): forward(poses2d) -> {"depth"}."""

    def __init__(self, vae: PoseVAE) -> None:
        super().__init__()
        self.vae = vae

    def forward(self, poses2d: torch.Tensor) -> dict[str, torch.Tensor]:
        z = poses2d.new_zeros((poses2d.shape[0], self.vae.latent))
        return {"depth": self.vae.decode(poses2d, z)}


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(q || N(0, I)) per sample (B,), summed over latent dimensions."""
    return -0.5 * torch.sum(1.0 + logvar - mu.pow(2) - logvar.exp(), dim=1)
