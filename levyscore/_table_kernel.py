r"""Numba evaluation kernel of :class:`levyscore.ScoreTable` (the table's hot path).

A table is a set of flat arrays (layout below, :data:`_ARRAY_FIELDS`): a float parameter
vector (indices ``_P_*``), a root grid of panels refined into a binary tree (``split``,
``value``, ``child``), the leaf of each tree node (``leaf_of``), the rectangle of each leaf
in :math:`(u, \tau)` (``boxes``) and its tensor-product Chebyshev coefficients of
:math:`\log h` (``coef``). :func:`table_h` and :func:`table_score` locate the panel of each
point (:func:`_locate`), sum its Chebyshev series (:func:`_chebyshev2d`) and mark the points
the table does not serve (leaf -1: the caller falls back to direct quadrature). The scheme,
the coordinates and the domain are described in :mod:`levyscore._table`; the arrays are
built by :mod:`levyscore._table_build`. This module imports nothing else of the table code.
"""
import math

import numba as nb
import numpy as np

from ._closed_form import rescaled_norm
from ._time import one_minus_q_at

# layout of the float parameter vector passed to the kernels
_P_ULO, _P_UHI, _P_TAULO, _P_TAUHI, _P_TLO, _P_THI, _P_VC, _P_2THETA, _P_EXTRAP, _P_V0 = range(10)
_N_PARAMS = 10
#: Largest ``n_coef`` of a device evaluation (``TABLE_MAX_COEF`` of ``kernels/table.cuh``:
#: the Chebyshev scratch of a CUDA thread has a fixed size).
DEVICE_MAX_COEF = 32

#: Arrays that define a table, as stored in the cache: the first eight are the kernel
#: arguments in the order of :func:`table_h` and :func:`table_score`; ``stats`` holds
#: (max_rel_error, n_check, build seconds, n_quadrature).
_ARRAY_FIELDS = ("params", "roots", "split", "value", "child", "leaf_of", "boxes", "coef",
                 "stats")


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
    # v(t) = vc (1 - q) from the stored constants vc and 2 theta
    v = params[_P_VC] * one_minus_q_at(params[_P_2THETA], t)
    if params[_P_V0] != 0.0:  # scale of a marginal table: v(t) + v0 q (_Builder.v)
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


#: Names of the :func:`table_args` values, in order (the table part of the kernels' arguments).
TABLE_ARG_NAMES = _ARRAY_FIELDS[:-1] + ("n_coef",)


def table_args(arrays):
    """The table's arguments of :func:`table_h` and :func:`table_score` (and of their CUDA
    twins), in order: ``params, roots, split, value, child, leaf_of, boxes, coef, n_coef``,
    from the arrays of :data:`_ARRAY_FIELDS` (host or device arrays, by name)."""
    return (*(arrays[k] for k in _ARRAY_FIELDS[:-1]), int(arrays["coef"].shape[1]))


@nb.njit(cache=True, parallel=True)
def table_h(n, r, t, t_per_row, params, roots, split, value, child, leaf_of, boxes, coef,
            n_coef, h_out, leaf_out):
    """Fill ``h_out`` (n,) and ``leaf_out`` (n,) at radii ``r`` (n,) and times ``t``.

    The arguments are those of the CUDA kernel ``table_h`` (``kernels/table.cu``, registry
    record ``table_h``): ``t`` has shape (n,) (``t_per_row = 1``) or (1,) (one time for
    all); ``n_coef`` is ``coef.shape[1]``. ``leaf_out[i]`` is the panel used; -1 marks a
    point outside the table, whose ``h_out[i]`` (0) must be replaced by direct quadrature,
    and -2 the exact value 0 at r = 0 of a pure-jump process.
    """
    nchunk = (n + _CHUNK - 1) // _CHUNK
    for c in nb.prange(nchunk):
        work = np.empty((3, n_coef))
        for i in range(c * _CHUNK, min(n, (c + 1) * _CHUNK)):
            ti = t[i] if t_per_row else t[0]
            hh, leaf = _point_h(r[i], ti, params, roots, split, value, child, leaf_of, boxes,
                                coef, work)
            h_out[i] = hh
            leaf_out[i] = leaf


@nb.njit(cache=True, parallel=True)
def table_score(n, dim, y, t, t_per_row, params, roots, split, value, child, leaf_of, boxes,
                coef, n_coef, out, leaf_out):
    """Fill ``out`` (n, D) with ``-y h(|y|, t)`` for ``y`` (n, D); ``t`` as in :func:`table_h`.

    The arguments are those of the CUDA kernel ``table_score``. Rows with
    ``leaf_out[i] = -1`` are outside the table and must be recomputed.
    """
    nchunk = (n + _CHUNK - 1) // _CHUNK
    for c in nb.prange(nchunk):
        work = np.empty((3, n_coef))
        for i in range(c * _CHUNK, min(n, (c + 1) * _CHUNK)):
            ti = t[i] if t_per_row else t[0]
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
