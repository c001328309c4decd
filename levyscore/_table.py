r"""Tabulated conditional generalized score for the W-mixture route (MATH.md sections 2-4).

For processes whose conditional score has no closed form (``route == "mixture"``: diffusion
> 0, or a non-integer exponent m) each value of :math:`h` in :math:`S(y, t) = -y\,h(|y|, t)`
(MATH.md section 3) costs a one-dimensional quadrature over the law of W (MATH.md section 2,
:mod:`levyscore._mixture`), some 20-50 microseconds. :class:`ScoreTable` tabulates
:math:`h` once per process and evaluates it in a fraction of a microsecond.

Coordinates
    :math:`u = \log\big(r/\sqrt{v(t)}\big)` and :math:`\tau = \log t`, with
    :math:`v(t) = (\sigma_G^2 + \lambda\sigma_A^2)(1 - e^{-2\theta t})/(2\theta)` the
    per-component variance of :math:`Y_t` (MATH.md section 8). The bulk of :math:`Y_t` sits
    near :math:`u = \log\sqrt{D}` at every t, and :math:`\log h` is smooth in
    :math:`(u, \tau)`: it tends to a constant for :math:`u \to -\infty` when
    :math:`\sigma_G > 0` (h is smooth and even in r), is asymptotically linear in u there for
    a pure-jump process (:math:`h \sim r^{-2}`), and tends to :math:`\log\theta` as
    :math:`t \to \infty` (the stationary score is :math:`-\theta y`).

Interpolation scheme
    The rectangle :math:`[u_{lo}, u_{hi}] \times [\tau_{lo}, \tau_{hi}]` is covered by a
    uniform grid of root panels (width about 2 in u and 3 in tau), each refined by
    bisection into a binary tree of rectangular panels. On each panel :math:`\log h` is
    interpolated by a tensor-product Chebyshev polynomial of degree 15 in each coordinate
    (16 x 16 Chebyshev points of the first kind; coefficients by a type-II DCT), evaluated
    from the three-term recurrence of :math:`T_k` in each coordinate. A panel is split (in
    the direction of its larger coefficient tail) while the sum of the moduli of its last
    two Chebyshev coefficient rows or columns exceeds ``rtol / 50``. Since the absolute
    error of :math:`\log h` is the relative error of h, this controls the relative error
    of h. Panels cost 16 x 16 quadratures each; the root grid, not the refinement, sets
    most of the panel count (some 40-80 panels, 10-20 thousand nodes, for t in
    [1e-3, 10]).

Certification
    After refinement every panel is checked against direct quadrature
    (:func:`levyscore._mixture.mixture_logpdf_h`) at points never used to build it: the
    17 x 17 Chebyshev-Lobatto points of the panel (they interleave the interpolation nodes
    in both coordinates and include the panel's edges and corners) and 16 uniformly random
    points (fixed seed derived from the cache key). Points are evaluated through the same
    kernel users call, from :math:`(r, t)`. Any panel whose maximum relative error exceeds
    ``rtol`` is split in both directions and the new panels are refined and certified in
    turn. Below :math:`u_{lo}` (see "Domain") the extrapolated value is certified at
    ``r = 0`` and two radii below :math:`r_{lo}`; should that fail, :math:`u_{lo}` is lowered
    and the table rebuilt. The maximum relative error over all check points is stored as
    :attr:`ScoreTable.max_rel_error`; a build that cannot reach ``rtol`` raises
    ``RuntimeError``.

Domain and fall-back
    t in ``[t_min, t_max]``; u from :math:`u_{lo}` to :math:`u_{hi}`, the largest
    :math:`1 - 10^{-12}` radial quantile of :math:`Y_t` over up to 25 times of the range (the
    tail is integrated from the quadrature's density) plus a margin of 0.5. With
    :math:`\sigma_G > 0`, :math:`h(r) = h(0) + O(r^2)`, and :math:`u_{lo}` is chosen (at most
    :math:`\log 10^{-3}`) so that the relative change of h between 0 and
    :math:`r_{lo} = e^{u_{lo}}\sqrt{v}` is about 1e-8; radii below :math:`r_{lo}` use
    :math:`h(r_{lo})` (certified, as above). For a pure-jump process h diverges like
    :math:`r^{-2}` at 0, and radii below :math:`r_{lo}` (:math:`u_{lo} = \log 10^{-3}`) fall
    back to quadrature. Every point outside the domain (t outside ``[t_min, t_max]``,
    :math:`u > u_{hi}`, or :math:`u < u_{lo}` without diffusion) is computed by direct
    quadrature, so results are always right; only their cost changes. At ``y = 0`` the score
    is 0 (``S = -y h``).

Marginal tables
    The same machinery tabulates the *marginal* score of a data law whose marginal h is
    known by quadrature (:meth:`levyscore.targets.SubGaussianStable.marginal_score`): a
    *source* object supplies the direct quadratures, the scale
    :math:`v(t) + v_0 e^{-2\theta t}` of u (v_0 the data's bulk variance), the radial
    quantile of the upper edge (1e-7 for the heavy-tailed marginal, whose 1 - 1e-12 quantile
    lies beyond 1e6) and extra cache-key fields (:class:`ConditionalSource` is the
    conditional one).

Disk cache
    A table depends only on (D, theta, sigma_G^2, lambda, sigma_A^2), the (clock) time range,
    ``rtol`` and :data:`FORMAT_VERSION`; the SHA-256 of these (exact float hex) names the file
    ``scoretable-<digest>.npz`` in ``cache_dir``, else ``$LEVYSCORE_CACHE_DIR``, else
    ``~/.cache/levyscore``. Files are written to a temporary file and moved into place with
    :func:`os.replace`. A file is used only if it loads, its stored key equals the requested
    key, a SHA-256 checksum over all its arrays matches, its tree is consistent and its
    certified error is within ``rtol``; anything else is rebuilt and overwritten.
"""
import hashlib
import math
import os
import tempfile
import time
import warnings

import numba as nb
import numpy as np
import scipy.fft

from ._closed_form import rescaled_norm
from ._mixture import mixture_log_h, mixture_logpdf_h
from ._process import JumpDiffusion
from ._validation import as_points, as_radii, check_real, row_norms

__all__ = ["ScoreTable", "FORMAT_VERSION"]

#: Version of the table layout and build procedure; part of the cache key.
FORMAT_VERSION = 2

_N = 16  # Chebyshev points per panel and coordinate
_ROOT_DU = 2.0  # target root-panel width in u
_ROOT_DTAU = 3.0  # target root-panel width in tau = log t
_TAIL_FRACTION = 0.02  # refinement: coefficient tail below rtol * _TAIL_FRACTION
_N_RANDOM = 16  # random check points per panel
_MAX_DEPTH = 12  # bisections below a root panel
_MAX_ROUNDS = 6  # certification rounds
_QUANTILE = 1e-12  # u_hi: the (1 - _QUANTILE) radial quantile
_U_MARGIN = 0.5
_U_LO_DEFAULT = math.log(1e-3)
_U_LO_SMOOTH = 1e-8  # target relative change of h below r_lo (diffusion > 0)
_CACHE_ENV = "LEVYSCORE_CACHE_DIR"

# layout of the float parameter vector passed to the kernels
_P_ULO, _P_UHI, _P_TAULO, _P_TAUHI, _P_TLO, _P_THI, _P_VC, _P_2THETA, _P_EXTRAP, _P_V0 = range(10)
_N_PARAMS = 10


# -- kernels ------------------------------------------------------------------------------------
@nb.njit(cache=True)
def _locate(u, tau, params, roots, split, value, child):
    """Tree node (a leaf) of the panel containing (u, tau); both inside the rectangle."""
    nu0 = roots[0]
    nt0 = roots[1]
    iu = int((u - params[_P_ULO]) / (params[_P_UHI] - params[_P_ULO]) * nu0)
    it = int((tau - params[_P_TAULO]) / (params[_P_TAUHI] - params[_P_TAULO]) * nt0)
    iu = min(max(iu, 0), nu0 - 1)
    it = min(max(it, 0), nt0 - 1)
    node = iu * nt0 + it
    while split[node] >= 0:
        c = u if split[node] == 0 else tau
        node = child[node] + (1 if c >= value[node] else 0)
    return node


@nb.njit(cache=True)
def _chebyshev2d(coef, leaf, x, y, work):
    """``sum_kl coef[leaf, k, l] T_k(x) T_l(y)``; ``work`` is scratch of shape (3, n).

    The Chebyshev polynomials come from their three-term recurrence (stable on [-1, 1]);
    the sum over k is accumulated into a vector over l, which the compiler vectorises.
    """
    n = coef.shape[1]
    tx = work[0]
    ty = work[1]
    acc = work[2]
    tx[0] = 1.0
    ty[0] = 1.0
    tx[1] = x
    ty[1] = y
    for k in range(2, n):
        tx[k] = 2.0 * x * tx[k - 1] - tx[k - 2]
        ty[k] = 2.0 * y * ty[k - 1] - ty[k - 2]
    for l in range(n):
        acc[l] = 0.0
    for k in range(n):
        a = tx[k]
        for l in range(n):
            acc[l] += a * coef[leaf, k, l]
    val = 0.0
    for l in range(n):
        val += acc[l] * ty[l]
    return val


@nb.njit(cache=True)
def _point_h(r, t, params, roots, split, value, child, leaf_of, boxes, coef, work):
    """(h, leaf) at radius r and time t.

    leaf = -1 where (r, t) is outside the table (h must come from quadrature), -2 for the
    exact value h = 0 at r = 0 of a pure-jump process (the quadrature's own convention).
    """
    if not (t >= params[_P_TLO] and t <= params[_P_THI]):
        return 0.0, -1
    v = -params[_P_VC] * math.expm1(-params[_P_2THETA] * t)
    if params[_P_V0] != 0.0:  # scale of a marginal table: v(t) + v0 q (see _Builder.v)
        v += params[_P_V0] * math.exp(-params[_P_2THETA] * t)
    tau = math.log(t)
    tau = min(max(tau, params[_P_TAULO]), params[_P_TAUHI])
    if r > 0.0:
        u = math.log(r) - 0.5 * math.log(v)
    elif params[_P_EXTRAP] == 0.0:
        return 0.0, -2  # pure jump at r = 0: h = 0 by convention, as in the quadrature
    else:
        u = -math.inf
    if u > params[_P_UHI]:
        return 0.0, -1
    if u < params[_P_ULO]:
        if params[_P_EXTRAP] == 0.0:
            return 0.0, -1
        u = params[_P_ULO]
    node = _locate(u, tau, params, roots, split, value, child)
    leaf = leaf_of[node]
    ua = boxes[leaf, 0]
    ub = boxes[leaf, 1]
    ta = boxes[leaf, 2]
    tb = boxes[leaf, 3]
    x = min(max((2.0 * u - ua - ub) / (ub - ua), -1.0), 1.0)
    y = min(max((2.0 * tau - ta - tb) / (tb - ta), -1.0), 1.0)
    return math.exp(_chebyshev2d(coef, leaf, x, y, work)), leaf


_CHUNK = 512  # points per parallel work item (one scratch allocation each)


@nb.njit(cache=True, parallel=True)
def table_h(r, t, params, roots, split, value, child, leaf_of, boxes, coef, h_out, leaf_out):
    """Fill ``h_out`` (n,) and ``leaf_out`` (n,) at radii ``r`` (n,) and times ``t``.

    ``t`` has shape (n,) or (1,) (one time for all). ``leaf_out[i]`` is the panel used;
    -1 marks a point outside the table, whose ``h_out[i]`` (0) must be replaced by direct
    quadrature, and -2 the exact value 0 at r = 0 of a pure-jump process.
    """
    n = r.shape[0]
    scalar_t = t.shape[0] == 1
    nchunk = (n + _CHUNK - 1) // _CHUNK
    for c in nb.prange(nchunk):
        work = np.empty((3, coef.shape[1]))
        for i in range(c * _CHUNK, min(n, (c + 1) * _CHUNK)):
            ti = t[0] if scalar_t else t[i]
            hh, leaf = _point_h(r[i], ti, params, roots, split, value, child, leaf_of, boxes,
                                coef, work)
            h_out[i] = hh
            leaf_out[i] = leaf


@nb.njit(cache=True, parallel=True)
def table_score(y, t, params, roots, split, value, child, leaf_of, boxes, coef, out, leaf_out):
    """Fill ``out`` (n, D) with ``-y h(|y|, t)`` for ``y`` (n, D); ``t`` as in :func:`table_h`.

    Rows with ``leaf_out[i] = -1`` are outside the table and must be recomputed.
    """
    n, dim = y.shape
    scalar_t = t.shape[0] == 1
    nchunk = (n + _CHUNK - 1) // _CHUNK
    for c in nb.prange(nchunk):
        work = np.empty((3, coef.shape[1]))
        for i in range(c * _CHUNK, min(n, (c + 1) * _CHUNK)):
            ti = t[0] if scalar_t else t[i]
            r2 = 0.0
            for k in range(dim):
                r2 += y[i, k] * y[i, k]
            r = math.sqrt(r2)
            if not (r2 > 1e-290 and r2 < 1e290):  # |y|^2 over- or underflows
                r = rescaled_norm(y, i, dim)
            hh, leaf = _point_h(r, ti, params, roots, split, value, child, leaf_of,
                                boxes, coef, work)
            leaf_out[i] = leaf
            for k in range(dim):
                out[i, k] = -y[i, k] * hh


# -- helpers ------------------------------------------------------------------------------------
def _quadrature_h(proc, r, t, logp=False):
    """Direct quadrature h (or log p) at flat radii r (n,) and times t (n,) (clock time)."""
    r = np.ascontiguousarray(r, dtype=np.float64)
    t = np.ascontiguousarray(np.broadcast_to(t, r.shape), dtype=np.float64)
    lp = np.empty_like(r)
    h = np.empty_like(r)
    if r.shape[0]:
        mixture_logpdf_h(r, t, proc.dim, proc.theta, proc.diffusion, proc.jump_rate,
                         proc.b ** 2, 0.0, lp, h)
    return lp if logp else h


class ConditionalSource:
    """What the builder needs to tabulate the conditional h of ``proc`` (clock times).

    A *source* provides direct quadratures ``h(r, t)`` and ``logp(r, t)`` at flat radii and
    clock times, the scale ``v(t) = vc (1 - q) + v0 q`` of the coordinate u, whether h may be
    extrapolated below the smallest radius (``extrapolate``), the radial quantile that sets
    the table's upper edge, and the fields it adds to the cache key.
    """

    quantile = _QUANTILE

    def __init__(self, proc):
        self.proc = proc
        self.extrapolate = proc.diffusion > 0.0
        self.vc = _variance_constant(proc)
        self.v0 = 0.0

    def h(self, r, t):
        return _quadrature_h(self.proc, r, t)

    def log_h(self, r, t):
        """log h at flat radii and clock times (h ~ 1/r^2 overflows below r ~ 1e-150)."""
        r = np.ascontiguousarray(r, dtype=np.float64)
        t = np.ascontiguousarray(np.broadcast_to(t, r.shape), dtype=np.float64)
        out = np.empty_like(r)
        if r.shape[0]:
            mixture_log_h(r, t, self.proc.dim, self.proc.theta, self.proc.diffusion,
                          self.proc.jump_rate, self.proc.b ** 2, 0.0, out)
        return out

    def logp(self, r, t):
        return _quadrature_h(self.proc, r, t, logp=True)

    def key_fields(self):
        return []

    def describe(self):
        return "conditional"


def _variance_constant(proc):
    """v(t) = vc (1 - exp(-2 theta t)); returns vc."""
    return (proc.diffusion + proc.jump_rate * proc.jump_var) / (2.0 * proc.theta)


def _chebyshev_points(n):
    """First-kind points cos(pi (j + 1/2) / n), j = 0..n-1 (descending)."""
    return np.cos(np.pi * (np.arange(n) + 0.5) / n)


def _lobatto_points(n):
    """Chebyshev extrema cos(pi k / n), k = 0..n: interleave the first-kind points."""
    return np.cos(np.pi * np.arange(n + 1) / n)


def _coefficients(values):
    """Chebyshev coefficients (L, n, n) of values (L, n, n) at first-kind points."""
    n = values.shape[1]
    c = scipy.fft.dct(scipy.fft.dct(values, type=2, axis=1), type=2, axis=2) / (n * n)
    c[:, 0, :] *= 0.5
    c[:, :, 0] *= 0.5
    return c


def _cache_key(source, c_lo, c_hi, rtol):
    proc = source.proc
    fields = [f"format={FORMAT_VERSION}", f"n={_N}", f"dim={proc.dim}"]
    for name, val in (("theta", proc.theta), ("diffusion", proc.diffusion),
                      ("jump_rate", proc.jump_rate), ("jump_var", proc.jump_var),
                      ("t_lo", c_lo), ("t_hi", c_hi), ("rtol", rtol)):
        fields.append(f"{name}={float(val).hex()}")
    fields += [f"{name}={val}" for name, val in source.key_fields()]
    return ";".join(fields)


def _cache_directory(cache_dir):
    if cache_dir is None:
        cache_dir = os.environ.get(_CACHE_ENV) or os.path.join(os.path.expanduser("~"), ".cache",
                                                                "levyscore")
    return os.fspath(cache_dir)


_ARRAY_FIELDS = ("params", "roots", "split", "value", "child", "leaf_of", "boxes", "coef",
                 "stats")


def _checksum(key, arrays):
    digest = hashlib.sha256(key.encode())
    for name in _ARRAY_FIELDS:
        a = np.ascontiguousarray(arrays[name])
        digest.update(name.encode())
        digest.update(str(a.dtype).encode())
        digest.update(repr(a.shape).encode())
        digest.update(a.tobytes())
    return digest.hexdigest()


def _tree_is_consistent(arrays):
    """Structural checks of a loaded table (indices in range, finite numbers)."""
    params, roots, split = arrays["params"], arrays["roots"], arrays["split"]
    value, child, leaf_of = arrays["value"], arrays["child"], arrays["leaf_of"]
    boxes, coef, stats = arrays["boxes"], arrays["coef"], arrays["stats"]
    n_nodes = split.shape[0]
    n_leaves = boxes.shape[0]
    ok = (params.shape == (_N_PARAMS,) and params.dtype == np.float64
          and roots.shape == (2,) and roots.dtype == np.int64
          and split.dtype == np.int64 and value.dtype == np.float64
          and child.dtype == np.int64 and leaf_of.dtype == np.int64
          and value.shape == child.shape == leaf_of.shape == (n_nodes,)
          and boxes.shape == (n_leaves, 4) and coef.shape == (n_leaves, _N, _N)
          and stats.shape == (4,) and stats.dtype == np.float64)
    if not ok:
        return False
    ok = (roots[0] >= 1 and roots[1] >= 1 and roots[0] * roots[1] <= n_nodes
          and np.all(np.isfinite(params)) and np.all(np.isfinite(value))
          and np.all(np.isfinite(boxes)) and np.all(np.isfinite(coef))
          and np.all(np.isfinite(stats))
          and np.all((split >= -1) & (split <= 1)))
    if not ok:
        return False
    internal = split >= 0
    ch = child[internal]
    if np.any(ch <= np.flatnonzero(internal)) or np.any(ch + 1 >= n_nodes):
        return False
    lv = leaf_of[~internal]
    return bool(np.all((lv >= 0) & (lv < n_leaves)) and np.unique(lv).shape[0] == n_leaves)


# -- builder ------------------------------------------------------------------------------------
class _Builder:
    """Adaptive construction and certification of one table (see the module docstring)."""

    def __init__(self, source, c_lo, c_hi, rtol, seed):
        self.source = source
        self.proc = source.proc
        self.c_lo = c_lo
        self.c_hi = c_hi
        self.rtol = rtol
        self.rng = np.random.default_rng(seed)
        self.vc = source.vc
        self.v0 = source.v0
        self.tau_lo = math.log(c_lo)
        self.tau_hi = math.log(c_hi)
        self.extrapolate = source.extrapolate
        self.quantile = source.quantile
        self.n_quadrature = 0
        self.nodes = _chebyshev_points(_N)
        self.lobatto = _lobatto_points(_N)

    # quadrature with bookkeeping
    def quad(self, r, t):
        self.n_quadrature += r.shape[0]
        return self.source.h(r, t)

    def quad_logp(self, r, t):
        self.n_quadrature += r.shape[0]
        return self.source.logp(r, t)

    def v(self, t):
        """Scale^2 of u: v(t) (section 8), plus v0 q for a marginal (the data's share)."""
        v = -self.vc * np.expm1(-2.0 * self.proc.theta * t)
        if self.v0 != 0.0:
            v = v + self.v0 * np.exp(-2.0 * self.proc.theta * t)
        return v

    def to_rt(self, u, tau):
        t = np.exp(tau)
        return np.exp(u) * np.sqrt(self.v(t)), t

    def time_grid(self, n):
        return np.exp(np.linspace(self.tau_lo, self.tau_hi, n))

    def lower_edge(self):
        """u_lo: log 1e-3, or lower where h(r) - h(0) would exceed ~1e-8 relative.

        With diffusion, ``h(r)/h(0) - 1 ~ c e^{2u}`` for small r. c is probed at u = -4, -6,
        ... (12 times) until the relative change falls below 1e-10 (further probes would
        only see rounding); the largest c found sets ``e^{2 u_lo} = 1e-8 / c``.
        """
        if not self.extrapolate:
            return _U_LO_DEFAULT
        t = self.time_grid(12)
        h0 = self.quad(np.zeros_like(t), t)
        worst = 0.0
        for u1 in np.arange(-4.0, -40.0, -2.0):
            change = float(np.max(np.abs(self.quad(math.exp(u1) * np.sqrt(self.v(t)), t) / h0
                                         - 1.0)))
            worst = max(worst, change / math.exp(2.0 * u1))
            if change < 1e-10:
                break
        if worst <= 0.0:
            return _U_LO_DEFAULT
        return min(_U_LO_DEFAULT, 0.5 * math.log(_U_LO_SMOOTH / worst))

    def upper_edge(self):
        """u_hi: max over the time range of the (1 - 1e-12) radial quantile, plus a margin.

        The tail ``P(|Y_t| > r)`` is the integral of the radial density
        ``S_D rho^D p(rho)`` over ``log rho > log r`` (trapezoidal rule, step 0.1 in u, from
        the quadrature's log p), extended upwards past the bulk until the integrand is below
        1e-16.
        """
        proc = self.proc
        t = self.time_grid(min(25, 3 + math.ceil((self.tau_hi - self.tau_lo) / 0.4)))
        step = 0.1
        log_area = math.log(2.0) + 0.5 * proc.dim * math.log(math.pi) - math.lgamma(0.5 * proc.dim)
        blocks = []
        u0 = -2.0  # the bulk lies above: log sqrt(D) for diffusion, higher for jumps
        while True:  # blocks of 2 in u, upwards until the integrand is negligible
            u = u0 + step * np.arange(20)
            uu = np.repeat(u[None, :], t.shape[0], axis=0)
            tt = np.repeat(t[:, None], u.shape[0], axis=1)
            rr, _ = self.to_rt(uu, np.log(tt))
            logp = self.quad_logp(rr.reshape(-1), tt.reshape(-1)).reshape(rr.shape)
            blocks.append((u, log_area + proc.dim * np.log(rr) + logp))  # log S_D rho^D p
            u0 += 20 * step
            u = np.concatenate([b[0] for b in blocks])
            g = np.concatenate([b[1] for b in blocks], axis=1)
            # stop past the bulk (the peak at least 1 below the top) once the integrand is
            # negligible at the top
            past_peak = np.argmax(np.where(np.isnan(g), -np.inf, g), axis=1) < u.shape[0] - 10
            if (np.all(past_peak) and np.all(g[:, -1] < math.log(1e-4 * self.quantile))) \
                    or u0 > 40.0:
                break
        dens = np.exp(g)
        pieces = 0.5 * step * (dens[:, 1:] + dens[:, :-1])
        tail = np.zeros_like(dens)
        tail[:, :-1] = np.cumsum(pieces[:, ::-1], axis=1)[:, ::-1]  # tail[k] = int beyond u[k]
        quantile = np.empty(t.shape[0])
        for i in range(t.shape[0]):
            above = np.flatnonzero(tail[i] > self.quantile)
            quantile[i] = u[min(above[-1] + 1, u.shape[0] - 1)] if above.shape[0] else u[0]
        return float(np.max(quantile)) + _U_MARGIN

    # tree
    def new_node(self, box, depth):
        self.split.append(-1)
        self.value.append(0.0)
        self.child.append(-1)
        self.box.append(box)
        self.depth.append(depth)
        self.coef.append(None)
        return len(self.split) - 1

    def divide(self, node, axis):
        ua, ub, ta, tb = self.box[node]
        if axis == 0:
            mid = 0.5 * (ua + ub)
            boxes = ((ua, mid, ta, tb), (mid, ub, ta, tb))
        else:
            mid = 0.5 * (ta + tb)
            boxes = ((ua, ub, ta, mid), (ua, ub, mid, tb))
        c0 = self.new_node(boxes[0], self.depth[node] + 1)
        self.new_node(boxes[1], self.depth[node] + 1)
        self.split[node] = axis
        self.value[node] = mid
        self.child[node] = c0
        self.coef[node] = None
        return [c0, c0 + 1]

    def fit(self, pending):
        """Evaluate, fit and refine the panels in ``pending`` until their tails are small."""
        tol = self.rtol * _TAIL_FRACTION
        n = _N
        while pending:
            boxes = np.array([self.box[k] for k in pending])
            uu = (0.5 * (boxes[:, 0] + boxes[:, 1])[:, None]
                  + 0.5 * (boxes[:, 1] - boxes[:, 0])[:, None] * self.nodes[None, :])
            tt = (0.5 * (boxes[:, 2] + boxes[:, 3])[:, None]
                  + 0.5 * (boxes[:, 3] - boxes[:, 2])[:, None] * self.nodes[None, :])
            U = np.broadcast_to(uu[:, :, None], (len(pending), n, n)).reshape(-1)
            T = np.broadcast_to(tt[:, None, :], (len(pending), n, n)).reshape(-1)
            r, t = self.to_rt(U, T)
            h = self.quad(r, t)
            if not np.all(np.isfinite(h) & (h > 0)):
                raise RuntimeError("quadrature returned a non-positive or non-finite h while "
                                   "building the score table")
            coefs = _coefficients(np.log(h).reshape(len(pending), n, n))
            nxt = []
            for k, node in enumerate(pending):
                c = np.abs(coefs[k])
                tail_u = float(np.sum(c[-2:, :]))
                tail_t = float(np.sum(c[:, -2:]))
                if max(tail_u, tail_t) > tol and self.depth[node] < _MAX_DEPTH:
                    nxt.extend(self.divide(node, 0 if tail_u >= tail_t else 1))
                else:
                    self.coef[node] = coefs[k]
            pending = nxt

    def arrays(self, u_lo, u_hi, nu0, nt0):
        split = np.array(self.split, dtype=np.int64)
        leaves = np.flatnonzero(split < 0)
        leaf_of = np.full(split.shape, -1, dtype=np.int64)
        leaf_of[leaves] = np.arange(leaves.shape[0])
        params = np.zeros(_N_PARAMS)
        params[_P_ULO], params[_P_UHI] = u_lo, u_hi
        params[_P_TAULO], params[_P_TAUHI] = self.tau_lo, self.tau_hi
        params[_P_TLO], params[_P_THI] = self.c_lo, self.c_hi
        params[_P_VC], params[_P_2THETA] = self.vc, 2.0 * self.proc.theta
        params[_P_EXTRAP] = 1.0 if self.extrapolate else 0.0
        params[_P_V0] = self.v0
        return {
            "params": params,
            "roots": np.array([nu0, nt0], dtype=np.int64),
            "split": split,
            "value": np.array(self.value, dtype=np.float64),
            "child": np.array(self.child, dtype=np.int64),
            "leaf_of": leaf_of,
            "boxes": np.array([self.box[k] for k in leaves], dtype=np.float64).reshape(-1, 4),
            "coef": np.array([self.coef[k] for k in leaves], dtype=np.float64),
            "leaves": leaves,
        }

    def check_points(self, leaves):
        """Independent check points (u, tau) of the given leaves (node ids)."""
        n1 = _N + 1
        us, taus = [], []
        for node in leaves:
            ua, ub, ta, tb = self.box[node]
            lu = 0.5 * (ua + ub) + 0.5 * (ub - ua) * self.lobatto
            lt = 0.5 * (ta + tb) + 0.5 * (tb - ta) * self.lobatto
            us.append(np.repeat(lu, n1))
            taus.append(np.tile(lt, n1))
            us.append(self.rng.uniform(ua, ub, _N_RANDOM))
            taus.append(self.rng.uniform(ta, tb, _N_RANDOM))
        return np.concatenate(us), np.concatenate(taus)

    def errors(self, arrays, u, tau):
        """Relative errors of the table at check points (u, tau) and the leaf that served them.

        Points the table does not serve (fall-back) get leaf -1 and error 0: they are exact.
        """
        r, t = self.to_rt(u, tau)
        exact = self.quad(r, t)
        approx = np.empty_like(r)
        leaf = np.empty(r.shape, dtype=np.int64)
        table_h(r, t, arrays["params"], arrays["roots"], arrays["split"], arrays["value"],
                arrays["child"], arrays["leaf_of"], arrays["boxes"], arrays["coef"], approx, leaf)
        err = np.zeros_like(r)
        inside = leaf >= 0
        with np.errstate(divide="ignore", invalid="ignore"):
            err[inside] = np.abs(approx[inside] / exact[inside] - 1.0)
        err[~np.isfinite(err)] = np.inf
        return err, leaf

    def run(self, u_lo, u_hi):
        """Build and certify on ``[u_lo, u_hi]``.

        Returns (arrays, max error, number of check points, extrapolation below u_lo ok).
        """
        nu0 = max(1, math.ceil((u_hi - u_lo) / _ROOT_DU))
        nt0 = max(1, math.ceil((self.tau_hi - self.tau_lo) / _ROOT_DTAU))
        self.split, self.value, self.child, self.box, self.depth, self.coef = [], [], [], [], [], []
        du = (u_hi - u_lo) / nu0
        dt = (self.tau_hi - self.tau_lo) / nt0
        for i in range(nu0):
            for j in range(nt0):
                ua = u_lo + i * du
                ub = u_hi if i == nu0 - 1 else u_lo + (i + 1) * du
                ta = self.tau_lo + j * dt
                tb = self.tau_hi if j == nt0 - 1 else self.tau_lo + (j + 1) * dt
                self.new_node((ua, ub, ta, tb), 0)
        self.fit(list(range(nu0 * nt0)))
        # per-leaf certification: largest error and number of check points served by a leaf
        err_of, count_of = {}, {}
        to_check = [k for k in range(len(self.split)) if self.split[k] < 0]
        for round_ in range(_MAX_ROUNDS + 1):
            arrays = self.arrays(u_lo, u_hi, nu0, nt0)
            u, tau = self.check_points(to_check)
            err, leaf = self.errors(arrays, u, tau)
            served = leaf >= 0
            nodes = arrays["leaves"][leaf[served]]
            for node, e in zip(nodes.tolist(), err[served].tolist()):
                err_of[node] = max(err_of.get(node, 0.0), e)
                count_of[node] = count_of.get(node, 0) + 1
            bad = [k for k, e in err_of.items() if e > self.rtol]
            if not bad:
                break
            if round_ == _MAX_ROUNDS:
                raise RuntimeError(f"score table: certification did not reach rtol={self.rtol} "
                                   f"after {_MAX_ROUNDS} refinement rounds")
            pending = []
            for node in bad:
                if self.depth[node] + 2 > _MAX_DEPTH:
                    raise RuntimeError(f"score table: panel {self.box[node]} cannot reach "
                                       f"rtol={self.rtol} (maximum depth)")
                del err_of[node]
                count_of.pop(node, None)
                for c in self.divide(node, 0):
                    pending.extend(self.divide(c, 1))
            before = len(self.split)
            self.fit(pending)
            to_check = [k for k in pending if self.split[k] < 0]
            to_check += [k for k in range(before, len(self.split)) if self.split[k] < 0]
        arrays = self.arrays(u_lo, u_hi, nu0, nt0)
        max_err = max(err_of.values(), default=0.0)
        n_check = sum(count_of.values())
        if self.extrapolate:
            # below r_lo, h(r_lo) stands for h(r): check r = 0 and two radii below r_lo
            tb = np.concatenate([np.linspace(self.tau_lo, self.tau_hi, 4 * _N + 1),
                                 self.rng.uniform(self.tau_lo, self.tau_hi, 4 * _N)])
            u = np.concatenate([np.full(tb.shape, -np.inf), np.full(tb.shape, u_lo - 1.0),
                                np.full(tb.shape, u_lo - 3.0)])
            err, leaf = self.errors(arrays, u, np.tile(tb, 3))
            n_check += int(np.count_nonzero(leaf >= 0))
            max_err = max(max_err, float(np.max(err)))
            if max_err > self.rtol:
                return arrays, max_err, n_check, False
        return arrays, max_err, n_check, True

    def build(self):
        u_lo = self.lower_edge()
        u_hi = self.upper_edge()
        for _ in range(4):
            arrays, max_err, n_check, below_ok = self.run(u_lo, u_hi)
            if below_ok:
                return arrays, max_err, n_check
            u_lo -= math.log(10.0)
        raise RuntimeError("score table: the extrapolation below the smallest radius cannot "
                           f"reach rtol={self.rtol}")


# -- public class -------------------------------------------------------------------------------
class ScoreTable:
    r"""Certified tabulation of the conditional generalized score of the W-mixture route.

    ``S(y, t) = -y h(|y|, t)`` (MATH.md section 3, convention ``S = grad V / p``) with h
    computed, for processes without a closed form (MATH.md sections 2 and 4), by direct
    quadrature in :mod:`levyscore._mixture`. The table interpolates :math:`\log h` by
    piecewise tensor-product Chebyshev polynomials in :math:`(\log(r/\sqrt{v(t)}), \log t)`
    and is certified against the quadrature at independent points; see the module docstring
    of :mod:`levyscore._table` for the scheme, the domain and the fall-back.

    Create one with :meth:`build`; do not call the constructor.

    Attributes
    ----------
    process : JumpDiffusion
        The process the table belongs to.
    t_min, t_max : float
        Time range of the table (the process's time); outside it, quadrature is used.
    rtol : float
        Target relative error of h.
    max_rel_error : float
        Largest relative error of h found at the check points (certified: ``<= rtol``).
    n_check : int
        Number of check points behind :attr:`max_rel_error`.
    n_panels, n_nodes : int
        Panels of the table and interpolation nodes (``n_panels * 256``).
    u_range : tuple of float
        ``(u_lo, u_hi)``, the tabulated range of ``u = log(r / sqrt(v(t)))``.
    build_seconds : float
        Wall-clock seconds of the original build (stored with the table).
    n_quadrature : int
        Quadrature evaluations spent by the original build (nodes, checks, domain search).
    from_cache : bool
        True when this object was loaded from the disk cache.
    path : str or None
        Cache file, or None when the cache was not used.
    """

    def __init__(self, source, t_min, t_max, rtol, arrays, *, from_cache, path):
        self._source = source
        self._process = source.proc
        self._t_min = t_min
        self._t_max = t_max
        self._rtol = rtol
        self._arrays = {k: arrays[k] for k in _ARRAY_FIELDS}
        self._kernel_args = tuple(self._arrays[k] for k in _ARRAY_FIELDS[:-1])
        self.from_cache = from_cache
        self.path = path

    # -- construction ------------------------------------------------------------------------
    @classmethod
    def build(cls, process, t_min, t_max, *, cache_dir=None, cache=True, rtol=1e-6):
        """Tabulate h for ``process`` on ``[t_min, t_max]``, or load it from the disk cache.

        Parameters
        ----------
        process : JumpDiffusion
            A process with ``route == "mixture"`` (``diffusion > 0`` and ``jump_rate > 0``, or
            a pure-jump process with non-integer m). The closed-form and Gaussian routes are
            already cheap: a ``ValueError`` says that no table is needed.
        t_min, t_max : float
            Time range, ``0 < t_min < t_max < inf`` (the process's time; a schedule's clock is
            applied, and the table is stored in clock time).
        cache_dir : str or os.PathLike, optional
            Cache folder; default ``$LEVYSCORE_CACHE_DIR``, else ``~/.cache/levyscore``.
        cache : bool, default True
            Read and write the disk cache. If the cache cannot be written a
            ``RuntimeWarning`` is issued and the table is still returned.
        rtol : float, default 1e-6
            Target relative error of h, in ``[1e-10, 1e-2]``.

        Returns
        -------
        ScoreTable

        Raises
        ------
        ValueError
            Invalid arguments, or a process that needs no table.
        RuntimeError
            The certification could not reach ``rtol`` (not observed for the tested
            processes).
        """
        if not isinstance(process, JumpDiffusion):
            raise ValueError("process must be a levyscore.JumpDiffusion, got "
                             f"{type(process).__name__}")
        if process.route != "mixture":
            raise ValueError(f"process has route {process.route!r}: its score is a closed form, "
                             "cheap to evaluate directly, so no table is needed (use "
                             "process.score)")
        return cls._build_source(ConditionalSource(process), t_min, t_max, cache_dir=cache_dir,
                                 cache=cache, rtol=rtol)

    @classmethod
    def _build_source(cls, source, t_min, t_max, *, cache_dir=None, cache=True, rtol=1e-6):
        """:meth:`build` for any source (conditional, or a target's marginal)."""
        process = source.proc
        t_min = check_real("t_min", t_min, positive=True)
        t_max = check_real("t_max", t_max, positive=True)
        if not t_min < t_max:
            raise ValueError(f"t_min must be smaller than t_max, got t_min={t_min}, t_max={t_max}")
        rtol = check_real("rtol", rtol, positive=True)
        if not 1e-10 <= rtol <= 1e-2:
            raise ValueError(f"rtol must lie in [1e-10, 1e-2], got {rtol}")
        if not isinstance(cache, (bool, np.bool_)):
            raise ValueError(f"cache must be True or False, got {cache!r}")
        c_lo = float(process.clock(t_min))
        c_hi = float(process.clock(t_max))
        if not (math.isfinite(c_lo) and math.isfinite(c_hi) and 0.0 < c_lo < c_hi):
            raise ValueError(f"the clock maps [t_min, t_max] to [{c_lo}, {c_hi}], which is not a "
                             "finite positive interval")
        key = _cache_key(source, c_lo, c_hi, rtol)
        path = None
        if cache:
            folder = _cache_directory(cache_dir)
            digest = hashlib.sha256(key.encode()).hexdigest()[:32]
            path = os.path.join(folder, f"scoretable-{digest}.npz")
            arrays = _load(path, key, rtol)
            if arrays is not None:
                return cls(source, t_min, t_max, rtol, arrays, from_cache=True, path=path)
        start = time.perf_counter()
        builder = _Builder(source, c_lo, c_hi, rtol, int(hashlib.sha256(key.encode())
                                                          .hexdigest()[:16], 16))
        arrays, max_err, n_check = builder.build()
        elapsed = time.perf_counter() - start
        arrays["stats"] = np.array([max_err, n_check, elapsed, builder.n_quadrature],
                                   dtype=np.float64)
        if cache:
            try:
                _save(path, key, arrays)
            except OSError as exc:
                warnings.warn(f"could not write the score-table cache {path}: {exc}",
                              RuntimeWarning, stacklevel=2)
                path = None
        return cls(source, t_min, t_max, rtol, arrays, from_cache=False, path=path)

    # -- properties ---------------------------------------------------------------------------
    @property
    def process(self):
        """The :class:`JumpDiffusion` the table belongs to."""
        return self._process

    @property
    def t_min(self):
        """Smallest tabulated time."""
        return self._t_min

    @property
    def t_max(self):
        """Largest tabulated time."""
        return self._t_max

    @property
    def rtol(self):
        """Target relative error of h."""
        return self._rtol

    @property
    def max_rel_error(self):
        """Largest relative error of h at the independent check points."""
        return float(self._arrays["stats"][0])

    @property
    def n_check(self):
        """Number of check points of the certification."""
        return int(self._arrays["stats"][1])

    @property
    def build_seconds(self):
        """Wall-clock seconds of the original build."""
        return float(self._arrays["stats"][2])

    @property
    def n_quadrature(self):
        """Quadrature evaluations of the original build."""
        return int(self._arrays["stats"][3])

    @property
    def n_panels(self):
        """Number of Chebyshev panels."""
        return int(self._arrays["coef"].shape[0])

    @property
    def n_nodes(self):
        """Number of interpolation nodes (quadrature values the interpolant is built from)."""
        return self.n_panels * _N * _N

    @property
    def u_range(self):
        """``(u_lo, u_hi)``: tabulated range of ``u = log(r / sqrt(v(t)))``."""
        p = self._arrays["params"]
        return float(p[_P_ULO]), float(p[_P_UHI])

    def arrays(self):
        """Copies of the arrays that define the table (as stored in the cache), by name."""
        return {k: v.copy() for k, v in self._arrays.items()}

    # -- evaluation ---------------------------------------------------------------------------
    def _times(self, t, shape):
        arr = np.asarray(t)
        if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
            raise ValueError(f"t must be real, got dtype {arr.dtype}")
        arr = np.asarray(arr, dtype=np.float64)
        if not np.all(np.isfinite(arr)):
            raise ValueError("t must be finite (found NaN or inf)")
        if np.any(arr <= 0):
            raise ValueError("t must be positive (t > 0)")
        if arr.ndim == 0:
            return np.array([float(self._process.clock(float(arr)))])
        try:
            arr = np.broadcast_to(arr, shape)
        except ValueError:
            raise ValueError(f"t of shape {arr.shape} does not broadcast against the shape "
                             f"{shape}") from None
        return np.ascontiguousarray(self._process.clock(arr), dtype=np.float64).reshape(-1)

    def h(self, r, t):
        """The radial factor h of the score ``S(y, t) = -y h(|y|, t)`` (MATH.md section 3).

        Parameters
        ----------
        r : array_like
            Radii ``|y| >= 0``, any shape.
        t : float or array_like
            Times ``> 0``: a scalar, or an array broadcasting against ``r``.

        Returns
        -------
        ndarray
            h, of the broadcast shape of ``r`` and ``t``. Points outside the table (t outside
            ``[t_min, t_max]``, r beyond the tabulated range) are computed by direct
            quadrature.

        Raises
        ------
        ValueError
            Where h exceeds the float range: near the origin of a pure-jump law h ~ 1/r^2
            overflows below r ~ 1e-150 (:meth:`score`, whose magnitude is r h, does not).
        """
        r = as_radii(r)
        shape = np.broadcast_shapes(r.shape, np.shape(t))
        tt = self._times(t, shape)
        flat = np.ascontiguousarray(np.broadcast_to(r, shape).reshape(-1))
        out = np.empty_like(flat)
        leaf = np.empty(flat.shape, dtype=np.int64)
        table_h(flat, tt, *self._kernel_args, out, leaf)
        miss = np.flatnonzero(leaf == -1)
        if miss.shape[0]:
            out[miss] = self._source.h(flat[miss], tt[miss] if tt.shape[0] > 1
                                      else np.full(miss.shape, tt[0]))
        if not np.isfinite(out).all():
            bad = float(flat[np.flatnonzero(~np.isfinite(out))[0]])
            raise ValueError(f"h exceeds the float range at r = {bad:.3g} (h ~ 1/r^2 near the "
                             f"origin of a pure-jump law); use score(), whose magnitude is r h")
        return out.reshape(shape)

    def covers(self, r, t):
        """Where the table itself serves h (elsewhere direct quadrature is used).

        Parameters
        ----------
        r : array_like
            Radii ``>= 0``, any shape.
        t : float or array_like
            Times ``> 0``, broadcasting against ``r``.

        Returns
        -------
        ndarray of bool
            Broadcast shape of ``r`` and ``t``; False where :meth:`h` falls back to quadrature.
        """
        r = as_radii(r)
        shape = np.broadcast_shapes(r.shape, np.shape(t))
        tt = self._times(t, shape)
        flat = np.ascontiguousarray(np.broadcast_to(r, shape).reshape(-1))
        out = np.empty_like(flat)
        leaf = np.empty(flat.shape, dtype=np.int64)
        table_h(flat, tt, *self._kernel_args, out, leaf)
        return (leaf != -1).reshape(shape)

    def score(self, y, t):
        """Conditional generalized score ``S(y, t) = -y h(|y|, t)`` (MATH.md sections 3-4).

        Parameters
        ----------
        y : array_like, shape (..., D)
            Points ``y = x - x0 exp(-theta t)``.
        t : float or array_like
            Times ``> 0``: a scalar, or an array broadcasting against ``y.shape[:-1]``.

        Returns
        -------
        ndarray, shape (..., D)
            Agrees with ``process.score(y, t)`` to the certified relative error; exactly 0 at
            ``y = 0``. Rows outside the table are computed by direct quadrature.
        """
        dim = self._process.dim
        y = as_points(y, dim)
        batch = y.shape[:-1]
        tt = self._times(t, batch)
        y2 = np.ascontiguousarray(y.reshape(-1, dim))
        out = np.empty_like(y2)
        leaf = np.empty(y2.shape[0], dtype=np.int64)
        if y2.shape[0]:
            table_score(y2, tt, *self._kernel_args, out, leaf)
        miss = np.flatnonzero(leaf == -1)
        if miss.shape[0]:
            r = row_norms(y2[miss])
            tm = tt[miss] if tt.shape[0] > 1 else np.full(miss.shape, tt[0])
            hm = self._source.h(r, tm)
            with np.errstate(over="ignore", invalid="ignore"):
                out[miss] = -y2[miss] * hm[:, None]
            big = np.flatnonzero(~(hm < 1e290))
            if big.size and hasattr(self._source, "log_h"):
                # h ~ 1/r^2 overflows near the origin of a pure-jump law; |S| = r h does not
                lh = self._source.log_h(r[big], tm[big])
                rows = miss[big]
                out[rows] = -(y2[rows] / r[big, None]) * np.exp(lh + np.log(r[big]))[:, None]
        if not np.isfinite(out).all():
            raise ValueError("the score exceeds the float range at some |y| below ~1e-300 "
                             "(|S| ~ 1/|y| near the origin of a pure-jump law)")
        return out.reshape(y.shape)

    def __repr__(self):
        what = self._source.describe()
        kind = "" if what == "conditional" else f"marginal of {what}, "
        return (f"ScoreTable({kind}{self._process!r}, t_min={self._t_min!r}, "
                f"t_max={self._t_max!r}, panels={self.n_panels}, "
                f"max_rel_error={self.max_rel_error:.2e})")


# -- cache files ----------------------------------------------------------------------------------
def _load(path, key, rtol):
    """Arrays of a valid cache file for ``key``, or None (missing, corrupt or mismatched)."""
    if not os.path.exists(path):
        return None
    try:
        with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as f:
            if str(f["key"][()]) != key:
                return None
            arrays = {k: np.array(f[k]) for k in _ARRAY_FIELDS}
            checksum = str(f["checksum"][()])
    except Exception:  # any unreadable file is rebuilt, never trusted
        return None
    if checksum != _checksum(key, arrays) or not _tree_is_consistent(arrays):
        return None
    if not arrays["stats"][0] <= rtol:
        return None
    return arrays


def _save(path, key, arrays):
    """Write the table atomically: a temporary file in the same folder, then os.replace."""
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    payload = {k: arrays[k] for k in _ARRAY_FIELDS}
    fd, tmp = tempfile.mkstemp(prefix=".scoretable-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, key=np.array(key), checksum=np.array(_checksum(key, payload)), **payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
