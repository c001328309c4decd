r"""Gaussian amplitudes (Merton-type jumps): :math:`M = \sigma_A^2`, a constant.

Every jump is :math:`N(0, \sigma_A^2 I_D)`: the Merton jump-diffusion of finance and physics.
W is then :math:`\sigma_A^2 \sum_i e^{-2\theta a_i}`, a function of the jump times alone.
"""
import numba as nb
import numpy as np

from ._base import AmplitudeLaw

__all__ = ["Gaussian", "gaussian_mark"]


@nb.njit(cache=True)
def gaussian_mark():
    """``M / sigma_A^2 = 1``: no random number is drawn."""
    return 1.0


class Gaussian(AmplitudeLaw):
    r"""Gaussian jump amplitudes :math:`A \sim N(0, \sigma_A^2 I_D)` (MATH.md section 11).

    Examples
    --------
    >>> import levyscore
    >>> levyscore.JumpDiffusion(2, amplitude="gaussian").amplitude
    Gaussian()
    """

    name = "gaussian"
    code = 1
    #: 2: the law of W in log-scaled panels down to e^-3000 (the score table's radial range
    #: used to end early where the tabulated law of W did, at 1e-300). 3: at short times the
    #: panels resolve the comb of W's law (h was up to 19% off at t = 0.017, |y| ~ 70)
    laws_version = 3

    def laplace_m(self, u, jump_var):
        return np.exp(-jump_var * np.asarray(u, dtype=np.float64))

    def one_minus_laplace_m(self, u, jump_var):
        return -np.expm1(-jump_var * np.asarray(u, dtype=np.float64))
