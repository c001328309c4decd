"""Noise schedules (MATH.md section 7): a scheduled process is the constant one at time B(t)."""
import math

import numpy as np
import pytest
from scipy import integrate

import levyscore

SCHEDULES = ["linear", "cosine", lambda t: 0.5 + 2.0 * t * t]


@pytest.mark.parametrize("schedule", SCHEDULES, ids=["linear", "cosine", "callable"])
@pytest.mark.parametrize("kw", [dict(diffusion=0.0, jump_rate=1.0), dict(diffusion=1.0, jump_rate=0.6),
                                dict(diffusion=1.0, jump_rate=0.0)])
def test_scheduled_process_equals_plain_process_at_clock_time(schedule, kw):
    plain = levyscore.JumpDiffusion(3, **kw)
    sched = levyscore.JumpDiffusion(3, schedule=schedule, **kw)
    rng = np.random.default_rng(0)
    y = rng.normal(size=(5, 3))
    x0 = rng.normal(size=(40, 3))
    for t in (0.05, 0.3, 0.7):
        b = sched.clock(t)
        np.testing.assert_array_equal(sched.transition(t).logpdf(y), plain.transition(b).logpdf(y))
        np.testing.assert_array_equal(sched.transition(t).score(y), plain.transition(b).score(y))
        np.testing.assert_array_equal(sched.score(y, t), plain.score(y, b))
        assert sched.transition(t).atom == plain.transition(b).atom
        # the same seed gives the same bits: sampling is the constant process in the clock
        np.testing.assert_array_equal(sched.sample(x0, t, rng=3), plain.sample(x0, b, rng=3))
    times = np.array([0.1, 0.4, 0.8])
    np.testing.assert_array_equal(sched.sample_path(x0, times, rng=5),
                                  plain.sample_path(x0, sched.clock(times), rng=5))


def test_clocks_are_the_integrals_of_their_rates():
    theta = 0.5
    lin = levyscore.JumpDiffusion(2, theta=theta, schedule="linear")
    t = np.array([0.1, 0.5, 1.0])
    # independent route: quadrature of beta(t) = 0.1 + 19.9 t
    expected = [integrate.quad(lambda u: 0.1 + 19.9 * u, 0, v)[0] for v in t]
    np.testing.assert_allclose(lin.clock(t), expected, rtol=1e-14)
    cos = levyscore.JumpDiffusion(2, theta=theta, schedule="cosine")
    s = 0.008

    def alpha_bar(v):
        return math.cos(math.pi / 2 * (v + s) / (1 + s)) ** 2 / math.cos(math.pi / 2 * s / (1 + s)) ** 2

    # e^{-theta B(t)} is the cosine schedule's sqrt(alpha_bar(t))
    for v in (0.05, 0.5, 0.9):
        assert math.exp(-theta * cos.clock(v)) == pytest.approx(math.sqrt(alpha_bar(v)), rel=1e-13)
    call = levyscore.JumpDiffusion(2, schedule=lambda u: 0.5 + 2.0 * u * u)
    assert call.clock(0.9) == pytest.approx(0.5 * 0.9 + 2.0 * 0.9 ** 3 / 3, rel=1e-12)


def test_schedule_bad_input():
    with pytest.raises(ValueError, match=r"^schedule "):
        levyscore.JumpDiffusion(2, schedule="quadratic")
    with pytest.raises(ValueError, match=r"^t "):
        levyscore.JumpDiffusion(2, schedule="cosine").transition(1.0)
    with pytest.raises(ValueError, match=r"^schedule "):
        levyscore.JumpDiffusion(2, schedule=lambda u: -1.0).transition(0.5)
