r"""Closed forms for the pure-jump process with integer m (MATH.md section 4, route a).

With :math:`\rho = r/b`, :math:`w_j = \binom{m}{j} q^{m-j}(1-q)^j` and
:math:`c_j = 2^{1-j}/\Gamma(j)`, the Bessel-potential mixture of section 4 reads

.. math::

    p(y) = b^{-D} (2\pi)^{-D/2} \rho^{-D/2} \sum_{j=1}^{m} w_j c_j \rho^{j} K_{|D/2-j|}(\rho),

and, using :math:`\nabla g_{j+1}^{(b)} = -y g_j^{(b)}/(2jb^2)` and the gradient of
:math:`g_1^{(b)}`, the generalized score is :math:`S(y) = -y\,h(r)` with

.. math::

    h = \lambda\, \frac{\sum_j w_j c_j \rho^j K_{|D/2-j|}(\rho)/(2j) + q^m K_{D/2}(\rho)}
                       {\sum_j w_j c_j \rho^j K_{|D/2-j|}(\rho)}.

The common factor :math:`b^{-D}(2\pi)^{-D/2}\rho^{-D/2}` cancels in h. All orders share the
fractional part of D/2, so only the ratios :math:`K_{\nu+1}/K_\nu` over a window of at most
``m + 1`` consecutive orders enter: the base ratio comes from
:func:`levyscore._bessel.bessel_k_ratio` and the window is walked with the stable upward
recurrence :math:`r_\nu = 1/r_{\nu-1} + 2\nu/\rho`. Everything is summed in log space, so no
Bessel value is ever formed (they overflow for D in the thousands). For m = 1 this is
:math:`S = -\lambda y/2 - \lambda b\,\frac{q}{1-q}\frac{y}{r}\frac{K_{D/2}(\rho)}{K_{D/2-1}(\rho)}`.
"""
import math

import numba as nb
import numpy as np

from ._bessel import bessel_k_ratio, log_bessel_k_and_ratio
from ._mixture import _time_constants

__all__ = ["closed_form_logpdf_h", "closed_form_score"]

_LOG2PI = math.log(2.0 * math.pi)
_LOG2 = math.log(2.0)


@nb.njit(cache=True)
def _log_weight(j, m, logq, log1mq):
    """log w_j + log c_j = log[C(m, j) q^{m-j} (1-q)^j 2^{1-j} / Gamma(j)]."""
    lw = math.lgamma(m + 1.0) - math.lgamma(j + 1.0) - math.lgamma(m - j + 1.0) + j * log1mq
    if m > j:
        lw += (m - j) * logq
    return lw + (1.0 - j) * _LOG2 - math.lgamma(j)


@nb.njit(cache=True)
def _lse_add(mx, acc, val):
    """Online log-sum-exp: add exp(val) to the pair (max, scaled sum)."""
    if val == -math.inf:
        return mx, acc
    if val > mx:
        return val, acc * math.exp(mx - val) + 1.0
    return mx, acc + math.exp(val - mx)


@nb.njit(cache=True)
def _origin_logpdf(dim, m, logq, log1mq, b):
    """log p(0): finite only if every j with w_j > 0 has j > D/2."""
    half = 0.5 * dim
    mx = -math.inf
    acc = 0.0
    for j in range(1, m + 1):
        if logq == -math.inf and j < m:
            continue
        if j <= half:
            return math.inf
        lw = _log_weight(j, m, logq, log1mq) - (1.0 - j) * _LOG2 + math.lgamma(j)
        # g_j(0) = (2 pi)^{-D/2} b^{-D} Gamma(j - D/2) / (Gamma(j) 2^{D/2})
        lg = math.lgamma(j - half) - math.lgamma(j) - half * _LOG2
        mx, acc = _lse_add(mx, acc, lw + lg)
    return -dim * math.log(b) - half * _LOG2PI + mx + math.log(acc)


@nb.njit(cache=True)
def _weight_table(t, theta, lam, m, out):
    """out[j] = log w_j + log c_j (j = 1..m) at time t; returns (q, log q, log(1-q))."""
    _, q, logq, log1mq, _ = _time_constants(t, theta, 0.0, lam)
    out[0] = -math.inf
    for j in range(1, m + 1):
        out[j] = -math.inf if (logq == -math.inf and j < m) else _log_weight(j, m, logq, log1mq)
    return q, logq, log1mq


@nb.njit(cache=True)
def _point_closed_form(r, dim, lam, b, m, q, logq, log1mq, lw, want_logp):
    """(log p, h) of the pure-jump law at radius r; ``lw`` from :func:`_weight_table`."""
    if r == 0.0:
        lp = _origin_logpdf(dim, m, logq, log1mq, b) if want_logp else 0.0
        return lp, 0.0
    rho = r / b
    logrho = math.log(rho)
    half = 0.5 * dim
    mu0 = half - math.floor(half)
    # window of orders nu = mu0 + k, k in [kmin, kmax], covering |D/2 - j| (j = 1..m) and D/2
    kstar = int(half - mu0 + 0.5)
    kmin = kstar
    for j in range(1, m + 1):
        kj = int(abs(half - j) - mu0 + 0.5)
        if kj < kmin:
            kmin = kj
    kmax = kstar
    if m > half:
        kmax = max(kmax, int(m - half - mu0 + 0.5))
    if want_logp:
        logk_base, ratio = log_bessel_k_and_ratio(mu0 + kmin, rho)
    else:
        logk_base = 0.0
        ratio = bessel_k_ratio(mu0 + kmin, rho)
    mx_a = -math.inf
    acc_a = 0.0
    mx_b = -math.inf
    acc_b = 0.0
    rel = 0.0  # log K_nu - log K_{base}
    for k in range(kmin, kmax + 1):
        nu = mu0 + k
        if k > kmin:
            rel += math.log(ratio)
            ratio = 1.0 / ratio + 2.0 * nu / rho
        # j with |D/2 - j| = nu: j = D/2 - nu and j = D/2 + nu
        for sgn in (-1.0, 1.0):
            if sgn > 0.0 and nu == 0.0:
                continue
            jf = half + sgn * nu
            j = int(jf + 0.5)
            if j < 1 or j > m or lw[j] == -math.inf:
                continue
            ell = lw[j] + j * logrho + rel
            mx_b, acc_b = _lse_add(mx_b, acc_b, ell)
            mx_a, acc_a = _lse_add(mx_a, acc_a, ell - math.log(2.0 * j))
        if k == kstar and q > 0.0:
            mx_a, acc_a = _lse_add(mx_a, acc_a, m * logq + rel)
    h = lam * math.exp(mx_a - mx_b) * acc_a / acc_b
    lp = 0.0
    if want_logp:
        lp = -dim * math.log(b) - half * (_LOG2PI + logrho) + logk_base + mx_b + math.log(acc_b)
    return lp, h


@nb.njit(cache=True, parallel=True)
def closed_form_logpdf_h(r, t, dim, theta, lam, b, m, logp_out, h_out):
    """Fill log p and h (``S = -y h``) at radii ``r`` (n,) and times ``t`` ((n,) or (1,))."""
    n = r.shape[0]
    if t.shape[0] == 1:
        lw = np.empty(m + 1)
        q, logq, log1mq = _weight_table(t[0], theta, lam, m, lw)
        for i in nb.prange(n):
            lp, hh = _point_closed_form(r[i], dim, lam, b, m, q, logq, log1mq, lw, True)
            logp_out[i] = lp
            h_out[i] = hh
    else:
        for i in nb.prange(n):
            lwi = np.empty(m + 1)
            q, logq, log1mq = _weight_table(t[i], theta, lam, m, lwi)
            lp, hh = _point_closed_form(r[i], dim, lam, b, m, q, logq, log1mq, lwi, True)
            logp_out[i] = lp
            h_out[i] = hh


@nb.njit(cache=True)
def _score_row(y, i, dim, lam, b, m, q, logq, log1mq, lw, out):
    r2 = 0.0
    for d in range(dim):
        r2 += y[i, d] * y[i, d]
    _, hh = _point_closed_form(math.sqrt(r2), dim, lam, b, m, q, logq, log1mq, lw, False)
    for d in range(dim):
        out[i, d] = -hh * y[i, d]


@nb.njit(cache=True, parallel=True)
def closed_form_score(y, t, theta, lam, b, m, out):
    """Generalized score ``S(y) = -y h(|y|)`` for y of shape (n, D); t (n,) or (1,)."""
    n, dim = y.shape
    if t.shape[0] == 1:
        lw = np.empty(m + 1)
        q, logq, log1mq = _weight_table(t[0], theta, lam, m, lw)
        for i in nb.prange(n):
            _score_row(y, i, dim, lam, b, m, q, logq, log1mq, lw, out)
    else:
        for i in nb.prange(n):
            lwi = np.empty(m + 1)
            q, logq, log1mq = _weight_table(t[i], theta, lam, m, lwi)
            _score_row(y, i, dim, lam, b, m, q, logq, log1mq, lwi, out)
