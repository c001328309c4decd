r"""Oracle targets: data laws whose marginal generalized score is known exactly (MATH.md §9).

A *target* is a data law :math:`p_0`. Run through a forward process
(:class:`levyscore.JumpDiffusion`, MATH.md section 1) it becomes the marginal
:math:`p_t = \text{law of } e^{-\theta t} X_0 + Y_t`, whose generalized score
:math:`S = \nabla V / p_t` (MATH.md section 3; ``d_t p = div(theta x p + p S)``) is what a
score network learns. For the targets of this module that score is available without
learning, so samplers can be tested with no learning error:

* :class:`StationaryTarget`: the stationary law of a process; ``p_t = p_0`` for every t.
* :class:`BesselTarget`: the Bessel potential :math:`g_j^{(b)}` (``j = 1``: the isotropic
  Laplace law); under a pure-jump process with integer ``m >= j`` the marginal is a finite
  Bessel mixture (closed form, MATH.md sections 4 and 9).
* :class:`GaussianMixture`: :math:`\sum_k \pi_k N(\mu_k, v_k I)`; under any process each
  component is the transition law with an extra Gaussian variance :math:`v_k q` centred at
  :math:`\mu_k e^{-\theta t}`, computed by the W-mixture quadrature of
  :mod:`levyscore._mixture`.

Common interface
----------------
Every target has ``dim``, ``sample(n, rng=None, *, start=0)`` (exact, counter-based,
reproducible from ``rng``; rows ``[a, b)`` drawn with ``start=a`` equal rows ``a..b-1`` of the
whole batch for an int or ``SeedSequence`` seed), and

* ``marginal_score(proc)`` -> callable ``score(x, t)``;
* ``marginal_logpdf(proc)`` -> callable ``logpdf(x, t)``.

The callables take ``x`` of shape ``(..., D)`` (state units) and a scalar *process* time
``t > 0``; they evaluate the laws at the clock time ``proc.clock(t)`` (MATH.md section 7).
``score`` returns an array shaped like ``x``; ``logpdf`` returns shape ``x.shape[:-1]``. The
score is the generalized score ``S = grad V / p`` of MATH.md section 3 (levyscore's
convention): without jumps it is ``(sigma_G^2 / 2) grad log p``, not ``grad log p``.
"""
import math
import sys

import numba as nb
import numpy as np

from ._closed_form import bessel_mixture_logpdf_h, bessel_mixture_score
from ._forward import gaussian_row
from ._mixture import mixture_logpdf_h, mixture_radial_cdf
from ._philox import stream_word, uniform_pair
from ._process import JumpDiffusion
from ._seeding import philox_key
from ._validation import (as_points, as_radii, check_count, check_dim, check_real, check_start,
                          check_time, row_norms)

from ._stable import SubGaussianStable  # noqa: E402  (heavy-tailed benchmark data, MATH.md §9)

__all__ = ["StationaryTarget", "BesselTarget", "GaussianMixture", "SubGaussianStable"]

#: Philox domain of :meth:`GaussianMixture.sample` (stream 0: the component uniform,
#: stream 1: the normals). Not used by any other sampler (see :mod:`levyscore._philox`).
DOMAIN_TARGET_MIXTURE = 0x20

# BesselTarget: smallest b (2 b^2 = DBL_MIN, the smallest normal double) and largest order j
_B_MIN = math.sqrt(sys.float_info.min / 2.0)
_J_MAX = sys.float_info.max

# parameters of two processes (or of a process and a target) are taken as equal within this
# relative distance: they usually differ only by the rounding of sqrt, products or quotients
_PARAM_RTOL = 1e-12


def _close(a, b):
    return a == b or abs(a - b) <= _PARAM_RTOL * max(abs(a), abs(b))


def _check_process(proc, dim):
    if not isinstance(proc, JumpDiffusion):
        raise ValueError(f"proc must be a levyscore.JumpDiffusion, got {type(proc).__name__}")
    if proc.dim != dim:
        raise ValueError(f"proc.dim = {proc.dim} differs from the target's dimension {dim}")
    return proc


def _row_norms(flat):
    """Euclidean norms of the rows of ``flat`` (n, D), without overflow or underflow
    (:func:`levyscore._validation.row_norms`), as a contiguous array; ``ValueError`` for a
    norm beyond the double range."""
    r = np.ascontiguousarray(row_norms(flat))
    if not np.isfinite(r).all():
        raise ValueError("x must lie within the double range: a norm |x| (or |x - centre|) "
                         "exceeds 1.8e308")
    return r


def _flat_points(x, dim):
    """x (..., D) -> (validated array, contiguous (n, D) view)."""
    x = as_points(x, dim, "x")
    return x, np.ascontiguousarray(x.reshape(-1, dim))


def _clock_time(proc, t):
    """The clock time B(t) at which laws are evaluated, for a scalar process time t > 0."""
    if np.ndim(t) != 0:
        raise ValueError(f"t must be a scalar time > 0, got an array of shape {np.shape(t)}")
    return float(proc.clock(check_time(t)))


# ---------------------------------------------------------------------------------------------
# Stationary target
# ---------------------------------------------------------------------------------------------


class StationaryTarget:
    """The stationary law of a process as data (MATH.md section 9, first item).

    Started in its stationary law the process stays there: ``p_t = p_0`` for every t, so the
    marginal score is the stationary law's score, independent of t.

    Parameters
    ----------
    proc : JumpDiffusion
        The process whose stationary law (MATH.md section 2) is the data.

    Notes
    -----
    :meth:`marginal_score` accepts any process with the *same stationary law*: equal ``dim``,
    ``m = lambda / (2 theta)``, ``sigma_G^2 / (2 theta)`` and ``b`` (to a relative 1e-12).
    The score itself depends on the process passed (``S = grad V / p`` with V built from that
    process's noise, MATH.md section 3), not only on the law.
    """

    def __init__(self, proc):
        if not isinstance(proc, JumpDiffusion):
            raise ValueError(f"proc must be a levyscore.JumpDiffusion, got {type(proc).__name__}")
        self._proc = proc

    @property
    def dim(self):
        """Dimension D."""
        return self._proc.dim

    @property
    def process(self):
        """The process whose stationary law is the data."""
        return self._proc

    def _check(self, proc):
        _check_process(proc, self.dim)
        mine, theirs = self._proc, proc
        pairs = [("m = jump_rate / (2 theta)", mine.m, theirs.m),
                 ("diffusion / (2 theta)", mine.diffusion / (2 * mine.theta),
                  theirs.diffusion / (2 * theirs.theta)),
                 ("b = sqrt(jump_var / 2)", mine.b if mine.jump_rate > 0 else 0.0,
                  theirs.b if theirs.jump_rate > 0 else 0.0)]
        for name, a, b in pairs:
            if not _close(a, b):
                raise ValueError(f"proc has a different stationary law than the target: {name} is "
                                 f"{b!r} for proc but {a!r} for the target's process")
        return proc

    def sample(self, n, rng=None, *, start=0):
        """Exact draws from the stationary law (``proc.stationary().sample``).

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
        return self._proc.stationary().sample(n, rng=rng, start=start)

    def radial_cdf(self, r):
        """``P(|X_0| <= r)`` for radii ``r`` (any shape, ``>= 0``); same shape as ``r``."""
        return self._proc.stationary().radial_cdf(r)

    def marginal_radial_cdf(self, proc, t, r):
        """``P(|X_t| <= r)`` under ``proc``: the stationary radial CDF for every ``t > 0``."""
        self._check(proc)
        _clock_time(proc, t)
        return proc.stationary().radial_cdf(r)

    def marginal_score(self, proc):
        """The marginal generalized score: ``proc.stationary().score(x)`` at every t.

        Parameters
        ----------
        proc : JumpDiffusion
            Forward process with the same stationary law (see the class notes).

        Returns
        -------
        callable
            ``score(x, t)``: x of shape (..., D), scalar t > 0; returns shape of x.

        Raises
        ------
        ValueError
            If ``proc`` has another dimension or another stationary law.
        """
        law = self._check(proc).stationary()
        dim = self.dim

        def score(x, t):
            _clock_time(proc, t)
            return law.score(as_points(x, dim, "x"))

        return score

    def marginal_logpdf(self, proc):
        """Callable ``logpdf(x, t)`` of the marginal (the stationary log density), shape x.shape[:-1]."""
        law = self._check(proc).stationary()
        dim = self.dim

        def logpdf(x, t):
            _clock_time(proc, t)
            return law.logpdf(as_points(x, dim, "x"))

        return logpdf

    def __repr__(self):
        return f"StationaryTarget({self._proc!r})"


# ---------------------------------------------------------------------------------------------
# Bessel-potential target
# ---------------------------------------------------------------------------------------------


def _check_int(name, value, minimum):
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        value = int(value)
    if not isinstance(value, (int, np.integer)) or int(value) < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


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
    logq = -2.0 * theta * t
    log1mq = math.log(-math.expm1(logq)) if math.isfinite(logq) else 0.0
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
        self._j = _check_int("j", j, 1)
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
        _check_process(proc, self._dim)
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
                bessel_mixture_score(flat, lam, b, m, lw, -math.inf, out)
                if not np.isfinite(out).all():
                    row = int(np.argmin(np.isfinite(out).all(axis=1)))
                    raise ValueError(f"x is too far out: the closed-form score is not finite at "
                                     f"row {row} (|x| = "
                                     f"{float(_row_norms(flat[row:row + 1])[0]):.3g})")
            return out.reshape(x.shape)

        return score

    def marginal_logpdf(self, proc):
        """Callable ``logpdf(x, t)`` of the marginal Bessel mixture; shape ``x.shape[:-1]``.

        ``+inf`` at x = 0 when some g_k with positive weight is singular there (k <= D/2).
        """
        self._check(proc)
        dim, lam, b, m = self._dim, proc.jump_rate, proc.b, proc._m_int

        def logpdf(x, t):
            lw = self._table(proc, _clock_time(proc, t))
            x, flat = _flat_points(x, dim)
            r = _row_norms(flat)
            lp = np.empty_like(r)
            h = np.empty_like(r)
            if r.shape[0]:
                bessel_mixture_logpdf_h(r, dim, lam, b, m, lw, -math.inf, lp, h)
            return lp.reshape(x.shape[:-1])

        return logpdf

    def __repr__(self):
        return f"BesselTarget(j={self._j}, b={self._b!r}, dim={self._dim})"


# ---------------------------------------------------------------------------------------------
# Gaussian-mixture target
# ---------------------------------------------------------------------------------------------


@nb.njit(cache=True, parallel=True)
def _mixture_sample_kernel(k0, k1, cum, means, scales, start, out):
    """Row i: component from one uniform (inverse CDF), then ``mu + sqrt(v) xi``."""
    n = out.shape[0]
    ncomp = cum.shape[0]
    cu = stream_word(DOMAIN_TARGET_MIXTURE, 0)
    cg = stream_word(DOMAIN_TARGET_MIXTURE, 1)
    mask = np.uint64(0xFFFFFFFF)
    shift = np.uint64(32)
    ustart = np.uint64(start)
    for i in nb.prange(n):
        gi = ustart + np.uint64(i)
        c0 = gi & mask
        c1 = gi >> shift
        u, _ = uniform_pair(c0, c1, cu, np.uint64(0), k0, k1)
        k = 0
        while k < ncomp - 1 and u >= cum[k]:
            k += 1
        gaussian_row(c0, c1, cg, k0, k1, scales[k], 1.0, means[k], True, out[i])


def _as_real_array(name, value, ndim):
    arr = np.asarray(value)
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)) \
            or arr.dtype == np.bool_:
        raise ValueError(f"{name} must be a real array, got dtype {arr.dtype}")
    arr = np.array(arr, dtype=np.float64)
    if arr.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (found NaN or inf)")
    return arr


class GaussianMixture:
    r"""Gaussian-mixture data :math:`\sum_k \pi_k N(\mu_k, v_k I_D)` (MATH.md section 9).

    Parameters
    ----------
    weights : array_like, shape (K,)
        Mixture weights :math:`\pi_k > 0`, summing to 1 within 1e-9 (then renormalised).
    means : array_like, shape (K, D)
        Component means :math:`\mu_k` (state units); D = ``means.shape[1]``.
    variances : array_like, shape (K,)
        Per-coordinate variances :math:`v_k \ge 0` (state units squared). ``v_k = 0`` is a
        point mass at :math:`\mu_k`.

    Notes
    -----
    Under a process with OU rate :math:`\theta`, component k at (clock) time t is the law of
    :math:`\mu_k e^{-\theta t} + Y'` with :math:`Y' = e^{-\theta t}(X_0 - \mu_k) + Y_t`: the
    transition law of the process with an extra Gaussian variance :math:`v_k q`,
    :math:`q = e^{-2\theta t}`. Its log density :math:`\log p_k` and radial factor
    :math:`h_k` (component score :math:`-(x - \mu_k e^{-\theta t}) h_k`) come from the
    W-mixture quadrature of :mod:`levyscore._mixture` (closed form without jumps). Because V
    is linear in p (MATH.md section 3), the marginal generalized score is

    .. math::

        S(x) = \frac{\sum_k \pi_k p_k(x)\,\big(-(x - \mu_k e^{-\theta t}) h_k\big)}
                    {\sum_k \pi_k p_k(x)},

    evaluated with log-sum-exp over components. For a pure-jump process, ``logpdf`` and
    ``score`` describe the continuous part of the law, as
    :class:`levyscore.TransitionLaw` does; only a component with ``v_k = 0`` leaves an atom.
    Cost: one radial quadrature per point and component (K kernel calls), except without
    jumps (closed form).

    Sampling (:meth:`sample`) is counter-based (Philox4x32-10, domain
    :data:`DOMAIN_TARGET_MIXTURE`): row i reads the component uniform from stream 0 and its
    normals from stream 1 at sample index i, so it is reproducible bit for bit from ``rng``
    and independent of the thread count.
    """

    def __init__(self, weights, means, variances):
        means = _as_real_array("means", means, 2)
        ncomp, dim = means.shape
        if ncomp < 1 or dim < 1:
            raise ValueError(f"means must have shape (K, D) with K >= 1 and D >= 1, got {means.shape}")
        weights = _as_real_array("weights", weights, 1)
        if weights.shape != (ncomp,):
            raise ValueError(f"weights must have shape ({ncomp},) (one per row of means), "
                             f"got {weights.shape}")
        if np.any(weights <= 0):
            raise ValueError("weights must be positive")
        total = float(weights.sum())
        if abs(total - 1.0) > 1e-9:
            raise ValueError(f"weights must sum to 1, got sum {total!r}")
        variances = _as_real_array("variances", variances, 1)
        if variances.shape != (ncomp,):
            raise ValueError(f"variances must have shape ({ncomp},) (one per row of means), "
                             f"got {variances.shape}")
        if np.any(variances < 0):
            raise ValueError("variances must be non-negative")
        self._weights = weights / total
        self._means = means
        self._variances = variances
        for arr in (self._weights, self._means, self._variances):
            arr.setflags(write=False)
        cum = np.cumsum(self._weights)
        cum[-1] = 1.0  # a uniform in (0, 1) always finds a component
        self._cum = cum

    @property
    def dim(self):
        """Dimension D."""
        return self._means.shape[1]

    @property
    def n_components(self):
        """Number of components K."""
        return self._means.shape[0]

    @property
    def weights(self):
        """Weights, shape (K,) (read-only)."""
        return self._weights

    @property
    def means(self):
        """Means, shape (K, D) (read-only)."""
        return self._means

    @property
    def variances(self):
        """Per-coordinate variances, shape (K,) (read-only)."""
        return self._variances

    def sample(self, n, rng=None, *, start=0):
        """Exact draws from the mixture (counter-based; see the class notes).

        Parameters
        ----------
        n : int
            Number of draws, ``>= 0``.
        rng : None, int, numpy.random.SeedSequence or numpy.random.Generator
            Seed (see :func:`levyscore._seeding.philox_key`; a Generator is advanced).
        start : int, optional
            Global index of the first row: rows ``[a, b)`` drawn with ``start=a`` and the same
            int or SeedSequence seed equal rows ``a..b-1`` of the whole batch.

        Returns
        -------
        ndarray, shape (n, D)
        """
        n = check_count(n)
        start = check_start(start, n)
        k0, k1 = philox_key(rng)
        out = np.empty((n, self.dim))
        if n:
            _mixture_sample_kernel(np.uint64(k0), np.uint64(k1), self._cum, self._means,
                                   np.sqrt(self._variances), start, out)
        return out

    def _components(self, proc, flat, tc):
        """log(pi_k p_k) (K, n), h_k (K, n) and the moved centres (K, D) at clock time tc."""
        n = flat.shape[0]
        decay = math.exp(-proc.theta * tc)
        q = math.exp(-2.0 * proc.theta * tc)
        centres = self._means * decay
        tt = np.full(n, tc)
        logp = np.empty((self.n_components, n))
        h = np.empty((self.n_components, n))
        for k in range(self.n_components):
            with np.errstate(over="ignore"):
                d = flat - centres[k]
            if not np.isfinite(d).all():
                raise ValueError("x must lie within the double range of the centres: "
                                 "x - mu_k e^{-theta t} overflows (|x| and |mu_k| near 1e308)")
            r = _row_norms(d)
            mixture_logpdf_h(r, tt, self.dim, proc.theta, proc.diffusion, proc.jump_rate,
                             proc.b ** 2, float(self._variances[k] * q), logp[k], h[k])
            logp[k] += math.log(self._weights[k])
        return logp, h, centres

    def marginal_score(self, proc):
        """The marginal generalized score ``S = grad V / p_t`` (MATH.md sections 3, 9).

        Parameters
        ----------
        proc : JumpDiffusion
            Any forward process of dimension D.

        Returns
        -------
        callable
            ``score(x, t)``: x of shape (..., D), scalar process time t > 0; returns an array
            with the shape of x.
        """
        _check_process(proc, self.dim)
        dim = self.dim

        def score(x, t):
            tc = _clock_time(proc, t)
            x, flat = _flat_points(x, dim)
            out = np.zeros_like(flat)
            if flat.shape[0] == 0:
                return out.reshape(x.shape)
            logp, h, centres = self._components(proc, flat, tc)
            top = logp.max(axis=0)
            # top = +inf only at the centre of a component whose density is singular there
            # (pure jump, extra variance 0): that component's score, and the limit, is 0
            ok = np.isfinite(top)
            w = np.exp(logp[:, ok] - top[ok])  # (K, n_ok); the largest is 1
            part = np.zeros((ok.sum(), dim))
            for k in range(self.n_components):
                part -= (w[k] * h[k, ok])[:, None] * (flat[ok] - centres[k])
            out[ok] = part / w.sum(axis=0)[:, None]
            if np.isneginf(top).any():
                # every component density underflows (log p below the double range; no
                # component has zero density at a finite point): no score in double precision
                row = int(np.argmax(np.isneginf(top)))
                raise ValueError(f"x is too far out: every component density of the marginal "
                                 f"underflows at row {row} (|x| = "
                                 f"{float(_row_norms(flat[row:row + 1])[0]):.3g}), where the "
                                 "score is not computable in double precision")
            return out.reshape(x.shape)

        return score

    def marginal_logpdf(self, proc):
        """Callable ``logpdf(x, t)``: log density of the marginal, shape ``x.shape[:-1]``."""
        _check_process(proc, self.dim)
        dim = self.dim

        def logpdf(x, t):
            tc = _clock_time(proc, t)
            x, flat = _flat_points(x, dim)
            if flat.shape[0] == 0:
                return np.empty(x.shape[:-1])
            logp, _, _ = self._components(proc, flat, tc)
            top = logp.max(axis=0)
            ok = np.isfinite(top)
            out = top.copy()
            out[ok] += np.log(np.exp(logp[:, ok] - top[ok]).sum(axis=0))
            return out.reshape(x.shape[:-1])

        return logpdf

    def __repr__(self):
        return (f"GaussianMixture(weights={self._weights.tolist()!r}, means={self._means.tolist()!r}, "
                f"variances={self._variances.tolist()!r})")
