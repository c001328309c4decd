"""Public sampling API: exactness against the laws, reproducibility, training pairs, bad input.

Monte Carlo thresholds: the radial CDF uses the Dvoretzky-Kiefer-Wolfowitz bound
P(sup |F_n - F| > eps) <= 2 exp(-2 n eps^2) at ALPHA; means use 5 standard errors
(two-sided false alarm 6e-7 per coordinate under the CLT).
"""
import math

import numpy as np
import pytest

import levyscore

ALPHA = 1e-6


def dkw(n):
    return math.sqrt(math.log(2 / ALPHA) / (2 * n))


def cdf_gap(law, y):
    r = np.linalg.norm(y, axis=1)
    grid = np.quantile(r, np.linspace(0.02, 0.98, 49))
    grid = grid[grid > 0]
    empirical = np.searchsorted(np.sort(r), grid, side="right") / r.size
    return np.max(np.abs(empirical - law.radial_cdf(grid)))


PROCESSES = [
    dict(dim=2, diffusion=0.0, jump_rate=2.0),               # closed form, m = 2
    dict(dim=3, diffusion=0.0, jump_rate=0.7, jump_var=0.5),  # non-integer m = 0.7
    dict(dim=5, diffusion=1.0, jump_rate=1.0),                # paper's jump-diffusion
    dict(dim=2, diffusion=1.0, jump_rate=0.0),                # Gaussian
]


@pytest.mark.parametrize("kw", PROCESSES)
def test_transition_and_stationary_samples_follow_the_laws(kw):
    n = 100_000
    proc = levyscore.JumpDiffusion(**kw)
    for law in (proc.transition(0.6), proc.stationary()):
        y = law.sample(n, rng=11)
        assert y.shape == (n, proc.dim)
        assert cdf_gap(law, y) <= dkw(n)
        if law.atom > 0:
            frac = np.mean(np.all(y == 0, axis=1))
            assert abs(frac - law.atom) <= 5 * math.sqrt(law.atom * (1 - law.atom) / n)
        # mean 0 and per-component variance (MATH.md §8)
        se = y.std(axis=0) / math.sqrt(n)
        assert np.all(np.abs(y.mean(axis=0)) <= 5 * se)
        sq = y * y
        assert np.all(np.abs(sq.mean(axis=0) - law.variance) <= 5 * sq.std(axis=0) / math.sqrt(n))


def test_sample_given_x0_and_path_consistency():
    n = 100_000
    proc = levyscore.JumpDiffusion(2, diffusion=0.3, jump_rate=1.4)
    rng = np.random.default_rng(5)
    x0 = rng.normal(size=(n, 2)) * 3.0
    times = np.array([0.2, 0.7, 1.5])
    path = proc.sample_path(x0, times, rng=21)
    assert path.shape == (n, 3, 2)
    # the end of an exact path has the law of a direct draw: Y = X_t - e^{-theta t} x0
    for k, t in enumerate(times):
        y = path[:, k] - math.exp(-proc.theta * t) * x0
        assert cdf_gap(proc.transition(t), y) <= dkw(n)
    direct = proc.sample(x0, times[-1], rng=22) - math.exp(-proc.theta * times[-1]) * x0
    assert cdf_gap(proc.transition(times[-1]), direct) <= dkw(n)
    # increments of a path over [t1, t2] follow the transition law of length t2 - t1
    inc = path[:, 2] - math.exp(-proc.theta * (times[2] - times[1])) * path[:, 1]
    assert cdf_gap(proc.transition(times[2] - times[1]), inc) <= dkw(n)


def test_chunks_reproduce_the_whole_batch():
    proc = levyscore.JumpDiffusion(3, diffusion=0.5, jump_rate=2.3)
    x0 = np.random.default_rng(0).normal(size=(1000, 3))
    t = np.linspace(0.1, 4.0, 1000)
    seed = np.random.SeedSequence(99)
    whole = proc.sample(x0, t, rng=seed)
    parts = [proc.sample(x0[a:b], t[a:b], rng=seed, start=a) for a, b in [(0, 10), (10, 517), (517, 1000)]]
    np.testing.assert_array_equal(np.concatenate(parts), whole)
    whole_path = proc.sample_path(x0, [0.5, 1.0], rng=4)
    np.testing.assert_array_equal(proc.sample_path(x0[300:], [0.5, 1.0], rng=4, start=300), whole_path[300:])
    for law in (proc.transition(2.0), proc.stationary()):
        np.testing.assert_array_equal(law.sample(50, rng=8, start=950), law.sample(1000, rng=8)[950:])
    xt, tg = proc.dsm_pairs(x0, t, rng=seed)
    np.testing.assert_array_equal(xt, whole)
    xt2, tg2 = proc.dsm_pairs(x0[517:], t[517:], rng=seed, start=517)
    np.testing.assert_array_equal(tg2, tg[517:])


def test_same_seed_same_bits_different_seed_different_bits():
    proc = levyscore.JumpDiffusion(2)
    x0 = np.zeros((100, 2))
    np.testing.assert_array_equal(proc.sample(x0, 1.0, rng=3), proc.sample(x0, 1.0, rng=3))
    assert not np.array_equal(proc.sample(x0, 1.0, rng=3), proc.sample(x0, 1.0, rng=4))
    g1, g2 = np.random.default_rng(1), np.random.default_rng(1)
    np.testing.assert_array_equal(proc.sample(x0, 1.0, rng=g1), proc.sample(x0, 1.0, rng=g2))
    assert not np.array_equal(proc.sample(x0, 1.0, rng=g1), proc.sample(x0, 1.0, rng=np.random.default_rng(1)))


@pytest.mark.parametrize("kw", [dict(diffusion=0.0, jump_rate=1.0), dict(diffusion=0.0, jump_rate=0.6),
                                dict(diffusion=1.0, jump_rate=1.0)])
def test_dsm_pairs(kw):
    n = 4000
    proc = levyscore.JumpDiffusion(2, **kw)
    rng = np.random.default_rng(3)
    x0 = rng.normal(size=(n, 2))
    t = rng.uniform(0.05, 3.0, size=n)
    xt, target = proc.dsm_pairs(x0, t, rng=17)
    np.testing.assert_array_equal(xt, proc.sample(x0, t, rng=17))
    y = xt - np.exp(-proc.theta * t)[:, None] * x0
    expected = proc.score(y, t)
    # y recomputed from x_t carries rounding (relative 1e-16 of |x0|), so compare loosely
    # away from the atom; the atom rule is checked exactly
    atom = np.all(y == 0.0, axis=1) if kw["diffusion"] == 0.0 else np.zeros(n, bool)
    if kw["diffusion"] == 0.0:
        assert atom.sum() > 0
        np.testing.assert_array_equal(target[atom], 0.0)
    big = np.linalg.norm(y, axis=1) > 1e-6
    np.testing.assert_allclose(target[big & ~atom], expected[big & ~atom], rtol=1e-8)
    # the atom rule matters: the singular formula near 0 is large, the target is exactly 0
    assert np.all(np.isfinite(target))


def test_sampling_bad_input():
    proc = levyscore.JumpDiffusion(2)
    with pytest.raises(ValueError, match=r"^x0 "):
        proc.sample(np.ones((3, 3)), 1.0)
    with pytest.raises(ValueError, match=r"^x0 "):
        proc.sample(np.ones(2), 1.0)
    with pytest.raises(ValueError, match=r"^x0 "):
        proc.sample([[np.nan, 1.0]], 1.0)
    with pytest.raises(ValueError, match=r"^t "):
        proc.sample(np.ones((3, 2)), -1.0)
    with pytest.raises(ValueError, match=r"^t "):
        proc.sample(np.ones((3, 2)), np.ones(4))
    with pytest.raises(ValueError, match=r"^rng "):
        proc.sample(np.ones((3, 2)), 1.0, rng=1.5)
    with pytest.raises(ValueError, match=r"^rng "):
        proc.sample(np.ones((3, 2)), 1.0, rng=-2)
    with pytest.raises(ValueError, match=r"^start "):
        proc.sample(np.ones((3, 2)), 1.0, start=-1)
    with pytest.raises(ValueError, match=r"^times "):
        proc.sample_path(np.ones((3, 2)), [1.0, 0.5])
    with pytest.raises(ValueError, match=r"^times "):
        proc.sample_path(np.ones((3, 2)), [0.0, 0.5])
    with pytest.raises(ValueError, match=r"^times "):
        proc.sample_path(np.ones((3, 2)), [])
    with pytest.raises(ValueError, match=r"^n "):
        proc.transition(1.0).sample(-1)
    with pytest.raises(ValueError, match=r"^n "):
        proc.stationary().sample(2.5)
    with pytest.raises(ValueError, match=r"^t "):
        proc.dsm_pairs(np.ones((3, 2)), 0.0)
