"""The exact sampler of the Gaussian and Student-t amplitude laws against independent reference
values of the radial CDF of Y_t (tests/reference/amplitude_reference.npz, made by
tests/reference/make_amplitude_reference.py: Fourier inversion of the characteristic function
in mpmath, 30-40 digits, every value computed by two quadrature set-ups).

* the reference is self-consistent (monotone, between the atom and 1, two set-ups agree);
* Monte Carlo: the empirical radial CDF of levyscore's exact draws against the reference at every
  radius, with Massart's DKW bound at ALPHA = 1e-6 (can fail; with fixed seeds not flaky);
* the density reference (and the CDF) at t = 0.05 against a direct quadrature over the jump
  count and the jump times (Gaussian amplitudes, D = 1), which shares nothing with the Fourier
  route but the model.
"""
import itertools
import math
import os

import numpy as np
import pytest
from scipy import special

import levyscore
from levyscore.amplitudes import Gaussian, StudentT

ALPHA = 1e-6
N_MC = 200_000
REF = np.load(os.path.join(os.path.dirname(__file__), "reference", "amplitude_reference.npz"))
THETA, JUMP_RATE, JUMP_VAR = float(REF["theta"]), float(REF["jump_rate"]), float(REF["jump_var"])


def dkw(n):
    """sup_r |F_n(r) - F(r)| bound holding with probability 1 - ALPHA (Massart's DKW:
    P(sup |F_n - F| > eps) <= 2 exp(-2 n eps^2))."""
    return math.sqrt(math.log(2.0 / ALPHA) / (2.0 * n))


def _law(name, nu):
    return Gaussian() if name == "gaussian" else StudentT(nu)


def _configs():
    keys = sorted({(str(a), float(b), int(c), float(d), float(e)) for a, b, c, d, e in
                   zip(REF["law"], REF["nu"], REF["dim"], REF["diffusion"], REF["t"])})
    return keys


CONFIGS = _configs()


def _ids(c):
    law = "gauss" if c[0] == "gaussian" else f"t{c[1]:g}"
    return f"{law}-D{c[2]}-diff{c[3]:g}-t{c[4]:g}"


def _rows(cfg):
    sel = ((REF["law"] == cfg[0]) & (REF["nu"] == cfg[1]) & (REF["dim"] == cfg[2])
           & (REF["diffusion"] == cfg[3]) & (REF["t"] == cfg[4]))
    order = np.argsort(REF["r"][sel])
    return {k: REF[k][sel][order] for k in ("r", "cdf", "logpdf", "atom", "est_err",
                                             "est_err_logpdf", "cdf_str", "logpdf_str")}


def test_reference_covers_the_grid_and_is_self_consistent():
    laws = {(c[0], c[1]) for c in CONFIGS}
    assert {("gaussian", 0.0), ("student-t", 3.0)} <= laws
    assert {c[2] for c in CONFIGS} == {1, 2, 3}
    for cfg in CONFIGS:
        x = _rows(cfg)
        atom = math.exp(-JUMP_RATE * cfg[4]) if cfg[3] == 0.0 else 0.0  # P(N = 0) = q^m
        assert np.allclose(x["atom"], atom, rtol=1e-15, atol=0.0), cfg
        assert levyscore.JumpDiffusion(cfg[2], theta=THETA, diffusion=cfg[3],
                                       jump_rate=JUMP_RATE, jump_var=JUMP_VAR,
                                       amplitude=_law(cfg[0], cfg[1])).transition(
                                           cfg[4]).atom == pytest.approx(atom, rel=1e-14)
        assert np.all(np.diff(x["r"]) > 0) and np.all(np.diff(x["cdf"]) > 0), cfg
        assert np.all(x["cdf"] > atom) and np.all(x["cdf"] < 1.0), cfg
        assert np.all(np.isfinite(x["logpdf"])), cfg
        # set-up A (dps 30) against set-up B (dps 40, the stored one); measured <= 4e-29
        assert np.all(x["est_err"] < 1e-25) and np.all(x["est_err_logpdf"] < 1e-25), cfg
        assert np.array_equal([float(s) for s in x["cdf_str"]], x["cdf"])
        assert np.array_equal([float(s) for s in x["logpdf_str"]], x["logpdf"])


@pytest.mark.parametrize("cfg", CONFIGS, ids=[_ids(c) for c in CONFIGS])
def test_exact_sampler_radial_cdf_against_reference(cfg):
    law, nu, dim, diffusion, t = cfg
    x = _rows(cfg)
    proc = levyscore.JumpDiffusion(dim, theta=THETA, diffusion=diffusion, jump_rate=JUMP_RATE,
                                   jump_var=JUMP_VAR, amplitude=_law(law, nu))
    seed = 20250611 + CONFIGS.index(cfg)
    y = proc.transition(t).sample(N_MC, rng=seed)
    radius = np.sort(np.sqrt(np.einsum("ij,ij->i", y, y)))
    emp = np.searchsorted(radius, x["r"], side="right") / N_MC
    diff = np.abs(emp - x["cdf"])
    # DKW (Massart) at ALPHA: sup over all r, so it holds jointly at every tabulated radius
    assert np.max(diff) < dkw(N_MC), (cfg, diff, dkw(N_MC))
    if diffusion == 0.0:  # the atom at 0 (Hoeffding, same bound)
        assert abs(np.mean(radius == 0.0) - x["atom"][0]) < dkw(N_MC)


def _direct_gaussian_jumps_d1(y, t, diffusion, nodes, nmax):
    """p(y) and P(|Y| <= y) in D = 1 for Gaussian amplitudes, by the jump representation:
    N ~ Poisson(lambda t), jump times uniform, so x_i = -2 theta (t - tau_i) is uniform on
    [log q, 0] and Y | jumps ~ N(0, s + jump_var sum_i e^{x_i}). The n-fold integral is a
    tensor Gauss-Legendre rule, summed over multisets of nodes with multinomial weights."""
    lq = -2.0 * THETA * t
    s = diffusion * -math.expm1(lq) / (2.0 * THETA)
    xg, wg = np.polynomial.legendre.leggauss(nodes)
    xs = lq / 2.0 * (1.0 - xg)  # nodes on [log q, 0]
    ws = wg / 2.0               # uniform law on [log q, 0]: weights sum to 1
    lt = JUMP_RATE * t
    weights, variances = [], []
    for n in range(nmax + 1):
        pois = math.exp(-lt + n * math.log(lt) - math.lgamma(n + 1))
        for combo in itertools.combinations_with_replacement(range(nodes), n):
            counts = np.bincount(np.array(combo, dtype=int), minlength=nodes) if n else []
            mult = math.factorial(n) / math.prod(math.factorial(c) for c in counts)
            weights.append(pois * mult * math.prod(ws[i] for i in combo))
            variances.append(s + JUMP_VAR * math.fsum(math.exp(xs[i]) for i in combo))
    w = np.array(weights)[:, None]
    v = np.array(variances)[:, None]
    p_terms = w * np.exp(-y * y / (2 * v)) / np.sqrt(2 * math.pi * v)
    c_terms = w * special.erf(y / np.sqrt(2 * v))
    p = np.array([math.fsum(col) for col in p_terms.T])  # thousands of terms: exact sums
    cdf = np.array([math.fsum(col) for col in c_terms.T])
    tail = special.pdtrc(nmax, lt)  # P(N > nmax)
    return p, cdf, tail


def test_density_reference_against_direct_jump_quadrature():
    """Gaussian amplitudes, D = 1, diffusion = 1, t = 0.05 (lambda t = 0.065): the jump
    representation truncated at 9 jumps (P(N > 9) = 3.5e-19) against the Fourier reference."""
    cfg = ("gaussian", 0.0, 1, 1.0, 0.05)
    assert cfg in CONFIGS
    x = _rows(cfg)
    r = x["r"].astype(float)
    p6, c6, tail = _direct_gaussian_jumps_d1(r, 0.05, 1.0, 6, 9)
    p4, c4, _ = _direct_gaussian_jumps_d1(r, 0.05, 1.0, 4, 9)
    assert tail < 1e-18
    # Gauss-Legendre on an interval of length 2 theta t = 0.05: 4 and 6 nodes agree to float64
    # rounding (3 nodes: 3e-11 in log p at r = 6)
    assert np.max(np.abs(np.log(p4 / p6))) < 1e-14 and np.max(np.abs(c4 - c6)) < 1e-15
    # the dropped jumps change p by at most tail * max density and the cdf by at most tail;
    # measured agreement with the reference: 2e-15 in log p, 1e-16 in the cdf
    assert np.max(np.abs(np.log(p6) - x["logpdf"])) < 1e-13, (np.log(p6), x["logpdf"])
    assert np.max(np.abs(c6 - x["cdf"])) < 1e-14, (c6, x["cdf"])
