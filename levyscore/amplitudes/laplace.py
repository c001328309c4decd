r"""Laplace amplitudes (MATH.md sections 1-4): :math:`M = \sigma_A^2\,\mathrm{Exp}(1)`.

The isotropic multivariate Laplace law, characteristic function :math:`1/(1 + b^2|k|^2)`
with :math:`b^2 = \sigma_A^2/2`: the paper's law, and the only one with Bessel-potential
closed forms (pure jump, integer m), an exact stationary sampler (W_inf ~ Gamma(m)) and the
Binomial-Gamma shortcut for integer m.
"""
import math

import numba as nb
import numpy as np

from ._base import AmplitudeLaw

__all__ = ["Laplace", "laplace_mark"]


@nb.njit(cache=True)
def laplace_mark(u_mark):
    """``M / sigma_A^2 ~ Exp(1)`` from the jump's own uniform, by inversion ``-log u``."""
    return -math.log(u_mark)


class Laplace(AmplitudeLaw):
    r"""Isotropic Laplace jump amplitudes, :math:`A = \sqrt{\sigma_A^2 z}\,\xi`, z ~ Exp(1).

    Each coordinate has variance :math:`\sigma_A^2`; the density of A is the Bessel potential
    :math:`g_1^{(b)}`, :math:`b = \sqrt{\sigma_A^2/2}` (MATH.md section 4).

    Examples
    --------
    >>> import levyscore
    >>> levyscore.JumpDiffusion(2, amplitude=levyscore.amplitudes.Laplace()).route
    'mixture'
    """

    name = "laplace"
    code = 0

    def laplace_m(self, u, jump_var):
        return 1.0 / (1.0 + jump_var * np.asarray(u, dtype=np.float64))

    def one_minus_laplace_m(self, u, jump_var):
        x = jump_var * np.asarray(u, dtype=np.float64)
        return x / (1.0 + x)
