"""Exact marginal laws of the heavy-tailed benchmark (levyscore._stable_marginal, MATH.md §3, §9).

Independent routes used here
----------------------------
* the density of the mixing variable against scipy's ``levy_stable.pdf`` (its own numerical
  integration) and the series against Zolotarev's integral where both apply;
* the Gaussian-model marginal (a 1-D integral over Z) against ``scipy.integrate.quad``;
* the fused (Z, W) rule against the nested rule whose inner law is the validated adaptive
  W-quadrature of ``levyscore._mixture``;
* Monte Carlo over Z (exact Kanter draws) of the conditional-on-Z law, which uses neither
  the Z-density nor the outer rule;
* the flux form d_t p = div(theta x p + grad V) = D g + r g'(r), g = p (theta - h), by
  finite differences of the quadrature;
* the table against the direct quadrature at points not used to build it.
"""
import math

import numba
import numpy as np
import pytest
from scipy import integrate, stats

import levyscore
from levyscore._mixture import _point_logpdf_h
from levyscore._stable import _log_density_series, _log_density_zolotarev, positive_stable_logpdf
from levyscore._stable_marginal import StableMarginalSource, mixing_grid
from levyscore.targets import SubGaussianStable

TARGET = SubGaussianStable(alpha=1.7, variance=0.05, dim=2)


@numba.njit(cache=True)
def _conditional_on_z(r, t, theta, diffusion, lam, b2, extra):
    """(log p, h) of the transition law plus N(0, extra_i I) at radius r, one row per extra_i."""
    n = extra.shape[0]
    lp = np.empty(n)
    h = np.empty(n)
    buf = np.empty(3)
    for i in range(n):
        lp[i], h[i] = _point_logpdf_h(r, t, 2, theta, diffusion, lam, b2, extra[i], buf)
    return lp, h
PURE = levyscore.JumpDiffusion(2, diffusion=0.0)
JD = levyscore.JumpDiffusion(2)
GAUSS = PURE.equivalent_gaussian()
PROCS = {"pure-jump": PURE, "jump-diffusion": JD, "gaussian": GAUSS}


@pytest.mark.parametrize("a", [0.85, 0.6, 0.3])
def test_mixing_density_against_scipy(a):
    # scipy's S1 law with scale cos(pi a / 2)^(1/a) has E exp(-sZ) = exp(-s^a): the Z_1 of
    # levyscore._stable. scipy integrates its own representation numerically (to ~1e-10).
    law = stats.levy_stable(a, 1.0, loc=0.0, scale=math.cos(math.pi * a / 2) ** (1 / a))
    z = np.array([0.4, 0.8, 1.3, 2.0, 3.5, 10.0, 80.0])
    lp = positive_stable_logpdf(a, z)
    np.testing.assert_allclose(lp, law.logpdf(z), rtol=0, atol=2e-9)


@pytest.mark.parametrize("a", [0.85, 0.6])
def test_series_and_zolotarev_agree(a):
    # two representations of the same density, where both converge (z from 0.7 to 5)
    for z in (0.7, 1.0, 2.0, 3.0, 5.0):
        assert abs(_log_density_series(a, z) - _log_density_zolotarev(a, z)) <= 1e-11


def test_mixing_rule_mass_and_first_inverse_moment():
    xs, logw = mixing_grid(1.7, 2)
    assert abs(np.exp(logw).sum() - 1.0) <= 1e-11
    # E Z^-1 = Gamma(1 + 1/a) / (2 Gamma(1)) for Z = 2 Z_1 (Laplace transform integrated once)
    a = 0.85
    exact = math.gamma(1 + 1 / a) / 2
    assert abs(np.sum(np.exp(logw - xs)) / exact - 1.0) <= 1e-10


@pytest.mark.parametrize("t", [1e-3, 0.1, 2.0])
def test_gaussian_route_against_quad(t):
    # Without jumps p_t(r) = E_Z phi_2(r; s + v q Z), s = sigma^2 (1 - q) / (2 theta).
    theta, sig2 = GAUSS.theta, GAUSS.diffusion
    q = math.exp(-2 * theta * t)
    s = sig2 * (1 - q) / (2 * theta)
    e = TARGET.variance * q
    a = 0.85

    def integrand(x, r):
        v = s + e * math.exp(x)
        lf = positive_stable_logpdf(a, np.array([0.5 * math.exp(x)]))[0] - math.log(2.0)
        return math.exp(lf + x - math.log(2 * math.pi * v) - r * r / (2 * v))

    src = StableMarginalSource(TARGET, GAUSS)
    for r in (0.01, 0.5, 3.0):
        edges = [-3, -1, 0, 0.5, 1, 2, 4, 8, 16, 32, 64]
        ref = sum(integrate.quad(integrand, lo, hi, args=(r,), epsabs=0, epsrel=1e-12,
                                 limit=400)[0] for lo, hi in zip(edges[:-1], edges[1:]))
        assert abs(src.logp(np.array([r]), t)[0] - math.log(ref)) <= 1e-9


@pytest.mark.parametrize("name", ["pure-jump", "jump-diffusion"])
def test_fused_rule_against_nested_quadrature(name):
    # nested: every Z-node's law by the adaptive W-quadrature validated against mpmath in
    # tests/test_laws_reference.py; fused: one fixed W-rule per point. Both sum the same
    # Z-rule, so this isolates the W part. Measured agreement <= 3e-11.
    proc = PROCS[name]
    r = np.geomspace(1e-3, 3e3, 9)
    fused = StableMarginalSource(TARGET, proc)
    nested = StableMarginalSource(TARGET, proc, nested=True)
    for t in (2e-3, 0.3, 5.0):
        lp, h = fused._eval(r, t)
        lp2, h2 = nested._eval(r, t)
        np.testing.assert_allclose(lp, lp2, rtol=0, atol=1e-9)
        np.testing.assert_allclose(h, h2, rtol=1e-9)


@pytest.mark.parametrize("name", ["pure-jump", "jump-diffusion", "gaussian"])
def test_monte_carlo_over_z(name):
    # Given Z, the marginal is the transition law with extra variance v q Z, computed by the
    # adaptive W-quadrature. Averaging it over exact draws of Z estimates p and grad V / (-x)
    # = E[p_Z h_Z] without the Z-density or the outer rule. n = 40,000 draws; the estimator's
    # standard error comes from the sample itself; 6 sd (two-sided 2e-9), plus 1e-9 relative
    # for the quadrature.
    proc = PROCS[name]
    n = 40_000
    z = TARGET.sample_mixing(n, rng=77)
    t = 0.05
    q = math.exp(-2 * proc.theta * t)
    src = StableMarginalSource(TARGET, proc)
    b2 = proc.b ** 2 if proc.jump_rate > 0 else 0.0
    for r in (0.05, 0.4, 2.5):
        lp, h = _conditional_on_z(r, t, proc.theta, proc.diffusion, proc.jump_rate, b2,
                                  TARGET.variance * q * z)
        p = np.exp(lp)
        num = p * h
        lp_q, h_q = src._eval(np.array([r]), t)
        p_q = math.exp(lp_q[0])
        assert abs(p.mean() - p_q) <= 6 * p.std() / math.sqrt(n) + 1e-9 * p_q
        assert abs(num.mean() - p_q * h_q[0]) <= 6 * num.std() / math.sqrt(n) + 1e-9 * p_q * h_q[0]


@pytest.mark.parametrize("name", ["pure-jump", "jump-diffusion", "gaussian"])
@pytest.mark.parametrize(("r", "t"), [(0.2, 0.05), (1.0, 0.5), (4.0, 2.0)])
def test_flux_form(name, r, t):
    # d_t p = div(theta x p + grad V) with grad V = -x h p (radial): D g + r g'(r),
    # g = p (theta - h). Fourth-order central differences with relative step 1e-2; the
    # truncation error (~ step^4 x 5th derivative ~ 1e-8 relative) and the quadrature's
    # rounding (1e-11 / step) stay below the tolerance 1e-6 of the terms' scale.
    proc = PROCS[name]
    src = StableMarginalSource(TARGET, proc)
    theta = proc.theta

    def p_of(rr, tt):
        return np.exp(src.logp(np.asarray(rr, dtype=float), tt))

    def g_of(rr, tt):
        lp, h = src._eval(np.asarray(rr, dtype=float), tt)
        return np.exp(lp) * (theta - h)

    dt = 1e-2 * t
    dr = 1e-2 * r
    k = np.array([-2, -1, 1, 2])
    c = np.array([1, -8, 8, -1]) / 12.0
    dpdt = sum(ci * p_of([r], t + ki * dt)[0] for ci, ki in zip(c, k)) / dt
    gr = g_of(r + k * dr, t)
    dgdr = float(np.dot(c, gr)) / dr
    g0 = g_of([r], t)[0]
    rhs = 2 * g0 + r * dgdr
    scale = abs(2 * g0) + abs(r * dgdr) + abs(dpdt)
    assert abs(dpdt - rhs) <= 1e-6 * scale


def test_table_certified_and_matches_quadrature(tmp_path):
    # The Gaussian model's table builds in seconds; the jump models' use the same builder
    # with the fused rule (measured in docs/results.md). Check the certificate, then compare
    # with the direct quadrature at fresh random points (log-uniform radii 1e-4 .. the
    # table's top, log-uniform times).
    table = TARGET.marginal_table(GAUSS, cache_dir=tmp_path)
    assert table.max_rel_error <= 1e-6 and table.n_check > 1000
    rng = np.random.default_rng(5)
    t = np.exp(rng.uniform(math.log(1e-3), math.log(10.0), 400))
    r = np.exp(rng.uniform(math.log(1e-4), math.log(200.0), 400))
    h_tab = table.h(r, t)
    h_ref = StableMarginalSource(TARGET, GAUSS).h(r, t)
    assert np.max(np.abs(h_tab / h_ref - 1)) <= 1e-6
    # score(x, t) = -x h(|x|, t), shapes as documented
    x = rng.standard_normal((3, 5, 2))
    s = TARGET.marginal_score(GAUSS, cache_dir=tmp_path)(x, 0.3)
    assert s.shape == x.shape
    hh = table.h(np.linalg.norm(x, axis=-1), 0.3)
    np.testing.assert_allclose(s, -x * hh[..., None], rtol=1e-14)
    # cached: a second build loads the file; another alpha is another file
    again = TARGET.marginal_table(GAUSS, cache_dir=tmp_path)
    assert again.from_cache and again.path == table.path
    other = SubGaussianStable(alpha=1.5).marginal_table(GAUSS, cache_dir=tmp_path, t_min=1.0,
                                                         t_max=2.0)
    assert other.path != table.path


def test_marginal_logpdf_normalised():
    # the radial density 2 pi r p(r) integrates to 1 (power-law tail ~ r^-1.7 integrated
    # analytically beyond the last point); the quadrature's own error is ~1e-10
    logpdf = TARGET.marginal_logpdf(JD)
    r = np.geomspace(1e-6, 1e6, 4001)
    x = np.column_stack([r, np.zeros_like(r)])
    dens = 2 * math.pi * r * r * np.exp(logpdf(x, 0.2))  # d/dlog r
    inside = integrate.trapezoid(dens, np.log(r))
    tail = dens[-1] / 1.7
    assert abs(inside + tail - 1.0) <= 1e-4


def test_bad_arguments():
    with pytest.raises(ValueError, match="proc"):
        TARGET.marginal_score("proc")
    with pytest.raises(ValueError, match="dimension"):
        TARGET.marginal_score(levyscore.JumpDiffusion(3))
    with pytest.raises(ValueError, match="alpha"):
        SubGaussianStable(alpha=0.3).marginal_logpdf(PURE)
    logpdf = TARGET.marginal_logpdf(PURE)
    with pytest.raises(ValueError, match="t"):
        logpdf(np.zeros((1, 2)), 0.0)
    with pytest.raises(ValueError, match="x"):
        logpdf(np.zeros((1, 3)), 1.0)
