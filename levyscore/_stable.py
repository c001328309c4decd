r"""The heavy-tailed benchmark data of the paper: a sub-Gaussian alpha-stable vector (MATH.md §9).

Baule, "Generative modelling with jump-diffusions" (arXiv 2503.06558), benchmarks its samplers
on data with power-law tails,

.. math::

    X = \sqrt{Z}\,\varepsilon, \qquad \varepsilon \sim N(0, v I_D), \qquad
    Z \sim S_{\alpha/2}\bigl((2\cos(\pi\alpha/4))^{2/\alpha},\ 1,\ 0\bigr),

with :math:`\alpha = 1.7`, :math:`v = 0.05`, :math:`D = 2` and 32,000 training samples.
:math:`S_a(\sigma, \beta, \mu)` is the stable law in the S1 parametrisation of Samorodnitsky
and Taqqu (the default of :data:`scipy.stats.levy_stable`).

Two facts used below, both from the S1 Laplace transform of a totally skewed stable law
with index :math:`a < 1`, :math:`E e^{-sZ} = \exp(-\sigma^a s^a / \cos(\pi a / 2))`:

* With :math:`a = \alpha/2` and :math:`\sigma = (2\cos(\pi\alpha/4))^{2/\alpha}`, so that
  :math:`\sigma^a = 2\cos(\pi a/2)`:  :math:`E e^{-sZ} = \exp(-2 s^{\alpha/2})`.  Hence
  :math:`Z = 2^{2/\alpha} Z_1` with :math:`E e^{-s Z_1} = e^{-s^{a}}`, the law sampled by
  Kanter's representation.
* Every one-dimensional projection :math:`\langle u, X \rangle` with :math:`|u| = 1` (in
  particular each coordinate) has characteristic function
  :math:`E e^{it\langle u, X\rangle} = E e^{-t^2 v Z / 2} = \exp(-2 (v/2)^{\alpha/2} |t|^\alpha)`:
  it is symmetric :math:`\alpha`-stable, :math:`S_\alpha(\gamma, 0, 0)`, with scale
  :math:`\gamma = 2^{1/\alpha}\sqrt{v/2}` (not :math:`\sqrt{v/2}`: the factor
  :math:`2^{1/\alpha}` comes from the 2 in the scale of Z; Samorodnitsky and Taqqu,
  Prop. 1.3.1, use the scale :math:`\cos(\pi\alpha/4)^{2/\alpha}`, which gives
  :math:`\gamma = \sqrt{v/2}`).
"""
import math

import numpy as np

from ._seeding import philox_key
from ._validation import check_count, check_dim, check_real

__all__ = ["SubGaussianStable", "positive_stable_kanter"]

# numpy's Generator.random() returns k * 2**-53 with k in [0, 2**53); adding half a step maps
# it onto the open interval (0, 1), so that sin(pi U) > 0 and -log(U) is finite and positive.
_HALF_ULP = 2.0**-54


def _open_uniform(gen, n):
    """n uniforms on the open interval (0, 1)."""
    return gen.random(n) + _HALF_ULP


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


class SubGaussianStable:
    r"""Sub-Gaussian :math:`\alpha`-stable vector, the paper's heavy-tailed benchmark (MATH.md §9).

    :math:`X = \sqrt{Z}\,\varepsilon` with :math:`\varepsilon \sim N(0, \text{variance}\, I_D)`
    and :math:`Z` positive :math:`(\alpha/2)`-stable, skewness 1, scale
    :math:`(2\cos(\pi\alpha/4))^{2/\alpha}` (S1 parametrisation), independent of
    :math:`\varepsilon`. The defaults are those of Baule (arXiv 2503.06558), who trains on
    32,000 samples of this law. See the module docstring for the laws of Z and of the
    coordinates.

    Parameters
    ----------
    alpha : float, default 1.7
        Tail index, ``0 < alpha < 2``; ``P(|X_d| > x) ~ C x^{-alpha}``.
    variance : float, default 0.05
        Variance of each coordinate of the Gaussian factor, > 0 (state units squared).
    dim : int, default 2
        Dimension D >= 1.

    Notes
    -----
    Sampling is exact: Z by Kanter's representation (:func:`positive_stable_kanter`), then
    ``X = sqrt(Z) * eps``. Random numbers come from ``numpy.random.default_rng`` seeded with
    ``SeedSequence(list(philox_key(rng)))``, so the same ``rng`` argument (an int or a
    ``SeedSequence``; a re-created ``Generator``) gives the same bits. Per call, the stream
    draws n uniforms, n exponentials (as ``-log`` of uniforms), then ``n * dim`` standard
    normals, in that order; :meth:`sample_mixing` draws the same first 2n numbers, so
    ``sample(n, s) == sqrt(sample_mixing(n, s))[:, None] * eps`` for an int seed ``s``.
    This law is not counter-based: rows are not addressable by a ``start`` index.
    """

    def __init__(self, alpha=1.7, variance=0.05, dim=2):
        alpha = check_real("alpha", alpha)
        if not 0.0 < alpha < 2.0:
            raise ValueError(f"alpha must lie in the open interval (0, 2), got {alpha}")
        self._alpha = alpha
        self._variance = check_real("variance", variance, positive=True)
        self._dim = check_dim(dim)

    @property
    def alpha(self):
        """float: tail index alpha in (0, 2)."""
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
        """float: S1 scale (2 cos(pi alpha / 4))^(2 / alpha) of Z (skewness 1, location 0)."""
        return (2.0 * math.cos(0.25 * math.pi * self._alpha)) ** (2.0 / self._alpha)

    @property
    def marginal_scale(self):
        r"""float: scale :math:`2^{1/\alpha}\sqrt{v/2}` of each coordinate (and each unit projection).

        Each :math:`\langle u, X\rangle`, :math:`|u| = 1`, is symmetric alpha-stable
        :math:`S_\alpha(\gamma, 0, 0)`: :math:`E e^{it\langle u, X\rangle} = e^{-\gamma^\alpha |t|^\alpha}`.
        """
        return 2.0 ** (1.0 / self._alpha) * math.sqrt(0.5 * self._variance)

    def _generator(self, rng):
        return np.random.default_rng(np.random.SeedSequence(list(philox_key(rng))))

    def _log_mixing(self, gen, n):
        a = self.mixing_index
        u = _open_uniform(gen, n)
        e = -np.log(_open_uniform(gen, n))
        # Z = 2^(1/a) Z_1, E exp(-s Z_1) = exp(-s^a): see the module docstring.
        return positive_stable_kanter(a, u, e) + math.log(2.0) / a

    def sample_mixing(self, n, rng=None):
        """Draw the positive-stable mixing variable Z alone.

        Parameters
        ----------
        n : int
            Number of draws, >= 0.
        rng : None, int, numpy.random.SeedSequence or numpy.random.Generator
            Seed (see :func:`levyscore._seeding.philox_key`; a Generator is advanced).

        Returns
        -------
        z : ndarray, shape (n,), float64
            Draws of Z (> 0; may be ``inf`` for very small alpha, where Z exceeds the
            float64 range). The same stream as the first draws of :meth:`sample`.
        """
        n = check_count(n, "n")
        gen = self._generator(rng)
        with np.errstate(over="ignore"):
            return np.exp(self._log_mixing(gen, n))

    def sample(self, n, rng=None):
        """Draw n exact samples of X.

        Parameters
        ----------
        n : int
            Number of samples, >= 0 (the paper trains on 32,000).
        rng : None, int, numpy.random.SeedSequence or numpy.random.Generator
            Seed (see :func:`levyscore._seeding.philox_key`; a Generator is advanced).

        Returns
        -------
        x : ndarray, shape (n, dim), float64
            Samples, state units. For very small alpha an entry can overflow to +-inf.
        """
        n = check_count(n, "n")
        gen = self._generator(rng)
        log_z = self._log_mixing(gen, n)
        eps = gen.standard_normal((n, self._dim))
        with np.errstate(over="ignore"):
            root_z = np.exp(0.5 * log_z)
        return (root_z * math.sqrt(self._variance))[:, None] * eps

    def __repr__(self):
        return f"SubGaussianStable(alpha={self._alpha!r}, variance={self._variance!r}, dim={self._dim!r})"
