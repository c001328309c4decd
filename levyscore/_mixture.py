r"""Laws and generalized scores as one-dimensional mixtures over W (MATH.md sections 1-4).

Given W, :math:`Y_t \sim N(0, v I)` with :math:`v = s + 2b^2 W`. With
:math:`\varphi_v(r) = (2\pi v)^{-D/2} e^{-r^2/(2v)}` and the densities of
:mod:`levyscore._wlaw`,

.. math::

    p(r) &= q^m \varphi_s(r)\,[s > 0] + \int_0^\infty f_W(w)\, \varphi_v(r)\, dw, \\
    -\nabla V / y &= \tfrac{\sigma_G^2}{2}\Big(q^m \frac{\varphi_s}{s}[s>0]
        + \int f_W \frac{\varphi_v}{v} dw\Big)
        + \lambda b^2 \int f_{W+Z} \frac{\varphi_v}{v}\, dw, \\
    P(|Y| \le r) &= q^m\,\big([s = 0] + [s > 0] P(D/2, r^2/(2s))\big)
        + \int f_W(w)\, P\big(D/2, r^2/(2v)\big)\, dw,

and the generalized score is :math:`S(y) = -y\, h(r)` with :math:`h = (-\nabla V/y)/p`.
These hold for every real m and every :math:`\sigma_G \ge 0` (routes b and c of the
foundation issue; for integer m the W-densities are the finite Gamma mixtures of section 4).

Quadrature: each integral is written in :math:`x = \log w`, where the integrands are smooth,
decay at both ends and are analytic in a strip, and is evaluated by the trapezoidal rule,
which converges geometrically for such integrands. A coarse scan (step at most
``min(1.5 sqrt(2/(D+2)), 1.5/sqrt(1 + w))``, which resolves the narrowest features: the
Gaussian kernel's peak of relative width :math:`\sqrt{2/D}` in v, and the peak of width
:math:`\sim 1/\sqrt{w}` that :math:`e^{-w}` forms at large radii) locates the region where the
log-integrand lies within 60 of its maximum. The fine step is ``0.6 / sqrt(kappa)`` (at most 0.25), where ``kappa``
bounds the curvature of the log-integrand over that region, so that the trapezoidal error
``~ exp(-2 pi^2 / (h^2 kappa))`` is below 1e-20; the fine grid then extends outwards until
every integrand is 46 below its maximum (e^-46 ~ 1e-20). Everything is summed in log space.
The accuracy against mpmath is measured in ``tests/test_laws_reference.py``.
"""
import math

import numba as nb
import numpy as np

from ._gamma import log_gammainc_lower
from ._wlaw import KIND_W, KIND_W_PLUS_EXP, log_density_w

__all__ = ["mixture_logpdf_h", "mixture_radial_cdf"]

_LOG2PI = math.log(2.0 * math.pi)
_REGION = 60.0  # coarse region: log-integrand within 60 of the coarse maximum
_TAIL = 46.0  # fine grid stops 46 below the maximum: e^-46 ~ 1e-20 relative
_MAX_NODES = 200000


@nb.njit(cache=True)
def _logaddexp(a, b):
    if a == -math.inf:
        return b
    if b == -math.inf:
        return a
    if a > b:
        return a + math.log1p(math.exp(b - a))
    return b + math.log1p(math.exp(a - b))


@nb.njit(cache=True)
def _channels(x, mode, r2, dim, m, q, logq, log1mq, s, b2, jumps):
    """Log-integrands in x = log w: mode 0 -> (p, p/v, (W+Z) p/v); mode 1 -> (cdf, -, -)."""
    w = math.exp(x)
    v = s + 2.0 * b2 * w
    logv = math.log(v)
    lf0 = log_density_w(w, KIND_W, m, q, logq, log1mq)
    if mode == 1:
        return lf0 + x + log_gammainc_lower(0.5 * dim, r2 / (2.0 * v)), -math.inf, -math.inf
    logphi = -0.5 * dim * (_LOG2PI + logv) - r2 / (2.0 * v)
    l0 = lf0 + x + logphi
    lj = -math.inf
    if jumps:
        lj = log_density_w(w, KIND_W_PLUS_EXP, m, q, logq, log1mq) + x + logphi - logv
    return l0, l0 - logv, lj


@nb.njit(cache=True)
def _curvature_bound(x, mode, r2, dim, m, s, b2):
    """Bound on |d^2/dx^2| of the log-integrands at x (kernel, e^{-w} and 1F1 parts).

    Mode 0: the Gaussian kernel -(D/2 + 1) log v - z, z = r^2/(2v), has x-curvature at most
    z + |z - D/2 - 1|/4. Mode 1: log P(D/2, z) has log z-curvature at most about
    max(z, D/2) where P is not negligible, and P -> 1 for z >> D/2, so 2 (D/2 + 1) bounds it.
    """
    w = math.exp(x)
    if mode == 1:
        return dim + 2.0 + w + m + 1.0
    v = s + 2.0 * b2 * w
    z = r2 / (2.0 * v)
    return z + 0.25 * abs(z - 0.5 * dim - 1.0) + w + m + 1.0


@nb.njit(cache=True)
def _integrate(mode, r2, dim, m, q, logq, log1mq, s, b2, jumps, out):
    """Log of the integrals over w of the channels of ``_channels``; results in ``out[0:3]``."""
    # range of x = log w that can matter
    # below w ~ q (or w ~ 1 for q = 0) f_W w decays like w (like w^m for q = 0); below the
    # kernel's peak the Gaussian factor decays super-exponentially (s = 0) or is flat (s > 0)
    x_f = logq - 55.0 if q > 0.0 else -min(700.0, 55.0 / min(m, 1.0)) - 5.0
    if s > 0.0:
        x_k = math.log(s / (2.0 * b2)) - 55.0
    else:
        x_k = math.log(max(r2 / (2.0 * b2 * (dim + 2.0)), 1e-300)) - 55.0
    x_lo = max(min(x_f, x_k, -55.0), -745.0)
    x_hi = math.log(100.0 + 4.0 * m + 2.0 * math.sqrt(r2 / b2))
    # coarse steps resolve the narrowest feature: the kernel's peak (relative width
    # sqrt(2/D) in v) and, at large w, the e^{-w} factor (width ~ 1/sqrt(w) in x)
    h0 = min(0.5, 1.5 * math.sqrt(2.0 / (dim + 2.0)))
    ncoarse = 0
    x = x_lo
    while x <= x_hi:
        ncoarse += 1
        x += min(h0, 1.5 / math.sqrt(1.0 + math.exp(x)))
    ncoarse += 1
    xs = np.empty(ncoarse)
    lvals = np.empty((ncoarse, 3))
    cmax = np.full(3, -math.inf)
    x = x_lo
    for i in range(ncoarse):
        xs[i] = x
        a0, a1, a2 = _channels(x, mode, r2, dim, m, q, logq, log1mq, s, b2, jumps)
        lvals[i, 0] = a0
        lvals[i, 1] = a1
        lvals[i, 2] = a2
        if a0 > cmax[0]:
            cmax[0] = a0
        if a1 > cmax[1]:
            cmax[1] = a1
        if a2 > cmax[2]:
            cmax[2] = a2
        x += min(h0, 1.5 / math.sqrt(1.0 + math.exp(x)))
    first = ncoarse
    last = -1
    anchor = 0
    best = -math.inf
    kappa = 1.0
    for i in range(ncoarse):
        keep = False
        for k in range(3):
            if cmax[k] > -math.inf and lvals[i, k] > cmax[k] - _REGION:
                keep = True
                if lvals[i, k] - cmax[k] > best:
                    best = lvals[i, k] - cmax[k]
                    anchor = i
                if lvals[i, k] > cmax[k] - 30.0:
                    kappa = max(kappa, _curvature_bound(xs[i], mode, r2, dim, m, s, b2))
        if keep:
            first = min(first, i)
            last = max(last, i)
    if last < 0:
        out[0] = -math.inf
        out[1] = -math.inf
        out[2] = -math.inf
        return
    h = min(0.25, 0.6 / math.sqrt(kappa))
    xa = xs[anchor]
    sums = np.zeros(3)
    # walk down from the anchor, then up, until every channel is negligible and the coarse
    # region is covered
    lo_cover = xs[first - 1] if first > 0 else xs[0] - h0
    hi_cover = xs[last + 1] if last + 1 < ncoarse else xs[ncoarse - 1] + h0
    for direction in (-1, 1):
        i = 0 if direction == -1 else 1
        while i < _MAX_NODES:
            x = xa + direction * i * h
            a0, a1, a2 = _channels(x, mode, r2, dim, m, q, logq, log1mq, s, b2, jumps)
            done = True
            vals = (a0, a1, a2)
            for k in range(3):
                if cmax[k] > -math.inf:
                    sums[k] += math.exp(vals[k] - cmax[k])
                    if vals[k] > cmax[k] - _TAIL:
                        done = False
            inside = (x > lo_cover) if direction == -1 else (x < hi_cover)
            if done and not inside:
                break
            i += 1
    for k in range(3):
        if cmax[k] == -math.inf or sums[k] == 0.0:
            out[k] = -math.inf
        else:
            out[k] = cmax[k] + math.log(sums[k] * h)


@nb.njit(cache=True)
def _time_constants(t, theta, diffusion, lam):
    """(m, q, log q, log(1-q), s) at time t (t = inf: stationary)."""
    m = lam / (2.0 * theta)
    if math.isinf(t):
        return m, 0.0, -math.inf, 0.0, diffusion / (2.0 * theta)
    logq = -2.0 * theta * t
    q = math.exp(logq)
    om = -math.expm1(logq)
    return m, q, logq, math.log(om), diffusion * om / (2.0 * theta)


@nb.njit(cache=True)
def _point_logpdf_h(r, t, dim, theta, diffusion, lam, b2, extra, buf):
    """(log p, h) at radius r and time t of the law of Y_t + N(0, extra I).

    ``extra = 0`` is the transition law; ``extra = v q`` gives a Gaussian-mixture target's
    component of variance v moved to time t (MATH.md section 9): the Gaussian part of the
    mixture then has variance s + extra, while the sigma_G^2/2 prefactor of V is unchanged.
    """
    m, q, logq, log1mq, s = _time_constants(t, theta, diffusion, lam)
    s = s + extra
    r2 = r * r
    if lam == 0.0:  # route d: Gaussian, S = (sigma_G^2 / 2) grad log p
        return -0.5 * dim * (_LOG2PI + math.log(s)) - r2 / (2.0 * s), 0.5 * diffusion / s
    if r == 0.0 and s == 0.0:
        # density of the continuous part at the origin: finite iff the integral of
        # f_W(w) w^{-D/2} converges at w = 0 (f_W(0+) finite for q > 0, ~ w^{m-1} for q = 0)
        finite = dim == 1 if q > 0.0 else m > 0.5 * dim
        if not finite:
            return math.inf, 0.0
    _integrate(0, r2, dim, m, q, logq, log1mq, s, b2, lam > 0.0, buf)
    log_i0 = buf[0]
    log_i1 = buf[1]
    log_j1 = buf[2]
    logp = log_i0
    lognum = -math.inf
    if s > 0.0:
        logphis = -0.5 * dim * (_LOG2PI + math.log(s)) - r2 / (2.0 * s)
        atom = m * logq  # log q^m
        logp = _logaddexp(logp, atom + logphis)
        if diffusion > 0.0:
            lognum = math.log(0.5 * diffusion) + _logaddexp(atom + logphis - math.log(s), log_i1)
    if lam > 0.0:
        lognum = _logaddexp(lognum, math.log(lam * b2) + log_j1)
    if r == 0.0 and s == 0.0:
        return logp, 0.0
    return logp, math.exp(lognum - logp)


@nb.njit(cache=True, parallel=True)
def mixture_logpdf_h(r, t, dim, theta, diffusion, lam, b2, extra, logp_out, h_out):
    """Fill ``logp_out`` and ``h_out`` (shape (n,)) at radii ``r`` and times ``t`` (shape (n,)).

    ``t = inf`` means the stationary law. ``h`` is defined by ``S(y) = -y h(|y|)``.
    ``extra >= 0`` adds N(0, extra I) to the law (see :func:`_point_logpdf_h`).
    """
    n = r.shape[0]
    for i in nb.prange(n):
        buf = np.empty(3)
        lp, hh = _point_logpdf_h(r[i], t[i], dim, theta, diffusion, lam, b2, extra, buf)
        logp_out[i] = lp
        h_out[i] = hh


@nb.njit(cache=True, parallel=True)
def mixture_radial_cdf(r, t, dim, theta, diffusion, lam, b2, out):
    """P(|Y_t| <= r) including the atom, at radii ``r`` and times ``t`` (shape (n,))."""
    n = r.shape[0]
    for i in nb.prange(n):
        buf = np.empty(3)
        m, q, logq, log1mq, s = _time_constants(t[i], theta, diffusion, lam)
        r2 = r[i] * r[i]
        total = 0.0
        if lam > 0.0:
            atom = math.exp(m * logq) if q > 0.0 else 0.0
            if s > 0.0:
                total += atom * math.exp(log_gammainc_lower(0.5 * dim, r2 / (2.0 * s)))
            else:
                total += atom
            if r2 > 0.0:
                _integrate(1, r2, dim, m, q, logq, log1mq, s, b2, True, buf)
                total += math.exp(buf[0])
        else:
            total = math.exp(log_gammainc_lower(0.5 * dim, r2 / (2.0 * s)))
        out[i] = min(total, 1.0)
