"""The ziggurat normal sampler (levyscore._ziggurat): its tables, its law, and every branch.

The tables are checked against the ziggurat's defining property (256 layers of one area V
under exp(-x^2/2)), in double precision, not against the mpmath script that wrote them. The
law is checked by Kolmogorov-Smirnov and by the frequencies of the slow path and of the
tail, whose exact probabilities follow from the tables and from erfc.
"""
import math

import numba as nb
import numpy as np
import pytest
from scipy import special, stats

from levyscore import _ziggurat as zg
from levyscore._philox import philox4x32_10

ALPHA = 1e-6  # every statistical test here fails by chance with probability <= ALPHA
K0, K1 = np.uint64(0x2545F491), np.uint64(0x9E3779B9)
X, F, R = zg.ZIG_X, zg.ZIG_F, zg.ZIG_R


def test_tables_are_a_ziggurat():
    assert X.shape == F.shape == (257,)
    assert X[1] == R and X[256] == 0.0 and F[256] == 1.0
    assert np.all(np.diff(X[1:]) < 0.0) and X[0] > R
    # F = f(X) correctly rounded; the double exp of the rounded -X^2/2 is off by at most
    # (|X^2/2| + 2) eps relative (rounding of the argument, of exp, of F)
    eps = np.finfo(float).eps
    assert np.all(np.abs(F - np.exp(-0.5 * X * X)) <= (0.5 * X * X + 2.0) * eps * F)
    # every layer has the base layer's area: rectangle [0, R] x [0, f(R)] plus the tail
    v = R * F[1] + math.sqrt(math.pi / 2.0) * special.erfc(R / math.sqrt(2.0))
    areas = X[1:256] * (F[2:] - F[1:256])
    np.testing.assert_allclose(areas, v, rtol=1e-13)
    assert X[0] * F[1] == pytest.approx(v, rel=1e-15)


@nb.njit(cache=False)
def _draw(n, k0, k1):
    """n normals, sample s from block 0 of counter (s, 0, 7); slow paths from blocks 1, 2, ...
    Counts: (slow paths, tail draws, wedge rejections)."""
    out = np.empty(n)
    slow = tail = rejected = 0
    c1 = np.uint64(0)
    c2 = np.uint64(7)
    for s in range(n):
        c0 = np.uint64(s)
        w0, w1, w2, w3 = philox4x32_10(c0, c1, c2, np.uint64(0), k0, k1)
        x = zg.ziggurat_fast(w0, w1)
        if x == zg.ZIG_NONE:
            slow += 1
            i, _ = zg.ziggurat_candidate(w0, w1)
            x, block = zg.ziggurat_slow(w0, w1, c0, c1, c2, np.uint64(1), k0, k1)
            if i == 0 and abs(x) >= X[1]:
                tail += 1
            elif i > 0:
                rejected += int(block) - 2  # blocks after the first: one per rejection
        out[s] = x
    return out, slow, tail, rejected


def test_normal_law_and_every_branch():
    n = 400_000
    z, slow, tail, rejected = _draw(n, K0, K1)
    assert np.all(np.isfinite(z))
    assert stats.kstest(z, "norm").pvalue > ALPHA
    # 5 standard errors for the moments (sd(mean) = 1/sqrt(n), sd(mean z^2) = sqrt(2/n));
    # P(|N| > 5) = 5.7e-7 < ALPHA
    assert abs(z.mean()) < 5.0 / math.sqrt(n)
    assert abs(np.mean(z * z) - 1.0) < 5.0 * math.sqrt(2.0 / n)
    # the slow path: a candidate misses its layer's inner rectangle with probability
    # p = mean_i (1 - X[i+1]/X[i]); the count is Binomial(n, p), 5 standard errors
    p = np.mean(1.0 - X[1:] / X[:256])
    assert abs(slow - n * p) < 5.0 * math.sqrt(n * p * (1.0 - p))
    # beyond R: exactly P(|N| > R) = erfc(R / sqrt 2); Binomial, 5 standard errors
    pt = special.erfc(R / math.sqrt(2.0))
    beyond = np.count_nonzero(np.abs(z) > R)
    assert abs(beyond - n * pt) < 5.0 * math.sqrt(n * pt)
    # every branch ran: tail draws, wedge acceptances and rejections (expected ~27, ~5.7k
    # and ~600 at this n)
    assert tail > 0 and rejected > 0 and slow - tail > rejected


def test_candidate_uses_every_bit_field():
    """Layer from bits 0-7 of a, sign from bit 8, the abscissa from the other 55 bits."""
    a = np.uint64(0b1_0000_0011)  # layer 3, negative, abscissa bits 0
    i, x = zg.ziggurat_candidate(a, np.uint64(0))
    assert i == 3 and x == -0.5 * 2.0**-52 * X[3]
    i, x = zg.ziggurat_candidate(np.uint64(0xFFFFFEFF), np.uint64(0xFFFFFFFF))
    assert i == 255 and x == (2.0**52 - 0.5) * 2.0**-52 * X[255]
    assert zg.ziggurat_fast(np.uint64(3), np.uint64(0)) == 0.5 * 2.0**-52 * X[3]
