"""The one dispatch point between NumPy (CPU) and CuPy (GPU) arrays.

Every public function of levyscore that accepts arrays asks :func:`array_module` which
backend its inputs live on, in the spirit of CuPy's ``get_array_module`` and SciPy's
``array_namespace``:

* NumPy arrays, lists, Python and NumPy scalars: the CPU (Numba) path, unchanged;
* any CuPy array: the GPU path (the CUDA kernels of ``kernels/``, launched through
  :mod:`levyscore._gpu`), which returns CuPy arrays and never copies data to the host;
* NumPy arrays mixed with CuPy arrays: :class:`ValueError`, never a silent transfer.

A CuPy array is recognised by the top-level module of its type (``cupy``), so neither
importing levyscore nor any CPU call imports CuPy; the module is imported only once an input
already is a CuPy array (so CuPy is then loaded anyway).
"""
import numbers

import numpy as np

__all__ = ["MIXED_MESSAGE", "array_module", "is_cupy_array", "is_device", "require_host"]

#: The error of a call that mixes NumPy and CuPy arrays.
MIXED_MESSAGE = ("mixed NumPy and CuPy inputs: move all arrays to one device "
                 "(cupy.asarray / .get())")


def is_cupy_array(a):
    """True when ``a`` is an object of the ``cupy`` package (detected without importing it).

    Parameters
    ----------
    a : object

    Returns
    -------
    bool
    """
    return type(a).__module__.split(".")[0] == "cupy"


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
