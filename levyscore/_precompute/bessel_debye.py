"""Generate the constants of the large-order (Debye) path of ``levyscore/_bessel.py``.

Run with ``python levyscore/_precompute/bessel_debye.py``; it prints Python source for
``levyscore/_bessel.py`` and, with ``--cuda``, the same tables as C for ``kernels/bessel.cuh``.

Uniform asymptotic expansion (DLMF 10.41.4, 10.41.6-10.41.11; MATH.md section 4), with
z = x / nu, p = 1 / sqrt(1 + z^2) = nu / hypot(nu, x):

    K_nu(nu z)  ~ sqrt(pi / (2 nu)) e^{-nu eta} (1 + z^2)^{-1/4} sum_k (-1)^k u_k(p) / nu^k,
    K'_nu(nu z) ~ -sqrt(pi / (2 nu)) e^{-nu eta} (1 + z^2)^{1/4} / z sum_k (-1)^k v_k(p) / nu^k,

    u_0 = v_0 = 1,
    u_{k+1}(p) = p^2 (1 - p^2) u_k'(p) / 2 + (1/8) int_0^p (1 - 5 t^2) u_k(t) dt,
    v_{k+1}(p) = u_{k+1}(p) - p (1 - p^2) u_k(p) / 2 - p^2 (1 - p^2) u_k'(p).

u_k and v_k are p^k times a polynomial of degree k in t = p^2, with rational coefficients,
computed here exactly (``fractions.Fraction``).  Since p / nu = 1 / hypot(nu, x),
(-1)^k u_k(p) / nu^k = w^k P_k(t) with w = -1 / hypot(nu, x): the kernels evaluate
U = sum_k w^k P_k(t) and V = sum_k w^k Q_k(t) by Horner in w over Horner sums in t.

Printed:

* ``_DEBYE_U``, ``_DEBYE_V``: row k holds the coefficients of P_k, Q_k (t^0 .. t^k),
  zero-padded, k = 0 .. ``_DEBYE_TERMS`` - 1, rounded to float64 once;
* ``_DEBYE_NU_OMIT[k]``: the smallest order at which the terms k, k + 1, ... are left out.
  The first omitted term is bounded by max_{0<=p<=1} max(|u_k(p)|, |v_k(p)|) / nu^k (maxima
  on a 4001-point grid refined by a local search), and is kept below ``TOL`` = 2^-56
  (eps / 16), then rounded up to a multiple of 1/16; entry 0 is unused; the entries are
  non-increasing, and a kernel takes the smallest n with nu >= ``_DEBYE_NU_OMIT[n]``
  terms (k < n).  ``_DEBYE_TERMS`` is the n of ``NU_DEBYE`` (tried: 12 for 32, 14 for
  24, 16 for 20);
* ``_Z0_HI``, ``_Z0_LO`` (z0 = the zero of eta(z) = sqrt(1 + z^2) - asinh(1/z), as a
  double-double; Python only: the kernels use z0 through ``_S0`` and the constants of
  ``bessel_dd_log.py``) and ``_S0`` = sqrt(1 + z0^2).

Everything is computed with exact rationals or mpmath at 50 digits and printed with ``repr``
of the correctly rounded float64, so the output is reproducible.
"""
import sys
from fractions import Fraction

import mpmath as mp

mp.mp.dps = 50
# The smallest order of the Debye path (levyscore/_bessel.py); --nu-debye=V to try others.
NU_DEBYE = 24.0
for _arg in sys.argv[1:]:
    if _arg.startswith("--nu-debye="):
        NU_DEBYE = float(_arg.split("=", 1)[1])
TOL = mp.mpf(2) ** -56  # bound on the first omitted term (relative; U, V ~ 1)
N_GRID = 4001


def _der(c):
    return [i * c[i] for i in range(1, len(c))] or [Fraction(0)]


def _mul(a, b):
    r = [Fraction(0)] * (len(a) + len(b) - 1)
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            r[i + j] += x * y
    return r


def _add(*polys):
    n = max(len(p) for p in polys)
    return [sum((p[i] for p in polys if i < len(p)), Fraction(0)) for i in range(n)]


def _int(c):
    return [Fraction(0)] + [c[i] / (i + 1) for i in range(len(c))]


def _trim(c):
    while len(c) > 1 and c[-1] == 0:
        c.pop()
    return c


def debye_polynomials(n):
    """u_k, v_k (k = 0 .. n - 1) as exact coefficient lists in powers of p."""
    u = [[Fraction(1)]]
    v = [[Fraction(1)]]
    half = Fraction(1, 2)
    for _ in range(n - 1):
        uk = u[-1]
        d = _der(uk)
        a = _mul([0, 0, half, 0, -half], d)                     # p^2 (1 - p^2) u' / 2
        b = [c / 8 for c in _int(_mul([1, 0, -5], uk))]           # int_0^p (1 - 5t^2) u / 8
        un = _trim(_add(a, b))
        vn = _trim(_add(un, _mul([0, -half, 0, half], uk), _mul([0, 0, -1, 0, 1], d)))
        u.append(un)
        v.append(vn)
    return u, v


def in_t(c, k):
    """Coefficients of P with c(p) = p^k P(p^2); checks that c has that form."""
    c = c + [Fraction(0)] * (3 * k + 1 - len(c))
    assert all(c[i] == 0 for i in range(len(c)) if i < k or (i - k) % 2), "not p^k P(p^2)"
    assert len(c) == 3 * k + 1
    return [c[k + 2 * j] for j in range(k + 1)]


def _value(c, p):
    return mp.fsum(mp.mpf(q.numerator) / q.denominator * p ** i for i, q in enumerate(c))


def max_abs(c):
    """max over p in [0, 1] of |c(p)|: grid, then a golden-section search around the best."""
    best_p, best = mp.mpf(0), mp.mpf(0)
    for i in range(N_GRID):
        p = mp.mpf(i) / (N_GRID - 1)
        val = abs(_value(c, p))
        if val > best:
            best_p, best = p, val
    lo, hi = max(best_p - mp.mpf(2) / N_GRID, 0), min(best_p + mp.mpf(2) / N_GRID, 1)
    phi = (mp.sqrt(5) - 1) / 2
    for _ in range(80):
        a, b = hi - phi * (hi - lo), lo + phi * (hi - lo)
        if abs(_value(c, a)) > abs(_value(c, b)):
            hi = b
        else:
            lo = a
    return max(best, abs(_value(c, (lo + hi) / 2)))


def _wrap(items, indent, width=99):
    """Join ``items`` with spaces into lines of at most ``width`` characters."""
    lines = [indent]
    for item in items:
        if len(lines[-1]) + len(item) + 1 > width and lines[-1].strip():
            lines.append(indent)
        lines[-1] += ("" if lines[-1] == indent else " ") + item
    return "\n".join(lines)


def main():
    cuda = "--cuda" in sys.argv[1:]
    n_max = 20
    u, v = debye_polynomials(n_max + 1)
    bound = [mp.mpf(1)]
    omit = [mp.inf]
    while omit[-1] > NU_DEBYE:     # add terms until the first omitted one is small enough
        k = len(bound)
        bound.append(max(max_abs(u[k]), max_abs(v[k])))
        omit.append((bound[k] / TOL) ** (mp.mpf(1) / k))
        assert omit[k] <= omit[k - 1], "thresholds must be non-increasing"
    terms = len(bound) - 1
    z0 = mp.findroot(lambda z: mp.sqrt(1 + z * z) - mp.asinh(1 / z), mp.mpf("0.66"))
    z0_hi = float(z0)
    z0_lo = float(z0 - mp.mpf(z0_hi))
    s0 = float(mp.sqrt(1 + z0 * z0))
    rows_u = [[float(q) for q in in_t(u[k], k)] for k in range(terms)]
    rows_v = [[float(q) for q in in_t(v[k], k)] for k in range(terms)]
    rows_u = [r + [0.0] * (terms - len(r)) for r in rows_u]
    rows_v = [r + [0.0] * (terms - len(r)) for r in rows_v]
    nu_omit = [float(omit[k]) if k else 0.0 for k in range(terms + 1)]
    # printed rounded up to 1/16, so that the table is short and conservative
    nu_omit = [float(mp.ceil(mp.mpf(w) * 16) / 16) for w in nu_omit]
    print("# Debye path (levyscore/_precompute/bessel_debye.py): %d terms for nu >= %r;"
          % (terms, NU_DEBYE))
    print("# first omitted term <= 2^-56; max |u_k|, |v_k| on [0, 1]: %s"
          % ", ".join(mp.nstr(b, 4) for b in bound[:terms + 1]))
    if cuda:
        for name, rows in (("DEBYE_U", rows_u), ("DEBYE_V", rows_v)):
            print("LS_TABLE double %s[%d][%d] = {" % (name, terms, terms))
            for r in rows:
                print("    {")
                print(_wrap([repr(c) + "," for c in r], "        "))
                print("    },")
            print("};")
        print("LS_TABLE double DEBYE_NU_OMIT[%d] = {" % (terms + 1))
        print(_wrap([repr(c) + "," for c in nu_omit], "    "))
        print("};")
        print("static constexpr int DEBYE_TERMS = %d;" % terms)
        for name, val in (("NU_DEBYE", NU_DEBYE), ("S0", s0)):
            print("static constexpr double %s = %r;" % (name, val))
        return
    for name, rows in (("_DEBYE_U", rows_u), ("_DEBYE_V", rows_v)):
        print("%s = np.array([" % name)
        for r in rows:
            items = [repr(c) + "," for c in r]
            items[-1] = items[-1][:-1] + "],"
            print("    [" + _wrap(items, "     ")[5:])
        print("])")
    print("_DEBYE_NU_OMIT = np.array([")
    print(_wrap([repr(c) + "," for c in nu_omit], "    "))
    print("])")
    print("_DEBYE_TERMS = %d" % terms)
    for name, val in (("_NU_DEBYE", NU_DEBYE), ("_Z0_HI", z0_hi), ("_Z0_LO", z0_lo),
                      ("_S0", s0)):
        print("%s = %r" % (name, val))


if __name__ == "__main__":
    main()
