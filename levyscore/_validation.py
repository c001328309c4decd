"""Input validation at the public boundary.

Every public function of levyscore checks its inputs here, before any kernel runs, and
raises a ``ValueError`` that names the offending argument and says what it must be.
Kernels themselves assume valid, contiguous float64 input.
"""
import math
import numbers

import numpy as np

__all__ = [
    "check_real",
    "check_dim",
    "check_time",
    "as_points",
    "as_radii",
    "as_times",
    "check_count",
    "check_start",
]


def check_real(name, value, *, positive=False, nonnegative=False, allow_inf=False):
    """Return ``value`` as a Python float after checking it.

    Parameters
    ----------
    name : str
        Argument name used in the error message.
    value : object
        Candidate real scalar.
    positive, nonnegative : bool
        Require ``value > 0`` or ``value >= 0``.
    allow_inf : bool
        Accept ``+inf``.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        if isinstance(value, np.ndarray) and value.ndim == 0 and np.issubdtype(value.dtype, np.number):
            value = value.item()
        else:
            raise ValueError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if math.isnan(value):
        raise ValueError(f"{name} must not be NaN")
    if math.isinf(value) and not (allow_inf and value > 0):
        raise ValueError(f"{name} must be finite, got {value}")
    if positive and not value > 0:
        raise ValueError(f"{name} must be positive, got {value}")
    if nonnegative and not value >= 0:
        raise ValueError(f"{name} must be non-negative, got {value}")
    return value


def check_dim(dim):
    """Return the dimension as an int >= 1."""
    if isinstance(dim, (bool, np.bool_)) or not isinstance(dim, (numbers.Integral, np.integer)):
        if isinstance(dim, (float, np.floating)) and float(dim).is_integer():
            dim = int(dim)
        else:
            raise ValueError(f"dim must be an integer >= 1, got {dim!r}")
    dim = int(dim)
    if dim < 1:
        raise ValueError(f"dim must be an integer >= 1, got {dim}")
    return dim


def check_time(t, name="t"):
    """Return a scalar time as a float > 0 (finite)."""
    return check_real(name, t, positive=True)


def as_points(y, dim, name="y"):
    """Convert ``y`` to a float64 array of shape (..., dim) with finite entries."""
    arr = np.asarray(y)
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise ValueError(f"{name} must be a real array, got dtype {arr.dtype}")
    arr = np.asarray(arr, dtype=np.float64)
    if arr.ndim == 0 or arr.shape[-1] != dim:
        raise ValueError(
            f"{name} must have shape (..., {dim}) (last axis = process dimension), got shape {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (found NaN or inf)")
    return arr


def as_radii(r, name="r"):
    """Convert ``r`` to a float64 array of finite, non-negative radii."""
    arr = np.asarray(r)
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise ValueError(f"{name} must be a real array, got dtype {arr.dtype}")
    arr = np.asarray(arr, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (found NaN or inf)")
    if np.any(arr < 0):
        raise ValueError(f"{name} must be non-negative")
    return arr


def as_times(t, batch_shape, name="t"):
    """Broadcast times ``t`` (scalar or array, each > 0 and finite) to ``batch_shape``."""
    arr = np.asarray(t)
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise ValueError(f"{name} must be real, got dtype {arr.dtype}")
    arr = np.asarray(arr, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (found NaN or inf)")
    if np.any(arr <= 0):
        raise ValueError(f"{name} must be positive (t > 0)")
    try:
        return np.broadcast_to(arr, batch_shape)
    except ValueError:
        raise ValueError(
            f"{name} of shape {arr.shape} does not broadcast against the leading axes {batch_shape} of y"
        ) from None


def _as_int(name, value):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, np.integer)):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    return int(value)


def check_count(n, name="n"):
    """Return a sample count as an int >= 0."""
    n = _as_int(name, n)
    if n < 0:
        raise ValueError(f"{name} must be >= 0, got {n}")
    return n


def check_start(start, n, name="start"):
    """Return a global row index ``start >= 0`` such that ``start + n`` fits 64 bits."""
    start = _as_int(name, start)
    if start < 0 or start + n > 2**64:
        raise ValueError(f"{name} must be >= 0 with start + n <= 2**64, got {start}")
    return start
