"""Write ``bessel_reference.npz``: log K_nu(x) and K_{nu+1}(x)/K_nu(x) from mpmath.

Run from the repository root::

    python tests/reference/make_bessel_reference.py

Two independent high-precision evaluations are made for every point and must
agree to 1e-35 (relative for the ratio, absolute / max(1, |log K|) for log K):

A. mpmath ``besselk`` at the fractional orders mu and mu + 1
   (mu = nu - floor(nu + 1/2)), then the upward recurrence
   K_{v+1} = K_{v-1} + (2v/x) K_v in 60-digit arithmetic (forward recurrence is
   stable for K).  Direct ``besselk`` at large orders does not converge near
   x ~ nu (mpmath NoConvergence), hence the recurrence;
B. the integral K_nu(x) = int_0^inf exp(-x cosh t) cosh(nu t) dt by
   tanh-sinh quadrature (``mpmath.quad``, 50 digits), written in log form
   around the maximum of nu t - x cosh t.

Every abscissa and order is the exact float64 value that the tests pass in.
Values are stored as float64 pairs (hi, lo) with hi + lo equal to the
60-digit value to ~32 digits, so that errors can be measured below 1 ulp.

Sets (``kind``): 0 = grid of orders x 41 log-spaced abscissae in
[1e-10, 1e4] plus points around the switches between Temme's series and CF2
(x = 1, 2); 1 = abscissae 0.55 nu .. 0.75 nu for large nu, across the zero
of log K_nu; 2 = 150 seeded random (nu, x) with nu in [100, 2048] (integer,
half-integer or real) and x within 0.2% of 0.6627 nu, where log K_nu ~ 0 and
the pieces of the algorithm (-x and the sum of log ratios, ~1e3 each) cancel.
"""
import math
import os

import mpmath as mp
import numpy as np

# Orders: integers and half-integers (the main use, nu = D/2 - j), and
# fractional orders mu = nu - floor(nu + 1/2) near 0 and near +-1/2.
NUS = [0.0, 0.1, 0.25, 0.49, 0.5, 0.51, 1.0, 1.5, 2.0, 3.5, 7.0, 10.49, 31.5,
       100.3, 127.0, 1000.45, 1000.7, 1535.0, 2047.5, 2048.0]
X_GRID = sorted(set(np.logspace(-10.0, 4.0, 41).tolist()
                    + [0.5, 0.999999, 1.0, 1.000001, 1.5, 1.999999, 2.0, 2.000001,
                       3.0, 5.0]))
CROSS_NUS = [31.5, 127.0, 1000.7, 1535.0, 2047.5, 2048.0]
CROSS_FRACS = np.linspace(0.55, 0.75, 9)
N_ZERO = 150           # random points at the zero of log K_nu, x ~ 0.6627 nu
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bessel_reference.npz")


def logk_pair_recurrence(nu, x, dps=60):
    """(log K_nu(x), K_{nu+1}(x)/K_nu(x)) by method A."""
    with mp.workdps(dps):
        n = int(math.floor(nu + 0.5))
        mu = mp.mpf(nu) - n
        x = mp.mpf(x)
        k0 = mp.besselk(mu, x)
        k1 = mp.besselk(mu + 1, x)
        for j in range(1, n + 1):
            k0, k1 = k1, k0 + 2 * (mu + j) / x * k1
        return mp.log(k0), k1 / k0


def logk_quad(nu, x, dps=50):
    """log K_nu(x) by method B (integral representation)."""
    with mp.workdps(dps + 10):
        nu = mp.mpf(nu)
        x = mp.mpf(x)
        t0 = mp.asinh(nu / x)

        def g(t):
            return nu * t - x * mp.cosh(t)

        g0 = g(t0)
        step = min((x * x + nu * nu) ** mp.mpf(-0.25), mp.mpf(1))
        drop = mp.mpf(dps) * mp.log(10) + 20
        pts = [t0]
        k = 0
        while True:
            t = t0 - step * 2 ** k
            if t <= 0:
                pts.insert(0, mp.mpf(0))
                break
            pts.insert(0, t)
            if g(t) - g0 < -drop:
                break
            k += 1
        k = 0
        while True:
            t = t0 + step * 2 ** k
            pts.append(t)
            if g(t) - g0 < -drop:
                break
            k += 1
        integral = mp.quad(lambda t: mp.exp(g(t) - g0) * (1 + mp.exp(-2 * nu * t)) / 2, pts)
        return g0 + mp.log(integral)


def split(v):
    hi = float(v)
    lo = float(v - mp.mpf(hi))
    return hi, lo


def main():
    mp.mp.dps = 60
    points = [(nu, x, 0) for nu in NUS for x in X_GRID]
    points += [(nu, float(f * nu), 1) for nu in CROSS_NUS for f in CROSS_FRACS]
    rng = np.random.default_rng(20240607)
    for i in range(N_ZERO):
        if i % 3 == 0:
            nu = float(rng.integers(100, 2049))
        elif i % 3 == 1:
            nu = float(rng.integers(100, 2048)) + 0.5
        else:
            nu = float(rng.uniform(100.0, 2048.0))
        points.append((nu, float(0.6627 * nu * (1.0 + rng.uniform(-0.002, 0.002))), 2))
    rows = []
    worst = mp.mpf(0)
    for i, (nu, x, kind) in enumerate(points):
        lk, ratio = logk_pair_recurrence(nu, x)
        lk_b = logk_quad(nu, x)
        lk1_b = logk_quad(mp.mpf(nu) + 1, x)  # exact order nu + 1
        ratio_b = mp.exp(lk1_b - lk_b)
        d_lk = abs(lk - lk_b) / max(1, abs(lk))
        d_r = abs(ratio / ratio_b - 1)
        worst = max(worst, d_lk, d_r)
        if d_lk > mp.mpf("1e-35") or d_r > mp.mpf("1e-35"):
            raise AssertionError("methods disagree at nu=%r x=%r: %s %s" % (nu, x, d_lk, d_r))
        rows.append((nu, x, kind) + split(lk) + split(ratio))
        if i % 100 == 0:
            print(i, len(points), nu, x, mp.nstr(worst, 3), flush=True)
    a = np.array(rows, dtype=np.float64)
    np.savez_compressed(
        OUT,
        nu=a[:, 0], x=a[:, 1], kind=a[:, 2].astype(np.int8),
        logk_hi=a[:, 3], logk_lo=a[:, 4], ratio_hi=a[:, 5], ratio_lo=a[:, 6],
    )
    print("wrote %s: %d points, worst disagreement A vs B %s" % (OUT, len(rows), mp.nstr(worst, 3)))


if __name__ == "__main__":
    main()
