r"""The heavy-tailed benchmark data of the paper: a sub-Gaussian alpha-stable vector (MATH.md §9).

Baule, "Generative modelling with jump-diffusions" (arXiv 2503.06558), benchmarks its samplers
on data with power-law tails,

.. math::

    X = \sqrt{Z}\,\varepsilon, \qquad \varepsilon \sim N(0, v I_D), \qquad
    Z \sim S_{\alpha/2}\bigl(2\cos(\pi\alpha/4)^{2/\alpha},\ 1,\ 0\bigr),

with :math:`\alpha = 1.7`, :math:`v = 0.05`, :math:`D = 2` and 32,000 training samples.
:math:`S_a(\sigma, \beta, \mu)` is the stable law in the S1 parametrisation of Samorodnitsky
and Taqqu (the default of :data:`scipy.stats.levy_stable`). The factor 2 of the scale stands
*outside* the power: the paper's notebook (adrian-baule/jumpAI, ``JDL_implementation.nb``)
draws ``b = 2 (Cos[a π/4])^(2/a)`` and DLPM draws
``levy_stable.rvs(alpha/2, 1, loc=0, scale=2*np.cos(np.pi*alpha/4)**(2/alpha))``.

Two facts used below, both from the S1 Laplace transform of a totally skewed stable law
with index :math:`a < 1`, :math:`E e^{-sZ} = \exp(-\sigma^a s^a / \cos(\pi a / 2))`:

* With :math:`a = \alpha/2` and :math:`\sigma = 2\cos(\pi\alpha/4)^{2/\alpha}`, so that
  :math:`\sigma^a = 2^a\cos(\pi a/2)`: :math:`E e^{-sZ} = \exp(-(2s)^{a})`. Hence
  :math:`Z = 2 Z_1` with :math:`E e^{-s Z_1} = e^{-s^{a}}`, the law sampled by Kanter's
  representation. As :math:`\alpha \to 2`, :math:`Z \to 2` and :math:`X \to N(0, 2v I)`.
* Every one-dimensional projection :math:`\langle u, X \rangle` with :math:`|u| = 1` (in
  particular each coordinate) has characteristic function
  :math:`E e^{it\langle u, X\rangle} = E e^{-t^2 v Z / 2} = \exp(-(\sqrt{v}|t|)^{\alpha})`:
  it is symmetric :math:`\alpha`-stable :math:`S_\alpha(\sqrt{v}, 0, 0)`.

Density of the mixing variable (used by the exact marginal score, :mod:`levyscore._stable_marginal`)
    :math:`Z_1` has no closed-form density for general a. Two independent representations:

    * the convergent series (Pollard 1946; Feller II, XVII.6)
      :math:`f_{Z_1}(z) = \frac{1}{\pi}\sum_{k\ge1} \frac{(-1)^{k+1}}{k!}\Gamma(ak+1)\sin(\pi a k)\, z^{-ak-1}`,
      used for :math:`z \ge 2`, where its terms decay geometrically without cancellation;
    * Zolotarev's integral, from Kanter's representation
      :math:`Z_1 = K(U) E^{-(1-a)/a}` (:func:`positive_stable_kanter`):
      :math:`P(Z_1 \le z \mid U = u) = \exp(-c(u) z^{-\beta})` with :math:`\beta = a/(1-a)` and
      :math:`c(u) = K(u)^{\beta}`, hence
      :math:`f_{Z_1}(z) = \beta z^{-\beta-1}\int_0^1 c(u)\, e^{-c(u) z^{-\beta}}\, du`,
      evaluated by adaptive quadrature for :math:`z < 2`.

    ``tests/test_stable.py`` checks each against :data:`scipy.stats.levy_stable` and the two
    against each other where both apply.
"""
import math
import warnings

import numba as nb
import numpy as np

from ._dask import chunked_sample
from ._philox import stream_word, uniform_pair
from ._forward import gaussian_row
from ._seeding import philox_key
from ._validation import check_count, check_dim, check_real, check_start

__all__ = ["SubGaussianStable", "positive_stable_kanter", "positive_stable_logpdf",
           "DOMAIN_TARGET_STABLE", "ALPHA_MIN"]

#: Philox domain of :class:`SubGaussianStable` (stream 0: the two uniforms of Kanter's
#: representation, stream 1: the normals). Not used by any other sampler.
DOMAIN_TARGET_STABLE = 0x21

#: Z_1 above this point: series; below: Zolotarev's integral.
SERIES_FROM = 2.0

#: Smallest tail index alpha of :class:`SubGaussianStable`. Z = 2 Z_1 with Z_1 positive
#: a-stable, a = alpha/2, whose tail is P(Z_1 > z) = z^{-a} / Gamma(1 - a) (1 + O(z^{-a}))
#: (the first term of the series of the module docstring, integrated). At alpha = 0.2 (a = 0.1)
#: P(Z > 1e300) = (5e299)^{-0.1} / Gamma(0.9) = 1.0e-30 and P(Z > DBL_MAX = 1.8e308) = 1.5e-31
#: per draw, so in 10^12 draws the chance that Z (returned by ``sample_mixing``) leaves the
#: double range is below 1e-18. A coordinate sqrt(v Z) xi_d of X overflows only when
#: Z xi_d^2 > DBL_MAX^2 / v >= DBL_MAX (v itself is a finite double), of probability at most
#: E|xi|^{2a} P(Z > DBL_MAX) ~ 1.4e-31 per coordinate (Breiman's lemma). Below alpha = 0.2
#: the tail is too heavy for double precision: at alpha = 0.1, P(Z > DBL_MAX) = 3.9e-16, and at
#: alpha = 0.01 one row in ~600 overflows. A draw that still overflows raises ``ValueError``.
ALPHA_MIN = 0.2


def positive_stable_kanter(a, u, e):
    r"""Kanter's representation of a positive a-stable variable with :math:`E e^{-sZ} = e^{-s^a}`.

    .. math::

        Z = \left(\frac{\sin(a\pi U)^{a}\,\sin((1-a)\pi U)^{1-a}}{\sin(\pi U)}\right)^{1/a}
            E^{-(1-a)/a},

    (Kanter 1975; Chambers, Mallows and Stuck 1976 with beta = 1), computed in logarithms.

    Parameters
    ----------
    a : float
        Index, ``0 < a < 1``.
    u : ndarray, shape (n,)
        Uniforms on the open interval (0, 1).
    e : ndarray, shape (n,)
        Standard exponentials, > 0.

    Returns
    -------
    log_z : ndarray, shape (n,)
        :math:`\log Z` (finite; ``exp`` of it may overflow for small ``a``).
    """
    phi = math.pi * u
    log_a = (a * np.log(np.sin(a * phi)) + (1.0 - a) * np.log(np.sin((1.0 - a) * phi))
             - np.log(np.sin(phi))) / a
    return log_a - ((1.0 - a) / a) * np.log(e)


@nb.njit(cache=True)
def _kanter_log(a, u, e):
    """Scalar twin of :func:`positive_stable_kanter` (same operations, same order)."""
    phi = math.pi * u
    log_a = (a * math.log(math.sin(a * phi)) + (1.0 - a) * math.log(math.sin((1.0 - a) * phi))
             - math.log(math.sin(phi))) / a
    return log_a - ((1.0 - a) / a) * math.log(e)


@nb.njit(cache=True, parallel=True)
def _sample_kernel(k0, k1, a, root_var, start, log_z_out, x_out, want_x):
    """Row i: (u, u') from stream 0, log Z = Kanter(u, -log u') + log 2; X = sqrt(v Z) xi."""
    n = log_z_out.shape[0]
    cu = stream_word(DOMAIN_TARGET_STABLE, 0)
    cg = stream_word(DOMAIN_TARGET_STABLE, 1)
    mask = np.uint64(0xFFFFFFFF)
    shift = np.uint64(32)
    ustart = np.uint64(start)
    log2 = math.log(2.0)
    empty = np.empty(0)
    for i in nb.prange(n):
        gi = ustart + np.uint64(i)
        c0 = gi & mask
        c1 = gi >> shift
        u, u2 = uniform_pair(c0, c1, cu, np.uint64(0), k0, k1)
        lz = _kanter_log(a, u, -math.log(u2)) + log2
        log_z_out[i] = lz
        if want_x:
            gaussian_row(c0, c1, cg, k0, k1, math.exp(0.5 * lz) * root_var, 1.0, empty, False,
                         x_out[i])


# -- density of the mixing variable --------------------------------------------------------------
@nb.njit(cache=True)
def _log_density_series(a, z):
    """log f_{Z_1}(z) by the series of the module docstring; for ``z >= SERIES_FROM``.

    Written relative to the first term, so that it neither underflows nor overflows for any
    finite ``z > 0``: ``f = Gamma(a+1) sin(pi a) / pi * z^{-a-1} * (1 + sum_k rel_k)``.
    """
    logz = math.log(z)
    lead = math.lgamma(a + 1.0) + math.log(math.sin(math.pi * a)) - math.log(math.pi) \
        - (a + 1.0) * logz
    s1 = math.sin(math.pi * a)
    total = 1.0
    base = math.lgamma(a + 1.0)
    k = 2
    while k < 400:
        lrel = math.lgamma(a * k + 1.0) - math.lgamma(k + 1.0) - base - a * (k - 1) * logz
        sk = math.sin(math.pi * a * k) / s1
        term = math.exp(lrel) * sk
        if k % 2 == 0:
            term = -term
        total += term
        if lrel < -40.0 and k > 4:
            break
        k += 1
    return lead + math.log(total)


def _log_c(a, u):
    """log c(u) of Zolotarev's integral: log K(u)^beta = log B(u) / (1 - a)."""
    phi = math.pi * u
    log_b = (a * math.log(math.sin(a * phi)) + (1.0 - a) * math.log(math.sin((1.0 - a) * phi))
             - math.log(math.sin(phi)))
    return log_b / (1.0 - a)


def _log_density_zolotarev(a, z):
    """log f_{Z_1}(z) by Zolotarev's integral (module docstring), adaptive quadrature."""
    from scipy.integrate import IntegrationWarning, quad

    beta = a / (1.0 - a)
    y = z ** (-beta) if z > 0 else math.inf
    if not math.isfinite(y):
        return -math.inf
    c0 = math.exp(a * math.log(a) / (1.0 - a) + math.log1p(-a))  # c(0) = a^beta (1 - a)
    # integrand relative to its value c0 at u = 0: exp(log c - log c0 - (c - c0) y)
    def g(u):
        lc = _log_c(a, u) if u > 0.0 else math.log(c0)
        if lc > 700.0:  # c(u) y is astronomically large there (y >= 2^-beta): no mass
            return 0.0
        return math.exp(min(lc - math.log(c0), 700.0) - max(math.exp(lc) - c0, 0.0) * y)

    # the integrand is a half-bell at u = 0 of width ~ y^{-1/2}: split geometrically
    edges = [0.0] + [e for e in (1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.1, 0.3, 0.6) if e < 1] + [1.0]
    total = 0.0
    with warnings.catch_warnings():
        # pieces far from u = 0 hold no mass; QUADPACK then reports round-off, harmlessly
        warnings.simplefilter("ignore", IntegrationWarning)
        for lo, hi in zip(edges[:-1], edges[1:]):
            val, _ = quad(g, lo, hi, epsabs=1e-17 * total, epsrel=1e-12, limit=200)
            total += val
    if total <= 0.0:
        return -math.inf
    return math.log(beta) - (beta + 1.0) * math.log(z) + math.log(c0) - c0 * y + math.log(total)


def positive_stable_logpdf(a, z):
    r"""Log density of the positive a-stable law with :math:`E e^{-sZ} = e^{-s^a}`.

    Parameters
    ----------
    a : float
        Index, ``0 < a < 1``.
    z : array_like
        Points ``> 0`` (any shape).

    Returns
    -------
    ndarray
        ``log f(z)``, same shape as ``z``: the series for ``z >= 2``, Zolotarev's integral
        below (see the module docstring). ``-inf`` where the density underflows.
    """
    a = float(a)
    if not 0.0 < a < 1.0:
        raise ValueError(f"a must lie in the open interval (0, 1), got {a}")
    z = np.asarray(z, dtype=np.float64)
    if np.any(~(z > 0)) or not np.all(np.isfinite(z)):
        raise ValueError("z must be finite and > 0")
    out = np.empty(z.shape)
    for idx, zi in np.ndenumerate(z):
        zi = float(zi)
        out[idx] = _log_density_series(a, zi) if zi >= SERIES_FROM else _log_density_zolotarev(a, zi)
    return out


class SubGaussianStable:
    r"""Sub-Gaussian :math:`\alpha`-stable vector, the paper's heavy-tailed benchmark (MATH.md §9).

    :math:`X = \sqrt{Z}\,\varepsilon` with :math:`\varepsilon \sim N(0, \text{variance}\, I_D)`
    and :math:`Z` positive :math:`(\alpha/2)`-stable, skewness 1, scale
    :math:`2\cos(\pi\alpha/4)^{2/\alpha}` (S1 parametrisation), independent of
    :math:`\varepsilon`. Each coordinate is :math:`S_\alpha(\sqrt{v}, 0, 0)`. The defaults are
    those of Baule (arXiv 2503.06558), who trains on 32,000 samples of this law. See the
    module docstring for the laws of Z and of the coordinates.

    Parameters
    ----------
    alpha : float, default 1.7
        Tail index, ``0.2 <= alpha < 2`` (:data:`ALPHA_MIN`; below it draws overflow the
        double range with non-negligible probability); ``P(|X_d| > x) ~ C x^{-alpha}``. The
        exact marginal score and log density need ``0.5 <= alpha <= 1.95``.
    variance : float, default 0.05
        Variance v of each coordinate of the Gaussian factor, > 0 (state units squared).
    dim : int, default 2
        Dimension D >= 1.

    Notes
    -----
    Sampling is exact and counter-based (Philox4x32-10, domain
    :data:`DOMAIN_TARGET_STABLE`), like every other target: row i reads the two uniforms of
    Kanter's representation (:func:`positive_stable_kanter`) from stream 0 and its normals
    from stream 1 at sample index i. Rows ``[a, b)`` drawn with ``start=a`` equal rows
    ``a..b-1`` of the whole batch, bit for bit, whatever the thread count.
    :meth:`marginal_score` and :meth:`marginal_logpdf` give the exact marginal laws under any
    :class:`levyscore.JumpDiffusion` (:mod:`levyscore._stable_marginal`).
    """

    def __init__(self, alpha=1.7, variance=0.05, dim=2):
        alpha = check_real("alpha", alpha)
        if not ALPHA_MIN <= alpha < 2.0:
            raise ValueError(
                f"alpha must lie in [{ALPHA_MIN}, 2), got {alpha}: below {ALPHA_MIN} the mixing "
                f"variable Z (tail P(Z > z) ~ z^(-alpha/2)) exceeds the double range with "
                f"probability ~{self._overflow_probability(alpha):.1g} per draw")
        self._alpha = alpha
        self._variance = check_real("variance", variance, positive=True)
        self._dim = check_dim(dim)

    @staticmethod
    def _overflow_probability(alpha):
        """P(Z > DBL_MAX) by the tail z^{-a} / Gamma(1 - a) of Z / 2 (see :data:`ALPHA_MIN`)."""
        a = 0.5 * alpha
        if not 0.0 < a < 1.0:
            return 1.0
        return min(1.0, math.exp(-a * math.log(0.5 * np.finfo(float).max) - math.lgamma(1.0 - a)))

    def _overflow_error(self, values, what):
        """``ValueError`` naming alpha for the first row of ``values`` that is not finite."""
        row = int(np.argmin(np.isfinite(values).reshape(values.shape[0], -1).all(axis=1)))
        return ValueError(
            f"alpha = {self._alpha}: {what} of row {row} overflows the double range (the "
            f"heavy tail z^(-alpha/2) of Z exceeds it with probability "
            f"~{self._overflow_probability(self._alpha):.1g} per draw); no sample with inf is "
            "returned")

    @property
    def alpha(self):
        """float: tail index alpha in [ALPHA_MIN, 2)."""
        return self._alpha

    @property
    def variance(self):
        """float: variance of each coordinate of the Gaussian factor eps."""
        return self._variance

    @property
    def dim(self):
        """int: dimension D."""
        return self._dim

    @property
    def mixing_index(self):
        """float: stability index alpha / 2 of the mixing variable Z."""
        return 0.5 * self._alpha

    @property
    def mixing_scale(self):
        """float: S1 scale 2 cos(pi alpha / 4)^(2 / alpha) of Z (skewness 1, location 0)."""
        return 2.0 * math.cos(0.25 * math.pi * self._alpha) ** (2.0 / self._alpha)

    @property
    def marginal_scale(self):
        r"""float: scale :math:`\sqrt{v}` of each coordinate (and each unit projection).

        Each :math:`\langle u, X\rangle`, :math:`|u| = 1`, is symmetric alpha-stable
        :math:`S_\alpha(\sqrt{v}, 0, 0)`: :math:`E e^{it\langle u, X\rangle} = e^{-(\sqrt{v}|t|)^\alpha}`.
        """
        return math.sqrt(self._variance)

    def _draw(self, n, rng, start, want_x):
        n = check_count(n, "n")
        start = check_start(start, n)
        k0, k1 = philox_key(rng)
        log_z = np.empty(n)
        x = np.empty((n, self._dim) if want_x else (0, self._dim))
        if n:
            _sample_kernel(np.uint64(k0), np.uint64(k1), self.mixing_index,
                           math.sqrt(self._variance), start, log_z, x, want_x)
        return log_z, x

    def sample_mixing(self, n, rng=None, *, start=0):
        """Draw the positive-stable mixing variable Z alone.

        Parameters
        ----------
        n : int
            Number of draws, >= 0.
        rng : None, int, numpy.random.SeedSequence or numpy.random.Generator
            Seed (see :func:`levyscore._seeding.philox_key`; a Generator is advanced).
        start : int, optional
            Global index of the first row (see the class notes).

        Returns
        -------
        z : ndarray, shape (n,), float64
            Draws of Z (> 0, finite): the Z of the rows of :meth:`sample` with the same seed.

        Raises
        ------
        ValueError
            If a draw exceeds the double range (probability below 1e-30 per draw for
            ``alpha >= ALPHA_MIN``; see :data:`ALPHA_MIN`).
        """
        log_z, _ = self._draw(n, rng, start, False)
        with np.errstate(over="ignore"):
            z = np.exp(log_z)
        if not np.isfinite(z).all():
            raise self._overflow_error(z, "the mixing variable Z")
        return z

    @chunked_sample
    def sample(self, n, rng=None, *, start=0):
        """Draw n exact samples of X.

        Parameters
        ----------
        n : int
            Number of samples, >= 0 (the paper trains on 32,000).
        rng : None, int, numpy.random.SeedSequence or numpy.random.Generator
            Seed (see :func:`levyscore._seeding.philox_key`; a Generator is advanced).
        start : int, optional
            Global index of the first row: rows ``[a, b)`` drawn with ``start=a`` and the same
            int or SeedSequence seed equal rows ``a..b-1`` of the whole batch.

        Returns
        -------
        x : ndarray, shape (n, dim), float64
            Samples, state units, finite.

        Raises
        ------
        ValueError
            If an entry exceeds the double range (probability below 1e-30 per coordinate
            for ``alpha >= ALPHA_MIN``; see :data:`ALPHA_MIN`).
        """
        _, x = self._draw(n, rng, start, True)
        if not np.isfinite(x).all():
            raise self._overflow_error(x, "a coordinate sqrt(v Z) xi")
        return x

    def marginal_table(self, proc, *, t_min=1e-3, t_max=10.0, rtol=1e-6, cache_dir=None,
                       cache=True):
        """Certified table of the marginal score under ``proc`` (see :meth:`marginal_score`).

        Returns
        -------
        levyscore.ScoreTable
            Its ``score(x, t)`` is the marginal generalized score; ``max_rel_error`` is the
            certified relative error of h in ``S = -x h(|x|, t)``.
        """
        from ._stable_marginal import marginal_table

        return marginal_table(self, proc, t_min=t_min, t_max=t_max, rtol=rtol,
                              cache_dir=cache_dir, cache=cache)

    def marginal_score(self, proc, *, t_min=1e-3, t_max=10.0, rtol=1e-6, cache_dir=None,
                       cache=True):
        r"""The exact marginal generalized score of this data law under ``proc`` (MATH.md §3, §9).

        :math:`X_0 = \sqrt{Z}\varepsilon` is a Gaussian scale mixture, and so is every
        transition law (over W, MATH.md §1), so :math:`p_t` and :math:`\nabla V_t` are
        mixtures over (Z, W) of centred Gaussians; see :mod:`levyscore._stable_marginal`.
        The score is tabulated in :math:`(\log(|x|/a(t)), \log t)` and certified against the
        direct quadrature at independent points, as :class:`levyscore.ScoreTable` does for
        conditional scores (disk cache keyed by every parameter of the target and the process).

        Parameters
        ----------
        proc : JumpDiffusion
            Any forward process of dimension ``dim`` (pure jump, jump-diffusion or Gaussian;
            any m).
        t_min, t_max : float
            Tabulated time range; outside it the direct quadrature is used (exact, slower).
        rtol : float
            Target relative error of h (certified).
        cache_dir, cache
            As for :meth:`levyscore.ScoreTable.build`.

        Returns
        -------
        callable
            ``score(x, t)``: x of shape (..., D), t a scalar or an array broadcasting against
            ``x.shape[:-1]``; returns the shape of x.

        Raises
        ------
        ValueError
            If ``proc`` is not a JumpDiffusion of this dimension, or alpha lies outside the
            supported range ``[0.5, 1.9]`` of the marginal quadrature.
        """
        return self.marginal_table(proc, t_min=t_min, t_max=t_max, rtol=rtol,
                                   cache_dir=cache_dir, cache=cache).score

    def marginal_logpdf(self, proc):
        """Callable ``logpdf(x, t)``: log density of the marginal under ``proc`` (direct quadrature).

        x of shape (..., D), t a scalar or an array broadcasting against ``x.shape[:-1]``;
        returns shape ``x.shape[:-1]``.
        """
        from ._stable_marginal import marginal_logpdf

        return marginal_logpdf(self, proc)

    def __repr__(self):
        return f"SubGaussianStable(alpha={self._alpha!r}, variance={self._variance!r}, dim={self._dim!r})"
