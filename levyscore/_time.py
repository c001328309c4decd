r"""The one home of the time constants of the forward process (MATH.md sections 0-2, 7-8).

Every law of levyscore depends on time only through

* ``q(t) = exp(-2 theta t)`` (the squared OU decay) and ``1 - q``, evaluated as
  ``-expm1(-2 theta t)`` so that small ``theta t`` keeps its digits;
* ``s(t) = sigma_G^2 (1 - q) / (2 theta)``: the variance of the Gaussian part (MATH.md §1);
* ``v(t) = (sigma_G^2 + lambda sigma_A^2)(1 - q) / (2 theta)``: the per-component variance
  of ``Y_t`` for every amplitude law (MATH.md §8 and §11);
* ``m = lambda / (2 theta)`` and the rule that treats m as an integer (closed forms, finite
  Gamma mixtures) when it is within a relative 1e-12 of one.

No other module writes these formulas; the Numba kernels call the scalar functions below
and the NumPy code calls their array counterparts. A noise schedule (MATH.md §7) changes the
clock in which ``t`` is measured, never these formulas.
"""
import math

import numba as nb
import numpy as np

__all__ = ["gaussian_variance", "time_constants", "one_minus_q_at", "log_q_and_one_minus_q",
           "decay_q", "one_minus_q", "total_variance", "variance_constant", "exponent_m",
           "integer_m", "INTEGER_M_RTOL"]

#: m = lambda / (2 theta) is treated as an integer when it lies within this relative distance
#: of one: such m come from rounding in lambda / (2 theta).
INTEGER_M_RTOL = 1e-12


@nb.njit(cache=True)
def gaussian_variance(theta, diffusion, t):
    """Per-component variance s(t) of the Gaussian part G_t (MATH.md section 1).

    ``s = diffusion * (1 - exp(-2 theta t)) / (2 theta)``, evaluated as
    ``-expm1(-2 theta t) / (2 theta)`` (no cancellation for small theta t) and
    as ``diffusion * t`` at ``theta == 0``; a negative theta (the growth of the
    reverse-time noise, MATH.md section 6) uses the same expression.
    """
    if diffusion == 0.0:
        return 0.0
    if theta == 0.0:
        return diffusion * t
    return diffusion * (-math.expm1(-2.0 * theta * t) / (2.0 * theta))


@nb.njit(cache=True)
def time_constants(t, theta, diffusion, lam):
    """``(m, q, log q, log(1 - q), s)`` at clock time ``t`` (``t = inf``: stationary).

    Parameters
    ----------
    t : float
        Clock time ``> 0`` or ``inf``.
    theta, diffusion, lam : float
        theta > 0, sigma_G^2 >= 0 and the jump rate lambda >= 0.
    """
    m = lam / (2.0 * theta)
    if math.isinf(t):
        return m, 0.0, -math.inf, 0.0, diffusion / (2.0 * theta)
    logq = -2.0 * theta * t
    q = math.exp(logq)
    om = -math.expm1(logq)
    return m, q, logq, math.log(om), diffusion * om / (2.0 * theta)


@nb.njit(cache=True)
def one_minus_q_at(two_theta, t):
    """``1 - q = -expm1(-2 theta t)`` as a Numba scalar, from ``two_theta = 2 theta``."""
    return -math.expm1(-two_theta * t)


def log_q_and_one_minus_q(theta, t):
    """``(log q, log(1 - q))`` as Python floats (``t = inf``: ``(-inf, 0)``).

    With libm's ``expm1`` and ``log``; raises ``ValueError`` (math domain error) when
    ``2 theta t`` rounds to 0, where ``log(1 - q)`` is ``-inf``.
    """
    logq = -2.0 * theta * t
    return logq, (math.log(-math.expm1(logq)) if math.isfinite(logq) else 0.0)


def decay_q(theta, t):
    """``q = exp(-2 theta t)`` elementwise (``t = inf`` gives 0); float or ndarray."""
    return np.exp(-2.0 * theta * np.asarray(t, dtype=np.float64))


def one_minus_q(theta, t):
    """``1 - q = -expm1(-2 theta t)`` elementwise (``t = inf`` gives 1); float or ndarray."""
    return -np.expm1(-2.0 * theta * np.asarray(t, dtype=np.float64))


def variance_constant(theta, diffusion, jump_rate, jump_var):
    """``v_inf = (sigma_G^2 + lambda sigma_A^2) / (2 theta)``: v(t) = v_inf (1 - q)."""
    return (diffusion + jump_rate * jump_var) / (2.0 * theta)


def total_variance(theta, diffusion, jump_rate, jump_var, t):
    """Per-component variance ``v(t)`` of ``Y_t`` (MATH.md §8; the same for every amplitude law).

    Parameters
    ----------
    theta, diffusion, jump_rate, jump_var : float
        Process parameters (``jump_var`` = sigma_A^2).
    t : float or ndarray
        Clock times ``> 0``; ``inf`` gives the stationary variance.
    """
    return (diffusion + jump_rate * jump_var) * one_minus_q(theta, t) / (2.0 * theta)


def exponent_m(theta, jump_rate):
    """``m = lambda / (2 theta)``, the exponent that governs every law (MATH.md section 2)."""
    return jump_rate / (2.0 * theta)


def integer_m(m):
    """``int(m)`` when m is an integer ``>= 1`` to relative 1e-12 (``INTEGER_M_RTOL``), else 0."""
    m_int = round(m)
    if m_int >= 1 and abs(m - m_int) <= INTEGER_M_RTOL * m:
        return int(m_int)
    return 0
