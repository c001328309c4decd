"""The forward process: an Ornstein-Uhlenbeck drift driven by Gaussian noise plus
compound-Poisson jumps with isotropic Laplace amplitudes (MATH.md sections 0-1)."""
import math

import numpy as np

from ._laws import TransitionLaw, _score_flat
from ._validation import as_points, as_times, check_dim, check_real, check_time

__all__ = ["JumpDiffusion"]

# m = lambda / (2 theta) is treated as an integer (closed forms, finite Gamma mixtures) when it
# lies within this relative distance of one: such m come from rounding in lambda / (2 theta).
_INTEGER_M_RTOL = 1e-12


class JumpDiffusion:
    r"""Jump-diffusion forward process of Baule (arXiv 2503.06558), MATH.md section 1.

    .. math::

        dX = -\theta X\,dt + \sigma_G\, dW + dJ,

    with J compound Poisson of rate :math:`\lambda` and isotropic multivariate Laplace
    amplitudes of per-component variance :math:`\sigma_A^2` (characteristic function
    :math:`1/(1 + b^2|k|^2)`, :math:`b^2 = \sigma_A^2/2`).

    Parameters
    ----------
    dim : int
        Dimension D of a sample, ``>= 1``.
    theta : float, default 0.5
        Mean-reversion rate :math:`\theta > 0` (per unit time).
    diffusion : float, default 1.0
        Gaussian diffusion rate :math:`\sigma_G^2 \ge 0` (variance per unit time); 0 gives a
        pure-jump process.
    jump_rate : float, default 1.0
        Poisson jump rate :math:`\lambda \ge 0` (jumps per unit time); 0 gives the Gaussian
        (Ornstein-Uhlenbeck) model.
    jump_var : float, default 2.0
        Per-component variance :math:`\sigma_A^2 > 0` of one jump amplitude.

    Notes
    -----
    The defaults are the paper's jump-diffusion Laplace model. Every law depends on the
    jump rate only through the exponent :attr:`m` ``= lambda / (2 theta)``; it is treated as an
    integer when within a relative 1e-12 of one. The generalized score convention is
    ``S = grad V / p`` (MATH.md section 3; see :mod:`levyscore._laws`).

    Examples
    --------
    >>> import levyscore
    >>> proc = levyscore.JumpDiffusion(2, diffusion=0.0)     # pure jump, m = 1
    >>> law = proc.transition(1.0)
    >>> round(law.atom, 6)                                   # exp(-lambda t)
    0.367879
    """

    def __init__(self, dim, theta=0.5, diffusion=1.0, jump_rate=1.0, jump_var=2.0):
        self._dim = check_dim(dim)
        self._theta = check_real("theta", theta, positive=True)
        self._diffusion = check_real("diffusion", diffusion, nonnegative=True)
        self._jump_rate = check_real("jump_rate", jump_rate, nonnegative=True)
        self._jump_var = check_real("jump_var", jump_var, positive=True)
        if self._diffusion == 0.0 and self._jump_rate == 0.0:
            raise ValueError("diffusion and jump_rate are both 0: the process has no noise; "
                             "make at least one of them positive")
        m = self._jump_rate / (2.0 * self._theta)
        if not math.isfinite(m):
            raise ValueError(f"jump_rate / (2 theta) must be finite, got {m}")
        m_int = round(m)
        if m_int >= 1 and abs(m - m_int) <= _INTEGER_M_RTOL * m:
            self._m, self._m_int = float(m_int), int(m_int)
        else:
            self._m, self._m_int = m, 0

    # -- parameters ----------------------------------------------------------------------
    @property
    def dim(self):
        """Dimension D."""
        return self._dim

    @property
    def theta(self):
        """Mean-reversion rate theta."""
        return self._theta

    @property
    def diffusion(self):
        """Gaussian diffusion rate sigma_G^2."""
        return self._diffusion

    @property
    def jump_rate(self):
        """Poisson jump rate lambda."""
        return self._jump_rate

    @property
    def jump_var(self):
        """Per-component jump-amplitude variance sigma_A^2."""
        return self._jump_var

    @property
    def b(self):
        """Laplace scale b = sqrt(sigma_A^2 / 2)."""
        return math.sqrt(0.5 * self._jump_var)

    @property
    def m(self):
        """Exponent m = lambda / (2 theta) that governs every law (MATH.md section 2)."""
        return self._m

    @property
    def route(self):
        """How laws and scores are computed: ``"closed-form"``, ``"mixture"`` or ``"gaussian"``."""
        if self._jump_rate == 0.0:
            return "gaussian"
        if self._diffusion == 0.0 and self._m_int >= 1:
            return "closed-form"
        return "mixture"

    def equivalent_gaussian(self):
        """The Gaussian model with the same mean and covariance at every t (MATH.md §8).

        Returns
        -------
        JumpDiffusion
            ``diffusion = sigma_G^2 + lambda sigma_A^2``, ``jump_rate = 0``, same theta.
        """
        return JumpDiffusion(self._dim, theta=self._theta,
                             diffusion=self._diffusion + self._jump_rate * self._jump_var,
                             jump_rate=0.0, jump_var=self._jump_var)

    # -- time --------------------------------------------------------------------------------
    def clock(self, t):
        """Clock B(t) in which the constant-coefficient laws are evaluated (MATH.md §7).

        Without a noise schedule the clock is the identity.
        """
        return t

    # -- laws ---------------------------------------------------------------------------------
    def transition(self, t):
        """Law of ``Y_t = X_t - exp(-theta t) X_0`` after time ``t > 0``.

        Returns
        -------
        TransitionLaw
        """
        return TransitionLaw(self, self.clock(check_time(t)))

    def stationary(self):
        """The stationary law (``t = inf``), MATH.md section 2.

        Returns
        -------
        TransitionLaw
        """
        return TransitionLaw(self, math.inf)

    def score(self, y, t):
        """Conditional generalized score ``S(y, t) = grad V / p`` of ``Y_t`` (MATH.md §3-4).

        Parameters
        ----------
        y : array_like, shape (..., D)
            Points ``y = x - x0 exp(-theta t)``.
        t : float or array_like
            Times ``> 0``, a scalar or an array broadcasting against ``y.shape[:-1]``.

        Returns
        -------
        ndarray, shape (..., D)
        """
        y = as_points(y, self._dim)
        batch = y.shape[:-1]
        t_arr = np.asarray(t, dtype=np.float64) if np.ndim(t) else None
        if t_arr is None:
            tt = np.array([self.clock(check_time(t))])
        else:
            tt = np.ascontiguousarray(self.clock(as_times(t, batch)).reshape(-1))
        y2 = np.ascontiguousarray(y.reshape(-1, self._dim))
        return _score_flat(self, y2, tt).reshape(y.shape)

    def __repr__(self):
        return (f"JumpDiffusion(dim={self._dim}, theta={self._theta!r}, "
                f"diffusion={self._diffusion!r}, jump_rate={self._jump_rate!r}, "
                f"jump_var={self._jump_var!r})")
