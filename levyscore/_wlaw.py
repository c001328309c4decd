r"""The law of the mixing variable W (MATH.md section 2), as Numba scalar functions.

Given the jumps, the jump part of :math:`Y_t` is Gaussian with variance :math:`2b^2 W` per
component, so every law of levyscore is a one-dimensional mixture over W. W has an atom
:math:`q^m` at 0 (``q = exp(-2 theta t)``, ``m = lambda / (2 theta)``) and a continuous part.
Inverting the Laplace transform :math:`((1 + uq)/(1 + u))^m` term by term and applying
Kummer's transformation gives, with :math:`c = (1 - q)/q`,

.. math::

    f_W(w) = m (1-q) q^{m-1} e^{-w/q}\, {}_1F_1(m+1; 2; c w),
    \qquad
    f_{W+Z}(w) = q^m e^{-w/q}\, {}_1F_1(m+1; 1; c w),

where :math:`Z \sim \mathrm{Exp}(1)` is independent of W (the law needed for V, MATH.md
section 3: :math:`g_1^{(b)} * p` adds one more exponential to W). Both series have positive
terms. For :math:`cw \ge \max(40, m^2)` the large-argument expansion

.. math::

    f_W(w) = \frac{m (1-q)^m w^{m-1} e^{-w}}{\Gamma(m+1)} \sum_s \frac{(1-m)_s (-m)_s}{s!\,(cw)^s},
    \qquad
    f_{W+Z}(w) = \frac{(1-q)^m w^{m} e^{-w}}{\Gamma(m+1)} \sum_s \frac{(-m)_s (-m)_s}{s!\,(cw)^s}

is used instead; its neglected part is :math:`O(e^{-cw})`, below 1e-17 relative there. For
integer m both sums terminate and the laws are the finite Gamma mixtures of MATH.md section 2.
``q = 0`` is the stationary law: Gamma(m) and Gamma(m + 1).

All functions return logarithms and work for any real ``m > 0``. The derivation is checked
independently in ``tests/mpmath_laws.py`` (Laplace transform at 25 digits).
"""
import math

import numba as nb

__all__ = ["log_density_w", "log_density_w_scaled", "log_density_w_logw", "KIND_W",
           "KIND_W_PLUS_EXP"]

KIND_W = 0  # density of the continuous part of W
KIND_W_PLUS_EXP = 1  # density of W + Z, Z ~ Exp(1) independent (no atom)

_ASYMPTOTIC_FROM = 40.0
_TINY = 1e-17


@nb.njit(cache=True)
def _log_series(m, b, x):
    """log of sum_n (m+1)_n x^n / ((b)_n n!) for 0 <= x < 40 (all terms positive)."""
    total = 1.0
    term = 1.0
    n = 0
    while n < 1000:
        term *= (m + 1.0 + n) * x / ((b + n) * (n + 1.0))
        total += term
        n += 1
        if term < _TINY * total and n > x:
            break
    return math.log(total)


@nb.njit(cache=True)
def _log_asymptotic(m, a, x):
    """log of sum_s (a)_s (-m)_s / (s! x^s), x >= 40, truncated at the smallest term."""
    total = 1.0
    term = 1.0
    prev = 1.0
    s = 0
    while s < 200:
        term *= (a + s) * (-m + s) / ((s + 1.0) * x)
        if term == 0.0:
            break
        mag = abs(term)
        if mag > prev and s > m + 1.0:
            break  # divergent tail of the asymptotic series: stop at the smallest term
        total += term
        prev = mag
        s += 1
        if mag < _TINY * abs(total):
            break
    return math.log(total)


@nb.njit(cache=True)
def log_density_w(w, kind, m, q, logq, log1mq):
    """Log density of W (``kind = 0``) or of W + Exp(1) (``kind = 1``) at ``w > 0``.

    Parameters
    ----------
    w : float
        Point, ``w > 0``.
    kind : int
        ``KIND_W`` or ``KIND_W_PLUS_EXP``.
    m : float
        Exponent ``lambda / (2 theta) > 0``.
    q, logq, log1mq : float
        ``q = exp(-2 theta t)`` in ``[0, 1)``, its log and ``log(1 - q)`` (passed in so
        that they are computed once, accurately, by the caller). ``q = 0`` is ``t = inf``.

    Returns
    -------
    float
        The log density (MATH.md section 2); the atom of W at 0 is not included.
    """
    logw = math.log(w)
    if q == 0.0:
        if kind == KIND_W:
            return (m - 1.0) * logw - w - math.lgamma(m)
        return m * logw - w - math.lgamma(m + 1.0)
    x = w * math.exp(log1mq - logq)
    if x < max(_ASYMPTOTIC_FROM, m * m):
        if kind == KIND_W:
            return math.log(m) + log1mq + (m - 1.0) * logq - w / q + _log_series(m, 2.0, x)
        return m * logq - w / q + _log_series(m, 1.0, x)
    if kind == KIND_W:
        return (math.log(m) + m * log1mq + (m - 1.0) * logw - w - math.lgamma(m + 1.0)
                + _log_asymptotic(m, 1.0 - m, x))
    return m * log1mq + m * logw - w - math.lgamma(m + 1.0) + _log_asymptotic(m, -m, x)


@nb.njit(cache=True)
def log_density_w_scaled(w, kind, m, q, logq, log1mq):
    """``log_density_w(w, ...) + w``: the log density without its ``e^{-w}`` factor.

    Far in the tail (w in the thousands and beyond) the log density is dominated by ``-w``;
    the far-field quadrature of :mod:`levyscore._mixture` combines that term with the
    Gaussian kernel analytically (``-w - r^2/(2v)`` in the form ``-2 gamma cosh y``), so it
    needs the remainder on its own, free of the rounding of a large ``-w``. The series
    branch carries ``e^{-w/q} = e^{-w} e^{-c w}`` with ``c w`` below the asymptotic threshold,
    so its remainder ``-c w + log 1F1`` has no large cancelling terms either.
    """
    logw = math.log(w)
    if q == 0.0:
        if kind == KIND_W:
            return (m - 1.0) * logw - math.lgamma(m)
        return m * logw - math.lgamma(m + 1.0)
    x = w * math.exp(log1mq - logq)
    if x < max(_ASYMPTOTIC_FROM, m * m):
        if kind == KIND_W:
            return math.log(m) + log1mq + (m - 1.0) * logq - x + _log_series(m, 2.0, x)
        return m * logq - x + _log_series(m, 1.0, x)
    if kind == KIND_W:
        return (math.log(m) + m * log1mq + (m - 1.0) * logw - math.lgamma(m + 1.0)
                + _log_asymptotic(m, 1.0 - m, x))
    return m * log1mq + m * logw - math.lgamma(m + 1.0) + _log_asymptotic(m, -m, x)


@nb.njit(cache=True)
def log_density_w_logw(logw, kind, m, q, logq, log1mq):
    """:func:`log_density_w` at ``w = e^{logw}`` below the float range (``w < 1e-300``).

    There ``c w`` and ``w/q`` are formed from logs (``q`` may be as small as w), the series
    is 1 + O(c w), and ``w`` itself is negligible next to the other terms of the stationary
    branch. Used by the quadrature for radii below ~1e-150, whose kernel peaks at
    ``w ~ r^2``.
    """
    if q == 0.0:
        w = math.exp(logw)
        if kind == KIND_W:
            return (m - 1.0) * logw - w - math.lgamma(m)
        return m * logw - w - math.lgamma(m + 1.0)
    x = math.exp(logw + log1mq - logq)
    w_over_q = math.exp(logw - logq)
    if kind == KIND_W:
        return math.log(m) + log1mq + (m - 1.0) * logq - w_over_q + _log_series(m, 2.0, x)
    return m * logq - w_over_q + _log_series(m, 1.0, x)
