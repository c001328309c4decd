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
from ._ratio_table import ratio_lookup, ratio_table
from ._time import time_constants

__all__ = ["closed_form_logpdf_h", "closed_form_score", "prepared_ratio"]

_LOG2PI = math.log(2.0 * math.pi)
_LOG2 = math.log(2.0)
_NO_RATIO_TABLE = np.zeros(1)  # the ratio_coef argument where no table is prepared


@nb.njit(cache=True)
def _log_weight(j, m, logq, log1mq):
    """log w_j + log c_j = log[C(m, j) q^{m-j} (1-q)^j 2^{1-j} / Gamma(j)]."""
    lw = math.lgamma(m + 1.0) - math.lgamma(j + 1.0) - math.lgamma(m - j + 1.0) + j * log1mq
    if m > j:
        lw += (m - j) * logq
    return lw + (1.0 - j) * _LOG2 - math.lgamma(j)


@nb.njit(cache=True)
def _weight_table(t, theta, lam, m, out):
    """Weights of the transition law at time t (t = inf: stationary).

    Fills ``out[0, j] = log(w_j c_j)`` and ``out[1, j] = w_j c_j`` for j = 1..m,
    ``out[0, 0] = -inf`` and ``out[1, 0] = lam q^m / (w_1 c_1)`` (the m = 1 coefficient of h,
    :func:`_h_one`; 0 where ``w_1 c_1 = 0``), and returns the atom coefficient ``q^m`` as
    (log, linear).
    """
    _, q, logq, log1mq, _ = time_constants(t, theta, 0.0, lam)
    out[0, 0] = -math.inf
    out[1, 0] = 0.0
    for j in range(1, m + 1):
        lw = -math.inf if (logq == -math.inf and j < m) else _log_weight(j, m, logq, log1mq)
        out[0, j] = lw
        out[1, j] = math.exp(lw)
    latom = m * logq if q > 0.0 else -math.inf
    atom = math.exp(latom)
    # index 0 of the linear row: the m = 1 coefficient lam q^m / (w_1 c_1) of h (_h_one)
    out[1, 0] = lam * atom / out[1, 1] if out[1, 1] > 0.0 else 0.0
    return latom, atom


@nb.njit(cache=True)
def _lse_add(mx, acc, val):
    """Online log-sum-exp: add exp(val) to the pair (max, scaled sum)."""
    if val == -math.inf:
        return mx, acc
    if val > mx:
        return val, acc * math.exp(mx - val) + 1.0
    return mx, acc + math.exp(val - mx)


@nb.njit(cache=True)
def _window(dim, m):
    """Orders nu = mu0 + k, k in [kmin, kmax], covering |D/2 - j| (j = 1..m) and D/2 (= kstar)."""
    half = 0.5 * dim
    mu0 = half - math.floor(half)
    kstar = int(half - mu0 + 0.5)
    kmin = kstar
    for j in range(1, m + 1):
        kj = int(abs(half - j) - mu0 + 0.5)
        if kj < kmin:
            kmin = kj
    kmax = kstar
    if m > half:
        kmax = max(kmax, int(m - half - mu0 + 0.5))
    return mu0, kstar, kmin, kmax


@nb.njit(cache=True)
def _origin_logpdf(dim, m, lw, b):
    """log p(0) = log sum_j w_j g_j(0): finite only if every j with w_j > 0 has j > D/2."""
    half = 0.5 * dim
    mx = -math.inf
    acc = 0.0
    for j in range(1, m + 1):
        if lw[0, j] == -math.inf:
            continue
        if j <= half:
            return math.inf
        # g_j(0) = b^{-D} (2 pi)^{-D/2} c_j Gamma(j - D/2) 2^{j - 1 - D/2}
        mx, acc = _lse_add(mx, acc, lw[0, j] + math.lgamma(j - half) + (j - 1.0 - half) * _LOG2)
    return -dim * math.log(b) - half * _LOG2PI + mx + math.log(acc)


@nb.njit(cache=True)
def _h_linear(r, dim, lam, b, m, atom, lw):
    """h from products of Bessel ratios (no log or exp); -1 if over- or underflow threatens.

    Same sums as :func:`_point_closed_form`, in the linear domain: the fast path of the score.
    The base quotient comes from :func:`levyscore._bessel.bessel_k_ratio`;
    :func:`_h_linear_ratio` does the rest.
    """
    rho = r / b
    mu0, kstar, kmin, kmax = _window(dim, m)
    return _h_linear_ratio(r, b, bessel_k_ratio(mu0 + kmin, rho) / rho, dim, lam, m, atom, lw)


@nb.njit(cache=True, inline="always")
def _h_linear_ratio(r, b, g, dim, lam, m, atom, lw):
    """:func:`_h_linear` at r (``rho = r / b``) from the base quotient
    ``g = K_{nu+1}(rho) / (rho K_nu(rho))`` at the window's lowest order nu (exact, or from
    the prepared table): :func:`_h_one` for m = 1, the window's sums
    (:func:`_h_linear_window`) for other m."""
    if m == 1:
        return _h_one(r, b, g, dim, lam, lw[1, 0], lw[1, 1])
    rho = r / b
    return _h_linear_window(rho, g * rho, dim, lam, m, atom, lw)


@nb.njit(cache=True, inline="always")
def _h_one(r, b, g, dim, lam, c, w):
    """h for m = 1 (orders D/2 - 1 and D/2, j = 1): the sums reduce to
    ``h = lam / 2 + c g`` with ``c = lam q / w_1`` (``lw[1, 0]``, :func:`_weight_table`) and
    ``w = w_1 c_1`` (D = 1: the one order 1/2, and ``1 / rho`` for g); -1 where the linear
    domain cannot be used."""
    if dim < 2:
        g = 1.0 / (r / b)
    hh = 0.5 * lam + c * g
    if not (w > 1e-280 and hh < 1e280):
        return -1.0
    return hh


@nb.njit(cache=True)
def _h_linear_window(rho, ratio, dim, lam, m, atom, lw):
    """:func:`_h_linear` from the base ratio ``ratio = K_{nu+1}(rho) / K_nu(rho)``: the upward
    recurrence over the window of orders, products in the linear domain."""
    mu0, kstar, kmin, kmax = _window(dim, m)
    half = 0.5 * dim
    prod = 1.0  # K_nu / K_{base}
    num = 0.0
    den = 0.0
    for k in range(kmin, kmax + 1):
        nu = mu0 + k
        if k > kmin:
            prod *= ratio
            ratio = 1.0 / ratio + 2.0 * nu / rho
        j1 = int(half - nu + 0.5)
        if j1 >= 1 and j1 <= m:
            term = lw[1, j1] * rho ** j1 * prod
            den += term
            num += term / (2.0 * j1)
        if nu > 0.0:
            j2 = int(half + nu + 0.5)
            if j2 <= m:
                term = lw[1, j2] * rho ** j2 * prod
                den += term
                num += term / (2.0 * j2)
        if k == kstar:
            num += atom * prod
    if not (den > 1e-280 and den < 1e280 and num < 1e300):
        return -1.0
    return lam * num / den


@nb.njit(cache=True)
def _point_closed_form(r, dim, lam, b, m, latom, lw, want_logp):
    """(log p, h) of a Bessel-potential mixture at radius r, in log space.

    ``lw`` and ``latom`` from :func:`_weight_table`: p = sum_j w_j g_j^{(b)} and the
    K_{D/2} term of h has coefficient exp(latom) (q^m, the atom, for a transition law).
    h overflows to inf below r ~ 1e-150 (h ~ 1/r^2); :func:`_point_closed_form_log` gives
    log h there.
    """
    lp, lh = _point_closed_form_log(r, dim, lam, b, m, latom, lw, want_logp)
    return lp, math.exp(lh)


@nb.njit(cache=True)
def _point_closed_form_log(r, dim, lam, b, m, latom, lw, want_logp):
    """(log p, log h) of a Bessel-potential mixture at radius r (see :func:`_point_closed_form`)."""
    if r == 0.0:
        lp = _origin_logpdf(dim, m, lw, b) if want_logp else 0.0
        return lp, -math.inf
    rho = r / b
    logrho = math.log(rho)
    half = 0.5 * dim
    mu0, kstar, kmin, kmax = _window(dim, m)
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
        j1 = int(half - nu + 0.5)
        if j1 >= 1 and j1 <= m and lw[0, j1] > -math.inf:
            ell = lw[0, j1] + j1 * logrho + rel
            mx_b, acc_b = _lse_add(mx_b, acc_b, ell)
            mx_a, acc_a = _lse_add(mx_a, acc_a, ell - math.log(2.0 * j1))
        if nu > 0.0:
            j2 = int(half + nu + 0.5)
            if j2 <= m and lw[0, j2] > -math.inf:
                ell = lw[0, j2] + j2 * logrho + rel
                mx_b, acc_b = _lse_add(mx_b, acc_b, ell)
                mx_a, acc_a = _lse_add(mx_a, acc_a, ell - math.log(2.0 * j2))
        if k == kstar:
            mx_a, acc_a = _lse_add(mx_a, acc_a, latom + rel)
    lh = math.log(lam) + (mx_a - mx_b) + math.log(acc_a / acc_b)
    lp = 0.0
    if want_logp:
        # -D log b - (D/2) log(2 pi rho) = -(D/2) log(2 pi b r): one large term instead of
        # three (for D in the thousands each is ~1e3-1e4, and every rounding of such a term
        # costs ~1e-13 absolute in log p)
        big = half * ((_LOG2PI + math.log(b)) + math.log(r))
        lp = (logk_base - big) + (mx_b + math.log(acc_b))
    return lp, lh


@nb.njit(cache=True)
def _h_limit(lam, m, lw):
    """h as rho -> inf: the top order j with a weight dominates, h -> lambda / (2 j)
    (lambda / (2m) = theta for a transition law). Used where r / b overflows."""
    j = m
    while j > 1 and lw[0, j] == -math.inf:
        j -= 1
    return lam / (2.0 * j)


@nb.njit(cache=True)
def rescaled_norm(y, i, dim):
    """``|y[i]|`` through a power-of-two rescaling (exact), for rows where ``sum y^2``
    over- or underflows (``|y|`` above 1.3e154 or below about 1e-145)."""
    big = 0.0
    for d in range(dim):
        a = abs(y[i, d])
        if a > big:
            big = a
    if big == 0.0:
        return 0.0
    _, e = math.frexp(big)
    acc = 0.0
    for d in range(dim):
        u = math.ldexp(y[i, d], -e)
        acc += u * u
    return math.ldexp(math.sqrt(acc), e)


@nb.njit(cache=True)
def _h_fast(r, dim, lam, b, m, latom, atom, lw):
    """h: the linear-domain fast path, or the log-space evaluation where it cannot be used."""
    if r == 0.0:
        return 0.0
    if math.isinf(r / b):
        return _h_limit(lam, m, lw)
    hh = _h_linear(r, dim, lam, b, m, atom, lw)
    if hh < 0.0:
        _, hh = _point_closed_form(r, dim, lam, b, m, latom, lw, False)
    return hh


@nb.njit(cache=True)
def _h_prepared(r, dim, lam, b, m, latom, atom, lw, ratio_coef, has_ratio):
    """:func:`_h_fast` with the base quotient from the prepared table ``ratio_coef``
    (:func:`levyscore._ratio_table.ratio_table` at the window's lowest order) where
    ``has_ratio`` is nonzero and the table serves r, exact elsewhere: the linear domain
    (:func:`_h_linear_ratio`), else :func:`_h_fast`."""
    hh = -1.0
    if has_ratio != 0:
        g = ratio_lookup(ratio_coef, r)  # NaN for r = 0, r = inf, r outside the table
        if not math.isnan(g):
            hh = _h_linear_ratio(r, b, g, dim, lam, m, atom, lw)
    if hh < 0.0:
        hh = _h_fast(r, dim, lam, b, m, latom, atom, lw)
    return hh


@nb.njit(cache=True, parallel=True)
def closed_form_logpdf_h(r, t, dim, theta, lam, b, m, logp_out, h_out):
    """Fill log p and h (``S = -y h``) at radii ``r`` (n,) and times ``t`` ((n,) or (1,))."""
    n = r.shape[0]
    tstep = 1 if t.shape[0] > 1 else 0
    shared = np.empty((2, m + 1))
    latom0, _ = _weight_table(t[0], theta, lam, m, shared)
    for i in nb.prange(n):
        if tstep:
            lw = np.empty((2, m + 1))
            latom, _ = _weight_table(t[i], theta, lam, m, lw)
        else:
            lw = shared
            latom = latom0
        if math.isinf(r[i] / b):  # log p below -1.8e308; h at its limit
            logp_out[i] = -math.inf
            h_out[i] = _h_limit(lam, m, lw)
            continue
        lp, hh = _point_closed_form(r[i], dim, lam, b, m, latom, lw, True)
        logp_out[i] = lp
        h_out[i] = hh


@nb.njit(cache=True)
def _score_row_near_origin(y, i, dim, r, lam, b, m, latom, lw, out):
    """``out[i] = -y[i] h(r)`` where h ~ 1/r^2 overflows (r below ~1e-145): as
    ``-(y/r) e^{log h + log r}``, since the score's magnitude r h does not overflow."""
    _, lh = _point_closed_form_log(r, dim, lam, b, m, latom, lw, False)
    rh = math.exp(lh + math.log(r))
    for d in range(dim):
        out[i, d] = -(y[i, d] / r) * rh


@nb.njit(cache=True, parallel=True)
def weight_table_kernel(n, t, theta, lam, m, lw_out, latom_out, atom_out):
    """Weight tables at the times ``t`` (n,): ``lw_out`` (n, 2, m + 1), ``latom_out`` and
    ``atom_out`` (n,) (:func:`_weight_table` per time). The arguments of the CUDA kernel
    ``weight_table`` (``kernels/closed_form.cu``), whose twin this is."""
    for i in nb.prange(n):
        latom, atom = _weight_table(t[i], theta, lam, m, lw_out[i])
        latom_out[i] = latom
        atom_out[i] = atom


def weight_tables(t, theta, lam, m):
    """``(lw, latom, atom, per_row)`` of the closed form at clock times ``t`` ((1,): one
    table, ``per_row = 0``; (n,): one per time, ``per_row = 1``), the table arguments of
    :func:`closed_form_score_kernel` and :func:`point_closed_form_kernel`."""
    rows = t.shape[0]
    lw = np.empty((rows, 2, m + 1))
    latom = np.empty(rows)
    atom = np.empty(rows)
    if rows == 1:  # one table: no parallel launch
        latom[0], atom[0] = _weight_table(t[0], theta, lam, m, lw[0])
    else:
        weight_table_kernel(rows, t, theta, lam, m, lw, latom, atom)
    return lw, latom, atom, int(rows > 1)


@nb.njit(cache=True)
def row_not_finite(y, out, i, dim):
    """1 if row i of ``y`` or of ``out`` has a NaN or an infinite entry, else 0."""
    for d in range(dim):
        if not (math.isfinite(y[i, d]) and math.isfinite(out[i, d])):
            return 1
    return 0


@nb.njit(cache=True, inline="always")
def write_row(y, i, dim, hh, a, c, combine, out):
    """``out[i] = S = -hh y[i]``, or ``a y[i] + c S`` if ``combine`` (the reverse step's
    combine, the operations of :func:`levyscore._reverse._combine`)."""
    if combine != 0:
        for d in range(dim):
            out[i, d] = a * y[i, d] + c * (-hh * y[i, d])
    else:
        for d in range(dim):
            out[i, d] = -hh * y[i, d]


@nb.njit(cache=True, inline="always")
def usual_h(r2, lam, lw, row, ratio_coef):
    """``(ok, h)`` of a row with ``|y|^2 = r2`` and weight table ``lw[row]``; ok when it is
    the usual row of a law with m = 1 and D >= 2: ``h = lam/2 + c G(r)``, ``c = lw[row, 1,
    0]`` and G from the prepared table, where the table serves r, r2 neither under- nor
    overflows and nor do h and ``h r`` (:func:`_h_one`'s h and checks for D >= 2, inlined
    into the score kernel's loop: a call measured 6% slower at D = 2). :func:`score_row`
    gives such a row the same bits."""
    r = math.sqrt(r2)
    hh = 0.5 * lam + lw[row, 1, 0] * ratio_lookup(ratio_coef, r)
    ok = (r2 > 1e-290 and r2 < 1e290 and lw[row, 1, 1] > 1e-280 and hh < 1e280
          and hh * r < 1e300)
    return ok, hh


@nb.njit(cache=True, inline="always")
def norm2(y, i, dim):
    """``|y[i]|^2`` in the order every closed-form score kernel uses (CUDA twin ``norm2``):
    for D < 8 in index order; for D >= 8 the first ``8 floor(D/8)`` squares in eight partial
    sums (sum k takes the indices ``= k mod 8``), added as ``((s0 + s1) + (s2 + s3)) + ((s4 +
    s5) + (s6 + s7))``, then the last ``D mod 8`` squares in index order. The eight
    independent sums spare the loop one addition's latency per element (the score went from
    1.27 to 0.71 ns an element at D = 3072, from 0.94 to 0.81 at D = 64, one thread), and
    their rounding error grows as D/8 instead of D. Indices are unsigned: Numba tests a
    signed index for a negative value at each load (a bare loop: 0.77 against 0.59 ns an
    element at D = 3072)."""
    if dim < 8:
        r2 = 0.0
        for d in range(dim):
            r2 += y[i, d] * y[i, d]
        return r2
    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0.0
    top = dim - dim % 8
    for block in range(top // 8):
        s0, s1, s2, s3, s4, s5, s6, s7 = _add8(y, i, np.uint64(8 * block), s0, s1, s2, s3, s4,
                                               s5, s6, s7)
    r2 = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
    for d in range(top, dim):
        r2 += y[i, d] * y[i, d]
    return r2


@nb.njit(cache=True, inline="always")
def norm2_pair(y, i, j, dim):
    """``(norm2(y, i, dim), norm2(y, j, dim))`` for D >= 8, the two rows' sums in one loop."""
    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0.0
    t0 = t1 = t2 = t3 = t4 = t5 = t6 = t7 = 0.0
    top = dim - dim % 8
    for block in range(top // 8):
        d = np.uint64(8 * block)
        s0, s1, s2, s3, s4, s5, s6, s7 = _add8(y, i, d, s0, s1, s2, s3, s4, s5, s6, s7)
        t0, t1, t2, t3, t4, t5, t6, t7 = _add8(y, j, d, t0, t1, t2, t3, t4, t5, t6, t7)
    ri = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
    rj = ((t0 + t1) + (t2 + t3)) + ((t4 + t5) + (t6 + t7))
    for d in range(top, dim):
        ri += y[i, d] * y[i, d]
        rj += y[j, d] * y[j, d]
    return ri, rj


@nb.njit(cache=True, inline="always")
def _add8(y, i, d, s0, s1, s2, s3, s4, s5, s6, s7):
    """The eight partial sums of :func:`norm2` after the squares of ``y[i, d .. d + 7]``."""
    return (s0 + y[i, d] * y[i, d], s1 + y[i, d + _U1] * y[i, d + _U1],
            s2 + y[i, d + _U2] * y[i, d + _U2], s3 + y[i, d + _U3] * y[i, d + _U3],
            s4 + y[i, d + _U4] * y[i, d + _U4], s5 + y[i, d + _U5] * y[i, d + _U5],
            s6 + y[i, d + _U6] * y[i, d + _U6], s7 + y[i, d + _U7] * y[i, d + _U7])


_U1, _U2, _U3, _U4, _U5, _U6, _U7 = (np.uint64(k) for k in range(1, 8))
#: Below this D (and from 8 up) the score kernel takes rows two at a time: measured, one
#: thread, ns an element, rows alone / in pairs: D = 64 0.75 / 0.65, D = 256 0.51 / 0.85,
#: D = 3072 0.66 / 0.88 (two long rows at once stream worse than one).
_PAIR_MAX_DIM = 128


@nb.njit(cache=True, inline="always")
def one_row(y, i, r2, dim, lam, b, m, latom, atom, lw, row, ratio_coef, has_ratio, usual_law,
            a, c, combine, out):
    """Row i of :func:`closed_form_score_kernel` with ``|y[i]|^2 = r2`` (:func:`norm2`): the
    usual row (:func:`usual_h`) inline, any other by :func:`score_row`. Returns its count of
    non-finite rows (0 or 1)."""
    ok = False
    if usual_law:
        ok, hh = usual_h(r2, lam, lw, row, ratio_coef)
    if ok:
        write_row(y, i, dim, hh, a, c, combine, out)
        return 0
    return score_row(y, i, dim, lam, b, m, latom, atom, lw, row, ratio_coef, has_ratio, a, c,
                     combine, out)


@nb.njit(cache=True)
def score_row(y, i, dim, lam, b, m, latom, atom, lw, row, ratio_coef, has_ratio, a, c,
              combine, out):
    """``out[i] = S = -y[i] h(|y[i]|)`` with the weight table ``lw[row]``, any row: the
    rescaled norm where ``|y|^2`` under- or overflows, :func:`_h_prepared`, the near-origin
    form where h overflows; if ``combine``, ``out[i] = a y[i] + c S`` instead. Returns 1 if
    row i of y or of the result has a NaN or inf entry, else 0 (a row with ``|y|^2`` in
    (1e-290, 1e290) is finite, and so is its score where ``h |y| < 1e300``; other rows are
    checked entry by entry)."""
    r2 = norm2(y, i, dim)
    r = math.sqrt(r2)
    usual = r2 > 1e-290 and r2 < 1e290
    if not usual:
        r = rescaled_norm(y, i, dim)
    hh = _h_prepared(r, dim, lam, b, m, latom[row], atom[row], lw[row], ratio_coef, has_ratio)
    if hh < 1e290:
        write_row(y, i, dim, hh, a, c, combine, out)
    else:
        _score_row_near_origin(y, i, dim, r, lam, b, m, latom[row], lw[row], out)
        if combine != 0:
            for d in range(dim):
                out[i, d] = a * y[i, d] + c * out[i, d]
    if not (usual and hh * r < 1e300):
        return row_not_finite(y, out, i, dim)
    return 0


@nb.njit(cache=True, parallel=True)
def closed_form_score_kernel(n, dim, y, lam, b, m, latom, atom, lw, per_row, ratio_coef,
                             has_ratio, a, c, combine, out, bad_out):
    """Generalized score ``S(y) = -y h(|y|)`` for y of shape (n, D), from weight tables:
    ``lw`` (rows, 2, m + 1), ``latom`` and ``atom`` (rows,); point i uses row i
    (``per_row = 1``) or row 0. The base Bessel quotient comes from the prepared table
    ``ratio_coef`` where ``has_ratio`` is nonzero (:func:`_h_prepared`). Adds to
    ``bad_out[0]`` the number of rows of y or of the score with a NaN or inf entry (the
    input check and the overflow check of the caller, in this one pass). With ``combine``
    nonzero, ``out = a y + c S`` instead of S, with the operations of the reverse step's
    combine (``levyscore._reverse._combine``), so bit for bit the score followed by that
    combine, in one pass. The arguments of the CUDA kernel ``closed_form_score``.

    The usual row (m = 1, D >= 2, a table hit, no under- or overflow anywhere) is done
    inline; every other row by :func:`score_row`, which gives the usual row the same bits.
    Keeping the rare branches out of the loop body made it 25% faster at D = 2 (15.4 ms
    against 11.6 ms, n = 10^6, one thread); so did reading ``lw[row, 1, 0]`` instead of
    making the view ``lw[row]`` per point (a reference count each).

    Row indices are unsigned: no negative-index test at each access (6% at D = 2). For
    8 <= D < ``_PAIR_MAX_DIM`` rows go two at a time, their norms summed in one loop
    (:func:`norm2_pair`), so that the two rows' chains of dependent operations (the norm,
    the square root, the table's polynomial) overlap: 13% faster at D = 64. The CUDA kernel
    takes one row per thread; every row has the same operations, so the same bits.
    """
    bad = 0
    usual_law = has_ratio != 0 and m == 1 and dim >= 2
    step = np.uint64(per_row)  # per_row is 0 or 1: row i uses table i * step
    if dim < 8 or dim >= _PAIR_MAX_DIM:
        for k in nb.prange(n):
            i = np.uint64(k)
            bad += one_row(y, i, norm2(y, i, dim), dim, lam, b, m, latom, atom, lw, i * step,
                           ratio_coef, has_ratio, usual_law, a, c, combine, out)
    else:
        for pair in nb.prange(n // 2):
            i = np.uint64(2 * pair)
            j = i + _U1
            ri, rj = norm2_pair(y, i, j, dim)
            found = 0
            for half in range(2):  # one call site: two inlined calls lost row j's write
                k = j if half else i
                found += one_row(y, k, rj if half else ri, dim, lam, b, m, latom, atom, lw,
                                 k * step, ratio_coef, has_ratio, usual_law, a, c, combine,
                                 out)
            bad += found  # one reduction statement (parfor's rule)
        if n % 2 == 1:
            i = np.uint64(n - 1)
            bad += one_row(y, i, norm2(y, i, dim), dim, lam, b, m, latom, atom, lw, i * step,
                           ratio_coef, has_ratio, usual_law, a, c, combine, out)
    bad_out[0] += bad


def closed_form_score(y, t, theta, lam, b, m, out, ratio_coef=None, combine=None):
    """Generalized score ``S(y) = -y h(|y|)`` for y of shape (n, D); t (n,) or (1,): the
    weight tables of :func:`weight_tables`, then :func:`closed_form_score_kernel`, with the
    prepared Bessel quotient ``ratio_coef`` (:func:`prepared_ratio`; None: the exact one).
    ``combine = (a, c)`` writes ``a y + c S`` instead (the reverse step's combine, same
    bits). Returns the number of rows of y or of S with a NaN or inf entry."""
    lw, latom, atom, per_row = weight_tables(t, theta, lam, m)
    has_ratio = int(ratio_coef is not None)
    a, c = (0.0, 0.0) if combine is None else (float(combine[0]), float(combine[1]))
    bad = np.zeros(1, dtype=np.int64)
    closed_form_score_kernel(y.shape[0], y.shape[1], y, lam, b, m, latom, atom, lw, per_row,
                             ratio_coef if has_ratio else _NO_RATIO_TABLE, has_ratio, a, c,
                             int(combine is not None), out, bad)
    return int(bad[0])


def base_order(dim, m):
    """The lowest Bessel order of the closed form's window (D, m): the order of the prepared
    ratio table (:func:`prepared_ratio`)."""
    mu0, _, kmin, _ = _window(dim, m)
    return mu0 + kmin


def prepared_ratio(dim, m, b):
    """The prepared Bessel quotient of the closed form (D, m, b): ``ratio_coef`` of
    :func:`closed_form_score_kernel` (:func:`levyscore._ratio_table.ratio_table` at
    :func:`base_order`)."""
    return ratio_table(base_order(dim, m), b)[0]


@nb.njit(cache=True, parallel=True)
def point_closed_form_kernel(n, r, dim, lam, b, m, latom, lw, per_row, want_logp, logp_out,
                             h_out):
    """``(log p, h)`` at radii ``r`` (n,) from weight tables as in
    :func:`closed_form_score_kernel` (log p = 0 unless ``want_logp``): the arguments of the
    CUDA kernel ``point_closed_form``. No ``r / b = inf`` branch (the callers set log p)."""
    for i in nb.prange(n):
        row = i * per_row  # per_row is 0 or 1 (a conditional index trips parfor typing)
        lp, hh = _point_closed_form(r[i], dim, lam, b, m, latom[row], lw[row], want_logp != 0)
        logp_out[i] = lp
        h_out[i] = hh


@nb.njit(cache=True, parallel=True)
def bessel_mixture_logpdf_h(r, dim, lam, b, m, lw, latom, logp_out, h_out):
    """log p and h of ``p = sum_j w_j g_j^{(b)}`` with a given weight table.

    ``lw`` has shape (2, m + 1): ``lw[0, j] = log(w_j c_j)``, ``lw[1, j] = w_j c_j``
    (``c_j = 2^{1-j}/Gamma(j)``, index 0 unused); the K_{D/2} term of h has coefficient
    ``exp(latom)`` (``-inf`` for none). Used by the Bessel targets (MATH.md section 9).
    """
    for i in nb.prange(r.shape[0]):
        if math.isinf(r[i] / b):  # log p below -1.8e308; h at its limit
            logp_out[i] = -math.inf
            h_out[i] = _h_limit(lam, m, lw)
            continue
        lp, hh = _point_closed_form(r[i], dim, lam, b, m, latom, lw, True)
        logp_out[i] = lp
        h_out[i] = hh


def bessel_mixture_score(y, lam, b, m, lw, latom, out, ratio_coef=None):
    """``S(y) = -y h(|y|)`` for the weight table of :func:`bessel_mixture_logpdf_h`; y (n, D)
    (:func:`closed_form_score_kernel` with that one table and the prepared Bessel ratio
    ``ratio_coef``, None: exact). Returns the number of rows with a NaN or inf entry."""
    has_ratio = int(ratio_coef is not None)
    bad = np.zeros(1, dtype=np.int64)
    closed_form_score_kernel(y.shape[0], y.shape[1], y, lam, b, m, np.array([latom]),
                             np.array([math.exp(latom)]), lw.reshape(1, 2, m + 1), 0,
                             ratio_coef if has_ratio else _NO_RATIO_TABLE, has_ratio, 0.0, 0.0,
                             0, out, bad)
    return int(bad[0])
