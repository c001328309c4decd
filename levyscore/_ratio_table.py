r"""The Bessel quotient of the closed-form score, prepared once per process.

The closed-form score (MATH.md section 4, route a) needs, per point, one quotient

.. math::

    G_\nu(r) = \frac{K_{\nu+1}(\rho)}{\rho\, K_\nu(\rho)}, \qquad \rho = r / b,

at the lowest order :math:`\nu` of its window of orders
(:func:`levyscore._closed_form._window`); for m = 1 the score is then
:math:`h = \lambda/2 + (\lambda q / w_1)\, G` and for other m a few multiplications walk the
window. :math:`G` depends on D, m and b only, not on the time, so a process prepares a
piecewise polynomial of it once (:func:`ratio_table`) and every score call, at any t and on
either backend, looks it up: a bit extraction and a degree-9 polynomial (Estrin) per point, no
division, no Bessel evaluation (Temme's series or CF2 plus an O(nu) recurrence: 50 ns at
nu = 0, 200 ns at nu = 32, 7 µs at nu = 1536 before the Debye path).

Layout
------
The table is one float64 array. Its head holds ``r_lo = 2**e_lo``, ``r_hi = 2**(e_lo + 36)``
and the biased exponent ``1023 + e_lo`` (as a float), with ``e_lo = floor(log2 b) - 24``, so
that rho from about ``2**-24`` to ``2**12`` is covered. Each octave of r is cut into
``RT_S = 16`` equal pieces: piece ``i`` has the exponent ``e`` and the top four mantissa bits
``j`` of r, ``i = (e - e_lo) * 16 + j``, and the other 48 mantissa bits give the local
variable ``t = bits * 2**-47 - 1`` in [-1, 1) exactly. Per piece, ``RT_STRIDE = 11`` values:
G at t = 0 (exact), then the 10 monomial coefficients of the degree-9 polynomial p with
``G = G(0) + p(t)`` on the piece (evaluated by Estrin's scheme). p interpolates ``G - G(0)``
at ten near-Chebyshev nodes whose r are floats (node t and r agree exactly), fitted in the
Chebyshev basis (a well-conditioned 10 x 10 solve) and converted. Storing G(0) apart keeps
the rounding of the fit relative to the small variation over a piece (~6% of G), not to G.

Certification
-------------
Every piece is evaluated, exactly as a lookup evaluates it, at ``RT_CHECKS = 41`` points
(between the nodes, both ends) and compared with the exact quotient
:func:`levyscore._bessel.bessel_k_ratio` ``(nu, rho) / rho`` there; a piece whose worst relative
difference exceeds ``RT_TOL = 4 eps`` gets NaN values, so that its lookups return NaN and the
caller evaluates the exact function. Outside the covered range the lookup returns NaN too.
The worst difference of every piece is returned (``ratio_table(nu, b)[1]``).

Accuracy: a certified piece is within 4 eps of the exact quotient at 41 points, and p is a
degree-9 interpolant of a function analytic around the piece (its nearest singularity, r = 0,
lies 16 piece-widths away, so the Chebyshev coefficients fall by ~64x per degree), so it is
between them as well; against 40-digit mpmath the lookups are tested at random points
(``tests/test_ratio_table.py``; figures in ``docs/benchmarks.md``).
"""
import math

import numba as nb
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from ._bessel import bessel_k_ratio

__all__ = ["RT_SIZE", "ratio_table", "ratio_lookup"]

RT_OCTAVES = 36                     # octaves of r covered
RT_BELOW = 24                       # octaves below b
RT_SBITS = 4                        # pieces per octave: 2**RT_SBITS
RT_S = 1 << RT_SBITS
RT_NC = 10                          # polynomial coefficients per piece (degree 9)
RT_STRIDE = RT_NC + 1               # per piece: G at t = 0, then the polynomial
RT_HEAD = 3                         # r_lo, r_hi, biased exponent of r_lo
RT_PIECES = RT_OCTAVES * RT_S
RT_SIZE = RT_HEAD + RT_PIECES * RT_STRIDE
RT_SHIFT = 52 - RT_SBITS            # mantissa bits below the piece index
RT_MASK = (1 << RT_SHIFT) - 1
RT_TSCALE = 2.0 ** -(RT_SHIFT - 1)  # t = (mantissa bits below the index) * RT_TSCALE - 1
RT_CHECKS = 4 * RT_NC + 1
RT_HALF_BITS = 1 << (RT_SHIFT - 1)  # t = 0
RT_TOL = 4.0 * 2.0 ** -52

# Chebyshev -> monomial: column k holds the monomial coefficients of T_k (exact integers).
_T_TO_MONO = np.zeros((RT_NC, RT_NC))
_T_TO_MONO[0, 0] = 1.0
_T_TO_MONO[1, 1] = 1.0
for _k in range(2, RT_NC):
    _T_TO_MONO[1:, _k] = 2.0 * _T_TO_MONO[:-1, _k - 1]
    _T_TO_MONO[:, _k] -= _T_TO_MONO[:, _k - 2]


@intrinsic
def _double_bits(typingctx, x):
    """The IEEE-754 bits of a float64 as an int64 (a bit cast; CUDA: __double_as_longlong)."""
    if x != types.float64:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return types.int64(types.float64), codegen


@nb.njit(cache=True)
def double_bits(x):
    """The IEEE-754 bits of the float64 ``x`` as an int64."""
    return _double_bits(x)


@nb.njit(cache=True, inline="always")
def ratio_lookup(coef, r):
    """G(r) from the prepared table ``coef`` (:func:`ratio_table`), or NaN where the table
    does not serve r (outside its range, r = 0, inf or NaN, or an uncertified piece)."""
    if not (r >= coef[0] and r < coef[1]):
        return math.nan
    u = double_bits(r)
    piece = ((u >> 52) - int(coef[2])) * RT_S + ((u >> RT_SHIFT) & (RT_S - 1))
    t = float(u & RT_MASK) * RT_TSCALE - 1.0
    # unsigned (piece >= 0 past the range test): no negative-index test at each of the
    # eleven loads (D = 2 score: 6% faster). Estrin's scheme for the degree-9 polynomial
    # ``c1 + c2 t + ... + c10 t^9``: its longest chain of dependent operations is 8 long
    # against Horner's 18 (D = 2 score: 11.7 against 9.7 ns a point, one thread); the
    # certification evaluates pieces through this function, and its worst error is Horner's
    # (3.96, 3.03, 3.04, 2.82 eps at nu = 0, 1, 31, 1535, b = 1).
    base = np.uint64(RT_HEAD + piece * RT_STRIDE)
    t2 = t * t
    t4 = t2 * t2
    r0 = ((coef[base + _U1] + coef[base + _U2] * t)
          + (coef[base + _U3] + coef[base + _U4] * t) * t2)
    r1 = ((coef[base + _U5] + coef[base + _U6] * t)
          + (coef[base + _U7] + coef[base + _U8] * t) * t2)
    v = (r0 + r1 * t4) + (coef[base + _U9] + coef[base + _U10] * t) * (t4 * t4)
    return coef[base] + v


_U1, _U2, _U3, _U4, _U5, _U6, _U7, _U8, _U9, _U10 = (np.uint64(k) for k in range(1, 11))


@nb.njit(cache=True)
def _piece_r(e_lo, piece, bits):
    """r of piece ``piece`` whose 48 low mantissa bits are ``bits`` (exact)."""
    e = piece // RT_S + e_lo
    j = piece % RT_S
    return math.ldexp(1.0 + float((j << RT_SHIFT) + bits) * 2.0 ** -52, e)


@nb.njit(cache=True)
def _quotient(nu, b, r):
    """The exact G(r) = K_{nu+1}(rho) / (rho K_nu(rho)), rho = r / b."""
    rho = r / b
    return bessel_k_ratio(nu, rho) / rho


@nb.njit(cache=True, parallel=True)
def _build(nu, b, e_lo, coef, worst):
    node_bits = np.empty(RT_NC, dtype=np.int64)
    top = float(RT_MASK)
    for k in range(RT_NC):
        c = math.cos(math.pi * (k + 0.5) / RT_NC)
        node_bits[k] = int(math.floor(0.5 * (c + 1.0) * top + 0.5))
    coef[0] = math.ldexp(1.0, e_lo)
    coef[1] = math.ldexp(1.0, e_lo + RT_OCTAVES)
    coef[2] = float(1023 + e_lo)
    for piece in nb.prange(RT_PIECES):
        vander = np.empty((RT_NC, RT_NC))
        f = np.empty(RT_NC)
        mid = _quotient(nu, b, _piece_r(e_lo, piece, RT_HALF_BITS))  # t = 0
        for k in range(RT_NC):
            t = float(node_bits[k]) * RT_TSCALE - 1.0
            f[k] = _quotient(nu, b, _piece_r(e_lo, piece, node_bits[k])) - mid
            vander[k, 0] = 1.0
            vander[k, 1] = t
            for j in range(2, RT_NC):
                vander[k, j] = 2.0 * t * vander[k, j - 1] - vander[k, j - 2]
        cheb = np.linalg.solve(vander, f)
        mono = _T_TO_MONO @ cheb
        base = RT_HEAD + piece * RT_STRIDE
        coef[base] = mid
        for j in range(RT_NC):
            coef[base + 1 + j] = mono[j]
        err = 0.0
        for k in range(RT_CHECKS):
            r = _piece_r(e_lo, piece, (k * RT_MASK) // (RT_CHECKS - 1))
            exact = _quotient(nu, b, r)
            d = math.fabs(ratio_lookup(coef, r) - exact) / exact
            if not (d <= err):
                err = d
        worst[piece] = err
        if not (err <= RT_TOL):
            for j in range(RT_STRIDE):
                coef[base + j] = math.nan


def ratio_table(nu, b):
    """Prepared G (module docstring) for the order ``nu >= 0`` and the scale ``b > 0``.

    Returns
    -------
    coef : ndarray, shape (RT_SIZE,)
        The table: the ``ratio_coef`` argument of the closed-form score kernels.
    worst : ndarray, shape (RT_OCTAVES * RT_S,)
        Worst relative difference to the exact quotient at each piece's check points.
    """
    nu, b = float(nu), float(b)
    if not (nu >= 0.0):
        raise ValueError(f"nu must be >= 0, got {nu!r}")
    if not (0.0 < b < math.inf):
        raise ValueError(f"b must be positive and finite, got {b!r}")
    e_lo = math.frexp(b)[1] - 1 - RT_BELOW  # floor(log2 b) - 24
    e_lo = min(max(e_lo, -1022), 1023 - RT_OCTAVES)
    coef = np.empty(RT_SIZE)
    worst = np.empty(RT_PIECES)
    _build(nu, b, e_lo, coef, worst)
    return coef, worst
