r"""The law of W for Gaussian (constant-mark) jump amplitudes, and the laws of Y_t over it.

With Gaussian amplitudes (MATH.md §11) every mark is :math:`M = \sigma_A^2`; in units of
:math:`\sigma_A^2` the renewal equation of :mod:`levyscore._wvolterra` has the kernel
:math:`G(y) = 1[q \le y < 1]` and becomes the delay equation

.. math::

    w f(w) = m\,[F(w - q) - F(w - 1)],\qquad f_{W+R}(w) = F(w) - F(w - 1),

for the CDF F of W (atom :math:`F(0) = q^m`; :math:`F = 0` below 0) and its continuous part
f (R = U, uniform on (0, 1)). At q = 0 (the stationary law)
:math:`w f(w) = m [F(w) - F(w-1)]`, whose solution on (0, 1) is
:math:`F(w) = C w^m`, :math:`C = e^{-\gamma m}/\Gamma(m+1)` (the generalized Dickman law).

f jumps at w = q and w = 1, and each shift by q or 1 smooths a singularity by one
derivative: f is analytic between the points :math:`jq + k` and :math:`C^{j+k-2}` at them.
The solver cuts :math:`(q, w_{max})` at every such point with :math:`j + k \le G`,
G = ``_GEN`` = 12 (beyond, f is :math:`C^{10}`, below the resolution of the panels) or, for
q near 1, where W's law is a comb of narrow bumps in the windows :math:`[nq, n]`, as many
generations as the bumps narrower than the panels need, up to ``_GEN_MAX`` (``_generations``;
beyond that cap the table ends at the first unresolved window) and into panels of width
at most 0.5 and ratio at most 1.5, and solves the delay equation panel by panel by Chebyshev
collocation (``_N + 1`` Lobatto nodes): F on a panel is F at its left edge plus the
integral of the interpolant of f, so the equation at the nodes is linear in f's values there
(the points :math:`w - q` inside the panel make it implicit). The differences of F are
integrals of f over windows of length at most 1, summed panel by panel, so f keeps its
relative accuracy far into the tail; the table ends where ``w f`` and ``w f_{W+R}`` fall
below 1e-300.

The laws of Y_t are then integrals over w of f, f_{W+R} and the Gaussian kernel, taken
panel by panel by Gauss-Legendre rules in log w on sub-intervals short enough for the
kernel's curvature (``_integrate``): f's jumps sit on panel edges, so every rule sees an
analytic integrand.
"""
import math

import numba as nb
import numpy as np
from numpy.polynomial import chebyshev as _cheb

from ._gamma import log_gammainc_lower
from ._mixture import _logaddexp
from ._wmixture import _log_v, assemble, atom_cdf

__all__ = ["GaussWLaw", "gmix_logpdf_h", "gmix_log_h", "gmix_radial_cdf"]

_N = 24  # Chebyshev degree per panel
_GEN = 12  # singular points j q + k with j + k <= _GEN are panel edges, or more (_generations)
# For q near 1 the law of W is a comb: given n jumps, W lies in the window [n q, n] and is
# a sum of n terms in [q, 1], a bump of width sigma_n = (1 - q) sqrt(n / 12) at spacing ~1.
# Panels of width 0.5 resolve a bump to the tables' accuracy only if sigma_n >= _BUMP
# (measured, q = 0.82-0.95, against tables with every edge to j + k = 17-62: sigma 0.19,
# 0.13 and 0.09 gave h to 6e-14, 1e-12 and 8e-10; with 12 generations at q = 0.983, sigma
# 0.05, h was 19% off at r = 74, t = 0.0168). Windows whose bump is narrower get edges at
# all their singular points j q + k, j + k = n, which resolves them; at most _GEN_MAX
# generations: beyond that cap (q > 0.954) the table ends at the first unresolved window,
# (_GEN_MAX + 1) q, and radii that would need more jumps raise.
_BUMP = 0.15
_GEN_MAX = 128
_WIDTH = 0.5  # largest panel width (units of sigma_A^2)
_RATIO = 1.5  # largest b / a of a panel
_NODES = np.cos(np.pi * np.arange(_N, -1, -1) / _N)  # Lobatto, ascending on [-1, 1]
_VINV = np.linalg.inv(_cheb.chebvander(_NODES, _N))
_INT = np.stack([_cheb.chebint(np.eye(_N + 1)[k], lbnd=-1) for k in range(_N + 1)], axis=1)
_INT_VINV = _INT @ _VINV  # node values of f -> antiderivative's Chebyshev coefficients
_GL_X, _GL_W = np.polynomial.legendre.leggauss(10)
_LOG2PI = math.log(2.0 * math.pi)
_LOG2 = math.log(2.0)
_LOG_END = -3000.0  # the table of W ends where w f and w f_R fall below e^_LOG_END
_RIGHT_CUT = 800.0  # the quadrature stops where the integrand falls this far below its peak


def _generations(q):
    """``(G, truncated)``: the singular points j q + k with j + k <= G are panel edges; when
    ``truncated`` the comb's windows beyond G are not resolved (see ``_BUMP``)."""
    if q <= 0.0:
        return _GEN, False
    want = 12.0 * (_BUMP / (1.0 - q)) ** 2 - 1.0  # sigma_n >= _BUMP for n > want
    if want > _GEN_MAX:
        return _GEN_MAX, True
    return max(_GEN, math.ceil(want)), False


def _edges(q, m):
    """Panel edges from w_0 (q, or 1 for the stationary law) to w_max."""
    # W_t is stochastically below W_inf (W_t = W_inf - q W'_inf in law), whose density falls
    # like exp(-w log(w/m)): below e^-3000 (where the march stops) well before this cap
    w_cap = m + 12.0 * math.sqrt(m + 1.0) + 400.0
    gen, truncated = _generations(q)
    if truncated:
        w_cap = min(w_cap, (gen + 1) * q)  # the first window that is not resolved
    if q > 0.0:
        pts = {j * q + k for j in range(gen + 1) for k in range(gen + 1) if 1 <= j + k <= gen}
        # for small q, F near 0 (scale >> q) is close to the stationary power law C w^m, so
        # F(w - k) is ~ (w - k)^(m + k - 1) just above k: graded panels down to scale q
        for k in range(1, 4):
            pts.update(k + 0.5 ** j for j in range(1, 45) if 0.5 ** j > 4.0 * q)
        start = q
    else:
        pts = {float(k) for k in range(1, _GEN + 1)}
        # F(w - k) ~ (w - k)^(m + k - 1) just above the integer k: graded panels there
        for k in range(1, 4):  # (beyond k = 3 the power is smooth to the panels' accuracy)
            pts.update(k + 0.5 ** j for j in range(1, 45))
        start = 1.0
    pts = sorted(p for p in pts if start <= p < w_cap) + [w_cap]
    edges = [start]
    for p in pts:
        while p > edges[-1] * (1.0 + 1e-12):
            a = edges[-1]
            b = min(p, a + _WIDTH, a * _RATIO)
            if p - b < 1e-9 * p:  # do not leave a sliver before p
                b = p
            edges.append(b)
    return np.array(edges)


class GaussWLaw:
    """The law of W for Gaussian amplitudes at one time, as Chebyshev panels.

    Parameters
    ----------
    m : float
        ``lambda / (2 theta) > 0``.
    q : float
        ``exp(-2 theta t)`` in ``[0, 1)`` (0: stationary).

    Attributes
    ----------
    edges : ndarray (P + 1,)
    cf, cr : ndarray (P, _N + 1)
        Chebyshev coefficients of f and of f_{W+R} on each panel (mapped to [-1, 1]).
    pan : ndarray (P + 1, 3)
        Per panel: its log scale, and the log masses of f and of f_R from its left edge up;
        row P bounds the mass beyond the table (-inf unless the comb was cut short).
    meta : ndarray (4,)
        ``(m, q, log q^m or -inf, log C)``: the atom and the stationary constant.
    """

    def __init__(self, m, q):
        m = float(m)
        q = float(q)
        if q > 0.0 and (q < 1e-30 or m * math.log(q) < -600.0):
            # W_t = W_inf - q W'_inf in law: the stationary law to a relative q, and the atom
            # q^m and the jumps' lower edge q are below the float resolution of the result
            q = 0.0
        self.m, self.q = m, q
        self.logc = -np.euler_gamma * m - math.lgamma(m + 1.0)
        edges = _edges(q, m)
        fa0 = q ** m if q > 0.0 else math.exp(self.logc)  # F at the first edge (q, or 1)
        atom = q ** m if q > 0.0 else 0.0
        cf, cr, ls, last, Fa = _solve_panels(m, q, self.logc, atom, fa0, edges, _NODES, _VINV,
                                             _INT, _INT_VINV)
        self.edges = edges[:last + 1].copy()
        self.cf = cf[:last].copy()
        self.cr = cr[:last].copy()
        # per panel: its log scale, and the log of the mass of f and of f_R from its left
        # edge up (the quadratures stop once what is left cannot matter)
        # row `last`: a bound on the mass beyond the table, -inf unless the comb was cut short
        # (_generations): W > w_end needs N >= G jumps and W + R > w_end N >= G - 1, with
        # N ~ Poisson(mu), mu = m log(1/q) < 1/96 there, P(N >= k) <= mu^k e^-mu / k! /
        # (1 - mu / (k + 1))
        gen, truncated = _generations(q)
        beyond = -math.inf
        if truncated:
            mu = -m * math.log(q)
            k = gen - 1
            beyond = k * math.log(mu) - math.lgamma(k + 1.0) - mu - math.log1p(-mu / (k + 1.0))
        pan = np.empty((last + 1, 3))
        pan[:last, 0] = ls[:last]
        pan[last] = (0.0, beyond, beyond)
        half = 0.5 * np.diff(self.edges)
        for col, c in ((1, self.cf), (2, self.cr)):
            ints = half[:, None] * (_INT @ c.T).T  # antiderivatives on [-1, 1]
            mass = ints.sum(axis=1)  # at t = 1, where every T_j is 1
            logm = np.where(mass > 0.0, np.log(np.maximum(mass, 1e-300)), -np.inf) + ls[:last]
            logm = np.append(logm, beyond)
            pan[:, col] = np.logaddexp.accumulate(logm[::-1])[::-1]
        self.pan = pan
        self.mass = Fa  # F at the last edge: 1 to the table's accuracy
        lq = m * math.log(q) if q > 0.0 else -math.inf
        self.meta = np.array([m, q, lq, self.logc])


@nb.njit(cache=True)
def _solve_panels(m, q, logc, atom, fa0, edges, nodes, vinv, integ, integ_vinv):
    """Solve the delay equation panel by panel (module docstring), from the first edge up.

    Returns ``(cf, cr, ls, last, F)``: the Chebyshev coefficients of f and f_{W+R} on the
    panels ``0 .. last - 1``, their log scales (f = e^ls * series), and F at the last edge.
    """
    n1 = nodes.shape[0]
    P = edges.shape[0] - 1
    cf = np.zeros((P, n1))
    cr = np.zeros((P, n1))
    cI = np.zeros((P, n1 + 1))  # antiderivative of f on each panel, 0 at its left edge
    pmass = np.zeros(P)  # the integral of f over each panel (cI at its right edge)
    ls = np.zeros(P)
    Fa = fa0
    last = P
    w = np.empty(n1)
    shifted = np.empty(n1)
    lag1 = np.empty(n1)
    hi = np.empty(n1)
    lo_a = np.empty(n1)
    known = np.empty(n1)
    fr = np.empty(n1)
    mat = np.empty((n1, n1))
    tk = np.empty(n1 + 2)
    for k in range(P):
        a = edges[k]
        b = edges[k + 1]
        if k > 0:
            # the far tail falls like exp(-w log(w/m)), far below the smallest double:
            # a panel whose values came out below 1e-50 moves the next one's scale
            prev = 0.0
            for i in range(n1):
                prev = max(prev, abs(_clenshaw(nodes[i], cf[k - 1]))
                           + abs(_clenshaw(nodes[i], cr[k - 1])))
            ls[k] = ls[k - 1] + (math.log(prev) if 0.0 < prev < 1e-50 else 0.0)
        half = 0.5 * (b - a)
        tol = 1e-13 * b  # rounding of the node positions, relative to the panel
        for i in range(n1):
            w[i] = a + half * (nodes[i] + 1.0)
            shifted[i] = w[i] - q
            lag1[i] = w[i] - 1.0
        # the rows of the implicit part: F(w - q) - F(a) for w - q inside the panel is the
        # integral of the interpolant of f, linear in f's node values
        for i in range(n1):
            for j in range(n1):
                mat[i, j] = 0.0
            if shifted[i] >= a:
                t = (shifted[i] - a) / half - 1.0
                tk[0] = 1.0
                tk[1] = t
                for j in range(2, n1 + 1):
                    tk[j] = 2.0 * t * tk[j - 1] - tk[j - 2]
                for j in range(n1):
                    acc = 0.0
                    for l in range(n1 + 1):
                        acc += tk[l] * integ_vinv[l, j]
                    mat[i, j] = -m * half * acc
            mat[i, i] += w[i]
            if abs(lag1[i]) < tol:
                lag1[i] = 0.0
            if abs(shifted[i]) < tol:
                shifted[i] = 0.0
        # F(w - q) - F(w - 1) = atom [w - 1 < 0 <= w - q] + the integral of f over the window
        # (w - 1, w - q): summed panel by panel, never as a difference of two values of F
        # near 1 (which would leave no digit of f in the tail). The panel's first node takes
        # right limits, its last node left limits (f jumps at the edges w = q, 1, ...)
        for i in range(n1):
            at = atom if (lag1[i] < 0.0 and shifted[i] >= 0.0) else 0.0
            if i == n1 - 1:
                if lag1[i] == 0.0 and shifted[i] > 0.0:
                    at = atom
                if shifted[i] == 0.0:
                    at = 0.0
            hi[i] = min(shifted[i], a)
            known[i] = _unit(at, ls[k])
        _window(lag1, hi, k, edges, cI, pmass, ls, q, m, logc, known)
        for i in range(n1):
            known[i] *= m
        f = np.linalg.solve(mat, known)
        for j in range(n1):
            acc = 0.0
            for i in range(n1):
                acc += vinv[j, i] * f[i]
            cf[k, j] = acc
        for j in range(n1 + 1):
            acc = 0.0
            for i in range(n1):
                acc += integ[j, i] * cf[k, i]
            cI[k, j] = half * acc
        pmass[k] = _clenshaw(1.0, cI[k])
        # f_{W+R}(w) = F(w) - F(w - 1) = atom [w - 1 < 0] + integral of f over (w - 1, w)
        for i in range(n1):
            at = atom if lag1[i] < 0.0 else 0.0
            if i == n1 - 1 and lag1[i] == 0.0:
                at = atom  # left limit at the last node (w = 1)
            fr[i] = _unit(at, ls[k])
            lo_a[i] = a
        _window(lag1, lo_a, k, edges, cI, pmass, ls, q, m, logc, fr)
        for i in range(n1):
            fr[i] += _clenshaw(nodes[i], cI[k])
        size = 0.0
        for j in range(n1):
            acc = 0.0
            for i in range(n1):
                acc += vinv[j, i] * fr[i]
            cr[k, j] = acc
        for i in range(n1):
            size = max(size, w[i] * (abs(f[i]) + abs(fr[i])))
        Fa += math.exp(ls[k]) * pmass[k]
        # the end: w f and w f_R both below e^_LOG_END (f alone vanishes in gaps such as
        # (3, 4q)), or the cap
        if a > 1.0 and (size == 0.0 or math.log(size) + ls[k] < _LOG_END):
            last = k + 1
            break
    return cf, cr, ls, last, Fa


@nb.njit(cache=True)
def _unit(x, ls):
    """x >= 0 in units of e^ls (no 0 * inf where x = 0 and e^-ls overflows)."""
    return math.exp(math.log(x) - ls) if x > 0.0 else 0.0


@nb.njit(cache=True)
def _window(z1, z2, k, edges, cI, pmass, ls, q, m, logc, out):
    """Add to ``out`` the integral of f over (z1, z2) (arrays, z2 <= left edge of panel k) in
    panel k's units (``e^ls[k]``), from the solved panels below k and the analytic part
    below the first edge; nothing where z2 <= z1."""
    e0 = edges[0]
    ref = ls[k]
    for i in range(z1.shape[0]):
        lo = max(z1[i], 0.0)
        top = z2[i]
        if q == 0.0 and ref == 0.0:  # stationary: F = C w^m below the first edge (w = 1)
            l0 = min(lo, e0)
            h0 = min(max(top, l0), e0)
            out[i] += math.exp(logc) * (h0 ** m - l0 ** m)
        if k == 0 or top <= lo:
            continue
        j = max(np.searchsorted(edges, lo, side="right") - 1, 0)
        while j < k and edges[j] < top:
            a = edges[j]
            b = edges[j + 1]
            l1 = min(max(lo, a), b)
            h1 = min(max(top, a), b)
            if h1 > l1:
                if l1 == a and h1 == b:  # a whole panel (the comb's many small ones)
                    part = pmass[j]
                else:
                    part = (_clenshaw(2.0 * (h1 - a) / (b - a) - 1.0, cI[j])
                            - _clenshaw(2.0 * (l1 - a) / (b - a) - 1.0, cI[j]))
                out[i] += part if ls[j] == ref else part * math.exp(ls[j] - ref)
            j += 1


# -- evaluation (Numba) ------------------------------------------------------------------------
@nb.njit(cache=True)
def _clenshaw(t, c):
    b1 = 0.0
    b2 = 0.0
    for k in range(c.shape[0] - 1, 0, -1):
        b1, b2 = 2.0 * t * b1 - b2 + c[k], b1
    return t * b1 - b2 + c[0]


@nb.njit(cache=True)
def _log_psi(x, k, a, b, edges, cf, cr, pan, meta):
    """(log w f, log w f_R) at x = log w; k: panel index (-1: below the first edge)."""
    m = meta[0]
    q = meta[1]
    if k < 0:
        if q > 0.0:  # (0, q): no jump can be this small; f_R = F = q^m (the atom)
            return -math.inf, meta[2] + x
        return math.log(m) + meta[3] + m * x, meta[3] + (m + 1.0) * x
    w = math.exp(x)
    t = 2.0 * (w - a) / (b - a) - 1.0
    t = min(1.0, max(-1.0, t))
    f = _clenshaw(t, cf[k])
    fr = _clenshaw(t, cr[k])
    lf = math.log(f) + x + pan[k, 0] if f > 0.0 else -math.inf
    lr = math.log(fr) + x + pan[k, 0] if fr > 0.0 else -math.inf
    return lf, lr


@nb.njit(cache=True)
def _bound(x, logr, dim, s, lsig2, c, x_first):
    """A concave bound (up to a constant) of every log-integrand at x = log w: the kernel's
    ``-(D/2 + 1) log v - r^2/(2v)`` plus ``c (x - x_first)`` below the first edge, where
    ``w f`` and ``w f_R`` fall at least like ``w^c``."""
    lv = _log_v(x, s, lsig2)
    z = math.exp(2.0 * logr - _LOG2 - lv)
    return -(0.5 * dim + 1.0) * lv - z + c * min(x - x_first, 0.0)


@nb.njit(cache=True)
def _x_cut(logr, dim, s, lsig2, c, x_first, x_top):
    """Where the bound is 1000 below its maximum over x <= x_top, on the left of it: every
    integrand is below e^-1000 of the largest one there (so r far out skips the sharp
    kernel at small w instead of walking through it)."""
    lo = -1700.0
    hi = x_top
    g = 0.5 * (math.sqrt(5.0) - 1.0)
    # the kernel's part peaks at v* = r^2 / (D + 2); below x* (v < v*) both parts of the
    # bound rise with x, so the maximum lies above x*. Searching only there keeps the golden
    # section off the plateau v ~ s (tiny s), where the bound's values tie in floating point
    a = lo
    lv_star = 2.0 * logr - math.log(dim + 2.0)
    if s > 0.0 and lv_star > math.log(s):
        a = max(lo, min(hi, lv_star + math.log(-math.expm1(math.log(s) - lv_star)) - lsig2))
    elif s == 0.0:
        a = max(lo, min(hi, lv_star - lsig2))
    b = hi
    for _ in range(200):
        c1 = b - g * (b - a)
        c2 = a + g * (b - a)
        if _bound(c1, logr, dim, s, lsig2, c, x_first) >= _bound(c2, logr, dim, s, lsig2, c,
                                                               x_first):
            b = c2
        else:
            a = c1
        if b - a < 1e-9:
            break
    xm = 0.5 * (a + b)
    level = _bound(xm, logr, dim, s, lsig2, c, x_first) - 1000.0
    if _bound(lo, logr, dim, s, lsig2, c, x_first) >= level:
        return lo
    a, b = lo, xm
    for _ in range(200):
        mid = 0.5 * (a + b)
        if _bound(mid, logr, dim, s, lsig2, c, x_first) < level:
            a = mid
        else:
            b = mid
        if b - a < 1e-9:
            break
    return a


@nb.njit(cache=True)
def _rest_negligible(mode, k, logr, dim, s, lsig2, edges, pan, acc):
    """Whether the integrals from panel k up are below e^-40 of those so far: each is at most
    the mass of f (or f_R) above the panel's left edge times the largest kernel value there
    (v >= v(a_k); the CDF's kernel P(D/2, z) is at most 1)."""
    if mode == 1:
        return pan[k, 1] < acc[0] - 40.0
    lv0 = _log_v(math.log(edges[k]), s, lsig2)
    if logr > -math.inf:
        la = max(lv0, 2.0 * logr - math.log(dim))  # argmax of v^-D/2 e^{-r^2/2v}
        lb = max(lv0, 2.0 * logr - math.log(dim + 2.0))  # of v^-(D/2+1) e^{-r^2/2v}
        k0 = -0.5 * dim * (_LOG2PI + la) - math.exp(2.0 * logr - _LOG2 - la)
        k1 = -0.5 * dim * (_LOG2PI + lb) - math.exp(2.0 * logr - _LOG2 - lb) - lb
    else:
        k0 = -0.5 * dim * (_LOG2PI + lv0)
        k1 = k0 - lv0
    return (pan[k, 1] + k0 < acc[0] - 40.0 and pan[k, 1] + k1 < acc[1] - 40.0
            and pan[k, 2] + k1 < acc[2] - 40.0)


@nb.njit(cache=True)
def _beyond_negligible(mode, npan, logr, dim, s, lsig2, edges, pan, acc):
    """Whether the mass beyond the table (row ``npan`` of ``pan``: -inf unless the comb was
    cut short) times the largest kernel value there is below e^-40 of the integrals. The
    CDF's kernel P(D/2, r^2/2v) is largest at the table's end (v only grows)."""
    beyond = pan[npan, 1]
    if beyond == -math.inf:
        return True
    if mode == 1:
        if logr == -math.inf:
            return True
        lv0 = _log_v(math.log(edges[npan]), s, lsig2)
        bound = beyond + log_gammainc_lower(0.5 * dim, math.exp(2.0 * logr - _LOG2 - lv0))
        return bound == -math.inf or bound < acc[0] - 40.0
    return _rest_negligible(mode, npan, logr, dim, s, lsig2, edges, pan, acc)


@nb.njit(cache=True)
def _step(x, logr, dim, s, lsig2, m, mode):
    """Gauss-Legendre block length at x = log w: short enough for the kernel's curvature
    (z = r^2 / 2v) and for f's (w log w in the tail)."""
    lv = _log_v(x, s, lsig2)
    z = math.exp(2.0 * logr - _LOG2 - lv) if logr > -math.inf else 0.0
    if mode == 1 and z > 0.5 * dim + 12.0 * math.sqrt(0.5 * dim) + 60.0:
        z = 0.0  # P(D/2, z) = 1 to e^-60 there: log P is flat
    w = math.exp(x)
    kappa = z + 0.25 * abs(z - 0.5 * dim - 1.0) + 0.25 * dim + m + 2.0 \
        + w * (1.0 + math.log1p(w))
    return min(0.5, 1.0 / math.sqrt(kappa)), z


@nb.njit(cache=True)
def _block(mode, x, step, k, a, b, logr, dim, s, lsig2, edges, cf, cr, pan, meta, acc, top):
    """Add the 10-point Gauss-Legendre rule on (x, x + step) to the channels ``acc``; returns
    the largest and the last channel-0 log-integrand seen (``top`` updated)."""
    last = -math.inf
    for j in range(10):
        xx = x + 0.5 * step * (_GL_X[j] + 1.0)
        lw = math.log(0.5 * step * _GL_W[j])
        lf, lr = _log_psi(xx, k, a, b, edges, cf, cr, pan, meta)
        lvv = _log_v(xx, s, lsig2)
        zz = math.exp(2.0 * logr - _LOG2 - lvv) if logr > -math.inf else 0.0
        if mode == 1:
            l0 = lf + log_gammainc_lower(0.5 * dim, zz)
            acc[0] = _logaddexp(acc[0], lw + l0)
        else:
            lphi = -0.5 * dim * (_LOG2PI + lvv) - zz
            l0 = lf + lphi
            acc[0] = _logaddexp(acc[0], lw + l0)
            acc[1] = _logaddexp(acc[1], lw + lf + lphi - lvv)
            acc[2] = _logaddexp(acc[2], lw + lr + lphi - lvv)
        top = max(top, l0)
        last = l0
    return top, last


@nb.njit(cache=True)
def _kernel_max(logr, dim, lv0, extra):
    """max over v >= e^lv0 of log(v^-(D/2 + extra) e^{-r^2/2v} (2 pi)^-D/2)."""
    lv = lv0
    if logr > -math.inf:
        lv = max(lv0, 2.0 * logr - math.log(dim + 2.0 * extra))
    z = math.exp(2.0 * logr - _LOG2 - lv) if logr > -math.inf else 0.0
    return -0.5 * dim * (_LOG2PI + lv) - z - extra * lv


@nb.njit(cache=True)
def _below_negligible(mode, x, logr, dim, s, lsig2, meta, acc):
    """Whether the integrals over x' < x, below the first edge, are below e^-40 of ``acc``.

    There ``w f`` and ``w f_R`` are known exactly: 0 and ``q^m w`` (q > 0), or ``m C w^m``
    and ``C w^(m+1)`` (the stationary power law); each channel is at most that times the
    largest kernel value over v >= s, integrated in x up to x."""
    m = meta[0]
    q = meta[1]
    lv0 = math.log(s) if s > 0.0 else -math.inf
    if lv0 == -math.inf and logr == -math.inf:
        return False  # r = s = 0: the kernel is unbounded (the atom rule decides there)
    k0 = _kernel_max(logr, dim, lv0, 0.0)
    k1 = _kernel_max(logr, dim, lv0, 1.0)
    if mode == 1:
        return q > 0.0 or meta[3] + m * x < acc[0] - 40.0
    if q > 0.0:  # channel 2 only: int q^m e^x' K1 dx' <= q^m e^x K1max
        return meta[2] + x + k1 < acc[2] - 40.0
    lc = meta[3]
    return (lc + m * x + k0 < acc[0] - 40.0 and lc + m * x + k1 < acc[1] - 40.0
            and lc + (m + 1.0) * x - math.log(m + 1.0) + k1 < acc[2] - 40.0)


@nb.njit(cache=True)
def _integrate(mode, logr, dim, s, lsig2, edges, cf, cr, pan, meta, out):
    """Log of the integrals over x = log w of the channels (mode 0: p, p/v, (W+R) p/v; mode
    1: the CDF integrand) into ``out[0:3]``; online log-sum-exp over Gauss-Legendre rules.

    The panels come first, upwards, until what is left above cannot matter
    (:func:`_rest_negligible`); then the region below the first edge, downwards from it,
    until what is left below cannot matter (:func:`_below_negligible`) or the kernel's own
    cut (:func:`_x_cut`)."""
    m = meta[0]
    q = meta[1]
    npan = cf.shape[0]
    nch = 1 if mode == 1 else 3
    acc = np.full(3, -math.inf)
    top = -math.inf  # largest channel-0 log-integrand, and its value at the table's end
    end = -math.inf
    x_first = math.log(edges[0])
    if q > 0.0:
        x_lo = x_first + math.log(1e-300) if mode == 0 else x_first  # f_R = q^m down to 0
    else:
        x_lo = x_first - 60.0 / min(m, 1.0)
        if logr > -math.inf:
            x_lo = min(x_lo, 2.0 * logr - math.log(dim + 2.0) - lsig2 - 40.0)
    x_lo = max(x_lo, -1700.0)
    if mode == 0 and logr > -math.inf:
        # at the table's end the kernel's log still climbs (slope (z - D/2 - 1) sigma^2 w/v)
        # far faster than w f can fall (|slope| <= w (1 + log(1 + w)) + m + 2): the integrand
        # peaks beyond the tabulated law of W (status 1: the callers raise)
        w_top = edges[npan]
        lv_top = _log_v(math.log(w_top), s, lsig2)
        z_top = math.exp(2.0 * logr - _LOG2 - lv_top)
        climb = (z_top - 0.5 * dim - 1.0) * math.exp(lsig2 + math.log(w_top) - lv_top)
        if climb > 50.0 * (w_top * (1.0 + math.log1p(w_top)) + m + 2.0):
            for c in range(3):
                out[c] = math.nan
            return 1
    if logr > -math.inf:
        c = 1.0 if q > 0.0 else min(m, 1.0)
        x_lo = max(x_lo, _x_cut(logr, dim, s, lsig2, c, x_first, math.log(edges[npan])))
    cut = False
    for k in range(npan):
        if acc[0] > -math.inf and _rest_negligible(mode, k, logr, dim, s, lsig2, edges, pan,
                                                   acc):
            cut = True
            break
        a = edges[k]
        b = edges[k + 1]
        xb = math.log(b)
        x = max(math.log(a), x_lo)
        while x < xb:
            step, z = _step(x, logr, dim, s, lsig2, m, mode)
            if z > 1e300 and mode == 0:  # e^-z: nothing to add, no step short enough to take
                break
            step = min(step, xb - x)
            top, end = _block(mode, x, step, k, a, b, logr, dim, s, lsig2, edges, cf, cr, pan,
                              meta, acc, top)
            x += step
    if not cut and top > -math.inf and end > top - 40.0:
        # the integrand is still large where the table of W ends: the radius lies beyond
        # the tabulated law (status 1; the callers return NaN and raise)
        for c in range(3):
            out[c] = math.nan
        return 1
    # below the first edge, downwards
    x = x_first
    while x > x_lo:
        if acc[0] > -math.inf and _below_negligible(mode, x, logr, dim, s, lsig2, meta, acc):
            break
        step, z = _step(x, logr, dim, s, lsig2, m, mode)
        if z > 1e300 and mode == 0:
            break  # further down the kernel only sharpens: e^-z
        step = min(step, x - x_lo)
        top, _ = _block(mode, x - step, step, -1, 0.0, edges[0], logr, dim, s, lsig2, edges,
                        cf, cr, pan, meta, acc, top)
        x -= step
    if not _beyond_negligible(mode, npan, logr, dim, s, lsig2, edges, pan, acc):
        # the comb's unresolved windows beyond the table could matter (status 1)
        for c in range(3):
            out[c] = math.nan
        return 1
    for c in range(3):
        out[c] = acc[c] if c < nch else -math.inf
    return 0


@nb.njit(cache=True)
def _point_logpdf_logh(r, dim, s, jump_var, lam, diffusion, edges, cf, cr, pan, meta, buf):
    m = meta[0]
    q = meta[1]
    if r == 0.0 and s == 0.0 and q == 0.0 and not m > 0.5 * dim:
        return math.inf, -math.inf
    logr = math.log(r) if r > 0.0 else -math.inf
    if _integrate(0, logr, dim, s, math.log(jump_var), edges, cf, cr, pan, meta, buf) != 0:
        return math.nan, math.nan
    # where p underflows the table of W has ended: h is unknown (NaN; the score raises)
    return assemble(buf, logr, dim, s, jump_var, lam, diffusion, q, meta[2], math.nan)


@nb.njit(cache=True, parallel=True)
def gmix_logpdf_h(r, dim, s, jump_var, lam, diffusion, edges, cf, cr, pan, meta, logp_out,
                  h_out):
    """``log p`` and h at radii ``r`` (n,) for Gaussian amplitudes at one time."""
    for i in nb.prange(r.shape[0]):
        buf = np.empty(3)
        a, b = _point_logpdf_logh(r[i], dim, s, jump_var, lam, diffusion, edges, cf, cr, pan,
                                  meta, buf)
        logp_out[i] = a
        h_out[i] = math.exp(b)


@nb.njit(cache=True, parallel=True)
def gmix_log_h(r, dim, s, jump_var, lam, diffusion, edges, cf, cr, pan, meta, logh_out):
    """``log h`` at radii ``r`` (n,)."""
    for i in nb.prange(r.shape[0]):
        buf = np.empty(3)
        _, b = _point_logpdf_logh(r[i], dim, s, jump_var, lam, diffusion, edges, cf, cr, pan,
                                  meta, buf)
        logh_out[i] = b


@nb.njit(cache=True, parallel=True)
def gmix_radial_cdf(r, dim, s, jump_var, edges, cf, cr, pan, meta, out):
    """``P(|Y| <= r)`` including the atom, at radii ``r`` (n,)."""
    atom = math.exp(meta[2])
    for i in nb.prange(r.shape[0]):
        buf = np.empty(3)
        ri = r[i]
        total = atom_cdf(atom, s, ri, dim)
        if ri > 0.0:
            if _integrate(1, math.log(ri), dim, s, math.log(jump_var), edges, cf, cr, pan, meta,
                          buf) != 0:
                total = math.nan
            else:
                total += math.exp(buf[0])
        out[i] = min(total, 1.0) if total == total else math.nan
