r"""Normal variates by the ziggurat method on Philox words (twin: kernels/ziggurat.cuh).

Marsaglia & Tsang (2000), "The ziggurat method for generating random variables" (J. Stat.
Softw. 5(8)), with 256 layers and the base-strip layout of Doornik (2005). Under
:math:`f(x) = e^{-x^2/2}`, :math:`x \ge 0`, lie 256 layers of equal area V: layer 0 is the
rectangle :math:`[0, R] \times [0, f(R)]` plus the tail beyond R, layer i = 1..255 the
rectangle :math:`[0, X_i] \times [f(X_i), f(X_{i+1})]`, with :math:`X_1 = R`,
:math:`X_{256} = 0` and :math:`X_0 = V/f(R)` (the tables :data:`ZIG_X`, :data:`ZIG_F` are
solved at 60 digits by ``tools/make_ziggurat_tables.py`` so that the top layer closes, and
rounded to doubles). A candidate picks a layer i and a point x uniform on
:math:`[0, X_i]`; it is accepted at once when :math:`x < X_{i+1}` (the point lies under f
whatever its height), which happens with probability 0.990. Otherwise
:func:`ziggurat_slow` finishes it exactly: the tail by Marsaglia's method (layer 0), or a
uniform height in the layer tested against f (a wedge), with a fresh candidate after a
rejection. The result is an exact N(0, 1) variate (up to the rounding of the tables and of
f, ~1e-16 relative), with no logarithm or trigonometric call on the fast path: the
Box-Muller pair of :mod:`levyscore._philox` costs a log, a sqrt, a sine and a cosine.

Words. A candidate takes two 32-bit words (a, b): the low 8 bits of a are the layer, bit 8
the sign, and ``(a >> 9) * 2**29 + (b >> 3)`` a 52-bit integer k that gives
``u = (k + 1/2) 2**-52`` in (0, 1) (exact, as :func:`levyscore._philox.uniform_from_words`).
One Philox block holds two candidates. The slow path reads further blocks of the caller's
stream from ``block`` on and returns the next unused one: each block is a new candidate
(words 0, 1) and the height of its wedge test (words 2, 3), or the two uniforms of one tail
attempt; each block ends the draw with probability above 0.9.
"""
import math

import numpy as np
from numba import njit

from ._philox import philox4x32_10, uniform_from_words, uniform_pair
from ._ziggurat_tables import ZIG_F, ZIG_R, ZIG_X

__all__ = ["ziggurat_candidate", "ziggurat_fast", "ziggurat_slow", "ZIG_NONE"]

#: What :func:`ziggurat_fast` returns for a candidate that needs the slow path (never a
#: normal variate).
ZIG_NONE = math.inf
_MASK8 = np.uint64(0xFF)
_SHIFT3 = np.uint64(3)
_SHIFT8 = np.uint64(8)
_SHIFT9 = np.uint64(9)
_SHIFT29 = np.uint64(29)
_ONE = np.uint64(1)
_TWO_M52 = 2.0 ** -52


@njit(cache=True)
def ziggurat_candidate(a, b):
    """``(i, x)``: the layer and the signed abscissa of the candidate in words (a, b)."""
    aa = np.uint64(a)
    i = int(aa & _MASK8)
    k = ((aa >> _SHIFT9) << _SHIFT29) | (np.uint64(b) >> _SHIFT3)
    x = (np.float64(k) + 0.5) * _TWO_M52 * ZIG_X[i]
    if (aa >> _SHIFT8) & _ONE:
        x = -x
    return i, x


@njit(cache=True)
def ziggurat_fast(a, b):
    """The normal of words (a, b) if its candidate is accepted at once (probability 0.990),
    else :data:`ZIG_NONE` (finish it with :func:`ziggurat_slow`)."""
    i, x = ziggurat_candidate(a, b)
    if abs(x) < ZIG_X[i + 1]:
        return x
    return ZIG_NONE


@njit(cache=True)
def ziggurat_slow(a, b, c0, c1, c2, block, k0, k1):
    """Finish the candidate in words (a, b) exactly, reading Philox blocks ``(c0, c1, c2,
    block), (.., block + 1), ...`` as needed.

    Returns
    -------
    x : float
        The N(0, 1) variate.
    block : uint64
        The first block not read.
    """
    i, x = ziggurat_candidate(a, b)
    while abs(x) >= ZIG_X[i + 1]:
        if i == 0:
            # the tail beyond R (Marsaglia 1964): R + E1/R, accepted when 2 E2 > (E1/R)^2
            while True:
                u1, u2 = uniform_pair(c0, c1, c2, block, k0, k1)
                block += _ONE
                e = -math.log(u1) / ZIG_R
                if -2.0 * math.log(u2) > e * e:
                    break
            return math.copysign(ZIG_R + e, x), block
        w0, w1, w2, w3 = philox4x32_10(c0, c1, c2, block, k0, k1)
        block += _ONE
        y = ZIG_F[i] + uniform_from_words(w2, w3) * (ZIG_F[i + 1] - ZIG_F[i])
        if y < math.exp(-0.5 * x * x):
            return x, block
        i, x = ziggurat_candidate(w0, w1)
    return x, block
