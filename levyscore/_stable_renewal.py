r"""Exact marginal laws of the heavy-tailed benchmark under Student-t and Gaussian jump
amplitudes (route ``"renewal"``; MATH.md §9, §11).

As for Laplace amplitudes (:mod:`levyscore._stable_marginal`), given the data's stable
variable Z the marginal at time t is the transition law of the process with the extra
Gaussian variance :math:`e_Z = v q Z`, and V is linear in p, so

.. math::

    p_t(x) = E_Z\, p_Z(|x|), \qquad S(x, t) = -x\, \frac{E_Z[p_Z h_Z]}{E_Z[p_Z]}.

The outer rule over Z and its walk are those of :mod:`levyscore._stable_marginal` (same
nodes, same stopping rule); each node's inner law is the renewal route's own adaptive
quadrature over the law of W at time t (:func:`levyscore._wmixture._point_logpdf_logh` on a
:class:`levyscore._wvolterra.WLawTable`, or :func:`levyscore._wgauss._point_logpdf_logh` on a
:class:`levyscore._wgauss.GaussWLaw`) with ``s + e_Z`` as its Gaussian variance: the nested
route of the Laplace module, ~10x dearer per point than its fused rule, but exact to the
renewal route's accuracy at every node. One table of W per distinct time serves every point
and node at that time.
"""
import math

import numba as nb
import numpy as np

from ._stable_marginal import walk_region, walk_step, walk_total
from ._wgauss import _point_logpdf_logh as _gauss_point
from ._wmixture import _point_logpdf_logh as _wtable_point

__all__ = ["renewal_marginal_logpdf_h", "law_arrays"]

#: The two kinds of tables of W (the kernel's ``kind``).
KIND_WTABLE = 0
KIND_GAUSS = 1


def law_arrays(table):
    """``(kind, arrays)``: the arrays of a table of W in the kernel's fixed argument order
    (the other kind's slots hold 1-element placeholders)."""
    from ._wgauss import GaussWLaw

    empty1 = np.zeros(1)
    empty2 = np.zeros((1, 1))
    if isinstance(table, GaussWLaw):
        return KIND_GAUSS, (table.meta, empty1, empty1, table.edges, table.cf, table.cr,
                            table.pan)
    return KIND_WTABLE, (table.meta, table.lp, table.lr, empty1, empty2, empty2, empty2)


@nb.njit(cache=True)
def _node(kind, r, dim, s, jump_var, lam, diffusion, meta, lp, lr, edges, cf, cr, pan, buf):
    """(log p, log h) of the transition law with Gaussian variance s at radius r."""
    if kind == KIND_GAUSS:
        return _gauss_point(r, dim, s, jump_var, lam, diffusion, edges, cf, cr, pan, meta, buf)
    return _wtable_point(r, dim, s, jump_var, lam, diffusion, meta, lp, lr, buf)


@nb.njit(cache=True)
def _point(kind, r, dim, s, q, m, jump_var, lam, diffusion, vdata, xs, logw, kfloor, meta, lp,
           lr, edges, cf, cr, pan, buf, g0, g1):
    """(log p, h) of the marginal at radius r (module docstring); NaN where a node failed."""
    e = vdata * q
    if not e > 0.0:  # the data's share has decayed below the float range: the conditional law
        a, b = _node(kind, r, dim, s, jump_var, lam, diffusion, meta, lp, lr, edges, cf, cr,
                     pan, buf)
        return a, math.exp(b)
    c = s + jump_var * m * (1.0 - q)  # mean variance of Y_t (E W = m (1 - q) sigma_A^2)
    r2 = r * r
    n = xs.shape[0]
    kbest, klo, khi = walk_region(c, e, r2, dim, xs, logw, kfloor, g0)
    max0 = -math.inf
    max1 = -math.inf
    lo = kbest
    hi = kbest - 1
    for direction in (-1, 1):
        k = kbest if direction == -1 else kbest + 1
        while 0 <= k < n:
            a, b = _node(kind, r, dim, s + e * math.exp(xs[k]), jump_var, lam, diffusion, meta,
                         lp, lr, edges, cf, cr, pan, buf)
            if a != a:
                return math.nan, math.nan
            a0 = logw[k] + a
            a1 = a0 + b if a > -math.inf else -math.inf  # p underflows: h is not needed
            lo, hi, max0, max1, stop = walk_step(k, direction, a0, a1, g0, g1, lo, hi, max0,
                                                 max1, klo, khi)
            if stop:
                break
            k += direction
    return walk_total(g0, g1, lo, hi)


@nb.njit(cache=True, parallel=True)
def renewal_marginal_logpdf_h(kind, r, dim, s, q, m, jump_var, lam, diffusion, vdata, xs, logw,
                              kfloor, meta, lp, lr, edges, cf, cr, pan, logp_out, h_out):
    """Fill ``logp_out`` and ``h_out`` (n,) at radii ``r`` (n,), all at one clock time (whose
    table of W, Gaussian variance s and q = e^{-2 theta t} are given)."""
    for i in nb.prange(r.shape[0]):
        buf = np.empty(3)
        g0 = np.empty(xs.shape[0])
        g1 = np.empty(xs.shape[0])
        a, b = _point(kind, r[i], dim, s, q, m, jump_var, lam, diffusion, vdata, xs, logw,
                      kfloor, meta, lp, lr, edges, cf, cr, pan, buf, g0, g1)
        logp_out[i] = a
        h_out[i] = b
