"""Properties of the exact laws, each checked through a route independent of the code under test.

* the Kolmogorov-Feller equation in flux form, d_t p = div(theta y p + p S), by finite
  differences of logpdf and of the score (MATH.md section 3);
* grad V / p against finite differences of V computed from its Bessel closed form with mpmath;
* the closed-form route against the W-mixture quadrature route (pure jump, integer m);
* the lambda -> 0 limit, the t -> inf limit, normalisation (radial integral of the pdf plus
  the atom) and the radial CDF against the integrated pdf.
"""
import math

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, special

import levyscore
from levyscore._mixture import mixture_logpdf_h

EPS = np.finfo(float).eps


def radial_point(r, dim):
    """A point of norm r in a fixed, non-axis direction."""
    u = np.cos(np.arange(1, dim + 1))
    return r * u / np.linalg.norm(u)


def radial_logpdf_h(law, r):
    y = radial_point(1.0, law.process.dim)[None, :] * np.asarray(r, float)[:, None]
    logp = law.logpdf(y)
    s = law.score(y)
    h = -np.einsum("ij,ij->i", s, y) / np.einsum("ij,ij->i", y, y)
    return logp, h


def d1(f, x, eps):
    """Fourth-order central difference: error O(eps^4 f^(5)) + O(EPS |f| / eps)."""
    return (f(x - 2 * eps) - 8 * f(x - eps) + 8 * f(x + eps) - f(x + 2 * eps)) / (12 * eps)


def flux_residual(proc, t, r):
    """Residual of d_t log p = D(theta - h) - r h' + r (theta - h) d_r log p (radial flux form).

    Derived from d_t p = r^{1-D} d_r (r^D p (theta - h)) for S = -y h; returns (residual, scale).
    """
    theta, dim = proc.theta, proc.dim

    def logp_t(tt):
        return radial_logpdf_h(proc.transition(tt), np.array([r]))[0][0]

    def logp_r(rr):
        return radial_logpdf_h(proc.transition(t), np.array([rr]))[0][0]

    def h_r(rr):
        return radial_logpdf_h(proc.transition(t), np.array([rr]))[1][0]

    et, er = 1e-3 * t, 1e-3 * r
    dt_logp = d1(logp_t, t, et)
    dr_logp = d1(logp_r, r, er)
    dr_h = d1(h_r, r, er)
    h = h_r(r)
    rhs_terms = [dim * (theta - h), r * dr_h, r * (theta - h) * dr_logp]
    residual = dt_logp - (rhs_terms[0] - rhs_terms[1] + rhs_terms[2])
    scale = max(abs(dt_logp), *(abs(x) for x in rhs_terms))
    return residual, scale


@given(
    dim=st.sampled_from([1, 2, 3, 5, 16, 64]),
    m=st.integers(1, 4),
    t=st.floats(0.05, 5.0),
    rho=st.floats(0.05, 20.0),
    b=st.floats(0.3, 3.0),
)
def test_flux_form_closed_form(dim, m, t, rho, b):
    theta = 0.5
    proc = levyscore.JumpDiffusion(dim, theta=theta, diffusion=0.0, jump_rate=2 * theta * m,
                                   jump_var=2 * b * b)
    assert proc.route == "closed-form"
    res, scale = flux_residual(proc, t, rho * b)
    # 4th-order differences with relative step 1e-3: truncation ~1e-12 relative, rounding
    # ~EPS |log p| / 1e-3 ~ 1e-12 |log p|; 1e-7 of the largest term leaves a wide margin while
    # any error in a formula (a wrong weight, sign or Bessel order) gives O(1) residuals.
    assert abs(res) <= 1e-7 * max(scale, 1.0), (res, scale)


@settings(max_examples=12)
@given(
    dim=st.sampled_from([1, 2, 3, 7]),
    m=st.sampled_from([0.4, 1.0, 1.7, 3.0]),
    diffusion=st.sampled_from([0.0, 0.5, 2.0]),
    t=st.floats(0.1, 4.0),
    rho=st.floats(0.1, 10.0),
)
def test_flux_form_mixture(dim, m, diffusion, t, rho):
    theta, b = 0.5, 0.8
    proc = levyscore.JumpDiffusion(dim, theta=theta, diffusion=diffusion, jump_rate=2 * theta * m,
                                   jump_var=2 * b * b)
    res, scale = flux_residual(proc, t, rho * b)
    # quadrature accuracy ~1e-12 relative, divided by the 1e-3 step: ~1e-9; bound 1e-6.
    assert abs(res) <= 1e-6 * max(scale, 1.0), (res, scale)


def _v_closed_form(rho, t, dim, m, lam, b):
    """V = lambda b^2 sum_{j=0}^m w_j g_{j+1}^{(b)} (MATH.md section 4), with mpmath."""
    q = mp.e ** (-mp.mpf(t))  # theta = 0.5
    half = mp.mpf(dim) / 2

    def g(j):
        return ((2 * mp.pi) ** (-half) * mp.mpf(2) ** (1 - j) / mp.gamma(j)
                * rho ** (j - half) * mp.besselk(half - j, rho) / mp.mpf(b) ** dim)

    return lam * b ** 2 * sum(mp.binomial(m, j) * q ** (m - j) * (1 - q) ** j * g(j + 1)
                              for j in range(m + 1))


@settings(max_examples=15)
@given(dim=st.sampled_from([1, 2, 3, 6]), m=st.integers(1, 3), t=st.floats(0.1, 5.0),
       rho=st.floats(0.1, 15.0))
def test_score_is_grad_v_over_p(dim, m, t, rho):
    mp.mp.dps = 30
    b = 0.9
    lam = float(m)  # theta = 0.5
    proc = levyscore.JumpDiffusion(dim, diffusion=0.0, jump_rate=lam, jump_var=2 * b * b)
    r = rho * b
    eps = mp.mpf(r) * mp.mpf("1e-8")
    dv = (_v_closed_form((mp.mpf(r) + eps) / b, t, dim, m, lam, b)
          - _v_closed_form((mp.mpf(r) - eps) / b, t, dim, m, lam, b)) / (2 * eps)
    logp, h = radial_logpdf_h(proc.transition(t), np.array([r]))
    # V is radial: grad V = V'(r) y / r, so h = -V'(r) / (r p). Central difference at 30 digits:
    # truncation (eps/r)^2 ~ 1e-16 relative; compare at 1e-12.
    expected = float(-dv / (mp.mpf(r) * mp.e ** mp.mpf(logp[0])))
    assert abs(h[0] - expected) <= 1e-12 * abs(expected), (h[0], expected)


@pytest.mark.parametrize("dim", [1, 2, 3, 8, 64, 512])
@pytest.mark.parametrize("m", [1, 2, 5])
def test_closed_form_equals_mixture_route(dim, m):
    theta, b = 0.5, 1.7
    proc = levyscore.JumpDiffusion(dim, theta=theta, diffusion=0.0, jump_rate=2 * theta * m,
                                   jump_var=2 * b * b)
    r = b * np.geomspace(1e-5, 50, 23)
    for t in (1e-3, 0.7, 12.0):
        logp, h = radial_logpdf_h(proc.transition(t), r)
        lp2, h2 = np.empty_like(r), np.empty_like(r)
        mixture_logpdf_h(r, np.full(r.shape, t), dim, theta, 0.0, 2 * theta * m, b * b, 0.0, lp2, h2)
        # two different routes (Bessel ratios vs quadrature over W), each ~1e-13 accurate
        np.testing.assert_allclose(h, h2, rtol=1e-10)
        np.testing.assert_allclose(logp, lp2, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("route_kw", [dict(diffusion=0.0, jump_rate=1.0),
                                      dict(diffusion=0.0, jump_rate=1.3),
                                      dict(diffusion=1.0, jump_rate=1.0)])
@pytest.mark.parametrize("dim", [1, 3, 10])
def test_normalisation_and_radial_cdf(route_kw, dim):
    proc = levyscore.JumpDiffusion(dim, **route_kw)
    law = proc.transition(0.8)
    area = 2 * math.pi ** (dim / 2) / math.gamma(dim / 2)

    nodes, weights = np.polynomial.legendre.leggauss(20)

    def mass(upper, panels):
        # composite 20-point Gauss-Legendre in u = log r on [-40, log upper] (the mass below
        # e^-40 is < 1e-17); the integrand area r^D p(r) is smooth in u
        edges = np.linspace(-40.0, math.log(upper), panels + 1)
        half = 0.5 * np.diff(edges)
        u = (0.5 * (edges[:-1] + edges[1:])[:, None] + half[:, None] * nodes[None, :]).ravel()
        y = radial_point(1.0, dim)[None, :] * np.exp(u)[:, None]
        f = area * np.exp(dim * u + law.logpdf(y))
        return float(np.sum(f.reshape(panels, -1) * (half[:, None] * weights[None, :])))

    coarse, fine = mass(200.0, 30), mass(200.0, 60)
    assert abs(coarse - fine) <= 1e-11  # the rule has converged well below the 1e-10 bounds
    assert abs(law.atom + fine - 1.0) <= 1e-10, law.atom + fine
    for r in (0.3, 1.0, 2.5):
        assert abs(law.radial_cdf(r) - (law.atom + mass(r, 60))) <= 1e-10


@pytest.mark.parametrize("kw", [dict(diffusion=1.0, jump_rate=1.0), dict(diffusion=0.5, jump_rate=0.6)])
def test_small_jump_rate_limit_is_gaussian(kw):
    # S_lambda - S_0 = O(lambda * p_jump(r) / p_gauss(r)); the ratio of densities grows in the
    # tails (Laplace vs Gaussian), so compare in the bulk (|y| <= 2, ratio < 10) at
    # lambda = 1e-9, where the difference is below 1e-8; bound 1e-7 relative.
    proc = levyscore.JumpDiffusion(3, diffusion=kw["diffusion"], jump_rate=1e-9)
    gauss = levyscore.JumpDiffusion(3, diffusion=kw["diffusion"], jump_rate=0.0)
    y = radial_point(1.0, 3)[None, :] * np.array([0.01, 0.5, 1.0, 2.0])[:, None]
    t = 1.3
    s = (1 - math.exp(-2 * 0.5 * t)) * kw["diffusion"] / (2 * 0.5)
    expected = -(kw["diffusion"] / 2) * y / s  # (sigma_G^2 / 2) grad log of N(0, s I)
    np.testing.assert_allclose(gauss.transition(t).score(y), expected, rtol=1e-14)
    np.testing.assert_allclose(proc.transition(t).score(y), expected, rtol=1e-7)
    np.testing.assert_allclose(proc.transition(t).logpdf(y), gauss.transition(t).logpdf(y), rtol=1e-7)


@pytest.mark.parametrize("kw", [dict(diffusion=0.0, jump_rate=2.0), dict(diffusion=0.0, jump_rate=0.7),
                                dict(diffusion=1.0, jump_rate=1.0), dict(diffusion=1.0, jump_rate=0.0)])
def test_large_time_is_stationary(kw):
    proc = levyscore.JumpDiffusion(4, **kw)
    y = radial_point(1.0, 4)[None, :] * np.array([0.05, 0.7, 3.0, 9.0])[:, None]
    late, stat = proc.transition(80.0), proc.stationary()
    # q = exp(-80) ~ 2e-35: the laws agree to rounding
    np.testing.assert_allclose(late.logpdf(y), stat.logpdf(y), rtol=1e-12)
    np.testing.assert_allclose(late.score(y), stat.score(y), rtol=1e-11)
    np.testing.assert_allclose(late.radial_cdf([0.5, 2.0]), stat.radial_cdf([0.5, 2.0]), rtol=1e-10)


@pytest.mark.parametrize("dim", [1, 2, 5])
@pytest.mark.parametrize("m", [1, 3])
def test_stationary_pure_jump_is_bessel_potential(dim, m):
    # the stationary law of the pure-jump process with integer m is g_m^{(b)} (MATH.md §2, §4),
    # evaluated here with SciPy's kv (an independent implementation of K)
    b = 1.3
    proc = levyscore.JumpDiffusion(dim, diffusion=0.0, jump_rate=float(m), jump_var=2 * b * b)
    r = np.array([0.2, 1.0, 3.0, 8.0])
    y = radial_point(1.0, dim)[None, :] * r[:, None]
    rho = r / b
    g = ((2 * np.pi) ** (-dim / 2) * 2.0 ** (1 - m) / math.gamma(m) * rho ** (m - dim / 2)
         * special.kv(dim / 2 - m, rho) / b ** dim)
    np.testing.assert_allclose(proc.stationary().pdf(y), g, rtol=1e-13)
    assert proc.stationary().atom == 0.0


def test_score_at_origin_and_atom():
    proc = levyscore.JumpDiffusion(3, diffusion=0.0)
    law = proc.transition(2.0)
    assert law.atom == pytest.approx(math.exp(-2.0), rel=1e-15)
    np.testing.assert_array_equal(law.score(np.zeros((2, 3))), 0.0)
    assert law.logpdf(np.zeros(3)) == np.inf  # g_1 is singular at 0 in D = 3
    assert law.radial_cdf(0.0) == pytest.approx(math.exp(-2.0), rel=1e-14)
    assert levyscore.JumpDiffusion(3).transition(2.0).atom == 0.0


def test_score_time_broadcasting():
    proc = levyscore.JumpDiffusion(2, diffusion=0.0)
    y = np.random.default_rng(1).normal(size=(4, 3, 2))
    t = np.array([0.5, 1.0, 2.0])
    s = proc.score(y, t)
    for k in range(3):
        np.testing.assert_array_equal(s[:, k], proc.transition(t[k]).score(y[:, k]))
    s2 = levyscore.JumpDiffusion(2).score(y, t)
    for k in range(3):
        np.testing.assert_array_equal(s2[:, k], levyscore.JumpDiffusion(2).transition(t[k]).score(y[:, k]))


@pytest.mark.parametrize("kw", [dict(diffusion=1.0, jump_rate=1.0), dict(diffusion=0.0, jump_rate=1.3)])
def test_far_tail_is_finite_and_matches_laplace_asymptotics(kw):
    # far beyond the bulk (r up to 1e5, where the e^{-w} factor makes the w-integrand's peak
    # narrow) the quadrature must stay finite; log p decreases and h varies smoothly along r,
    # so an isolated failure of the quadrature (a missed peak) shows as a jump
    proc = levyscore.JumpDiffusion(2, **kw)
    r = np.geomspace(50.0, 1e5, 60)
    logp, h = radial_logpdf_h(proc.transition(1.0), r)
    assert np.all(np.isfinite(logp)) and np.all(np.isfinite(h)) and np.all(h > 0)
    assert np.all(np.diff(logp) < 0)
    assert np.all(np.abs(np.diff(np.log(h))) < 0.1)
