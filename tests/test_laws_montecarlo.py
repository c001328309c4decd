"""Monte Carlo checks of the exact laws with a plain NumPy sampler of MATH.md section 1.

The sampler below draws the jumps explicitly (Poisson count, uniform times, Laplace amplitudes
as sqrt(2 b^2 z) xi), independently of levyscore's own sampler and of its laws.
"""
import math

import numpy as np
import pytest

import levyscore

ALPHA = 1e-6  # per-test false-alarm probability of the statistical bounds below


def numpy_forward(rng, n, dim, theta, diffusion, jump_rate, jump_var, t):
    """Exact draws of Y_t (n, dim): Gaussian part plus explicitly summed jumps."""
    s = diffusion * (1 - math.exp(-2 * theta * t)) / (2 * theta)
    y = math.sqrt(s) * rng.standard_normal((n, dim))
    counts = rng.poisson(jump_rate * t, size=n)
    owner = np.repeat(np.arange(n), counts)
    k = owner.size
    tau = rng.uniform(0.0, t, size=k)
    z = rng.exponential(size=k)
    amp = np.sqrt(jump_var * z)[:, None] * rng.standard_normal((k, dim))  # 2 b^2 = jump_var
    amp *= np.exp(-theta * (t - tau))[:, None]
    for d in range(dim):
        y[:, d] += np.bincount(owner, weights=amp[:, d], minlength=n)
    return y, counts


@pytest.mark.parametrize("kw", [
    dict(dim=2, diffusion=0.0, jump_rate=2.0, t=0.7),     # closed form, m = 2 (MATH.md §10)
    dict(dim=3, diffusion=0.0, jump_rate=1.3, t=1.5),     # mixture, non-integer m, atom
    dict(dim=4, diffusion=1.0, jump_rate=1.0, t=0.4),     # jump-diffusion
])
def test_atom_and_radial_cdf(kw):
    n = 200_000
    kw = dict(kw)
    t = kw.pop("t")
    proc = levyscore.JumpDiffusion(theta=0.5, jump_var=2.0, **kw)
    rng = np.random.default_rng(20261128)
    y, counts = numpy_forward(rng, n, kw["dim"], 0.5, kw["diffusion"], kw["jump_rate"], 2.0, t)
    law = proc.transition(t)
    # atom: the fraction of samples with no jump (pure jump) is Binomial(n, atom)/n;
    # 5 standard deviations: two-sided false alarm 6e-7 < ALPHA
    if kw["diffusion"] == 0.0:
        frac = np.mean(np.all(y == 0.0, axis=1))
        sd = math.sqrt(law.atom * (1 - law.atom) / n)
        assert abs(frac - law.atom) <= 5 * sd, (frac, law.atom)
        assert law.atom == pytest.approx(math.exp(-kw["jump_rate"] * t), rel=1e-14)
    # radial CDF: Dvoretzky-Kiefer-Wolfowitz, P(sup |F_n - F| > eps) <= 2 exp(-2 n eps^2)
    eps = math.sqrt(math.log(2 / ALPHA) / (2 * n))
    r = np.linalg.norm(y, axis=1)
    grid = np.quantile(r[r > 0], np.linspace(0.01, 0.99, 60))
    empirical = np.searchsorted(np.sort(r), grid, side="right") / n
    gap = np.max(np.abs(empirical - law.radial_cdf(grid)))
    assert gap <= eps, (gap, eps)


def test_mean_square_matches_covariance():
    # E|Y|^2 = D (sigma_G^2 + lambda sigma_A^2)(1 - q)/(2 theta) (MATH.md §8); sample mean of
    # |Y|^2 with 5 standard errors (estimated from the sample; n large so the CLT applies)
    n, dim, t = 200_000, 3, 1.1
    proc = levyscore.JumpDiffusion(dim, diffusion=0.6, jump_rate=0.8, jump_var=1.5)
    rng = np.random.default_rng(7)
    y, _ = numpy_forward(rng, n, dim, 0.5, 0.6, 0.8, 1.5, t)
    sq = np.sum(y * y, axis=1)
    assert abs(sq.mean() - dim * proc.transition(t).variance) <= 5 * sq.std() / math.sqrt(n)
    gauss = proc.equivalent_gaussian()
    assert gauss.transition(t).variance == pytest.approx(proc.transition(t).variance, rel=1e-15)
