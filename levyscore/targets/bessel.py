r"""Bessel-potential target :math:`g_j^{(b)}` and its closed-form marginals (MATH.md §4, §9).

Under a pure-jump process with integer ``m >= j`` and the same b the marginal is the finite
Bessel mixture ``sum_k w'_k g_k^{(b)}`` (:func:`bessel_marginal_log_weights`), evaluated by
the closed-form kernels :func:`levyscore._closed_form.bessel_mixture_score` and
:func:`levyscore._closed_form.bessel_mixture_logpdf_h`.
"""
import math
import sys

import numpy as np

from .._closed_form import bessel_mixture_logpdf_h, bessel_mixture_score
from .._mixture import mixture_radial_cdf
from .._process import JumpDiffusion
from .._time import log_q_and_one_minus_q
from .._validation import (as_radii, check_dim, check_int, check_process, check_real,
                           finite_row_norms)
from .._dask import chunked_sample, rowwise
from ._common import _clock_time, _close, _flat_points

__all__ = ["BesselTarget", "bessel_marginal_log_weights"]

# BesselTarget: smallest b (2 b^2 = DBL_MIN, the smallest normal double) and largest order j
_B_MIN = math.sqrt(sys.float_info.min / 2.0)
_J_MAX = sys.float_info.max


def bessel_marginal_log_weights(j, m, t, theta):
    r"""Log weights of the marginal Bessel mixture (MATH.md section 9).

    ``p_t = sum_{k=j}^{m} w'_k g_k^{(b)}`` with
    :math:`w'_k = \binom{m-j}{m-k} q^{m-k} (1-q)^{k-j}`, :math:`q = e^{-2\theta t}`.

    Parameters
    ----------
    j, m : int
        Order of the data law and exponent of the process, ``1 <= j <= m``.
    t : float
        Clock time ``> 0`` (``inf`` gives the stationary law g_m).
    theta : float
        Mean-reversion rate.

    Returns
    -------
    ndarray, shape (m + 1,)
        ``log w'_k`` (``-inf`` for ``k < j``). Computed with lgamma, log(-expm1) so that
        both ``t -> 0`` and large t keep full relative accuracy.
    """
    logq, log1mq = log_q_and_one_minus_q(theta, t)
    out = np.full(m + 1, -math.inf)
    lnorm = math.lgamma(m - j + 1.0)
    for k in range(j, m + 1):
        if math.isinf(logq) and k < m:
            continue  # q = 0: only k = m survives
        lw = lnorm - math.lgamma(m - k + 1.0) - math.lgamma(k - j + 1.0)
        if m > k:
            lw += (m - k) * logq
        if k > j:
            lw += (k - j) * log1mq
        out[k] = lw
    return out


class BesselTarget:
    r"""Data law :math:`g_j^{(b)}`, the Bessel potential of order j (MATH.md sections 4, 9).

    :math:`g_j^{(b)}` has characteristic function :math:`(1 + b^2|k|^2)^{-j}`; it is the law of
    :math:`\sqrt{2 b^2 Z}\,\xi` with :math:`Z \sim \Gamma(j, 1)`, :math:`\xi \sim N(0, I_D)`.
    ``j = 1`` is the isotropic multivariate Laplace law with per-component variance
    :math:`2b^2` (in D = 1, density :math:`e^{-|y|/b}/(2b)`).

    Parameters
    ----------
    j : int
        Order, ``>= 1``.
    b : float
        Scale (state units), with ``2 b^2`` a normal double and the variance ``2 b^2 j``
        finite: ``1.05e-154 <= b <= sqrt(DBL_MAX / (2 j))`` (``9.48e153 / sqrt(j)``).
    dim : int
        Dimension D, ``>= 1``.

    Notes
    -----
    Under a pure-jump process (``diffusion = 0``) with integer ``m >= j`` and the same b,
    the marginal is the finite Bessel mixture of MATH.md section 9,

    .. math::

        p_t = \sum_{k=j}^{m} w'_k g_k^{(b)}, \quad
        w'_k = \binom{m-j}{m-k} q^{m-k} (1-q)^{k-j}, \quad q = e^{-2\theta t},

    with no atom, and ``V = lambda b^2 g_1 * p_t`` gives
    :math:`S(y) = -y h(|y|)`, :math:`h = \lambda \sum_k w'_k g_k/(2k) / \sum_k w'_k g_k`.
    For ``j = m`` the marginal is ``g_m``, the stationary law, at every t.
    """

    def __init__(self, j, b, dim):
        self._j = check_int("j", j, 1)
        if self._j > _J_MAX:
            raise ValueError(f"j must be an integer in [1, {_J_MAX:.3g}] (a finite double), "
                             f"got an integer of {len(str(self._j))} digits")
        self._b = check_real("b", b, positive=True)
        # the process of b has jump_var = 2 b^2, which must be a normal double (below
        # DBL_MIN it is subnormal and loses significant digits), and the variance 2 b^2 j
        # must be finite
        b_max = math.sqrt(sys.float_info.max / (2.0 * self._j))
        if not _B_MIN <= self._b <= b_max:
            raise ValueError(f"b must lie in [{_B_MIN:.4g}, {b_max:.4g}] for j = {self._j} (so "
                             f"that 2 b^2 and the variance 2 b^2 j are normal doubles), got {b!r}")
        self._dim = check_dim(dim)
        # g_j^{(b)} is exactly the stationary law of this pure-jump process (m = j). For
        # b >= 2^64 draws and the radial CDF use the law at scale 2^-shift b in [1, 2), then
        # scale back by 2^shift (exact): the sampler forms 2 b^2 Z, Z ~ Gamma(j), which
        # overflows near the upper bound of b although the draw sqrt(2 b^2 Z) xi does not
        self._shift = 0
        if self._b >= 2.0**64:
            self._shift = math.frexp(self._b)[1] - 1
        b_src = math.ldexp(self._b, -self._shift)
        self._source = JumpDiffusion(self._dim, theta=0.5, diffusion=0.0, jump_rate=float(self._j),
                                     jump_var=2.0 * b_src * b_src)

    @property
    def j(self):
        """Order j of the Bessel potential."""
        return self._j

    @property
    def b(self):
        """Scale b."""
        return self._b

    @property
    def dim(self):
        """Dimension D."""
        return self._dim

    @property
    def variance(self):
        """Per-component variance ``2 b^2 j``."""
        return 2.0 * self._b * self._b * self._j

    def _check(self, proc):
        check_process(proc, self._dim, "the marginal score of a BesselTarget")
        if proc.diffusion != 0.0:
            raise ValueError(f"proc must be pure jump (diffusion = 0) for the Bessel closed form, "
                             f"got diffusion = {proc.diffusion!r}")
        if proc._m_int < 1:
            raise ValueError(f"proc.m = jump_rate / (2 theta) must be an integer for the Bessel "
                             f"closed form, got m = {proc.m!r}")
        if proc._m_int < self._j:
            raise ValueError(f"proc.m = {proc._m_int} must be >= the target's order j = {self._j}")
        if not _close(proc.b, self._b):
            raise ValueError(f"proc.b = {proc.b!r} (sqrt(jump_var / 2)) must equal the target's "
                             f"b = {self._b!r}")
        return proc

    def _table(self, proc, tc):
        """Weight table ``lw`` (2, m + 1) of the kernels at clock time ``tc``."""
        m = proc._m_int
        lw = np.empty((2, m + 1))
        logw = bessel_marginal_log_weights(self._j, m, tc, proc.theta)
        lw[0, 0] = -math.inf
        lw[1, 0] = 0.0
        for k in range(1, m + 1):
            lc = (1.0 - k) * math.log(2.0) - math.lgamma(k)  # c_k = 2^{1-k} / Gamma(k)
            lw[0, k] = logw[k] + lc if logw[k] > -math.inf else -math.inf
            lw[1, k] = math.exp(lw[0, k])
        return lw

    def marginal_weights(self, proc, t):
        """Weights ``w'_k`` of the marginal at process time ``t``: array of shape (m + 1,)."""
        self._check(proc)
        return np.exp(bessel_marginal_log_weights(self._j, proc._m_int, _clock_time(proc, t),
                                                  proc.theta))

    @chunked_sample
    def sample(self, n, rng=None, *, start=0):
        """Exact draws ``sqrt(2 b^2 Z) xi``, Z ~ Gamma(j, 1) (counter-based, MATH.md §2).

        Parameters
        ----------
        n : int
            Number of draws, ``>= 0``.
        rng : None, int, numpy.random.SeedSequence or numpy.random.Generator
            Seed (see :func:`levyscore._seeding.philox_key`).
        start : int, optional
            Global index of the first row.

        Returns
        -------
        ndarray, shape (n, D)
        """
        x = self._source.stationary().sample(n, rng=rng, start=start)
        if self._shift:
            x = np.ldexp(x, self._shift)
        if not np.isfinite(x).all():  # only at the very edge of the bounds on b and j
            raise ValueError(f"b = {self._b!r}, j = {self._j}: a draw exceeds the double range "
                             "(the variance 2 b^2 j is too close to it)")
        return x

    def radial_cdf(self, r):
        """``P(|X_0| <= r)`` for the data law; r any shape, ``>= 0``; same shape as r."""
        if self._shift:
            r = np.ldexp(as_radii(r), -self._shift)
        return self._source.stationary().radial_cdf(r)

    def marginal_radial_cdf(self, proc, t, r):
        """``P(|X_t| <= r)`` at process time ``t > 0``: ``sum_k w'_k P(|G_k| <= r)``.

        Parameters
        ----------
        proc : JumpDiffusion
            Pure-jump process with integer ``m >= j`` and the target's b.
        t : float
            Process time ``> 0``.
        r : array_like
            Radii ``>= 0``, any shape.

        Returns
        -------
        ndarray
            Same shape as ``r``. Each ``g_k^{(b)}`` is the stationary law of a pure-jump
            process with m = k, whose radial CDF is a Gamma(k) mixture of regularized
            incomplete gamma functions (:func:`levyscore._mixture.mixture_radial_cdf`).
        """
        w = self.marginal_weights(proc, t)
        r = as_radii(r)
        flat = np.ascontiguousarray(r.reshape(-1))
        tinf = np.full(flat.shape, math.inf)
        total = np.zeros_like(flat)
        part = np.empty_like(flat)
        for k in range(self._j, proc._m_int + 1):
            if w[k] == 0.0:
                continue
            mixture_radial_cdf(flat, tinf, self._dim, 0.5, 0.0, float(k), self._b ** 2, part)
            total += w[k] * part
        return np.minimum(total, 1.0).reshape(r.shape)

    def marginal_score(self, proc):
        """The marginal generalized score in closed form (MATH.md sections 3, 4, 9).

        Parameters
        ----------
        proc : JumpDiffusion
            Pure-jump process (``diffusion = 0``) with integer ``m >= j`` and ``proc.b == b``.

        Returns
        -------
        callable
            ``score(x, t)``: x of shape (..., D), scalar process time t > 0; returns
            ``S = -x h(|x|)`` with the shape of x (0 at x = 0).

        Raises
        ------
        ValueError
            If proc has another dimension, a Gaussian part, a non-integer m, ``m < j`` or
            another b.
        """
        self._check(proc)
        dim, lam, b, m = self._dim, proc.jump_rate, proc.b, proc._m_int

        def score(x, t):
            lw = self._table(proc, _clock_time(proc, t))
            x, flat = _flat_points(x, dim)
            out = np.empty_like(flat)
            if flat.shape[0]:
                # the process's prepared Bessel ratio: the same window (D, m)
                if bessel_mixture_score(flat, lam, b, m, lw, -math.inf, out,
                                        proc._prepared_ratio()):
                    row = int(np.argmin(np.isfinite(out).all(axis=1)))
                    raise ValueError(f"x is too far out: the closed-form score is not finite at "
                                     f"row {row} (|x| = "
                                     f"{float(finite_row_norms(flat[row:row + 1])[0]):.3g})")
            return out.reshape(x.shape)

        return rowwise(score)

    def marginal_logpdf(self, proc):
        """Callable ``logpdf(x, t)`` of the marginal Bessel mixture; shape ``x.shape[:-1]``.

        ``+inf`` at x = 0 when some g_k with positive weight is singular there (k <= D/2).
        """
        self._check(proc)
        dim, lam, b, m = self._dim, proc.jump_rate, proc.b, proc._m_int

        def logpdf(x, t):
            lw = self._table(proc, _clock_time(proc, t))
            x, flat = _flat_points(x, dim)
            r = finite_row_norms(flat)
            lp = np.empty_like(r)
            h = np.empty_like(r)
            if r.shape[0]:
                bessel_mixture_logpdf_h(r, dim, lam, b, m, lw, -math.inf, lp, h)
            return lp.reshape(x.shape[:-1])

        return logpdf

    def __repr__(self):
        return f"BesselTarget(j={self._j}, b={self._b!r}, dim={self._dim})"
