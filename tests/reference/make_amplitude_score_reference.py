"""Generate tests/reference/amplitude_score_reference.npz: the radial factor h of the
generalized score S(y) = -y h(|y|) for Gaussian and Student-t jump amplitudes (MATH.md
sections 3 and 11), by Fourier inversion in mpmath.

    python tests/reference/make_amplitude_score_reference.py [--workers 2]

Route (independent of levyscore's quadratures over the law of W): V is linear in the law,
V = (sigma_G^2 / 2) p + (lambda sigma_A^2 / 2) E[p * N(0, R I)] with
E e^{-uR} = (1 - L_M(u)) / (sigma_A^2 u) (MATH.md section 11), so its Fourier transform is
V^(k) = phi(k) B(k), B(k) = sigma_G^2 / 2 + lambda (1 - L_M(k^2 / 2)) / k^2, with phi the
characteristic function of make_amplitude_reference.py (same closed forms, same Model).
Split phi = atom + (phi - atom):
  * the continuous part, radial: dV_c/dr = -(2 pi)^{-D/2} r^{1-D/2}
    int_0^inf (phi - atom) B k^{D/2+1} J_{D/2}(kr) dk (from d/dr[r^-n J_n(kr)] =
    -k r^-n J_{n+1}(kr)), by the Gauss-Legendre panels of the density's inversion;
  * the atom (pure jump): V_a = atom (lambda sigma_A^2 / 2) E phi_D(y; sigma_A^2 rho), rho
    with density Gbar(rho) = P(M~ > rho) on (0, inf) (Gaussian: 1 on (0, 1); Student-t:
    P(nu/2, (nu/2 - 1)/rho), regularized lower gamma), so
    -dV_a/dr / r = atom (lambda sigma_A^2 / 2) int_0^inf Gbar(rho) phi_D(r; v) / v drho,
    v = sigma_A^2 rho (mpmath.quad, split at rho = 1 and at the kernel's peak).
Then h = -(dV/dr) / (r p), p from the same inversion (the continuous part's density).
Each value is computed with set-ups A (dps 30) and B (dps 40) of make_amplitude_reference.py;
B is stored and est_err = |h_A - h_B| / h_B.

Validation first (asserted; the measured errors are printed), with Laplace amplitudes
(L_M(u) = 1 / (1 + sigma_A^2 u), R ~ sigma_A^2 Exp(1)) against tests/mpmath_laws.py (h from
the W-integrals: shares no code with this route):
  W1 diffusion 1, D = 1, 3, t = 0.5, 2, r = 0.3, 2.5 (the same panels as the table);
  W2 pure jump, D = 1, 3, t = 0.5 (the atom term; Laplace's phi - atom decays only like
     k^-2, so mpmath.quadosc inverts the continuous part there).
Measured (mpmath 1.4.1, 1 worker): W1 3.9e-31, W2 2.0e-31 (validation 42 s); the table,
144 rows (laws x D = 1, 2, 3 x diffusion 0, 1 x t = 0.5, 2 x r = 0.3, 1, 2.5, 6), worst
est_err 2.1e-29, 978 s.
"""
import argparse
import os
import sys
import time
from multiprocessing import Pool

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
sys.path.insert(0, TESTS)
sys.path.insert(0, HERE)

import mpmath as mp  # noqa: E402
from mpmath import mpf  # noqa: E402

import make_amplitude_reference as mar  # noqa: E402

THETA, JUMP_RATE, JUMP_VAR = mar.THETA, mar.JUMP_RATE, mar.JUMP_VAR
LAWS = mar.LAWS
DIMS = [1, 2, 3]
DIFFS = [0.0, 1.0]
TS = [0.5, 2.0]
RS = [0.3, 1.0, 2.5, 6.0]
OUT = os.path.join(HERE, "amplitude_score_reference.npz")


def one_minus_lm(mod, k):
    """1 - L_M(k^2 / 2) for the model's law (mpf)."""
    u = k * k / 2
    jv = mod.jv
    if mod.law == "gaussian":
        return -mp.expm1(-jv * u)
    if mod.law == "laplace":
        return jv * u / (1 + jv * u)
    z = k * mod.zfac  # Student-t, odd nu: L_M = e^{-z} P_nu(z)
    poly = (1 + z) if mod.nu == 3.0 else (1 + z + z * z / 3)
    return -mp.expm1(-z + mp.log(poly))


def b_factor(mod, k):
    """B(k) = sigma_G^2 / 2 + lambda (1 - L_M(k^2/2)) / k^2 (limit lambda sigma_A^2 / 2 at 0)."""
    if k == 0:
        return mod.sg2 / 2 + mod.lam * mod.jv / 2
    return mod.sg2 / 2 + mod.lam * one_minus_lm(mod, k) / (k * k)


def gbar(mod, rho):
    """P(M~ > rho), M~ the unit-mean mark (the density of rho in units of sigma_A^2)."""
    if mod.law == "gaussian":
        return mpf(1) if rho < 1 else mpf(0)
    if mod.law == "laplace":
        return mp.exp(-rho)  # M~ ~ Exp(1)
    a = mpf(mod.nu) / 2
    return mp.gammainc(a, 0, (a - 1) / rho, regularized=True)


def atom_term(mod, D, r):
    """atom (lambda sigma_A^2 / 2) int Gbar(rho) phi_D(r; sigma_A^2 rho) / (sigma_A^2 rho) drho."""
    if mod.atom == 0:
        return mpf(0)
    jv = mod.jv
    half = mpf(D) / 2

    def f(rho):
        v = jv * rho
        return gbar(mod, rho) * mp.exp(-half * mp.log(2 * mp.pi * v) - r * r / (2 * v)) / v

    peak = r * r / ((D + 2) * jv)  # the kernel phi / v peaks at v = r^2 / (D + 2)
    pts = sorted({mpf(0), mpf(1), peak, 4 * peak, mp.inf} - {mpf(0)} | {mpf(0)})
    if mod.law == "gaussian":
        pts = [p for p in pts if p <= 1]
    return mod.atom * mod.lam * jv / 2 * mp.quad(f, pts)


def h_value(inv, r):
    """h at radius r from an Inverter of make_amplitude_reference (its nodes and phi - atom)."""
    mod, D, cfg = inv.model, inv.D, inv.cfg
    with mp.workdps(cfg["dps"]):
        r = mpf(r)
        half = mpf(D) / 2
        el = cfg["elementary"]
        if not hasattr(inv, "bk"):
            inv.bk = [b_factor(mod, k) for k in inv.k]
        sv = mp.fsum(w * e * b * mar._bessel(D, k * r, el) * k ** (half + 1)
                     for k, w, e, b in zip(inv.k, inv.w, inv.ex, inv.bk))
        minus_dv_over_r = (2 * mp.pi) ** (-half) * r ** (-half) * sv + atom_term(mod, D, r)
        _, lp = inv.cdf_pdf(r)
        return minus_dv_over_r / mp.exp(lp), lp


def _validate():
    import mpmath_laws as ml

    worst = {}
    for D in (1, 3):
        for t in (0.5, 2.0):
            mod = mar.Model("laplace", 0.0, THETA, 1.0, JUMP_RATE, JUMP_VAR, t)
            inv = mar.Inverter(mod, D, "A")
            for r in (0.3, 2.5):
                ref = ml.law_quadrature(D, THETA, 1.0, JUMP_RATE, JUMP_VAR, t, r, "A", dps=30)
                h, _ = h_value(inv, r)
                with mp.workdps(30):
                    err = float(abs(h / ref["h"] - 1))
                worst["W1"] = max(worst.get("W1", 0.0), err)
    # W2: pure jump (the atom term): Laplace's phi - atom decays only like k^-2, so the
    # continuous part is inverted by mpmath.quadosc here (as V3 of make_amplitude_reference)
    with mp.workdps(30):
        mod = mar.Model("laplace", 0.0, THETA, 0.0, JUMP_RATE, JUMP_VAR, 0.5)
        for D in (1, 3):
            half = mpf(D) / 2
            for r in (0.3, 2.5):
                r = mpf(r)
                iv = mp.quadosc(lambda k: mod.excess(k) * b_factor(mod, k)
                                * mp.besselj(half, k * r) * k ** (half + 1), [0, mp.inf], omega=r)
                ip = mp.quadosc(lambda k: mod.excess(k) * mp.besselj(half - 1, k * r) * k ** half,
                                [0, mp.inf], omega=r)
                p = (2 * mp.pi) ** (-half) * r ** (1 - half) * ip
                h = ((2 * mp.pi) ** (-half) * r ** (-half) * iv + atom_term(mod, D, r)) / p
                ref = ml.law_quadrature(D, THETA, 0.0, JUMP_RATE, JUMP_VAR, 0.5, r, "A", dps=30)
                worst["W2"] = max(worst.get("W2", 0.0), float(abs(h / ref["h"] - 1)))
    print(f"W1 laplace, diffusion 1, h vs mpmath_laws (rel): {worst['W1']:.2e}")
    print(f"W2 laplace, pure jump (atom term), h vs mpmath_laws (rel): {worst['W2']:.2e}")
    assert worst["W1"] < 1e-20 and worst["W2"] < 1e-15, worst
    return worst


def _config(args):
    law, nu, D, diff, t = args
    mod = mar.Model(law, nu, THETA, diff, JUMP_RATE, JUMP_VAR, t)
    t0 = time.time()
    ia, ib = mar.Inverter(mod, D, "A"), mar.Inverter(mod, D, "B")
    rows = []
    for r in RS:
        ha, _ = h_value(ia, r)
        hb, lb = h_value(ib, r)
        with mp.workdps(40):
            rows.append(dict(law=law, nu=nu, dim=D, diffusion=diff, t=t, r=r, h=float(hb),
                             h_str=mp.nstr(hb, 30), logpdf=float(lb),
                             est_err=float(abs(ha / hb - 1))))
    return rows, time.time() - t0, args


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--skip-validation", action="store_true")
    args = ap.parse_args()
    t0 = time.time()
    if not args.skip_validation:
        _validate()
        print(f"validation {time.time() - t0:.0f} s")
    configs = [(law, nu, D, diff, t) for law, nu in LAWS for D in DIMS for diff in DIFFS
               for t in TS]
    rows = []
    with Pool(args.workers) as pool:
        for out, dt, cfg in pool.imap_unordered(_config, configs):
            rows.extend(out)
            print(f"{cfg}: {dt:.0f} s, est_err {max(r['est_err'] for r in out):.1e}", flush=True)
    rows.sort(key=lambda r: (r["law"], r["nu"], r["dim"], r["diffusion"], r["t"], r["r"]))
    cols = {k: np.array([r[k] for r in rows]) for k in rows[0]}
    np.savez(OUT, theta=THETA, jump_rate=JUMP_RATE, jump_var=JUMP_VAR, **cols)
    print(f"{len(rows)} rows, worst est_err {cols['est_err'].max():.1e}, "
          f"total {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
