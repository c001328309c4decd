"""Generate tests/reference/law_reference.npz from the mpmath reference (tests/mpmath_laws.py).

    /work/venv/bin/python tests/reference/make_law_reference.py [--workers 2] [--quick]

Every value is computed at mp.dps = 30 by two quadrature set-ups of the W-integral
(tanh-sinh and Gauss-Legendre on different panel splits); a point is kept only if they
agree to 1e-20 (relative; for logpdf the relative difference of p).  Route a (pure jump,
integer m) stores the Bessel closed form of MATH section 4 for logpdf and h, and the
closed form must agree with the W-integral to 1e-20 as well.  Before generating, the
script checks the formulas for f_W and f_{W+Z'} through their Laplace transforms, and
the flux form of the forward equation at a few points.

Routes: a = pure jump, integer m;  b = diffusion > 0, integer m;  c = non-integer m;
d = jump_rate = 0 (Gaussian).  Parameters are stored as the float64 values actually
used (the references are exact for those binary values); t = inf is the stationary law.
"""
import argparse
import math
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import mpmath as mp  # noqa: E402

import mpmath_laws as ml  # noqa: E402

DPS = 30
AGREE = mp.mpf("1e-20")
DS = [1, 2, 3, 4, 7, 16, 64, 256, 3072]
RHO_MIN, RHO_MAX = 1e-6, 60.0
T_MIN, T_MAX = 1e-4, 30.0
NRHO = 7


def _logu(rng, lo, hi):
    return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def parameter_sets(seed=20241128):
    rng = np.random.default_rng(seed)
    sets = []
    m_int = [1, 2, 3, 4, 5, 6, 7, 8]
    m_frac = [0.3, 1.3, 2.7, 7.5]
    thetas_int = [0.125, 0.5, 2.0]      # binary-exact, so lambda / (2 theta) is exactly integer
    thetas_any = [0.1, 0.5, 2.0]
    diffs = [0.3, 1.0, 4.0]
    k = 0

    def t_pick(i):
        # extremes first, then log-uniform
        if i % 6 == 0:
            return T_MIN
        if i % 6 == 3:
            return T_MAX
        return _logu(rng, T_MIN, T_MAX)

    def b_pick(i):
        if i % 7 == 0:
            return 0.1
        if i % 7 == 4:
            return 10.0
        return _logu(rng, 0.1, 10.0)

    def add(route, D, theta, diffusion, m, b, t):
        nonlocal k
        jump_rate = 2.0 * theta * m if route != "d" else 0.0
        jump_var = 2.0 * b * b
        sets.append(dict(route=route, D=D, theta=theta, diffusion=diffusion,
                         jump_rate=jump_rate, jump_var=jump_var, t=t, set_id=k))
        k += 1

    i = 0
    # route a: pure jump, integer m
    for rep in range(2):
        for D in DS:
            add("a", D, thetas_int[i % 3], 0.0, m_int[(i + rep) % 8], b_pick(i), t_pick(i))
            i += 1
    for D, mm in [(2, 1), (64, 3), (3072, 8)]:
        add("a", D, thetas_int[i % 3], 0.0, mm, b_pick(i), math.inf)
        i += 1
    # route b: diffusion > 0, integer m
    for rep in range(2):
        for D in DS:
            add("b", D, thetas_int[i % 3], diffs[(i + rep) % 3], m_int[(i + 3 * rep) % 8],
                b_pick(i), t_pick(i))
            i += 1
    for D, mm in [(3, 2), (256, 1)]:
        add("b", D, thetas_int[i % 3], diffs[i % 3], mm, b_pick(i), math.inf)
        i += 1
    # route c: non-integer m, half of them with diffusion
    for rep in range(2):
        for D in DS:
            dg = 0.0 if (i % 2 == 0) else diffs[i % 3]
            add("c", D, thetas_any[i % 3], dg, m_frac[(i + rep) % 4], b_pick(i), t_pick(i))
            i += 1
    for D, mm, dg in [(1, 0.3, 0.0), (16, 2.7, 1.0), (3072, 7.5, 0.3)]:
        add("c", D, thetas_any[i % 3], dg, mm, b_pick(i), math.inf)
        i += 1
    # route d: Gaussian
    for D in [1, 2, 3, 16, 64, 3072]:
        add("d", D, thetas_any[i % 3], diffs[i % 3], 0.0, b_pick(i), t_pick(i))
        i += 1
    add("d", 7, 0.5, 1.0, 0.0, 1.0, math.inf)

    points = []
    for S in sets:
        b = math.sqrt(S["jump_var"] / 2.0)
        lo = S["set_id"] % 3 != 2      # most sets reach rho = 1e-6
        hi = S["set_id"] % 3 != 1      # most sets reach rho = 60
        rhos = [_logu(rng, RHO_MIN, RHO_MAX) for _ in range(NRHO - lo - hi)]
        if lo:
            rhos.append(RHO_MIN)
        if hi:
            rhos.append(RHO_MAX)
        for rho in sorted(rhos):
            P = dict(S)
            P["r"] = float(rho * b)
            P["rho"] = float(P["r"] / b)
            points.append(P)
    return points


def compute(P):
    t0 = time.time()
    mp.mp.dps = DPS
    try:
        R = ml.reference_law(P["D"], P["theta"], P["diffusion"], P["jump_rate"],
                             P["jump_var"], P["t"], P["r"], dps=DPS)
        err = None
    except Exception as e:  # report, never hide
        R, err = None, repr(e)
    out = dict(P)
    out["seconds"] = time.time() - t0
    if R is None:
        out["error"] = err
        return out
    assert R["route"] == P["route"], (R["route"], P)
    out["atom"] = float(R["atom"])
    out["logpdf"] = float(R["logpdf"])
    out["pdf"] = float(mp.exp(R["logpdf"]))
    out["h"] = float(R["h"])
    out["radial_cdf"] = float(R["radial_cdf"])
    out["log10_h"] = float(mp.log10(R["h"]))
    out["agree"] = {k: float(v) for k, v in R["agree"].items()}
    bad = [k for k, v in R["agree"].items() if not (v <= AGREE)]
    out["error"] = ("disagreement " + ", ".join("%s=%.2e" % (k, float(R["agree"][k]))
                                                for k in bad)) if bad else None
    return out


def self_checks():
    """Laplace transform of f_W, f_{W+Z'}; flux form; closed form vs quadrature."""
    mp.mp.dps = DPS
    worst = mp.mpf(0)
    for m, q in [(1, 0.3), (3, 0.01), (8, 0.9), (0.3, 0.5), (1.3, 1e-20), (2.7, 0.999),
                 (7.5, 0.2), (0.3, 0.0), (2.7, 0.0), (0.3, 1e-52)]:
        for u in [0.1, 1.7, 25.0]:
            a, ta, b, tb = ml.laplace_check(m, q, u)
            worst = max(worst, abs(a / ta - 1), abs(b / tb - 1))
    print("Laplace-transform check of f_W and f_{W+Z'}: worst relative error %s"
          % mp.nstr(worst, 3), flush=True)
    if worst > mp.mpf("1e-25"):
        raise SystemExit("LAPLACE-TRANSFORM CHECK FAILED")
    fl = []
    for args in [(2, 0.5, 1.0, 2.0, 2.0, 0.7, 0.8), (3, 0.5, 0.0, 2.0, 2.0, 0.3, 1.3),
                 (5, 0.1, 0.3, 0.06, 0.5, 2.0, 0.4), (16, 2.0, 0.0, 10.8, 8.0, 0.05, 3.0)]:
        res = ml.flux_residual(*args)
        fl.append(float(res))
        print("flux-form residual at %s: %s" % (args, mp.nstr(res, 3)), flush=True)
    if max(fl) > 1e-15:
        raise SystemExit("FLUX-FORM CHECK FAILED")
    return float(worst), np.array(fl)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="every 10th point, no write")
    ap.add_argument("--out", default=os.path.join(HERE, "law_reference.npz"))
    args = ap.parse_args()
    T0 = time.time()
    lt_worst, flux = self_checks()
    points = parameter_sets()
    if args.quick:
        points = points[::10]
    print("%d points in %d parameter sets" % (len(points), len({p["set_id"] for p in points})),
          flush=True)
    # expensive points first for load balance
    order = sorted(range(len(points)), key=lambda i: -points[i]["D"])
    if args.workers > 1:
        import multiprocessing as mpr
        with mpr.get_context("fork").Pool(args.workers) as pool:
            res = pool.map(compute, [points[i] for i in order], chunksize=1)
    else:
        res = [compute(points[i]) for i in order]
    results = [None] * len(points)
    for i, r in zip(order, res):
        results[i] = r
    kept = [r for r in results if r.get("error") is None]
    dropped = [r for r in results if r.get("error") is not None]
    for r in dropped:
        print("DROPPED route=%s D=%d theta=%g diffusion=%g jump_rate=%g jump_var=%g t=%g r=%g: %s"
              % (r["route"], r["D"], r["theta"], r["diffusion"], r["jump_rate"], r["jump_var"],
                 r["t"], r["r"], r["error"]), flush=True)
    agree_keys = ["logpdf", "h", "cdf", "cf_logpdf", "cf_h"]
    out = {
        "route": np.array([r["route"] for r in kept]),
        "set_id": np.array([r["set_id"] for r in kept], dtype=np.int64),
        "D": np.array([r["D"] for r in kept], dtype=np.int64),
    }
    for key in ["theta", "diffusion", "jump_rate", "jump_var", "t", "r", "rho", "atom",
                "logpdf", "pdf", "h", "log10_h", "radial_cdf"]:
        out[key] = np.array([r[key] for r in kept], dtype=np.float64)
    for key in agree_keys:
        out["agree_" + key] = np.array([r["agree"].get(key, np.nan) for r in kept])
    out["laplace_check_worst"] = np.array(lt_worst)
    out["flux_residuals"] = flux
    out["dropped"] = np.array(["%s D=%d t=%g r=%g: %s" % (r["route"], r["D"], r["t"], r["r"],
                                                          r["error"]) for r in dropped],
                              dtype=str)
    secs = np.array([r["seconds"] for r in results])
    print("per-point seconds: mean %.2f max %.2f; total CPU %.0f s" % (secs.mean(), secs.max(),
                                                                       secs.sum()))
    for rt in "abcd":
        sel = out["route"] == rt
        Ds, cnt = np.unique(out["D"][sel], return_counts=True)
        print("route %s: %d points; per D: %s" % (rt, sel.sum(), dict(zip(Ds.tolist(),
                                                                         cnt.tolist()))))
        for key in agree_keys:
            a = out["agree_" + key][sel]
            a = a[np.isfinite(a)]
            if a.size:
                print("   worst %-10s agreement %.2e" % (key, a.max()))
    print("stationary points: %d" % np.isinf(out["t"]).sum())
    print("dropped: %d" % len(dropped))
    if not args.quick:
        np.savez_compressed(args.out, **out)
        print("wrote %s (%d bytes)" % (args.out, os.path.getsize(args.out)))
    print("total wall time %.0f s" % (time.time() - T0))


if __name__ == "__main__":
    main()
