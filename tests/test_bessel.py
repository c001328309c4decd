"""Tests of ``levyscore._bessel`` (log K_nu and K_{nu+1}/K_nu; MATH.md section 4).

Contract (nu in [0, 2048], x in [1e-10, 1e4], against >= 30-digit mpmath):

* ratio: relative error <= 1e-13;
* log K: |error| <= 1e-13 * max(1, |log K|).

Every comparison with high-precision values asserts the contract and, where
stated, a tighter regression guard (a multiple of eps = 2**-52) set a few
times above the worst error measured when the kernels were written, so that a
loss of accuracy is noticed long before the contract is at risk.
"""
import importlib.util
import math
import os

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given, strategies as st

from levyscore._bessel import NU_MAX, bessel_k_ratio, log_bessel_k, log_bessel_k_and_ratio

EPS = float(np.finfo(np.float64).eps)
CONTRACT = 1e-13
# Regression guards.  Measured worst errors (module docstring): ratio 3.2 eps,
# log K 23 eps (per max(1, |log K|)).  The guards leave a 4-5x margin (other
# libm implementations of log/exp/sin/sinh, other draws) and are themselves
# 28x and 4.7x below the contract.
RATIO_GUARD = 16 * EPS
LOGK_GUARD = 96 * EPS

HERE = os.path.dirname(os.path.abspath(__file__))
REF_DIR = os.path.join(HERE, "reference")


def _load_reference_script():
    spec = importlib.util.spec_from_file_location(
        "make_bessel_reference", os.path.join(REF_DIR, "make_bessel_reference.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


REFMOD = _load_reference_script()


@pytest.fixture(scope="module")
def reference():
    with np.load(os.path.join(REF_DIR, "bessel_reference.npz")) as f:
        return {k: f[k] for k in f.files}


def _errors(nus, xs, lk_hi, lk_lo, r_hi, r_lo, fn):
    """(log K error / max(1, |log K|), ratio relative error) arrays."""
    el = np.empty(nus.size)
    er = np.empty(nus.size)
    for i in range(nus.size):
        lk, r = fn(nus[i], xs[i])
        el[i] = abs((lk - lk_hi[i]) - lk_lo[i]) / max(1.0, abs(lk_hi[i]))
        er[i] = abs(((r - r_hi[i]) - r_lo[i]) / r_hi[i])
    return el, er


def _both_separately(nu, x):
    return log_bessel_k(nu, x), bessel_k_ratio(nu, x)


def _worst(err, ref):
    i = int(np.argmax(err))
    return "worst %.3g (= %.1f eps) at nu=%r, x=%r" % (
        err[i], err[i] / EPS, float(ref["nu"][i]), float(ref["x"][i]))


@pytest.mark.parametrize("fn", [log_bessel_k_and_ratio, _both_separately],
                         ids=["one_pass", "separate"])
def test_reference_grid(reference, fn):
    """Whole reference (grid + zero crossing of log K) against mpmath, 60 digits."""
    ref = reference
    assert ref["nu"].size > 700
    assert ref["nu"].min() == 0.0 and ref["nu"].max() == 2048.0
    assert ref["x"].min() == 1e-10 and ref["x"].max() == 1e4
    el, er = _errors(ref["nu"], ref["x"], ref["logk_hi"], ref["logk_lo"],
                     ref["ratio_hi"], ref["ratio_lo"], fn)
    assert np.all(np.isfinite(el)) and np.all(np.isfinite(er))
    assert er.max() <= CONTRACT, "ratio: " + _worst(er, ref)
    assert el.max() <= CONTRACT, "log K: " + _worst(el, ref)
    assert er.max() <= RATIO_GUARD, "ratio guard: " + _worst(er, ref)
    assert el.max() <= LOGK_GUARD, "log K guard: " + _worst(el, ref)


def test_reference_zero_crossing(reference):
    """Where log K_nu(x) ~ 0 (x ~ 0.6627 nu, large nu) the pieces of the
    algorithm, -x and the sum of nu log ratios (~1e3 each), cancel.  The
    contract is then an absolute 1e-13 (~450 eps).  Guard: 64 eps absolute;
    measured 30 eps worst over 300 random points when written.  Summing the
    logs naively, or multiplying by a once-rounded 2/x in the recurrence (a
    correlated error over ~2000 steps), gives 100-1400 eps here."""
    ref = reference
    sel = ref["kind"] == 2
    assert sel.sum() >= 100
    lk_hi = ref["logk_hi"][sel]
    assert np.abs(lk_hi).max() < 10.0          # the set really sits at the zero
    assert ref["nu"][sel].max() > 2000.0 and ref["x"][sel].max() > 1300.0
    el, er = _errors(ref["nu"][sel], ref["x"][sel], lk_hi, ref["logk_lo"][sel],
                     ref["ratio_hi"][sel], ref["ratio_lo"][sel], log_bessel_k_and_ratio)
    abs_err = el * np.maximum(1.0, np.abs(lk_hi))
    sub = {"nu": ref["nu"][sel], "x": ref["x"][sel]}
    assert abs_err.max() <= CONTRACT, "log K near its zero (absolute): " + _worst(abs_err, sub)
    assert abs_err.max() <= 64 * EPS, "log K near its zero (absolute): " + _worst(abs_err, sub)
    assert er.max() <= RATIO_GUARD, "ratio near the zero of log K: " + _worst(er, sub)


# --- live mpmath (integral representation, independent of the algorithm) ---

_nu_int = st.integers(min_value=0, max_value=2048).map(float)
_nu_half = st.integers(min_value=0, max_value=2047).map(lambda k: k + 0.5)
_nu_real = st.floats(min_value=0.0, max_value=2048.0, allow_nan=False,
                     allow_infinity=False, allow_subnormal=False)
_log10_x = st.floats(min_value=-10.0, max_value=4.0, allow_nan=False,
                     allow_infinity=False, allow_subnormal=False)


@given(nu=st.one_of(_nu_int, _nu_half, _nu_real), e=_log10_x)
def test_against_mpmath_quadrature(nu, e):
    x = min(max(10.0 ** e, 1e-10), 1e4)
    mp.mp.dps = 40
    with mp.workdps(40):
        lk_ref = REFMOD.logk_quad(nu, x, dps=40)
        lk1_ref = REFMOD.logk_quad(mp.mpf(nu) + 1, x, dps=40)   # exact order nu + 1
        r_ref = mp.exp(lk1_ref - lk_ref)
        lk, r = log_bessel_k_and_ratio(nu, x)
        el = float(abs(lk - lk_ref) / max(1, abs(lk_ref)))
        er = float(abs(r / r_ref - 1))
    msg = "nu=%r x=%r: log K err %.3g (%.1f eps), ratio err %.3g (%.1f eps)" % (
        nu, x, el, el / EPS, er, er / EPS)
    assert el <= CONTRACT and er <= CONTRACT, msg
    assert el <= LOGK_GUARD and er <= RATIO_GUARD, msg


# --- independent identities -------------------------------------------------

@pytest.mark.parametrize("nu", [0.51, 0.7, 1.0, 1.3, 2.5, 7.0, 10.49, 20.75, 64.0])
def test_recurrence_in_log_space(nu):
    """K_{nu+1} = K_{nu-1} + (2 nu / x) K_nu, divided by K_{nu+1}:

        exp(lK(nu-1) - lK(nu+1)) + (2 nu / x) exp(lK(nu) - lK(nu+1)) = 1,

    a sum of two positive terms (no cancellation).  The left side is off by at
    most the error of the exponent differences, 2 * LOGK_GUARD * max(1, |lK|)
    plus a few roundings.  For nu < 1, nu - 1 < 0 uses K_{-v} = K_v and a
    different fractional order (mu -> -mu), so Temme's series / CF2 are
    checked at +-mu against each other.
    """
    worst = 0.0
    where = None
    for x in np.logspace(-10, 4, 57).tolist() + [0.999, 1.0, 1.001, 1.999, 2.0, 2.001]:
        lm = log_bessel_k(nu - 1.0, x)
        l0 = log_bessel_k(nu, x)
        lp = log_bessel_k(nu + 1.0, x)
        lhs = math.exp(lm - lp) + (2.0 * nu / x) * math.exp(l0 - lp)
        scale = max(1.0, abs(lm), abs(l0), abs(lp))
        err = abs(lhs - 1.0) / scale
        if err > worst:
            worst, where = err, x
    assert worst <= 2 * LOGK_GUARD + 4 * EPS, "worst %.3g (%.1f eps) at x=%r" % (worst, worst / EPS, where)


def _half_integer_sum(n, x):
    """S_n(x) = sum_k (n+k)! / (k! (n-k)!) (2x)^-k, K_{n+1/2} = sqrt(pi/2x) e^-x S_n."""
    terms = [math.factorial(n + k) // (math.factorial(k) * math.factorial(n - k)) * (2.0 * x) ** (-k)
             for k in range(n + 1)]
    return math.fsum(terms)


@pytest.mark.parametrize("n", [0, 1, 2, 3, 5, 10])
def test_half_integer_closed_form(n):
    """Closed form of K_{n+1/2}: a finite sum of positive terms, each exact up to
    two roundings (integer coefficient exact, one pow), fsum exact: S_n carries
    <= 3 eps relative error.  log K is then off by <= 3 eps + the roundings of
    three additions (<= 3 eps * max(1, |log K|)); the ratio S_{n+1}/S_n
    (times 1) by <= 7 eps.  Tolerances: 16 eps (ratio), 16 eps (log K)."""
    nu = n + 0.5
    for x in np.logspace(-3, 4, 36):
        s0 = _half_integer_sum(n, x)
        s1 = _half_integer_sum(n + 1, x)
        lk_cf = (0.5 * math.log(math.pi / (2.0 * x)) - x) + math.log(s0)
        r_cf = s1 / s0
        lk, r = log_bessel_k_and_ratio(nu, x)
        assert abs(lk - lk_cf) <= 16 * EPS * max(1.0, abs(lk_cf)), (n, x, lk, lk_cf)
        assert abs(r - r_cf) <= 16 * EPS * r_cf, (n, x, r, r_cf)


def test_order_one_half_exact():
    """K_{3/2}/K_{1/2} = 1 + 1/x, K_{1/2} = sqrt(pi/2x) e^-x.  The kernel does
    exactly the roundings of 1 + 1/x for the ratio; log K is the sum of three
    rounded terms (<= 3 ulp of the largest, 4 eps slack)."""
    for x in np.logspace(-10, 4, 29):
        assert bessel_k_ratio(0.5, x) == 1.0 + 1.0 / x
        lk = log_bessel_k(0.5, x)
        lk_cf = 0.5 * math.log(math.pi / (2.0 * x)) - x
        assert abs(lk - lk_cf) <= 4 * EPS * max(1.0, abs(lk_cf)), (x, lk, lk_cf)


@pytest.mark.parametrize("x", [1e-10, 1e-200])
@pytest.mark.parametrize("nu", [2.0, 3.5, 7.0, 31.5, 127.0, 1535.0, 2047.5, 2048.0])
def test_small_x_asymptotics(nu, x):
    """K_nu(x) = Gamma(nu)/2 (2/x)^nu (1 + O(x^2 / (4(nu - 1)))), a relative
    correction < 1e-20 for nu >= 2, x <= 1e-10, and K_{nu+1}/K_nu = 2nu/x
    (1 + O(x^2)).  Reference formula in 40-digit mpmath; log K within
    LOGK_GUARD * |log K|, ratio within 4 eps (2nu/x and 1/r: a few roundings).
    x = 1e-200 (outside the verified domain) exercises the rescaling of the
    product when each ratio is ~1e203."""
    with mp.workdps(40):
        lk_ref = mp.loggamma(nu) - mp.log(2) + nu * mp.log(2 / mp.mpf(x))
        r_ref = 2 * mp.mpf(nu) / mp.mpf(x)
    lk, r = log_bessel_k_and_ratio(nu, x)
    assert abs(lk - float(lk_ref)) <= LOGK_GUARD * abs(float(lk_ref)), (lk, lk_ref)
    assert abs(r / float(r_ref) - 1.0) <= 4 * EPS, (r, r_ref)


@pytest.mark.parametrize("nu", [0.0, 0.25, 1.0, 2.0, 3.5, 7.0])
def test_large_x_hankel_ratio(nu):
    """x = 1e4: Hankel expansion K_nu(x) ~ sqrt(pi/2x) e^-x sum_k a_k(nu) x^-k,
    a_k = prod_{j<=k} (4nu^2 - (2j-1)^2) / (k! 8^k); the terms fall by a
    factor >= 300 per step, the float sum is good to ~2 eps, the ratio of two sums to ~5 eps.
    Tolerance 16 eps."""
    x = 1e4

    def hankel(v):
        total, term, k = 1.0, 1.0, 0
        while abs(term) > 1e-30:
            k += 1
            term *= (4.0 * v * v - (2.0 * k - 1.0) ** 2) / (k * 8.0 * x)
            total += term
        return total

    r_ref = hankel(nu + 1.0) / hankel(nu)     # sqrt(pi/2x) e^-x cancels
    r = bessel_k_ratio(nu, x)
    assert abs(r / r_ref - 1.0) <= 16 * EPS, (r, r_ref)


# --- structure and special inputs ---------------------------------------------

@pytest.mark.parametrize("nu", [0.0, 0.3, 0.5, 1.0, 2.75, 100.3, 2048.0])
@pytest.mark.parametrize("x", [1e-10, 0.5, 1.0, 1.5, 2.0, 2.5, 30.0, 1e4])
def test_one_pass_equals_separate(nu, x):
    """The one-pass kernel and the two single kernels share all the code paths
    (CF2's h is frozen at the same step), so they agree bit for bit."""
    lk, r = log_bessel_k_and_ratio(nu, x)
    assert lk == log_bessel_k(nu, x)
    assert r == bessel_k_ratio(nu, x)


@given(nu=_nu_real, e=_log10_x)
def test_symmetry_in_order_and_positivity(nu, e):
    x = 10.0 ** e
    assert log_bessel_k(-nu, x) == log_bessel_k(nu, x)
    r = bessel_k_ratio(nu, x)
    # K_{nu+1}/K_nu >= (nu + sqrt(nu^2 + x^2)) / x >= 1 (Segura's lower bound; 4 eps slack)
    assert r >= (nu + math.sqrt(nu * nu + x * x)) / x * (1.0 - 4 * EPS)


def test_extremes_are_finite():
    """The raw values overflow / underflow double precision; the logs must not."""
    big, r_big = log_bessel_k_and_ratio(2048.0, 1e-10)      # K ~ 10^26987
    small, r_small = log_bessel_k_and_ratio(0.0, 1e4)        # K ~ 10^-4345
    assert 62140.0 < big < 62141.0 and math.isfinite(r_big)
    assert -10005.0 < small < -10004.0 and 1.0 < r_small < 1.0001


def test_invalid_inputs():
    nan = math.nan
    for x in [0.0, -1.0, -math.inf, nan]:
        assert math.isnan(bessel_k_ratio(1.0, x))
        assert math.isnan(log_bessel_k(1.0, x))
        assert all(math.isnan(v) for v in log_bessel_k_and_ratio(1.0, x))
    for nu in [nan, NU_MAX * 2, math.inf, -math.inf]:
        assert math.isnan(bessel_k_ratio(nu, 1.0))
        assert math.isnan(log_bessel_k(nu, 1.0))
        assert all(math.isnan(v) for v in log_bessel_k_and_ratio(nu, 1.0))
    # the ratio kernels take nu >= 0 only; log K is even in nu
    assert math.isnan(bessel_k_ratio(-0.5, 1.0))
    assert all(math.isnan(v) for v in log_bessel_k_and_ratio(-0.5, 1.0))
    assert log_bessel_k(-0.5, 1.0) == log_bessel_k(0.5, 1.0)
    # x = +inf: K = 0, ratio -> 1
    assert log_bessel_k(3.0, math.inf) == -math.inf
    assert bessel_k_ratio(3.0, math.inf) == 1.0


@pytest.mark.parametrize("nu", [0.0, 1.0, 4.0])
def test_integer_order_fast_path_dense(nu):
    """The Chebyshev fit of K_1/K_0 on [1/4, 16) (integer orders start from it), densely,
    including both sides of every interval edge, against mpmath besselk at 30 digits."""
    mp.mp.dps = 30
    edges = np.array([0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0])
    xs = np.concatenate([np.geomspace(0.2, 20.0, 150), np.nextafter(edges, 0), edges,
                         np.nextafter(edges, 1)])
    worst = 0.0
    for x in xs:
        ref = mp.besselk(nu + 1, x) / mp.besselk(nu, x)
        worst = max(worst, abs(float((bessel_k_ratio(nu, x) - ref) / ref)))
    assert worst <= RATIO_GUARD, worst
