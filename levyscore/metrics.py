r"""Sample-based distances between generated and data samples (MATH.md §9).

All functions take two samples as arrays of shape (n, D) and (m, D) (rows are points, state
units; a 1-D array of length n is read as n points in D = 1) and return Python floats.

* :func:`tail_msle`: the tail metrics of MATH.md §9, on per-coordinate log-quantiles of the
  upper tail: the paper's integral over u in [0.95, 1] (``method="paper"``) or the mean
  over the levels {0.99, 0.995, 0.999, 0.9995, 0.9999} (``method="levels"``).
* :func:`energy_distance`, :func:`energy_test`: the energy distance
  :math:`2E|X-Y| - E|X-X'| - E|Y-Y'|` (no square root) and its permutation test.
* :func:`sliced_wasserstein`: Monte Carlo sliced p-Wasserstein distance.

Empirical quantile functions
----------------------------
:func:`tail_msle` (``"paper"``) and :func:`sliced_wasserstein` use the *step* quantile
function of the empirical law, :math:`Q_n(u) = x_{(\lceil n u\rceil)}` for u in (0, 1]
(the left-continuous inverse of the empirical CDF; ``numpy.quantile(..., method="inverted_cdf")``).
For two samples of sizes n and m, :math:`Q_n` and :math:`Q_m` are constant between
consecutive points of the merged grid :math:`\{k/n\} \cup \{j/m\}`, so integrals of
:math:`f(Q_n(u), Q_m(u))` are computed *exactly* as finite sums over that grid (no quadrature
error, no resolution parameter; cost O(n + m) after sorting). For 1-D distances this is
the exact p-Wasserstein distance between the two empirical laws, for any n and m.

Range of the inputs
-------------------
Every metric accepts any finite input, from subnormal magnitudes to the largest doubles.
The energy distance and the sliced Wasserstein distance are positively homogeneous of degree
one (``f(c x, c y) = c f(x, y)`` for ``c > 0``): they are computed on the samples scaled by a
common power of two (exact in floating point) that brings the largest magnitude into
[1/2, 1), so no square of a distance overflows or underflows, and the result is scaled back.
A result beyond the double range (possible only for inputs near 1e308) raises
``ValueError``. :func:`tail_msle` works on logarithms and needs no scaling.
"""
import collections
import math
import numbers

import numpy as np
from scipy.spatial.distance import cdist

from ._seeding import philox_key
from ._backend import is_dask
from ._validation import _in_memory, check_real

__all__ = [
    "tail_msle",
    "TAIL_LEVELS",
    "energy_distance",
    "energy_test",
    "EnergyTestResult",
    "sliced_wasserstein",
]

#: Quantile levels of ``tail_msle(method="levels")`` (MATH.md §9, the DLPM line of work).
TAIL_LEVELS = (0.99, 0.995, 0.999, 0.9995, 0.9999)

#: Lower end of the paper's integral in ``tail_msle(method="paper")``.
_PAPER_LOWER = 0.95

# Largest number of float64 entries held in one temporary block (8 MiB).
_BLOCK = 1 << 20


# ----------------------------------------------------------------------------- validation
def _as_samples(name, x):
    """Return ``x`` as a C-contiguous float64 array of shape (n, D), n >= 1, finite."""
    arr = _in_memory(x, name)
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise ValueError(f"{name} must be a real array of shape (n, D), got dtype {arr.dtype}")
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(f"{name} must have shape (n, D) (or (n,) for D = 1), got shape {arr.shape}")
    if arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(f"{name} must hold at least one point of dimension >= 1, got shape {arr.shape}")
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (found NaN or inf)")
    return arr


def _pair(xname, x, yname, y):
    x = _as_samples(xname, x)
    y = _as_samples(yname, y)
    if x.shape[1] != y.shape[1]:
        raise ValueError(
            f"{xname} and {yname} must have the same dimension D (last axis), got "
            f"{x.shape[1]} and {y.shape[1]}"
        )
    return x, y


def _positive_int(name, value):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, np.integer)):
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    value = int(value)
    if value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value}")
    return value


def _pow2_exponent(*arrays):
    """The integer k with ``max |a| * 2^k`` in [1/2, 1) over all ``arrays`` (0 if all are 0).

    Scaling by ``2^k`` (``numpy.ldexp``) is exact (no rounding) unless entries become
    subnormal, and those are negligible against the largest, which is of order 1 after it.
    """
    return _exponent_of(max(float(np.max(np.abs(a))) for a in arrays))


def _exponent_of(top):
    """The k of :func:`_pow2_exponent` for the largest magnitude ``top``."""
    return 0 if top == 0.0 else -math.frexp(top)[1]


def _unscale(value, k, what):
    """``value * 2^-k`` (exact), or ``ValueError`` when it leaves the double range."""
    try:
        out = math.ldexp(float(value), -k)
    except OverflowError:
        out = math.inf
    if not math.isfinite(out):
        raise ValueError(f"x, y: {what} = {float(value)!r} * 2^{-k} exceeds the double range "
                         "(the samples are too large, near 1e308)")
    return out


def _generator(rng):
    return np.random.default_rng(np.random.SeedSequence(list(philox_key(rng))))


# ------------------------------------------------------------------ step quantile functions
def _merged_steps(n, m, lower):
    r"""Exact cells of two empirical step quantile functions on (lower, 1].

    Returns
    -------
    widths : ndarray, shape (K,)
        Lengths of the cells (b_{k-1}, b_k], b_0 = lower, b_K = 1; they sum to 1 - lower.
    ia, ib : ndarray of intp, shape (K,)
        0-based order-statistic indices: on cell k, Q_n = sorted_a[ia[k]] and
        Q_m = sorted_b[ib[k]].

    Notes
    -----
    The grid points k/n and j/m are correctly rounded quotients of exact integers, so equal
    rationals give equal floats and the merge has no spurious cells. On (b_{k-1}, b_k] the
    step quantile ``x_(ceil(n u))`` is constant, with 0-based index
    ``#{i : i/n < b_k}`` (``searchsorted(.., side="left")``).
    """
    def grid(count):
        # only the points from just below `lower` on: i/count for i < first are < lower
        # (so O((1 - lower) count) memory), the same floats as the whole grid's
        first = max(1, math.floor(lower * count) - 1)
        return np.arange(first, count + 1, dtype=np.float64) / count, first - 1

    ga, skip_a = grid(n)
    gb, skip_b = grid(m)
    breaks = np.union1d(ga[ga > lower], gb[gb > lower])
    widths = np.diff(np.concatenate(([lower], breaks)))
    ia = skip_a + np.searchsorted(ga, breaks, side="left")
    ib = skip_b + np.searchsorted(gb, breaks, side="left")
    return widths, ia, ib


# ------------------------------------------------------------------------------ tail MSLE
def _log_tail(name, q, what):
    """log of the tail quantiles ``q`` (rows: levels/cells, columns: coordinates), checked > 0."""
    bad = np.nonzero(~(q > 0).all(axis=0))[0]
    if bad.size:
        d = int(bad[0])
        qmin = float(q[:, d].min())
        raise ValueError(
            f"tail_msle takes logarithms of upper-tail quantiles, but coordinate {d} of {name} "
            f"has {what} = {qmin!r} <= 0: the log-quantile is undefined. The metric needs "
            "samples whose upper tail is positive in every coordinate (for symmetric data "
            "the upper 5% is positive unless the sample is tiny or shifted); pass e.g. "
            "absolute values explicitly if that is the intended metric"
        )
    return np.log(q)


def tail_msle(generated, data, method="paper"):
    r"""Mean squared log error between the upper-tail quantiles of two samples (MATH.md §9).

    Parameters
    ----------
    generated : array_like, shape (n, D)
        Generated sample (state units), n >= 1.
    data : array_like, shape (m, D)
        Reference (data) sample, m >= 1, same D.
    method : {"paper", "levels"}
        * ``"paper"`` (Baule, arXiv 2503.06558):
          :math:`\tfrac12 \int_{0.95}^{1} \sum_{d=1}^{D}
          (\log Q_{gen,d}(u) - \log Q_{data,d}(u))^2\, du`, with the step empirical quantile
          functions :math:`Q(u) = x_{(\lceil n u \rceil)}` of each coordinate. The integrand
          is piecewise constant on the merged grid {k/n} U {j/m}, so the integral is
          evaluated *exactly* as a finite sum (no quadrature, hence no resolution to choose;
          every order statistic above the 95% level of either sample contributes with its
          exact weight).
        * ``"levels"``: :math:`\frac{1}{5D}\sum_{u}\sum_{d}
          (\log Q_{gen,d}(u) - \log Q_{data,d}(u))^2` over
          u in :data:`TAIL_LEVELS` = {0.99, 0.995, 0.999, 0.9995, 0.9999}: a mean over
          levels *and* coordinates. Quantiles are NumPy's default linear-interpolation
          estimator (Hyndman-Fan type 7), which is continuous in the data at these high
          levels; with fewer than ~10^4 points the 0.9999 level lies between the two largest
          order statistics.

    Returns
    -------
    float
        Non-negative; 0 when both samples have the same empirical quantiles. Multiplying one
        sample by c > 0 adds log c to every log-quantile: ``"paper"`` becomes
        ``0.5 * 0.05 * D * log(c)**2`` and ``"levels"`` becomes ``log(c)**2`` for
        otherwise identical samples.

    Raises
    ------
    ValueError
        For arrays that are not (n, D), non-finite, of different D, an unknown ``method``,
        or when a quantile entering the metric is <= 0 (the log is undefined there; the
        upper-tail quantiles of each coordinate are used as they are, with no absolute
        value taken).
    """
    if is_dask(generated, data):
        return _tail_msle_blocked(generated, data, method)
    x, y = _pair("generated", generated, "data", data)
    if method == "paper":
        xs = np.sort(x, axis=0)
        ys = np.sort(y, axis=0)
        widths, ia, ib = _merged_steps(x.shape[0], y.shape[0], _PAPER_LOWER)
        what = "its smallest quantile Q(u), u in (0.95, 1],"
        lx = _log_tail("generated", xs[ia], what)
        ly = _log_tail("data", ys[ib], what)
        return 0.5 * float(np.sum(widths[:, None] * (lx - ly) ** 2))
    if method == "levels":
        levels = np.asarray(TAIL_LEVELS)
        what = "a quantile at the levels " + str(TAIL_LEVELS)
        lx = _log_tail("generated", np.quantile(x, levels, axis=0), what)
        ly = _log_tail("data", np.quantile(y, levels, axis=0), what)
        return float(np.mean((lx - ly) ** 2))
    raise ValueError(f'method must be "paper" or "levels", got {method!r}')


def _linear_quantiles(top, n, levels):
    """NumPy's default quantiles (``numpy.quantile``, method "linear") of each column of a
    sample of size n, from its ``top.shape[0]`` largest values sorted ascending (``top``):
    the same virtual index ``(n - 1) u``, neighbours and interpolation
    (``numpy.lib._function_base_impl._lerp``), hence the same bits."""
    virtual = (n - 1) * np.asarray(levels, dtype=np.float64)
    prev = np.floor(virtual)
    nxt = prev + 1
    above = virtual >= n - 1
    prev[above] = n - 1
    nxt[above] = n - 1
    gamma = (virtual - np.where(above, -1.0, prev))[:, None]  # NumPy's -1 index for the top
    offset = n - top.shape[0]
    a = top[prev.astype(np.intp) - offset]
    b = top[nxt.astype(np.intp) - offset]
    diff = b - a
    return np.where(gamma >= 0.5, b - diff * (1 - gamma), a + diff * gamma)


def _tail_msle_blocked(generated, data, method):
    """:func:`tail_msle` of Dask arrays (or one Dask array and one in memory): the same
    order statistics, found exactly by a tree of per-block partitions that keeps only the
    largest k values of each coordinate (k: 5% of the sample plus one for ``"paper"``, 1%
    plus two for ``"levels"``), so memory is O(k D) plus the blocks in flight, and the
    result equals the in-memory one bit for bit."""
    from ._dask import as_row_blocks, largest_rows

    if method not in ("paper", "levels"):
        raise ValueError(f'method must be "paper" or "levels", got {method!r}')
    xb, n, dx = as_row_blocks(generated, "generated")
    yb, m, dy = as_row_blocks(data, "data")
    if dx != dy:
        raise ValueError(f"generated and data must have the same dimension D (last axis), got "
                         f"{dx} and {dy}")
    if method == "paper":
        widths, ia, ib = _merged_steps(n, m, _PAPER_LOWER)
        kx, ky = n - int(ia.min()), m - int(ib.min())
        what = "its smallest quantile Q(u), u in (0.95, 1],"
        lx = _log_tail("generated", largest_rows(xb, kx)[ia - (n - kx)], what)
        ly = _log_tail("data", largest_rows(yb, ky)[ib - (m - ky)], what)
        return 0.5 * float(np.sum(widths[:, None] * (lx - ly) ** 2))
    levels = np.asarray(TAIL_LEVELS)
    what = "a quantile at the levels " + str(TAIL_LEVELS)
    kx = n - math.floor((n - 1) * levels.min())
    ky = m - math.floor((m - 1) * levels.min())
    lx = _log_tail("generated", _linear_quantiles(largest_rows(xb, kx), n, levels), what)
    ly = _log_tail("data", _linear_quantiles(largest_rows(yb, ky), m, levels), what)
    return float(np.mean((lx - ly) ** 2))


# ------------------------------------------------------------------------ energy distance
def _distance_sum(a, b):
    """Sum of the Euclidean distances |a_i - b_j| over all pairs, in row blocks of a."""
    rows = max(1, _BLOCK // b.shape[0])
    total = 0.0
    for i in range(0, a.shape[0], rows):
        total += float(cdist(a[i:i + rows], b).sum())
    return total


def energy_distance(x, y, *, estimator="V"):
    r"""Energy distance :math:`2E|X-Y| - E|X-X'| - E|Y-Y'|` between two samples in D dimensions.

    This is the *squared* energy distance of Székely and Rizzo (no square root is taken;
    :func:`scipy.stats.energy_distance`, 1-D only, returns its square root). It is >= 0
    for the V-statistic and zero only for equal empirical laws.

    Parameters
    ----------
    x : array_like, shape (n, D)
    y : array_like, shape (m, D)
        Samples (rows are points, Euclidean norm |.| in R^D).
    estimator : {"V", "U"}
        * ``"V"`` (default): the V-statistic, i.e. the energy distance between the two
          empirical laws, :math:`\frac{2}{nm}\sum_{i,j}|x_i-y_j| - \frac{1}{n^2}\sum_{i,i'}
          |x_i-x_{i'}| - \frac{1}{m^2}\sum_{j,j'}|y_j-y_{j'}|` (the definition SciPy uses).
        * ``"U"``: the unbiased U-statistic, the within-sample sums divided by n(n-1) and
          m(m-1) (needs n, m >= 2); its expectation is the energy distance of the laws, but
          it can be negative.

    Returns
    -------
    float

    Notes
    -----
    Time O((n + m)^2 D); memory O(D (n + m)) plus blocks of at most 2^20 distances
    (computed by :func:`scipy.spatial.distance.cdist`), so large samples do not build the
    n x m matrix. The samples are first scaled by a common power of two (exact) that brings
    their largest magnitude into [1/2, 1), and the result is scaled back (the distance is
    homogeneous of degree one), so inputs from 1e-300 to 1e300 neither overflow nor
    underflow (see the module notes).
    """
    if is_dask(x, y):
        return _energy_distance_blocked(x, y, estimator)
    x, y = _pair("x", x, "y", y)
    k = _pow2_exponent(x, y)
    if k:
        x, y = np.ldexp(x, k), np.ldexp(y, k)
    return _unscale(_energy_distance(x, y, estimator), k, "the energy distance")


def _scaled_distance_sum(a, b, k):
    """Sum of |a_i - b_j| over all pairs of the blocks scaled by 2^k (exact)."""
    return _distance_sum(np.ldexp(a, k), np.ldexp(b, k))


def _energy_distance_blocked(x, y, estimator):
    """:func:`energy_distance` of Dask arrays (or one Dask array and one in memory): the
    same three pair sums, as one task per pair of row blocks (the same common power-of-two
    scaling); equal to the in-memory value up to the order of the floating-point sums
    (relative ~1e-15 per term, so ~1e-13 of the largest sum for 10^4 blocks)."""
    from ._dask import as_row_blocks, max_abs, pair_sums

    if estimator not in ("V", "U"):
        raise ValueError(f'estimator must be "V" or "U", got {estimator!r}')
    xb, n, dx = as_row_blocks(x, "x")
    yb, m, dy = as_row_blocks(y, "y")
    if dx != dy:
        raise ValueError(f"x and y must have the same dimension D (last axis), got {dx} and {dy}")
    if estimator == "U" and min(n, m) < 2:
        raise ValueError(f"the U-statistic needs at least 2 points in x and in y, got n={n}, m={m}")
    k = _exponent_of(max_abs(xb + yb))

    def total(a, b):
        return pair_sums(lambda p, q: _scaled_distance_sum(p, q, k), a, b)

    sxy = total(xb, yb) / (n * m)
    nx, ny = (n * n, m * m) if estimator == "V" else (n * (n - 1), m * (m - 1))
    value = 2.0 * sxy - total(xb, xb) / nx - total(yb, yb) / ny
    return _unscale(value, k, "the energy distance")


def _energy_distance(x, y, estimator):
    """:func:`energy_distance` of validated samples (no scaling)."""
    if estimator not in ("V", "U"):
        raise ValueError(f'estimator must be "V" or "U", got {estimator!r}')
    n, m = x.shape[0], y.shape[0]
    if estimator == "U" and min(n, m) < 2:
        raise ValueError(f"the U-statistic needs at least 2 points in x and in y, got n={n}, m={m}")
    sxy = _distance_sum(x, y) / (n * m)
    if estimator == "V":
        sxx = _distance_sum(x, x) / (n * n)
        syy = _distance_sum(y, y) / (m * m)
    else:
        sxx = _distance_sum(x, x) / (n * (n - 1))
        syy = _distance_sum(y, y) / (m * (m - 1))
    return 2.0 * sxy - sxx - syy


EnergyTestResult = collections.namedtuple("EnergyTestResult", ["statistic", "pvalue"])
EnergyTestResult.__doc__ = """Result of :func:`energy_test`: ``statistic`` (V-statistic energy
distance of the two samples) and ``pvalue`` (permutation p-value)."""


def _pooled_matmul(z, s, dist):
    """``D @ s`` for the pooled distance matrix D of z (given as ``dist`` or built in blocks)."""
    if dist is not None:
        return dist @ s
    out = np.empty((z.shape[0], s.shape[1]))
    rows = max(1, _BLOCK // z.shape[0])
    for i in range(0, z.shape[0], rows):
        out[i:i + rows] = cdist(z[i:i + rows], z) @ s
    return out


def energy_test(x, y, permutations=999, rng=None):
    r"""Two-sample permutation test of equal laws with the energy distance.

    Parameters
    ----------
    x : array_like, shape (n, D)
    y : array_like, shape (m, D)
        Samples.
    permutations : int, default 999
        Number P >= 1 of random relabellings of the pooled sample.
    rng : None, int, numpy.random.SeedSequence or numpy.random.Generator
        Seed of the relabellings (see :func:`levyscore._seeding.philox_key`).

    Returns
    -------
    EnergyTestResult
        ``statistic``: :func:`energy_distance` (V-statistic) of x and y;
        ``pvalue``: :math:`(1 + \#\{b : E_b \ge E_{obs}\}) / (1 + P)`, where :math:`E_b`
        is the V-statistic energy distance after the b-th uniformly random relabelling
        (n points to x, m to y). Valid (P(pvalue <= a) <= a under equal laws) for every P.

    Notes
    -----
    With the indicator s of the points labelled x and the pooled distance matrix D,
    :math:`\sum_{XX} = s^T D s`, :math:`\sum_{XY} = 1^T D s - s^T D s` and
    :math:`\sum_{YY} = 1^T D 1 - \sum_{XX} - 2\sum_{XY}`, so each batch of relabellings is one
    matrix product. D is stored when (n + m)^2 <= 2^22; otherwise it is recomputed in
    blocks for each batch. Comparisons use a relative tolerance of 1e-12 of the mean pooled
    distance, so that relabellings equal to the observed one up to rounding count as ties.
    """
    x, y = _pair("x", x, "y", y)
    permutations = _positive_int("permutations", permutations)
    gen = _generator(rng)
    n, m = x.shape[0], y.shape[0]
    # the p-value is scale-free: relabel the samples scaled by a power of two (exact) into
    # [1/2, 1), where no squared distance overflows or underflows
    z = np.ldexp(np.concatenate((x, y)), _pow2_exponent(x, y))
    big = z.shape[0]
    dist = cdist(z, z) if big * big <= 4 * _BLOCK else None

    def statistics(s):
        ds = _pooled_matmul(z, s, dist)
        sxx = np.einsum("ib,ib->b", s, ds)
        sxy = ds.sum(axis=0) - sxx
        syy = total - sxx - 2.0 * sxy
        return 2.0 * sxy / (n * m) - sxx / (n * n) - syy / (m * m)

    total = float(_pooled_matmul(z, np.ones((big, 1)), dist).sum())
    observed_labels = np.zeros((big, 1))
    observed_labels[:n] = 1.0
    observed = float(statistics(observed_labels)[0])
    gamma = 1e-12 * total / (big * big)
    batch = max(1, min(permutations, _BLOCK // big))  # s and D @ s: <= 2^20 entries each
    exceed = 0
    done = 0
    while done < permutations:
        b = min(batch, permutations - done)
        s = np.zeros((big, b))
        for k in range(b):
            s[gen.permutation(big)[:n], k] = 1.0
        exceed += int(np.count_nonzero(statistics(s) >= observed - gamma))
        done += b
    return EnergyTestResult(energy_distance(x, y), (1.0 + exceed) / (1.0 + permutations))


# --------------------------------------------------------------------- sliced Wasserstein
def sliced_wasserstein(x, y, n_projections=128, p=2, rng=None):
    r"""Monte Carlo sliced p-Wasserstein distance between two samples.

    .. math::

        SW_p(x, y) = \Bigl(\frac{1}{L}\sum_{l=1}^{L}
        W_p^p(\theta_l^{\#} x, \theta_l^{\#} y)\Bigr)^{1/p},

    with L directions :math:`\theta_l` drawn uniformly on the unit sphere :math:`S^{D-1}`
    (normalised standard Gaussian vectors) and :math:`W_p` the exact 1-D p-Wasserstein
    distance between the projected empirical laws.

    Parameters
    ----------
    x : array_like, shape (n, D)
    y : array_like, shape (m, D)
        Samples; n and m may differ.
    n_projections : int, default 128
        Number L >= 1 of directions. The estimate of :math:`SW_p^p` is unbiased, with
        Monte Carlo standard deviation O(L^{-1/2}) over directions.
    p : float, default 2
        Order, p >= 1.
    rng : None, int, numpy.random.SeedSequence or numpy.random.Generator
        Seed of the directions (see :func:`levyscore._seeding.philox_key`).

    Returns
    -------
    float
        The estimate of :math:`SW_p` (the p-th root of the mean). For D = 1 every direction
        is +-1 and the result is the exact :math:`W_p` of the two empirical laws.

    Notes
    -----
    The 1-D distance is :math:`\int_0^1 |Q_x(u) - Q_y(u)|^p du` with the step empirical
    quantile functions: for n = m the mean of :math:`|x_{(i)} - y_{(i)}|^p` over sorted
    projections, and for n != m the same integral evaluated exactly on the merged grid
    {k/n} U {j/m} (the exact optimal transport cost between the empirical laws, not an
    interpolation). Memory: O((n + m) L) for the sorted projections. The samples are scaled
    by a common power of two into [1/2, 1) and the differences by a power of two near their
    largest value before the p-th powers are taken (exact rescalings; the result is scaled
    back), so neither magnitudes from 1e-300 to 1e300 nor large p over- or underflow.

    The directions are the rows of ``standard_normal((L, D))`` drawn from
    ``numpy.random.default_rng(SeedSequence(list(philox_key(rng))))``, each normalised to
    unit length, so the same ``rng`` gives the same directions.
    """
    x, y = _pair("x", x, "y", y)
    n_projections = _positive_int("n_projections", n_projections)
    p = check_real("p", p)
    if not p >= 1.0:
        raise ValueError(f"p must be >= 1 (W_p is a distance only for p >= 1), got {p}")
    gen = _generator(rng)
    k = _pow2_exponent(x, y)
    if k:
        x, y = np.ldexp(x, k), np.ldexp(y, k)
    dim = x.shape[1]
    theta = gen.standard_normal((n_projections, dim))
    norms = np.linalg.norm(theta, axis=1)
    if np.any(norms == 0.0):  # probability zero; keep the directions unit vectors anyway
        theta[norms == 0.0] = np.eye(dim)[0]
        norms = np.linalg.norm(theta, axis=1)
    theta /= norms[:, None]
    px = np.sort(x @ theta.T, axis=0)
    py = np.sort(y @ theta.T, axis=0)
    widths, ia, ib = _merged_steps(x.shape[0], y.shape[0], 0.0)
    cols = max(1, _BLOCK // widths.size)
    # |diff|^p relative to the largest |diff|, top, so that neither large p nor tiny
    # differences over- or underflow: SW_p = top * (mean of sum w (diff/top)^p)^(1/p). For
    # p = 2 scaled by a power of two (exact; the largest term is >= 1/4), otherwise divided
    # by top itself (the largest term is 1, which no p underflows)
    top = 0.0
    for j in range(0, n_projections, cols):
        top = max(top, float(np.max(np.abs(px[ia, j:j + cols] - py[ib, j:j + cols]))))
    if top == 0.0:
        return 0.0
    kd = -math.frexp(top)[1]  # top * 2^kd in [1/2, 1)
    cost = 0.0
    for j in range(0, n_projections, cols):
        diff = np.abs(px[ia, j:j + cols] - py[ib, j:j + cols])
        if p == 2.0:
            cost += float(np.sum(widths[:, None] * np.ldexp(diff, kd) ** 2))
        else:
            cost += float(np.sum(widths[:, None] * (diff / top) ** p))
    root = (cost / n_projections) ** (1.0 / p)
    if p == 2.0:
        return _unscale(root, k + kd, "the sliced Wasserstein distance")
    return _unscale(root * top, k, "the sliced Wasserstein distance")
