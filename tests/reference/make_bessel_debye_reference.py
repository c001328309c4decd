"""Write ``bessel_debye_reference.npz``: log K_nu(x) and K_{nu+1}(x)/K_nu(x) over the Debye
region of ``levyscore._bessel`` (nu >= _NU_DEBYE = 24), from mpmath.

Run from the repository root::

    python tests/reference/make_bessel_debye_reference.py

Values by method A of ``make_bessel_reference.py`` (mpmath ``besselk`` at the fractional
orders, then the upward recurrence, 60 digits) at every point; every 6th point (every 2nd
of set 5) is also computed by method B (the integral representation, 50 digits) and the two
must agree to 1e-35 (relative for the ratio, absolute / max(1, |log K|) for log K).  Values
are stored as float64 pairs (hi, lo), hi + lo = the 60-digit value to ~32 digits.

Sets (``kind``), seeded; orders are integers, half-integers or reals in equal shares:

0. 900 points, nu log-uniform in [24, 2048], x log-uniform in [1e-10, 1e4];
1. 500 points, nu as in 0, x = z nu with z uniform in [0.2, 2] (x <= 1e4), where eta, and
   so nu eta, goes from large negative through 0 to large positive;
2. 400 points at the zero of log K (|log K| < 1, x ~ 0.6627 nu), where the pieces of
   log K (-nu eta and -log hypot(nu, x) / 2, ~4 each at nu = 2048) cancel;
3. 200 points with nu in [24, 26], just above the switch, where the expansion has the most
   terms and its truncation error is largest; x as in 0 or 1 alternately;
4. 40 points with nu log-uniform in [2048, 1e5] (beyond the contract's range; NU_MAX = 1e5)
   and x log-uniform in [1e-10, 1e4] or x = z nu, z in [0.2, 2];
5. a grid: nu in {24, 24.5, 25, 31.5, 32, 64, 100.3, 1000.45, 2047.5, 2048} x
   x in {1e-10, 1e-5, 0.1, 1, 10, 100, 1e3, 1e4}.
"""
import importlib.util
import math
import os

import mpmath as mp
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "bessel_debye_reference.npz")
NU_LO = 24.0
NU_HI = 2048.0
Z0 = 0.6627434193491816
S0 = 1.1996786402577337
GRID_NU = [24.0, 24.5, 25.0, 31.5, 32.0, 64.0, 100.3, 1000.45, 2047.5, 2048.0]
GRID_X = [1e-10, 1e-5, 0.1, 1.0, 10.0, 100.0, 1e3, 1e4]


def _methods():
    spec = importlib.util.spec_from_file_location(
        "make_bessel_reference", os.path.join(HERE, "make_bessel_reference.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _order(rng, i, lo, hi):
    nu = float(math.exp(rng.uniform(math.log(lo), math.log(hi))))
    if i % 3 == 0:
        return float(max(lo, min(hi, round(nu))))
    if i % 3 == 1:
        return float(max(lo, min(hi - 0.5, math.floor(nu)))) + 0.5
    return nu


def _x_log(rng):
    return float(min(max(10.0 ** rng.uniform(-10.0, 4.0), 1e-10), 1e4))


def _x_transition(rng, nu):
    return float(min(nu * rng.uniform(0.2, 2.0), 1e4))


def points():
    rng = np.random.default_rng(20250601)
    pts = []
    for i in range(900):
        pts.append((_order(rng, i, NU_LO, NU_HI), _x_log(rng), 0))
    for i in range(500):
        nu = _order(rng, i, NU_LO, NU_HI)
        pts.append((nu, _x_transition(rng, nu), 1))
    for i in range(400):
        nu = _order(rng, i, NU_LO, NU_HI)
        # log K = 0.2258 - log(hypot(nu, x)) / 2 - nu eta + O(1/nu), nu eta ~ (s0/z0)(x - nu z0)
        x0 = nu * Z0 + (0.2257913526447274 - 0.5 * math.log(nu * S0)) / (S0 / Z0)
        pts.append((nu, float(x0 + rng.uniform(-0.45, 0.45)), 2))
    for i in range(200):
        nu = _order(rng, i, NU_LO, 26.0)
        pts.append((nu, _x_log(rng) if i % 2 else _x_transition(rng, nu), 3))
    for i in range(40):
        nu = _order(rng, i, NU_HI, 1e5)
        pts.append((nu, _x_log(rng) if i % 2 else _x_transition(rng, nu), 4))
    for nu in GRID_NU:
        for x in GRID_X:
            pts.append((nu, x, 5))
    return pts


def split(v):
    hi = float(v)
    lo = float(v - mp.mpf(hi))
    return hi, lo


def main():
    ref = _methods()
    mp.mp.dps = 60
    rows = []
    worst = mp.mpf(0)
    n_checked = 0
    pts = points()
    for i, (nu, x, kind) in enumerate(pts):
        lk, ratio = ref.logk_pair_recurrence(nu, x)
        if kind == 2:
            assert abs(lk) < 1, (nu, x, lk)
        if (kind != 4 and i % 6 == 0) or (kind == 5 and i % 2 == 0):
            lk_b = ref.logk_quad(nu, x)
            ratio_b = mp.exp(ref.logk_quad(mp.mpf(nu) + 1, x) - lk_b)
            d_lk = abs(lk - lk_b) / max(1, abs(lk))
            d_r = abs(ratio / ratio_b - 1)
            worst = max(worst, d_lk, d_r)
            n_checked += 1
            if d_lk > mp.mpf("1e-35") or d_r > mp.mpf("1e-35"):
                raise AssertionError("methods disagree at nu=%r x=%r: %s %s" % (nu, x, d_lk, d_r))
        rows.append((nu, x, kind) + split(lk) + split(ratio))
        if i % 200 == 0:
            print(i, len(pts), nu, x, mp.nstr(worst, 3), flush=True)
    a = np.array(rows, dtype=np.float64)
    np.savez_compressed(
        OUT,
        nu=a[:, 0], x=a[:, 1], kind=a[:, 2].astype(np.int8),
        logk_hi=a[:, 3], logk_lo=a[:, 4], ratio_hi=a[:, 5], ratio_lo=a[:, 6],
    )
    print("wrote %s: %d points; %d checked by quadrature, worst disagreement %s"
          % (OUT, len(rows), n_checked, mp.nstr(worst, 3)))


if __name__ == "__main__":
    main()
