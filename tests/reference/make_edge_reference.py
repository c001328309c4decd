"""Generate tests/reference/edge_reference.npz: the laws at the edges of the certified domain.

    python tests/reference/make_edge_reference.py

Issue 10 asks for accuracy at the edges: |y| from 1e-300 to 1e300, t from 1e-12 to 1e6 and
2 theta t up to 1e4. The reference values come from mpmath only (tests/mpmath_laws.py:
the W-integrands in x = log w and the Bessel closed form; nothing from levyscore):

* route a (pure jump, integer m): the Bessel closed form (mpmath ``besselk``) and, where
  feasible, the W-integral as a second opinion;
* routes b and c: the W-integral, with panels split at every decade of w, at q, and at 21
  points around the kernel's peak (located by golden-section search at full precision),
  evaluated by tanh-sinh at ``dps = 35 + log10(r/(2b))`` digits (the log-integrand is
  ~ -r/b and its differences across the peak must be exact to 1e-25); far out
  (r/(2b) > 1e5) in the variable delta = u - u0 around the single peak with the large
  constant split off by exact algebra (see ``_far``), at 50 digits.

Each reference is computed at two precisions (dps and dps + 15) and kept only if the two
agree to 1e-20 relative, so the stored digits are not quadrature noise.
"""
import math
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import mpmath as mp  # noqa: E402

import mpmath_laws as ml  # noqa: E402

OUT = os.path.join(HERE, "edge_reference.npz")


def _w_integrals(P, r, names, dps):
    """{name: log integral} of the W-integrands of mpmath_laws (x = log w)."""
    ig = ml._Integrands(P, r)
    b2, s, m, q = P["b2"], P["s"], P["m"], P["q"]
    gam = r / (2 * mp.sqrt(b2))
    sig = s / (2 * b2)
    # the kernel's peak in u = sigma + w: u^2 + (D/2 - m) u - gamma^2 = 0 (e^{-w} against
    # exp(-gamma^2/u) and the prefactors), clipped to w > 0
    dm = P["Dh"] - m
    u0 = (-dm + mp.sqrt(dm * dm + 4 * gam * gam)) / 2
    w0 = u0 - sig if u0 > sig else mpf_tiny(r, b2)
    # the kernel of the p/v channels peaks near w ~ r^2 / (2 b^2 (D/2 + 1)) whatever m is
    x_kernel = 2 * mp.log(r) - mp.log(2 * b2 * (P["Dh"] + 1)) if r > 0 else mpf(0)
    # below w ~ q (or, for q = 0, everywhere near 0) f_W w grows like w^m: the grid must reach
    # down to where that mass is e^-60 of the total, i.e. 60/m below
    x_min = min(mp.log(w0), x_kernel, mp.log(q) if q > 0 else mpf(0), mpf(-5)) - 60 / min(m, 1)
    x_max = max(mp.log(w0), mp.log(200 + 4 * m)) + 8
    decades = [x_min + k * mp.log(10) for k in range(int((x_max - x_min) / mp.log(10)) + 2)]
    pts = set(decades)
    if q > 0:
        pts.update([mp.log(q) + k for k in (-4, -2, -1, 0, 1, 2, 4)])
    for nm in names:
        # best decade, then golden section within one decade on each side
        vals = [(ig.L(nm, x), x) for x in decades + [mp.log(w0)]]
        _, xb = max(vals)
        xp = ml._golden_max(lambda x: ig.L(nm, x), xb - mp.log(10), xb + mp.log(10),
                            mp.mpf(10) ** (-dps // 2))
        # local width from the second difference
        hstep = mp.mpf(10) ** (-dps // 4)
        curv = -(ig.L(nm, xp + hstep) - 2 * ig.L(nm, xp) + ig.L(nm, xp - hstep)) / hstep ** 2
        width = 1 / mp.sqrt(max(curv, mpf(1e-6)))
        pts.update([xp + k * width for k in range(-12, 13)])
    pts = sorted(p for p in pts if x_min <= p <= x_max + 40)
    out = {}
    for nm in names:
        vals = [ig.L(nm, x) for x in pts]
        ref = max(vals)
        # panels whose ends are both 150 below the maximum hold no peak (every peak was
        # located above and has 25 points around it): they add less than e^-150
        keep = [k for k in range(len(pts) - 1) if max(vals[k], vals[k + 1]) > ref - 150]
        val = mpf(0)
        for k in keep:
            val += mp.quad(lambda x: mp.exp(ig.L(nm, x) - ref), [pts[k], pts[k + 1]])
        out[nm] = mp.log(val) + ref if val > 0 else mpf("-inf")
    return out


def mpf(x):
    return mp.mpf(x)


def mpf_tiny(r, b2):
    # lower clip of the peak estimate: the kernel's peak w ~ r^2 / (2 b^2 D) for tiny r
    return max(r * r / (2 * b2 * 3072) / 10, mp.mpf("1e-3000"))


def _far(P, r):
    """(log p, h) far out, from the W-integrals in delta = u - u0 (u = v / (2 b^2)).

    With gamma = r/(2b), sigma = s/(2b^2) and u0 the root of u^2 + (D/2 - m) u = gamma^2,
    exact algebra gives ``-w - r^2/(2v) = sigma - 2 u0 - (D/2 - m) - delta (delta - D/2 + m)
    / (u0 + delta)``: the large constant is split off exactly, so that the integrand, a peak
    of width ~sqrt(u0/2) in delta, is evaluated to full precision at 50 digits even at
    r = 1e300 (where log p ~ -1e300). The densities of W enter through mpmath's ``hyp1f1``
    without their e^{-w} factor (which is the ``-w`` above).
    """
    b2, s, m, q, omq, c = P["b2"], P["s"], P["m"], P["q"], P["omq"], P["c"]
    Dh = P["Dh"]
    gam = r / (2 * mp.sqrt(b2))
    sig = s / (2 * b2)
    dm = Dh - m
    u0 = (-dm + mp.sqrt(dm * dm + 4 * gam * gam)) / 2
    w0 = u0 - sig

    def log_1f1_neg(a, bb, x):
        """log 1F1(a; bb; -x) for x > 0. For x > 1e12 by the large-argument expansion
        Gamma(bb)/Gamma(bb - a) x^{-a} 2F0(a, a - bb + 1;; 1/x) (DLMF 13.7.2; the other
        term carries e^{-x}, below e^{-1e12}): mpmath's hyp1f1 takes ~0.1 s there."""
        if x > 1e12:
            return (mp.loggamma(bb) - mp.loggamma(bb - a) - a * mp.log(x)
                    + mp.log(mp.hyp2f0(a, a - bb + 1, 1 / x)))
        return mp.log(mp.hyp1f1(a, bb, -x))

    def scaled(w, kind):  # log f(w) + w
        if q == 0:
            return (m - 1) * mp.log(w) - mp.loggamma(m) if kind == 0 else m * mp.log(w) - mp.loggamma(m + 1)
        if kind == 0:
            return mp.log(m) + mp.log(omq) + (m - 1) * mp.log(q) + log_1f1_neg(1 - m, 2, c * w)
        return m * mp.log(q) + log_1f1_neg(-m, 1, c * w)

    def rest(delta, kind, per_v):
        lr = mp.log1p(delta / u0)
        val = -delta * (delta - dm) / (u0 + delta) + scaled(w0 + delta, kind) - Dh * lr
        return val - lr if per_v else val

    width = mp.sqrt(u0 ** 3 / (2 * gam * gam))
    ks = [-60, -40, -25, -15, -10, -6, -4, -2, -1, 0, 1, 2, 4, 6, 10, 15, 25, 40, 60]
    pts = [k * width for k in ks if k * width > -w0]
    const = sig - 2 * u0 - dm - Dh * (mp.log(4 * mp.pi * b2) + mp.log(u0))
    I = {}
    for name, kind, per_v in (("p", 0, False), ("n1", 0, True), ("n2", 1, True)):
        ref = rest(mpf(0), kind, per_v)
        I[name] = mp.log(mp.quad(lambda d: mp.exp(rest(d, kind, per_v) - ref), pts)) + ref
    logp = const + I["p"]
    lv0 = mp.log(2 * b2 * u0)
    num = P["lam"] * b2 * mp.exp(I["n2"] - lv0 - I["p"])
    if P["sg2"] > 0:
        num += P["sg2"] / 2 * mp.exp(I["n1"] - lv0 - I["p"])
    return logp, num


def _is_far(P, r):
    gam = r / (2 * mp.sqrt(P["b2"]))
    return gam > 1e5 and P["s"] / (2 * P["b2"]) < gam / 1e3


def law_w_integral(D, theta, diffusion, jump_rate, jump_var, t, r, dps):
    """(log p, h, cdf) from the W-integrals at dps digits."""
    if 2 * theta * t > 1e3:
        # q = e^{-2 theta t} < e^{-1000}: the law is the stationary one to 1e-434 relative
        # (mpmath would otherwise evaluate 1F1 at arguments ~e^{1000})
        t = "inf"
    with mp.workdps(dps):
        P = ml.law_params(D, theta, diffusion, jump_rate, jump_var, t)
        r = mpf(r)
        if _is_far(P, r):  # the Gaussian atom q^m phi_s is below e^-1e9 relative there
            logp, h = _far(P, r)
            return logp, h, mpf(1)
        names = ["p", "n2", "cdf"] + (["n1"] if P["sg2"] > 0 else [])
        L = _w_integrals(P, r, names, dps)
        m, q, s, sg2, lam, b2 = P["m"], P["q"], P["s"], P["sg2"], P["lam"], P["b2"]
        qm = q ** m if q > 0 else mpf(0)
        # in logs: far out p ~ e^{-r/b} is below every float (mpmath exponents are unbounded,
        # but keep the assembly exact and cheap)
        lse = lambda a, b: max(a, b) + mp.log1p(mp.exp(-abs(a - b))) if a > mpf("-inf") else b  # noqa: E731
        logp = L["p"]
        lognum = mp.log(lam * b2) + L["n2"]
        cdf = P["atom"] + mp.exp(L["cdf"])
        if s > 0:
            lphis = -P["Dh"] * mp.log(2 * mp.pi * s) - r ** 2 / (2 * s)
            if qm > 0:
                logp = lse(logp, mp.log(qm) + lphis)
            inner = L["n1"] if qm == 0 else lse(L["n1"], mp.log(qm) + lphis - mp.log(s))
            lognum = lse(lognum, mp.log(sg2 / 2) + inner)
            cdf += qm * mp.gammainc(P["Dh"], 0, r ** 2 / (2 * s), regularized=True)
        return logp, mp.exp(lognum - logp), cdf


def law_closed_form(D, theta, jump_rate, jump_var, t, r, dps):
    with mp.workdps(dps):
        ref = ml.closed_form_pure_jump(D, theta, jump_rate, jump_var, t, r, dps=dps)
        return ref["logpdf"], ref["h"], mpf("nan")


def _dps(r, jump_var):
    gam = max(float(r) / (2 * math.sqrt(jump_var / 2)), 1.0)
    if gam > 1e5:
        return 50  # the far-field form is exact algebra, no large terms cancel
    # the log-integrand is ~ -r/b and must be resolved to 1e-25 absolute
    return 30 + int(math.log10(gam)) + 5


# (route, D, theta, diffusion, jump_rate, jump_var, t, r)
def cases():
    out = []
    big = [1e2, 1e4, 1e8, 1e16, 1e50, 1e150, 1e300]
    small = [1e-300, 1e-150, 1e-20]
    for r in big + small:
        out.append(("a", 2, 0.5, 0.0, 1.0, 2.0, 1.0, r))            # m = 1 (bug 4's closed form)
    for r in [1e4, 1e100, 1e300]:
        out.append(("a", 3072, 0.5, 0.0, 3.0, 2.0, 1.0, r))        # m = 3, D = 3072
    for r in big:
        out.append(("c", 2, 0.5, 0.0, 0.7, 2.0, 1.0, r))            # m = 0.7
        out.append(("b", 2, 0.5, 1.0, 1.0, 2.0, 1.0, r))            # diffusion 1, m = 1
    for r in small:
        for D in (1, 3):
            out.append(("c", D, 0.5, 0.0, 0.7, 2.0, 1.0, r))
    for t in (1e-12, 1e-6, 1e6):
        for r in (1e-3, 1.0, 30.0, 1e6):
            out.append(("c", 2, 0.5, 0.0, 0.7, 2.0, t, r))
            out.append(("b", 2, 0.5, 1.0, 1.0, 2.0, t, r))
            out.append(("a", 2, 0.5, 0.0, 2.0, 2.0, t, r))          # m = 2
    for r in (1e-3, 1.0, 30.0, 1e6):                                # 2 theta t = 1e4
        out.append(("c", 2, 1e3, 0.0, 700.0, 2.0, 5.0, r))
        out.append(("b", 2, 1e3, 1.0, 2000.0, 2.0, 5.0, r))
    return out


def main():
    rows = []
    t0 = time.time()
    for route, D, theta, diffusion, lam, jv, t, r in cases():
        closed = route == "a" and D < 100  # mpmath's besselk does not converge at order ~1500
        dps = _dps(r, jv)
        if closed:
            # the Bessel sum's terms are ~e^{-r/b}: resolve log p ~ -r/b to 1e-25 absolute
            dps = 35 + int(max(0.0, math.log10(max(r / math.sqrt(jv / 2), 1.0))))
        f = law_closed_form if closed else law_w_integral
        args = (D, theta, lam, jv, t, r) if closed else (D, theta, diffusion, lam, jv, t, r)
        a = f(*args, dps)
        b = f(*args, dps + 15)
        with mp.workdps(dps + 15):
            agree = max(abs(a[0] - b[0]) / max(1, abs(b[0])), abs(a[1] / b[1] - 1))
            if not closed:
                agree = max(agree, abs(a[2] - b[2]))
        ok = agree < mpf("1e-20")
        print(f"{route} D={D} theta={theta} diff={diffusion} lam={lam} t={t:g} r={r:g}: "
              f"logp={mp.nstr(b[0], 17)} h={mp.nstr(b[1], 17)} agree={mp.nstr(agree, 3)} "
              f"[{time.time() - t0:.0f}s]", flush=True)
        if not ok:
            continue
        rows.append((route, D, theta, diffusion, lam, jv, t, r, float(b[0]),
                     float(mp.log10(b[1])) if b[1] > 0 else -math.inf,
                     float(b[1]), float(b[2]) if not closed else math.nan))
    cols = list(zip(*rows))
    np.savez(OUT, route=np.array(cols[0]), D=np.array(cols[1]), theta=np.array(cols[2]),
             diffusion=np.array(cols[3]), jump_rate=np.array(cols[4]),
             jump_var=np.array(cols[5]), t=np.array(cols[6]), r=np.array(cols[7]),
             logpdf=np.array(cols[8]), log10_h=np.array(cols[9]), h=np.array(cols[10]),
             radial_cdf=np.array(cols[11]))
    print(f"wrote {len(rows)} rows to {OUT}")


if __name__ == "__main__":
    main()
