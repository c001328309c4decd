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

from levyscore import _bessel
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


@pytest.mark.parametrize("x", [1e-10, 1e-200, 1e-300])
@pytest.mark.parametrize("nu", [2.0, 3.5, 7.0, 20.5, 31.5, 127.0, 1535.0, 2047.5, 2048.0])
def test_small_x_asymptotics(nu, x):
    """K_nu(x) = Gamma(nu)/2 (2/x)^nu (1 + O(x^2 / (4(nu - 1)))), a relative
    correction < 1e-20 for nu >= 2, x <= 1e-10, and K_{nu+1}/K_nu = 2nu/x
    (1 + O(x^2)).  Reference formula in 40-digit mpmath; log K within
    LOGK_GUARD * |log K|, ratio within 4 eps (2nu/x and 1/r: a few roundings).
    x = 1e-200 and 1e-300 (outside the verified domain) exercise the rescaling of
    the product when each ratio is ~1e203 or ~1e303 (for nu < 24; the product
    overflowed, and the rescaling loop never ended, before it was scaled ahead of
    each multiplication), and the Debye path for nu >= 24 (nu / x ~ 1e303)."""
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

@pytest.mark.parametrize("nu", [0.0, 0.3, 0.5, 1.0, 2.75, 23.99, 24.0, 100.3, 2048.0, 1e5])
@pytest.mark.parametrize("x", [1e-10, 0.5, 1.0, 1.5, 2.0, 2.5, 30.0, 1e4])
def test_one_pass_equals_separate(nu, x):
    """The one-pass kernel and the two single kernels share all the code paths
    (CF2's h is frozen at the same step; the Debye ratio is the same expression
    of the same sums), so they agree bit for bit."""
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


# --- large orders: the Debye expansion, nu >= _NU_DEBYE (DLMF 10.41) -----------------

# Contract of the Debye path, tighter than CONTRACT and the guards above (which it must
# also meet).  Measured when written (module docstring): ratio 1.5 eps, log K 9.3 eps per
# max(1, |log K|), the worst at the zero of log K for nu > 1000.
DEBYE_RATIO_TOL = 4 * EPS
DEBYE_LOGK_TOL = 25 * EPS
# Regression guard of the Debye log K since its large terms are summed in double-double
# and rounded once: within 1 eps * max(1, |log K|) (0.5 ulp plus slack; measured 0.49 eps,
# 0.28 eps absolute at the zero of log K).  The recurrence measured 2.6 eps per
# max(1, |log K|) on these sets, 109 eps absolute at the zero.
DEBYE_LOGK_GUARD = 1 * EPS


def _load_debye_script():
    path = os.path.join(os.path.dirname(HERE), "levyscore", "_precompute", "bessel_debye.py")
    spec = importlib.util.spec_from_file_location("bessel_debye", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def debye_reference():
    with np.load(os.path.join(REF_DIR, "bessel_debye_reference.npz")) as f:
        return {k: f[k] for k in f.files}


@pytest.mark.parametrize("fn", [log_bessel_k_and_ratio, _both_separately],
                         ids=["one_pass", "separate"])
def test_debye_reference(debye_reference, fn):
    """~2100 points of the Debye region against 60-digit mpmath
    (tests/reference/make_bessel_debye_reference.py): nu in [24, 2048] (and 40 points up
    to NU_MAX), x in [1e-10, 1e4], dense at the zero of log K and just above the switch."""
    ref = debye_reference
    assert ref["nu"].size >= 2000
    assert ref["nu"].min() == _bessel._NU_DEBYE and ref["nu"].max() > 5e4
    assert ref["x"].min() == 1e-10 and ref["x"].max() == 1e4
    el, er = _errors(ref["nu"], ref["x"], ref["logk_hi"], ref["logk_lo"],
                     ref["ratio_hi"], ref["ratio_lo"], fn)
    assert np.all(np.isfinite(el)) and np.all(np.isfinite(er))
    assert er.max() <= DEBYE_RATIO_TOL, "ratio: " + _worst(er, ref)
    assert el.max() <= DEBYE_LOGK_TOL, "log K: " + _worst(el, ref)
    assert el.max() <= DEBYE_LOGK_GUARD, "log K guard: " + _worst(el, ref)


def test_debye_reference_zero_of_log_k(debye_reference):
    """At the zero of log K (x ~ 0.6627 nu) -nu eta and -log(hypot(nu, x))/2 (~4 each)
    cancel: the contract is 25 eps absolute there; the recurrence that the Debye path
    replaced measured up to 30 eps, the direct h - nu asinh(nu/x) ~nu eps (2000 eps)."""
    ref = debye_reference
    sel = ref["kind"] == 2
    assert sel.sum() >= 300
    lk_hi = ref["logk_hi"][sel]
    assert np.abs(lk_hi).max() < 1.0 and ref["nu"][sel].max() > 2000.0
    el, er = _errors(ref["nu"][sel], ref["x"][sel], lk_hi, ref["logk_lo"][sel],
                     ref["ratio_hi"][sel], ref["ratio_lo"][sel], log_bessel_k_and_ratio)
    sub = {"nu": ref["nu"][sel], "x": ref["x"][sel]}
    assert el.max() <= DEBYE_LOGK_TOL, "log K at its zero (absolute): " + _worst(el, sub)
    assert el.max() <= DEBYE_LOGK_GUARD, "log K at its zero (absolute): " + _worst(el, sub)
    assert er.max() <= DEBYE_RATIO_TOL, "ratio at the zero of log K: " + _worst(er, sub)


def test_debye_nu_eta_has_no_cancellation():
    """nu eta(x/nu) (_debye_nu_eta, a double-double) against 60-digit mpmath: absolute error
    <= 2^-70 nu (measured 2^-74.6 when written: the 2^-85 of the two-part ln 2 times the
    exponent), and a small RELATIVE error also where eta vanishes (z = z0 = 0.66274...),
    where the direct h - nu asinh(nu/x) is a difference of two ~1.2 nu terms: <= 1 eps
    (measured 0.25 eps at |z/z0 - 1| down to 1e-15; ~1e-20 at 1e-3)."""
    rng = np.random.default_rng(7)
    n = 1500
    nus = np.exp(rng.uniform(math.log(24.0), math.log(NU_MAX), n))
    nus[::3] = np.round(nus[::3])
    zs = np.where(np.arange(n) % 2 == 0, _bessel._Z0_HI * (1 + rng.uniform(-1e-3, 1e-3, n)),
                  10.0 ** rng.uniform(-12, 4, n))
    zs[1::4] = _bessel._Z0_HI * (1 + 10.0 ** rng.uniform(-15, -3, zs[1::4].size)
                                 * rng.choice([-1.0, 1.0], zs[1::4].size))
    worst_rel, worst_abs, where_rel, where_abs = 0.0, 0.0, None, None
    with mp.workdps(60):
        for nu, z in zip(nus.tolist(), zs.tolist()):
            x = nu * z
            h = math.hypot(nu, x)
            nu_m, x_m = mp.mpf(nu), mp.mpf(x)
            h_m = mp.hypot(nu_m, x_m)
            hi, lo = _bessel._debye_nu_eta(nu, x, h, float(h_m - h))
            want = h_m - nu_m * mp.asinh(nu_m / x_m)
            err = abs(mp.mpf(hi) + lo - want)
            rel, ab = float(err / abs(want)), float(err / nu_m)
            if rel > worst_rel:
                worst_rel, where_rel = rel, (nu, x)
            if ab > worst_abs:
                worst_abs, where_abs = ab, (nu, x)
    assert worst_abs <= 2.0 ** -70, "2^%.1f nu at nu, x = %r" % (math.log2(worst_abs), where_abs)
    assert worst_rel <= EPS, "%.2f eps at nu, x = %r" % (worst_rel / EPS, where_rel)


def test_dd_log_against_mpmath():
    """_dd_log (double-double logarithm, no libm log) over arguments from 2^-1000 to 2^1000:
    error <= 2^-84 |log| + 2^-74 (the two-part ln 2, ~2^-85 relative, times the exponent;
    the series tail summed in double, ~2^-53 u^2/3 relative to 2u <= 2^-76), and relative
    <= 2^-66 near 1, where e = 0 and log c = 0 (measured 2^-69.9)."""
    rng = np.random.default_rng(11)
    hs = np.concatenate([2.0 ** rng.uniform(-1000, 1000, 700), 1.0 + rng.uniform(-0.3, 0.4, 300),
                         1.0 + 10.0 ** rng.uniform(-15, -2, 200) * rng.choice([-1.0, 1.0], 200)])
    with mp.workdps(60):
        for a in hs.tolist():
            lo = a * 2.0 ** -53 * rng.uniform(-1, 1)
            lo = (a + lo) - a
            want = mp.log(mp.mpf(a) + lo)
            h, l = _bessel._dd_log(a, lo)
            err = abs(mp.mpf(h) + l - want)
            assert err <= 2.0 ** -84 * abs(want) + 2.0 ** -74, (a, lo, float(err))
            if 0.7 < a < 1.4:
                assert err <= 2.0 ** -66 * abs(want), (a, lo, float(err))


def test_debye_constants_match_their_generator():
    """The tables of _bessel.py are the exact rational coefficients of u_k, v_k (DLMF
    10.41.10-11) rounded once; z0 is the zero of eta to double-double accuracy; the split
    of z0_hi is exact; the thresholds bound the first omitted term by 2^-56 (checked on a
    float grid of p)."""
    gen = _load_debye_script()
    terms = _bessel._DEBYE_TERMS
    u, v = gen.debye_polynomials(terms + 1)
    for k in range(terms):
        want_u = [float(c) for c in gen.in_t(u[k], k)] + [0.0] * (terms - 1 - k)
        want_v = [float(c) for c in gen.in_t(v[k], k)] + [0.0] * (terms - 1 - k)
        assert _bessel._DEBYE_U[k].tolist() == want_u, k
        assert _bessel._DEBYE_V[k].tolist() == want_v, k
    omit = _bessel._DEBYE_NU_OMIT
    assert omit.size == terms + 1 and omit[terms] <= _bessel._NU_DEBYE
    assert np.all(np.diff(omit[1:]) <= 0)
    p = np.linspace(0.0, 1.0, 20001)
    for k in range(1, terms + 1):
        bound = max(np.abs(np.polyval([float(c) for c in u[k][::-1]], p)).max(),
                    np.abs(np.polyval([float(c) for c in v[k][::-1]], p)).max())
        assert bound / omit[k] ** k <= 2.0 ** -56 * (1 + 1e-6), k
    with mp.workdps(50):
        z0 = mp.mpf(_bessel._Z0_HI) + mp.mpf(_bessel._Z0_LO)
        assert abs(mp.sqrt(1 + z0 * z0) - mp.asinh(1 / z0)) < mp.mpf(10) ** -31
        assert _bessel._S0 == float(mp.sqrt(1 + z0 * z0))
    # the double-double constants (levyscore/_precompute/bessel_dd_log.py)
    path = os.path.join(os.path.dirname(HERE), "levyscore", "_precompute", "bessel_dd_log.py")
    spec = importlib.util.spec_from_file_location("bessel_dd_log", path)
    dd = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(dd)
    want = dd.constants()
    assert _bessel._LOG_TABLE.tolist() == [list(p) for p in want.pop("LOG_TABLE")]
    assert _bessel._LOG_K0 == dd.K_LO and _bessel._LOG_TABLE.shape == (dd.K_HI - dd.K_LO + 1, 2)
    for name, value in want.items():
        assert getattr(_bessel, "_" + name) == value, name
    with mp.workdps(50):
        for hi, lo in _bessel._LOG_TABLE.tolist():
            assert abs(hi) <= 1 and abs(lo) <= 2.0 ** -53 * max(abs(hi), 2.0 ** -60)
        s0 = mp.mpf(_bessel._S0) + _bessel._S0_LO
        assert abs(s0 - mp.sqrt(1 + z0 * z0)) < mp.mpf(10) ** -31
        k0 = mp.mpf(_bessel._K0_HI) + _bessel._K0_LO
        assert abs(k0 - mp.exp(s0)) < mp.mpf(10) ** -31
    assert _bessel._X_HUGE == 2.0 ** 500 and _bessel._X_TINY == 2.0 ** -900
    assert _bessel._TINY_SCALE == 2.0 ** _bessel._TINY_EXP


@pytest.mark.parametrize("nu", [24.0, 100.3, 2048.0, 1e5])
@pytest.mark.parametrize("x", [1e12, 1e100, 1e300])
def test_debye_huge_x(nu, x):
    """x >> nu^2: Hankel's expansion (as in test_large_x_hankel_ratio, in 40-digit
    mpmath; its terms fall by >= 1e2 per step).  The Debye path must neither overflow
    (z^2, x * z) nor lose the ratio's 1 + (2 nu + 1) / (2x)."""
    with mp.workdps(40):
        xm = mp.mpf(x)

        def hankel(v):
            total, term, k = mp.mpf(1), mp.mpf(1), 0
            while abs(term) > mp.mpf(10) ** -40:
                k += 1
                term *= (4 * mp.mpf(v) ** 2 - (2 * k - 1) ** 2) / (k * 8 * xm)
                total += term
            return total

        lk_ref = 0.5 * mp.log(mp.pi / (2 * xm)) - xm + mp.log(hankel(nu))
        r_ref = hankel(mp.mpf(nu) + 1) / hankel(nu)
        lk, r = log_bessel_k_and_ratio(nu, x)
        assert abs(lk - lk_ref) <= DEBYE_LOGK_TOL * abs(lk_ref), (lk, lk_ref)
        assert abs(r / r_ref - 1) <= DEBYE_RATIO_TOL, (r, r_ref)


def test_debye_switch_is_continuous():
    """Just below and at the switch (recurrence | Debye) the two methods agree to within
    their accuracies, across the whole range of x."""
    below = math.nextafter(_bessel._NU_DEBYE, 0.0)
    for x in np.logspace(-10, 4, 57).tolist() + [15.9, 16.0, 16.1]:
        lk0, r0 = log_bessel_k_and_ratio(below, x)
        lk1, r1 = log_bessel_k_and_ratio(_bessel._NU_DEBYE, x)
        assert abs(lk1 - lk0) <= (LOGK_GUARD + DEBYE_LOGK_TOL) * max(1.0, abs(lk0)), x
        assert abs(r1 / r0 - 1) <= RATIO_GUARD + DEBYE_RATIO_TOL, x
