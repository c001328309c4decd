r"""Exact marginal laws of the heavy-tailed benchmark under any process (MATH.md §1, §3, §9).

The data :math:`X_0 = \sqrt{Z}\,\varepsilon`, :math:`\varepsilon \sim N(0, v I_D)`, is a
Gaussian scale mixture over the positive stable Z (:mod:`levyscore._stable`). Given Z,
:math:`e^{-\theta t}X_0 \sim N(0, v q Z\, I)` with :math:`q = e^{-2\theta t}`, so given Z the
marginal at time t is the transition law of the process with the extra Gaussian variance
:math:`e_Z = v q Z` (the route :class:`levyscore.targets.GaussianMixture` uses for one
component). V is linear in p (MATH.md §3), hence, with :math:`p_Z(r)` and :math:`h_Z(r)` the
log density and radial factor of that law (:func:`levyscore._mixture._point_logpdf_h`, a
quadrature over W),

.. math::

    p_t(x) = E_Z\, p_Z(|x|), \qquad
    S(x, t) = \frac{\nabla V_t}{p_t} = -x\, \frac{E_Z[p_Z h_Z]}{E_Z[p_Z]} = -x\, h(|x|, t).

The outer expectation over Z is a trapezoidal rule in :math:`\xi`, with
:math:`x = \log Z = x(\xi)` a smooth map whose step is :math:`h_{lo} = 0.36/\beta`
(:math:`\beta = a/(1-a)`, :math:`a = \alpha/2`) below the mode of :math:`Z f_Z` and
:math:`h_{hi} = \min(0.36, 1.2/\sqrt{D})` above it:
:math:`x(\xi) = x_m + h_{lo}\xi + (h_{hi} - h_{lo}) L \log(1 + e^{\xi/L})`, L = 1.5. The lower
tail of :math:`f_Z`, :math:`\exp(-c Z^{-\beta})`, and the Gaussian kernel in
:math:`\log e_Z` are both of Gumbel type, analytic in a strip of half-width
:math:`\pi/(2\beta)` and about :math:`\pi/2` in x; with these steps the trapezoidal error
:math:`\sim e^{-2\pi d/h}` is below 1e-11 (measured against a grid of half the step in
``tests/test_stable_marginal.py``, and against ``scipy.integrate.quad``). Per point the
nodes are walked outwards from the peak of a Gaussian proxy until both integrands are
:math:`e^{-25}` below their maxima, and downwards at least to the lower tail of
:math:`Z f_Z`: the integrand can be bimodal (a large radius explained by a large Z, or by the
W-tail with Z near its mode).

For jump processes the law given Z is itself a mixture over W (MATH.md §1-2). One fixed
W-rule per point (:func:`_w_grid`) serves every Z-node, so each node costs a few hundred
Gaussian kernels instead of an adaptive quadrature: 0.2-0.5 ms a point on 2 cores, about 8x
faster than the nested route (each node by :func:`levyscore._mixture._point_logpdf_h`),
which it matches to 3e-11 (``nested=True`` keeps that route for the tests).

The log density of Z at the nodes comes from :func:`levyscore._stable.positive_stable_logpdf`
(series above ``Z_1 = 2``, Zolotarev's integral below). Supported: ``0.5 <= alpha <= 1.95``
(the step below the mode shrinks like ``(2 - alpha)``).
"""
import functools
import math

import numba as nb
import numpy as np

from ._mixture import _LOG2PI, _logaddexp, _point_logpdf_h
from ._wlaw import KIND_W, KIND_W_PLUS_EXP, log_density_w
from ._stable import SERIES_FROM, _log_density_series, _log_density_zolotarev
from ._table import ScoreTable
from ._time import one_minus_q_at, time_constants, variance_constant
from ._validation import as_points, check_process, row_norms

__all__ = ["marginal_table", "marginal_logpdf", "marginal_logpdf_h", "ALPHA_RANGE"]

#: Range of alpha supported by the marginal quadrature.
ALPHA_RANGE = (0.5, 1.95)
#: Version of the outer quadrature rule; part of the table's cache key.
GRID_VERSION = 1

_TAIL = 25.0  # stop the walk e^-25 below the maxima
_REGION = 30.0  # the proxy region that must be covered
_L = 1.5
_X_MAX = 700.0  # largest log Z on the grid (Z e_Z stays finite)
_QUANTILE = 1e-7  # the table's radial range: up to the (1 - 1e-7) quantile at every t


def _grid_map(xi, x_m, h_lo, h_hi):
    """x(xi) and dx/dxi of the outer rule (module docstring)."""
    s = np.logaddexp(0.0, xi / _L)
    x = x_m + h_lo * xi + (h_hi - h_lo) * _L * s
    dx = h_lo + (h_hi - h_lo) / (1.0 + np.exp(-xi / _L))
    return x, dx


def _log_fz(a, x):
    """log f_Z(e^x) for Z = 2 Z_1 (scalar)."""
    z1 = 0.5 * math.exp(x)
    if z1 >= SERIES_FROM:
        return _log_density_series(a, z1) - math.log(2.0)
    return _log_density_zolotarev(a, z1) - math.log(2.0)


@functools.lru_cache(maxsize=16)
def mixing_grid(alpha, dim, refine=1):
    """Nodes ``x_k = log Z_k`` and log weights ``log(f_Z(Z_k) Z_k x'(xi_k))`` of the outer rule.

    Parameters
    ----------
    alpha : float
        Tail index of the data (``a = alpha / 2``).
    dim : int
        Dimension (sets the step above the mode).
    refine : int
        Divide both steps by this factor (convergence checks).

    Returns
    -------
    xs, logw : ndarray, shape (K,)
        Read-only. ``sum_k exp(logw_k) g(Z_k)`` approximates ``E g(Z)``.
    """
    a = 0.5 * alpha
    beta = a / (1.0 - a)
    h_hi = min(0.36, 1.2 / math.sqrt(dim)) / refine
    h_lo = min(h_hi, 0.36 / beta / refine)
    # mode of Z f_Z in x = log Z, on a coarse scan (the map only needs it roughly)
    scan = np.arange(-8.0, 4.0, 0.1) + math.log(2.0)
    vals = np.array([_log_fz(a, x) + x for x in scan])
    x_mode = float(scan[int(np.argmax(vals))])
    top = float(np.max(vals))
    x_m = x_mode + 1.0
    # lower end: where log(Z f_Z) is 80 below its maximum (the lower tail falls like exp(-c Z^-beta))
    xi_lo = 0.0
    while True:
        x, _ = _grid_map(np.array([xi_lo - 1.0]), x_m, h_lo, h_hi)
        if _log_fz(a, float(x[0])) + float(x[0]) < top - 80.0:
            break
        xi_lo -= 1.0
    xi_hi = math.ceil((_X_MAX - x_m) / h_hi) + 1
    xi = np.arange(xi_lo, xi_hi + 1.0)
    xs, dx = _grid_map(xi, x_m, h_lo, h_hi)
    keep = xs <= _X_MAX
    xs, dx = xs[keep], dx[keep]
    logw = np.array([_log_fz(a, float(x)) for x in xs]) + xs + np.log(dx)
    xs.setflags(write=False)
    logw.setflags(write=False)
    return xs, logw


_Y_SPLIT = math.log(2.0)  # the w-grid's step shrinks above w ~ 2 (the e^-w factor)
_Y_STEP = 0.25
_NY_MAX = 4096


@nb.njit(cache=True)
def _w_grid(t, theta, lam, dim, e, yg, lw0, lw1):
    """Nodes ``y = log w`` and log weights of the W-law (continuous part) on a fixed rule.

    The rule is a trapezoid in eta with ``y(eta) = y_s + h_lo eta + (h_hi - h_lo) L
    log(1 + e^{eta/L})``: step 0.25 below w ~ 2, where f_W(w) w and the Gaussian kernel in
    log v are smooth, and ``0.6/sqrt(A + w_hi)`` above, which resolves the e^{-w} factor (its
    log has curvature w in y) and the kernel (curvature <= 60 + D where it matters) up to
    ``w_hi``. Past ``w_hi`` the W-part is below e^-40 of the data's power-law share of the
    same variance (module docstring of the marginal). Returns the node count; ``lw0`` holds
    ``log(f_W(w) w y'(eta))``, ``lw1`` the same for W + Exp(1).
    """
    m, q, logq, log1mq, s = time_constants(t, theta, 0.0, lam)
    a_neglog_e = max(0.0, -math.log(e))
    w_hi = 45.0 + 4.0 * m + a_neglog_e
    w_hi += (m + 1.0) * math.log(w_hi)
    h_lo = _Y_STEP
    h_hi = min(h_lo, 0.6 / math.sqrt(61.0 + dim + m + w_hi))
    if m * logq <= -40.0:
        y_lo = -40.0 / m
    else:
        y_lo = logq * (1.0 - m) - 40.0
    y_lo = max(y_lo, -740.0)
    y_hi = math.log(w_hi)
    # eta range: below the split the map is ~ linear with slope h_lo, above with slope h_hi
    eta = math.floor((y_lo - _Y_SPLIT) / h_lo) - 1.0
    n = 0
    while n < yg.shape[0]:
        sp = max(eta / _L, 0.0) + math.log1p(math.exp(-abs(eta / _L)))
        y = _Y_SPLIT + h_lo * eta + (h_hi - h_lo) * _L * sp
        if y > y_hi:
            break
        dy = h_lo + (h_hi - h_lo) / (1.0 + math.exp(-eta / _L))
        w = math.exp(y)
        base = y + math.log(dy)
        yg[n] = y
        lw0[n] = log_density_w(w, KIND_W, m, q, logq, log1mq) + base
        lw1[n] = log_density_w(w, KIND_W_PLUS_EXP, m, q, logq, log1mq) + base
        n += 1
        eta += 1.0
    return n


@nb.njit(cache=True)
def _fused_node(r2, dim, s_total, b2, ny, yg, lw0, lw1, work):
    """log of int f_W phi_v, int f_W phi_v / v, int f_{W+E} phi_v / v; v = s_total + 2 b2 w."""
    best0 = -math.inf
    best1 = -math.inf
    best2 = -math.inf
    for j in range(ny):
        v = s_total + 2.0 * b2 * math.exp(yg[j])
        logv = math.log(v)
        lphi = -0.5 * dim * (_LOG2PI + logv) - r2 / (2.0 * v)
        a0 = lw0[j] + lphi
        a2 = lw1[j] + lphi - logv
        work[0, j] = a0
        work[1, j] = a2
        work[2, j] = logv
        best0 = max(best0, a0)
        best1 = max(best1, a0 - logv)
        best2 = max(best2, a2)
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    for j in range(ny):
        a0 = work[0, j]
        s0 += math.exp(a0 - best0)
        s1 += math.exp(a0 - work[2, j] - best1)
        s2 += math.exp(work[1, j] - best2)
    return best0 + math.log(s0), best1 + math.log(s1), best2 + math.log(s2)


def floor_node(logw):
    """First node of the Z-rule where ``Z f_Z`` is within e^-60 of its maximum (computed once)."""
    return int(np.argmax(logw >= np.max(logw) - 60.0))


@nb.njit(cache=True)
def walk_region(c, e, r2, dim, xs, logw, kfloor, g0):
    """Where the walk over the Z-rule starts and what it must cover: the peak ``kbest`` of a
    Gaussian proxy (the marginal with W replaced by its mean, variance ``c + e Z``) and the
    nodes ``[klo, khi]`` within e^-30 of it (``g0`` is scratch).

    Below the peak the integrand can be bimodal (a large r explained either by a large Z or
    by the W-tail at Z near its mode): the walk goes down at least to kfloor, where Z f_Z
    itself is e^-60 below its maximum (:func:`floor_node`). Under that f_Z falls
    super-exponentially, the inner law grows at most like a power of 1/Z, and the walk stops
    once the integrand is e^-25 below its maximum."""
    n = xs.shape[0]
    best = -math.inf
    kbest = 0
    for k in range(n):
        v = c + e * math.exp(xs[k])
        g = logw[k] - 0.5 * dim * math.log(v) - r2 / (2.0 * v)
        g0[k] = g
        if g > best:
            best = g
            kbest = k
    klo = kbest
    while klo > 0 and g0[klo - 1] > best - _REGION:
        klo -= 1
    klo = min(klo, kfloor)
    khi = kbest
    while khi < n - 1 and g0[khi + 1] > best - _REGION:
        khi += 1
    return kbest, klo, khi


@nb.njit(cache=True)
def walk_step(k, direction, a0, a1, g0, g1, lo, hi, max0, max1, klo, khi):
    """Record node k's log terms (p, h p) of the walk (``direction`` -1: down, 1: up).

    Returns ``(lo, hi, max0, max1, stop)``: the walked range, the running maxima, and
    whether the walk may stop in this direction (outside ``[klo, khi]`` and both terms
    e^-25 below their maxima)."""
    g0[k] = a0
    g1[k] = a1
    if direction == -1:
        lo = k
    else:
        hi = k
    max0 = max(max0, a0)
    max1 = max(max1, a1)
    inside = k >= klo if direction == -1 else k <= khi
    return lo, hi, max0, max1, (not inside) and a0 < max0 - _TAIL and a1 < max1 - _TAIL


@nb.njit(cache=True)
def walk_total(g0, g1, lo, hi):
    """(log p, h) from the walked nodes ``lo..hi``: log-sum-exp of p's and h p's terms."""
    logp = -math.inf
    lognum = -math.inf
    for k in range(lo, hi + 1):
        logp = _logaddexp(logp, g0[k])
        lognum = _logaddexp(lognum, g1[k])
    if logp == -math.inf:
        return logp, 0.0
    return logp, math.exp(lognum - logp)


@nb.njit(cache=True)
def _marginal_point(r, t, dim, theta, diffusion, lam, b2, vdata, xs, logw, kfloor, buf, g0, g1,
                    yg, lw0, lw1, work, nested):
    """(log p, h) of the marginal at radius r and clock time t (module docstring).

    Jump processes use one W-rule (:func:`_w_grid`) for every node of the Z-rule, so the
    W-law is evaluated once per point; without jumps the Gaussian inner law is closed form.
    ``nested=True`` computes each node's inner law by the independent adaptive quadrature of
    :func:`levyscore._mixture._point_logpdf_h` instead (tests; ~10x slower).
    """
    m, q, logq, _, s = time_constants(t, theta, diffusion, lam)
    e = vdata * q
    if not e > 0.0:  # the data's contribution has decayed below the float range
        return _point_logpdf_h(r, t, dim, theta, diffusion, lam, b2, 0.0, buf)
    om = one_minus_q_at(2.0 * theta, t)
    c = s + 2.0 * b2 * m * om  # mean variance of Y_t
    r2 = r * r
    n = xs.shape[0]
    kbest, klo, khi = walk_region(c, e, r2, dim, xs, logw, kfloor, g0)
    max0 = -math.inf
    max1 = -math.inf
    lo = kbest
    hi = kbest - 1
    ny = 0
    fused = lam > 0.0 and not nested
    if fused:
        ny = _w_grid(t, theta, lam, dim, e, yg, lw0, lw1)
    logq_m = -lam * t  # log q^m: the atom of W
    for direction in (-1, 1):
        k = kbest if direction == -1 else kbest + 1
        while 0 <= k < n:
            if fused:
                sk = s + e * math.exp(xs[k])
                i0, i1, j1 = _fused_node(r2, dim, sk, b2, ny, yg, lw0, lw1, work)
                lphis = -0.5 * dim * (_LOG2PI + math.log(sk)) - r2 / (2.0 * sk)
                lp = _logaddexp(i0, logq_m + lphis)
                lnum = math.log(lam * b2) + j1
                if diffusion > 0.0:
                    lnum = _logaddexp(lnum, math.log(0.5 * diffusion)
                                      + _logaddexp(logq_m + lphis - math.log(sk), i1))
                a0 = logw[k] + lp
                a1 = logw[k] + lnum
            else:
                lp, hh = _point_logpdf_h(r, t, dim, theta, diffusion, lam, b2,
                                         e * math.exp(xs[k]), buf)
                a0 = logw[k] + lp
                a1 = a0 + math.log(hh) if hh > 0.0 else -math.inf
            lo, hi, max0, max1, stop = walk_step(k, direction, a0, a1, g0, g1, lo, hi, max0,
                                                 max1, klo, khi)
            if stop:
                break
            k += direction
    return walk_total(g0, g1, lo, hi)


@nb.njit(cache=True, parallel=True)
def marginal_logpdf_h(r, t, dim, theta, diffusion, lam, b2, vdata, xs, logw, kfloor, logp_out,
                      h_out, nested=False):
    """Fill ``logp_out`` and ``h_out`` (n,) at radii ``r`` (n,) and clock times ``t`` (n,)."""
    n = r.shape[0]
    for i in nb.prange(n):
        buf = np.empty(3)
        g0 = np.empty(xs.shape[0])
        g1 = np.empty(xs.shape[0])
        yg = np.empty(_NY_MAX)
        lw0 = np.empty(_NY_MAX)
        lw1 = np.empty(_NY_MAX)
        work = np.empty((3, _NY_MAX))
        lp, hh = _marginal_point(r[i], t[i], dim, theta, diffusion, lam, b2, vdata, xs, logw,
                                 kfloor, buf, g0, g1, yg, lw0, lw1, work, nested)
        logp_out[i] = lp
        h_out[i] = hh


def _check(target, proc):
    if getattr(proc, "route", None) == "renewal":  # Student-t, Gaussian: _stable_renewal
        check_process(proc, target.dim)
    else:
        check_process(proc, target.dim, "the marginal score of the sub-Gaussian stable target")
    lo, hi = ALPHA_RANGE
    if not lo <= target.alpha <= hi:
        raise ValueError(f"the exact marginal of SubGaussianStable is implemented for alpha in "
                         f"[{lo}, {hi}], got alpha = {target.alpha}")
    return proc


class StableMarginalSource:
    """What :class:`levyscore.ScoreTable` needs to tabulate the marginal h (clock times)."""

    extrapolate = True  # h is smooth and even in r: the data law has a smooth density
    quantile = _QUANTILE

    def __init__(self, target, proc, refine=1, nested=False):
        self.nested = nested
        self.target = target
        self.proc = _check(target, proc)
        self.xs, self.logw = mixing_grid(float(target.alpha), int(target.dim), refine)
        self.kfloor = floor_node(self.logw)
        self.vc = variance_constant(proc.theta, proc.diffusion, proc.jump_rate, proc.jump_var)
        self.v0 = 2.0 * target.variance  # bulk scale^2 of the data (its alpha -> 2 limit)
        # route "renewal" (levyscore._stable_renewal): a table of W per distinct time, kept
        # for the build, whose random check points then share 2 times a panel
        self.renewal = self.proc.route == "renewal"
        self.wtables = {} if self.renewal else None
        self.random_times = 2 if self.renewal else None

    def _eval_renewal(self, r, t):
        from ._laws import wlaw_table
        from ._stable_renewal import law_arrays, renewal_marginal_logpdf_h

        p = self.proc
        lp = np.empty_like(r)
        h = np.empty_like(r)
        times, inverse = np.unique(t, return_inverse=True)
        for k, tk in enumerate(times):
            idx = np.flatnonzero(inverse == k)
            table, s = wlaw_table(p, float(tk), self.wtables)
            m, q, _, _, _ = time_constants(float(tk), p.theta, 0.0, p.jump_rate)
            kind, arrays = law_arrays(table)
            ri = np.ascontiguousarray(r[idx])
            lp_i = np.empty_like(ri)
            h_i = np.empty_like(ri)
            renewal_marginal_logpdf_h(kind, ri, p.dim, s, q, m, p.jump_var, p.jump_rate,
                                      p.diffusion, self.target.variance, self.xs, self.logw,
                                      self.kfloor, *arrays, lp_i, h_i)
            lp[idx] = lp_i
            h[idx] = h_i
        return lp, h

    def _eval(self, r, t):
        p = self.proc
        r = np.ascontiguousarray(r, dtype=np.float64).reshape(-1)
        t = np.ascontiguousarray(np.broadcast_to(t, r.shape), dtype=np.float64)
        if self.renewal and r.shape[0]:
            return self._eval_renewal(r, t)
        lp = np.empty_like(r)
        h = np.empty_like(r)
        if r.shape[0]:
            marginal_logpdf_h(r, t, p.dim, p.theta, p.diffusion, p.jump_rate,
                              p.b ** 2 if p.jump_rate > 0 else 0.0, self.target.variance,
                              self.xs, self.logw, self.kfloor, lp, h, self.nested)
        return lp, h

    def h(self, r, t):
        """Direct quadrature of h at flat radii r and clock times t."""
        return self._eval(r, t)[1]

    def logp(self, r, t):
        """Direct quadrature of log p at flat radii r and clock times t."""
        return self._eval(r, t)[0]

    def key_fields(self):
        t = self.target
        return [("target", "SubGaussianStable"), ("alpha", float(t.alpha).hex()),
                ("variance", float(t.variance).hex()), ("grid", str(GRID_VERSION)),
                ("quantile", float(self.quantile).hex())]

    def describe(self):
        return repr(self.target)


def marginal_table(target, proc, *, t_min=1e-3, t_max=10.0, rtol=1e-6, cache_dir=None,
                   cache=True):
    """Build (or load) the certified table of the marginal h; see SubGaussianStable.marginal_score."""
    return ScoreTable._build_source(StableMarginalSource(target, proc), t_min, t_max,
                                    cache_dir=cache_dir, cache=cache, rtol=rtol)


def marginal_logpdf(target, proc):
    """Callable ``logpdf(x, t)`` of the marginal (direct quadrature); see SubGaussianStable."""
    source = StableMarginalSource(target, proc)
    dim = target.dim

    def logpdf(x, t):
        x = as_points(x, dim, "x")
        flat = np.ascontiguousarray(x.reshape(-1, dim))
        tt = _clock_times(proc, t, x.shape[:-1])
        r = row_norms(flat)
        return source.logp(r, tt).reshape(x.shape[:-1])

    return logpdf


def _clock_times(proc, t, batch):
    """Validated clock times, flat, broadcast against the batch shape."""
    arr = np.asarray(t)
    if arr.dtype == np.bool_ or not (np.issubdtype(arr.dtype, np.floating)
                                     or np.issubdtype(arr.dtype, np.integer)):
        raise ValueError(f"t must be real, got dtype {arr.dtype}")
    arr = np.asarray(arr, dtype=np.float64)
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise ValueError("t must be finite and > 0")
    try:
        arr = np.broadcast_to(arr, batch)
    except ValueError:
        raise ValueError(f"t of shape {np.shape(t)} does not broadcast against {batch}") from None
    return np.ascontiguousarray(proc.clock(arr), dtype=np.float64).reshape(-1)
