"""Generate the double-double constants of the Debye log K of ``levyscore/_bessel.py``.

Run with ``python levyscore/_precompute/bessel_dd_log.py``; it prints Python source for
``levyscore/_bessel.py`` and, with ``--cuda``, the same values as C for
``kernels/bessel.cuh``.

For nu >= 24 the kernels form log K_nu(x) = 0.5 log(pi/2) - 0.5 log h - nu eta + log U with
the large terms in double-double arithmetic (module docstring of ``_bessel.py``, step 4).
Their logarithm ``_dd_log`` writes its argument as 2^e m, m in [sqrt(1/2), sqrt(2)) (so that
arguments near 1 have e = 0 and lose nothing to e ln 2), takes c_k = k/64 with
k = round(64 m) in [45, 91], and

    log(2^e m) = e ln 2 + log c_k + 2 atanh(u),  u = (m - c_k) / (m + c_k), |u| <= 2^-7.49,

2 atanh(u) = 2u + 2u^3/3 + 2u^5/5 + ...  Printed:

* ``_LOG_TABLE[k - _LOG_K0]`` = (hi, lo), hi + lo = log(k/64) to ~2^-106 relative,
  k = ``_LOG_K0`` = 45 .. 91 (log 1 = (0, 0) exactly);
* ``_LOG_C3`` .. ``_LOG_C9`` = 2/3, 2/5, 2/7, 2/9 (the series after its first term; the
  first omitted term, 2u^11/11, is below 2^-78 relative to 2u);
* ``_HALF_LOG_PI_2_LO``: 0.5 log(pi/2) - ``_HALF_LOG_PI_2`` (which is its rounded value);
* ``_S0_LO``: sqrt(1 + z0^2) - ``_S0``, z0 the zero of eta(z) = sqrt(1 + z^2) - asinh(1/z)
  (as in ``bessel_debye.py``);
* ``_K0_HI``, ``_K0_LO``: (1 + s0) / z0 = e^{s0} as a double-double (the kernels' nu eta is
  (h - nu s0) + nu log(K0 x / (nu + h)), h = hypot(nu, x)).

mpmath at 50 digits; every value is the correctly rounded float64 of the remainder, printed
with ``repr`` (round-trip exact), so the output is reproducible.
"""
import sys

import mpmath as mp

mp.mp.dps = 50
N_TABLE = 64          # c_k = k / N_TABLE, k = K_LO .. K_HI
K_LO = 45             # round(64 sqrt(1/2)) = round(45.25)
K_HI = 91             # round(64 sqrt(2)) = round(90.51)


def dd(v):
    """(hi, lo): hi the float64 nearest v, lo the float64 nearest v - hi."""
    hi = float(v)
    return hi, float(v - mp.mpf(hi))


def constants():
    """The printed values, as a dict name -> float or list of (hi, lo)."""
    z0 = mp.findroot(lambda z: mp.sqrt(1 + z * z) - mp.asinh(1 / z), mp.mpf("0.66"))
    s0 = mp.sqrt(1 + z0 * z0)
    half_log = mp.log(mp.pi / 2) / 2
    out = {
        "LOG_TABLE": [dd(mp.log(mp.mpf(k) / N_TABLE)) for k in range(K_LO, K_HI + 1)],
        "LOG_C3": float(mp.mpf(2) / 3), "LOG_C5": float(mp.mpf(2) / 5),
        "LOG_C7": float(mp.mpf(2) / 7), "LOG_C9": float(mp.mpf(2) / 9),
        "HALF_LOG_PI_2_LO": dd(half_log)[1],
        "S0_LO": dd(s0)[1],
        "K0_HI": dd((1 + s0) / z0)[0],
        "K0_LO": dd((1 + s0) / z0)[1],
    }
    assert abs((1 + s0) / z0 - mp.exp(s0)) < mp.mpf(10) ** -45   # asinh(1 / z0) = s0
    assert dd(half_log)[0] == 0.22579135264472744 and dd(s0)[0] == 1.1996786402577337
    return out


def main():
    cuda = "--cuda" in sys.argv[1:]
    c = constants()
    table = c.pop("LOG_TABLE")
    if cuda:
        print("LS_TABLE double LOG_TABLE[%d][2] = {" % len(table))
        for hi, lo in table:
            print("    {%r, %r,}," % (hi, lo))  # trailing commas: parsed by the parity test
        print("};")
        print("static constexpr int LOG_K0 = %d;" % K_LO)
        for name, val in c.items():
            print("static constexpr double %s = %r;" % (name, val))
        return
    print("_LOG_TABLE = np.array([")
    for hi, lo in table:
        print("    [%r, %r]," % (hi, lo))
    print("])")
    print("_LOG_K0 = %d" % K_LO)
    for name, val in c.items():
        print("_%s = %r" % (name, val))


if __name__ == "__main__":
    main()
