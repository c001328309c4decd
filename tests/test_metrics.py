"""Tests of levyscore.metrics against independent computations.

Tolerances: exact identities (same floats in, same sums out) are asserted with ``==``;
identities that hold up to rounding use rtol = 1e-10 (every quantity is a sum of at most
~10^4 terms of size O(1), so rounding stays below 1e-12 relative); Monte Carlo checks state
their error model next to the assertion.
"""
import itertools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy import optimize, stats

from levyscore import metrics
from levyscore._seeding import philox_key
from levyscore._stable import SubGaussianStable
from levyscore.metrics import (
    TAIL_LEVELS,
    energy_distance,
    energy_test,
    sliced_wasserstein,
    tail_msle,
)

seeds = st.integers(0, 2**32 - 1)


def _positive(rng, n, dim):
    return np.exp(rng.normal(size=(n, dim)))


# ------------------------------------------------------------------------------ tail MSLE
@pytest.mark.parametrize("method", ["paper", "levels"])
def test_tail_msle_zero_for_identical_samples(method):
    y = _positive(np.random.default_rng(0), 300, 2)
    assert tail_msle(y, y, method=method) == 0.0
    assert tail_msle(y.copy(), y, method=method) == 0.0


@given(seed=seeds, n=st.integers(1, 300), dim=st.integers(1, 3),
       log_c=st.floats(0.1, 2.5), sign=st.sampled_from([-1.0, 1.0]))
def test_tail_msle_scale_factor(seed, n, dim, log_c, sign):
    # gen = c * data shifts every log-quantile by log c (c > 0 keeps the order):
    # paper = 0.5 * 0.05 * D * log(c)^2, levels = log(c)^2.
    c = math.exp(sign * log_c)
    y = _positive(np.random.default_rng(seed), n, dim)
    assert_allclose(tail_msle(c * y, y), 0.5 * 0.05 * dim * log_c**2, rtol=1e-10)
    assert_allclose(tail_msle(c * y, y, method="levels"), log_c**2, rtol=1e-10)


@given(seed=seeds, m=st.integers(1, 200), k=st.integers(2, 4))
def test_tail_msle_unequal_sizes_by_duplication(seed, m, k):
    # Repeating every row k times leaves the empirical quantile function unchanged, so the
    # merged-grid integral for n = k m must give the equal-size value.
    y = _positive(np.random.default_rng(seed), m, 2)
    c = 1.7
    expected = 0.5 * 0.05 * 2 * math.log(c) ** 2
    assert_allclose(tail_msle(c * np.repeat(y, k, axis=0), y), expected, rtol=1e-10)
    assert_allclose(tail_msle(c * y, np.tile(y, (k, 1))), expected, rtol=1e-10)


def test_tail_msle_paper_against_midpoint_rule():
    # Independent route: midpoint rule on (0.95, 1) with NumPy's inverted-cdf quantiles.
    # The integrand f is constant between the J jumps at {k/n} U {j/m}; only the J grid
    # cells containing a jump are wrong, each by at most h (max f - min f). Every constant
    # piece is wider than 1/(n m) >> h, so max/min over the grid are those of f.
    rng = np.random.default_rng(5)
    n, m, dim = 37, 53, 2
    x = _positive(rng, n, dim) * 1.3
    y = _positive(rng, m, dim)
    cells = 200_000
    h = 0.05 / cells
    u = 0.95 + h * (np.arange(cells) + 0.5)
    qx = np.quantile(x, u, axis=0, method="inverted_cdf")
    qy = np.quantile(y, u, axis=0, method="inverted_cdf")
    f = np.sum((np.log(qx) - np.log(qy)) ** 2, axis=1)
    midpoint = 0.5 * h * f.sum()
    jumps = np.count_nonzero(np.arange(1, n + 1) / n > 0.95) + np.count_nonzero(np.arange(1, m + 1) / m > 0.95)
    bound = 0.5 * jumps * h * (f.max() - f.min()) + 1e-12
    assert abs(tail_msle(x, y) - midpoint) <= bound
    assert bound < 1e-3 * midpoint  # the check is sharp enough to see a wrong weight


def test_tail_msle_paper_uses_exactly_the_upper_five_percent():
    # n = m = 100: the integral runs over the order statistics 96..100 (0-based 95..99),
    # each with weight 1/100. Changing the 95th (index 94) or anything below leaves the
    # value unchanged; scaling the 96th by c adds 0.5 * 0.01 * log(c)^2.
    rng = np.random.default_rng(8)
    y = np.sort(_positive(rng, 100, 1), axis=0)
    x = y.copy()
    x[:95] *= 0.5  # stays sorted and below x[95]
    assert tail_msle(x, y) == 0.0
    c = 1.01
    x[95] *= c  # still below x[96] for this seed
    assert x[95, 0] < x[96, 0]
    assert_allclose(tail_msle(x, y), 0.5 * 0.01 * math.log(c) ** 2, rtol=1e-8)


def test_tail_msle_levels_hand_computed():
    # Hyndman-Fan type 7 by hand: h = (n - 1) u, q = x_(floor h) + frac(h) (x_(floor h + 1) - x_(floor h)).
    rng = np.random.default_rng(9)
    x = _positive(rng, 2500, 2)
    y = _positive(rng, 4000, 2)

    def type7(s, u):
        s = np.sort(s, axis=0)
        h = (s.shape[0] - 1) * u
        lo = int(math.floor(h))
        hi = min(lo + 1, s.shape[0] - 1)
        return s[lo] + (h - lo) * (s[hi] - s[lo])

    terms = [(np.log(type7(x, u)) - np.log(type7(y, u))) ** 2 for u in TAIL_LEVELS]
    assert_allclose(tail_msle(x, y, method="levels"), np.mean(terms), rtol=1e-10)


@pytest.mark.parametrize("method", ["paper", "levels"])
def test_tail_msle_row_order_invariant(method):
    rng = np.random.default_rng(10)
    x = _positive(rng, 400, 3)
    y = _positive(rng, 300, 3)
    value = tail_msle(x, y, method=method)
    assert value > 0
    assert tail_msle(rng.permutation(x), rng.permutation(y), method=method) == value


def test_tail_msle_on_the_benchmark():
    # The intended use: samples of the paper's law (32,000 points, symmetric, so the upper
    # 5% of each coordinate is positive). Independent samples give a positive, finite value
    # (for information: ~2e-4 for "paper" and 0.01-0.2 for "levels", whose 0.9999 level sits
    # among the top 3 order statistics); the scale identity holds on these heavy tails too.
    target = SubGaussianStable()
    a = target.sample(32_000, rng=1)
    b = target.sample(32_000, rng=2)
    for method, scaled in (("paper", 0.5 * 0.05 * 2 * math.log(2) ** 2), ("levels", math.log(2) ** 2)):
        value = tail_msle(a, b, method=method)
        assert 0 < value < math.inf
        assert_allclose(tail_msle(2 * a, a, method=method), scaled, rtol=1e-10)


@pytest.mark.parametrize("method", ["paper", "levels"])
def test_tail_msle_rejects_nonpositive_tail(method):
    rng = np.random.default_rng(11)
    y = _positive(rng, 200, 2)
    bad = y.copy()
    bad[:, 1] = -bad[:, 1]
    with pytest.raises(ValueError, match="coordinate 1 of data"):
        tail_msle(y, bad, method=method)
    with pytest.raises(ValueError, match="coordinate 1 of generated"):
        tail_msle(bad, y, method=method)


@pytest.mark.parametrize(
    ("generated", "data", "kwargs", "match"),
    [
        (np.ones((5, 2)), np.ones((5, 3)), {}, "same dimension"),
        (np.ones((5, 2, 1)), np.ones((5, 2)), {}, "generated must have shape"),
        (np.ones((0, 2)), np.ones((5, 2)), {}, "generated must hold"),
        (np.ones((5, 2)), np.full((5, 2), np.nan), {}, "data must be finite"),
        (np.ones((5, 2)), np.full((5, 2), np.inf), {}, "data must be finite"),
        (np.ones((5, 2)) * 1j, np.ones((5, 2)), {}, "generated must be a real array"),
        (np.ones((5, 2)), [["a", "b"]], {}, "data must be a real array"),
        (np.ones((5, 2)), np.ones((5, 2)), {"method": "dlpm"}, "method"),
    ],
)
def test_tail_msle_bad_input(generated, data, kwargs, match):
    with pytest.raises(ValueError, match=match):
        tail_msle(generated, data, **kwargs)


# ------------------------------------------------------------------------ energy distance
def _energy_double_loop(x, y, u_statistic=False):
    n, m = len(x), len(y)
    sxy = sum(math.dist(a, b) for a in x for b in y) / (n * m)
    sxx = sum(math.dist(a, b) for a in x for b in x)
    syy = sum(math.dist(a, b) for a in y for b in y)
    if u_statistic:
        return 2 * sxy - sxx / (n * (n - 1)) - syy / (m * (m - 1))
    return 2 * sxy - sxx / n**2 - syy / m**2


@given(seed=seeds, n=st.integers(1, 60), m=st.integers(1, 60))
def test_energy_distance_1d_against_scipy(seed, n, m):
    # scipy.stats.energy_distance is the square root of the V-statistic energy distance.
    rng = np.random.default_rng(seed)
    u = rng.standard_cauchy(n)
    v = rng.normal(size=m) * 2 + 0.5
    assert_allclose(energy_distance(u, v), stats.energy_distance(u, v) ** 2, rtol=1e-10, atol=1e-14)
    assert_allclose(energy_distance(u[:, None], v[:, None]), energy_distance(u, v), rtol=0)


@pytest.mark.parametrize("estimator", ["V", "U"])
def test_energy_distance_2d_against_double_loop(estimator):
    rng = np.random.default_rng(12)
    x = rng.normal(size=(25, 2))
    y = rng.normal(size=(17, 2)) * 1.5 + 0.2
    expected = _energy_double_loop(x, y, u_statistic=estimator == "U")
    assert_allclose(energy_distance(x, y, estimator=estimator), expected, rtol=1e-12)
    assert_allclose(energy_distance(y, x, estimator=estimator), expected, rtol=1e-12)


def test_energy_distance_blocks(monkeypatch):
    # Tiny blocks (one row at a time, then 7 entries) must give the same sums.
    rng = np.random.default_rng(13)
    x = rng.normal(size=(40, 3))
    y = rng.normal(size=(31, 3)) + 0.4
    whole = energy_distance(x, y)
    for block in (1, 7):
        monkeypatch.setattr(metrics, "_BLOCK", block)
        assert_allclose(energy_distance(x, y), whole, rtol=1e-12)


def test_energy_distance_zero_for_identical_samples():
    x = np.random.default_rng(14).normal(size=(50, 2))
    assert energy_distance(x, x) == 0.0
    assert energy_distance(x, x.copy()) == 0.0


def test_energy_distance_gaussian_closed_form():
    # X ~ N(mu1, I_2), Y ~ N(mu2, I_2): X - Y ~ N(delta, 2 I), so E|X - Y| = sqrt(2) E R with
    # R Rice(|delta| / sqrt 2) (scipy.stats.rice), and E|X - X'| = E|Y - Y'| = sqrt(2)
    # sqrt(pi/2) = sqrt(pi). The U-statistic is unbiased, so K = 20 i.i.d. replicates have
    # mean = true value; Student t with 19 d.o.f.: P(|T| > 7) = 1.1e-6.
    delta = np.array([0.6, -0.3])
    nu = np.linalg.norm(delta) / math.sqrt(2)
    exact = 2 * math.sqrt(2) * stats.rice(nu).mean() - 2 * math.sqrt(math.pi)
    rng = np.random.default_rng(15)
    reps = np.array([
        energy_distance(rng.normal(size=(300, 2)) + delta, rng.normal(size=(300, 2)), estimator="U")
        for _ in range(20)
    ])
    t = (reps.mean() - exact) / (reps.std(ddof=1) / math.sqrt(len(reps)))
    assert abs(t) < 7
    assert exact > 10 * reps.std(ddof=1) / math.sqrt(len(reps))  # the test resolves the value


@pytest.mark.parametrize(
    ("x", "y", "kwargs", "match"),
    [
        (np.ones((5, 2)), np.ones((5, 3)), {}, "same dimension"),
        (np.ones((5, 2)), np.ones((5, 2)), {"estimator": "W"}, "estimator"),
        (np.ones((1, 2)), np.ones((5, 2)), {"estimator": "U"}, "at least 2"),
        (np.ones((5, 2)), np.full((5, 2), np.nan), {}, "y must be finite"),
        (np.ones(()), np.ones((5, 1)), {}, "x must have shape"),
    ],
)
def test_energy_distance_bad_input(x, y, kwargs, match):
    with pytest.raises(ValueError, match=match):
        energy_distance(x, y, **kwargs)


def test_energy_test_against_exhaustive_permutations():
    # n = m = 3: all C(6, 3) = 20 relabellings enumerated with the double loop give the
    # exact permutation p-value p*. With P random relabellings the p-value is
    # (1 + Binomial(P, p*)) / (1 + P): accept 5 sd + 2/P.
    rng = np.random.default_rng(16)
    x = rng.normal(size=(3, 2))
    y = rng.normal(size=(3, 2)) + 0.8
    z = np.concatenate((x, y))
    observed = _energy_double_loop(x, y)
    values = []
    for idx in itertools.combinations(range(6), 3):
        rest = [i for i in range(6) if i not in idx]
        values.append(_energy_double_loop(z[list(idx)], z[rest]))
    exact = np.mean(np.array(values) >= observed - 1e-12)
    perms = 20_000
    result = energy_test(x, y, permutations=perms, rng=3)
    assert_allclose(result.statistic, observed, rtol=1e-12)
    assert abs(result.pvalue - exact) <= 5 * math.sqrt(exact * (1 - exact) / perms) + 2 / perms
    assert 0.05 < exact < 0.95  # a p-value in the bulk, not a trivial one


def test_energy_test_detects_a_shift():
    rng = np.random.default_rng(17)
    x = rng.normal(size=(50, 2))
    y = rng.normal(size=(50, 2)) + 3.0
    assert energy_test(x, y, permutations=199, rng=1).pvalue == 1 / 200


def test_energy_test_valid_under_the_null():
    # Under equal laws P(pvalue <= 0.1) <= 0.1 exactly (P = 99). Over 200 independent
    # tests the count is at most Binomial(200, 0.1): mean 20, sd 4.24; accept <= 20 + 5.5 sd.
    rng = np.random.default_rng(18)
    small = sum(
        energy_test(rng.normal(size=(10, 2)), rng.normal(size=(10, 2)), permutations=99, rng=rng).pvalue <= 0.1
        for _ in range(200)
    )
    assert small <= 20 + 5.5 * math.sqrt(200 * 0.1 * 0.9)


def test_energy_test_block_path(monkeypatch):
    # Without the stored distance matrix (blocks of 16 entries) the same relabellings
    # give the same p-value.
    rng = np.random.default_rng(19)
    x = rng.normal(size=(12, 2))
    y = rng.normal(size=(9, 2)) + 0.5
    stored = energy_test(x, y, permutations=299, rng=4)
    monkeypatch.setattr(metrics, "_BLOCK", 16)
    blocked = energy_test(x, y, permutations=299, rng=4)
    assert blocked.pvalue == stored.pvalue
    assert 0.0 < stored.pvalue < 1.0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"permutations": 0}, "permutations"), ({"permutations": 2.5}, "permutations"),
     ({"permutations": True}, "permutations"), ({"rng": -3}, "rng")],
)
def test_energy_test_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        energy_test(np.zeros((3, 1)), np.ones((3, 1)), **kwargs)


# --------------------------------------------------------------------- sliced Wasserstein
@given(seed=seeds, n=st.integers(1, 80), m=st.integers(1, 80))
def test_sliced_1d_is_exact_w1(seed, n, m):
    # In D = 1 every direction is +-1 and W_p is invariant under the flip: SW_1 = W_1.
    rng = np.random.default_rng(seed)
    u = rng.normal(size=n)
    v = rng.standard_cauchy(size=m)
    assert_allclose(sliced_wasserstein(u, v, n_projections=3, p=1, rng=seed),
                    stats.wasserstein_distance(u, v), rtol=1e-10, atol=1e-14)


def _wasserstein_lp(u, v, p):
    """W_p between two 1-D empirical laws by linear programming (no quantile functions)."""
    n, m = len(u), len(v)
    cost = np.abs(u[:, None] - v[None, :]) ** p
    rows = np.kron(np.eye(n), np.ones(m))
    cols = np.kron(np.ones(n), np.eye(m))
    res = optimize.linprog(cost.ravel(), A_eq=np.vstack((rows, cols)),
                           b_eq=np.concatenate((np.full(n, 1 / n), np.full(m, 1 / m))),
                           bounds=(0, None), method="highs")
    assert res.status == 0
    return res.fun ** (1 / p)


@pytest.mark.parametrize(("n", "m", "p"), [(6, 4, 2), (5, 7, 3), (8, 8, 1.5)])
def test_sliced_1d_against_linear_programming(n, m, p):
    # HiGHS solves to ~1e-9 in the objective: rtol 1e-6 on its p-th root.
    rng = np.random.default_rng(20)
    u = rng.normal(size=n)
    v = rng.normal(size=m) * 2 + 1
    assert_allclose(sliced_wasserstein(u, v, n_projections=2, p=p, rng=0), _wasserstein_lp(u, v, p), rtol=1e-6)


def test_sliced_uses_the_documented_directions():
    # One direction, rebuilt from the documented stream: SW_1 = scipy's W_1 of the projections.
    rng = np.random.default_rng(21)
    x = rng.normal(size=(40, 3))
    y = rng.normal(size=(55, 3)) * [1, 2, 0.5]
    gen = np.random.default_rng(np.random.SeedSequence(list(philox_key(9))))
    theta = gen.standard_normal((1, 3))[0]
    theta /= np.linalg.norm(theta)
    assert_allclose(sliced_wasserstein(x, y, n_projections=1, p=1, rng=9),
                    stats.wasserstein_distance(x @ theta, y @ theta), rtol=1e-10)


@pytest.mark.parametrize("dim", [2, 3, 5])
def test_sliced_shifted_copy_closed_form(dim):
    # y = x + mu (the same points shifted): every projection is shifted by <mu, theta>, so
    # W_2^2 = <mu, theta>^2 exactly and SW_2^2 = mean over directions of |mu|^2 cos^2, whose
    # expectation is |mu|^2 / D (theta uniform on the sphere). cos^2 ~ Beta(1/2, (D-1)/2),
    # variance 2 (D - 1) / (D^2 (D + 2)); accept 6 sd of the mean over L directions. (With
    # two independent Gaussian samples the 1-D empirical W_2 would add sampling noise.)
    rng = np.random.default_rng(22)
    x = rng.normal(size=(200, dim))
    mu = rng.normal(size=dim)
    mu2 = mu @ mu
    L = 4000
    sw2 = sliced_wasserstein(x, x + mu, n_projections=L, p=2, rng=23) ** 2
    sd = mu2 * math.sqrt(2 * (dim - 1) / (dim**2 * (dim + 2)) / L)
    assert abs(sw2 - mu2 / dim) <= 6 * sd


def test_sliced_unequal_sizes_by_duplication():
    rng = np.random.default_rng(24)
    x = rng.normal(size=(30, 3))
    y = rng.normal(size=(20, 3)) + 0.3
    for p in (1, 2, 2.5):
        value = sliced_wasserstein(x, y, n_projections=50, p=p, rng=5)
        assert_allclose(sliced_wasserstein(x, np.tile(y, (3, 1)), n_projections=50, p=p, rng=5), value, rtol=1e-12)
        assert_allclose(sliced_wasserstein(np.repeat(x, 2, axis=0), y, n_projections=50, p=p, rng=5),
                        value, rtol=1e-12)


def test_sliced_blocks_and_reproducibility(monkeypatch):
    rng = np.random.default_rng(25)
    x = rng.normal(size=(30, 2))
    y = rng.normal(size=(45, 2))
    value = sliced_wasserstein(x, y, n_projections=64, rng=6)
    assert value > 0
    assert sliced_wasserstein(x, y, n_projections=64, rng=np.random.SeedSequence(6)) == value
    assert sliced_wasserstein(x, y, n_projections=64, rng=7) != value
    assert sliced_wasserstein(x, x, n_projections=64, rng=6) == 0.0
    gen = np.random.default_rng(1)
    first = sliced_wasserstein(x, y, n_projections=8, rng=gen)
    assert sliced_wasserstein(x, y, n_projections=8, rng=gen) != first  # Generator advanced
    monkeypatch.setattr(metrics, "_BLOCK", 100)  # fewer columns than projections per block
    assert_allclose(sliced_wasserstein(x, y, n_projections=64, rng=6), value, rtol=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"n_projections": 0}, "n_projections"), ({"n_projections": 1.0}, "n_projections"),
     ({"p": 0.5}, "p must be"), ({"p": float("nan")}, "p must"), ({"p": "2"}, "p must"),
     ({"rng": np.random.RandomState(0)}, "rng")],
)
def test_sliced_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        sliced_wasserstein(np.zeros((3, 2)), np.ones((4, 2)), **kwargs)
    with pytest.raises(ValueError, match="same dimension"):
        sliced_wasserstein(np.zeros((3, 2)), np.ones((4, 1)))
