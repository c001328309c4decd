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
from ._time import time_constants
from ._wlaw import (KIND_W, KIND_W_PLUS_EXP, log_density_w, log_density_w_logw,
                    log_density_w_scaled)

__all__ = ["mixture_logpdf_h", "mixture_log_h", "mixture_radial_cdf", "FAR_FIELD_FROM"]

_LOG2PI = math.log(2.0 * math.pi)
_LOG2 = math.log(2.0)
_REGION = 60.0  # coarse region: log-integrand within 60 of the coarse maximum
_TAIL = 46.0  # fine grid stops 46 below the maximum: e^-46 ~ 1e-20 relative
_MAX_NODES = 200000
_X_FLOOR = -1600.0  # lowest log w: the kernel's peak w ~ r^2 for r down to 5e-324
#: gamma = r / (2b) from which the far-field rule is used (when the peak is separated from w = 0)
FAR_FIELD_FROM = 100.0
_FAR_MAX_NODES = 20000
_GOLDEN = 0.5 * (math.sqrt(5.0) - 1.0)
_GOLDEN_ITERATIONS = 90


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
def _half_z(r, v):
    """``r^2 / (2 v)`` without forming ``r^2`` (which overflows for r > 1.3e154)."""
    a = r / math.sqrt(2.0 * v)
    return a * a


@nb.njit(cache=True)
def _channels(x, mode, r, dim, m, q, logq, log1mq, s, b2, jumps):
    """Log-integrands in x = log w: mode 0 -> (p, p/v, (W+Z) p/v); mode 1 -> (cdf, -, -)."""
    w = math.exp(x)
    v = s + 2.0 * b2 * w
    if w > 1e-300 or (s > 0.0 and v > 2.0 * b2 * 1e-300):
        logv = math.log(v)
        z = _half_z(r, v)
    elif s == 0.0:
        # radii below ~1e-150 put the kernel's peak at w ~ r^2, below the float range: work
        # in logs (w and v are never formed)
        logv = math.log(2.0 * b2) + x
        z = math.exp(2.0 * math.log(r) - _LOG2 - logv) if r > 0.0 else 0.0
    else:
        logv = math.log(v)
        z = _half_z(r, v)
    if w > 1e-300:
        lf0 = log_density_w(w, KIND_W, m, q, logq, log1mq)
    else:
        lf0 = log_density_w_logw(x, KIND_W, m, q, logq, log1mq)
    if mode == 1:
        return lf0 + x + log_gammainc_lower(0.5 * dim, z), -math.inf, -math.inf
    logphi = -0.5 * dim * (_LOG2PI + logv) - z
    l0 = lf0 + x + logphi
    lj = -math.inf
    if jumps:
        if w > 1e-300:
            lfj = log_density_w(w, KIND_W_PLUS_EXP, m, q, logq, log1mq)
        else:
            lfj = log_density_w_logw(x, KIND_W_PLUS_EXP, m, q, logq, log1mq)
        lj = lfj + x + logphi - logv
    return l0, l0 - logv, lj


@nb.njit(cache=True)
def _channel_at(far, x, k, mode, r, dim, m, q, logq, log1mq, s, b2, jumps, gam, sig, lg2b2):
    """Channel k at x of the near-field rule (x = log w) or the far-field rule (x = y)."""
    if far:
        a0, a1, a2 = _far_channels(x, gam, sig, lg2b2, dim, m, q, logq, log1mq, jumps)
    else:
        a0, a1, a2 = _channels(x, mode, r, dim, m, q, logq, log1mq, s, b2, jumps)
    if k == 0:
        return a0
    if k == 1:
        return a1
    return a2


@nb.njit(cache=True)
def _golden(far, k, lo, hi, tol, mode, r, dim, m, q, logq, log1mq, s, b2, jumps, gam, sig,
            lg2b2):
    """Maximum (x, value) of channel k over [lo, hi] by golden-section search, to ``tol``.

    Used where each log-integrand is unimodal: above the coarse scan (w > 200 + 4m), where
    ``-w`` and the Gaussian kernel, concave in v, dominate the slowly varying rest, and
    around the far-field peak.
    """
    a = lo
    b = hi
    c = b - _GOLDEN * (b - a)
    d = a + _GOLDEN * (b - a)
    fc = _channel_at(far, c, k, mode, r, dim, m, q, logq, log1mq, s, b2, jumps, gam, sig, lg2b2)
    fd = _channel_at(far, d, k, mode, r, dim, m, q, logq, log1mq, s, b2, jumps, gam, sig, lg2b2)
    for _ in range(_GOLDEN_ITERATIONS + 60):
        if fc >= fd:
            b = d
            d = c
            fd = fc
            c = b - _GOLDEN * (b - a)
            fc = _channel_at(far, c, k, mode, r, dim, m, q, logq, log1mq, s, b2, jumps, gam,
                             sig, lg2b2)
        else:
            a = c
            c = d
            fc = fd
            d = a + _GOLDEN * (b - a)
            fd = _channel_at(far, d, k, mode, r, dim, m, q, logq, log1mq, s, b2, jumps, gam,
                             sig, lg2b2)
        if b - a <= tol + 1e-15 * abs(a):
            break
    if fc >= fd:
        return c, fc
    return d, fd


@nb.njit(cache=True)
def _curvature_bound(x, mode, r, dim, m, s, b2):
    """Bound on |d^2/dx^2| of the log-integrands at x (kernel, e^{-w} and 1F1 parts).

    Mode 0: the Gaussian kernel -(D/2 + 1) log v - z, z = r^2/(2v), has x-curvature at most
    z + |z - D/2 - 1|/4. Mode 1: log P(D/2, z) has log z-curvature at most about
    max(z, D/2) where P is not negligible, and P -> 1 for z >> D/2, so 2 (D/2 + 1) bounds it.
    """
    w = math.exp(x)
    v = s + 2.0 * b2 * w
    if mode == 1:
        a = 0.5 * dim
        if v > 1e-300 and _half_z(r, v) > a + 12.0 * math.sqrt(a) + 60.0:
            return w + m + 2.0  # P(D/2, z) = 1 to e^-60 there: log P is flat
        return dim + 2.0 + w + m + 1.0
    if v > 1e-300:
        z = _half_z(r, v)
    elif r > 0.0:
        z = math.exp(2.0 * math.log(r) - _LOG2 - math.log(2.0 * b2) - x)
    else:
        z = 0.0
    return z + 0.25 * abs(z - 0.5 * dim - 1.0) + w + m + 1.0


@nb.njit(cache=True)
def _low_mass(x_lo, m, q, logq, log1mq):
    """log P(0 < W < e^{x_lo}): the mass of W the quadrature grid starts above.

    At q = 0 (or q far below e^{x_lo}) it is the incomplete gamma P(m, w_lo) of the stationary
    Gamma(m) law; for q > 0 with w_lo << q the density is flat there, f_W(0+) w_lo. It only
    matters for small m (about m < 0.08), where Gamma(m) puts mass below 1e-300.
    """
    if q == 0.0 or logq < x_lo + 20.0:
        return log_gammainc_lower(m, math.exp(x_lo))
    return math.log(m) + log1mq + (m - 1.0) * logq + x_lo


@nb.njit(cache=True)
def _integrate(mode, r, dim, m, q, logq, log1mq, s, b2, jumps, out):
    """Log of the integrals over w of the channels of ``_channels``; results in ``out[0:3]``.

    Returns a status: 0 on success, 1 when the node budget ran out (``out`` is then NaN).
    """
    # range of x = log w that can matter
    # below w ~ q (or w ~ 1 for q = 0) f_W w decays like w (like w^m for q = 0); below the
    # kernel's peak the Gaussian factor decays super-exponentially (s = 0) or is flat (s > 0)
    x_f = logq - 55.0 if q > 0.0 else -min(700.0, 55.0 / min(m, 1.0)) - 5.0
    if s > 0.0:
        x_k = math.log(s / (2.0 * b2)) - 55.0
    elif r > 0.0:
        x_k = 2.0 * math.log(r) - math.log(2.0 * b2 * (dim + 2.0)) - 55.0
    else:
        x_k = -745.0
    x_lo = max(min(x_f, x_k, -55.0), _X_FLOOR)
    # the coarse scan stops at w_c = 200 + 4m: above it the only feature is the kernel's
    # peak (mode 0), found by golden-section search; the CDF integrand (mode 1) is below
    # e^-198 of its maximum there, since P(D/2, .) <= 1 decreases and f_W w ~ w^m e^-w
    x_c = math.log(200.0 + 4.0 * m)
    if mode == 1 or r == 0.0:
        x_hi = x_c
    else:
        la = math.log(100.0 + 4.0 * m)
        lb = math.log(2.0 * r) - 0.5 * math.log(b2)
        x_hi = max(la, lb) + math.log1p(math.exp(-abs(la - lb)))
    scan_hi = min(x_hi, x_c)
    # coarse steps resolve the narrowest feature: the kernel's peak (relative width
    # sqrt(2/D) in v) and, at large w, the e^{-w} factor (width ~ 1/sqrt(w) in x)
    h0 = min(0.5, 1.5 * math.sqrt(2.0 / (dim + 2.0)))
    nscan = 0
    x = x_lo
    while x <= scan_hi:
        nscan += 1
        x += min(h0, 1.5 / math.sqrt(1.0 + math.exp(x)))
    nscan += 1
    npeak = 3 if (mode == 0 and x_hi > x_c) else 0
    ncoarse = nscan + npeak
    xs = np.empty(ncoarse)
    lvals = np.full((ncoarse, 3), -math.inf)
    cmax = np.full(3, -math.inf)
    x = x_lo
    for i in range(nscan):
        xs[i] = x
        a0, a1, a2 = _channels(x, mode, r, dim, m, q, logq, log1mq, s, b2, jumps)
        lvals[i, 0] = a0
        lvals[i, 1] = a1
        lvals[i, 2] = a2
        x += min(h0, 1.5 / math.sqrt(1.0 + math.exp(x)))
    for k in range(npeak):
        # the kernel's peak of each channel above the scan (sorted below)
        if k == 2 and not jumps:
            xs[nscan + k] = xs[nscan + k - 1]
            continue
        xk, _ = _golden(False, k, x_c, x_hi, 1e-12, mode, r, dim, m, q, logq, log1mq, s, b2,
                        jumps, 0.0, 0.0, 0.0)
        xs[nscan + k] = xk
    if npeak:
        xs[nscan:].sort()
        for k in range(npeak):
            a0, a1, a2 = _channels(xs[nscan + k], mode, r, dim, m, q, logq, log1mq, s, b2,
                                   jumps)
            lvals[nscan + k, 0] = a0
            lvals[nscan + k, 1] = a1
            lvals[nscan + k, 2] = a2
    for i in range(ncoarse):
        for k in range(3):
            if lvals[i, k] > cmax[k]:
                cmax[k] = lvals[i, k]
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
                    kappa = max(kappa, _curvature_bound(xs[i], mode, r, dim, m, s, b2))
        if keep:
            first = min(first, i)
            last = max(last, i)
    if last < 0:
        out[0] = -math.inf
        out[1] = -math.inf
        out[2] = -math.inf
        return 0
    h = min(0.25, 0.6 / math.sqrt(kappa))
    xa = xs[anchor]
    sums = np.zeros(3)
    # walk down from the anchor, then up, until every channel is negligible and the coarse
    # region is covered; a peak found by the golden search covers only itself (the walk's
    # stopping rule covers its unimodal neighbourhood)
    if first >= nscan:
        lo_cover = xs[first]
    else:
        lo_cover = xs[first - 1] if first > 0 else xs[0] - h0
    if last >= nscan:
        hi_cover = xs[last]
    else:
        hi_cover = xs[last + 1] if last + 1 < ncoarse else xs[ncoarse - 1] + h0
    for direction in (-1, 1):
        i = 0 if direction == -1 else 1
        while True:
            if i >= _MAX_NODES:
                out[0] = math.nan
                out[1] = math.nan
                out[2] = math.nan
                return 1
            x = xa + direction * i * h
            a0, a1, a2 = _channels(x, mode, r, dim, m, q, logq, log1mq, s, b2, jumps)
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
    # the mass of W below the grid sits where the kernel is flat (v = s): add it there
    if s > 0.0 and x_k >= -745.0 and x_lo <= x_k:
        lmass = _low_mass(x_lo, m, q, logq, log1mq)
        if lmass > -math.inf:
            if mode == 1:
                out[0] = _logaddexp(out[0], lmass + log_gammainc_lower(0.5 * dim, _half_z(r, s)))
            else:
                lphi = -0.5 * dim * (_LOG2PI + math.log(s)) - _half_z(r, s)
                out[0] = _logaddexp(out[0], lmass + lphi)
                out[1] = _logaddexp(out[1], lmass + lphi - math.log(s))
    return 0


@nb.njit(cache=True)
def _far_channels(y, gam, sig, lg2b2, dim, m, q, logq, log1mq, jumps):
    """Far-field log-integrands in y, u = v / (2 b^2) = gamma e^y, w = u - sigma.

    ``-w - r^2/(2v) = sigma - 2 gamma cosh y`` is carried as ``-4 gamma sinh(y/2)^2`` (the
    constant ``sigma - 2 gamma`` goes into the caller's offset), so no large terms cancel.
    Channels as in :func:`_channels` (p, p/v, (W+Z) p/v), each up to that common offset.
    """
    u = gam * math.exp(y)
    w = u - sig
    if not w > 0.0:
        return -math.inf, -math.inf, -math.inf
    sh = math.sinh(0.5 * y)
    e = -4.0 * gam * sh * sh + (1.0 - 0.5 * dim) * y
    l0 = log_density_w_scaled(w, KIND_W, m, q, logq, log1mq) + e
    lv = lg2b2 + math.log(gam) + y  # log v
    lj = -math.inf
    if jumps:
        lj = log_density_w_scaled(w, KIND_W_PLUS_EXP, m, q, logq, log1mq) + e - lv
    return l0, l0 - lv, lj


@nb.njit(cache=True)
def _far_separated(gam, sig, dim, m):
    """True when the kernel's peak (u ~ gamma) is far above w = 0 (u = sigma).

    At u = sigma the kernel is e^{-gamma^2/sigma} against e^{sigma - 2 gamma} at the peak:
    a gap of (gamma - sigma)^2 / sigma, to beat the prefactors (D/2) log(gamma/sigma) and
    f_W's growth towards w = 0 (at most 745 |1 - m| in log).
    """
    if sig == 0.0:
        return True
    if not sig <= 0.5 * gam:
        return False
    gap = (gam - sig) * ((gam - sig) / sig)
    return gap > 200.0 + 0.5 * dim * (math.log(gam) - math.log(sig)) + 745.0 * abs(1.0 - m)


@nb.njit(cache=True)
def _integrate_far(r, dim, m, q, logq, log1mq, s, b2, jumps, out):
    """Mode-0 integrals for a radius far out in the tail, in y = log(u / gamma).

    With ``gamma = r/(2b)``, ``sigma = s/(2b^2)`` and ``u = v/(2b^2) = sigma + w``, the
    integrand ``f_W(w) phi_v(r) dw`` is ``e^{sigma - 2 gamma cosh y} g(w) (4 pi b^2 u)^{-D/2}
    u dy`` with ``g = f_W e^w`` (:func:`levyscore._wlaw.log_density_w_scaled`): a peak of
    width ``1/sqrt(2 gamma)`` at y ~ 0, whatever r is. The trapezoidal rule in y then costs
    about 40 nodes at every radius up to 1e308, where the same rule in log w would need
    ``sqrt(r)`` nodes and lose all accuracy to the rounding of ``-w ~ -r/b``.

    Writes ``out[0:3]`` relative to the returned offset
    ``sigma - 2 gamma + (1 - D/2) log gamma - (D/2) log(4 pi b^2)`` and returns
    ``(status, offset)``; status 2: not applicable (peak not separated from w = 0), the
    caller uses :func:`_integrate`; status 1: node budget exhausted.
    """
    b = math.sqrt(b2)
    gam = 0.5 * (r / b)
    sig = s / (2.0 * b2)
    if not (gam >= FAR_FIELD_FROM and _far_separated(gam, sig, dim, m)):
        return 2, 0.0
    lg2b2 = math.log(2.0 * b2)
    nch = 3 if jumps else 2
    # bracket of the peaks: d/dy (-2 gamma cosh y + (m - D/2) y) = 0 at y0 = asinh((m - D/2)
    # / (2 gamma)); g shifts it by at most its log-slope in y (below 42 m + 2) over the
    # curvature kappa0, and the bracket adds 20 widths on each side
    y0 = math.asinh((m - 0.5 * dim) / (2.0 * gam))
    kappa0 = 2.0 * gam * math.cosh(y0)
    span = 20.0 / math.sqrt(kappa0) + (42.0 * m + 2.0) / kappa0
    lo = y0 - span
    if sig > 0.0:
        lo = max(lo, math.log(sig / gam) + 1e-9)
    hi = y0 + span
    cmax = np.full(3, -math.inf)
    ypk = np.zeros(3)
    for k in range(nch):
        ypk[k], cmax[k] = _golden(True, k, lo, hi, 1e-3 / math.sqrt(kappa0), 0, r, dim, m, q,
                                  logq, log1mq, s, b2, jumps, gam, sig, lg2b2)
    ya = ypk[0]
    kappa = 2.0 * gam * math.cosh(abs(ya) + 0.5) + m + 2.0
    h = min(0.25, 0.6 / math.sqrt(kappa))
    sums = np.zeros(3)
    for direction in (-1, 1):
        i = 0 if direction == -1 else 1
        while True:
            if i >= _FAR_MAX_NODES:
                out[0] = math.nan
                out[1] = math.nan
                out[2] = math.nan
                return 1, 0.0
            y = ya + direction * i * h
            a0, a1, a2 = _far_channels(y, gam, sig, lg2b2, dim, m, q, logq, log1mq, jumps)
            vals = (a0, a1, a2)
            done = True
            for k in range(nch):
                if vals[k] > cmax[k]:  # the golden search may stop a hair below the maximum
                    sums[k] *= math.exp(cmax[k] - vals[k])
                    cmax[k] = vals[k]
                sums[k] += math.exp(vals[k] - cmax[k])
                if vals[k] > cmax[k] - _TAIL:
                    done = False
            if done:
                break
            i += 1
    for k in range(3):
        if k >= nch or cmax[k] == -math.inf or sums[k] == 0.0:
            out[k] = -math.inf
        else:
            out[k] = cmax[k] + math.log(sums[k] * h)
    offset = (sig - 2.0 * gam) + (1.0 - 0.5 * dim) * math.log(gam) \
        - 0.5 * dim * (math.log(4.0 * math.pi) + math.log(b2))
    return 0, offset


@nb.njit(cache=True)
def _point_logpdf_h(r, t, dim, theta, diffusion, lam, b2, extra, buf):
    """(log p, h) at radius r and time t of the law of Y_t + N(0, extra I).

    ``extra = 0`` is the transition law; ``extra = v q`` gives a Gaussian-mixture target's
    component of variance v moved to time t (MATH.md section 9): the Gaussian part of the
    mixture then has variance s + extra, while the sigma_G^2/2 prefactor of V is unchanged.

    Far out (``gamma = r/(2b) >= FAR_FIELD_FROM`` with the kernel's peak separated from
    w = 0) the integrals come from :func:`_integrate_far`, relative to a common offset that
    h never sees: h is accurate at every finite r, and log p is exact up to the rounding of
    that offset (``~ r/b``), i.e. to relative accuracy. Where ``r/(2b)`` overflows, log p is
    ``-inf`` (it is below -1.8e308) and h is its limit ``lambda/(2m) = theta``.
    Returns (NaN, NaN) if a quadrature exhausts its node budget (callers raise).
    """
    lp, lh = _point_logpdf_logh(r, t, dim, theta, diffusion, lam, b2, extra, buf)
    return lp, math.exp(lh)


@nb.njit(cache=True)
def _point_logpdf_logh(r, t, dim, theta, diffusion, lam, b2, extra, buf):
    """(log p, log h): :func:`_point_logpdf_h` with h in log form (h ~ 1/r^2 overflows for
    pure-jump laws below r ~ 1e-150, while the score's magnitude r h does not)."""
    m, q, logq, log1mq, s = time_constants(t, theta, diffusion, lam)
    s = s + extra
    if lam == 0.0:  # route d: Gaussian, S = (sigma_G^2 / 2) grad log p
        return (-0.5 * dim * (_LOG2PI + math.log(s)) - _half_z(r, s),
                math.log(0.5 * diffusion / s))
    if r == 0.0 and s == 0.0:
        # density of the continuous part at the origin: finite iff the integral of
        # f_W(w) w^{-D/2} converges at w = 0 (f_W(0+) finite for q > 0, ~ w^{m-1} for q = 0)
        finite = dim == 1 if q > 0.0 else m > 0.5 * dim
        if not finite:
            return math.inf, -math.inf
    if math.isinf(r / math.sqrt(b2)):
        return -math.inf, math.log(theta)
    status, offset = _integrate_far(r, dim, m, q, logq, log1mq, s, b2, True, buf)
    if status == 2:
        status = _integrate(0, r, dim, m, q, logq, log1mq, s, b2, True, buf)
        offset = 0.0
    if status != 0:
        return math.nan, math.nan
    log_i0 = buf[0]
    log_i1 = buf[1]
    log_j1 = buf[2]
    logp = log_i0  # relative to the offset
    lognum = -math.inf
    if s > 0.0:
        logphis = (-0.5 * dim * (_LOG2PI + math.log(s)) - _half_z(r, s)) - offset
        atom = m * logq  # log q^m
        logp = _logaddexp(logp, atom + logphis)
        if diffusion > 0.0:
            lognum = math.log(0.5 * diffusion) + _logaddexp(atom + logphis - math.log(s), log_i1)
    lognum = _logaddexp(lognum, math.log(lam * b2) + log_j1)
    if r == 0.0 and s == 0.0:
        return logp, -math.inf
    if logp == -math.inf:
        return -math.inf, math.log(theta)
    return offset + logp, lognum - logp


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
def mixture_log_h(r, t, dim, theta, diffusion, lam, b2, extra, logh_out):
    """``log h`` at radii ``r`` and times ``t`` (shape (n,)), for radii where h overflows."""
    n = r.shape[0]
    for i in nb.prange(n):
        buf = np.empty(3)
        _, lh = _point_logpdf_logh(r[i], t[i], dim, theta, diffusion, lam, b2, extra, buf)
        logh_out[i] = lh


@nb.njit(cache=True, parallel=True)
def mixture_radial_cdf(r, t, dim, theta, diffusion, lam, b2, out):
    """P(|Y_t| <= r) including the atom, at radii ``r`` and times ``t`` (shape (n,))."""
    n = r.shape[0]
    for i in nb.prange(n):
        buf = np.empty(3)
        m, q, logq, log1mq, s = time_constants(t[i], theta, diffusion, lam)
        ri = r[i]
        total = 0.0
        if lam > 0.0:
            atom = math.exp(m * logq) if q > 0.0 else 0.0
            if s > 0.0:
                total += atom * math.exp(log_gammainc_lower(0.5 * dim, _half_z(ri, s)))
            else:
                total += atom
            if ri > 0.0:
                if _integrate(1, ri, dim, m, q, logq, log1mq, s, b2, True, buf) != 0:
                    total = math.nan
                else:
                    total += math.exp(buf[0])
        else:
            total = math.exp(log_gammainc_lower(0.5 * dim, _half_z(ri, s)))
        out[i] = min(total, 1.0) if total == total else math.nan
