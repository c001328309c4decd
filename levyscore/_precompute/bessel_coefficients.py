"""Generate the constants pasted into ``levyscore/_bessel.py``.

Run with ``python levyscore/_precompute/bessel_coefficients.py``; it prints
Python source for

* ``_RGAM_COEFFS``: Taylor coefficients c_k of 1/Gamma(1 + t) = sum_k c_k t^k
  around t = 0, used by Temme's series (gamma_1 and gamma_2 of the fractional
  order mu, |mu| <= 1/2).  The series is truncated where
  |c_k| (1/2)^k < 1e-20, far below double precision;
* ``_EULER_GAMMA`` and a two-part ln 2 (``_LN2_HI`` has few enough bits that
  ``n * _LN2_HI`` is exact for |n| < 2**40; ``_LN2_LO`` is the rest).

Everything is computed with mpmath at 50 significant digits and printed with
``repr`` of the correctly rounded float64, so the output is reproducible.
"""
import mpmath as mp

mp.mp.dps = 50


def main():
    coeffs = mp.taylor(lambda t: 1 / mp.gamma(1 + t), 0, 40)
    kept = []
    for k, c in enumerate(coeffs):
        kept.append(c)
        if k >= 2 and abs(c) * mp.mpf(0.5) ** k < mp.mpf("1e-20"):
            break
    print("# Taylor coefficients of 1/Gamma(1 + t) at t = 0 (k = 0 .. %d)." % (len(kept) - 1))
    print("_RGAM_COEFFS = np.array([")
    for c in kept:
        print("    %r," % float(c))
    print("])")
    print("_EULER_GAMMA = %r" % float(mp.euler))
    # Keep 32 significant bits in the high part so that n * _LN2_HI is exact.
    m, e = mp.frexp(mp.log(2))
    ln2_hi = mp.ldexp(mp.floor(mp.ldexp(m, 32)), e - 32)
    ln2_lo = mp.log(2) - ln2_hi
    print("_LN2_HI = %r" % float(ln2_hi))
    print("_LN2_LO = %r" % float(ln2_lo))
    assert float(ln2_hi) == ln2_hi


if __name__ == "__main__":
    main()
