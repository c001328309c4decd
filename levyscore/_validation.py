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
    "row_norms",
    "check_process",
    "check_int",
    "as_real_array",
    "finite_row_norms",
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


def _in_memory(value, name):
    """``np.asarray(value)``, refusing a Dask array (a function that reaches here has no Dask
    path, and converting would compute the whole array silently)."""
    if type(value).__module__.split(".")[0] == "dask":
        raise ValueError(f"{name} is a Dask array, and this function has no Dask path: pass a "
                         f"NumPy array ({name}.compute())")
    return np.asarray(value)


def as_points(y, dim, name="y", finite=True):
    """Convert ``y`` to a float64 array of shape (..., dim) with finite entries
    (``finite=False``: the caller checks finiteness itself, in its own pass over y)."""
    arr = _in_memory(y, name)
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise ValueError(f"{name} must be a real array, got dtype {arr.dtype}")
    arr = np.asarray(arr, dtype=np.float64)
    if arr.ndim == 0 or arr.shape[-1] != dim:
        raise ValueError(
            f"{name} must have shape (..., {dim}) (last axis = process dimension), got shape {arr.shape}"
        )
    if finite:
        check_finite_points(arr, name)
    return arr


def check_finite_points(arr, name="y"):
    """Raise ``ValueError`` unless every entry of ``arr`` is finite."""
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (found NaN or inf)")


def as_radii(r, name="r"):
    """Convert ``r`` to a float64 array of finite, non-negative radii."""
    arr = _in_memory(r, name)
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
    arr = _in_memory(t, name)
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
    """Return a sample count as an int >= 0.

    Parameters
    ----------
    n : int
        Candidate count (Python or NumPy integer; ``bool`` is refused).
    name : str
        Argument name used in the error message.

    Raises
    ------
    ValueError
        If ``n`` is not an integer or is negative.
    """
    n = _as_int(name, n)
    if n < 0:
        raise ValueError(f"{name} must be an integer >= 0, got {n}")
    return n


def check_start(start, n, name="start", count_name="n"):
    """Return a global row index ``start >= 0`` such that ``start + n`` fits 64 bits.

    Rows are numbered by a 64-bit counter (the Philox counters of the samplers), so a call
    can address at most ``2**64`` rows: ``0 <= start`` and ``start + n <= 2**64``.

    Parameters
    ----------
    start : int
        Global index of the first row.
    n : int
        Number of rows (already checked by :func:`check_count`).
    name, count_name : str
        Argument names of ``start`` and ``n`` used in the error messages.

    Raises
    ------
    ValueError
        Naming ``n`` when ``n`` alone exceeds ``2**64`` rows, otherwise naming ``start``.
    """
    if n > 2**64:
        raise ValueError(f"{count_name} must be <= 2**64 (rows are numbered by a 64-bit "
                         f"counter), got {n}")
    start = _as_int(name, start)
    if start < 0 or start + n > 2**64:
        raise ValueError(f"{name} must be >= 0 with {name} + {count_name} <= 2**64 "
                         f"({count_name} = {n}), got {start}")
    return start


def row_norms(y, xp=np):
    """Euclidean norms ``|y|`` over the last axis, without overflow or underflow.

    ``sqrt(sum y^2)`` overflows for ``|y| > 1.3e154`` and loses every digit below
    ``1.5e-154``; those rows are recomputed with a power-of-two rescaling (exact), so
    every finite row gets its finite norm to a few ulps.

    Parameters
    ----------
    y : ndarray, shape (..., D), float64
    xp : module, default numpy
        The array module of ``y``: ``cupy`` computes the norms on the device with the same
        operations (the device path of ``TransitionLaw.logpdf``).

    Returns
    -------
    ndarray, shape (...), float64
    """
    y = xp.asarray(y)
    flat = y.reshape(-1, y.shape[-1])
    r = xp.sqrt(xp.einsum("ij,ij->i", flat, flat))
    bad = ~((r > 1e-150) & (r < 1e150))
    if bool(bad.any()):
        rows = flat[bad]
        big = xp.max(xp.abs(rows), axis=-1)
        _, e = xp.frexp(big)
        scaled = xp.ldexp(rows, -e[:, None])
        rs = xp.ldexp(xp.sqrt(xp.einsum("ij,ij->i", scaled, scaled)), e)
        r[bad] = xp.where(big > 0.0, rs, 0.0)
    return r.reshape(y.shape[:-1])


def check_process(proc, dim, what=None):
    """Return ``proc`` after checking it is a :class:`levyscore.JumpDiffusion` of dimension ``dim``.

    ``what`` names a feature built on the Laplace closed forms of the law of W (a target's
    marginal): other amplitude laws are then refused; ``what=None`` accepts every law whose
    transition laws exist.

    Raises
    ------
    ValueError
        If ``proc`` is not a JumpDiffusion, or its dimension differs from ``dim`` (the
        target's).
    NotImplementedError
        If the laws of ``proc``'s amplitude law are not implemented yet (route
        ``"sampling-only"``), or ``what`` is given and the amplitudes are not Laplace.
    """
    from ._process import JumpDiffusion  # here: _process itself imports this module

    if not isinstance(proc, JumpDiffusion):
        raise ValueError(f"proc must be a levyscore.JumpDiffusion, got {type(proc).__name__}")
    if proc.dim != dim:
        raise ValueError(f"proc.dim = {proc.dim} differs from the target's dimension {dim}")
    from ._laws import check_domain, check_laplace

    if what is None:
        check_domain(proc)  # NotImplementedError: no laws for this amplitude law yet
    else:
        check_laplace(proc, what)
    return proc


def check_int(name, value, minimum):
    """Return ``value`` as an int ``>= minimum``; an integral float is accepted, a bool is not."""
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        value = int(value)
    if not isinstance(value, (int, np.integer)) or int(value) < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def as_real_array(name, value, ndim):
    """A float64 copy of ``value`` with ``ndim`` dimensions and finite entries (bool refused)."""
    arr = _in_memory(value, name)
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)) \
            or arr.dtype == np.bool_:
        raise ValueError(f"{name} must be a real array, got dtype {arr.dtype}")
    arr = np.array(arr, dtype=np.float64)
    if arr.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (found NaN or inf)")
    return arr


def finite_row_norms(flat):
    """Euclidean norms of the rows of ``flat`` (n, D), as a contiguous array.

    The norms come from :func:`row_norms` (no overflow or underflow); a norm beyond the
    double range raises ``ValueError``.
    """
    r = np.ascontiguousarray(row_norms(flat))
    if not np.isfinite(r).all():
        raise ValueError("x must lie within the double range: a norm |x| (or |x - centre|) "
                         "exceeds 1.8e308")
    return r
