"""Helpers shared by the targets: clock time, flat points, parameter comparison."""
import numpy as np

from .._validation import as_points, check_time

# parameters of two processes (or of a process and a target) are taken as equal within this
# relative distance: they usually differ only by the rounding of sqrt, products or quotients
_PARAM_RTOL = 1e-12


def _close(a, b):
    return a == b or abs(a - b) <= _PARAM_RTOL * max(abs(a), abs(b))


def _flat_points(x, dim):
    """x (..., D) -> (validated array, contiguous (n, D) view)."""
    x = as_points(x, dim, "x")
    return x, np.ascontiguousarray(x.reshape(-1, dim))


def _clock_time(proc, t):
    """The clock time B(t) at which laws are evaluated, for a scalar process time t > 0."""
    if np.ndim(t) != 0:
        raise ValueError(f"t must be a scalar time > 0, got an array of shape {np.shape(t)}")
    return float(proc.clock(check_time(t)))
