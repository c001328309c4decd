"""The one dispatch point between NumPy (CPU) and CuPy (GPU) arrays.

Every public function of levyscore that accepts arrays asks :func:`array_module` which
backend its inputs live on, in the spirit of CuPy's ``get_array_module`` and SciPy's
``array_namespace``:

* NumPy arrays, lists, Python and NumPy scalars: the CPU (Numba) path, unchanged;
* any CuPy array: the GPU path (the CUDA kernels of ``kernels/``, launched through
  :mod:`levyscore._gpu`), which returns CuPy arrays and never copies data to the host
  (one documented exception: the rows a :class:`levyscore.ScoreTable` does not serve, which
  only quadrature on the host can compute);
* NumPy arrays mixed with CuPy arrays: :class:`ValueError`, never a silent transfer;
* any Dask array (:func:`is_dask`, checked first): a lazy Dask array whose blocks are the
  results of the same call on each chunk (:mod:`levyscore._dask`), bit for bit the in-memory
  result whatever the chunking; a function without a Dask path refuses Dask input rather
  than compute it silently.

A CuPy array is recognised by the top-level module of its type (``cupy``), so neither
importing levyscore nor any CPU call imports CuPy; the module is imported only once an input
already is a CuPy array (so CuPy is then loaded anyway).

The device paths themselves live next to their CPU paths (``_laws``: closed-form score and
log p; ``_forward``: forward draws and paths; ``_reverse``: the step; ``_table``: the
ScoreTable lookup; ``_process`` and ``learn``: training pairs); they share the input checks
below (:func:`device_points`, :func:`device_times`, :func:`storage`) and launch kernels with
:func:`levyscore._registry.launch`.
"""
import numbers

import numpy as np

from ._gpu import import_cupy as cupy

__all__ = ["MIXED_MESSAGE", "array_module", "cupy", "device_points", "device_times",
           "is_cupy_array", "is_dask", "is_dask_array", "is_device", "require_host", "storage",
           "time_argument"]

#: The error of a call that mixes NumPy and CuPy arrays.
MIXED_MESSAGE = ("mixed NumPy and CuPy inputs: move all arrays to one device "
                 "(cupy.asarray / .get())")


def _package(a):
    return type(a).__module__.split(".")[0]


def is_cupy_array(a):
    """True when ``a`` is an object of the ``cupy`` package (detected without importing it)."""
    return _package(a) == "cupy"


def is_dask_array(a):
    """True when ``a`` is an object of the ``dask`` package (detected without importing it)."""
    return _package(a) == "dask"


def is_dask(*arrays):
    """True when any of ``arrays`` is a Dask array: the call then returns a lazy Dask array
    whose blocks are the in-memory results (:mod:`levyscore._dask`).

    NumPy arrays and scalars may join Dask arrays (they become Dask arrays); CuPy arrays may
    not (put them in a CuPy-backed Dask array).

    Raises
    ------
    ValueError
        If a Dask array is mixed with a CuPy array.
    """
    dask = any(is_dask_array(a) for a in arrays)
    if dask and any(is_cupy_array(a) for a in arrays):
        raise ValueError("mixed Dask and CuPy inputs: wrap the CuPy arrays in a Dask array "
                         "(dask.array.from_array(a)) or compute the Dask arrays")
    return dask


def _is_neutral(a):
    """Python and NumPy scalars and ``None`` belong to no device."""
    return a is None or isinstance(a, (numbers.Number, np.generic))


def array_module(*arrays):
    """The array module of ``arrays``: :mod:`numpy`, or ``cupy`` when any is a CuPy array.

    Parameters
    ----------
    *arrays : array_like or scalar
        Inputs of one call. Python and NumPy scalars (and ``None``) are neutral; any other
        object that is not a CuPy array (NumPy arrays, lists, ...) counts as host data.

    Returns
    -------
    module
        ``numpy`` or ``cupy``.

    Raises
    ------
    ValueError
        If CuPy arrays are mixed with NumPy arrays (or other host array_likes).

    Examples
    --------
    >>> import numpy as np
    >>> from levyscore._backend import array_module
    >>> array_module(np.zeros(3), 1.0) is np
    True
    """
    device = host = False
    for a in arrays:
        if _is_neutral(a):
            continue
        if is_cupy_array(a):
            device = True
        else:
            host = True
    if device and host:
        raise ValueError(MIXED_MESSAGE)
    if device:
        import cupy  # already imported: an input is a CuPy array

        return cupy
    return np


def is_device(*arrays):
    """True when :func:`array_module` of ``arrays`` is CuPy (same checks, same errors)."""
    return array_module(*arrays) is not np


def require_host(what, *arrays):
    """Refuse device inputs to ``what``, a function with no GPU path (no silent transfer).

    Raises
    ------
    ValueError
        If any of ``arrays`` is a CuPy array.
    """
    if any(is_cupy_array(a) for a in arrays):
        raise ValueError(f"{what} has no GPU path: pass NumPy arrays (cupy.asnumpy(a) or a.get())")
    if any(is_dask_array(a) for a in arrays):
        raise ValueError(f"{what} has no Dask path: pass NumPy arrays (a.compute())")


_DEVICE_DTYPES = {np.dtype(np.float64): "f64", np.dtype(np.float32): "f32"}


def storage(arr):
    """Kernel dtype suffix of a CuPy float array: ``"f64"`` or ``"f32"``.

    Raises
    ------
    ValueError
        For any other dtype (convert with ``.astype(cupy.float64)``).
    """
    try:
        return _DEVICE_DTYPES[np.dtype(arr.dtype)]
    except KeyError:
        raise ValueError(f"device arrays must be float32 or float64, got {arr.dtype}; "
                         "convert with .astype(cupy.float64)") from None


def device_points(y, dim, name="y"):
    """A C-contiguous float32/float64 CuPy array of shape (..., dim) with finite entries.

    Integer arrays become float64. The finiteness check reduces on the device and reads one
    boolean back (no data transfer).

    Raises
    ------
    ValueError
        For another dtype, a last axis other than ``dim``, or NaN or inf entries (the message
        names ``name``).
    """
    cp = cupy()
    if y.dtype.kind in "iu":
        y = y.astype(cp.float64)
    storage(y)
    if y.ndim == 0 or y.shape[-1] != dim:
        raise ValueError(f"{name} must have shape (..., {dim}) (last axis = process dimension), "
                         f"got shape {y.shape}")
    if y.size and not bool(cp.isfinite(y).all()):
        raise ValueError(f"{name} must be finite (found NaN or inf)")
    return cp.ascontiguousarray(y)


def device_times(process, t, batch):
    """Clock times of device points with leading axes ``batch`` (a shape).

    Parameters
    ----------
    process : JumpDiffusion
        Its clock maps process times to clock times (MATH.md section 7).
    t : float or cupy.ndarray
        A scalar (shared by every point) or a CuPy array broadcasting against ``batch``.
    batch : tuple of int

    Returns
    -------
    float or cupy.ndarray
        The clock time (a float), or float64 clock times of shape ``(prod(batch),)``.

    Raises
    ------
    ValueError
        For a time that is not finite and positive, a CuPy array that does not broadcast,
        or a CuPy array of times with a noise schedule (its clock has no device path).
    """
    from ._validation import check_time

    if not is_cupy_array(t):
        return float(process.clock(check_time(t)))
    cp = cupy()
    tt = cp.asarray(t, dtype=cp.float64)
    if tt.size and not bool(((tt > 0) & cp.isfinite(tt)).all()):
        raise ValueError("t must be finite and positive (t > 0)")
    if process.schedule is not None:
        raise ValueError("device arrays of times are supported without a noise schedule only; "
                         "pass a scalar t, or compute on the host")
    try:
        tt = cp.broadcast_to(tt, tuple(batch))
    except ValueError:
        raise ValueError(f"t of shape {tt.shape} does not broadcast against the leading axes "
                         f"{tuple(batch)} of the points") from None
    return cp.ascontiguousarray(tt.reshape(-1))


def time_argument(t):
    """``(t, t_per_row)`` of a kernel from :func:`device_times`: a float64 CuPy array of
    shape (1,) and 0 for a shared time, the array itself and 1 for one time per row."""
    if is_cupy_array(t):
        return t, 1
    return cupy().asarray([float(t)], dtype=cupy().float64), 0
