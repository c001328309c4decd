r"""The law of W for every amplitude law: its renewal equation, marched on a grid (MATH.md §11).

In units of :math:`\sigma_A^2` (the mark :math:`\tilde M = M/\sigma_A^2` has mean 1, survival
function :math:`\bar G(y) = P(\tilde M > y)`), the jump part of the variance is
:math:`W = \sum_{i \le N} \tilde M_i e^{-2\theta(t - \tau_i)}`. Differentiating
:math:`\log E e^{-uW} = -m \int_{uq}^{u} (1 - L_{\tilde M}(x))/x\,dx` gives
:math:`-\tfrac{d}{du} E e^{-uW} = m\,E e^{-uW}\,(L_{\tilde M}(uq) - L_{\tilde M}(u))`, which
is, back in w, the renewal (Volterra) equation of the continuous part :math:`f` of W

.. math::

    w f(w) = m \Big[ q^m G(w) + \int_0^w f(u)\, G(w - u)\, du \Big],
    \qquad G(y) = \bar G(y) - \bar G(y/q) = P(q\tilde M \le y < \tilde M),

(:math:`q = e^{-2\theta t}`, :math:`m = \lambda/(2\theta)`, atom :math:`q^m` at 0). The
variable :math:`R = U \tilde M^*` of the generalized score (MATH.md §11) has density
:math:`\bar G`, so

.. math::

    f_{W+R}(w) = q^m \bar G(w) + \int_0^w f(u)\, \bar G(w - u)\, du ,

and at :math:`q = 0` (the stationary law) :math:`G = \bar G` and
:math:`f_{W+R}(w) = w f(w)/m`. Near 0 the stationary law is the power law
:math:`f(w) = m C w^{m-1}` wherever :math:`\bar G` is 1 to double precision (below
``w_flat``), with :math:`C = e^{-m(\gamma + E\log\tilde M)}/\Gamma(m+1)` (from
:math:`\int_0^u (1 - L(x))/x\,dx = \gamma + \log u + E\log\tilde M + o(1)`).

The march: the tabulated functions are :math:`\psi(x) = w f(w)` and
:math:`\psi_R(x) = w f_{W+R}(w)` (densities in ``x = log w``) on a uniform grid in x. At node
i the integral is split at :math:`x_i - P h`: below, the trapezoidal rule on the grid with
Gregory end corrections of order ``_K`` (the integrand is smooth in x there); above, the
variable :math:`y = w_i - u` with Gauss-Legendre panels in log y, which resolve G's features
at :math:`y \sim q` and :math:`y \sim 1`, and :math:`\log\psi` interpolated from the last
``_S + 1`` nodes (barycentric Lagrange), the unknown node included: one scalar equation in
:math:`\log\psi_i`, solved by Newton's method. Beyond the grid: below, the first-jump limit
:math:`\psi = m q^m G(w)` (q > 0, exact up to the mass of two jumps below
:math:`e^{x_0}`, below :math:`e^{-70}` of the law) or the stationary power law; above, the
power-law tail of heavy-tailed marks (Student-t: :math:`f \sim w^{-\nu/2-1}`) or nothing
(light tails: the grid runs until :math:`\psi` is :math:`e^{-80}` below its maximum).

Laplace marks go through the same march in the tests, against the Kummer closed forms of
:mod:`levyscore._wlaw` (the measured agreement is in ``tests/test_wvolterra.py``).
"""
import math

import numba as nb
import numpy as np
from scipy import special

from ._gamma import log_gammainc_lower, log_gammainc_upper
from .amplitudes._dispatch import LAW_GAUSSIAN, LAW_LAPLACE

__all__ = ["WLawTable", "log_mark_tail", "log_mark_window", "wlaw_log_psi"]

_K = 8  # Gregory end-correction nodes per end (order 8)
_SPLIT = 0.5  # the upper part of the integral covers at least x in [x_i - 0.5, x_i]
_S = 9  # interpolation stencil: _S + 1 nodes (degree 9)
_GL_X, _GL_W = np.polynomial.legendre.leggauss(10)
_Y_REL = 1e-17  # the upper part starts at y = 1e-17 w_i (the rest is added analytically)
_LOW = 75.0  # the grid starts where the first-jump density is e^-75 below its value at w = q
_LIGHT_STOP = 80.0  # light tails: the grid stops e^-80 below the maximum of psi
_MAX_NODES = 60000
_LOG2 = math.log(2.0)


def _gregory_weights(k):
    """End weights ``a_0..a_{k-1}`` of Gregory's corrected trapezoidal rule with ``k - 1``
    forward differences (interior weights 1; the same weights mirrored at the other end):
    ``int = h [sum_j a_j f_j + f_k + ... ] - ...``, error ``O(h^k)``.

    Gregory: ``int_0^n f = T + h sum_{i>=1} (-1)^(i+1) c_i (Delta^i f_0 + (-1)^i nabla^i f_n)``
    with ``c = 1/12, 1/24, 19/720, 3/160, 863/60480, 275/24192, 33953/3628800``.
    """
    from fractions import Fraction
    from math import comb
    c = [Fraction(1, 12), Fraction(1, 24), Fraction(19, 720), Fraction(3, 160),
         Fraction(863, 60480), Fraction(275, 24192), Fraction(33953, 3628800)]
    w = [Fraction(1)] * k
    w[0] = Fraction(1, 2)
    for i in range(1, k):
        for j in range(i + 1):
            # Delta^i f_0 = sum_j (-1)^(i-j) C(i, j) f_j
            w[j] += (-1) ** (i + 1) * c[i - 1] * (-1) ** (i - j) * comb(i, j)
    return np.array([float(x) for x in w])


_GREGORY = _gregory_weights(_K)


# -- the marks -----------------------------------------------------------------------------------
@nb.njit(cache=True)
def log_mark_tail(law, nu, y):
    """``log P(M~ > y)`` for the unit-mean mark of ``law`` (``y >= 0``)."""
    if y <= 0.0:
        return 0.0
    if law == LAW_LAPLACE:
        return -y
    if law == LAW_GAUSSIAN:
        return 0.0 if y < 1.0 else -math.inf
    a = 0.5 * nu  # Student-t: M~ = (a - 1) / Gamma(a), P(M~ > y) = P(a, (a - 1)/y)
    return log_gammainc_lower(a, (a - 1.0) / y)


@nb.njit(cache=True)
def _log_gamma_window(a, lo, hi):
    """``log(P(a, hi) - P(a, lo))`` for ``0 <= lo < hi`` without cancellation."""
    if hi - lo <= 1.0 and lo >= 0.6 * hi:
        # short interval away from 0: 10-point Gauss-Legendre in t of t^(a-1) e^-t / Gamma(a)
        half = 0.5 * (hi - lo)
        mid = 0.5 * (hi + lo)
        ref = (a - 1.0) * math.log(hi) - lo - math.lgamma(a)
        total = 0.0
        for j in range(10):
            tj = mid + half * _GL_X[j]
            total += _GL_W[j] * math.exp((a - 1.0) * math.log(tj) - tj - math.lgamma(a) - ref)
        return ref + math.log(total * half)
    if hi <= a + 1.0:
        lph = log_gammainc_lower(a, hi)
        lpl = log_gammainc_lower(a, lo)
        return lph + math.log(-math.expm1(lpl - lph))
    lql = log_gammainc_upper(a, lo)
    lqh = log_gammainc_upper(a, hi)
    return lql + math.log(-math.expm1(lqh - lql))


@nb.njit(cache=True)
def log_mark_window(law, nu, y, q, logq, log1mq):
    """``log G(y) = log(P(M~ > y) - P(M~ > y/q))`` for ``0 < q < 1``; ``q = 0``: the tail."""
    if q == 0.0:
        return log_mark_tail(law, nu, y)
    if y <= 0.0:
        return -math.inf
    if law == LAW_LAPLACE:
        return -y + math.log(-math.expm1(-y * math.exp(log1mq - logq)))
    if law == LAW_GAUSSIAN:
        return 0.0 if (q <= y < 1.0) else -math.inf
    a = 0.5 * nu
    hi = (a - 1.0) / y
    if hi * q > 1e300:  # y below ~1e-300: G = P(M~ <= y/q) < e^-1e300
        return -math.inf
    return _log_gamma_window(a, hi * q, hi)


# -- evaluation of a table ----------------------------------------------------------------------
@nb.njit(cache=True)
def _interp(x, x0, h, lp, n_known):
    """Barycentric Lagrange interpolation of ``lp`` (uniform grid x0 + k h) at x, on the
    ``_S + 1`` nodes nearest to x among the first ``n_known``."""
    part, li = _split_interp(x, x0, h, lp, n_known - 1)
    return part + li * lp[n_known - 1]


@nb.njit(cache=True)
def wlaw_log_psi(x, channel, meta, lp, lr):
    """``log psi`` (channel 0: W) or ``log psi_R`` (channel 1: W + R) at ``x = log w``.

    ``meta`` = (law, nu, m, q, logq, log1mq, x0, h, n, logC, tail_alpha) as built by
    :class:`WLawTable`; ``lp``/``lr`` the tabulated logs.
    """
    law = int(meta[0])
    nu = meta[1]
    m = meta[2]
    q = meta[3]
    logq = meta[4]
    log1mq = meta[5]
    x0 = meta[6]
    h = meta[7]
    n = int(meta[8])
    logc = meta[9]
    alpha = meta[10]
    if x < x0:
        if q == 0.0:
            if channel == 0:
                return math.log(m) + logc + m * x
            return logc + (m + 1.0) * x
        w = math.exp(x)
        if channel == 0:
            return math.log(m) + m * logq + log_mark_window(law, nu, w, q, logq, log1mq)
        return m * logq + x + log_mark_tail(law, nu, w)
    xl = x0 + (n - 1) * h
    if x > xl:
        if alpha == 0.0:
            return -math.inf
        if channel == 0:
            return lp[n - 1] - alpha * (x - xl)
        return lr[n - 1] + (1.0 - alpha) * (x - xl)
    if channel == 0:
        return _interp(x, x0, h, lp, n)
    return _interp(x, x0, h, lr, n)


# -- the march ---------------------------------------------------------------------------------
@nb.njit(cache=True)
def _split_interp(x, x0, h, lp, i):
    """Interpolation of ``lp`` at x from nodes ``<= i`` as ``part + li * lp[i]`` (the unknown
    node i split off), on the ``_S + 1`` nearest nodes (barycentric Lagrange)."""
    n_known = i + 1
    npts = min(_S + 1, n_known)
    t = (x - x0) / h
    k0 = int(math.floor(t)) - (npts - 1) // 2
    k0 = max(0, min(k0, n_known - npts))
    num = 0.0
    den = 0.0
    wi = 0.0
    binom = 1.0
    for jj in range(npts):
        d = t - (k0 + jj)
        if d == 0.0:
            if k0 + jj == i:
                return 0.0, 1.0
            return lp[k0 + jj], 0.0
        b = binom if jj % 2 == 0 else -binom
        if k0 + jj == i:
            wi = b / d
        else:
            num += b / d * lp[k0 + jj]
        den += b / d
        binom = binom * (npts - 1 - jj) / (jj + 1.0)
    return num / den, wi / den


@nb.njit(cache=True)
def _march(law, nu, m, q, logq, log1mq, x0, h, n_flat, x_top, y_sharp, logc, lp, lr):
    """Fill ``lp``/``lr`` node by node; returns the number of nodes, or -1 on failure.

    ``n_flat``: nodes below the stationary law's flat region, set analytically (q = 0).
    ``x_top``: last node for heavy tails; ``x_top = nan``: light tails, stop e^-80 below
    the maximum of psi. ``y_sharp``: below it G varies on the scale of q (0 for q = 0).
    """
    greg = _GREGORY
    nmax = lp.shape[0]
    logm = math.log(m)
    mq = m * logq if q > 0.0 else -math.inf  # log q^m
    stationary = q == 0.0
    ngl = _GL_X.shape[0]
    cap = 8192
    fac_g = np.empty(cap)
    fac_t = np.empty(cap)
    part = np.empty(cap)
    li = np.empty(cap)
    best = -math.inf
    x_best = x0
    light = x_top != x_top
    for i in range(nmax):
        x = x0 + i * h
        w = math.exp(x)
        if stationary and i < n_flat:
            lp[i] = logm + logc + m * x
            lr[i] = logc + (m + 1.0) * x
            continue
        # lower part: Gregory-corrected trapezoid over nodes 0..js, where y = w - u is at
        # least 0.4 w (the kernels, smooth on the scale of y, are smooth on the scale 0.4 of
        # x) and above y_sharp (below it the kernels turn on, on scales q and 1, not y)
        y_split = max(-w * math.expm1(-_SPLIT), y_sharp)
        if w > y_split:
            js = min(i - 1, int(math.floor((math.log(w - y_split) - x0) / h)))
        else:
            js = -1
        sg = 0.0
        st = 0.0
        if js + 1 >= 2 * _K:
            for k in range(js + 1):
                wk = 1.0
                if k < _K:
                    wk = greg[k]
                elif k > js - _K:
                    wk = greg[js - k]
                yk = w - math.exp(x0 + k * h)
                sg += wk * math.exp(lp[k] + log_mark_window(law, nu, yk, q, logq, log1mq))
                if not stationary:
                    st += wk * math.exp(lp[k] + log_mark_tail(law, nu, yk))
            sg *= h
            st *= h
            u_s = math.exp(x0 + js * h)
        else:
            u_s = math.exp(x0)
        # the grid's lower edge: stationary power law below x0 (mass C e^{m x0}); for q > 0
        # the mass below x0 is negligible
        if stationary:
            sg += math.exp(logc + m * x0 + log_mark_tail(law, nu, w))
        # upper part, u in [u_s, w): Gauss-Legendre panels in log y for y = w - u <= w/2
        # (kernels turning on at small y), in log u for u <= w/2 (psi's own scale)
        y_lo = _Y_REL * w
        y_top = min(w - u_s, 0.5 * w)
        ly0 = math.log(y_lo)
        npan_y = int(math.ceil((math.log(y_top) - ly0) / 0.5)) if y_top > y_lo else 0
        x_mid = x - _LOG2
        lu0 = math.log(u_s)
        npan_u = int(math.ceil((x_mid - lu0) / 0.5)) if x_mid > lu0 else 0
        if (npan_y + npan_u) * ngl > cap:
            return -3
        nn = 0
        for fam in range(2):
            if fam == 0:
                npan = npan_y
                lo = ly0
                pw = (math.log(y_top) - ly0) / npan if npan > 0 else 0.0
            else:
                npan = npan_u
                lo = lu0
                pw = (x_mid - lu0) / npan if npan > 0 else 0.0
            for p in range(npan):
                mid = lo + (p + 0.5) * pw
                for j in range(ngl):
                    if fam == 0:
                        y = math.exp(mid + 0.5 * pw * _GL_X[j])
                        xu = x + math.log1p(-y / w)
                        wt = 0.5 * pw * _GL_W[j] * y / (w - y)  # dy f(w - y) = wt psi(xu)
                    else:
                        xu = mid + 0.5 * pw * _GL_X[j]
                        y = w - math.exp(xu)
                        wt = 0.5 * pw * _GL_W[j]  # du f(u) = dx psi(x)
                    fac_g[nn] = wt * math.exp(log_mark_window(law, nu, y, q, logq, log1mq))
                    fac_t[nn] = (wt * math.exp(log_mark_tail(law, nu, y))
                                 if not stationary else 0.0)
                    part[nn], li[nn] = _split_interp(xu, x0, h, lp, i)
                    nn += 1
        # Newton on F(l) = log(m (known + U(l))) - l, U(l) = sum fac e^{part + li l}
        if stationary:
            known = sg
        else:
            known = math.exp(mq + log_mark_window(law, nu, w, q, logq, log1mq)) + sg
        if i >= 2:
            l = 2.0 * lp[i - 1] - lp[i - 2]
        elif i == 1:
            l = lp[0]
        else:
            l = logm + math.log(max(known, 1e-300))
        ok = False
        for _ in range(60):
            u = 0.0
            du = 0.0
            for j in range(nn):
                e = fac_g[j] * math.exp(part[j] + li[j] * l)
                u += e
                du += li[j] * e
            tot = known + u
            if not tot > 0.0:
                return -4
            f = logm + math.log(tot) - l
            fp = du / tot - 1.0
            step = -f / fp if fp < -0.05 else f  # Newton; damped fixed point otherwise
            l += step
            if abs(step) <= 1e-15 * max(1.0, abs(l)):
                ok = True
                break
        if not ok:
            return -5
        lp[i] = l
        # W + R: the tail kernel (q > 0); q = 0: psi_R = w psi / m
        if stationary:
            lr[i] = l + x - logm
        else:
            u = 0.0
            for j in range(nn):
                u += fac_t[j] * math.exp(part[j] + li[j] * l)
            a_val = math.exp(mq + log_mark_tail(law, nu, w)) + st + u + math.exp(l - x) * y_lo
            lr[i] = x + math.log(a_val)
        if l > best:
            best = l
            x_best = x
        if light:
            if x > x_best + 1.0 and l < best - _LIGHT_STOP and lr[i] < best - _LIGHT_STOP:
                return i + 1
        elif x >= x_top or (x > x_best + 1.0 and max(l, lr[i]) < -600.0):
            # heavy tails: the power law continues the table (beyond x_top, or once psi
            # nears the float range, at w >~ 1e10 where the law is its tail to ~1e-10)
            return i + 1
    return -1


class WLawTable:
    r"""The law of W (continuous part and W + R) of one amplitude law at one time.

    Parameters
    ----------
    law : AmplitudeLaw
        Its unit-mean mark defines G (Laplace, Student-t; the Gaussian mark's G is an
        indicator, whose kinks this smooth-interpolation march does not resolve).
    m : float
        ``lambda / (2 theta) > 0``.
    q : float
        ``exp(-2 theta t)`` in ``[0, 1)``; 0 is the stationary law.
    logq, log1mq : float
        ``log q`` and ``log(1 - q)``, computed accurately by the caller.
    h : float, optional
        Grid step in ``x = log w`` (default ``min(0.04, 0.15/m)``).

    Attributes
    ----------
    meta : ndarray, shape (11,)
        ``(law, nu, m, q, logq, log1mq, x0, h, n, logC, tail_alpha)`` for
        :func:`wlaw_log_psi`.
    lp, lr : ndarray, shape (n,)
        ``log psi`` and ``log psi_R`` at the nodes ``x0 + k h``.
    """

    def __init__(self, law, m, q, logq, log1mq, h=None):
        code, nu = law.kernel_args()
        if code == LAW_GAUSSIAN:
            raise ValueError("the renewal march needs a smooth mark survival function; the "
                             "Gaussian law's is a step")
        m = float(m)
        if h is None:
            h = min(0.04, 0.15 / m)
        if code == LAW_LAPLACE:
            w_flat = 1e-17
            elog = -np.euler_gamma
            alpha = 0.0
        else:
            a = 0.5 * nu
            z = a + 1.0
            while special.gammaincc(a, z) > 1e-17:
                z *= 1.2
            w_flat = (a - 1.0) / z
            elog = math.log(a - 1.0) - special.digamma(a)
            alpha = a
        logc = -m * (np.euler_gamma + elog) - math.lgamma(m + 1.0)
        if q == 0.0:
            x0 = min(math.log(w_flat), -40.0 / (m + 1.0)) - 2.0 * _K * h
            n_flat = int(math.floor((math.log(w_flat) - x0) / h)) + 1
        else:
            ref = math.log(m) + m * logq + float(log_mark_window(code, nu, q, q, logq, log1mq))
            x0 = logq
            while (math.log(m) + m * logq + float(log_mark_window(code, nu, math.exp(x0), q, logq,
                                                                   log1mq)) > ref - _LOW
                   and x0 > logq - 745.0):
                x0 -= 0.5
            n_flat = 0
        x_top = math.nan if alpha == 0.0 else max(35.0, math.log(1e13 * (1.0 + m)))
        lp = np.empty(_MAX_NODES)
        lr = np.empty(_MAX_NODES)
        # the mark's CDF leaves 0 at y ~ w_char (the inverse-Gamma scale beta'), so G(y) =
        # P(q M~ <= y < M~) turns on at y ~ q w_char and the tail at y ~ w_char; 20 and 2
        # times those, both kernels are smooth on the scale of y
        w_char = 1.0 if code == LAW_LAPLACE else 0.5 * nu - 1.0
        y_sharp = max(20.0 * q, 2.0) * w_char
        n = _march(code, nu, m, q, logq, log1mq, x0, h, n_flat, x_top, y_sharp, logc, lp, lr)
        if n < 0:
            raise RuntimeError(f"the renewal march of W failed (status {n})")
        self.lp = lp[:n].copy()
        self.lr = lr[:n].copy()
        self.meta = np.array([code, nu, m, q, logq, log1mq, x0, h, n, logc, alpha])
