r"""Noise schedules as clocks (MATH.md section 7).

With a rate :math:`\beta(t) > 0` and :math:`B(t) = \int_0^t \beta`, the process with drift
:math:`-\theta\beta(t)x`, Gaussian rate :math:`\sigma_G^2\beta(t)` and jump rate
:math:`\lambda\beta(t)` is the constant-coefficient process run in the clock B(t). Every law,
V and generalized score hold with t replaced by B(t) (m is unchanged), and the reverse-time
dynamics over ``[t1, t0]`` is the constant-coefficient one over ``[B(t1), B(t0)]``. A schedule
is therefore only a change of the time grid: :class:`Clock` maps process time to clock time.
"""
import math

import numpy as np
from scipy import integrate

__all__ = ["Clock", "LINEAR_BETA", "COSINE_OFFSET"]

LINEAR_BETA = (0.1, 20.0)  # beta(t) = b0 + (b1 - b0) t, the VP-SDE values of Song et al.
COSINE_OFFSET = 0.008  # s of Nichol & Dhariwal's cosine schedule


class Clock:
    """The clock B(t) of a noise schedule.

    Parameters
    ----------
    schedule : None, "linear", "cosine" or callable
        * ``None``: B(t) = t.
        * ``"linear"``: beta(t) = 0.1 + 19.9 t, B(t) = 0.1 t + 9.95 t^2 (use T = 1: B(1) = 10.05).
        * ``"cosine"``: the mean factor e^{-theta B(t)} equals sqrt(alpha_bar(t)) with
          alpha_bar(t) = cos^2(pi/2 (t + s)/(1 + s)) / cos^2(pi/2 s/(1 + s)), s = 0.008, so
          B(t) = -log(alpha_bar(t)) / (2 theta); defined for 0 <= t < 1 (B -> inf at t = 1).
        * callable ``beta(t)``: a positive rate; B(t) is its integral (adaptive quadrature).
    theta : float
        Mean-reversion rate of the process (the cosine clock depends on it).
    """

    def __init__(self, schedule, theta):
        if schedule is not None and not callable(schedule) and schedule not in ("linear", "cosine"):
            raise ValueError(f"schedule must be None, 'linear', 'cosine' or a callable beta(t), got {schedule!r}")
        self.schedule = schedule
        self.theta = theta

    @property
    def name(self):
        """``None``, ``"linear"``, ``"cosine"`` or ``"callable"``."""
        return "callable" if callable(self.schedule) else self.schedule

    def _cosine_log_alpha_bar(self, t):
        s = COSINE_OFFSET
        f = np.cos(0.5 * np.pi * (t + s) / (1 + s))
        f0 = math.cos(0.5 * math.pi * s / (1 + s))
        return 2.0 * (np.log(f) - math.log(f0))

    def __call__(self, t):
        """B(t) for scalar or array t (validated by the caller: finite, > 0)."""
        if self.schedule is None:
            return t
        arr = np.asarray(t, dtype=np.float64)
        if self.schedule == "linear":
            b0, b1 = LINEAR_BETA
            out = b0 * arr + 0.5 * (b1 - b0) * arr * arr
        elif self.schedule == "cosine":
            if np.any(arr >= 1.0):
                raise ValueError("t must be < 1 with the cosine schedule (its clock B(t) -> inf at t = 1)")
            out = -self._cosine_log_alpha_bar(arr) / (2.0 * self.theta)
        else:
            out = np.vectorize(self._integral, otypes=[np.float64])(arr)
        return float(out) if np.ndim(t) == 0 else out

    def _integral(self, t):
        def rate(u):
            value = float(self.schedule(u))
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"schedule beta(t) must be positive and finite, got beta({u!r}) = {value!r}")
            return value

        value, _ = integrate.quad(rate, 0.0, t, epsabs=0.0, epsrel=1e-13, limit=200)
        return value

    def __repr__(self):
        return f"Clock({self.name!r})"
