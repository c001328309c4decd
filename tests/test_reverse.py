"""Reverse-time samplers (MATH.md section 6): invariance, reproducibility and bad input.

Convergence orders against exact targets are in tests/test_reverse_convergence.py.
"""
import math

import numpy as np
import pytest

import levyscore
from levyscore import sample_reverse

ALPHA = 1e-6


def dkw(n):
    return math.sqrt(math.log(2 / ALPHA) / (2 * n))


def cdf_gap(law, x):
    r = np.linalg.norm(x, axis=1)
    grid = np.quantile(r, np.linspace(0.02, 0.98, 49))
    return np.max(np.abs(np.searchsorted(np.sort(r), grid, side="right") / r.size - law.radial_cdf(grid)))


@pytest.mark.parametrize("kw", [dict(diffusion=0.0, jump_rate=2.0), dict(diffusion=1.0, jump_rate=1.0)])
def test_probability_flow_is_exactly_stationary(kw):
    # (the jump-diffusion score is a quadrature: keep n small)
    # for the stationary law the zero-flux condition gives S = -theta y, so the probability
    # flow theta x + S vanishes: every ODE solver must leave x in place up to rounding
    proc = levyscore.JumpDiffusion(2, **kw)
    stat = proc.stationary()
    x_T = stat.sample(200, rng=1)
    for solver in ("exp-euler", "exp-heun", "euler"):
        x = sample_reverse(proc, lambda x, t: stat.score(x), 200, steps=10, T=3.0, solver=solver,
                           x_T=x_T)
        np.testing.assert_allclose(x, x_T, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("solver", ["exp-euler", "euler"])
def test_sde_from_stationary_stays_stationary(solver):
    # reverse SDE (eta = 1) started at the stationary law with the stationary score: the law is
    # preserved up to the first-order bias, O(theta h) = 0.005 in the variance here, below the
    # DKW bound 0.0087 at n = 1e5 (alpha 1e-6)
    n = 100_000
    proc = levyscore.JumpDiffusion(2, diffusion=0.0, jump_rate=1.0)  # closed-form score
    stat = proc.stationary()
    x = sample_reverse(proc, lambda x, t: stat.score(x), n, steps=100, T=1.01, t_min=0.01,
                       solver=solver, eta=1.0, rng=7)
    assert cdf_gap(stat, x) <= dkw(n)


def test_reproducible_and_chunked():
    proc = levyscore.JumpDiffusion(2)
    stat = proc.stationary()
    score = lambda x, t: stat.score(x)  # noqa: E731
    kw = dict(steps=5, T=2.0, solver="exp-euler", eta=1.0)
    a = sample_reverse(proc, score, 300, rng=11, **kw)
    np.testing.assert_array_equal(a, sample_reverse(proc, score, 300, rng=11, **kw))
    part = sample_reverse(proc, score, 100, rng=11, start=200, **kw)
    np.testing.assert_array_equal(part, a[200:])
    assert not np.array_equal(a, sample_reverse(proc, score, 300, rng=12, **kw))


def test_grids_and_progress(capsys):
    proc = levyscore.JumpDiffusion(2)
    stat = proc.stationary()
    seen = []

    def score(x, t):
        seen.append(t)
        return stat.score(x)

    sample_reverse(proc, score, 10, steps=4, T=8.0, t_min=0.5, grid="log", rng=0, progress=True)
    np.testing.assert_allclose(seen, np.geomspace(8.0, 0.5, 5)[:-1], rtol=1e-15)
    assert "4/4" in capsys.readouterr().err
    seen.clear()
    grid = np.array([3.0, 2.0, 0.5, 0.1])
    sample_reverse(proc, score, 10, grid=grid, rng=0)
    np.testing.assert_array_equal(seen, grid[:-1])


def test_solver_objects_have_order_and_pure_step():
    proc = levyscore.JumpDiffusion(2, diffusion=0.0)
    stat = proc.stationary()
    s = levyscore.ExpEuler(proc, lambda x, t: stat.score(x), eta=1.0)
    assert levyscore.ExpEuler.order == 1.0 and levyscore.ExpHeun.order == 2.0 and levyscore.Euler.order == 1.0
    from levyscore._reverse import ReverseNoise

    x = stat.sample(50, rng=0)
    noise = ReverseNoise(proc, 1.0, (1, 2))
    x1, st1 = s.step(2.0, 1.5, x, 0, noise)
    x2, st2 = s.step(2.0, 1.5, x, 0, noise)
    np.testing.assert_array_equal(x1, x2)  # pure: same inputs, same output
    assert st1 == st2 == 1
    x3, _ = s.step(2.0, 1.5, x, 1, noise)  # the state selects the noise stream
    assert not np.array_equal(x1, x3)


def test_reverse_bad_input():
    proc = levyscore.JumpDiffusion(2)
    score = lambda x, t: -x  # noqa: E731
    with pytest.raises(ValueError, match=r"^steps "):
        sample_reverse(proc, score, 10, steps=0)
    with pytest.raises(ValueError, match=r"^steps "):
        sample_reverse(proc, score, 10)
    with pytest.raises(ValueError, match=r"^t_min "):
        sample_reverse(proc, score, 10, steps=5, T=1.0, t_min=2.0)
    with pytest.raises(ValueError, match=r"^grid "):
        sample_reverse(proc, score, 10, steps=5, grid="cosine")
    with pytest.raises(ValueError, match=r"^grid "):
        sample_reverse(proc, score, 10, grid=[1.0, 2.0])
    with pytest.raises(ValueError, match=r"^solver "):
        sample_reverse(proc, score, 10, steps=5, solver="rk4")
    with pytest.raises(ValueError, match=r"^eta "):
        sample_reverse(proc, score, 10, steps=5, eta=-1.0)
    with pytest.raises(ValueError, match=r"^eta "):
        sample_reverse(proc, score, 10, steps=5, solver="exp-heun", eta=1.0)
    with pytest.raises(ValueError, match=r"^x_T "):
        sample_reverse(proc, score, 10, steps=5, x_T=np.zeros((9, 2)))
    with pytest.raises(ValueError, match=r"^score "):
        sample_reverse(proc, lambda x, t: x[:, :1], 10, steps=5)
    with pytest.raises(ValueError, match=r"^score "):
        sample_reverse(proc, None, 10, steps=5)
    with pytest.raises(ValueError, match=r"^n "):
        sample_reverse(proc, score, -1, steps=5)


@pytest.mark.parametrize("amplitude", ["laplace", "gaussian", "student-t"])
@pytest.mark.parametrize("kwargs", [dict(diffusion=0.0), dict(), dict(jump_rate=0.0)])
@pytest.mark.parametrize("dim", [3, 17])
def test_fused_step_equals_noise_then_combine(amplitude, kwargs, dim):
    """ReverseNoise.step draws the noise in the combine's pass (kernel reverse_step): the
    same bits as drawing the noise array (ReverseNoise.increment) and adding it (D = 17:
    rows whose uniforms are drawn in one vectorized loop, odd D)."""
    from levyscore._reverse import ReverseNoise, _combine_any
    from levyscore._seeding import philox_key

    proc = levyscore.JumpDiffusion(dim, amplitude=amplitude, **kwargs)
    rng = np.random.default_rng(0)
    x, s = rng.normal(size=(501, dim)), rng.normal(size=(501, dim))
    noise = ReverseNoise(proc, 0.7, philox_key(4), start=7)
    for growth in (True, False):
        want = _combine_any(1.3, x, -0.4, s, noise.increment(5, 501, 0.3, growth=growth))
        got = noise.step(5, 1.3, x, -0.4, s, 0.3, growth=growth)
        np.testing.assert_array_equal(got.view(np.int64), want.view(np.int64))
