"""The base class of the jump amplitude laws (MATH.md section 11)."""
import math

import numpy as np
from scipy import integrate

from .._time import exponent_m, log_q_and_one_minus_q

__all__ = ["AmplitudeLaw"]


class AmplitudeLaw:
    r"""An isotropic jump amplitude law :math:`A = \sqrt{M}\,\xi` (MATH.md section 11).

    Subclasses set :attr:`name` and :attr:`code` (the integer that selects the law's branch
    in the Numba and CUDA samplers, :mod:`levyscore.amplitudes._dispatch`), and implement
    :meth:`laplace_m` (and :meth:`one_minus_laplace_m` where ``1 - L_M`` needs care near
    ``u = 0``). Everything else follows from :math:`L_M` and is inherited.

    A law is a value: two laws with the same class and parameters are equal and hash alike,
    and :meth:`cache_key` names it in on-disk caches.
    """

    #: Registry name of the law.
    name = None
    #: Integer code of the law in the samplers (``_dispatch.LAW_*``).
    code = None

    @property
    def param(self):
        """The law's shape parameter as a float (``nu`` for Student-t; 0 for none)."""
        return 0.0

    #: Version of the numerics of this law's transition laws (the renewal route's tables
    #: of W): part of a ScoreTable's cache key from 2 on, so that tables built by older
    #: code are rebuilt. Bump it when those numbers change.
    laws_version = 1

    def cache_key(self):
        """A tuple naming the law and its parameters, e.g. ``("student-t", 5.0)``."""
        return (self.name,)

    def kernel_args(self):
        """``(code, param)``: how the samplers' kernels receive the law."""
        return int(self.code), float(self.param)

    # -- the mixing variable M -----------------------------------------------------------------
    def laplace_m(self, u, jump_var):
        r""":math:`L_M(u) = E e^{-uM}` for ``E M = jump_var``.

        Parameters
        ----------
        u : float or array_like
            Arguments ``>= 0`` (units: 1 / variance).
        jump_var : float
            :math:`\sigma_A^2 > 0`, the mean of M.

        Returns
        -------
        ndarray
            Same shape as ``u``, values in (0, 1].
        """
        raise NotImplementedError

    def one_minus_laplace_m(self, u, jump_var):
        """``1 - L_M(u)``; subclasses override it where the subtraction would cancel."""
        return 1.0 - self.laplace_m(u, jump_var)

    def laplace_r(self, u, jump_var):
        r""":math:`E e^{-uR} = (1 - L_M(u)) / (\sigma_A^2 u)`, R = U M-tilde (MATH.md §11).

        R is the variance of the Gaussian kernel that turns p into the jump part of V:
        ``V = (sigma_G^2/2) p + (lambda sigma_A^2/2) E[p * N(0, R I)]``. Equal to 1 at u = 0.
        """
        u = np.asarray(u, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = self.one_minus_laplace_m(u, jump_var) / (jump_var * u)
        return np.where(u == 0.0, 1.0, out)

    # -- the law of W ----------------------------------------------------------------------------
    def log_laplace_w(self, u, t, theta, jump_rate, jump_var):
        r""":math:`\log E e^{-uW}` of the mixing variable W at time t (MATH.md section 11).

        ``W = sum_i M_i exp(-2 theta a_i)`` (variance units: Y_t | W ~ N(0, (s + W) I)), and
        ``log E e^{-uW} = -m int_{log q}^0 (1 - L_M(u e^x)) dx`` with ``m = lambda/(2 theta)``
        and ``q = exp(-2 theta t)`` (``t = inf``: the stationary law, lower limit ``-inf``).
        Evaluated by adaptive quadrature (QUADPACK, relative tolerance 1e-13): a reference
        route for tests and diagnostics, not a kernel.

        Parameters
        ----------
        u : float or array_like
            Arguments ``>= 0``.
        t : float
            Clock time ``> 0`` or ``inf``.
        theta, jump_rate, jump_var : float
            Process parameters.

        Returns
        -------
        ndarray
            Same shape as ``u``.
        """
        u = np.asarray(u, dtype=np.float64)
        m = exponent_m(theta, jump_rate)
        lo = log_q_and_one_minus_q(theta, t)[0]  # log q
        out = np.empty(u.shape)
        for idx, ui in np.ndenumerate(u):
            if ui == 0.0 or m == 0.0:
                out[idx] = 0.0
                continue

            def f(x, ui=ui):
                return float(self.one_minus_laplace_m(ui * math.exp(x), jump_var))

            # split at x = -log(sigma_A^2 u), where 1 - L_M turns from ~sigma_A^2 u e^x to ~1
            mid = min(0.0, max(lo, -math.log(jump_var * ui)))
            total = 0.0
            for a, b in ((lo, mid), (mid, 0.0)):
                if b > a:
                    val, _ = integrate.quad(f, a, b, epsabs=0.0, epsrel=1e-13, limit=400)
                    total += val
            out[idx] = -m * total
        return out

    # -- value semantics ---------------------------------------------------------------------
    def __eq__(self, other):
        return type(self) is type(other) and self.cache_key() == other.cache_key()

    def __hash__(self):
        return hash(self.cache_key())

    def __repr__(self):
        return f"{type(self).__name__}()"
