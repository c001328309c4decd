"""Philox4x32-10 counter-based generator and rejection-free variate transforms.

Every random number in levyscore is a pure function of a *key* and a *counter*
(Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11; the
Random123 library). Nothing is stateful, so a sample can be recomputed alone,
on any thread, on the CPU or on a GPU, and give the same bits.

Words
-----
All 32-bit words are carried in ``uint64`` variables whose value is below
2**32: Numba then never promotes a mixed ``uint32``/``int64`` expression to
``float64``, and the two 32x32->64 multiplications of a round are exact
``uint64`` products.

Counter layout
--------------
The 64-bit key ``(k0, k1)`` is the seed (see :mod:`levyscore._seeding`). The
128-bit counter ``(c0, c1, c2, c3)`` is::

    c0, c1 : global sample index i (64 bits: c0 = low word, c1 = high word)
    c2     : stream word = (domain << 24) | index     (see stream_word)
    c3     : block index within the (sample, stream) pair, 0, 1, 2, ...
             (at most 2**32 blocks: a forward draw uses N + 1 jump blocks,
             so lambda * t must stay far below 4e9)

``domain`` (8 bits) names *what* the numbers are for; ``index`` (24 bits) is a
sub-stream number such as the interval of a path or the step of a reverse-time
sampler. Sample i only ever reads counters whose (c0, c1) equal i, so rows
[a, b) of a batch computed alone (``start=a``) equal rows a..b-1 of the whole
batch bit for bit, whatever the number of threads. Domains in use:

=====================  ======  ===============================================
name                   value   use
=====================  ======  ===============================================
DOMAIN_FORWARD_GAUSS   0x00    forward draw: the normals xi (index = interval)
DOMAIN_FORWARD_JUMP    0x01    forward draw: jump ages and Exp(1) marks
DOMAIN_STATIONARY      0x02    stationary draw: the normals xi
DOMAIN_STATIONARY_GAM  0x03    stationary draw: the Gamma(m) variable W_inf
DOMAIN_FORWARD_MARK    0x04    forward draw: amplitude marks that need more
                               than one uniform (Student-t; blocks p * 4096 + k
                               for jumps 2p and 2p + 1, see
                               levyscore.amplitudes.student_t)
DOMAIN_STATIONARY_JUMP 0x05    stationary draw, laws without a Gamma W_inf:
                               jump ages and uniforms (as DOMAIN_FORWARD_JUMP)
DOMAIN_STATIONARY_MARK 0x06    ... and their multi-uniform marks
DOMAIN_REVERSE_GAUSS   0x10    reverse-time steps: normals (index = step)
DOMAIN_REVERSE_JUMP    0x11    reverse-time steps: jump ages and marks
DOMAIN_REVERSE_MARK    0x12    reverse-time steps: multi-uniform marks
DOMAIN_TARGET_MIXTURE  0x20    levyscore.targets.GaussianMixture (defined there)
DOMAIN_TEST            0xFF    test and diagnostic helpers of this module
=====================  ======  ===============================================

One Philox block gives four words, hence two 52-bit uniforms
(:func:`uniform_pair`), two normals (:func:`normal_pair`) or two Exp(1).

Transforms
----------
None of the transforms below rejects, so the number of blocks a variate
consumes is fixed and a CUDA twin reading the same counters computes the same
uniforms bit for bit (the transcendental functions may differ by an ulp
between libm and CUDA's libdevice). Only the Gamma sampler rejects
(Marsaglia-Tsang); it reads consecutive blocks of its own stream.

Uniforms use 52 bits, not 53: ``u = (k + 0.5) * 2**-52`` with ``k`` a 52-bit
integer is computed exactly in binary64 and lies in [2**-53, 1 - 2**-53],
strictly inside (0, 1). The 53-bit form ``(k + 0.5) * 2**-53`` is *not* exact
for ``k >= 2**52`` (``k + 0.5`` needs 54 significant bits): it rounds, and for
``k = 2**53 - 1`` it returns exactly 1.0.
"""
import math

import numpy as np
from numba import njit

__all__ = [
    "DOMAIN_FORWARD_GAUSS",
    "DOMAIN_FORWARD_JUMP",
    "DOMAIN_STATIONARY",
    "DOMAIN_STATIONARY_GAM",
    "DOMAIN_FORWARD_MARK",
    "DOMAIN_STATIONARY_JUMP",
    "DOMAIN_STATIONARY_MARK",
    "DOMAIN_REVERSE_MARK",
    "DOMAIN_REVERSE_GAUSS",
    "DOMAIN_REVERSE_JUMP",
    "DOMAIN_TEST",
    "MAX_STREAM_INDEX",
    "stream_word",
    "philox4x32_10",
    "uniform_from_words",
    "uniform_pair",
    "normal_pair",
    "exponential_pair",
    "gamma_variate",
    "marsaglia_tsang_cube",
    "uniforms",
    "normals",
    "exponentials",
    "gammas",
]

DOMAIN_FORWARD_GAUSS = 0x00
DOMAIN_FORWARD_JUMP = 0x01
DOMAIN_STATIONARY = 0x02
DOMAIN_STATIONARY_GAM = 0x03
DOMAIN_FORWARD_MARK = 0x04
DOMAIN_STATIONARY_JUMP = 0x05
DOMAIN_STATIONARY_MARK = 0x06
DOMAIN_REVERSE_GAUSS = 0x10
DOMAIN_REVERSE_JUMP = 0x11
DOMAIN_REVERSE_MARK = 0x12
DOMAIN_TEST = 0xFF
#: Largest sub-stream index that fits the 24 low bits of the stream word.
MAX_STREAM_INDEX = (1 << 24) - 1

_PHILOX_M0 = np.uint64(0xD2511F53)
_PHILOX_M1 = np.uint64(0xCD9E8D57)
_PHILOX_W0 = np.uint64(0x9E3779B9)  # golden ratio
_PHILOX_W1 = np.uint64(0xBB67AE85)  # sqrt(3) - 1
_MASK32 = np.uint64(0xFFFFFFFF)
_SHIFT32 = np.uint64(32)
_SHIFT26 = np.uint64(26)
_SHIFT6 = np.uint64(6)
_TWO_M52 = 2.0**-52
_TWO_PI = 2.0 * math.pi


@njit(cache=True)
def stream_word(domain, index):
    """Counter word c2 for ``domain`` (0..255) and sub-stream ``index`` (0..2**24-1).

    Returns
    -------
    uint64
        ``(domain << 24) | index``, below 2**32.
    """
    return (np.uint64(domain) << np.uint64(24)) | np.uint64(index)


@njit(cache=True)
def philox4x32_10(c0, c1, c2, c3, k0, k1):
    """Philox4x32 with 10 rounds on one 128-bit counter.

    Parameters
    ----------
    c0, c1, c2, c3 : integers below 2**32
        Counter words.
    k0, k1 : integers below 2**32
        Key words.

    Returns
    -------
    tuple of 4 uint64
        The output words, each below 2**32, in Random123's order.
    """
    x0 = np.uint64(c0)
    x1 = np.uint64(c1)
    x2 = np.uint64(c2)
    x3 = np.uint64(c3)
    y0 = np.uint64(k0)
    y1 = np.uint64(k1)
    for _ in range(10):
        p0 = _PHILOX_M0 * x0  # exact: both factors < 2**32
        p1 = _PHILOX_M1 * x2
        n0 = ((p1 >> _SHIFT32) ^ x1 ^ y0) & _MASK32
        n2 = ((p0 >> _SHIFT32) ^ x3 ^ y1) & _MASK32
        x1 = p1 & _MASK32
        x3 = p0 & _MASK32
        x0 = n0
        x2 = n2
        y0 = (y0 + _PHILOX_W0) & _MASK32
        y1 = (y1 + _PHILOX_W1) & _MASK32
    return x0, x1, x2, x3


@njit(cache=True)
def uniform_from_words(a, b):
    """Uniform in the open interval (0, 1) from two 32-bit words.

    ``k = (a >> 6) * 2**26 + (b >> 6)`` is a 52-bit integer and
    ``u = (k + 0.5) * 2**-52``; every operation is exact in binary64, so
    ``u`` is in [2**-53, 1 - 2**-53] (see the module docstring).
    """
    k = ((np.uint64(a) >> _SHIFT6) << _SHIFT26) | (np.uint64(b) >> _SHIFT6)
    return (np.float64(k) + 0.5) * _TWO_M52


@njit(cache=True)
def uniform_pair(c0, c1, c2, c3, k0, k1):
    """Two uniforms in (0, 1) from one Philox block: words (0, 1) and (2, 3)."""
    w0, w1, w2, w3 = philox4x32_10(c0, c1, c2, c3, k0, k1)
    return uniform_from_words(w0, w1), uniform_from_words(w2, w3)


# The same functions, inlined into their caller (Numba IR inlining): a loop over samples
# that calls these becomes straight-line integer code that LLVM vectorizes (AVX2's 32 x 32
# -> 64-bit multiply), 1.8 ns a block against 14 ns for the call (levyscore._forward.
# first_uniforms). Not cached themselves: their code lives in the caller's.
philox4x32_10_inline = njit(inline="always")(philox4x32_10.py_func)
uniform_from_words_inline = njit(inline="always")(uniform_from_words.py_func)


@njit(cache=True)
def box_muller(u1, u2):
    """Two independent N(0, 1) from two uniforms in (0, 1) (no rejection).

    ``r = sqrt(-2 log u1)``, returns ``(r cos 2 pi u2, r sin 2 pi u2)``.
    """
    r = math.sqrt(-2.0 * math.log(u1))
    a = _TWO_PI * u2
    return r * math.cos(a), r * math.sin(a)


@njit(cache=True)
def normal_pair(c0, c1, c2, c3, k0, k1):
    """Two N(0, 1) from one Philox block (Box-Muller on :func:`uniform_pair`)."""
    u1, u2 = uniform_pair(c0, c1, c2, c3, k0, k1)
    return box_muller(u1, u2)


@njit(cache=True)
def exponential_pair(c0, c1, c2, c3, k0, k1):
    """Two Exp(1) from one Philox block, by inversion ``-log(u)``."""
    u1, u2 = uniform_pair(c0, c1, c2, c3, k0, k1)
    return -math.log(u1), -math.log(u2)


@njit(cache=True)
def marsaglia_tsang_cube(x, u, c, d):
    """One attempt of Marsaglia & Tsang's Gamma sampler: ``v^3`` if it accepts, else 0.

    ``x`` is the attempt's normal, ``u`` its acceptance uniform, ``d = a - 1/3`` and
    ``c = 1 / sqrt(9 d)`` for shape ``a >= 1``; an accepted attempt gives ``G = d v^3``.
    Shared by :func:`gamma_variate` and the Student-t marks of :mod:`levyscore.amplitudes`.
    """
    v = 1.0 + c * x
    if v <= 0.0:
        return 0.0
    v = v * v * v
    x2 = x * x
    if u < 1.0 - 0.0331 * x2 * x2:
        return v
    if math.log(u) < 0.5 * x2 + d * (1.0 - v + math.log(v)):
        return v
    return 0.0


@njit(cache=True)
def gamma_variate(shape, c0, c1, c2, k0, k1):
    """Gamma(shape, 1) reading blocks 0, 1, 2, ... of the stream (c0, c1, c2).

    Marsaglia & Tsang (2000), "A simple method for generating gamma
    variables", for ``shape >= 1`` (:func:`marsaglia_tsang_cube`); for
    ``0 < shape < 1`` the boost ``Gamma(shape) = Gamma(shape + 1) * U**(1/shape)``,
    computed in log space. ``shape == 0`` returns 0 (the point mass). Block 0
    holds the boost uniform; attempt j reads block 2j + 1 (a Box-Muller normal)
    and block 2j + 2 (the acceptance uniform).

    Returns
    -------
    float64
        The variate (may underflow to 0 for very small ``shape``).
    """
    if shape <= 0.0:
        return 0.0
    boost = shape < 1.0
    a = shape + 1.0 if boost else shape
    d = a - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    block = np.uint64(1)
    one = np.uint64(1)
    while True:
        u1, u2 = uniform_pair(c0, c1, c2, block, k0, k1)
        x = math.sqrt(-2.0 * math.log(u1)) * math.cos(_TWO_PI * u2)
        u, _ = uniform_pair(c0, c1, c2, block + one, k0, k1)
        block += np.uint64(2)
        v = marsaglia_tsang_cube(x, u, c, d)
        if v > 0.0:
            break
    g = d * v
    if boost:
        ub, _ = uniform_pair(c0, c1, c2, np.uint64(0), k0, k1)
        return math.exp(math.log(g) + math.log(ub) / shape)
    return g


# --------------------------------------------------------------------------
# Serial batch helpers (tests and diagnostics). Value j of a batch comes from
# counter (j // 2, 0, stream_word(DOMAIN_TEST, index), 0), output j % 2.
# --------------------------------------------------------------------------


@njit(cache=True)
def _fill(kind, k0, k1, c2, out):
    n = out.shape[0]
    for j in range(0, n, 2):
        i = np.uint64(j // 2)
        lo = i & _MASK32
        hi = i >> _SHIFT32
        if kind == 0:
            a, b = uniform_pair(lo, hi, c2, np.uint64(0), k0, k1)
        elif kind == 1:
            a, b = normal_pair(lo, hi, c2, np.uint64(0), k0, k1)
        else:
            a, b = exponential_pair(lo, hi, c2, np.uint64(0), k0, k1)
        out[j] = a
        if j + 1 < n:
            out[j + 1] = b


@njit(cache=True)
def _fill_gamma(shape, k0, k1, c2, out):
    for j in range(out.shape[0]):
        i = np.uint64(j)
        out[j] = gamma_variate(shape, i & _MASK32, i >> _SHIFT32, c2, k0, k1)


def _key_words(key):
    k0, k1 = (int(w) for w in key)
    assert 0 <= k0 < 2**32 and 0 <= k1 < 2**32, "key words must be 32-bit"
    return np.uint64(k0), np.uint64(k1)


def _batch(kind, key, n, index):
    assert 0 <= index <= MAX_STREAM_INDEX
    k0, k1 = _key_words(key)
    out = np.empty(int(n), dtype=np.float64)
    _fill(kind, k0, k1, stream_word(DOMAIN_TEST, index), out)
    return out


def uniforms(key, n, index=0):
    """``n`` uniforms in (0, 1), shape (n,), from the test domain, sub-stream ``index``."""
    return _batch(0, key, n, index)


def normals(key, n, index=0):
    """``n`` standard normals, shape (n,), from the test domain, sub-stream ``index``."""
    return _batch(1, key, n, index)


def exponentials(key, n, index=0):
    """``n`` Exp(1) variates, shape (n,), from the test domain, sub-stream ``index``."""
    return _batch(2, key, n, index)


def gammas(key, n, shape, index=0):
    """``n`` Gamma(shape, 1) variates, shape (n,); variate j uses sample index j."""
    assert 0 <= index <= MAX_STREAM_INDEX
    k0, k1 = _key_words(key)
    out = np.empty(int(n), dtype=np.float64)
    _fill_gamma(float(shape), k0, k1, stream_word(DOMAIN_TEST, index), out)
    return out
