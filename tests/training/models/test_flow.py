"""The ElePose 2D prior: exact log-likelihoods against Gaussians the flow can represent."""
from __future__ import annotations

import numpy as np
import torch

from training.models.flow import PCA, PosePrior, RealNVP, gaussian_nll


def test_identity_flow_is_standard_normal():
    torch.manual_seed(0)
    flow = RealNVP(dim=6, blocks=3, width=16, hidden_layers=2)
    x = torch.randn(64, 6)
    expected = gaussian_nll(x.numpy().astype(np.float64), np.zeros(6), np.eye(6))
    np.testing.assert_allclose(flow.nll(x).detach().numpy(), expected, rtol=1e-5, atol=1e-4)


def test_inverse_and_log_det_match_autograd():
    torch.manual_seed(1)
    flow = RealNVP(dim=4, blocks=3, width=16, hidden_layers=1).double()
    with torch.no_grad():  # make it non-trivial
        for p in flow.parameters():
            p.add_(0.3 * torch.randn_like(p))
    x = torch.randn(5, 4, dtype=torch.float64)
    z, log_det = flow(x)
    torch.testing.assert_close(flow.inverse(z), x, atol=1e-5, rtol=1e-5)  # mixing is orthogonal to float32 precision
    for i in range(x.shape[0]):
        jac = torch.autograd.functional.jacobian(lambda v: flow(v[None])[0][0], x[i])
        torch.testing.assert_close(torch.linalg.slogdet(jac)[1], log_det[i], atol=1e-5, rtol=1e-5)


def test_flow_fits_correlated_gaussian():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(4, 4))
    cov = a @ a.T + 0.5 * np.eye(4)
    mean = rng.normal(size=4)
    train = rng.multivariate_normal(mean, cov, size=4096)
    test = rng.multivariate_normal(mean, cov, size=512)
    torch.manual_seed(0)
    # Standardise with fixed stats (like the PCA whitening), fit the flow.
    mu, sd = train.mean(0), train.std(0)
    flow = RealNVP(dim=4, blocks=4, width=64, hidden_layers=2)
    opt = torch.optim.Adam(flow.parameters(), lr=3e-3)
    xt = torch.tensor((train - mu) / sd, dtype=torch.float32)
    for step in range(400):
        idx = torch.randint(0, xt.shape[0], (512,))
        loss = flow.nll(xt[idx]).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        got = flow.nll(torch.tensor((test - mu) / sd, dtype=torch.float32)).numpy() + np.log(sd).sum()
    expected = gaussian_nll(test, mean, cov)
    assert abs(got.mean() - expected.mean()) < 0.05, (got.mean(), expected.mean())
    assert np.corrcoef(got, expected)[0, 1] > 0.98


def test_pca_keeps_variance_and_prior_density_is_exact_on_subspace():
    torch.manual_seed(0)
    # Poses spanning a 3-D subspace of the 32-D flattened space (root fixed at 0).
    basis = torch.linalg.qr(torch.randn(32, 3))[0].T
    basis[:, :2] = 0.0
    coeffs = torch.randn(2000, 3) * torch.tensor([3.0, 2.0, 1.0])
    x = (coeffs @ basis).reshape(-1, 16, 2)
    prior = PosePrior(use_pca=True, num_bases=3, blocks=2, width=8, hidden_layers=1)
    kept = prior.fit_reduction(x)
    assert kept > 0.999999
    # Identity flow: NLL is the Gaussian NLL of the coordinates along the PCA bases.
    pca: PCA = prior.reduce
    y = (x.reshape(-1, 32) - pca.mean) @ pca.components.T
    cov = np.cov(y.numpy().T.astype(np.float64))
    expected = gaussian_nll(y.numpy().astype(np.float64), y.numpy().mean(0), cov)
    with torch.no_grad():
        np.testing.assert_allclose(prior.nll(x).numpy(), expected, rtol=1e-3, atol=1e-3)


def test_raw_prior_and_sampling_shapes():
    prior = PosePrior(use_pca=False, blocks=2, width=8, hidden_layers=1)
    x = torch.randn(100, 16, 2) * 0.1
    x[:, 0] = 0.0
    prior.fit_reduction(x)
    assert prior.nll(x).shape == (100,)
    pca_prior = PosePrior(use_pca=True, num_bases=5, blocks=2, width=8, hidden_layers=1)
    pca_prior.fit_reduction(x)
    assert pca_prior.sample(7).shape == (7, 16, 2)


def test_training_noise_spares_the_root_and_smooths_the_pca():
    torch.manual_seed(0)
    x = torch.randn(500, 16, 2) * 0.05
    x[:, 0] = 0.0
    x[:, 7] = 0.5 * x[:, 8]  # spine = mean of pelvis (0) and thorax: a degenerate direction
    prior = PosePrior(use_pca=True, num_bases=30, blocks=1, width=8, hidden_layers=1, noise_std=0.01)
    noisy = prior.add_noise(x)
    assert torch.equal(noisy[:, 0], x[:, 0]) and not torch.equal(noisy[:, 1:], x[:, 1:])
    prior.fit_reduction(x)
    # Without noise the spine directions would have ~0 variance; with it every kept base has at least noise variance.
    assert float(prior.reduce.std.min()) > 0.5 * 0.01
