"""Issue 10: no hang, no silent NaN, no silently wrong number.

Every public entry point either returns a finite, correct value or raises a ``ValueError``
whose message starts with the offending argument and says what it must be, quickly. Each test
here is one reproducer of the issue (or a close relative) and runs well under a second once
Numba has compiled.
"""
import math
import sys
import time
import types
import warnings

import numpy as np
import pytest

import levyscore
from levyscore import _reverse, metrics
from levyscore._reverse import ExpEuler, ExpHeun, ReverseNoise, sample_reverse
from levyscore._stable import ALPHA_MIN
from levyscore._validation import check_start
from levyscore.targets import BesselTarget, GaussianMixture, SubGaussianStable


def _stationary_guess(proc):
    # S = -theta x: the exact score of the stationary law (MATH.md section 3), cheap
    return lambda x, t: -proc.theta * np.asarray(x)


# --------------------------------------------------------------------- sample_reverse
def test_sample_reverse_huge_T_names_T():
    # T = 1e6 in 5 steps: theta h = 1e5 per step, e^{theta h} overflows (was OverflowError)
    proc = levyscore.JumpDiffusion(2)
    score = _stationary_guess(proc)
    t0 = time.perf_counter()
    for grid in ("uniform", "log"):
        with pytest.raises(ValueError, match=r"^T is too large for the number of steps.*theta\*h"):
            sample_reverse(proc, score, 10, steps=5, T=1e6, grid=grid, rng=0)
    with pytest.raises(ValueError, match=r"^T is too large"):
        sample_reverse(proc, score, 10, steps=5, T=1e6, solver="exp-heun", rng=0)
    with pytest.raises(ValueError, match=r"^grid is too large"):
        sample_reverse(proc, score, 10, grid=[1e6, 1.0, 0.5], rng=0)
    assert time.perf_counter() - t0 < 1.0
    # the solver object itself refuses such a step (instead of math.exp's OverflowError)
    x = np.zeros((3, 2))
    with pytest.raises(ValueError, match=r"^t0, t1 = .*theta\*h"):
        ExpEuler(proc, score).step(1e6, 1.0, x, 0, ReverseNoise(proc, 0.0, (1, 2)))
    # the limit is theta h = 52 log 2: there the step's growth factor is 2^52 = 1/eps
    assert _reverse.MAX_THETA_H == pytest.approx(math.log(2.0**52))
    # plain Euler has no exponential growth factor: T = 1e6 works, and with the stationary
    # score the flow is the identity (x' = (1 + theta h) x - theta h x)
    x_T = proc.stationary().sample(10, rng=1)
    out = sample_reverse(proc, score, 10, steps=5, T=1e6, solver="euler", x_T=x_T)
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out, x_T, rtol=1e-9, atol=1e-9)
    # with enough steps the exponential solver accepts a large T as well (same identity, to
    # the rounding e^{theta h} eps per step that the limit bounds: theta h = 2.5 here)
    out = sample_reverse(proc, score, 10, steps=200, T=1e3, x_T=x_T)
    np.testing.assert_allclose(out, x_T, rtol=1e-12, atol=1e-12)


def test_sample_reverse_proc_must_be_a_process():
    proc = levyscore.JumpDiffusion(2)
    with pytest.raises(ValueError, match=r"^proc must be a levyscore\.JumpDiffusion.*got str"):
        sample_reverse("proc", _stationary_guess(proc), 10, steps=5)
    with pytest.raises(ValueError, match=r"^proc must be a levyscore\.JumpDiffusion"):
        sample_reverse(None, _stationary_guess(proc), 10, steps=5)
    with pytest.raises(ValueError, match=r"^proc must be a levyscore\.JumpDiffusion"):
        ExpEuler(object(), _stationary_guess(proc))


@pytest.mark.parametrize("solver, eta", [("exp-euler", 0.0), ("exp-euler", 1.0),
                                         ("exp-heun", 0.0), ("euler", 1.0)])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_sample_reverse_refuses_non_finite_scores(solver, eta, bad):
    proc = levyscore.JumpDiffusion(2, diffusion=0.0)

    def score(x, t):
        s = -proc.theta * x
        if t < 5.0:  # finite for the first steps, then one bad entry
            s = s.copy()
            s[3, 1] = bad
        return s

    with pytest.raises(ValueError, match=r"^score returned NaN or inf \(t = .*, reverse step \d+\)"):
        sample_reverse(proc, score, 8, steps=4, T=8.0, t_min=1.0, solver=solver, eta=eta, rng=0)


def test_sample_reverse_refuses_states_out_of_range():
    proc = levyscore.JumpDiffusion(2)
    x_T = np.full((2, 2), 1e308)  # finite, but (1 + theta h) x_T overflows
    with pytest.raises(ValueError, match=r"^x_T .*became NaN or inf at reverse step 0"):
        sample_reverse(proc, lambda x, t: np.zeros_like(x), 2, steps=2, solver="euler", x_T=x_T)


class _FakeDeviceArray(np.ndarray):
    """NumPy memory posing as a CuPy array (see tests/test_gpu_dispatch_fake.py)."""

    @property
    def __cuda_array_interface__(self):
        return {}


_FakeDeviceArray.__module__ = "cupy"


def test_score_finiteness_is_checked_with_the_array_module_of_the_device(monkeypatch):
    # on a device the check reduces with the device module's isfinite (one boolean read back)
    calls = []
    cp = types.ModuleType("cupy")

    def isfinite(a):
        calls.append(type(a))
        return np.isfinite(np.asarray(a))

    cp.isfinite = isfinite
    monkeypatch.setitem(sys.modules, "cupy", cp)
    proc = levyscore.JumpDiffusion(2, diffusion=0.0)
    x = np.zeros((4, 2)).view(_FakeDeviceArray)
    good = ExpEuler(proc, lambda x, t: np.ones((4, 2)).view(_FakeDeviceArray))
    assert np.all(good._score(x, 1.0, 0) == 1.0)
    assert calls == [_FakeDeviceArray]
    bad = ExpEuler(proc, lambda x, t: np.full((4, 2), np.nan).view(_FakeDeviceArray))
    with pytest.raises(ValueError, match=r"^score returned NaN or inf \(t = 1\.0, reverse step 7\)"):
        bad._score(x, 1.0, 7)


def test_exp_heun_checks_both_score_calls():
    proc = levyscore.JumpDiffusion(2, diffusion=0.0)
    calls = []

    def score(x, t):
        calls.append(t)
        return np.full_like(x, np.nan) if len(calls) == 2 else -proc.theta * x

    with pytest.raises(ValueError, match=r"^score returned NaN or inf \(t = 1\.5, reverse step 0\)"):
        ExpHeun(proc, score).step(2.0, 1.5, np.ones((3, 2)), 0, None)


# -------------------------------------------------------------------------------- learn
@pytest.fixture
def learned():
    pytest.importorskip("sklearn")
    from sklearn.neural_network import MLPRegressor

    from levyscore.learn import LearnedScore

    proc = levyscore.JumpDiffusion(2)
    model = MLPRegressor(hidden_layer_sizes=(3,), random_state=0)
    model.partial_fit(np.zeros((4, 3)), np.zeros((4, 2)))  # features: x / a(t) and tau
    return LearnedScore(model, proc, 1.0, 1e-3, 10.0)


def test_learned_score_validates_t_and_x(learned):
    x = np.ones((3, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no divide-by-zero or scikit-learn warning either
        with pytest.raises(ValueError, match=r"^t must be positive"):
            learned(x, 0.0)
        with pytest.raises(ValueError, match=r"^t must be finite"):
            learned(x, np.nan)
        with pytest.raises(ValueError, match=r"^t must be finite"):
            learned(x, np.array([1.0, np.inf, 1.0]))
        with pytest.raises(ValueError, match=r"^t must lie in the training interval \[t_min, T\]"):
            learned(x, 1e3)
        with pytest.raises(ValueError, match=r"^t must lie in the training interval"):
            learned(x, 1e-6)
        with pytest.raises(ValueError, match=r"^t must be a scalar or of shape \(3,\)"):
            learned(x, np.ones(4))
        with pytest.raises(ValueError, match=r"^x must be finite"):
            learned(np.array([[1.0, np.nan]]), 1.0)
        with pytest.raises(ValueError, match=r"^x must have shape \(n, 2\)"):
            learned(np.ones(2), 1.0)
        with pytest.raises(ValueError, match=r"^x must have shape \(\.\.\., 2\)"):
            learned(np.ones((3, 5)), 1.0)
        # valid calls: finite, a scalar t equals the same t per row, the ends of [t_min, T]
        # are inside, no rows gives no rows
        s = learned(x, 1.0)
        assert s.shape == (3, 2) and np.all(np.isfinite(s))
        np.testing.assert_array_equal(s, learned(x, np.full(3, 1.0)))
        assert np.all(np.isfinite(learned(x, np.array([1e-3, 1.0, 10.0]))))
        assert learned(np.empty((0, 2)), 1.0).shape == (0, 2)


def test_fit_score_validates_before_training():
    pytest.importorskip("sklearn")
    from levyscore.learn import dsm_batches, fit_score

    proc = levyscore.JumpDiffusion(2)
    data = np.zeros((8, 2))
    cases = [(dict(epochs=0), r"^epochs must be an integer >= 1, got 0"),
             (dict(epochs=-2), r"^epochs must be an integer >= 1"),
             (dict(epochs=1.5), r"^epochs must be an integer >= 1, got 1.5"),
             (dict(batch_size=0), r"^batch_size must be an integer >= 1"),
             (dict(hidden=(0,)), r"^hidden must be an integer >= 1"),
             (dict(hidden=()), r"^hidden must hold at least one layer"),
             (dict(hidden=16), r"^hidden must be a sequence"),
             (dict(T=1.0, t_min=2.0), r"^t_min must be < T"),
             (dict(times="cubic"), r"^times must be"),
             (dict(learning_rate=0.0), r"^learning_rate must be positive")]
    t0 = time.perf_counter()
    for kwargs, match in cases:
        with pytest.raises(ValueError, match=match):
            fit_score(proc, data, progress=False, **kwargs)
    with pytest.raises(ValueError, match=r"^data must have shape \(n, 2\) with n >= 1"):
        fit_score(proc, np.zeros((0, 2)), progress=False)
    with pytest.raises(ValueError, match=r"^proc must be a levyscore\.JumpDiffusion"):
        fit_score("proc", data, progress=False)
    assert time.perf_counter() - t0 < 1.0
    # a conditional score with NaN targets is refused, not trained on
    with pytest.raises(ValueError, match=r"^conditional_score returned NaN or inf \(row"):
        next(dsm_batches(proc, data, 4, conditional_score=lambda y, t: np.full_like(y, np.nan)))


# --------------------------------------------------------------------- counts and starts
def test_too_many_rows_blames_n():
    law = levyscore.JumpDiffusion(2).transition(1.0)
    with pytest.raises(ValueError, match=r"^n must be <= 2\*\*64 .*got 100000000000000000000"):
        law.sample(10**20)
    with pytest.raises(ValueError, match=r"^start must be >= 0 with start \+ n <= 2\*\*64 \(n = 3\)"):
        law.sample(3, start=2**64 - 2)
    with pytest.raises(ValueError, match=r"^start must be >= 0"):
        law.sample(3, start=-1)
    with pytest.raises(ValueError, match=r"^n must be <= 2\*\*64"):
        SubGaussianStable().sample(2**64 + 1)
    assert check_start(2**64 - 3, 3) == 2**64 - 3


# ----------------------------------------------------------------------------------- CLI
def _cli_error(capsys, argv):
    from levyscore.__main__ import main

    t0 = time.perf_counter()
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert time.perf_counter() - t0 < 1.0
    assert info.value.code == 2  # an argparse error: usage and one message line
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err.strip().splitlines()[-1]


def test_cli_bench_arguments(capsys):
    from levyscore._bench import BENCHMARKS

    line = _cli_error(capsys, ["bench", "nosuch"])
    assert "unknown benchmark 'nosuch'" in line
    assert all(name in line for name in BENCHMARKS)
    assert "argument --n: must be an integer >= 1, got 0" in _cli_error(capsys, ["bench", "--n", "0"])
    assert "argument --n: must be an integer >= 1, got -5" in _cli_error(capsys,
                                                                         ["bench", "--n", "-5"])
    assert "argument --n: must be an integer >= 1" in _cli_error(capsys, ["bench", "--n", "x"])
    assert "argument --repeat: must be an integer >= 1, got 0" in _cli_error(
        capsys, ["bench", "--repeat", "0"])


def test_bench_run_validates_its_arguments():
    from levyscore import _bench

    with pytest.raises(ValueError, match=r"^names: unknown benchmark 'nosuch'"):
        _bench.run(["nosuch"], out=lambda line: None)
    with pytest.raises(ValueError, match=r"^n must be an integer >= 1"):
        _bench.run(["score"], n=0, out=lambda line: None)
    with pytest.raises(ValueError, match=r"^repeat must be an integer >= 1"):
        _bench.run(["score"], repeat=0, out=lambda line: None)


def test_reverse_and_floor_benchmarks_run_end_to_end():
    """The two benchmarks that compile kernels of their own (the floor loops, the first Philox
    blocks), at a tiny size: every timing positive and finite, and their lines printed."""
    from levyscore import _bench

    lines = []
    _bench.run(["reverse", "floor"], n=600, repeat=1, out=lines.append)
    text = "\n".join(lines)
    assert "first Philox blocks" in text and "score/floor" in text
    rev = _bench.bench_reverse_step(n=600, repeat=1)
    values = [rev["baseline_s"], *rev["step_s"].values(), *rev["sde_parts"].values()]
    assert all(np.isfinite(v) and v > 0 for v in values), rev
    floor = _bench.bench_floor(n=600, repeat=1, dims=(2, 16))
    assert all(r["floor_ns_element"] > 0 and np.isfinite(r["ratio"]) for r in floor["results"])


def test_cli_study_arguments(capsys):
    assert "argument --seeds: must be an integer >= 1, got 0" in _cli_error(
        capsys, ["study", "heavy-tail", "--seeds", "0"])
    assert "argument --epochs: must be an integer >= 1, got 0" in _cli_error(
        capsys, ["study", "heavy-tail", "--epochs", "0"])
    assert "argument --steps: must be comma-separated integers >= 1" in _cli_error(
        capsys, ["study", "heavy-tail", "--steps", "10,-1"])
    assert "argument --hidden: must be comma-separated integers >= 1" in _cli_error(
        capsys, ["study", "heavy-tail", "--hidden", "64,0"])
    assert "invalid choice: 'nosuch'" in _cli_error(capsys, ["study", "nosuch"])


def test_run_study_refuses_empty_seeds():
    import dataclasses

    from levyscore import _study

    with pytest.raises(ValueError, match=r"^cfg\.seeds must not be empty"):
        _study.run_study(dataclasses.replace(_study.DEMO, seeds=()), log=lambda msg: None)


def test_cli_figure_without_matplotlib_fails_first(capsys, monkeypatch):
    from levyscore import _study

    def never(*args, **kwargs):
        raise AssertionError("the study ran before the figure check")

    monkeypatch.setattr(_study, "run_study", never)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    line = _cli_error(capsys, ["demo", "--figure", "x.png"])
    assert "argument --figure: matplotlib is not installed" in line
    line = _cli_error(capsys, ["study", "heavy-tail", "--quick", "--figure", "x.png"])
    assert "argument --figure: matplotlib is not installed" in line


def test_cli_help_is_plain_and_lists_benchmarks(capsys):
    from levyscore.__main__ import _demo, main
    from levyscore._bench import BENCHMARKS

    for argv in (["--help"], ["bench", "--help"]):
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 0
        out = capsys.readouterr().out
        assert "``" not in out and ":func:" not in out
        assert all(name in out for name in BENCHMARKS), out
    assert "transition densities" not in _demo.__doc__
    assert "heavy-tail" in _demo.__doc__ and "Lower is better" in _demo.__doc__


# -------------------------------------------------------------------------------- targets
def test_sub_gaussian_stable_alpha_bound():
    SubGaussianStable(alpha=ALPHA_MIN).sample(2, rng=0)  # load or compile the sampler first:
    SubGaussianStable(alpha=ALPHA_MIN).sample_mixing(2, rng=0)  # the bound below is for calls
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match=r"^alpha must lie in \[0\.2, 2\), got 0\.01"):
        SubGaussianStable(alpha=0.01)
    with pytest.raises(ValueError, match=r"^alpha must lie in \[0\.2, 2\)"):
        SubGaussianStable(alpha=0.19)
    # the documented bound: P(Z > DBL_MAX) = (DBL_MAX/2)^{-a} / Gamma(1 - a), a = alpha/2,
    # is below 1e-30 at ALPHA_MIN (and P(Z > 1e300) ~ 1e-30)
    a = ALPHA_MIN / 2
    p_max = math.exp(-a * math.log(sys.float_info.max / 2) - math.lgamma(1 - a))
    p_300 = math.exp(-a * math.log(0.5e300) - math.lgamma(1 - a))
    assert p_max < 2e-31 and p_300 < 1.01e-30
    assert SubGaussianStable._overflow_probability(ALPHA_MIN) == pytest.approx(p_max)
    # sampling stays available down to the bound, with finite draws
    target = SubGaussianStable(alpha=ALPHA_MIN)
    x = target.sample(20_000, rng=0)
    z = target.sample_mixing(20_000, rng=0)
    assert np.all(np.isfinite(x)) and np.all(np.isfinite(z)) and np.all(z > 0)
    assert time.perf_counter() - t0 < 1.0


def test_sub_gaussian_stable_never_returns_inf():
    # below the bound (constructor bypassed) the overflow is caught, never returned
    target = SubGaussianStable(alpha=ALPHA_MIN)
    target._alpha = 0.01
    with pytest.raises(ValueError, match=r"^alpha = 0\.01: a coordinate .* of row \d+ overflows"):
        target.sample(100_000, rng=0)
    with pytest.raises(ValueError, match=r"^alpha = 0\.01: the mixing variable Z of row \d+ overflows"):
        target.sample_mixing(100_000, rng=0)


def test_bessel_target_scale_bounds_and_large_scales():
    with pytest.raises(ValueError, match=r"^b must lie in \[1\.055e-154, 9\.481e\+153\] for j = 1"):
        BesselTarget(1, 1e200, 2)
    with pytest.raises(ValueError, match=r"^b must lie in"):
        BesselTarget(1, 1e-160, 2)  # 2 b^2 subnormal: the process would lose digits
    with pytest.raises(ValueError, match=r"^j must be an integer in \[1, "):
        BesselTarget(10**400, 1.0, 2)
    # near the upper bound 2 b^2 Z overflows inside the sampler: the law is drawn at the scale
    # 2^-k b and scaled back by 2^k, exactly, so it equals the draws of the smaller target
    b = 5e153
    k = math.frexp(b)[1] - 1
    big = BesselTarget(3, b, 2).sample(1000, rng=0)
    small = BesselTarget(3, math.ldexp(b, -k), 2).sample(1000, rng=0)
    assert np.all(np.isfinite(big))
    np.testing.assert_array_equal(big, np.ldexp(small, k))
    r = np.array([1e153, 1e154, 1e155])
    np.testing.assert_array_equal(BesselTarget(3, b, 2).radial_cdf(r),
                                  BesselTarget(3, math.ldexp(b, -k), 2).radial_cdf(np.ldexp(r, -k)))


def test_gaussian_mixture_far_out_raises_instead_of_nan():
    proc = levyscore.JumpDiffusion(2, diffusion=1.0, jump_rate=0.0)
    target = GaussianMixture([0.5, 0.5], [[0.0, 0.0], [1.0, 1.0]], [1.0, 2.0])
    score = target.marginal_score(proc)
    assert np.all(np.isfinite(score(np.full((1, 2), 1e100), 1.0)))
    with pytest.raises(ValueError, match=r"^x is too far out: every component density"):
        score(np.full((1, 2), 1e300), 1.0)
    with pytest.raises(ValueError, match=r"^x must lie within the double range"):
        GaussianMixture([1.0], [[-1e308, 0.0]], [1.0]).marginal_score(proc)(
            np.array([[1e308, 0.0]]), 1e-9)


# -------------------------------------------------------------------------------- metrics
def _energy_direct(x, y):
    def mean_dist(a, b):
        return np.mean(np.linalg.norm(a[:, None, :] - b[None, :, :], axis=-1))

    return 2 * mean_dist(x, y) - mean_dist(x, x) - mean_dist(y, y)


@pytest.mark.parametrize("scale", [1e200, 1e300, 1e-200, 1e-300])
def test_energy_distance_is_homogeneous_at_extreme_scales(scale):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 3))
    y = rng.standard_normal((30, 3)) + 0.5
    ref = _energy_direct(x, y)  # independent: the formula on the unscaled samples
    assert metrics.energy_distance(x, y) == pytest.approx(ref, rel=1e-12)
    got = metrics.energy_distance(x * scale, y * scale)
    assert math.isfinite(got)
    assert got == pytest.approx(scale * ref, rel=1e-12)
    got_u = metrics.energy_distance(x * scale, y * scale, estimator="U")
    assert got_u == pytest.approx(scale * metrics.energy_distance(x, y, estimator="U"), rel=1e-12)
    test = metrics.energy_test(x * scale, y * scale, permutations=30, rng=1)
    assert test == (pytest.approx(scale * ref, rel=1e-12),
                    metrics.energy_test(x, y, permutations=30, rng=1).pvalue)


@pytest.mark.parametrize("scale", [1e300, 1e-300])
def test_other_metrics_at_extreme_scales(scale):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((50, 2))
    y = 1.5 * rng.standard_normal((40, 2))
    for p in (1.0, 2.0, 3.5, 2000.0):
        ref = metrics.sliced_wasserstein(x, y, n_projections=16, p=p, rng=2)
        got = metrics.sliced_wasserstein(x * scale, y * scale, n_projections=16, p=p, rng=2)
        assert math.isfinite(got) and ref > 0
        assert got == pytest.approx(scale * ref, rel=1e-12), p
    # tail MSLE compares log-quantiles: a common scale cancels exactly in the differences
    xa, ya = np.abs(x) + 0.1, np.abs(y) + 0.1
    for method in ("paper", "levels"):
        ref = metrics.tail_msle(xa, ya, method=method)
        assert metrics.tail_msle(xa * scale, ya * scale, method=method) == pytest.approx(ref, rel=1e-9)
    # tiny differences beside a large common point: W_2 = sqrt(1/2) 1e-200, no underflow
    got = metrics.sliced_wasserstein(np.array([[1.0], [1e-200]]), np.array([[1.0], [2e-200]]))
    assert got == pytest.approx(math.sqrt(0.5) * 1e-200, rel=1e-12)


def test_metrics_beyond_the_double_range_raise():
    x, y = np.array([[1.7e308]]), np.array([[-1.7e308]])
    with pytest.raises(ValueError, match=r"^x, y: the energy distance .* exceeds the double range"):
        metrics.energy_distance(x, y)
    with pytest.raises(ValueError, match=r"^x, y: the sliced Wasserstein distance"):
        metrics.sliced_wasserstein(x, y)
