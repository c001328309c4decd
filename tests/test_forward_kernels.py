"""Exact forward sampling: reproducibility and Monte Carlo checks against exact laws.

Thresholds (every one can fail, with a fixed seed none is flaky):
* 5 standard errors for means (two-sided normal tail 5.7e-7, i.e. alpha ~ 1e-6);
* Hoeffding for means of [0, 1]-valued variables, DKW for empirical CDFs and
  KS / chi-square tests, all at ALPHA = 1e-6.
"""
import os
import subprocess
import sys
from pathlib import Path

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from levyscore import _forward as fw
from levyscore._baselines import forward_increments_numpy

ALPHA = 1e-6
REPO = Path(__file__).resolve().parents[1]
KEY = (0x9E3779B9, 0x7F4A7C15)
KEY2 = (0x2545F491, 0x4F6CDD1D)
PAPER = dict(theta=0.5, diffusion=1.0, jump_rate=1.0, jump_var=2.0)


def dkw(n):
    """sup |F_n - F| bound holding with probability 1 - ALPHA (Massart's DKW)."""
    return np.sqrt(np.log(2.0 / ALPHA) / (2.0 * n))


def hoeffding(n):
    """|mean - E| bound for [0, 1]-valued variables, probability 1 - ALPHA."""
    return np.sqrt(np.log(2.0 / ALPHA) / (2.0 * n))


def assert_mean(samples, exact, n_se=5.0):
    """Sample mean within n_se standard errors (sample std) of the exact mean."""
    se = samples.std(ddof=1) / np.sqrt(samples.size)
    assert abs(samples.mean() - exact) < n_se * se, (samples.mean(), exact, se)


def one_minus_q_over_2theta(theta, t, factor=2.0):
    """(1 - e^{-factor theta t}) / (2 theta), with its theta -> 0 limit factor t / 2."""
    if theta == 0.0:
        return factor * t / 2.0
    return -np.expm1(-factor * theta * t) / (2.0 * theta)


def exact_norm2(dim, theta, diffusion, jump_rate, jump_var, t):
    """E|Y_t|^2 = D (sigma_G^2 + lambda sigma_A^2)(1 - q)/(2 theta) (MATH.md section 8)."""
    return dim * (diffusion + jump_rate * jump_var) * one_minus_q_over_2theta(theta, t)


def exact_norm4(dim, theta, diffusion, jump_rate, jump_var, t):
    """E|Y_t|^4 = D (D + 2) E[(s + sigma_A^2 W)^2], from the cumulants of W.

    kappa_1(W) = lambda (1 - q)/(2 theta), kappa_2(W) = lambda (1 - q^2)/(2 theta)
    (derivatives of log E e^{-uW} = m log((1 + uq)/(1 + u)) at u = 0).
    """
    s = diffusion * one_minus_q_over_2theta(theta, t)
    mean_w = jump_rate * one_minus_q_over_2theta(theta, t)
    var_w = jump_rate * one_minus_q_over_2theta(theta, t, factor=4.0)
    ev2 = s * s + 2.0 * s * jump_var * mean_w + jump_var**2 * (var_w + mean_w**2)
    return dim * (dim + 2) * ev2


def laplace_transform_w(u, theta, jump_rate, t):
    """E e^{-uW} = ((1 + uq)/(1 + u))^m (MATH.md section 2); exp(-lambda t u/(1+u)) at theta = 0."""
    if theta == 0.0:
        return np.exp(-jump_rate * t * u / (1.0 + u))
    q = np.exp(-2.0 * theta * t)
    return ((1.0 + u * q) / (1.0 + u)) ** (jump_rate / (2.0 * theta))


# --- scalar pieces ----------------------------------------------------------

@pytest.mark.parametrize("theta", [0.0, 1e-300, 1e-12, 1e-3, 0.5, 3.0, -0.2])
@pytest.mark.parametrize("t", [1e-6, 0.7, 10.0])
def test_gaussian_variance_against_mpmath(theta, t):
    with mpmath.workdps(50):
        if theta == 0.0:
            ref = mpmath.mpf(t)
        else:
            th = mpmath.mpf(theta)
            ref = -mpmath.expm1(-2 * th * t) / (2 * th)
        ref = 1.7 * ref
    np.testing.assert_allclose(fw.gaussian_variance(theta, 1.7, t), float(ref), rtol=8e-16)
    assert fw.gaussian_variance(theta, 0.0, t) == 0.0


# --- reproducibility ----------------------------------------------------------

@given(
    n=st.integers(1, 300),
    cut=st.tuples(st.floats(0, 1), st.floats(0, 1)),
    dim=st.integers(1, 5),
    theta=st.sampled_from([0.0, 0.5]),
    diffusion=st.sampled_from([0.0, 1.0]),
    per_sample_t=st.booleans(),
    stream=st.integers(0, 2**24 - 1),
)
def test_chunks_equal_whole_batch(n, cut, dim, theta, diffusion, per_sample_t, stream):
    a, b = sorted(int(c * n) for c in cut)
    t = np.linspace(0.1, 5.0, n) if per_sample_t else 2.5
    args = (theta, diffusion, 1.5, 2.0)
    y, w, nj = fw.forward_increments_w(KEY, n, dim, *args, t, stream=stream)
    t_part = t[a:b] if per_sample_t else t
    yc, wc, njc = fw.forward_increments_w(KEY, b - a, dim, *args, t_part, start=a,
                                          stream=stream)
    assert yc.tobytes() == y[a:b].tobytes()
    assert wc.tobytes() == w[a:b].tobytes() and njc.tobytes() == nj[a:b].tobytes()


def test_chunks_equal_whole_batch_sample_path_stationary():
    n, a, b, dim = 1000, 313, 777, 3
    x0 = np.linspace(-2.0, 2.0, n * dim).reshape(n, dim)
    times = np.array([0.2, 0.9, 4.0])
    x = fw.forward_sample(KEY, x0, 1.3, **PAPER)
    assert fw.forward_sample(KEY, x0[a:b].copy(), 1.3, **PAPER, start=a).tobytes() == \
        x[a:b].tobytes()
    path = fw.forward_path(KEY, x0, times, **PAPER)
    assert fw.forward_path(KEY, x0[a:b].copy(), times, **PAPER, start=a).tobytes() == \
        path[a:b].tobytes()
    s = fw.stationary_sample(KEY, n, dim, **PAPER)
    assert fw.stationary_sample(KEY, b - a, dim, **PAPER, start=a).tobytes() == \
        s[a:b].tobytes()


def test_sample_is_decay_plus_increment_and_path_starts_like_sample():
    n, dim, t = 500, 2, 0.8
    x0 = np.full((n, dim), 1.5)
    y, w, nj = fw.forward_increments_w(KEY, n, dim, **PAPER, t=t)
    x, w2, nj2 = fw.forward_sample_w(KEY, x0, t, **PAPER)
    np.testing.assert_allclose(x, np.exp(-0.5 * t) * x0 + y, rtol=0, atol=1e-15)
    assert np.array_equal(w, w2) and np.array_equal(nj, nj2)
    path = fw.forward_path(KEY, x0, np.array([t, 2.0]), **PAPER)
    assert path[:, 0].tobytes() == x.tobytes()
    # Different streams give different draws.
    assert not np.array_equal(fw.forward_increments(KEY, n, dim, **PAPER, t=t, stream=1), y)


DIGEST_SRC = """
import hashlib
import numpy as np
from levyscore import _forward as fw

def digest():
    h = hashlib.sha256()
    key, p = (7, 11), (0.5, 1.0, 1.0, 2.0)
    for a in fw.forward_increments_w(key, 20000, 3, *p, 10.0):  # m = 1: Binomial-Gamma route
        h.update(a.tobytes())
    for a in fw.forward_increments_w(key, 20000, 3, 0.5, 1.0, 1.7, 2.0, 3.0):  # compound Poisson
        h.update(a.tobytes())
    x0 = np.linspace(-1.0, 1.0, 6000).reshape(2000, 3)
    h.update(fw.forward_path(key, x0, np.array([0.5, 2.0, 7.0]), *p).tobytes())
    for a in fw.stationary_sample_w(key, 20000, 3, 0.5, 1.0, 0.3, 2.0):
        h.update(a.tobytes())
    return h.hexdigest()
"""


@pytest.mark.parametrize("dim", [1, 2, 15, 16, 17, 33, 3072])
@pytest.mark.parametrize("has_base", [False, True])
def test_gaussian_row_equals_normal_pairs(dim, has_base):
    """From D = 16 a row's uniforms are drawn in one vectorized loop (row_uniforms) before
    Box-Muller: every entry equals ``decay * base + scale * z`` with z from the one-block
    ``normal_pair`` of its pair (block d // 2 of the stream), bit for bit, odd D included.
    (The reverse step's rows, ``_reverse.step_sample``, use the same loop; they are checked
    against this forward draw in tests/test_reverse.py.)"""
    from levyscore._philox import normal_pair

    c0, c1, c2 = np.uint64(12345), np.uint64(7), np.uint64(0x01000003)
    k0, k1 = (np.uint64(v) for v in KEY)
    base = np.random.default_rng(dim).standard_normal(dim)
    scale, decay = 1.7, 0.3
    out = np.empty(dim)
    fw.gaussian_row(c0, c1, c2, k0, k1, scale, decay, base, has_base, out)
    want = np.empty(dim)
    for d in range(0, dim, 2):
        z = normal_pair(c0, c1, c2, np.uint64(d // 2), k0, k1)
        for e in range(d, min(d + 2, dim)):
            noise = scale * z[e - d]
            want[e] = decay * base[e] + noise if has_base else noise
    np.testing.assert_array_equal(out, want)


def test_bit_identical_for_one_and_two_threads():
    namespace = {}
    exec(DIGEST_SRC, namespace)  # compiles (and caches) the kernels in this process
    reference = namespace["digest"]()
    script = DIGEST_SRC + "import numba\nprint(numba.get_num_threads(), digest())\n"
    procs = {}
    for threads in (1, 2):
        env = dict(os.environ, NUMBA_NUM_THREADS=str(threads))
        env["PYTHONPATH"] = os.pathsep.join(
            [str(REPO)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
        procs[threads] = subprocess.Popen(
            [sys.executable, "-c", script], env=env, cwd=REPO,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for threads, proc in procs.items():
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        got_threads, got = out.split()
        assert int(got_threads) == threads
        assert got == reference, f"NUMBA_NUM_THREADS={threads} changed the output"


# --- exact facts by Monte Carlo ---------------------------------------------------

def test_atom_is_exactly_zero_and_has_probability_exp_minus_lambda_t():
    n, lam, t = 2 * 10**5, 1.2, 1.0
    y, w, nj = fw.forward_increments_w(KEY, n, 2, 0.5, 0.0, lam, 2.0, t)
    none = nj == 0
    assert np.array_equal(np.all(y == 0.0, axis=1), none)  # Y = 0 exactly iff no jump
    assert np.array_equal(w == 0.0, none)
    assert not np.any(np.signbit(y[none]))  # +0.0
    p = np.exp(-lam * t)
    # Binomial frequency: 5 standard errors of the exact p.
    assert abs(none.mean() - p) < 5.0 * np.sqrt(p * (1.0 - p) / n)


def test_gaussian_model_has_no_atom():
    y, w, nj = fw.forward_increments_w(KEY, 10**4, 2, 0.5, 1.0, 0.0, 2.0, 1.0)
    assert np.all(nj == 0) and np.all(w == 0.0) and np.all(y != 0.0)


def test_jump_count_is_poisson():
    n, lam, t = 2 * 10**5, 1.7, 2.0
    _, _, nj = fw.forward_increments_w(KEY, n, 1, 0.5, 1.0, lam, 2.0, t)
    top = 10  # cells 0..9 and a tail cell >= 10, all with expected count > 50
    counts = np.bincount(np.minimum(nj, top), minlength=top + 1)
    probs = stats.poisson(lam * t).pmf(np.arange(top))
    probs = np.append(probs, 1.0 - probs.sum())
    chi2 = np.sum((counts - n * probs) ** 2 / (n * probs))
    assert chi2 < stats.chi2.ppf(1.0 - ALPHA, top)


CASES = [
    # dim, theta, diffusion, jump_rate, jump_var, t
    (2, 0.5, 1.0, 1.0, 2.0, 10.0),  # paper defaults
    (3, 0.5, 0.0, 1.0, 2.0, 1.5),  # pure jump
    (2, 0.0, 1.0, 2.0, 0.5, 0.7),  # no mean reversion
    (2, 1e-9, 0.3, 2.0, 0.5, 0.7),  # nearly none
    (1, 0.5, 1.0, 0.0, 2.0, 2.0),  # Gaussian model
    (4, 2.0, 0.5, 3.0, 1.0, 0.2),  # m = 0.75, short time
]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_second_and_fourth_moments(case):
    dim, *params = CASES[case]
    key = (KEY[0], case)  # a key per case: the cases' errors are independent
    y = fw.forward_increments(key, 2 * 10**5, dim, *params)
    r2 = np.sum(y * y, axis=1)
    assert_mean(r2, exact_norm2(dim, *params))
    assert_mean(r2 * r2, exact_norm4(dim, *params))


def test_moments_with_per_sample_times():
    n, dim = 2 * 10**5, 2
    t = np.linspace(0.05, 6.0, n)
    y = fw.forward_increments(KEY, n, dim, **PAPER, t=t)
    r2 = np.sum(y * y, axis=1)
    # E of the average = average of the exact means; the pooled sample std
    # over-estimates the standard error (it adds the spread of the means).
    assert_mean(r2, np.mean(exact_norm2(dim, *PAPER.values(), t)))


@pytest.mark.parametrize(
    "theta, jump_rate, t",
    [(0.5, 1.3, 2.0), (0.5, 2.0, 1.5), (1.0, 0.5, 3.0), (0.0, 1.0, 1.2)],
    ids=["m=1.3", "m=2", "m=0.25", "theta=0"],
)
def test_laplace_transform_of_w(theta, jump_rate, t):
    n = 10**6
    _, w, _ = fw.forward_increments_w(KEY, n, 1, theta, 1.0, jump_rate, 2.0, t)
    for u in (0.3, 1.0, 3.0):
        estimate = np.mean(np.exp(-u * w))
        # e^{-uW} is in [0, 1]: Hoeffding at ALPHA (= 0.0027 for n = 10^6).
        assert abs(estimate - laplace_transform_w(u, theta, jump_rate, t)) < hoeffding(n)


def test_one_jump_amplitude_is_laplace():
    # theta = 0, sigma_G = 0, D = 1: given N = 1, Y = A ~ Laplace(b), b^2 = sigma_A^2/2.
    jump_var = 2.6
    y, _, nj = fw.forward_increments_w(KEY, 4 * 10**5, 1, 0.0, 0.0, 1.0, jump_var, 1.0)
    a = np.sort(y[nj == 1, 0])
    cdf = stats.laplace(scale=np.sqrt(jump_var / 2.0)).cdf(a)
    ecdf_hi = np.arange(1, a.size + 1) / a.size
    sup = max(np.max(ecdf_hi - cdf), np.max(cdf - (ecdf_hi - 1.0 / a.size)))
    assert sup < dkw(a.size)


def test_stationary_pure_jump_m1_is_laplace():
    # sigma_G = 0, m = lambda/(2 theta) = 1, D = 1: sqrt(sigma_A^2 W), W ~ Exp(1): Laplace(b).
    n, jump_var = 2 * 10**5, 2.0
    x = np.sort(fw.stationary_sample(KEY, n, 1, 0.5, 0.0, 1.0, jump_var)[:, 0])
    cdf = stats.laplace(scale=np.sqrt(jump_var / 2.0)).cdf(x)
    ecdf_hi = np.arange(1, n + 1) / n
    sup = max(np.max(ecdf_hi - cdf), np.max(cdf - (ecdf_hi - 1.0 / n)))
    assert sup < dkw(n)


@pytest.mark.parametrize("theta, jump_rate", [(0.5, 0.4), (2.0, 10.0)], ids=["m=0.4", "m=2.5"])
def test_stationary_mixing_variable_is_gamma(theta, jump_rate):
    m = jump_rate / (2.0 * theta)
    x, w = fw.stationary_sample_w(KEY, 10**5, 3, theta, 1.0, jump_rate, 2.0)
    assert stats.kstest(w, stats.gamma(m).cdf).pvalue > ALPHA
    # E|X|^2 = D (sigma_G^2/(2 theta) + sigma_A^2 m)  (MATH.md section 8, t -> infinity)
    assert_mean(np.sum(x * x, axis=1), 3 * (1.0 / (2.0 * theta) + 2.0 * m))


def test_stationary_law_is_invariant():
    n, dim = 10**5, 2
    x0 = fw.stationary_sample(KEY, n, dim, **PAPER)
    moved = fw.forward_sample(KEY2, x0, 0.7, **PAPER)
    fresh = fw.stationary_sample(KEY2, n, dim, **PAPER)
    for f in (lambda v: v[:, 0], lambda v: np.sum(v * v, axis=1)):
        assert stats.ks_2samp(f(moved), f(fresh)).pvalue > ALPHA


def test_path_end_has_law_of_direct_sample():
    n, dim = 10**5, 2
    x0 = np.full((n, dim), 1.5)
    times = np.array([0.3, 1.1, 1.15, 4.0])
    path = fw.forward_path(KEY, x0, times, **PAPER)
    for j in (1, 3):
        direct = fw.forward_sample(KEY2, x0, times[j], **PAPER)
        assert stats.ks_2samp(path[:, j, 0], direct[:, 0]).pvalue > ALPHA


# --- the NumPy baseline ------------------------------------------------------------

@pytest.mark.parametrize("dim, theta, diffusion, jump_rate, jump_var, t",
                         [CASES[0], CASES[1], CASES[2]])
def test_numpy_baseline_samples_the_same_law(dim, theta, diffusion, jump_rate, jump_var, t):
    n = 10**5
    params = (theta, diffusion, jump_rate, jump_var, t)
    y = forward_increments_numpy(np.random.default_rng(2024), n, dim, *params)
    assert y.shape == (n, dim) and y.dtype == np.float64
    r2 = np.sum(y * y, axis=1)
    assert_mean(r2, exact_norm2(dim, *params))
    assert_mean(r2 * r2, exact_norm4(dim, *params))
    if diffusion == 0.0:
        p = np.exp(-jump_rate * t)
        assert abs(np.mean(r2 == 0.0) - p) < 5.0 * np.sqrt(p * (1.0 - p) / n)
    kernel = fw.forward_increments(KEY, n, dim, *params)
    assert stats.ks_2samp(y[:, 0], kernel[:, 0]).pvalue > ALPHA
    assert stats.ks_2samp(r2, np.sum(kernel * kernel, axis=1)).pvalue > ALPHA


def test_integer_m_binomial_gamma_path():
    """Integer m uses W ~ Gamma(J, 1), J ~ Binomial(m, 1 - q) (MATH.md section 2)."""
    n, theta, t = 2 * 10**5, 0.5, 0.9
    lam = 3.0  # m = 3
    q = np.exp(-2 * theta * t)
    _, w, j = fw.forward_increments_w(KEY, n, 1, theta, 0.0, lam, 2.0, t)
    # J ~ Binomial(3, 1 - q): chi-square over its 4 cells at ALPHA
    counts = np.bincount(j, minlength=4)
    probs = stats.binom(3, 1 - q).pmf(np.arange(4))
    chi2 = np.sum((counts - n * probs) ** 2 / (n * probs))
    assert chi2 < stats.chi2.ppf(1.0 - ALPHA, 3)
    assert np.all((w == 0.0) == (j == 0))
    # W | J = 2 ~ Gamma(2, 1): KS at ALPHA
    assert stats.kstest(w[j == 2], stats.gamma(2).cdf).pvalue > ALPHA


def test_binomial_and_poisson_paths_sample_the_same_law():
    """m = 2 (Binomial-Gamma path) against m = 2 (1 + 1e-9) (compound-Poisson path): the laws
    differ by ~1e-9, far below what 10^5 samples resolve; two-sample KS at ALPHA on W and
    on the first coordinate of Y."""
    n, theta, t = 10**5, 0.5, 1.3
    y1, w1, _ = fw.forward_increments_w(KEY, n, 2, theta, 0.4, 2.0, 2.0, t)
    y2, w2, _ = fw.forward_increments_w((KEY[0], KEY[1] + 1), n, 2, theta, 0.4, 2.0 * (1 + 1e-9), 2.0, t)
    assert stats.ks_2samp(w1, w2).pvalue > ALPHA
    assert stats.ks_2samp(y1[:, 0], y2[:, 0]).pvalue > ALPHA


@pytest.mark.parametrize("theta, law", [(-0.5, "laplace"), (0.0, "laplace"), (-2.0, "laplace"),
                                        (-0.5, "student-t"), (0.5, "laplace")])
@pytest.mark.parametrize("t", [1e-9, 0.01, 0.3, 2.0, 3000.0])
def test_first_block_decides_like_jump_mixing(theta, law, t):
    """first_block_test / first_block_no_jump (the reverse step's shortcut) say "no jump"
    exactly when jump_mixing draws N = 0, sample by sample, on its route of ages (theta <= 0;
    the thresholds lo and hi and the log between them; lambda t beyond 2700: no thresholds),
    and offer no test for theta > 0."""
    import math

    from levyscore import _forward
    from levyscore._philox import uniform_pair
    from levyscore.amplitudes import as_amplitude

    jump_rate = 1.3
    ok, lo, hi = _forward.first_block_test(theta, jump_rate, t)
    assert ok == (theta <= 0.0)
    if not ok:
        return
    law_id, law_param = _forward._law_args(as_amplitude(law))
    k0, k1, cj, cm = np.uint64(11), np.uint64(12), np.uint64(5), np.uint64(6)
    seen = set()
    for i in range(1500):
        c0, c1 = np.uint64(i), np.uint64(0)
        u1, _ = uniform_pair(c0, c1, cj, np.uint64(0), k0, k1)
        fast = _forward.first_block_no_jump(u1, lo, hi, jump_rate, t)
        _, n_jumps = _forward.jump_mixing(c0, c1, cj, cm, k0, k1, t, theta, jump_rate,
                                          law_id, law_param)
        assert fast == (n_jumps == 0), (i, u1)
        seen.add(fast)
    if 1e-3 < jump_rate * t < 5.0:
        assert seen == {True, False}
    # right at the thresholds: the log decides, as jump_mixing does
    if hi > 0.0:
        for u1 in (lo, hi, math.exp(-jump_rate * t), np.nextafter(lo, 0.0),
                   np.nextafter(hi, 2.0)):
            age = 0.0 + -math.log(u1) / jump_rate
            assert _forward.first_block_no_jump(u1, lo, hi, jump_rate, t) == (age > t)
