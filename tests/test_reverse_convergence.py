"""Convergence of the reverse-time samplers with an exact score (MATH.md sections 6 and 9).

Target: BesselTarget(1, b) (isotropic Laplace) in D = 2 with the pure-jump process m = 2, whose
marginal score is closed form, so the only error is the integration error. The run starts
from exact draws of p_T (target samples pushed through the exact forward sampler) and is
compared with the exact marginal p_{t_min}.

Weak errors use f_c(x) = exp(-|x|^2 / (2c)), c in {0.5, 2, 8}, whose exact expectations under
the Bessel mixture p_t = sum_k w_k g_k^{(b)} are one-dimensional integrals over
Z ~ Gamma(k): E_{g_k} f_c = E[(c / (c + 2 b^2 Z))^{D/2}] (g_k is N(0, 2b^2 Z I) mixed over Z).

* ODE solvers are deterministic given x_T, so their weak error is measured pathwise against
  a fine second-order reference run from the same x_T: the Monte Carlo noise of such coupled
  differences is far below the errors fitted. The reference itself is checked against the
  exact expectations and the exact radial CDF.
* SDE solvers are compared with the exact expectations directly; n is chosen so that the
  standard error (printed in the assertion) is well below the fitted errors.

Orders are fitted by least squares of log error against log step (as diffrax does).
"""
import math

import numpy as np
import pytest
from scipy import integrate, special

import levyscore
from levyscore import sample_reverse
from levyscore.targets import BesselTarget

DIM, B, M, THETA = 2, 1.0, 2, 0.5
T, T_MIN = 6.0, 0.05
CS = (0.5, 2.0, 8.0)


def process():
    return levyscore.JumpDiffusion(DIM, theta=THETA, diffusion=0.0, jump_rate=2 * THETA * M,
                                   jump_var=2 * B * B)


def exact_expectation(c, t, j=1):
    """E f_c under the exact marginal p_t = sum_{k=j}^m w_k g_k (independent of the library)."""
    q = math.exp(-2 * THETA * t)
    total = 0.0
    for k in range(j, M + 1):
        w = math.comb(M - j, M - k) * q ** (M - k) * (1 - q) ** (k - j)
        inner = integrate.quad(lambda z: (c / (c + 2 * B * B * z)) ** (DIM / 2)
                               * z ** (k - 1) * math.exp(-z) / math.gamma(k), 0, np.inf,
                               epsabs=0, epsrel=1e-13, limit=200)[0]
        total += w * inner
    return total


def f_values(x):
    r2 = np.einsum("ij,ij->i", x, x)
    return np.stack([np.exp(-r2 / (2 * c)) for c in CS])


def start(n, seed):
    proc = process()
    target = BesselTarget(1, B, DIM)
    x0 = target.sample(n, rng=seed)
    return proc, target.marginal_score(proc), proc.sample(x0, T, rng=seed + 1)


def fitted_order(steps, errors):
    slope = np.polyfit(np.log(np.asarray(steps, float)), np.log(np.asarray(errors)), 1)[0]
    return -slope


@pytest.fixture(scope="module")
def ode_reference():
    n = 20_000
    proc, score, x_T = start(n, 100)
    ref = sample_reverse(proc, score, n, steps=512, T=T, t_min=T_MIN, solver="exp-heun", x_T=x_T)
    return proc, score, x_T, ref


def test_reference_run_reproduces_the_exact_marginal(ode_reference):
    proc, score, x_T, ref = ode_reference
    n = ref.shape[0]
    fv = f_values(ref)
    exact = np.array([exact_expectation(c, T_MIN) for c in CS])
    se = fv.std(axis=1) / math.sqrt(n)
    # 5 standard errors (CLT; two-sided false alarm 6e-7 per function)
    assert np.all(np.abs(fv.mean(axis=1) - exact) <= 5 * se), (fv.mean(axis=1), exact, se)


@pytest.mark.parametrize("solver, band", [("exp-euler", (0.8, 1.3)), ("euler", (0.8, 1.3)),
                                          ("exp-heun", (1.7, 2.4))])
def test_ode_convergence_order(ode_reference, solver, band):
    proc, score, x_T, ref = ode_reference
    n = ref.shape[0]
    f_ref = f_values(ref)
    steps = (8, 16, 32, 64)
    errors, noise = [], []
    for k in steps:
        x = sample_reverse(proc, score, n, steps=k, T=T, t_min=T_MIN, solver=solver, x_T=x_T)
        diff = f_values(x) - f_ref
        errors.append(np.max(np.abs(diff.mean(axis=1))))
        noise.append(np.max(diff.std(axis=1)) / math.sqrt(n))
    # the coupled differences' standard errors must sit well below the errors fitted
    assert max(noise[i] / errors[i] for i in range(len(steps))) < 0.1, (errors, noise)
    order = fitted_order(steps, errors)
    assert band[0] <= order <= band[1], (solver, order, errors)


@pytest.mark.parametrize("solver, eta", [("exp-euler", 1.0), ("euler", 1.0), ("exp-euler", 0.5)])
def test_sde_convergence_order(solver, eta):
    n = 200_000
    proc, score, x_T = start(n, 300)
    exact = np.array([exact_expectation(c, T_MIN) for c in CS])
    steps = (8, 16, 32, 64)
    errors, ses = [], []
    for k in steps:
        x = sample_reverse(proc, score, n, steps=k, T=T, t_min=T_MIN, solver=solver, eta=eta,
                           x_T=x_T, rng=k)
        fv = f_values(x)
        errors.append(np.max(np.abs(fv.mean(axis=1) - exact)))
        ses.append(np.max(fv.std(axis=1)) / math.sqrt(n))
    # Monte Carlo noise (one standard error) must be well below every fitted error
    assert max(ses[i] / errors[i] for i in range(len(steps))) < 0.25, (errors, ses)
    order = fitted_order(steps, errors)
    assert 0.7 <= order <= 1.4, (solver, eta, order, errors, ses)


def _energy_statistic(x, y):
    """V-statistic energy distance 2E|X-Y| - E|X-X'| - E|Y-Y'| (direct pairwise sums)."""
    def mean_dist(a, b):
        return np.mean(np.sqrt(np.maximum(np.sum((a[:, None, :] - b[None, :, :]) ** 2, -1), 0)))

    return 2 * mean_dist(x, y) - mean_dist(x, x) - mean_dist(y, y)


def _energy_pvalue(x, y, permutations, seed):
    """Permutation p-value of the two-sample energy test (pooled relabelling)."""
    rng = np.random.default_rng(seed)
    pooled = np.concatenate([x, y])
    observed = _energy_statistic(x, y)
    exceed = 0
    for _ in range(permutations):
        idx = rng.permutation(pooled.shape[0])
        exceed += _energy_statistic(pooled[idx[:len(x)]], pooled[idx[len(x):]]) >= observed
    return (exceed + 1) / (permutations + 1), observed


@pytest.mark.parametrize("eta, solver", [(0.0, "exp-heun"), (0.5, "exp-euler")])
def test_gaussian_mixture_is_recovered_with_the_oracle_score(eta, solver):
    """Four modes in 2-D, the paper's jump-diffusion process, oracle (quadrature) marginal score:
    the generated law is indistinguishable from fresh target draws by a two-sample energy
    permutation test (n = 600 each, 199 permutations; the test rejects at p <= 0.005, i.e.
    only when the observed statistic exceeds every permuted one, while a wrong law -- here
    checked with a missing mode -- gives p = 0.005)."""
    from levyscore.targets import GaussianMixture

    proc = levyscore.JumpDiffusion(2)  # theta 0.5, sigma_G^2 1, lambda 1, sigma_A^2 2
    means = np.array([[2.0, 2.0], [-2.0, 2.0], [-2.0, -2.0], [2.0, -2.0]])
    target = GaussianMixture([0.1, 0.2, 0.3, 0.4], means, [0.05, 0.1, 0.05, 0.2])
    n = 600
    steps = 40 if solver == "exp-heun" else 120
    x = sample_reverse(proc, target.marginal_score(proc), n, steps=steps, T=8.0, t_min=1e-3,
                       solver=solver, eta=eta, grid="log", rng=5)
    fresh = target.sample(n, rng=6)
    p, stat = _energy_pvalue(x, fresh, 199, 7)
    assert p > 0.005, (p, stat)
    # the same test has power: dropping the heaviest mode is detected
    wrong = GaussianMixture([1 / 3, 2 / 3 * 0.4, 2 / 3 * 0.6], means[:3],
                            [0.05, 0.1, 0.05]).sample(n, rng=8)
    assert _energy_pvalue(wrong, fresh, 199, 9)[0] <= 0.005
