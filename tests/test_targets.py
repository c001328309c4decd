"""Oracle targets (levyscore.targets, MATH.md section 9), each checked through an independent route.

* BesselTarget: the marginal score and log density against mpmath evaluations of the Bessel
  mixture written here from MATH.md (besselk, binomials); the Kolmogorov-Feller equation in
  flux form by finite differences; the limits j = m and t -> inf; the radial CDFs against
  elementary closed forms and against the radial integral of the density; Monte Carlo of the
  data law and, through the exact forward sampler, of the marginal law.
* GaussianMixture: without jumps, against the Gaussian-mixture closed form in NumPy; with
  jumps, the flux form d_t p = div(theta x p + p S) by finite differences in t and in every
  coordinate; a single point-mass component against the transition law (Bessel closed form
  or W-quadrature); Monte Carlo of the sampler.
* StationaryTarget: zero flux of the stationary law under its score (finite differences).
* Reproducibility of every sampler and ValueErrors for bad input.

Monte Carlo thresholds: radial CDFs use the Dvoretzky-Kiefer-Wolfowitz bound
P(sup |F_n - F| > eps) <= 2 exp(-2 n eps^2) at ALPHA = 1e-6; moments use 5 standard errors
(two-sided false alarm 6e-7 per statistic under the CLT). All seeds are fixed.
"""
import math

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import levyscore
from levyscore.targets import BesselTarget, GaussianMixture, StationaryTarget

ALPHA = 1e-6


def dkw(n):
    return math.sqrt(math.log(2 / ALPHA) / (2 * n))


def direction(dim):
    """A fixed unit vector in no coordinate direction."""
    u = np.cos(np.arange(1, dim + 1) + 0.3)
    return u / np.linalg.norm(u)


def pure_jump(dim, m, theta=0.7, b=1.3):
    return levyscore.JumpDiffusion(dim, theta=theta, diffusion=0.0, jump_rate=2 * theta * m,
                                   jump_var=2 * b * b)


# ---------------------------------------------------------------------------------------------
# BesselTarget: closed form against mpmath
# ---------------------------------------------------------------------------------------------


def mp_bessel_marginal(dim, j, m, theta, b, t, r):
    """(log p_t(r), h(r)) of MATH.md section 9 at 40 digits, from besselk and binomials.

    p_t = sum_{i=0}^{m-j} C(m-j, i) q^i (1-q)^{m-j-i} g_{m-i}^{(b)},
    g_k^{(b)}(r) = b^{-D} (2 pi)^{-D/2} 2^{1-k} / Gamma(k) rho^{k-D/2} K_{D/2-k}(rho),
    h = lambda sum w g_k / (2k) / sum w g_k,  lambda = 2 theta m.
    """
    with mp.workdps(40):
        theta, b, t, r = mp.mpf(theta), mp.mpf(b), mp.mpf(t), mp.mpf(r)
        q = mp.exp(-2 * theta * t)
        rho = r / b
        half = mp.mpf(dim) / 2

        def g(k):
            return ((2 * mp.pi) ** (-half) * mp.mpf(2) ** (1 - k) / mp.gamma(k)
                    * rho ** (k - half) * mp.besselk(half - k, rho) / b ** dim)

        p = mp.mpf(0)
        num = mp.mpf(0)
        for i in range(m - j + 1):
            k = m - i
            w = mp.binomial(m - j, i) * q ** i * (1 - q) ** (m - j - i)
            p += w * g(k)
            num += w * g(k) / (2 * k)
        lam = 2 * theta * m
        return float(mp.log(p)), float(lam * num / p)


JM = [(1, 1), (1, 2), (2, 2), (1, 3), (2, 3), (3, 3)]


@pytest.mark.parametrize("dim", [1, 2, 3])
@pytest.mark.parametrize("j,m", JM)
def test_bessel_marginal_matches_mpmath(dim, j, m):
    theta, b = 0.7, 1.3
    proc = pure_jump(dim, m, theta, b)
    target = BesselTarget(j, b, dim)
    score = target.marginal_score(proc)
    logpdf = target.marginal_logpdf(proc)
    u = direction(dim)
    rhos = np.array([0.01, 0.7, 3.0, 15.0, 40.0])
    x = (rhos * b)[:, None] * u[None, :]
    for t in (1e-4, 0.3, 2.0, 30.0):
        s = score(x, t)
        lp = logpdf(x, t)
        assert s.shape == x.shape and lp.shape == rhos.shape
        # the score is radial: S = -x h(|x|)
        np.testing.assert_allclose(s, -x * (-(s @ u) / (rhos * b))[:, None], rtol=1e-14, atol=0)
        for i, rho in enumerate(rhos):
            ref_lp, ref_h = mp_bessel_marginal(dim, j, m, theta, b, t, rho * b)
            h = -(s[i] @ u) / (rho * b)
            # the kernels use Bessel ratios accurate to a few ulp and log-space sums of m terms
            # (measured: 6e-16 for h, 2e-15 for log p); 1e-13 leaves a margin of ~100, while a
            # wrong weight or order is O(1e-4) or more even at t = 1e-4 (weights of k > j are
            # ~1.4e-4 there)
            assert abs(h - ref_h) <= 1e-13 * ref_h, (t, rho, h, ref_h)
            assert abs(lp[i] - ref_lp) <= 1e-13 * max(1.0, abs(ref_lp)), (t, rho, lp[i], ref_lp)


@pytest.mark.parametrize("dim", [1, 2, 3, 6])
def test_bessel_j_equals_m_is_stationary(dim):
    # for j = m every weight but w'_m vanishes: p_t = g_m at every t, and h = lambda/(2m) = theta
    theta, b, m = 0.7, 1.3, 2
    proc = pure_jump(dim, m, theta, b)
    target = BesselTarget(m, b, dim)
    x = np.outer([0.05, 0.8, 2.5, 9.0], direction(dim))
    stat = proc.stationary()
    for t in (1e-3, 0.4, 5.0):
        np.testing.assert_array_equal(target.marginal_weights(proc, t), [0, 0, 1])
        # -theta x is analytic; 1e-13 allows the rounding of lambda/(2m) in the kernel
        np.testing.assert_allclose(target.marginal_score(proc)(x, t), -theta * x, rtol=1e-13)
        np.testing.assert_allclose(target.marginal_logpdf(proc)(x, t), stat.logpdf(x), rtol=1e-14)


@pytest.mark.parametrize("j,m", [(1, 2), (1, 3), (2, 3)])
def test_bessel_large_time_is_stationary_score(j, m):
    theta, b, dim = 0.7, 1.3, 2
    proc = pure_jump(dim, m, theta, b)
    x = np.outer([0.05, 0.8, 2.5, 9.0], direction(dim))
    # q = exp(-2 theta t) = e^-112 at t = 80: the marginal differs from g_m by ~1e-48 relative
    s = BesselTarget(j, b, dim).marginal_score(proc)(x, 80.0)
    np.testing.assert_allclose(s, proc.stationary().score(x), rtol=1e-14)
    # and at t = 0.5 it does not (the comparison can fail)
    s = BesselTarget(j, b, dim).marginal_score(proc)(x, 0.5)
    assert np.max(np.abs(s / proc.stationary().score(x) - 1)) > 1e-3


def test_bessel_weights_extreme_times():
    proc = pure_jump(2, 3, theta=0.5, b=1.0)
    target = BesselTarget(1, 1.0, 2)
    for t in (1e-4, 0.7, 30.0):
        q = mp.exp(-mp.mpf(t))
        ref = [0.0] + [float(mp.binomial(2, 3 - k) * q ** (3 - k) * (1 - q) ** (k - 1))
                       for k in (1, 2, 3)]
        # lgamma / log(-expm1) keep each weight to a few ulp even where 1 - q ~ 1e-4
        np.testing.assert_allclose(target.marginal_weights(proc, t), ref, rtol=1e-13, atol=0)


# ---------------------------------------------------------------------------------------------
# BesselTarget: the Kolmogorov-Feller equation in flux form
# ---------------------------------------------------------------------------------------------


STENCIL = np.array([-2.0, -1.0, 1.0, 2.0])
WEIGHTS = np.array([1.0, -8.0, 8.0, -1.0]) / 12.0


def d1(values, eps):
    """Fourth-order central difference from f at x + STENCIL * eps (last axis of ``values``).

    Error O(eps^4 f^(5)) + O(EPS |f| / eps).
    """
    return values @ WEIGHTS / eps


def bessel_flux_residual(target, proc, t, r):
    """Residual of d_t log p = D(theta - h) - r h' + r (theta - h) d_r log p (radial flux form).

    This is d_t p = r^{1-D} d_r (r^D p (theta - h)), i.e. d_t p = div(theta y p + p S) for
    S = -y h; returns (residual, scale). Evaluations are batched (one kernel call per time).
    """
    u = direction(target.dim)
    score = target.marginal_score(proc)
    logpdf = target.marginal_logpdf(proc)
    et, er = 1e-3 * t, 1e-3 * r
    x = r * u[None, :]
    dt_logp = d1(np.array([logpdf(x, t + a * et)[0] for a in STENCIL]), et)
    radii = np.concatenate([[r], r + STENCIL * er])
    pts = radii[:, None] * u[None, :]
    logp = logpdf(pts, t)
    h = -(score(pts, t) @ u) / radii
    dr_logp = d1(logp[1:], er)
    dr_h = d1(h[1:], er)
    theta, dim, h = proc.theta, target.dim, h[0]
    terms = [dim * (theta - h), r * dr_h, r * (theta - h) * dr_logp]
    return dt_logp - (terms[0] - terms[1] + terms[2]), max(abs(dt_logp), *map(abs, terms))


@given(dim=st.sampled_from([1, 2, 3, 5]), m=st.integers(1, 4), j0=st.integers(1, 4),
       t=st.floats(0.05, 5.0), rho=st.floats(0.05, 15.0), theta=st.sampled_from([0.5, 0.9]))
def test_bessel_marginal_flux_form(dim, m, j0, t, rho, theta):
    j = min(j0, m)
    b = 0.8
    proc = pure_jump(dim, m, theta, b)
    res, scale = bessel_flux_residual(BesselTarget(j, b, dim), proc, t, rho * b)
    # 4th-order differences with relative step 1e-3: truncation ~1e-12 relative, rounding
    # ~EPS |log p| / 1e-3 ~ 1e-12 |log p| (measured on a grid: 9e-11 of the largest term);
    # 1e-7 of the largest term leaves a wide margin while
    # a wrong weight, sign or Bessel order gives O(1e-2) or larger residuals
    assert abs(res) <= 1e-7 * max(scale, 1.0), (res, scale)


def test_bessel_flux_residual_detects_a_wrong_score():
    # the flux check can fail: with the data law's own score (the target at t = 0, i.e. the
    # j = 1 weights at every t) instead of the marginal's it is violated by O(1)
    proc = pure_jump(2, 2, 0.5, 0.8)
    target = BesselTarget(1, 0.8, 2)
    wrong = BesselTarget(2, 0.8, 2)  # p_t = g_2 instead of the j = 1 mixture
    res_ok, scale = bessel_flux_residual(target, proc, 0.6, 1.0)
    assert abs(res_ok) <= 1e-7 * max(scale, 1.0)

    class Mixed:
        dim = 2

        def marginal_score(self, p):
            return wrong.marginal_score(p)

        def marginal_logpdf(self, p):
            return target.marginal_logpdf(p)

    res_bad, scale = bessel_flux_residual(Mixed(), proc, 0.6, 1.0)
    assert abs(res_bad) > 1e-2 * scale


# ---------------------------------------------------------------------------------------------
# BesselTarget: radial CDFs
# ---------------------------------------------------------------------------------------------


def test_bessel_radial_cdf_elementary_cases():
    b = 1.7
    rho = np.array([1e-3, 0.2, 1.0, 3.5, 12.0])
    r = rho * b
    cases = [
        (BesselTarget(1, b, 1), 1 - np.exp(-rho)),                    # Laplace e^{-|y|/b}/(2b)
        (BesselTarget(2, b, 1), 1 - (1 + rho / 2) * np.exp(-rho)),    # (1 + rho) e^{-rho}/(4b)
        (BesselTarget(1, b, 3), 1 - (1 + rho) * np.exp(-rho)),        # e^{-rho}/(4 pi b^2 r)
    ]
    for target, ref in cases:
        # incomplete-gamma quadrature over the Gamma(j) mixing law, ~1e-13 relative;
        # the absolute 1e-15 covers the cancellation of 1 - ... in the NumPy reference
        np.testing.assert_allclose(target.radial_cdf(r), ref, rtol=1e-11, atol=1e-15)


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_bessel_marginal_radial_cdf_is_integrated_density(dim):
    b, t = 0.9, 0.6
    proc = pure_jump(dim, 3, 0.5, b)
    target = BesselTarget(1, b, dim)
    logpdf = target.marginal_logpdf(proc)
    u = direction(dim)
    area = 2 * math.pi ** (dim / 2) / math.gamma(dim / 2)
    # Gauss-Legendre in v with s = r v^2: the integrand 2 r v area s^{D-1} p(s) is smooth
    # except for a v^3 log v term at 0 (D = 2), which 200 nodes integrate to ~1e-18
    # (cross-checked against scipy.integrate.quad to 5e-15)
    nodes, weights = np.polynomial.legendre.leggauss(200)
    v, wv = (nodes + 1) / 2, weights / 2
    radii = np.array([0.3, 1.0, 2.5, 6.0])
    cdf = target.marginal_radial_cdf(proc, t, radii)
    for r, c in zip(radii, cdf):
        s = r * v ** 2
        dens = np.exp(logpdf(s[:, None] * u[None, :], t))
        ref = np.sum(wv * 2 * r * v * area * s ** (dim - 1) * dens)
        # measured agreement 6e-15; the density itself is checked against mpmath above
        assert abs(c - ref) <= 1e-12, (r, c, ref)
    # and total mass 1 at infinity (no atom for the Bessel marginal)
    assert target.marginal_radial_cdf(proc, t, 1e3) == pytest.approx(1.0, abs=1e-12)


# ---------------------------------------------------------------------------------------------
# BesselTarget: Monte Carlo
# ---------------------------------------------------------------------------------------------


def radial_gap(cdf, y):
    r = np.linalg.norm(y, axis=1)
    grid = np.quantile(r, np.linspace(0.02, 0.98, 25))  # radial_cdf costs ~25 ms a point
    empirical = np.searchsorted(np.sort(r), grid, side="right") / r.size
    return np.max(np.abs(empirical - cdf(grid)))


@pytest.mark.parametrize("j,dim", [(1, 2), (2, 3)])
def test_bessel_samples_and_marginal_follow_the_laws(j, dim):
    n, b, m, t = 60_000, 0.8, 3, 0.7
    target = BesselTarget(j, b, dim)
    x0 = target.sample(n, rng=2024)
    assert x0.shape == (n, dim)
    assert radial_gap(target.radial_cdf, x0) <= dkw(n)
    # E|X|^2 = D * 2 b^2 j (MATH.md section 1: A = sqrt(2 b^2 Z) xi)
    sq = np.sum(x0 * x0, axis=1)
    assert abs(sq.mean() - dim * target.variance) <= 5 * sq.std() / math.sqrt(n)
    # exact forward simulation from the data: the marginal law of MATH.md section 9
    proc = pure_jump(dim, m, 0.5, b)
    xt = proc.sample(x0, t, rng=77)
    assert radial_gap(lambda r: target.marginal_radial_cdf(proc, t, r), xt) <= dkw(n)
    # the check can fail: the data law itself is far from the marginal at t = 0.7
    assert radial_gap(target.radial_cdf, xt) > 3 * dkw(n)


# ---------------------------------------------------------------------------------------------
# GaussianMixture
# ---------------------------------------------------------------------------------------------

GM = dict(weights=[0.5, 0.3, 0.2], means=[[0.0, 0.0], [2.0, 1.0], [-1.0, 2.0]],
          variances=[0.3, 0.6, 0.1])


def numpy_gaussian_mixture(weights, means, variances, theta, diffusion, t, x):
    """log p and (sigma_G^2/2) grad log p of sum_k pi_k N(mu_k e^{-theta t}, (v_k q + s) I)."""
    q = math.exp(-2 * theta * t)
    s = diffusion * (1 - q) / (2 * theta)
    means = np.asarray(means) * math.exp(-theta * t)
    var = np.asarray(variances) * q + s
    dim = means.shape[1]
    diff = x[None, :, :] - means[:, None, :]                         # (K, n, D)
    logc = (np.log(weights)[:, None] - 0.5 * dim * np.log(2 * np.pi * var)[:, None]
            - np.sum(diff ** 2, axis=2) / (2 * var[:, None]))         # (K, n)
    top = logc.max(axis=0)
    resp = np.exp(logc - top)
    logp = top + np.log(resp.sum(axis=0))
    resp /= resp.sum(axis=0)
    grad = -np.einsum("kn,knd->nd", resp / var[:, None], diff)
    return logp, 0.5 * diffusion * grad


@pytest.mark.parametrize("dim", [2, 3])
def test_gaussian_mixture_without_jumps_is_closed_form(dim):
    rng = np.random.default_rng(3)
    means = rng.normal(size=(3, dim)) * 2
    gm = GaussianMixture(GM["weights"], means, GM["variances"])
    theta, diffusion = 0.6, 1.4
    proc = levyscore.JumpDiffusion(dim, theta=theta, diffusion=diffusion, jump_rate=0.0)
    x = rng.normal(size=(40, dim)) * 2.5
    for t in (0.01, 0.5, 3.0):
        ref_lp, ref_s = numpy_gaussian_mixture(gm.weights, means, gm.variances, theta, diffusion,
                                               t, x)
        s = gm.marginal_score(proc)(x, t)
        # both sides sum the same K terms in different orders: a few ulp of the largest term
        scale = np.max(np.abs(ref_s))
        np.testing.assert_allclose(s, ref_s, rtol=1e-12, atol=1e-12 * scale)
        np.testing.assert_allclose(gm.marginal_logpdf(proc)(x, t), ref_lp, rtol=1e-12, atol=1e-13)


def gm_flux_residual(gm, proc, t, x):
    """d_t log p - [D theta + div S + (theta x + S) . grad log p] at points x (P, D).

    This is the flux form d_t p = div(theta x p + p S) divided by p; every derivative by
    4th-order central differences, all points of one time in one call. Returns (residual,
    scale), each of shape (P,).
    """
    score = gm.marginal_score(proc)
    logpdf = gm.marginal_logpdf(proc)
    npts, dim = x.shape
    et, ex = 1e-3 * t, 1e-3
    dt = d1(np.stack([logpdf(x, t + a * et) for a in STENCIL], axis=1), et)
    # shifted points: (P, D coordinates, 4 offsets, D)
    shifted = (x[:, None, None, :]
               + ex * STENCIL[None, None, :, None] * np.eye(dim)[None, :, None, :])
    lp = logpdf(shifted, t)                                     # (P, D, 4)
    sc = score(shifted, t)                                      # (P, D, 4, D)
    grad = d1(lp, ex)                                           # (P, D)
    diag = sc[:, np.arange(dim), :, np.arange(dim)]             # (D, P, 4): S_i along e_i
    div = d1(diag, ex).sum(axis=0)                              # (P,)
    s = score(x, t)
    adv = np.einsum("pd,pd->p", proc.theta * x + s, grad)
    terms = np.stack([np.full(npts, dim * proc.theta), div, adv])
    return dt - terms.sum(axis=0), np.maximum(np.abs(dt), np.abs(terms).max(axis=0))


PROCS_2D = [
    dict(theta=0.5, diffusion=0.0, jump_rate=1.0, jump_var=2.0),   # pure jump, m = 1
    dict(theta=0.7, diffusion=0.0, jump_rate=1.3, jump_var=0.8),   # pure jump, m = 0.93
    dict(theta=0.5, diffusion=1.0, jump_rate=1.0, jump_var=2.0),   # paper's jump-diffusion
]


@pytest.mark.parametrize("kw", PROCS_2D)
def test_gaussian_mixture_flux_form_with_jumps(kw):
    gm = GaussianMixture(**GM)
    proc = levyscore.JumpDiffusion(2, **kw)
    points = np.array([[0.3, -0.2], [1.5, 1.1], [-0.8, 1.6], [3.0, -2.5]])
    for t in (0.3, 1.5):
        res, scale = gm_flux_residual(gm, proc, t, points)
        # W-quadrature ~1e-13 relative, amplified by 1/step = 1e3 in the differences
        # (measured: 8e-11 of the largest term); bound 1e-8. A wrong centre, weight or
        # extra variance gives residuals of order 1e-2 or more (see the next test)
        assert np.all(np.abs(res) <= 1e-8 * np.maximum(scale, 1.0)), (t, res, scale)


def test_gaussian_mixture_flux_residual_detects_a_wrong_score():
    # the check can fail: the mixture score with the centres left at mu_k (no e^{-theta t})
    gm = GaussianMixture(**GM)
    proc = levyscore.JumpDiffusion(2, **PROCS_2D[2])

    class Unmoved:
        def marginal_score(self, p):
            def score(x, t):
                shift = np.asarray(GM["means"]) * (1 - math.exp(-p.theta * t))
                moved = GaussianMixture(GM["weights"], np.asarray(GM["means"]) + shift,
                                        GM["variances"])
                return moved.marginal_score(p)(x, t)
            return score

        def marginal_logpdf(self, p):
            return gm.marginal_logpdf(p)

    res, scale = gm_flux_residual(Unmoved(), proc, 1.0, np.array([[1.5, 1.1]]))
    assert abs(res[0]) > 1e-2 * scale[0]


@pytest.mark.parametrize("kw", PROCS_2D + [dict(theta=0.5, diffusion=0.0, jump_rate=2.0)])
def test_point_mass_component_is_the_transition_law(kw):
    dim = 2
    proc = levyscore.JumpDiffusion(dim, **kw)
    x = np.outer([0.05, 0.7, 2.0, 6.0], direction(dim)) + np.array([0.1, -0.3])
    for mu in (np.zeros(dim), np.array([1.5, -0.5])):
        for t in (0.2, 2.0):
            law = proc.transition(t)
            y = x - mu * math.exp(-proc.theta * t)
            gm = GaussianMixture([1.0], mu[None, :], [0.0])
            s = gm.marginal_score(proc)(x, t)
            # the transition law uses the Bessel closed form for pure jump with integer m and
            # the same W-quadrature otherwise; the routes agree to ~1e-13 (measured here:
            # 2e-15), hence 1e-11
            np.testing.assert_allclose(s, law.score(y), rtol=1e-11)
            np.testing.assert_allclose(gm.marginal_logpdf(proc)(x, t), law.logpdf(y), rtol=1e-10,
                                       atol=1e-10)
            # v -> 0: a variance of 1e-12 moves the law by O(1e-12 / |y|^2) relative
            # (measured: 5e-12)
            gm = GaussianMixture([1.0], mu[None, :], [1e-12])
            np.testing.assert_allclose(gm.marginal_score(proc)(x, t), law.score(y), rtol=1e-8)


class Doubled(levyscore.JumpDiffusion):
    """A process run in the clock B(t) = 2t (MATH.md section 7): its laws at t are those at 2t."""

    def clock(self, t):
        return 2.0 * t


@pytest.mark.parametrize("make", [lambda kw: Doubled(2, **kw),
                                  lambda kw: levyscore.JumpDiffusion(2, schedule="linear", **kw)])
def test_targets_evaluate_at_the_clock_time(make):
    # a schedule is a clock (MATH.md section 7): the marginal at process time t is the
    # constant-coefficient marginal at B(t)
    x = np.outer([0.2, 1.0, 3.0], direction(2)) + np.array([0.3, 0.1])
    kw = dict(theta=0.6, diffusion=0.0, jump_rate=2.4, jump_var=2.0)  # m = 2, b = 1
    plain, timed = levyscore.JumpDiffusion(2, **kw), make(kw)
    t = 0.4
    clock = timed.clock(t)
    assert clock != t
    for target in (BesselTarget(1, 1.0, 2), GaussianMixture(**GM)):
        for method in ("marginal_score", "marginal_logpdf"):
            got = getattr(target, method)(timed)(x, t)
            np.testing.assert_array_equal(got, getattr(target, method)(plain)(x, clock))
            assert not np.allclose(got, getattr(target, method)(plain)(x, t), rtol=1e-3)
    bessel = BesselTarget(1, 1.0, 2)
    np.testing.assert_array_equal(bessel.marginal_radial_cdf(timed, t, [0.5, 2.0]),
                                  bessel.marginal_radial_cdf(plain, clock, [0.5, 2.0]))


def test_gaussian_mixture_score_shapes_and_singular_centre():
    gm = GaussianMixture([0.4, 0.6], [[0.0, 0.0], [1.0, 1.0]], [0.0, 0.5])
    proc = levyscore.JumpDiffusion(2, diffusion=0.0, jump_rate=1.0)  # m = 1: p_k ~ log at 0
    x = np.zeros((3, 4, 2))
    x[1, 2] = [0.4, -0.1]
    s = gm.marginal_score(proc)(x, 0.5)
    lp = gm.marginal_logpdf(proc)(x, 0.5)
    assert s.shape == x.shape and lp.shape == (3, 4)
    # at the centre of the point-mass component the density is singular and the score 0
    assert np.all(s[0, 0] == 0.0) and np.isposinf(lp[0, 0])
    assert np.all(np.isfinite(s)) and np.all(np.abs(s[1, 2]) > 0)
    assert gm.marginal_score(proc)(np.empty((0, 2)), 0.5).shape == (0, 2)


def test_gaussian_mixture_samples():
    n = 60_000
    weights = np.array([0.5, 0.3, 0.2])
    means = np.array([[0.0, 0.0], [20.0, 0.0], [0.0, -20.0]])
    variances = np.array([0.25, 1.0, 0.0])
    gm = GaussianMixture(weights, means, variances)
    x = gm.sample(n, rng=99)
    assert x.shape == (n, 2)
    # components are 10+ standard deviations apart: nearest-mean assignment is exact
    comp = np.argmin(np.linalg.norm(x[:, None, :] - means[None], axis=2), axis=1)
    counts = np.bincount(comp, minlength=3)
    # Binomial(n, pi_k) counts: 5 standard deviations
    assert np.all(np.abs(counts - n * weights) <= 5 * np.sqrt(n * weights * (1 - weights)))
    for k in range(2):
        xk = x[comp == k]
        nk = xk.shape[0]
        # mean: 5 standard errors; per-coordinate variance: SE of a Gaussian sample variance
        # is v sqrt(2 / n_k)
        assert np.all(np.abs(xk.mean(axis=0) - means[k]) <= 5 * math.sqrt(variances[k] / nk))
        assert np.all(np.abs(xk.var(axis=0) - variances[k]) <= 5 * variances[k] * math.sqrt(2 / nk))
    # the point mass is exact
    assert np.all(x[comp == 2] == means[2])


# ---------------------------------------------------------------------------------------------
# StationaryTarget
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kw", [dict(dim=2, diffusion=0.0, jump_rate=2.0),
                                dict(dim=3, diffusion=1.0, jump_rate=1.0),
                                dict(dim=2, diffusion=0.0, jump_rate=1.3)])
def test_stationary_target_has_zero_flux(kw):
    proc = levyscore.JumpDiffusion(**kw)
    target = StationaryTarget(proc)
    score = target.marginal_score(proc)
    logpdf = target.marginal_logpdf(proc)
    u = direction(proc.dim)
    x = np.outer([0.3, 1.2, 3.0], u)
    for t in (0.1, 4.0):
        np.testing.assert_array_equal(score(x, t), proc.stationary().score(x))
    # stationarity: 0 = D(theta - h) - r h' + r (theta - h) d_r log p (radial flux form)
    for r in (0.3, 1.2, 3.0):
        radii = np.concatenate([[r], r + 1e-3 * r * STENCIL])
        pts = radii[:, None] * u[None, :]
        h = -(score(pts, 1.0) @ u) / radii
        logp = logpdf(pts, 1.0)
        terms = [proc.dim * (proc.theta - h[0]), r * d1(h[1:], 1e-3 * r),
                 r * (proc.theta - h[0]) * d1(logp[1:], 1e-3 * r)]
        res = terms[0] - terms[1] + terms[2]
        # closed form / quadrature ~1e-13 relative, divided by the 1e-3 step; bound 1e-8. A
        # score off by a factor (another process's V) leaves a residual of order 1
        assert abs(res) <= 1e-8 * max(1.0, *map(abs, terms)), (r, res, terms)


def test_stationary_target_other_process_same_law():
    proc = levyscore.JumpDiffusion(2, theta=0.5, diffusion=1.0, jump_rate=1.0)
    faster = levyscore.JumpDiffusion(2, theta=1.5, diffusion=3.0, jump_rate=3.0)  # same law
    target = StationaryTarget(proc)
    x = np.outer([0.3, 2.0], direction(2))
    # S = grad V / p scales with the noise: V of `faster` is 3 times that of proc
    np.testing.assert_allclose(target.marginal_score(faster)(x, 1.0),
                               3 * proc.stationary().score(x), rtol=1e-12)
    for other in (levyscore.JumpDiffusion(2, theta=0.5, diffusion=1.0, jump_rate=2.0),
                  levyscore.JumpDiffusion(2, theta=0.5, diffusion=0.5, jump_rate=1.0),
                  levyscore.JumpDiffusion(2, theta=0.5, diffusion=1.0, jump_rate=1.0, jump_var=1.0),
                  levyscore.JumpDiffusion(3, theta=0.5, diffusion=1.0, jump_rate=1.0)):
        with pytest.raises(ValueError, match="proc"):
            target.marginal_score(other)


def test_stationary_target_samples():
    n = 40_000
    proc = levyscore.JumpDiffusion(3, diffusion=0.5, jump_rate=1.0)
    target = StationaryTarget(proc)
    x = target.sample(n, rng=5)
    assert radial_gap(target.radial_cdf, x) <= dkw(n)
    law = levyscore.JumpDiffusion(3, diffusion=0.5, jump_rate=1.0)
    np.testing.assert_array_equal(target.marginal_radial_cdf(law, 2.0, [0.5, 1.5]),
                                  target.radial_cdf([0.5, 1.5]))


# ---------------------------------------------------------------------------------------------
# Reproducibility
# ---------------------------------------------------------------------------------------------


TARGETS = [
    lambda: StationaryTarget(levyscore.JumpDiffusion(2, diffusion=0.3)),
    lambda: BesselTarget(2, 0.7, 3),
    lambda: GaussianMixture(**GM),
]


@pytest.mark.parametrize("make", TARGETS)
def test_sampling_is_reproducible(make):
    target = make()
    n = 1000
    a = target.sample(n, rng=42)
    np.testing.assert_array_equal(a, target.sample(n, rng=42))
    np.testing.assert_array_equal(a, target.sample(n, rng=np.random.SeedSequence(42)))
    assert not np.array_equal(a, target.sample(n, rng=43))
    assert not np.array_equal(target.sample(n), target.sample(n))  # None: fresh entropy
    g1, g2 = np.random.default_rng(1), np.random.default_rng(1)
    first = target.sample(n, rng=g1)
    np.testing.assert_array_equal(first, target.sample(n, rng=g2))
    assert not np.array_equal(first, target.sample(n, rng=g1))  # the Generator advanced
    # chunks drawn with start reproduce the whole batch bit for bit
    chunks = [target.sample(k1 - k0, rng=42, start=k0) for k0, k1 in [(0, 300), (300, 301), (301, n)]]
    np.testing.assert_array_equal(np.concatenate(chunks), a)
    assert target.sample(0, rng=1).shape == (0, target.dim)


# ---------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("args,name", [
    ((0, 1.0, 2), "j"), ((1.5, 1.0, 2), "j"), ((True, 1.0, 2), "j"),
    ((1, -1.0, 2), "b"), ((1, float("nan"), 2), "b"), ((1, 0.0, 2), "b"),
    ((1, 1.0, 0), "dim"), ((1, 1.0, 2.5), "dim"),
])
def test_bessel_target_bad_parameters(args, name):
    with pytest.raises(ValueError, match=rf"^{name} "):
        BesselTarget(*args)


@pytest.mark.parametrize("kw,match", [
    (dict(dim=2, diffusion=1.0, jump_rate=2.0), "pure jump"),
    (dict(dim=2, diffusion=0.0, jump_rate=1.3), "integer"),
    (dict(dim=2, diffusion=0.0, jump_rate=1.0), "must be >= the target's order"),
    (dict(dim=2, diffusion=0.0, jump_rate=2.0, jump_var=3.0), "proc.b"),
    (dict(dim=3, diffusion=0.0, jump_rate=2.0), "proc.dim"),
])
def test_bessel_target_rejects_processes(kw, match):
    target = BesselTarget(2, 1.0, 2)
    proc = levyscore.JumpDiffusion(**kw)
    for method in (target.marginal_score, target.marginal_logpdf):
        with pytest.raises(ValueError, match=match):
            method(proc)
    with pytest.raises(ValueError, match=match):
        target.marginal_radial_cdf(proc, 1.0, [1.0])


@pytest.mark.parametrize("kw,name", [
    (dict(weights=[0.5, 0.6], means=[[0, 0], [1, 1]], variances=[1, 1]), "weights"),
    (dict(weights=[1.5, -0.5], means=[[0, 0], [1, 1]], variances=[1, 1]), "weights"),
    (dict(weights=[0.5, 0.5, 0.0], means=[[0, 0], [1, 1]], variances=[1, 1]), "weights"),
    (dict(weights=[[0.5, 0.5]], means=[[0, 0], [1, 1]], variances=[1, 1]), "weights"),
    (dict(weights=[0.5, float("nan")], means=[[0, 0], [1, 1]], variances=[1, 1]), "weights"),
    (dict(weights=["a", "b"], means=[[0, 0], [1, 1]], variances=[1, 1]), "weights"),
    (dict(weights=[0.5, 0.5], means=[0, 1], variances=[1, 1]), "means"),
    (dict(weights=[0.5, 0.5], means=[[0, np.inf], [1, 1]], variances=[1, 1]), "means"),
    (dict(weights=[1.0], means=np.empty((1, 0)), variances=[1]), "means"),
    (dict(weights=[0.5, 0.5], means=[[0, 0], [1, 1]], variances=[1, -1]), "variances"),
    (dict(weights=[0.5, 0.5], means=[[0, 0], [1, 1]], variances=[1]), "variances"),
    (dict(weights=[0.5, 0.5], means=[[0, 0], [1, 1]], variances=1.0), "variances"),
])
def test_gaussian_mixture_bad_parameters(kw, name):
    with pytest.raises(ValueError, match=rf"^{name} "):
        GaussianMixture(**kw)


def test_bad_calls():
    gm = GaussianMixture(**GM)
    proc = levyscore.JumpDiffusion(2)
    score = gm.marginal_score(proc)
    x = np.ones((3, 2))
    for t in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match=r"^t "):
            score(x, t)
    with pytest.raises(ValueError, match=r"^t "):
        score(x, np.ones(3))
    with pytest.raises(ValueError, match=r"^x "):
        score(np.ones((3, 3)), 1.0)
    with pytest.raises(ValueError, match=r"^x "):
        score(np.array([[np.nan, 0.0]]), 1.0)
    with pytest.raises(ValueError, match=r"^proc"):
        gm.marginal_score(levyscore.JumpDiffusion(3))
    with pytest.raises(ValueError, match=r"^proc "):
        gm.marginal_logpdf("not a process")
    with pytest.raises(ValueError, match=r"^proc "):
        StationaryTarget(None)
    for target in (gm, BesselTarget(1, 1.0, 2), StationaryTarget(proc)):
        with pytest.raises(ValueError, match=r"^n "):
            target.sample(-1, rng=0)
        with pytest.raises(ValueError, match=r"^rng "):
            target.sample(3, rng=-4)
        with pytest.raises(ValueError, match=r"^start "):
            target.sample(3, rng=0, start=-1)
    bessel = BesselTarget(1, 1.0, 2)
    with pytest.raises(ValueError, match=r"^r "):
        bessel.radial_cdf([-1.0])
    pj = levyscore.JumpDiffusion(2, diffusion=0.0, jump_rate=2.0)
    with pytest.raises(ValueError, match=r"^t "):
        bessel.marginal_radial_cdf(pj, 0.0, [1.0])
