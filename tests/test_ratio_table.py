"""The prepared Bessel quotient of the closed-form score (``levyscore/_ratio_table.py``).

G(r) = K_{nu+1}(rho) / (rho K_nu(rho)), rho = r / b, tabulated once per process. Checked
against 40-digit mpmath (the independent route), against the exact Numba quotient it
replaces, and through the public score: same values wherever the table does not serve a
point, bit-identical results for shared and per-row times, and the input and overflow
checks done in the kernel's own pass.
"""
import math

import mpmath as mp
import numpy as np
import pytest

import levyscore
from levyscore import _closed_form, _ratio_table
from levyscore._bessel import bessel_k_ratio
from levyscore._ratio_table import RT_TOL, ratio_lookup, ratio_table

EPS = 2.0 ** -52


def _exact(nu, b, r):
    rho = r / b
    return bessel_k_ratio(nu, rho) / rho


def _random_radii(coef, rng, n):
    """Log-uniform radii over the table's range [r_lo, r_hi)."""
    lo, hi = math.log(coef[0]), math.log(coef[1])
    return np.minimum(np.exp(rng.uniform(lo, hi, n)), np.nextafter(coef[1], 0.0))


@pytest.mark.parametrize("nu, b", [(0.0, 1.0), (1.0, 0.37), (2.5, 1.0), (31.0, 2.9)])
def test_lookup_against_mpmath(nu, b):
    """The ratio contract of levyscore._bessel (4 eps relative, against mpmath) holds for the
    table's quotient at random radii over its whole range."""
    coef, worst = ratio_table(nu, b)
    rng = np.random.default_rng(int(10 * nu) + 7)
    worst_err = 0.0
    served = 0
    with mp.workdps(40):
        for r in _random_radii(coef, rng, 60):
            got = ratio_lookup(coef, r)
            if math.isnan(got):  # an uncertified piece: the caller evaluates the exact one
                continue
            served += 1
            rho = mp.mpf(r) / mp.mpf(b)
            ref = mp.besselk(nu + 1, rho) / (rho * mp.besselk(nu, rho))
            worst_err = max(worst_err, float(abs((got - ref) / ref)))
    assert served >= 50
    assert worst_err <= 4 * EPS, f"worst {worst_err / EPS:.2f} eps"


@pytest.mark.parametrize("nu", [0.0, 0.5, 7.0, 31.5, 100.0])
def test_certified_pieces_agree_with_the_exact_quotient(nu):
    """Between the check points as well: a certified piece is within RT_TOL = 4 eps of the
    exact quotient at its 41 check points; at 2000 random radii the difference may exceed
    that only by the exact function's own rounding at the new point (<= 3.2 eps measured,
    levyscore._bessel), so the bound asserted is 4 + 3.2 eps."""
    b = 1.3
    coef, worst = ratio_table(nu, b)
    # most pieces certify (the others fall back to the exact function)
    assert np.mean(worst <= RT_TOL) >= 0.9
    rng = np.random.default_rng(3)
    r = _random_radii(coef, rng, 2000)
    got = np.array([ratio_lookup(coef, x) for x in r])
    ok = ~np.isnan(got)
    want = np.array([_exact(nu, b, x) for x in r[ok]])
    err = np.abs(got[ok] - want) / want
    assert err.max() <= (4.0 + 3.2) * EPS, f"worst {err.max() / EPS:.2f} eps"


def test_layout_is_exact():
    """The piece index and the local variable t of a lookup reproduce r exactly (the node
    abscissae of the fit are the lookup's own)."""
    coef, _ = ratio_table(1.0, 0.8)
    e_lo = int(coef[2]) - 1023
    rng = np.random.default_rng(5)
    for r in _random_radii(coef, rng, 500):
        u = int(np.float64(r).view(np.int64))
        piece = ((u >> 52) - int(coef[2])) * _ratio_table.RT_S + \
            ((u >> _ratio_table.RT_SHIFT) & (_ratio_table.RT_S - 1))
        assert 0 <= piece < _ratio_table.RT_PIECES
        assert _ratio_table._piece_r(e_lo, piece, u & _ratio_table.RT_MASK) == r


def test_outside_the_table_and_uncertified_pieces_give_nan():
    coef, _ = ratio_table(0.0, 1.0)
    for r in (0.0, coef[0] * 0.999, coef[1], coef[1] * 2, math.inf, math.nan, 1e-300):
        assert math.isnan(ratio_lookup(coef, r)), r
    assert not math.isnan(ratio_lookup(coef, coef[0]))
    assert not math.isnan(ratio_lookup(coef, np.nextafter(coef[1], 0.0)))
    spoiled = coef.copy()
    spoiled[3:] = math.nan
    assert math.isnan(ratio_lookup(spoiled, 1.0))


def test_invalid_order_or_scale():
    for nu, b in ((-1.0, 1.0), (math.nan, 1.0), (1.0, 0.0), (1.0, -2.0), (1.0, math.inf)):
        with pytest.raises(ValueError):
            ratio_table(nu, b)


def _scores(y, t, proc, ratio_coef):
    out = np.empty_like(y)
    bad = _closed_form.closed_form_score(y, np.array([proc.clock(t)]), proc.theta,
                                         proc.jump_rate, proc.b, proc._m_int, out, ratio_coef)
    return out, bad


@pytest.mark.parametrize("dim, m", [(1, 1), (2, 1), (3, 2), (64, 1), (5, 3)])
def test_score_with_and_without_the_table(dim, m):
    """The public score (table) against the exact quotient: a few ulps relative per point;
    rows the table does not serve (r = 0, r outside its range, every row of an uncertified
    table) are the exact path bit for bit."""
    proc = levyscore.JumpDiffusion(dim, theta=0.5, diffusion=0.0, jump_rate=m * 1.0,
                                   jump_var=2.0)
    rng = np.random.default_rng(dim)
    y = rng.standard_normal((400, dim)) * np.exp(rng.uniform(-6, 4, (400, 1)))
    y[0] = 0.0
    y[1] = 1e-9 * y[1] / np.linalg.norm(y[1])     # below r_lo = 2**-24 b
    y[2] = 1e4 * y[2] / np.linalg.norm(y[2])      # above r_hi = 2**12 b
    got = proc.score(y, 0.7)
    exact, bad = _scores(y, 0.7, proc, None)
    assert bad == 0
    rel = np.linalg.norm(got - exact, axis=1) / np.maximum(np.linalg.norm(exact, axis=1), 1e-300)
    # table within 4 + 3.2 eps of the exact quotient (above); h = lam/2 + c G (m = 1) or a
    # window of a few products (m > 1) adds a few roundings: 16 eps
    assert rel.max() <= 16 * EPS, rel.max() / EPS
    np.testing.assert_array_equal(got[:3], exact[:3])
    spoiled = proc._prepared_ratio().copy()
    spoiled[3:] = math.nan
    np.testing.assert_array_equal(_scores(y, 0.7, proc, spoiled)[0], exact)


def test_shared_and_per_row_times_give_the_same_bits():
    proc = levyscore.JumpDiffusion(2, theta=0.5, diffusion=0.0, jump_rate=1.0, jump_var=2.0)
    y = np.random.default_rng(11).standard_normal((500, 2)) * 3.0
    np.testing.assert_array_equal(proc.score(y, 0.3), proc.score(y, np.full(500, 0.3)))
    law = proc.transition(0.3)
    np.testing.assert_array_equal(law.score(y), proc.score(y, 0.3))


@pytest.mark.parametrize("bad_value", [math.nan, math.inf, -math.inf])
def test_non_finite_points_are_refused_in_the_kernel_pass(bad_value):
    proc = levyscore.JumpDiffusion(3, theta=0.5, diffusion=0.0, jump_rate=1.0, jump_var=2.0)
    y = np.ones((50, 3))
    y[17, 1] = bad_value
    for call in (lambda: proc.score(y, 1.0), lambda: proc.transition(1.0).score(y),
                 lambda: proc.score(y, np.full(50, 1.0))):
        with pytest.raises(ValueError, match="must be finite"):
            call()
    out, bad = _scores(y, 1.0, proc, proc._prepared_ratio())
    assert bad == 1


def test_overflowing_scores_are_refused():
    """|S| = |y| h ~ 1 / (|y| log(1/|y|)) beyond the float range at a subnormal |y| (D = 2) is
    an error naming the radius, found in the kernel's pass."""
    proc = levyscore.JumpDiffusion(2, theta=0.5, diffusion=0.0, jump_rate=1.0, jump_var=2.0)
    y = np.ones((4, 2))
    y[2] = 5e-324
    with pytest.raises(ValueError, match="exceeds the float range"):
        proc.score(y, 1.0)
    out, bad = _scores(y, 1.0, proc, proc._prepared_ratio())
    assert bad == 1 and not np.isfinite(out[2]).all() and np.isfinite(np.delete(out, 2, 0)).all()


@pytest.mark.parametrize("dim", [2, 5, 16])
def test_fused_ode_step_equals_score_then_combine(dim):
    """The exponential Euler ODE step with the process's own score runs score and combine in
    one pass (JumpDiffusion._score_combine): the same bits as a score callable that is not
    the process's bound method (score, then the combine kernel)."""
    from levyscore._reverse import ExpEuler

    proc = levyscore.JumpDiffusion(dim, theta=0.5, diffusion=0.0, jump_rate=1.0, jump_var=2.0)
    x = proc.stationary().sample(3000, rng=4)
    x[0] = 0.0
    x[1] = 1e-160  # near the origin: the row outside the inline path
    fused = ExpEuler(proc, proc.score)
    plain = ExpEuler(proc, lambda y, t: proc.score(y, t))
    assert fused._own_score and not plain._own_score
    got, _ = fused.step(1.0, 0.97, x, 0, None)
    want, _ = plain.step(1.0, 0.97, x, 0, None)
    np.testing.assert_array_equal(got, want)
    x[5, 0] = math.nan  # the fused pass declines; the two-step path raises its own error
    with pytest.raises(ValueError, match="must be finite"):
        fused.step(1.0, 0.97, x, 0, None)


def _norm2_by_definition(row):
    """|y|^2 in the order that ``_closed_form.norm2`` documents (index order below D = 8;
    eight partial sums, a fixed tree, then the tail in index order from D = 8 up)."""
    dim = row.shape[0]
    if dim < 8:
        total = 0.0
        for v in row:
            total += v * v
        return total
    top = dim - dim % 8
    s = [0.0] * 8
    for d in range(top):
        s[d % 8] += row[d] * row[d]
    total = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]))
    for d in range(top, dim):
        total += row[d] * row[d]
    return total


@pytest.mark.parametrize("dim", [1, 2, 3, 7, 8, 9, 15, 16, 64, 127, 128, 3072])
def test_norm_order_and_accuracy(dim):
    """The score kernels' |y|^2: the documented summation order, bit for bit (the order the
    CUDA twin follows too), and against the sum of the squares in 40-digit mpmath. Every
    term is >= 0, so a rounding errs by at most eps/2 of its partial sum, which is at most
    the total; a term passes through at most k roundings: its square, then D - 1 additions
    below D = 8, or ceil(D/8) - 1 in its partial sum, 3 in the tree and D mod 8 in the tail
    from D = 8 up (bound k eps/2 (1 + k eps) of the total)."""
    rng = np.random.default_rng(dim)
    y = rng.standard_normal((20, dim)) * np.exp(rng.uniform(-5, 5, (20, 1)))
    k = dim if dim < 8 else 1 + (math.ceil(dim / 8) - 1) + 3 + dim % 8
    for i in range(y.shape[0]):
        got = _closed_form.norm2(y, i, dim)
        assert got == _norm2_by_definition(y[i])
        with mp.workdps(40):
            exact = mp.fsum([mp.mpf(float(v)) ** 2 for v in y[i]])
            err = float(abs(mp.mpf(got) - exact) / exact)
        assert err <= k * 0.5 * EPS * (1 + k * EPS), (err / EPS, k)


@pytest.mark.parametrize("dim", [8, 15, 64, 127, 128])
def test_rows_in_pairs_give_the_bits_of_rows_alone(dim):
    """For 8 <= D < 128 the Numba kernel takes rows two at a time (their norms in one loop):
    a batch of odd length (its last row alone) has the bits of each row scored alone, for
    the score and for the fused combine, with a row outside the inline path in each pair."""
    proc = levyscore.JumpDiffusion(dim, theta=0.5, diffusion=0.0, jump_rate=1.0, jump_var=2.0)
    y = np.random.default_rng(dim).standard_normal((7, dim)) * 2.0
    y[1] = 0.0
    y[4] *= 1e-160
    alone = np.concatenate([proc.score(y[k:k + 1], 0.6) for k in range(7)])
    np.testing.assert_array_equal(proc.score(y, 0.6), alone)
    fused = proc._score_combine(y, 0.6, 1.25, -0.5)
    np.testing.assert_array_equal(
        fused, np.concatenate([proc._score_combine(y[k:k + 1], 0.6, 1.25, -0.5)
                               for k in range(7)]))
