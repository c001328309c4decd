r"""Gaussian-mixture target :math:`\sum_k \pi_k N(\mu_k, v_k I)` (MATH.md section 9).

Each component at time t is the transition law of the process with the extra Gaussian
variance :math:`v_k q`, computed by the W-mixture quadrature of :mod:`levyscore._mixture`;
draws come from the counter-based Numba kernel :func:`_mixture_sample_kernel` (Philox domain
:data:`DOMAIN_TARGET_MIXTURE`).
"""
import math

import numba as nb
import numpy as np

from .._forward import gaussian_row
from .._laws import renewal_logpdf_h
from .._mixture import mixture_logpdf_h
from .._philox import stream_word, uniform_pair
from .._seeding import philox_key
from .._time import time_constants
from .._validation import (as_real_array, check_count, check_process, check_start,
                           finite_row_norms)
from .._dask import chunked_sample, rowwise
from ._common import _clock_time, _flat_points

__all__ = ["GaussianMixture", "DOMAIN_TARGET_MIXTURE"]

#: Philox domain of :meth:`GaussianMixture.sample` (stream 0: the component uniform,
#: stream 1: the normals). Not used by any other sampler (see :mod:`levyscore._philox`).
DOMAIN_TARGET_MIXTURE = 0x20


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
    W-mixture quadrature of :mod:`levyscore._mixture` (closed form without jumps), or for
    Student-t and Gaussian amplitudes (route ``"renewal"``) from the renewal route's
    quadrature over the law of W at time t, with ``s + v_k q`` as its Gaussian variance
    (MATH.md section 11; one W-law table per distinct time, 0.1-2 s). Because V
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
        means = as_real_array("means", means, 2)
        ncomp, dim = means.shape
        if ncomp < 1 or dim < 1:
            raise ValueError(f"means must have shape (K, D) with K >= 1 and D >= 1, got {means.shape}")
        weights = as_real_array("weights", weights, 1)
        if weights.shape != (ncomp,):
            raise ValueError(f"weights must have shape ({ncomp},) (one per row of means), "
                             f"got {weights.shape}")
        if np.any(weights <= 0):
            raise ValueError("weights must be positive")
        total = float(weights.sum())
        if abs(total - 1.0) > 1e-9:
            raise ValueError(f"weights must sum to 1, got sum {total!r}")
        variances = as_real_array("variances", variances, 1)
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

    @chunked_sample
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
        _, q, _, _, _ = time_constants(tc, proc.theta, 0.0, 0.0)
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
            r = finite_row_norms(d)
            extra = float(self._variances[k] * q)
            if proc.route == "renewal":  # one W-law table for all components (same time)
                logp[k], h[k] = renewal_logpdf_h(proc, r, tt[:1], extra=extra)
                bad = np.flatnonzero(np.isnan(logp[k]))
                if bad.size:
                    raise ValueError(
                        f"x - mu_k e^(-theta t) with |.| = {float(r[bad[0]]):.6g} lies beyond "
                        f"the radii where the law of W of {proc.amplitude!r} jumps is "
                        "tabulated: outside the certified domain (docs/api.md, 'Domain')")
            else:
                mixture_logpdf_h(r, tt, self.dim, proc.theta, proc.diffusion, proc.jump_rate,
                                 proc.b ** 2, extra, logp[k], h[k])
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
        check_process(proc, self.dim)
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
                                 f"{float(finite_row_norms(flat[row:row + 1])[0]):.3g}), where the "
                                 "score is not computable in double precision")
            return out.reshape(x.shape)

        return rowwise(score)

    def marginal_logpdf(self, proc):
        """Callable ``logpdf(x, t)``: log density of the marginal, shape ``x.shape[:-1]``."""
        check_process(proc, self.dim)
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
