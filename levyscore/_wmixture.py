r"""Laws and generalized scores of every amplitude law as quadratures over a tabulated W-law.

The counterpart of :mod:`levyscore._mixture` for amplitude laws without closed-form W
densities (MATH.md §11). With the law of W at one time tabulated by
:class:`levyscore._wvolterra.WLawTable` as :math:`\psi(x) = w f_W(w)` and
:math:`\psi_R(x) = w f_{W+R}(w)` (``x = log w``, W and R in units of
:math:`\sigma_A^2`), :math:`v = s + \sigma_A^2 w` and :math:`\varphi_v(r)` the
:math:`N(0, vI)` density at radius r:

.. math::

    p(r) &= q^m \varphi_s(r)\,[s > 0] + \int \psi(x)\, \varphi_v(r)\, dx, \\
    -\nabla V / y &= \tfrac{\sigma_G^2}{2}\Big(q^m \frac{\varphi_s}{s}[s>0]
        + \int \psi \frac{\varphi_v}{v} dx\Big)
        + \frac{\lambda \sigma_A^2}{2} \int \psi_R \frac{\varphi_v}{v}\, dx, \\
    P(|Y| \le r) &= q^m\,\big([s = 0] + [s > 0] P(D/2, r^2/(2s))\big)
        + \int \psi(x)\, P\big(D/2, r^2/(2v)\big)\, dx,

and :math:`S(y) = -y\,h(r)` with :math:`h = (-\nabla V/y)/p` (MATH.md §11: the atom of W
is inside :math:`f_{W+R}`). Each integral is the trapezoidal rule in x on the whole line
(geometric convergence for integrands analytic in a strip): a coarse scan finds the maximum
of each log-integrand and the region within 60 of it, the step is ``0.6/sqrt(kappa)`` with
``kappa`` twice the largest curvature of the log-integrands measured there, and the rule
walks out from the maximum until every integrand is ``e^-46`` below it. Sums are in log
space; every radius from 0 to the float maximum is handled in logs (``r^2`` is never formed).
"""
import math

import numba as nb
import numpy as np

from ._gamma import log_gammainc_lower
from ._mixture import _logaddexp
from ._wvolterra import wlaw_log_psi

__all__ = ["wmix_logpdf_h", "wmix_log_h", "wmix_radial_cdf"]

_LOG2PI = math.log(2.0 * math.pi)
_LOG2 = math.log(2.0)
_REGION = 60.0
_TAIL = 46.0
_X_MIN = -1700.0  # log w below which nothing is scanned (w ~ r^2 for r ~ 1e-320)
_X_MAX = 1500.0  # log w above which nothing is scanned (w ~ r^2 for r ~ 1e308)
_MAX_NODES = 200000


@nb.njit(cache=True)
def _log_v(x, s, lsig2):
    """log(s + sigma_A^2 e^x) without underflow."""
    lw = lsig2 + x
    if s == 0.0:
        return lw
    ls = math.log(s)
    if lw > ls:
        return lw + math.log1p(math.exp(ls - lw))
    return ls + math.log1p(math.exp(lw - ls))


@nb.njit(cache=True)
def _channels(x, mode, logr, dim, s, lsig2, meta, lp, lr):
    """Log-integrands at x = log w: mode 0 -> (p, p/v, (W+R) p/v); mode 1 -> (cdf, -, -)."""
    lv = _log_v(x, s, lsig2)
    z = math.exp(2.0 * logr - _LOG2 - lv) if logr > -math.inf else 0.0
    l_psi = wlaw_log_psi(x, 0, meta, lp, lr)
    if mode == 1:
        return l_psi + log_gammainc_lower(0.5 * dim, z), -math.inf, -math.inf
    lphi = -0.5 * dim * (_LOG2PI + lv) - z
    l0 = l_psi + lphi
    l2 = wlaw_log_psi(x, 1, meta, lp, lr) + lphi - lv
    return l0, l0 - lv, l2


@nb.njit(cache=True)
def _integrate(mode, logr, dim, s, lsig2, meta, lp, lr, out):
    """Log of the integrals of the channels over x; ``out[0:3]``. Status 0, or 1 when the
    node budget ran out (``out`` is then NaN)."""
    x0 = meta[6]
    xl = x0 + (meta[8] - 1.0) * meta[7]
    # the kernel's peak in w (v = r^2/D for s = 0) and the table's span bracket the scan
    if logr > -math.inf:
        xk = 2.0 * logr - math.log(dim + 2.0) - lsig2
    else:
        xk = x0 - 20.0
    lo = max(min(x0, xk) - 20.0, _X_MIN)
    hi = min(max(xl, xk) + 20.0, _X_MAX)
    hc = min(0.25, 1.5 * math.sqrt(2.0 / (dim + 2.0)))
    nch = 1 if mode == 1 else 3
    cmax = np.full(3, -math.inf)
    xmax = np.zeros(3)
    # coarse scan; extend it while a maximum sits on its edge
    for _ in range(64):
        n = int((hi - lo) / hc) + 2
        for k in range(n):
            x = lo + k * hc
            a = _channels(x, mode, logr, dim, s, lsig2, meta, lp, lr)
            for c in range(nch):
                if a[c] > cmax[c]:
                    cmax[c] = a[c]
                    xmax[c] = x
        grew = False
        for c in range(nch):
            if cmax[c] > -math.inf and xmax[c] < lo + 2.0 * hc and lo > _X_MIN:
                lo = max(lo - 40.0, _X_MIN)
                grew = True
            if cmax[c] > -math.inf and xmax[c] > hi - 2.0 * hc and hi < _X_MAX:
                hi = min(hi + 40.0, _X_MAX)
                grew = True
        if not grew:
            break
    if cmax[0] == -math.inf:
        out[0] = -math.inf
        out[1] = -math.inf
        out[2] = -math.inf
        return 0
    # curvature of the log-integrands where they are within 30 of their maxima
    kappa = 1.0
    d = 1e-3
    n = int((hi - lo) / hc) + 2
    for k in range(n):
        x = lo + k * hc
        a = _channels(x, mode, logr, dim, s, lsig2, meta, lp, lr)
        near = False
        for c in range(nch):
            if a[c] > cmax[c] - 30.0:
                near = True
        if near:
            ap = _channels(x + d, mode, logr, dim, s, lsig2, meta, lp, lr)
            am = _channels(x - d, mode, logr, dim, s, lsig2, meta, lp, lr)
            for c in range(nch):
                if a[c] > cmax[c] - 30.0 and ap[c] > -math.inf and am[c] > -math.inf:
                    kappa = max(kappa, 2.0 * abs(ap[c] - 2.0 * a[c] + am[c]) / (d * d))
    h = min(0.25, 0.6 / math.sqrt(kappa))
    xa = xmax[0]
    sums = np.zeros(3)
    for direction in (-1, 1):
        i = 0 if direction == -1 else 1
        while True:
            if i >= _MAX_NODES:
                out[0] = math.nan
                out[1] = math.nan
                out[2] = math.nan
                return 1
            x = xa + direction * i * h
            a = _channels(x, mode, logr, dim, s, lsig2, meta, lp, lr)
            done = True
            for c in range(nch):
                if a[c] > cmax[c]:
                    sums[c] *= math.exp(cmax[c] - a[c])
                    cmax[c] = a[c]
                sums[c] += math.exp(a[c] - cmax[c])
                if a[c] > cmax[c] - _TAIL:
                    done = False
            beyond = x < min(xmax[0], xmax[1], xmax[2]) if direction == -1 else \
                x > max(xmax[0], xmax[1], xmax[2])
            if (done and beyond) or x < _X_MIN or x > _X_MAX:
                break
            i += 1
    for c in range(3):
        if c >= nch or sums[c] == 0.0:
            out[c] = -math.inf
        else:
            out[c] = cmax[c] + math.log(sums[c] * h)
    return 0


@nb.njit(cache=True)
def assemble(buf, logr, dim, s, jump_var, lam, diffusion, q, logqm, underflow_logh):
    """(log p, log h) from the integrals ``buf`` = (p, p/v, (W+R) p/v) over the continuous
    part of W: adds the atom ``q^m phi_s`` (s > 0) to p and, with diffusion, the
    ``sigma_G^2/2`` share to the numerator of h (MATH.md §11). At r = s = 0 the atom rule
    gives h = 0; where p underflows log h is ``underflow_logh``."""
    logp = buf[0]
    lognum = math.log(0.5 * lam * jump_var) + buf[2]
    lg = buf[1]
    if s > 0.0 and q > 0.0:
        z = math.exp(2.0 * logr - _LOG2 - math.log(s)) if logr > -math.inf else 0.0
        lphis = -0.5 * dim * (_LOG2PI + math.log(s)) - z
        logp = _logaddexp(logp, logqm + lphis)
        lg = _logaddexp(lg, logqm + lphis - math.log(s))
    if diffusion > 0.0:
        lognum = _logaddexp(lognum, math.log(0.5 * diffusion) + lg)
    if logr == -math.inf and s == 0.0:
        return logp, -math.inf  # the atom rule (MATH.md section 5): S(0) = 0 for pure jumps
    if logp == -math.inf:
        return -math.inf, underflow_logh
    return logp, lognum - logp


@nb.njit(cache=True)
def _point_logpdf_logh(r, dim, s, jump_var, lam, diffusion, meta, lp, lr, buf):
    """(log p, log h) at radius r of the law tabulated by ``meta, lp, lr``."""
    m = meta[2]
    q = meta[3]
    if r == 0.0 and s == 0.0 and q == 0.0 and not m > 0.5 * dim:
        return math.inf, -math.inf  # stationary pure jump: p(0) = E (2 pi W)^(-D/2) = inf
    logr = math.log(r) if r > 0.0 else -math.inf
    if _integrate(0, logr, dim, s, math.log(jump_var), meta, lp, lr, buf) != 0:
        return math.nan, math.nan
    return assemble(buf, logr, dim, s, jump_var, lam, diffusion, q, m * meta[4], -math.inf)


@nb.njit(cache=True, parallel=True)
def wmix_logpdf_h(r, dim, s, jump_var, lam, diffusion, meta, lp, lr, logp_out, h_out):
    """``log p`` and h (``S(y) = -y h(|y|)``) at radii ``r`` (n,) under one W-table."""
    for i in nb.prange(r.shape[0]):
        buf = np.empty(3)
        a, b = _point_logpdf_logh(r[i], dim, s, jump_var, lam, diffusion, meta, lp, lr, buf)
        logp_out[i] = a
        h_out[i] = math.exp(b)


@nb.njit(cache=True, parallel=True)
def wmix_log_h(r, dim, s, jump_var, lam, diffusion, meta, lp, lr, logh_out):
    """``log h`` at radii ``r`` (n,), for radii where h overflows."""
    for i in nb.prange(r.shape[0]):
        buf = np.empty(3)
        _, b = _point_logpdf_logh(r[i], dim, s, jump_var, lam, diffusion, meta, lp, lr, buf)
        logh_out[i] = b


@nb.njit(cache=True)
def atom_cdf(atom, s, r, dim):
    """The atom's share of ``P(|Y| <= r)``: all of it (s = 0) or its Gaussian
    ``P(D/2, r^2/(2s))``."""
    if s > 0.0:
        return atom * math.exp(log_gammainc_lower(0.5 * dim, (r / math.sqrt(2.0 * s)) ** 2))
    return atom


@nb.njit(cache=True, parallel=True)
def wmix_radial_cdf(r, dim, s, jump_var, meta, lp, lr, out):
    """``P(|Y| <= r)`` including the atom, at radii ``r`` (n,) under one W-table."""
    m = meta[2]
    q = meta[3]
    atom = math.exp(m * meta[4]) if q > 0.0 else 0.0
    for i in nb.prange(r.shape[0]):
        buf = np.empty(3)
        ri = r[i]
        total = atom_cdf(atom, s, ri, dim)
        if ri > 0.0:
            if _integrate(1, math.log(ri), dim, s, math.log(jump_var), meta, lp, lr, buf) != 0:
                total = math.nan
            else:
                total += math.exp(buf[0])
        out[i] = min(total, 1.0) if total == total else math.nan
