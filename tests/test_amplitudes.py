"""Jump amplitude laws as objects (MATH.md section 11): the law objects, and exact sampling
of every law checked against independent routes.

Independent routes: the one-jump amplitude against scipy.stats (t_nu with scale
sqrt(2 beta / nu), the normal); the Laplace transform of the sampled mixing variable W against
its Levy-Khintchine form evaluated in mpmath at 30 digits (a closed form with E1 for Gaussian
amplitudes, a double quadrature over the jump time and the Gamma variable for Student-t, a
rational function for Laplace); L_M against mpmath quadrature of E exp(-u M).

Thresholds (every one can fail; with fixed seeds none is flaky), at ALPHA = 1e-6:
* DKW (Massart) for empirical CDFs: sup |F_n - F| <= sqrt(log(2/ALPHA) / (2n));
* Hoeffding for means of [0, 1]-valued variables: the same bound.
"""
import math

import mpmath
import numba
import numpy as np
import pytest
from scipy import stats

import levyscore
from levyscore import _forward as fw
from levyscore.amplitudes import Gaussian, Laplace, StudentT, as_amplitude

ALPHA = 1e-6
KEY = (0x9E3779B9, 0x7F4A7C15)
LAWS = [Laplace(), Gaussian(), StudentT(3), StudentT(5)]
LAW_IDS = ["laplace", "gaussian", "t3", "t5"]


def dkw(n):
    """sup |F_n - F| bound holding with probability 1 - ALPHA (Massart's DKW)."""
    return math.sqrt(math.log(2.0 / ALPHA) / (2.0 * n))


hoeffding = dkw  # |mean - E| for [0, 1]-valued variables, probability 1 - ALPHA


# -- the law objects ---------------------------------------------------------------------------

def test_names_and_objects():
    assert as_amplitude("laplace") == Laplace()
    assert as_amplitude("Gaussian") == Gaussian()
    assert as_amplitude("student-t") == StudentT(5)
    assert as_amplitude("student_t") == StudentT(5.0)
    assert StudentT(3) != StudentT(5) and hash(StudentT(3)) == hash(StudentT(3.0))
    assert StudentT(3).cache_key() == ("student-t", 3.0)
    assert Gaussian().cache_key() == ("gaussian",)
    proc = levyscore.JumpDiffusion(2, amplitude=StudentT(3))
    assert proc.amplitude == StudentT(3)
    assert "StudentT(nu=3.0)" in repr(proc)
    assert repr(levyscore.JumpDiffusion(2)).endswith("jump_var=2.0)")


@pytest.mark.parametrize("bad", ["cauchy", "", 3, None, 2.5])
def test_bad_amplitude_names_the_argument(bad):
    with pytest.raises(ValueError, match="amplitude"):
        levyscore.JumpDiffusion(2, amplitude=bad)


@pytest.mark.parametrize("nu", [2.0, 1.5, 0.0, -3.0, math.nan, math.inf, "5"])
def test_student_t_needs_nu_above_two(nu):
    with pytest.raises(ValueError, match="nu"):
        StudentT(nu)


@pytest.mark.parametrize("law", LAWS, ids=LAW_IDS)
def test_equivalent_gaussian_does_not_depend_on_the_law(law):
    proc = levyscore.JumpDiffusion(3, diffusion=0.5, jump_rate=1.3, jump_var=0.7, amplitude=law)
    eq = proc.equivalent_gaussian()
    assert eq.diffusion == 0.5 + 1.3 * 0.7 and eq.jump_rate == 0.0
    assert repr(eq) == repr(levyscore.JumpDiffusion(3, diffusion=0.5, jump_rate=1.3,
                                                    jump_var=0.7).equivalent_gaussian())
    law_t = proc.transition(0.8)
    assert law_t.variance == pytest.approx((0.5 + 1.3 * 0.7) * -math.expm1(-0.8) / 1.0,
                                           rel=1e-15)
    assert law_t.atom == 0.0


def _laplace_m_mpmath(law, u, jump_var):
    """E exp(-u M) by mpmath quadrature over M's own density (not the Bessel form)."""
    u = mpmath.mpf(u)
    if isinstance(law, Laplace):
        return mpmath.quad(lambda z: mpmath.exp(-z - u * jump_var * z), [0, mpmath.inf])
    if isinstance(law, Gaussian):
        return mpmath.exp(-u * jump_var)
    if u == 0:
        return mpmath.mpf(1)
    a = mpmath.mpf(law.nu) / 2
    beta = mpmath.mpf(jump_var) * (mpmath.mpf(law.nu) - 2) / 2
    # in y = log g; the integrand peaks near g = sqrt(u beta) with width w (large u) or is
    # the Gamma(a) density in log g (small u); below y = log(u beta) - 12 it is below
    # exp(-e^12) (and mpmath's exp of e^-y would crawl), above log 400 below exp(-400 + a y)
    peak = float(mpmath.log(mpmath.sqrt(u * beta)))
    w = float((u * beta) ** mpmath.mpf(-0.25)) / math.sqrt(2.0)
    lo = float(mpmath.log(u * beta)) - 12.0
    hi = max(math.log(400.0), peak + 10.0 * w)
    cand = list(np.linspace(peak - 10.0 * w, peak + 10.0 * w, 41))
    cand += list(np.linspace(math.log(float(a)) - 8.0, math.log(float(a)) + 4.0, 49))
    pts = sorted({lo, hi, *[y for y in cand if lo < y < hi]})
    return mpmath.quad(lambda y: mpmath.exp(-u * beta * mpmath.exp(-y) + a * y - mpmath.exp(y))
                       / mpmath.gamma(a), pts, method="gauss-legendre")


@pytest.mark.parametrize("law", LAWS, ids=LAW_IDS)
def test_laplace_transform_of_m_against_mpmath(law):
    mpmath.mp.dps = 30
    jump_var = 1.7
    us = np.array([0.0, 1e-9, 1e-4, 0.03, 0.5, 2.0, 40.0, 1e3])
    lm = law.laplace_m(us, jump_var)
    om = law.one_minus_laplace_m(us, jump_var)
    lr = law.laplace_r(us, jump_var)
    for u, a, b, c in zip(us, lm, om, lr):
        ref = _laplace_m_mpmath(law, u, jump_var)
        assert abs(a - float(ref)) <= 1e-14 * float(ref)
        one_minus = 1 - ref
        assert abs(b - float(one_minus)) <= 1e-12 * float(one_minus) + (u == 0) * 0.0
        ref_r = one_minus / (jump_var * u) if u > 0 else 1
        assert abs(c - float(ref_r)) <= 1e-12 * float(ref_r)


def _log_laplace_w_mpmath(law, u, t, theta, jump_rate, jump_var):
    """log E exp(-uW) (MATH.md section 11) from closed forms or an independent quadrature."""
    mpmath.mp.dps = 30
    m = mpmath.mpf(jump_rate) / (2 * theta)
    u = mpmath.mpf(u)
    c = u * jump_var
    stationary = math.isinf(t)
    q = mpmath.mpf(0) if stationary else mpmath.exp(-2 * mpmath.mpf(theta) * t)
    if isinstance(law, Laplace):
        return m * mpmath.log((1 + c * q) / (1 + c))
    if isinstance(law, Gaussian):
        if stationary:  # -m Ein(c), Ein(c) = gamma + log c + E1(c)
            return -m * (mpmath.euler + mpmath.log(c) + mpmath.e1(c))
        return m * mpmath.log(q) + m * (mpmath.e1(c * q) - mpmath.e1(c))
    # Student-t: -m E_G[Ein(c beta'/G) - Ein(c q beta'/G)] with beta' = (nu-2)/2, i.e. the
    # integral over the jump time done in closed form and the one over G by quadrature
    a = mpmath.mpf(law.nu) / 2
    bp = (mpmath.mpf(law.nu) - 2) / 2

    def ein(x):
        return mpmath.euler + mpmath.log(x) + mpmath.e1(x) if x > 0 else mpmath.mpf(0)

    def f(g):
        x = c * bp / g
        val = ein(x) - (ein(x * q) if q > 0 else 0)
        return val * mpmath.exp((a - 1) * mpmath.log(g) - g - mpmath.loggamma(a))

    return -m * mpmath.quad(f, [0, 0.1, 1, 10, 100, mpmath.inf])


@pytest.mark.parametrize("law", LAWS, ids=LAW_IDS)
@pytest.mark.parametrize("t", [0.3, 2.5, math.inf])
def test_laplace_transform_of_w_against_mpmath(law, t):
    theta, jump_rate, jump_var = 0.5, 1.3, 2.0
    us = np.array([1e-6, 0.05, 0.7, 3.0, 60.0])
    got = law.log_laplace_w(us, t, theta, jump_rate, jump_var)
    for u, g in zip(us, got):
        ref = float(_log_laplace_w_mpmath(law, u, t, theta, jump_rate, jump_var))
        assert abs(g - ref) <= 1e-12 * abs(ref) + 1e-300, (u, g, ref)


# -- exact sampling ---------------------------------------------------------------------------

def test_laplace_default_is_the_laplace_object_bit_for_bit():
    x0 = np.ones((300, 2))
    base = levyscore.JumpDiffusion(2, jump_rate=1.3)
    for amp in ("laplace", Laplace()):
        other = levyscore.JumpDiffusion(2, jump_rate=1.3, amplitude=amp)
        assert np.array_equal(base.sample(x0, 2.0, rng=3), other.sample(x0, 2.0, rng=3))
        assert np.array_equal(base.stationary().sample(50, rng=4),
                              other.stationary().sample(50, rng=4))


@pytest.mark.parametrize("law", LAWS, ids=LAW_IDS)
def test_one_jump_has_the_amplitude_law(law):
    """theta = 0 (no damping): Y | N = 1 is one amplitude A; DKW on a coordinate and on |A|."""
    n, dim, jump_var = 400_000, 3, 1.7
    y, _, counts = fw.forward_increments_w(KEY, n, dim, 0.0, 0.0, 1.0, jump_var, 1.0,
                                           amplitude=law)
    a = y[counts == 1]
    assert a.shape[0] > 0.35 * n  # P(N = 1) = e^-1
    if isinstance(law, StudentT):
        beta = law.beta(jump_var)
        coord = stats.t(law.nu, scale=math.sqrt(2.0 * beta / law.nu))
        # |A|^2 / (D scale^2) ~ F(D, nu)
        radial = stats.f(dim, law.nu, scale=dim * 2.0 * beta / law.nu)
    elif isinstance(law, Gaussian):
        coord = stats.norm(scale=math.sqrt(jump_var))
        radial = stats.chi2(dim, scale=jump_var)
    else:  # Laplace: |A|^2 = jump_var z chi2_D, z ~ Exp(1); one coordinate is Laplace in D=1
        coord = None
        radial = None
    if coord is None:
        z = y[counts == 1][:, 0]
        # a coordinate of the D-dim Laplace law: sqrt(jump_var z) xi, a scale mixture; its CDF
        # by quadrature over z
        from scipy import integrate

        def cdf(x):
            return integrate.quad(lambda s: math.exp(-s) * stats.norm.cdf(x / math.sqrt(jump_var * s)),
                                  0, np.inf)[0]
        grid = np.quantile(z, np.linspace(0.01, 0.99, 25))
        emp = np.searchsorted(np.sort(z), grid, side="right") / z.size
        assert np.max(np.abs(emp - [cdf(g) for g in grid])) < dkw(z.size)
        return
    d_coord = stats.kstest(a[:, 0], coord.cdf).statistic
    d_radial = stats.kstest(np.einsum("ij,ij->i", a, a), radial.cdf).statistic
    assert d_coord < dkw(a.shape[0]) and d_radial < dkw(a.shape[0]), (d_coord, d_radial)


@pytest.mark.parametrize("law", LAWS, ids=LAW_IDS)
@pytest.mark.parametrize("t", [0.4, 3.0, math.inf])
def test_sampled_w_has_the_exact_laplace_transform(law, t):
    """E exp(-u W) of the sampled mixing variable against mpmath (Hoeffding, n = 1e6)."""
    theta, jump_rate, jump_var, n = 0.5, 1.3, 2.0, 1_000_000
    if math.isinf(t):
        _, w = fw.stationary_sample_w(KEY, n, 1, theta, 0.0, jump_rate, jump_var, amplitude=law)
    else:
        _, w, counts = fw.forward_increments_w(KEY, n, 1, theta, 0.0, jump_rate, jump_var, t,
                                               amplitude=law)
        # the atom: N = 0 with probability exp(-lambda t)
        assert abs(np.mean(counts == 0) - math.exp(-jump_rate * t)) < hoeffding(n)
    wv = jump_var * w  # variance units: Y | W ~ N(0, (s + W) I)
    for u in (0.05, 0.4, 2.0):
        ref = math.exp(float(_log_laplace_w_mpmath(law, u, t, theta, jump_rate, jump_var)))
        assert abs(np.mean(np.exp(-u * wv)) - ref) < hoeffding(n), (u, ref)


@pytest.mark.parametrize("law", [Gaussian(), StudentT(3)], ids=["gaussian", "t3"])
def test_chunks_threads_and_paths_reproduce(law):
    proc = levyscore.JumpDiffusion(2, diffusion=0.3, jump_rate=2.2, amplitude=law)
    x0 = np.arange(400.0).reshape(200, 2) / 100.0
    whole = proc.sample(x0, 1.7, rng=11)
    part = proc.sample(x0[60:130], 1.7, rng=11, start=60)
    assert np.array_equal(whole[60:130], part)
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = proc.sample(x0, 1.7, rng=11)
    finally:
        numba.set_num_threads(threads)
    assert np.array_equal(whole, one)
    path = proc.sample_path(x0, [1.7, 2.0], rng=11)
    assert np.array_equal(path[:, 0], whole)
    stat = proc.stationary()
    assert np.array_equal(stat.sample(200, rng=5)[40:90], stat.sample(50, rng=5, start=40))
    x_t, target = proc.dsm_pairs(x0, 1.7, rng=11, conditional_score=lambda y, t: -y)
    assert np.array_equal(x_t, whole)
    # target = -y with y the exact increment (x_t - decay x0 recomputes it to rounding)
    np.testing.assert_allclose(target, -(whole - math.exp(-0.5 * 1.7) * x0), rtol=0, atol=1e-13)


def test_every_built_in_law_has_laws():
    """Every built-in amplitude law has transition laws and scores (route "renewal" for the
    non-Laplace ones, tests/test_renewal_laws.py); "sampling-only" is left for new laws."""
    for law in LAWS:
        assert levyscore.JumpDiffusion(2, amplitude=law).route != "sampling-only"


@pytest.mark.parametrize("law", [Gaussian(), StudentT(2.0 + 1e-12), StudentT(1e300)],
                         ids=["gaussian", "t-near-2", "t-huge"])
@pytest.mark.parametrize("jump_var", [1e-300, 1.0, 1e300])
def test_extreme_parameters_sample_finite_values_fast(law, jump_var):
    """Extreme nu and jump_var: finite draws (or a ValueError), whatever the law."""
    import time

    proc = levyscore.JumpDiffusion(2, diffusion=0.0, jump_rate=3.0, jump_var=jump_var,
                                   amplitude=law)
    t0 = time.perf_counter()
    try:
        x = proc.sample(np.zeros((2000, 2)), 2.0, rng=1)
        s = proc.stationary().sample(500, rng=2)
    except ValueError:
        return
    assert np.isfinite(x).all() and np.isfinite(s).all()
    assert time.perf_counter() - t0 < 20.0  # generous: the first call may compile


def test_one_jump_student_t_near_two_has_unit_mean_mark():
    """nu -> 2+: the mark (nu/2 - 1)/G still has mean 1 (E 1/G = 1/(nu/2 - 1)); a mean of a
    heavy-tailed variable is not checked, its median is: median of 1/G is 1/median(G)."""
    law = StudentT(2.5)
    _, w, counts = fw.forward_increments_w(KEY, 200_000, 1, 0.0, 0.0, 1.0, 1.0, 1.0,
                                           amplitude=law)
    marks = w[counts == 1]  # theta = 0: W is the single mark
    # P(mark <= x) = P(G >= (a - 1)/x): the empirical CDF of the marks against Gamma's survival
    grid = np.quantile(marks, [0.1, 0.3, 0.5, 0.7, 0.9])
    ref = stats.gamma(1.25).sf(0.25 / grid)
    emp = np.searchsorted(np.sort(marks), grid, side="right") / marks.size
    assert np.max(np.abs(emp - ref)) < dkw(marks.size)
