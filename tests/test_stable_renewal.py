"""The heavy-tailed benchmark's exact marginal under Student-t and Gaussian jump amplitudes
(levyscore._stable_renewal; MATH.md sections 9, 11).

Independent checks:
* the same kernel run on a table of W built from Laplace marks (the renewal march of
  levyscore._wvolterra) against the Laplace oracle of levyscore._stable_marginal (its fused
  W-rule from the Kummer forms, verified in tests/test_stable_marginal.py);
* the flux form of the Kolmogorov-Feller equation for the marginal, by finite differences;
* the long-time limit: the stationary law, whose flux vanishes (S = -theta y).
"""

import numpy as np
import pytest

import levyscore
from levyscore._stable_marginal import StableMarginalSource
from levyscore._stable_renewal import law_arrays, renewal_marginal_logpdf_h
from levyscore._time import time_constants
from levyscore._wvolterra import WLawTable
from levyscore.amplitudes import Gaussian, Laplace, StudentT
from levyscore.targets import SubGaussianStable

THETA = 0.5


@pytest.mark.parametrize("diffusion", [0.0, 1.0])
@pytest.mark.parametrize("t", [0.01, 0.3, 2.0])
def test_kernel_on_laplace_marks_matches_the_laplace_oracle(diffusion, t):
    """Measured: log p 1.5e-11, h 4.4e-12 relative (radii 0 to 300, D = 2, m = 1.3)."""
    target = SubGaussianStable()
    proc = levyscore.JumpDiffusion(2, theta=THETA, diffusion=diffusion, jump_rate=1.3,
                                   jump_var=2.0)
    source = StableMarginalSource(target, proc)
    m, q, logq, log1mq, s = time_constants(t, THETA, diffusion, 1.3)
    kind, arrays = law_arrays(WLawTable(Laplace(), m, q, logq, log1mq))
    r = np.array([0.0, 0.05, 0.5, 1.0, 3.0, 10.0, 50.0, 300.0])
    lp, h = np.empty_like(r), np.empty_like(r)
    renewal_marginal_logpdf_h(kind, r, 2, s, q, m, 2.0, 1.3, diffusion, target.variance,
                              source.xs, source.logw, source.kfloor, *arrays, lp, h)
    lp0, h0 = source._eval(r, np.full(r.shape, t))
    assert np.max(np.abs(lp - lp0)) < 1e-10
    assert np.max(np.abs(h / h0 - 1.0)) < 1e-10


def _log_p_and_h(source, r, t):
    return source._eval(r, np.full(r.shape, t))


@pytest.mark.parametrize("law,diffusion", [(StudentT(3), 0.0), (Gaussian(), 0.0),
                                           (StudentT(5), 0.7)],
                         ids=["t3-pure-jump", "gaussian-pure-jump", "t5-diffusion"])
def test_marginal_satisfies_the_flux_form(law, diffusion):
    """d_t p = D p (theta - h) + r d_r[p (theta - h)] (radial flux form, S = -y h) by central
    differences, steps 1e-4 relative: with log p and h accurate to ~1e-10 the residual is
    below 1e-5 of the terms (as for the transition laws, tests/test_renewal_laws.py). At
    t = 60 the marginal is the stationary law: S = -theta y."""
    proc = levyscore.JumpDiffusion(2, theta=THETA, diffusion=diffusion, jump_rate=1.0,
                                   jump_var=2.0, amplitude=law)
    source = StableMarginalSource(SubGaussianStable(), proc)
    t, dt, dr = 0.4, 0.4e-4, 1e-4
    r = np.array([0.2, 0.9, 3.0, 12.0])
    lp, h = _log_p_and_h(source, r, t)
    dlogp_dt = (_log_p_and_h(source, r, t + dt)[0] - _log_p_and_h(source, r, t - dt)[0]) / (2 * dt)
    lpa, ha = _log_p_and_h(source, r * (1 + dr), t)
    lpb, hb = _log_p_and_h(source, r * (1 - dr), t)
    ga = np.exp(lpa - lp) * (THETA - ha)
    gb = np.exp(lpb - lp) * (THETA - hb)
    rhs = 2 * (THETA - h) + (ga - gb) / (2 * dr)
    scale = np.abs(2 * (THETA - h)) + np.abs(dlogp_dt) + 1.0
    assert np.all(np.abs(dlogp_dt - rhs) / scale < 1e-5), (dlogp_dt, rhs)
    _, h_inf = _log_p_and_h(source, r, 60.0)
    np.testing.assert_allclose(h_inf, THETA, rtol=1e-8)
