"""Transition laws and scores of Student-t and Gaussian amplitudes (route "renewal", MATH.md
section 11).

The law of W comes from its renewal equation (levyscore._wvolterra for Student-t marks; its
delay-equation form, levyscore._wgauss, for Gaussian jumps), the laws of Y_t from quadratures
over it (levyscore._wmixture, levyscore._wgauss). Independent checks:
* the same march run on Laplace marks against the Kummer closed forms of levyscore._wlaw,
  and the whole route against the Laplace mixture/closed-form kernels up to D = 3072;
* the W-law's Laplace transform against QUADPACK on L_M (AmplitudeLaw.log_laplace_w);
* log p and the radial CDF against the 40-digit Fourier-inversion references of
  tests/reference/amplitude_reference.npz (no shared code: mpmath on the characteristic
  function);
* the score through the flux form of the Kolmogorov-Feller equation, by finite differences
  (Hypothesis over the parameters);
* the radial CDF against the exact sampler (DKW);
* the limits lambda -> 0 (Gaussian law) and t -> inf (stationary law; there S = -theta y
  exactly, since the stationary flux y p (theta - h) vanishes).
"""
import math
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import levyscore
from levyscore._mixture import mixture_logpdf_h, mixture_radial_cdf
from levyscore._time import time_constants
from levyscore._wlaw import KIND_W, KIND_W_PLUS_EXP, log_density_w
from levyscore._wmixture import wmix_logpdf_h, wmix_radial_cdf
from levyscore._wgauss import GaussWLaw
from levyscore._wvolterra import WLawTable, log_mark_tail, log_mark_window, wlaw_log_psi
from levyscore.amplitudes import Gaussian, Laplace, StudentT

HERE = os.path.dirname(os.path.abspath(__file__))
THETA = 0.5


def _table(law, m, t):
    _, q, logq, log1mq, _ = time_constants(t, THETA, 0.0, 2.0 * THETA * m)
    return WLawTable(law, m, q, logq, log1mq), q


@pytest.mark.parametrize("m", [0.3, 1.3, 4.0])
@pytest.mark.parametrize("t", [0.1, 1.0, 5.0, math.inf])
def test_march_reproduces_the_laplace_w_law(m, t):
    """Laplace marks through the generic march vs the Kummer closed forms, to 1e-9 in log
    (measured: 1e-10 worst, m = 4), wherever psi is within e^-30 of its maximum and w < e
    (beyond, psi ~ e^-w is a light tail whose log-interpolation the march is not built for:
    the heavy-tailed Student-t law is)."""
    table, q = _table(Laplace(), m, t)
    logq, log1mq = table.meta[4], table.meta[5]
    top = table.lp.max()
    worst = 0.0
    for x in np.arange(table.meta[6] + 0.013, 1.0, 0.07):
        w = math.exp(x)
        for kind, ch in ((KIND_W, 0), (KIND_W_PLUS_EXP, 1)):
            ref = log_density_w(w, kind, m, q, logq, log1mq) + x
            if ref > top - 30.0:
                worst = max(worst, abs(wlaw_log_psi(x, ch, table.meta, table.lp, table.lr) - ref))
    assert worst < 1e-9, worst


# nu = 40 costs 2 s a table (incomplete gamma series of order nu/2): t = 1 and the
# stationary law cover it
_LT_CASES = [(nu, m, t) for nu in (3.0, 5.0, 2.05, 40.0) for m in (0.3, 1.3, 4.0)
             for t in (0.05, 1.0, 5.0, math.inf) if not (nu == 40.0 and t in (0.05, 5.0))]


@pytest.mark.parametrize("nu,m,t", _LT_CASES)
def test_student_t_w_law_matches_its_laplace_transform(nu, m, t):
    """E e^{-uW} and E e^{-u(W+R)} of the table against QUADPACK on L_M (relative 1e-13),
    and the mass of the continuous part: all to 1e-8 (measured: 5e-9 worst, nu = 2.05)."""
    law = StudentT(nu)
    table, q = _table(law, m, t)
    x0, h, n = table.meta[6], table.meta[7], int(table.meta[8])
    step = h / 2
    xs = np.arange(x0 - 40.0, x0 + (n - 1) * h + 60.0, step)
    lps = np.array([wlaw_log_psi(x, 0, table.meta, table.lp, table.lr) for x in xs])
    lrs = np.array([wlaw_log_psi(x, 1, table.meta, table.lp, table.lr) for x in xs])
    atom = q ** m if q > 0 else 0.0
    # the trapezoidal rule in x is exact to rounding for these analytic, decaying integrands
    assert abs(np.exp(lps).sum() * step - (1.0 - atom)) < 1e-8
    for u in (0.1, 1.0, 10.0):
        ref = math.exp(float(law.log_laplace_w(u, t, THETA, 2.0 * THETA * m, 1.0)))
        got = np.exp(lps - u * np.exp(xs)).sum() * step + atom
        assert abs(got / ref - 1.0) < 1e-8, (u, got, ref)
        ref_r = ref * float(law.laplace_r(u, 1.0))
        got_r = np.exp(lrs - u * np.exp(xs)).sum() * step
        assert abs(got_r / ref_r - 1.0) < 1e-8, (u, got_r, ref_r)


@pytest.mark.parametrize("m", [0.01, 0.3, 1.3, 4.0, 16.0])
@pytest.mark.parametrize("t", [0.05, 1.0, 5.0, 40.0, math.inf])
def test_gaussian_w_law_matches_its_laplace_transform(m, t):
    """Gaussian jumps: E e^{-uW} and E e^{-u(W+R)} of the panels (Gauss-Legendre, 40 nodes a
    panel; the stationary power law C w^m below w = 1 by the incomplete gamma function)
    against QUADPACK on L_M, and the mass: all to 1e-12 (measured: 2e-14 worst)."""
    from scipy.special import gamma, gammainc

    law = Gaussian()
    _, q, _, _, _ = time_constants(t, THETA, 0.0, 2.0 * THETA * m)
    g = GaussWLaw(m, q)
    q = g.q  # q = e^-2 theta t below 1e-30 (or q^m below e^-600) is the stationary law
    xs, ws = np.polynomial.legendre.leggauss(40)
    fs = []
    for k in range(g.cf.shape[0]):
        a, b = g.edges[k], g.edges[k + 1]
        scale = math.exp(g.pan[k, 0])  # the panel's scale (0 in the far tail, e^-3000)
        fs.append((a + 0.5 * (b - a) * (xs + 1), 0.5 * (b - a) * ws,
                   scale * np.polynomial.chebyshev.chebval(xs, g.cf[k]),
                   scale * np.polynomial.chebyshev.chebval(xs, g.cr[k])))
    c = math.exp(g.logc)
    assert abs(g.mass - 1.0) < 1e-12
    for u in (0.1, 1.0, 10.0):
        if q > 0:
            got, got_r = q ** m, q ** m * -math.expm1(-u * q) / u  # atom; f_R = q^m on (0, q)
        else:
            got = m * c * u ** -m * gamma(m) * gammainc(m, u)
            got_r = c * u ** (-m - 1) * gamma(m + 1) * gammainc(m + 1, u)
        for w, wt, f, fr in fs:
            got += np.sum(wt * f * np.exp(-u * w))
            got_r += np.sum(wt * fr * np.exp(-u * w))
        ref = math.exp(float(law.log_laplace_w(u, t, THETA, 2.0 * THETA * m, 1.0)))
        assert abs(got / ref - 1.0) < 1e-12, (u, got, ref)
        ref_r = ref * float(law.laplace_r(u, 1.0))
        assert abs(got_r / ref_r - 1.0) < 1e-12, (u, got_r, ref_r)


def _log_mgf_of_panels(g, v, first):
    """log E e^{vW} from the panels of a GaussWLaw (Gauss-Legendre, 40 nodes a panel), plus
    ``first``: the log of the part below the first edge (the atom, or C w^m below 1)."""
    xs, ws = np.polynomial.legendre.leggauss(40)
    terms = [first]
    for k in range(g.cf.shape[0]):
        a, b = g.edges[k], g.edges[k + 1]
        w = a + 0.5 * (b - a) * (xs + 1)
        val = np.sum(0.5 * (b - a) * ws * np.polynomial.chebyshev.chebval(xs, g.cf[k])
                     * np.exp(v * (w - a)))
        if val > 0:
            terms.append(math.log(val) + v * a + g.pan[k, 0])
    return float(np.logaddexp.reduce(terms))


@pytest.mark.parametrize("m,t", [(1.0, math.inf), (1.0, 2.0), (4.0, math.inf), (0.3, 0.2),
                                 (16.0, 14.0)])
def test_gaussian_w_law_far_tail_against_mpmath(m, t):
    """The far tail of W (Gaussian jumps), kept in log-scaled panels down to e^-3000, through
    its moment generating function ``log E e^{vW} = m int_q^1 (e^{vy} - 1)/y dy``: at v the
    integrand peaks near w = m e^v (v = 5.5, m = 1: w ~ 245, where f ~ e^-1000), so these
    moments see nothing but the tail. 30-digit mpmath against the panels (Gauss-Legendre, 40
    nodes a panel): 1e-12 in the log (measured: 3e-13 worst)."""
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 30
    _, q, _, _, _ = time_constants(t, THETA, 0.0, 2.0 * THETA * m)
    g = GaussWLaw(m, q)
    q = g.q
    for v in (2.0, 4.0, 5.5):
        if m * math.exp(v) > 0.5 * g.edges[-1]:
            continue  # the saddle lies near or beyond the table's end (w ~ m + 400)
        ref = float(m * mp.quad(lambda y: mp.expm1(v * y) / y, [q, 0.5, 1]))
        if q > 0:
            first = m * math.log(q)  # the atom
        else:  # C w^m below w = 1
            first = float(mp.log(mp.e ** g.logc * m
                                 * mp.quad(lambda w: w ** (m - 1) * mp.e ** (v * w), [0, 1])))
        got = _log_mgf_of_panels(g, v, first)
        assert abs(got - ref) < 1e-12, (v, got, ref)


@pytest.mark.parametrize("m,t,vs", [(1.0, 0.0168, (7.0, 8.0)), (0.3, 0.05, (7.0, 8.5)),
                                    (1.0, 0.002, (9.0, 10.0))])
def test_gaussian_w_law_comb_against_mpmath(m, t, vs):
    """Short times, many jumps: W's law is a comb of narrow bumps in the windows [n q, n]
    (n jumps), and E e^{vW} = sum_n P(N = n) E[e^{vW} | n] peaks at n ~ lambda t e^v, here
    n ~ 18-75 (the tables at t = 0.0168 and 0.002 end at their last resolved window, 128,
    whose share of these moments is below e^-39). The panels resolve every bump
    (``_generations``): 1e-12 relative in the log against 30-digit mpmath. With edges only
    up to 12 generations (the rule before) the log was off by 4e-4 (t = 0.0168), 5e-9
    (t = 0.05) and 1.0-1.6 (t = 0.002)."""
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 30
    _, q, _, _, _ = time_constants(t, THETA, 0.0, 2.0 * THETA * m)
    g = GaussWLaw(m, q)
    for v in vs:
        ref = float(m * mp.quad(lambda y: mp.expm1(v * y) / y, [q, 1]))
        got = _log_mgf_of_panels(g, v, m * math.log(g.q))  # the atom below the first edge
        assert abs(got - ref) < 1e-12 * max(1.0, abs(ref)), (v, got, ref)


def test_mark_window_and_tail_against_mpmath():
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 30
    for nu in (3.0, 12.0):
        a = nu / 2
        for q in (math.exp(-5.0), math.exp(-0.1), math.exp(-1e-4)):
            for y in (1e-3, 0.05, 0.5, 1.0, 3.0, 30.0, 1e4):
                z = mp.mpf(a - 1) / y
                ref = float(mp.log(mp.gammainc(a, z * q, z, regularized=True)))
                got = log_mark_window(2, nu, y, q, math.log(q), math.log(-math.expm1(math.log(q))))
                assert abs(got - ref) < 1e-12 * max(1.0, abs(ref)), (nu, q, y, got, ref)
                ref_t = float(mp.log(mp.gammainc(a, 0, z, regularized=True)))
                assert abs(log_mark_tail(2, nu, y) - ref_t) < 1e-13 * max(1.0, abs(ref_t))


def _reference_configurations(filename, name, rows_min):
    """The rows of one law in a Fourier reference file, grouped by configuration: yields
    (ref, (nu, dim, diffusion, t), row indices, the transition law at t, radii,
    points (r, 0, ...)); one process (and W-table) per configuration, its radii together."""
    ref = np.load(os.path.join(HERE, "reference", filename))
    rows = np.flatnonzero(ref["law"] == name)
    assert rows.size >= rows_min
    groups = {}
    for i in rows:
        key = (float(ref["nu"][i]), int(ref["dim"][i]), float(ref["diffusion"][i]),
               float(ref["t"][i]))
        groups.setdefault(key, []).append(i)
    for (nu, dim, diffusion, t), idx in groups.items():
        amplitude = StudentT(nu) if name == "student-t" else Gaussian()
        proc = levyscore.JumpDiffusion(dim, theta=float(ref["theta"]), diffusion=diffusion,
                                       jump_rate=float(ref["jump_rate"]),
                                       jump_var=float(ref["jump_var"]), amplitude=amplitude)
        r = ref["r"][idx]
        y = np.zeros((r.size, dim))
        y[:, 0] = r
        yield ref, (nu, dim, diffusion, t), idx, proc.transition(t), r, y


@pytest.mark.parametrize("name,rows_min,cdf_tol,logpdf_tol", [
    ("student-t", 90, 1e-10, 1e-9),  # measured 1.7e-11, 2.1e-10
    ("gaussian", 49, 1e-13, 1e-9),  # measured 6.7e-15, 3.6e-11
])
def test_laws_match_the_fourier_references(name, rows_min, cdf_tol, logpdf_tol):
    """All rows of one law in amplitude_reference.npz (Student-t nu = 3, 5, or Gaussian; D =
    1, 2, 3; diffusion 0 and 1; t = 0.5, 2 (and 0.05); r = 0.3 to 6), absolute errors."""
    for ref, (nu, dim, diffusion, t), idx, law, r, y in _reference_configurations(
            "amplitude_reference.npz", name, rows_min):
        assert np.abs(law.radial_cdf(r) - ref["cdf"][idx]).max() < cdf_tol, (nu, dim, t)
        assert np.abs(law.logpdf(y) - ref["logpdf"][idx]).max() < logpdf_tol, (nu, dim, t)
        if diffusion == 0.0:
            assert law.atom == pytest.approx(float(ref["atom"][idx[0]]), rel=1e-14)


@pytest.mark.parametrize("name,tol", [
    ("student-t", 1e-10),  # measured 7.6e-12
    ("gaussian", 1e-12),  # measured 7.5e-14
])
def test_score_matches_the_fourier_references(name, tol):
    """The score's radial factor h against amplitude_score_reference.npz (mpmath, 40 digits:
    Fourier inversion of V^ = phi B and the atom's kernel integral, validated on Laplace
    amplitudes against tests/mpmath_laws.py; tests/reference/make_amplitude_score_reference.py)
    at every row of one law (nu = 3, 5 or Gaussian; D = 1, 2, 3; diffusion 0 and 1; t = 0.5, 2;
    r = 0.3 to 6): relative error."""
    for ref, config, idx, law, r, y in _reference_configurations(
            "amplitude_score_reference.npz", name, 48):
        h = -law.score(y)[:, 0] / r
        assert np.abs(h / ref["h"][idx] - 1.0).max() < tol, config


@pytest.mark.parametrize("lam", [0.4, 1.3, 5.0])
@pytest.mark.parametrize("diffusion", [0.0, 1.0])
@pytest.mark.parametrize("t", [0.3, 2.0, math.inf])
def test_generic_route_reproduces_laplace_laws(lam, diffusion, t):
    """Laplace amplitudes through the renewal march and the W-table quadrature against the
    Laplace mixture kernels (Kummer W-law), D = 1 to 3072: log p and h to 1e-8 relative,
    CDF to 1e-9 (measured 6.4e-11, 3.6e-12, 1.9e-11)."""
    sig2 = 2.0
    m, q, logq, log1mq, s = time_constants(t, THETA, diffusion, lam)
    table = WLawTable(Laplace(), m, q, logq, log1mq)
    for dim in (1, 3, 16, 256, 3072):
        r = np.array([1e-3, 0.3, 1.0, 2.0, 4.0]) * math.sqrt(dim)
        n = r.size
        lp, h, lp0, h0, c, c0 = (np.empty(n) for _ in range(6))
        wmix_logpdf_h(r, dim, s, sig2, lam, diffusion, table.meta, table.lp, table.lr, lp, h)
        mixture_logpdf_h(r, np.full(n, t), dim, THETA, diffusion, lam, sig2 / 2, 0.0, lp0, h0)
        wmix_radial_cdf(r, dim, s, sig2, table.meta, table.lp, table.lr, c)
        mixture_radial_cdf(r, np.full(n, t), dim, THETA, diffusion, lam, sig2 / 2, c0)
        ok = np.isfinite(lp0)
        assert np.abs(lp - lp0)[ok].max() < 1e-8, dim
        assert np.abs(h / h0 - 1)[ok].max() < 1e-8, dim
        assert np.abs(c - c0).max() < 1e-9, dim


def _log_p_and_h(proc, t, r):
    y = np.zeros((r.size, proc.dim))
    y[:, 0] = r
    law = proc.transition(t)
    return law.logpdf(y), -law.score(y)[:, 0] / r


@settings(max_examples=10, deadline=None)
@given(nu=st.one_of(st.floats(2.5, 12.0), st.just(math.inf)), m=st.floats(0.2, 4.0),
       diffusion=st.sampled_from([0.0, 0.4, 2.0]), t=st.floats(0.2, 3.0),
       dim=st.sampled_from([1, 2, 3, 5]))
def test_score_satisfies_the_flux_form(nu, m, diffusion, t, dim):
    """d_t p = div(y p (theta - h)) = D p (theta - h) + r d_r[p (theta - h)] by central
    differences (steps 1e-4 relative in t and r). With log p and h accurate to ~1e-10, the
    differences carry ~1e-10 / 1e-4 = 1e-6 of rounding and 1e-8 of truncation, so the
    residual, relative to the size of the terms, must be below 1e-5. nu = inf stands for
    Gaussian amplitudes."""
    proc = levyscore.JumpDiffusion(dim, theta=THETA, diffusion=diffusion,
                                   jump_rate=2 * THETA * m, jump_var=2.0,
                                   amplitude=Gaussian() if math.isinf(nu) else StudentT(nu))
    r = np.array([0.3, 1.0, 2.5]) * math.sqrt(dim * proc.transition(t).variance)
    dt, dr = 1e-4 * t, 1e-4
    lp, h = _log_p_and_h(proc, t, r)
    dlogp_dt = (_log_p_and_h(proc, t + dt, r)[0] - _log_p_and_h(proc, t - dt, r)[0]) / (2 * dt)
    lpa, ha = _log_p_and_h(proc, t, r * (1 + dr))
    lpb, hb = _log_p_and_h(proc, t, r * (1 - dr))
    ga = np.exp(lpa - lp) * (THETA - ha)
    gb = np.exp(lpb - lp) * (THETA - hb)
    rhs = dim * (THETA - h) + r * (ga - gb) / (2 * dr * r)
    scale = np.abs(dim * (THETA - h)) + np.abs(dlogp_dt) + 1.0
    assert np.all(np.abs(dlogp_dt - rhs) / scale < 1e-5), (dlogp_dt, rhs)


@pytest.mark.parametrize("law", [StudentT(3), Gaussian()], ids=["t3", "gaussian"])
@pytest.mark.parametrize("diffusion,t", [(0.0, 0.7), (0.8, 0.7), (0.0, math.inf)])
def test_radial_cdf_matches_the_exact_sampler(law, diffusion, t):
    """DKW: with n = 20000 draws, P(sup |F_n - F| > eps) <= 2 exp(-2 n eps^2) = 1e-6 for
    eps = sqrt(log(2e6) / (2 n)) = 0.0268."""
    proc = levyscore.JumpDiffusion(2, theta=THETA, diffusion=diffusion, jump_rate=1.1,
                                   jump_var=2.0, amplitude=law)
    law = proc.stationary() if math.isinf(t) else proc.transition(t)
    n = 20000
    r = np.sort(np.linalg.norm(law.sample(n, rng=2026), axis=1))
    grid = np.quantile(r, np.linspace(0.01, 0.99, 60))
    emp = np.searchsorted(r, grid, side="right") / n
    eps = math.sqrt(math.log(2e6) / (2 * n))
    assert np.abs(emp - law.radial_cdf(grid)).max() < eps


@pytest.mark.parametrize("law", [StudentT(3), Gaussian()], ids=["t3", "gaussian"])
def test_limits_small_rate_and_long_time(law):
    # lambda -> 0: the Gaussian law of the same s. p_lambda = q^m phi_s + (1 - q^m) E[phi_{s+W}
    # | N >= 1] and phi_{s+W}(r) <= phi_s(r) for r^2 <= D s, so |log p_lambda - log phi_s|
    # <= 2 (1 - q^m) <= 2 lambda t there
    lam = 1e-9
    proc = levyscore.JumpDiffusion(3, theta=THETA, diffusion=1.0, jump_rate=lam,
                                   amplitude=law)
    gauss = levyscore.JumpDiffusion(3, theta=THETA, diffusion=1.0, jump_rate=0.0)
    for t in (0.5, 3.0):
        s = gauss.transition(t).variance / 3
        y = np.array([[0.2, 0.0, 0.0], [0.4, 0.3, 0.0], [0.5, 0.0, 0.5]]) * math.sqrt(3 * s)
        gap = np.abs(proc.transition(t).logpdf(y) - gauss.transition(t).logpdf(y)).max()
        assert gap <= 2 * lam * t + 1e-10
        np.testing.assert_allclose(proc.transition(t).score(y), gauss.transition(t).score(y),
                                   rtol=1e-8)
    y = np.array([[0.2, 0.0, 0.0], [1.0, 0.5, 0.0], [3.0, 0.0, 1.0]])
    # t -> inf: q = e^-80 is below the float resolution of every law
    proc = levyscore.JumpDiffusion(3, theta=THETA, diffusion=0.5, jump_rate=1.3,
                                   amplitude=law)
    far, stat = proc.transition(80.0), proc.stationary()
    np.testing.assert_allclose(far.logpdf(y), stat.logpdf(y), rtol=1e-12)
    np.testing.assert_allclose(far.score(y), stat.score(y), rtol=1e-9)
    # the stationary flux y p (theta - h) vanishes: S = -theta y
    np.testing.assert_allclose(stat.score(y), -THETA * y, rtol=1e-8)


@pytest.mark.parametrize("law", [StudentT(3), Gaussian()], ids=["t3", "gaussian"])
def test_extreme_inputs_are_finite_and_fast(law):
    import time

    t0 = time.perf_counter()
    pure = levyscore.JumpDiffusion(2, diffusion=0.0, jump_rate=1.0, amplitude=law)
    y = np.array([[0.0, 0.0], [1e-300, 0.0], [1e-5, 0.0], [1e200, 0.0], [1e300, 0.0]])
    # Gaussian jumps: W's law is tabulated until its density is 1e-300 (w ~ m + 60 to 130),
    # so beyond |y| ~ 1e3 the score raises ValueError (Student-t: power-law tail, any |y|)
    far = 3 if isinstance(law, Gaussian) else 5
    for t in (1e-6, 1.0, 1e5):
        tl = pure.transition(t)
        assert np.isfinite(tl.score(y[:far])).all()
        if far < 5:
            with pytest.raises(ValueError, match="tabulated"):
                tl.score(y[far:])
        assert np.isfinite(tl.logpdf(y[1:3])).all()
        assert tl.logpdf(y[0]) > -np.inf  # finite, or +inf once q = e^-t underflows
        if far == 5:
            assert tl.logpdf(y[3:]).max() < -400.0  # far tail: finite or -inf
        else:
            with pytest.raises(ValueError, match="tabulated"):
                tl.logpdf(y[3:])
        c = tl.radial_cdf(np.array([0.0, 1e-300, 1.0, 1e300]))
        assert np.all((c >= 0) & (c <= 1)) and np.all(np.diff(c) >= 0)
    # at t = 1e-12, h ~ 1/t: |S| = |y| h overflows at |y| = 1.7e308, and says so
    with pytest.raises(ValueError, match="float range|tabulated"):
        pure.transition(1e-12).score(np.array([[1.7e308, 0.0]]))
    assert np.isfinite(pure.transition(1e-12).score(y[2:min(far, 4)])).all()
    # a tiny Gaussian variance s (here 6e-31): the kernel's plateau v ~ s once stalled the
    # search for where the sharp kernel can be skipped (a hang)
    tiny = levyscore.JumpDiffusion(2, diffusion=1e-30, jump_rate=1.0, amplitude=law)
    assert np.isfinite(tiny.transition(1.0).score(np.array([[12.0, 0.0], [0.2, 0.0]]))).all()
    stat = pure.stationary()
    assert stat.logpdf(np.zeros(2)) == math.inf  # m = 1 <= D/2: E (2 pi W)^-1 diverges
    assert np.array_equal(stat.score(np.zeros((1, 2))), np.zeros((1, 2)))
    assert time.perf_counter() - t0 < 60.0  # generous: the first calls compile


def test_domain_and_refusals():
    with pytest.raises(ValueError, match="nu <= 50"):
        levyscore.JumpDiffusion(2, amplitude=StudentT(60)).transition(1.0).logpdf(np.ones(2))
    with pytest.raises(ValueError, match="m = jump_rate"):
        levyscore.JumpDiffusion(2, jump_rate=40.0, amplitude=StudentT(3)).stationary().score(
            np.ones(2))
    proc = levyscore.JumpDiffusion(2, amplitude=StudentT(5))
    assert proc.route == "renewal"
    bessel = levyscore.targets.BesselTarget(2, 1.0, 2)
    with pytest.raises(NotImplementedError, match="BesselTarget.*not implemented yet"):
        bessel.marginal_score(proc)
    # the stationary target needs only the stationary law: it works
    target = levyscore.targets.StationaryTarget(proc)
    x = np.array([[0.5, -1.0]])
    np.testing.assert_allclose(target.marginal_score(proc)(x, 0.3), -THETA * x, rtol=1e-8)


@pytest.mark.parametrize("law,diffusion", [(StudentT(3), 0.0), (Gaussian(), 0.5)],
                         ids=["t3-pure-jump", "gaussian-diffusion"])
def test_gaussian_mixture_marginal_satisfies_the_flux_form(law, diffusion):
    """The Gaussian-mixture marginal of a renewal-route process (its components are the
    transition law with s + v_k q, MATH.md section 9) against the Kolmogorov-Feller equation
    in flux form, d_t p = div(p (theta y + S)), by central differences in t and in each
    coordinate (steps 1e-4 relative): as in the radial flux test, rounding ~1e-10 / 1e-4 and
    truncation ~1e-8 bound the residual by 1e-5 of the terms. Long times: the stationary
    law's zero flux, S = -theta y."""
    proc = levyscore.JumpDiffusion(2, theta=THETA, diffusion=diffusion, jump_rate=1.3,
                                   jump_var=2.0, amplitude=law)
    mix = levyscore.targets.GaussianMixture([0.3, 0.7], [[1.0, 0.0], [-2.0, 1.0]], [0.5, 0.0])
    score, logpdf = mix.marginal_score(proc), mix.marginal_logpdf(proc)
    t, dt, d = 0.8, 0.8e-4, 1e-4
    x = np.array([[0.3, 0.2], [2.0, -1.5], [-1.1, 0.9]])
    lp = logpdf(x, t)
    dlogp_dt = (logpdf(x, t + dt) - logpdf(x, t - dt)) / (2 * dt)
    div = np.zeros(x.shape[0])
    for i in range(2):
        e = np.zeros(2)
        e[i] = d
        flux = [np.exp(logpdf(x + sgn * e, t) - lp) * (THETA * (x + sgn * e)[:, i]
                                                      + score(x + sgn * e, t)[:, i])
                for sgn in (1.0, -1.0)]
        div += (flux[0] - flux[1]) / (2 * d)
    scale = np.abs(dlogp_dt) + np.abs(score(x, t)).sum(axis=1) + 1.0
    assert np.all(np.abs(dlogp_dt - div) / scale < 1e-5), (dlogp_dt, div)
    np.testing.assert_allclose(score(x, 60.0), -THETA * x, rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("law,diffusion", [(StudentT(3), 0.0), (Gaussian(), 0.5)],
                         ids=["t3-pure-jump", "gaussian-diffusion"])
def test_gaussian_mixture_marginal_against_exact_sampling(law, diffusion):
    """Monte Carlo of the same marginal: for Y drawn exactly (mixture, then the forward
    sampler), g(Y) = 1_B(Y) / p_t(Y) has mean |B|, the area of a box B around the moved centre
    of the v = 0.5 component (what the extra variance v_k q shapes). The empirical Bernstein
    bound (Maurer & Pontil 2009) with g <= G: |mean - |B|| <= sqrt(2 V L / n) + 7 G L / (3 (n -
    1)), L = log(2 / 1e-6), fails with probability <= 1e-6. G: twice the largest 1/p on the
    box's edge (p is smallest there: the box is centred on the component's mode). n = 40000
    gives eps ~ 0.2 of |B| = 2.25; dropping the extra variance moves the mean by 0.4 and 1.7."""
    proc = levyscore.JumpDiffusion(2, theta=THETA, diffusion=diffusion, jump_rate=1.3,
                                   jump_var=2.0, amplitude=law)
    mix = levyscore.targets.GaussianMixture([0.3, 0.7], [[1.0, 0.0], [-2.0, 1.0]], [0.5, 0.0])
    logpdf = mix.marginal_logpdf(proc)
    t, n, half = 0.8, 40000, 0.75
    y = proc.sample(mix.sample(n, rng=5), t, rng=6)
    centre = mix.means[0] * math.exp(-THETA * t)
    inside = np.all(np.abs(y - centre) < half, axis=1)
    g = np.zeros(n)
    g[inside] = np.exp(-logpdf(y[inside], t))
    e = np.linspace(-half, half, 7)
    edge = np.array([[a, b] for a in e for b in e if max(abs(a), abs(b)) == half]) + centre
    big = 2.0 * float(np.exp(-logpdf(edge, t)).max())
    assert g.max() <= big
    L = math.log(2 / 1e-6)
    eps = math.sqrt(2 * g.var(ddof=1) * L / n) + 7 * big * L / (3 * (n - 1))
    assert abs(g.mean() - (2 * half) ** 2) <= eps, (g.mean(), eps)


def _jd_t5():
    return levyscore.JumpDiffusion(2, theta=THETA, diffusion=1.0, jump_rate=1.0, jump_var=2.0,
                                   amplitude=StudentT(5))


@pytest.fixture(scope="module")
def t5_table_dir(tmp_path_factory):
    """A disk cache holding the certified table of _jd_t5() on [0.3, 1] (default rtol 1e-6),
    built once for the table and study tests below."""
    path = tmp_path_factory.mktemp("t5_table")
    levyscore.ScoreTable.build(_jd_t5(), 0.3, 1.0, cache_dir=str(path))
    return path


def test_score_table_of_student_t(t5_table_dir):
    """The certified table of the conditional score (route "renewal", rtol 1e-6) against
    direct quadrature at fresh random points and times, never used to build it: within rtol;
    the disk cache keys on the amplitude law."""
    import time

    proc = _jd_t5()
    t0 = time.perf_counter()
    table = levyscore.ScoreTable.build(proc, 0.3, 1.0, cache_dir=str(t5_table_dir))
    assert time.perf_counter() - t0 < 5.0  # loaded from the fixture's cache, not rebuilt
    assert table.max_rel_error <= 1e-6
    rng = np.random.default_rng(7)
    t = np.repeat(rng.uniform(0.3, 1.0, 5), 12)
    y = proc.sample(np.zeros((t.size, 2)), t, rng=3)
    direct = proc.score(y, t)
    rel = np.abs(table.score(y, t) - direct).max(axis=1) / np.abs(direct).max(axis=1)
    assert rel.max() <= 1e-6, rel.max()
    other = levyscore.JumpDiffusion(2, theta=THETA, diffusion=1.0, jump_rate=1.0, jump_var=2.0,
                                    amplitude=StudentT(3))
    from levyscore._table_build import ConditionalSource
    from levyscore._table_cache import _cache_key
    assert _cache_key(ConditionalSource(proc), 0.3, 1.0, 1e-6) != \
        _cache_key(ConditionalSource(other), 0.3, 1.0, 1e-6)
    # the Gaussian-jump laws changed numerics (laws_version 2: the far tail; 3: the comb at
    # short times): older tables are not reused
    gauss = levyscore.JumpDiffusion(2, amplitude=Gaussian())
    assert _cache_key(ConditionalSource(gauss), 0.3, 1.0, 1e-6).endswith(
        "amplitude=gaussian,laws=3")
    assert _cache_key(ConditionalSource(proc), 0.3, 1.0, 1e-6).endswith(
        "amplitude=student-t," + (5.0).hex())


def test_study_runs_student_t_models(t5_table_dir, monkeypatch):
    """A tiny study with a Student-t model: trained on its tabulated conditional score,
    sampled with exact jump noise; without the oracle (its kernel for Student-t jumps is
    tested in tests/test_stable_renewal.py; its table costs minutes)."""
    from levyscore import _study

    monkeypatch.setenv("LEVYSCORE_CACHE_DIR", str(t5_table_dir))
    cfg = _study.StudyConfig(n_train=300, n_test=300, n_generate=300, epochs=1, batch_size=150,
                             hidden=(8,), steps=4, seeds=(0,), energy_points=150,
                             oracle_rtol=1e-4, n_err_times=2, n_err_points=200, T=1.0,
                             t_min=0.3, diffusion=1.0, oracle=False)
    gauss = levyscore.JumpDiffusion(2, theta=THETA, diffusion=0.0).equivalent_gaussian()
    records = _study.run_study(cfg, models={"gaussian": gauss, "student-t nu=5": _jd_t5()},
                               log=lambda msg: None)
    by_model = {r["model"]: r for r in records}
    assert "oracle_energy" not in by_model["student-t nu=5"]
    assert math.isfinite(by_model["student-t nu=5"]["energy"])
    table = _study.format_table(_study.summarize(records))
    assert "| student-t nu=5 | ODE | " in table
    models = _study.amplitude_models(_study.FULL)
    assert [p.route for p in models.values()] == ["closed-form", "gaussian", "renewal",
                                                  "renewal", "renewal"]
    assert isinstance(models["gaussian-jumps"].amplitude, Gaussian)
    assert len({round(p.jump_rate * p.jump_var + p.diffusion, 12) for p in models.values()}) == 1
