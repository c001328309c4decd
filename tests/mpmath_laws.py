"""Independent high-precision (mpmath) reference for the exact laws of levyscore.

Written from docs/MATH (sections 1-4) only; it shares no code with the library.

Notation (Y_t = X_t - exp(-theta t) X_0, dimension D, r = |y|):
    m = lambda / (2 theta),  q = exp(-2 theta t),  s = sigma_G^2 (1 - q) / (2 theta),
    b^2 = sigma_A^2 / 2,  c = (1 - q) / q,  phi_v(r) = (2 pi v)^(-D/2) exp(-r^2 / (2 v)).
W has an atom q^m at 0 and the continuous density
    f_W(w)      = m (1-q) q^(m-1) exp(-w) 1F1(1-m; 2; -c w),
and, with Z' ~ Exp(1) independent,
    f_{W+Z'}(w) = q^m exp(-w) 1F1(-m; 1; -c w).
At t = inf (stationary law): q = 0, f_W = Gamma(m, 1), f_{W+Z'} = Gamma(m+1, 1).

Laws, v = s + 2 b^2 w:
    atom         = q^m                       if sigma_G = 0 (and lambda > 0), else 0
    p(r)         = [q^m phi_s(r) if s > 0] + int f_W(w) phi_v(r) dw
    h(r)         = { (sigma_G^2/2) [q^m phi_s/s (s > 0) + int f_W phi_v / v dw]
                     + lambda b^2 int f_{W+Z'} phi_v / v dw } / p(r)      (S(y) = -y h(|y|))
    radial_cdf   = atom + [q^m P(D/2, r^2/(2s)) if s > 0] + int f_W P(D/2, r^2/(2v)) dw

The w-integrals are done in x = log w, on panels split at every local maximum of each
log-integrand (located by a scan and refined), at multiples of the local width around
them, at w = q, w = 1, and at the step of the incomplete-gamma factor.  Two different
set-ups ('A': tanh-sinh; 'B': Gauss-Legendre on other splits) are available so that each
reference value can be confirmed by two quadratures.

Pure jump with integer m also has the Bessel closed form of MATH section 4
(`closed_form_pure_jump`).

All public functions take the physical parameters as Python floats (their exact binary
values are used) or mpf, and ``t = inf`` (or None) for the stationary law.
"""
import mpmath as mp
from mpmath import mpf

__all__ = [
    "law_params",
    "log_fW",
    "log_fWZ",
    "laplace_check",
    "law_quadrature",
    "closed_form_pure_jump",
    "gaussian_law",
    "reference_law",
    "route_of",
    "flux_residual",
]

DPS = 30


def _isinf(t):
    return t is None or (not isinstance(t, str) and mp.isinf(mpf(t)))


def law_params(D, theta, diffusion, jump_rate, jump_var, t):
    """Derived parameters as a dict of mpf (q = 0 for the stationary law)."""
    theta = mpf(theta)
    sg2 = mpf(diffusion)
    lam = mpf(jump_rate)
    b2 = mpf(jump_var) / 2
    m = lam / (2 * theta)
    if _isinf(t):
        q = mpf(0)
        omq = mpf(1)
        c = mp.inf
    else:
        t = mpf(t)
        q = mp.exp(-2 * theta * t)
        omq = -mp.expm1(-2 * theta * t)
        c = mp.expm1(2 * theta * t)
    s = sg2 * omq / (2 * theta)
    if lam > 0 and sg2 == 0:
        atom = q ** m
    else:
        atom = mpf(0)
    return dict(D=int(D), Dh=mpf(int(D)) / 2, theta=theta, sg2=sg2, lam=lam, b2=b2, m=m,
                q=q, omq=omq, c=c, s=s, atom=atom)


def _is_int(m):
    return m > 0 and mp.almosteq(m, mp.nint(m), rel_eps=mpf(0), abs_eps=mpf(0))


def route_of(D, theta, diffusion, jump_rate, jump_var, t):
    P = law_params(D, theta, diffusion, jump_rate, jump_var, t)
    if P["lam"] == 0:
        return "d"
    if not _is_int(P["m"]):
        return "c"
    return "a" if P["sg2"] == 0 else "b"


# ---------------------------------------------------------------------------------------
# The law of W
# ---------------------------------------------------------------------------------------
def log_fW(w, m, q, omq=None, c=None, logw=None):
    """log of the continuous density of W at w > 0."""
    w = mpf(w)
    lw = mp.log(w) if logw is None else logw
    if q == 0:
        return (m - 1) * lw - w - mp.loggamma(m)
    if omq is None:
        omq = 1 - q
    if c is None:
        c = omq / q
    return (mp.log(m) + mp.log(omq) + (m - 1) * mp.log(q) - w
            + mp.log(mp.hyp1f1(1 - m, 2, -c * w)))


def log_fWZ(w, m, q, omq=None, c=None, logw=None):
    """log of the density of W + Z' (Z' ~ Exp(1) independent of W) at w > 0."""
    w = mpf(w)
    lw = mp.log(w) if logw is None else logw
    if q == 0:
        return m * lw - w - mp.loggamma(m + 1)
    if omq is None:
        omq = 1 - q
    if c is None:
        c = omq / q
    return m * mp.log(q) - w + mp.log(mp.hyp1f1(-m, 1, -c * w))


def laplace_check(m, q, u):
    """Return (LT of W from f_W, target, LT of W+Z' from f_{W+Z'}, target) at u.

    LT_W(u) = q^m + int e^{-uw} f_W(w) dw  should equal ((1+uq)/(1+u))^m,
    LT_{W+Z'}(u) = int e^{-uw} f_{W+Z'}(w) dw  should equal ((1+uq)/(1+u))^m / (1+u).
    """
    m, q, u = mpf(m), mpf(q), mpf(u)
    omq = 1 - q
    c = omq / q if q > 0 else None
    lq = mp.log(q) if q > 0 else mpf(-50)
    pts = sorted(set([mpf(-400), lq - 40, lq - 10, lq, lq / 2, mpf(-5), mpf(0),
                      mp.log(m + 1), mp.log(m + 200 + 0 * u)]))
    pts = [p for p in pts if p >= -400]
    I1 = mp.quad(lambda x: mp.exp(x - u * mp.exp(x)
                                  + log_fW(mp.exp(x), m, q, omq, c, logw=x)), pts)
    I2 = mp.quad(lambda x: mp.exp(x - u * mp.exp(x)
                                  + log_fWZ(mp.exp(x), m, q, omq, c, logw=x)), pts)
    target = ((1 + u * q) / (1 + u)) ** m
    return q ** m + I1, target, I2, target / (1 + u)


# ---------------------------------------------------------------------------------------
# Quadrature over W
# ---------------------------------------------------------------------------------------
class _Integrands:
    """Lazily evaluated, cached pieces of the w-integrands at x = log w."""

    def __init__(self, P, r):
        self.P = P
        self.r = mpf(r)
        self.r2 = self.r ** 2
        self.cache = {}

    def base(self, x):
        e = self.cache.get(x)
        if e is None:
            P = self.P
            w = mp.exp(x)
            v = P["s"] + 2 * P["b2"] * w
            lv = mp.log(v)
            e = {"w": w, "v": v, "lv": lv,
                 "lphi": -P["Dh"] * (mp.log(2 * mp.pi) + lv) - self.r2 / (2 * v)}
            self.cache[x] = e
        return e

    def lfW(self, x):
        e = self.base(x)
        if "lfW" not in e:
            P = self.P
            e["lfW"] = log_fW(e["w"], P["m"], P["q"], P["omq"], P["c"], logw=x)
        return e["lfW"]

    def lfWZ(self, x):
        e = self.base(x)
        if "lfWZ" not in e:
            P = self.P
            e["lfWZ"] = log_fWZ(e["w"], P["m"], P["q"], P["omq"], P["c"], logw=x)
        return e["lfWZ"]

    def lP(self, x):
        e = self.base(x)
        if "lP" not in e:
            val = mp.gammainc(self.P["Dh"], 0, self.r2 / (2 * e["v"]), regularized=True)
            e["lP"] = mp.log(val) if val > 0 else mpf("-inf")
        return e["lP"]

    # log-integrands in x (the Jacobian w = e^x is included)
    def L(self, name, x):
        e = self.base(x)
        if name == "p":
            return x + self.lfW(x) + e["lphi"]
        if name == "n1":
            return x + self.lfW(x) + e["lphi"] - e["lv"]
        if name == "n2":
            return x + self.lfWZ(x) + e["lphi"] - e["lv"]
        if name == "cdf":
            return x + self.lfW(x) + self.lP(x)
        raise KeyError(name)


def _golden_max(f, a, b, tol):
    g = (mp.sqrt(5) - 1) / 2
    c = b - g * (b - a)
    d = a + g * (b - a)
    fc, fd = f(c), f(d)
    while b - a > tol:
        if fc > fd:
            b, d, fd = d, c, fc
            c = b - g * (b - a)
            fc = f(c)
        else:
            a, c, fc = c, d, fd
            d = a + g * (b - a)
            fd = f(d)
    return (a + b) / 2


def _scan(P, r, names, step=0.5, drop=110):
    """Locate the features of the log-integrands (at low precision).

    Returns (x_lo, x_hi, Lref: dict name -> max of L, features: list of (x, width)).
    """
    with mp.workdps(15):
        ig = _Integrands(P, r)
        m = P["m"]
        b2 = P["b2"]
        r2 = mpf(r) ** 2
        feats = [mpf(0), mp.log(m)]
        if P["q"] > 0:
            feats.append(mp.log(P["q"]))
        if r2 > 0:
            feats.append(mp.log(r2 / (P["D"] * 2 * b2)))
        if P["s"] > 0:
            feats.append(mp.log(P["s"] / (2 * b2)))
        X0 = min(feats) - drop / min(m, 1) - 10
        X1 = mp.log(max(mp.exp(f) for f in feats) + 300 + 3 * m)
        n = int(mp.ceil((X1 - X0) / step))
        xs = [X0 + k * (X1 - X0) / n for k in range(n + 1)]
        Ls = {nm: [ig.L(nm, x) for x in xs] for nm in names}
        Lref = {}
        ilo, ihi = len(xs) - 1, 0
        features = []
        for nm in names:
            Lv = Ls[nm]
            Lmax = max(Lv)
            # refine every local maximum above Lmax - drop
            loc = []
            for k in range(len(xs)):
                left = Lv[k - 1] if k > 0 else mpf("-inf")
                right = Lv[k + 1] if k < len(xs) - 1 else mpf("-inf")
                if Lv[k] >= left and Lv[k] >= right and Lv[k] > Lmax - drop:
                    loc.append(k)
            for k in loc:
                a = xs[max(k - 1, 0)]
                bb = xs[min(k + 1, len(xs) - 1)]
                xm = _golden_max(lambda x: ig.L(nm, x), a, bb, mpf(1e-6))
                Lm = ig.L(nm, xm)
                hh = mpf("1e-3")
                d2 = (ig.L(nm, xm + hh) - 2 * Lm + ig.L(nm, xm - hh)) / hh ** 2
                width = 1 / mp.sqrt(-d2) if d2 < 0 else mpf(2)
                width = min(width, mpf(2))
                features.append((xm, width))
                Lmax = max(Lmax, Lm)
            Lref[nm] = Lmax
            above = [k for k in range(len(xs)) if Lv[k] > Lmax - drop]
            ilo = min(ilo, above[0])
            ihi = max(ihi, above[-1])
        x_lo = xs[max(ilo - 1, 0)]
        x_hi = xs[min(ihi + 1, len(xs) - 1)]
        # the step of the incomplete-gamma factor: v = r^2 / D
        if "cdf" in names and r2 / P["D"] > P["s"]:
            vstar = r2 / P["D"]
            xst = mp.log((vstar - P["s"]) / (2 * b2))
            width = mp.sqrt(mpf(2) / P["D"]) * vstar / (vstar - P["s"])
            features.append((xst, min(width, mpf(2))))
        features.append((mpf(0), None))
        if P["q"] > 0:
            features.append((mp.log(P["q"]), None))
    return x_lo, x_hi, Lref, features


def _breakpoints(x_lo, x_hi, features, setup):
    if setup == "A":
        mults = [0, 1, 3, 9, 27]
        maxlen = mpf(16)
    else:
        mults = [mpf(1) / 2, 2, 6, 18, 54]
        maxlen = mpf(10)
    pts = {x_lo, x_hi}
    wds = [wd for (_, wd) in features if wd is not None]
    mindist = (min(wds) if wds else mpf(1)) / 4
    for (x, wd) in features:
        if wd is None:
            cand = [x]
        else:
            cand = [x + sgn * k * wd for k in mults for sgn in (1, -1)]
        for c in cand:
            if x_lo < c < x_hi:
                pts.add(c)
    pts = sorted(pts)
    out = [pts[0]]
    for p in pts[1:]:
        gap = p - out[-1]
        if gap > maxlen:
            k = int(mp.ceil(gap / maxlen))
            for i in range(1, k):
                out.append(out[-1] + (p - out[-1]) / (k - i + 1))
        if p - out[-1] > mpf("1e-12"):
            out.append(p)
    # merge panels much shorter than their neighbours' scale (keeps the panel count low)
    merged = [out[0]]
    for p in out[1:-1]:
        if p - merged[-1] > mindist:
            merged.append(p)
    if out[-1] - merged[-1] <= mindist and len(merged) > 1:
        merged.pop()
    merged.append(out[-1])
    out = merged
    return out


def law_quadrature(D, theta, diffusion, jump_rate, jump_var, t, r, setup="A", dps=DPS):
    """atom, log p, h and radial cdf at |y| = r from the W-integrals (needs jump_rate > 0)."""
    with mp.workdps(dps):
        P = law_params(D, theta, diffusion, jump_rate, jump_var, t)
        if P["lam"] == 0:
            raise ValueError("law_quadrature needs jump_rate > 0; use gaussian_law")
        r = mpf(r)
        names = ["p", "n2", "cdf"]
        if P["sg2"] > 0:
            names.append("n1")
        x_lo, x_hi, Lref, features = _scan(P, r, names)
        pts = _breakpoints(x_lo, x_hi, features, setup)
        method = "tanh-sinh" if setup == "A" else "gauss-legendre"
        ig = _Integrands(P, r)
        I = {}
        for nm in names:
            Lr = Lref[nm]
            val = mp.quad(lambda x: mp.exp(ig.L(nm, x) - Lr), pts, method=method)
            I[nm] = (val, Lr)   # integral = val * exp(Lr)

        def ev(nm):
            val, Lr = I[nm]
            return val * mp.exp(Lr)

        m, q, s, sg2, lam, b2 = P["m"], P["q"], P["s"], P["sg2"], P["lam"], P["b2"]
        qm = q ** m
        p = ev("p")
        num = lam * b2 * ev("n2")
        cdf = P["atom"] + ev("cdf")
        if s > 0:
            lphis = -P["Dh"] * mp.log(2 * mp.pi * s) - r ** 2 / (2 * s)
            phis = mp.exp(lphis)
            p += qm * phis
            num += sg2 / 2 * (qm * phis / s + ev("n1"))
            cdf += qm * mp.gammainc(P["Dh"], 0, r ** 2 / (2 * s), regularized=True)
        return dict(atom=+P["atom"], logpdf=mp.log(p), h=num / p, radial_cdf=cdf,
                    npanels=len(pts) - 1)


# ---------------------------------------------------------------------------------------
# Closed forms
# ---------------------------------------------------------------------------------------
def _log_gj(j, rho, D, b):
    """log g_j^{(b)}(r) with rho = r / b (Bessel potential, MATH section 4)."""
    Dh = mpf(D) / 2
    return (-D * mp.log(b) - Dh * mp.log(2 * mp.pi) + (1 - j) * mp.log(2) - mp.loggamma(j)
            + (j - Dh) * mp.log(rho) + mp.log(mp.besselk(Dh - j, rho)))


def closed_form_pure_jump(D, theta, jump_rate, jump_var, t, r, dps=DPS):
    """Route a (sigma_G = 0, integer m): atom, log p, h from the Bessel closed forms."""
    with mp.workdps(dps + 10):
        P = law_params(D, theta, 0, jump_rate, jump_var, t)
        m = P["m"]
        if not _is_int(m):
            raise ValueError("closed form needs integer m")
        m = int(mp.nint(m))
        q, omq, b2, lam = P["q"], P["omq"], P["b2"], P["lam"]
        b = mp.sqrt(b2)
        r = mpf(r)
        rho = r / b
        Dh = P["Dh"]
        if q > 0:
            lw = [None] + [mp.log(mp.binomial(m, j)) + (m - j) * mp.log(q) + j * mp.log(omq)
                           for j in range(1, m + 1)]
        else:   # stationary: W ~ Gamma(m, 1), only j = m
            lw = [None] + [mpf("-inf")] * (m - 1) + [mpf(0)]
        lg = [None] + [_log_gj(j, rho, D, b) for j in range(1, m + 1)]
        terms = [mp.exp(lw[j] + lg[j]) for j in range(1, m + 1) if lw[j] != mpf("-inf")]
        p = mp.fsum(terms)
        num = mp.fsum(mp.exp(lw[j] + lg[j]) / (2 * j * b2)
                      for j in range(1, m + 1) if lw[j] != mpf("-inf"))
        if q > 0:
            # |grad g_1^{(b)}| / r = b^{-D-1} (2 pi)^{-D/2} rho^{1-D/2} K_{D/2}(rho) / r
            lgrad = (-(D + 1) * mp.log(b) - Dh * mp.log(2 * mp.pi) + (1 - Dh) * mp.log(rho)
                     + mp.log(mp.besselk(Dh, rho)) - mp.log(r))
            num += mp.exp(m * mp.log(q) + lgrad)
        h = lam * b2 * num / p
        out = dict(atom=P["atom"], logpdf=mp.log(p), h=h)
    with mp.workdps(dps):
        return {k: +v for k, v in out.items()}


def gaussian_law(D, theta, diffusion, t, r, dps=DPS):
    """Route d (lambda = 0): p = phi_s, h = sigma_G^2 / (2 s), cdf = P(D/2, r^2/(2s))."""
    with mp.workdps(dps):
        P = law_params(D, theta, diffusion, 0, 1, t)
        s, r = P["s"], mpf(r)
        return dict(atom=mpf(0),
                    logpdf=-P["Dh"] * mp.log(2 * mp.pi * s) - r ** 2 / (2 * s),
                    h=P["sg2"] / (2 * s),
                    radial_cdf=mp.gammainc(P["Dh"], 0, r ** 2 / (2 * s), regularized=True))


def _rel(a, b):
    if a == b:
        return mpf(0)
    return abs(a - b) / max(abs(a), abs(b))


def reference_law(D, theta, diffusion, jump_rate, jump_var, t, r, dps=DPS):
    """Reference values and their cross-checks at one point.

    Returns dict(route, atom, logpdf, h, radial_cdf, agree) where agree maps each check
    to a relative discrepancy (mpf):  'logpdf', 'h', 'cdf' : set-up A vs set-up B of the
    W-quadrature (logpdf compared as p, i.e. |expm1(dlogp)|);  for route a also
    'cf_logpdf', 'cf_h': closed form vs W-quadrature.
    """
    route = route_of(D, theta, diffusion, jump_rate, jump_var, t)
    with mp.workdps(dps):
        if route == "d":
            g = gaussian_law(D, theta, diffusion, t, r, dps=dps)
            g2 = gaussian_law(D, theta, diffusion, t, r, dps=dps + 20)
            agree = {"logpdf": abs(mp.expm1(g["logpdf"] - g2["logpdf"])),
                     "h": _rel(g["h"], g2["h"]), "cdf": _rel(g["radial_cdf"], g2["radial_cdf"])}
            return dict(route=route, agree=agree, **g)
        A = law_quadrature(D, theta, diffusion, jump_rate, jump_var, t, r, "A", dps)
        B = law_quadrature(D, theta, diffusion, jump_rate, jump_var, t, r, "B", dps)
        agree = {"logpdf": abs(mp.expm1(A["logpdf"] - B["logpdf"])),
                 "h": _rel(A["h"], B["h"]),
                 "cdf": _rel(A["radial_cdf"], B["radial_cdf"])}
        out = dict(route=route, atom=A["atom"], logpdf=A["logpdf"], h=A["h"],
                   radial_cdf=A["radial_cdf"])
        if route == "a":
            C = closed_form_pure_jump(D, theta, jump_rate, jump_var, t, r, dps=dps)
            agree["cf_logpdf"] = abs(mp.expm1(C["logpdf"] - A["logpdf"]))
            agree["cf_h"] = _rel(C["h"], A["h"])
            out["logpdf"] = C["logpdf"]
            out["h"] = C["h"]
        out["agree"] = agree
        return out


def flux_residual(D, theta, diffusion, jump_rate, jump_var, t, r, dps=40, rel_step=None):
    """Relative residual of the flux form of the forward equation (MATH section 3),

        d_t p = r^{1-D} d/dr [ r^D (theta - h) p ],

    for the continuous part p of the law of Y_t, with p and h from the W-quadrature and
    the derivatives by central differences.  An independent consistency check of h
    against p (it ties the generalized score to the time evolution of the density).
    """
    with mp.workdps(dps):
        t = mpf(t)
        r = mpf(r)
        d = mpf(10) ** (-(dps // 4)) if rel_step is None else mpf(rel_step)

        def law(tt, rr):
            R = law_quadrature(D, theta, diffusion, jump_rate, jump_var, tt, rr, "A", dps)
            return mp.exp(R["logpdf"]), R["h"]

        ht, hr = d * t, d * r
        pp, _ = law(t + ht, r)
        pm, _ = law(t - ht, r)
        dtp = (pp - pm) / (2 * ht)
        th = mpf(theta)

        def G(rr):
            p, h = law(t, rr)
            return rr ** D * (th - h) * p

        dG = (G(r + hr) - G(r - hr)) / (2 * hr)
        rhs = r ** (1 - D) * dG
        p0, h0 = law(t, r)
        scale = abs(dtp) + D * abs(th - h0) * p0 + abs(rhs)
        return abs(dtp - rhs) / scale
