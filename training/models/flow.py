"""The 2D pose prior of ElePose: a PCA subspace of normalised 2D poses and a RealNVP-style flow on it.

``PosePrior`` maps normalised 2D poses (B, 16, 2) ("elepose" normalisation) to an exact negative
log-likelihood (B,) in nats:

    x (32) -> [PCA: centre, project on k bases, whiten]  or  [raw: drop the root, standardise]
           -> y (k) -> RealNVP(y) = z,  NLL = 0.5 |z|^2 + 0.5 k log(2 pi) - log|det dz/dy| - log|det dy/dx|

The PCA density lives on the k-dimensional subspace (the coordinates along the kept bases), so it
is exact there; the "raw" variant (ablation: no PCA) models the 30 non-root coordinates.

Normalised 2D poses of this layout lie on a curved 25-dimensional manifold: pelvis = mean of the
hips and spine = mean of pelvis and thorax remove 4 of the 30 non-root coordinates linearly, and the
fixed root-to-head distance removes one more non-linearly. A density fitted to data on a manifold
grows without bound near it and is spiky off it, so the prior is fitted to the data plus isotropic
Gaussian noise of ``noise_std`` (normalised units; the head distance is 0.1) on the non-root
joints, PCA included: the usual dequantisation. It is then the exact density of that smoothed data.

The flow follows FrEIA's AllInOneBlock as used by the ElePose code: per block a fixed random
orthogonal mixing, an affine coupling whose log-scales are soft-clamped (``clamp * tanh(s / clamp)``),
and a learned global per-dimension affine. Subnets start at zero, so a fresh flow is the identity.
Everything is plain torch ops and exports to ONNX (the plausibility scorer embeds the prior).
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from hpe3d_ros import skeleton

LOG_2PI = math.log(2.0 * math.pi)


class PCA(nn.Module):
    """A fixed linear whitening map from flattened 2D poses (B, D) to k coordinates (B, k).

    ``fit`` sets the buffers; ``log_det`` is the constant log|det| of the map (for exact densities).
    """

    def __init__(self, dim_in: int, num_bases: int) -> None:
        super().__init__()
        if not 0 < num_bases <= dim_in:
            raise ValueError(f"num_bases must be in [1, {dim_in}], got {num_bases}")
        self.register_buffer("mean", torch.zeros(dim_in))
        self.register_buffer("components", torch.eye(dim_in)[:num_bases])  # (k, D), orthonormal rows
        self.register_buffer("std", torch.ones(num_bases))
        self.register_buffer("variance_kept", torch.tensor(1.0))
        self.register_buffer("fitted", torch.tensor(False))

    @property
    def num_bases(self) -> int:
        return int(self.components.shape[0])

    @torch.no_grad()
    def fit(self, x: Tensor) -> float:
        """Fit on samples (N, D); returns the fraction of the variance the k bases keep."""
        x = x.double()
        mean = x.mean(0)
        cov = torch.cov((x - mean).T)
        evals, evecs = torch.linalg.eigh(cov)
        order = torch.argsort(evals, descending=True)
        evals, evecs = evals[order].clamp_min(0.0), evecs[:, order]
        k = self.num_bases
        self.mean.copy_(mean.float())
        self.components.copy_(evecs[:, :k].T.float())
        self.std.copy_(evals[:k].clamp_min(1e-12).sqrt().float())
        kept = float(evals[:k].sum() / evals.sum().clamp_min(1e-30))
        self.variance_kept.fill_(kept)
        self.fitted.fill_(True)
        return kept

    def forward(self, x: Tensor) -> Tensor:
        return ((x - self.mean) @ self.components.T) / self.std

    def log_det(self) -> Tensor:
        """log|det| of the whitening (per sample; the projection itself is orthonormal)."""
        return -self.std.log().sum()


class Standardize(nn.Module):
    """Per-dimension standardisation of the non-root 2D coordinates (the no-PCA ablation)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("std", torch.ones(dim))
        self.register_buffer("variance_kept", torch.tensor(1.0))
        self.register_buffer("fitted", torch.tensor(False))

    @torch.no_grad()
    def fit(self, x: Tensor) -> float:
        self.mean.copy_(x.mean(0))
        self.std.copy_(x.std(0).clamp_min(1e-6))
        self.fitted.fill_(True)
        return 1.0

    def forward(self, x: Tensor) -> Tensor:
        return (x - self.mean) / self.std

    def log_det(self) -> Tensor:
        return -self.std.log().sum()


def _subnet(dim_in: int, dim_out: int, width: int, hidden_layers: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    d = dim_in
    for _ in range(hidden_layers):
        layers += [nn.Linear(d, width), nn.ReLU()]
        d = width
    last = nn.Linear(d, dim_out)
    nn.init.zeros_(last.weight)
    nn.init.zeros_(last.bias)
    return nn.Sequential(*layers, last)


class CouplingBlock(nn.Module):
    """Fixed orthogonal mixing, affine coupling (soft-clamped log-scales), global affine."""

    def __init__(self, dim: int, width: int, hidden_layers: int, clamp: float, generator: torch.Generator) -> None:
        super().__init__()
        q, _ = torch.linalg.qr(torch.randn(dim, dim, generator=generator, dtype=torch.float64))
        self.register_buffer("mix", q.float())
        self.d1 = dim // 2
        self.d2 = dim - self.d1
        self.clamp = float(clamp)
        self.subnet = _subnet(self.d1, 2 * self.d2, width, hidden_layers)
        self.log_scale = nn.Parameter(torch.zeros(dim))
        self.shift = nn.Parameter(torch.zeros(dim))

    def _st(self, x1: Tensor) -> tuple[Tensor, Tensor]:
        a = self.subnet(x1)
        s = self.clamp * torch.tanh(a[:, : self.d2] / self.clamp)
        return s, a[:, self.d2 :]

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        x = x @ self.mix.T
        x1, x2 = x[:, : self.d1], x[:, self.d1 :]
        s, t = self._st(x1)
        y = torch.cat([x1, x2 * torch.exp(s) + t], dim=1)
        y = y * torch.exp(self.log_scale) + self.shift
        return y, s.sum(dim=1) + self.log_scale.sum()

    def inverse(self, y: Tensor) -> Tensor:
        y = (y - self.shift) * torch.exp(-self.log_scale)
        y1, y2 = y[:, : self.d1], y[:, self.d1 :]
        s, t = self._st(y1)
        x = torch.cat([y1, (y2 - t) * torch.exp(-s)], dim=1)
        return x @ self.mix


class RealNVP(nn.Module):
    """A stack of coupling blocks: ``forward(x) -> (z, log|det dz/dx|)``; ``nll(x)`` in nats."""

    def __init__(
        self, dim: int, blocks: int = 8, width: int = 1024, hidden_layers: int = 2, clamp: float = 2.0, seed: int = 0
    ) -> None:
        super().__init__()
        if dim < 2:
            raise ValueError(f"a coupling flow needs at least 2 dimensions, got {dim}")
        g = torch.Generator().manual_seed(seed)
        self.dim = dim
        self.blocks = nn.ModuleList(CouplingBlock(dim, width, hidden_layers, clamp, g) for _ in range(blocks))

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        log_det = torch.zeros(x.shape[0], dtype=x.dtype, device=x.device)
        for block in self.blocks:
            x, ld = block(x)
            log_det = log_det + ld
        return x, log_det

    def inverse(self, z: Tensor) -> Tensor:
        for block in reversed(self.blocks):
            z = block.inverse(z)
        return z

    def nll(self, x: Tensor) -> Tensor:
        """Exact negative log-density (B,) under a standard-normal base."""
        z, log_det = self(x)
        return 0.5 * (z**2).sum(dim=1) + 0.5 * self.dim * LOG_2PI - log_det


def _non_root_index() -> list[int]:
    return [j for j in range(skeleton.NUM_JOINTS) if j != skeleton.ROOT]


class PosePrior(nn.Module):
    """NLL of normalised 2D poses (B, J, 2) under PCA (or raw standardisation) + RealNVP."""

    def __init__(
        self,
        use_pca: bool = True,
        num_bases: int = 26,
        blocks: int = 8,
        width: int = 1024,
        hidden_layers: int = 2,
        clamp: float = 2.0,
        noise_std: float = 0.0,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.use_pca = bool(use_pca)
        self.noise_std = float(noise_std)
        joints = skeleton.NUM_JOINTS
        if self.use_pca:
            self.reduce: nn.Module = PCA(2 * joints, num_bases)
            dim = num_bases
        else:
            dim = 2 * (joints - 1)
            self.reduce = Standardize(dim)
        self.register_buffer("keep", torch.tensor(_non_root_index()))
        self.flow = RealNVP(dim, blocks, width, hidden_layers, clamp, seed)

    @classmethod
    def from_config(cls, cfg: dict | None, seed: int = 0) -> "PosePrior":
        """Build from a config mapping (keys of ``__init__``); unknown keys are an error."""
        cfg = dict(cfg or {})
        allowed = {"use_pca", "num_bases", "blocks", "width", "hidden_layers", "clamp", "noise_std"}
        unknown = set(cfg) - allowed
        if unknown:
            raise ValueError(f"flow config: unknown keys {sorted(unknown)} (allowed: {sorted(allowed)})")
        return cls(seed=seed, **cfg)

    @property
    def fitted(self) -> bool:
        return bool(self.reduce.fitted)

    @property
    def variance_kept(self) -> float:
        return float(self.reduce.variance_kept)

    def _flatten(self, poses2d: Tensor) -> Tensor:
        if self.use_pca:
            return poses2d.reshape(poses2d.shape[0], -1)
        return poses2d.index_select(1, self.keep).reshape(poses2d.shape[0], -1)

    def add_noise(self, poses2d: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """The training smoothing: Gaussian noise of ``noise_std`` on every non-root coordinate."""
        if self.noise_std <= 0:
            return poses2d
        noise = torch.randn(poses2d.shape, generator=generator, device=poses2d.device, dtype=poses2d.dtype)
        mask = torch.ones_like(poses2d[:1, :, :1])
        mask[:, skeleton.ROOT] = 0.0
        return poses2d + self.noise_std * noise * mask

    def fit_reduction(self, poses2d: Tensor, seed: int = 0) -> float:
        """Fit the PCA (or standardisation) on training 2D (N, J, 2) with the training noise; returns
        the fraction of the (smoothed) variance kept."""
        g = torch.Generator(device=poses2d.device).manual_seed(seed)
        return self.reduce.fit(self._flatten(self.add_noise(poses2d, g)))

    def latent(self, poses2d: Tensor) -> Tensor:
        """The flow's input coordinates (B, k)."""
        return self.reduce(self._flatten(poses2d))

    def nll(self, poses2d: Tensor, noise: bool = False) -> Tensor:
        """Negative log-likelihood (B,) of normalised 2D poses; ``noise`` adds the training noise."""
        if noise:
            poses2d = self.add_noise(poses2d)
        return self.flow.nll(self.latent(poses2d)) - self.reduce.log_det()

    def forward(self, poses2d: Tensor) -> Tensor:
        return self.nll(poses2d)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """Draw ``n`` normalised 2D poses (PCA variant only): for checks and figures."""
        if not self.use_pca:
            raise ValueError("sampling is implemented for the PCA prior only")
        z = torch.randn(n, self.flow.dim, generator=generator, device=self.reduce.mean.device)
        y = self.flow.inverse(z) * self.reduce.std
        x = y @ self.reduce.components + self.reduce.mean
        return x.reshape(n, skeleton.NUM_JOINTS, 2)


# The ``flow`` and ``flow_pretrain`` config sections of the methods that use a prior (elepose, ours).
FLOW_DEFAULTS = {
    "use_pca": True,
    "num_bases": 26,
    "blocks": 8,
    "width": 1024,
    "hidden_layers": 2,
    "clamp": 2.0,
    "noise_std": 0.002,
}
FLOW_PRETRAIN_DEFAULTS = {
    "epochs": 5,
    "lr": 1e-4,
    "weight_decay": 1e-5,
    "grad_clip": 10.0,
    "pca_samples": 50000,
    "init": None,
}


class PriorTrainer:
    """The prior's own training stage, shared by the ElePose and ours methods: the first batches are
    buffered until ``pca_samples`` poses can fit the PCA, then each batch is one flow NLL step
    (with dequantisation noise and gradient clipping). ``cfg`` is the methods' ``flow_pretrain``."""

    def __init__(self, prior: "PosePrior", cfg: dict, seed: int = 0):
        self.prior = prior
        self.optimizer = torch.optim.Adam(
            prior.flow.parameters(), lr=float(cfg["lr"]), weight_decay=float(cfg["weight_decay"])
        )
        self.pca_samples = int(cfg["pca_samples"])
        self.grad_clip = float(cfg["grad_clip"])
        self.seed = seed
        self._buffer: list[Tensor] = []

    def step(self, poses2d: Tensor) -> dict[str, float]:
        """One step of the stage on a batch of normalised 2D poses."""
        self.prior.train()
        if not self.prior.fitted:
            self._buffer.append(poses2d.detach())
            n = sum(b.shape[0] for b in self._buffer)
            if n < self.pca_samples:
                return {"pca_buffered": float(n)}
            self.finish()
        loss = self.prior.nll(poses2d, noise=True).mean()
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(self.prior.flow.parameters(), self.grad_clip)
        self.optimizer.step()
        return {"flow_nll": float(loss.detach())}

    def finish(self) -> None:
        """Fit the PCA from what was buffered (at an epoch's end when fewer poses came than asked)."""
        if not self.prior.fitted and self._buffer:
            self.prior.fit_reduction(torch.cat(self._buffer), seed=self.seed)
            self._buffer = []


def load_prior_state(path: str | Path) -> dict:
    """A PosePrior state dict from a plain state-dict file or a trainer checkpoint of an elepose or ours run."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"flow_pretrain.init: no file {path}")
    state = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(state, dict) and "modules" in state and "prior" in state["modules"]:
        return state["modules"]["prior"]
    if isinstance(state, dict) and "prior" in state and isinstance(state["prior"], dict):
        return state["prior"]
    if isinstance(state, dict) and any(k.startswith("flow.") for k in state):
        return state
    raise ValueError(f"flow_pretrain.init: {path} holds neither a prior state dict nor an elepose/ours checkpoint")


def pretrain_prior(
    prior: PosePrior,
    poses2d: Tensor,
    epochs: int,
    batch_size: int,
    lr: float = 1e-4,
    weight_decay: float = 1e-5,
    seed: int = 0,
    grad_clip: float = 0.0,
    log=None,
) -> list[float]:
    """Fit the reduction and train the flow by maximum likelihood on normalised 2D (N, J, 2).

    Returns the mean training NLL per epoch (nats). ``log(epoch, nll)`` is called after each epoch.
    """
    if poses2d.ndim != 3 or poses2d.shape[1:] != (skeleton.NUM_JOINTS, 2):
        raise ValueError(f"poses2d must be (N, {skeleton.NUM_JOINTS}, 2), got {tuple(poses2d.shape)}")
    prior.fit_reduction(poses2d, seed)
    opt = torch.optim.Adam(prior.flow.parameters(), lr=lr, weight_decay=weight_decay)
    g = torch.Generator().manual_seed(seed)
    history = []
    n = poses2d.shape[0]
    for epoch in range(epochs):
        perm = torch.randperm(n, generator=g)
        total, count = 0.0, 0
        for i in range(0, n, batch_size):
            batch = poses2d[perm[i : i + batch_size]]
            loss = prior.nll(batch, noise=True).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(prior.flow.parameters(), grad_clip)
            opt.step()
            total += float(loss.detach()) * batch.shape[0]
            count += batch.shape[0]
        history.append(total / count)
        if log is not None:
            log(epoch, history[-1])
    return history


def gaussian_nll(x: np.ndarray, mean: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """Reference: exact NLL (N,) of samples under N(mean, cov) (for tests and sanity checks)."""
    d = x.shape[1]
    diff = x - mean
    sol = np.linalg.solve(cov, diff.T).T
    _, logdet = np.linalg.slogdet(cov)
    return 0.5 * (diff * sol).sum(1) + 0.5 * logdet + 0.5 * d * LOG_2PI
