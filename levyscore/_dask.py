"""Dask arrays: lazy results whose every block is the in-memory result at its global rows.

A public function given a Dask array (:func:`levyscore._backend.is_dask`) returns a lazy Dask
array built here; each block is computed by the same public function on that block's NumPy
(or CuPy) chunk, i.e. by the in-memory kernels. Random draws take the key resolved once from
``rng`` (:class:`levyscore._seeding.Key`) and ``start`` plus the block's first global row,
and every levyscore sampler draws row ``i`` from the counters ``(key, start + i)``
(MATH.md section 1; :mod:`levyscore._philox`), so the result is bit for bit the in-memory
result, whatever the chunking, the scheduler (threads, processes, ``distributed``) or the
backend of each chunk. Dask's own random arrays are not: each chunk gets a spawned seed
(dask/dask#1684).

Rows are the leading axes of points ``(..., D)``; the last axis (the process dimension) is
always one chunk (rechunked if needed: a Dask array chunked across D gives the same numbers).
Times ``t`` are a scalar or an array broadcasting against the leading axes (rechunked like
them). Dask is imported only here, and only once an input already is a Dask array (or
``chunks=`` is asked for).
"""
import functools

import numpy as np

from ._backend import is_cupy_array, is_dask_array

__all__ = ["dask_array", "map_points", "map_rows", "chunked_sample", "rowwise"]


def dask_array():
    """The ``dask.array`` module (ImportError with the install hint when Dask is missing)."""
    try:
        import dask.array as da
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("levyscore's Dask paths need Dask: pip install 'levyscore[dask]'"
                          ) from exc
    return da


def _meta(x, ndim, dtype):
    from dask.array.utils import meta_from_array

    return meta_from_array(x, ndim=ndim, dtype=dtype)


def _result_dtype(x):
    """dtype of a block result: float64 on the CPU paths (they compute and return float64),
    the chunk dtype on the CuPy paths (float32 stays float32)."""
    if is_cupy_array(getattr(x, "_meta", None)) and x.dtype in (np.float32, np.float64):
        return x.dtype
    return np.dtype(np.float64)


def _as_points(x, name):
    """A Dask array of points (..., D) with one chunk along D."""
    da = dask_array()
    x = x if is_dask_array(x) else da.asarray(np.asarray(x))
    if x.ndim == 0:
        raise ValueError(f"{name} must have shape (..., D), got a scalar")
    if len(x.chunks[-1]) != 1:
        x = x.rechunk({x.ndim - 1: -1})
    return x


def _times(t, x):
    """(scalar t or None, Dask array of t of shape x.shape[:-1] + (1,) chunked like x)."""
    if not is_dask_array(t) and np.ndim(t) == 0:
        return t, None
    da = dask_array()
    if is_cupy_array(t):
        raise ValueError("mixed Dask and CuPy inputs: pass t as a Dask array (or a scalar)")
    tt = t if is_dask_array(t) else da.asarray(np.asarray(t))
    lead = x.shape[:-1]
    try:
        tt = da.broadcast_to(tt, lead)
    except ValueError:
        raise ValueError(f"t of shape {tt.shape} does not broadcast against the leading axes "
                         f"{lead} of the points") from None
    return None, tt.rechunk(x.chunks[:-1])[..., None]


def _first_row(block_info):
    """Global index of the first row of the block (rows: the leading axis)."""
    return int(block_info[0]["array-location"][0][0])


def map_points(fn, x, t=None, *, drop_last=False, name="x"):
    """``fn(x_block, t_block)`` over the row blocks of points ``x`` (..., D).

    Parameters
    ----------
    fn : callable
        ``fn(x_block, t)`` with ``t`` the scalar time or the block's times (shape
        ``x_block.shape[:-1]``), or ``fn(x_block)`` when ``t`` is None; returns an array of
        the block's shape (or without its last axis, ``drop_last``).
    x : dask.array.Array or array_like, shape (..., D)
    t : None, float or array_like
    drop_last : bool
        The result has shape ``x.shape[:-1]`` (log densities).

    Returns
    -------
    dask.array.Array
    """
    da = dask_array()
    x = _as_points(x, name)
    ndim = x.ndim - 1 if drop_last else x.ndim
    kwargs = dict(dtype=_result_dtype(x), meta=_meta(x._meta, ndim, _result_dtype(x)))
    if drop_last:
        kwargs["drop_axis"] = x.ndim - 1
    if t is None:
        return da.map_blocks(fn, x, **kwargs)
    scalar, tt = _times(t, x)
    if tt is None:
        return da.map_blocks(lambda xb: fn(xb, scalar), x, **kwargs)
    return da.map_blocks(lambda xb, tb: fn(xb, tb[..., 0]), x, tt, **kwargs)


def map_rows(fn, x, t=None, *, trailing=None, name="x0"):
    """``fn(x_block, t, first_row)`` over the row blocks of ``x`` of shape (n, D).

    ``first_row`` is the global index of the block's first row (add it to ``start``); ``t`` is
    None, the scalar time, or the block's times (shape (rows,)). ``trailing`` is the shape
    of one row of the result (default ``(D,)``).

    Returns
    -------
    dask.array.Array, shape (n,) + trailing
    """
    da = dask_array()
    x = _as_points(x, name)
    if x.ndim != 2:
        raise ValueError(f"{name} must have shape (n, D), got shape {x.shape}")
    trailing = tuple(x.shape[1:] if trailing is None else trailing)
    dtype = _result_dtype(x)
    chunks = (x.chunks[0],) + tuple((s,) for s in trailing)
    kwargs = dict(dtype=dtype, chunks=chunks, meta=_meta(x._meta, 1 + len(trailing), dtype))
    if len(trailing) == 0:
        kwargs["drop_axis"] = 1
    elif len(trailing) == 2:
        kwargs["new_axis"] = 2

    if t is None:
        return da.map_blocks(lambda xb, block_info=None: fn(xb, None, _first_row(block_info)),
                             x, **kwargs)
    scalar, tt = _times(t, x)
    if tt is None:
        return da.map_blocks(
            lambda xb, block_info=None: fn(xb, scalar, _first_row(block_info)), x, **kwargs)
    return da.map_blocks(
        lambda xb, tb, block_info=None: fn(xb, tb[:, 0], _first_row(block_info)), x, tt,
        **kwargs)


def rowwise(fn):
    """A ``score(x, t)`` callable that also takes Dask points (and times), block by block."""
    @functools.wraps(fn)
    def wrapper(x, t):
        from ._backend import is_dask

        if is_dask(x, t):
            return map_points(fn, x, t)
        return fn(x, t)
    return wrapper


def chunked_sample(sample):
    """Give a ``sample(self, n, rng=None, *, start=0)`` method the keyword ``chunks``.

    With ``chunks`` (an int or a tuple of row-chunk sizes, as for ``dask.array``) the result
    is a lazy Dask array of shape (n, D) whose block of rows ``[a, b)`` is
    ``sample(b - a, key, start=start + a)``: the in-memory draw, bit for bit, for any
    chunking. The key is resolved once from ``rng``.
    """
    @functools.wraps(sample)
    def wrapper(self, n, rng=None, *, start=0, chunks=None):
        if chunks is None:
            return sample(self, n, rng, start=start)
        from ._seeding import Key, philox_key
        from ._validation import check_count, check_start

        da = dask_array()
        n = check_count(n)
        start = check_start(start, n)
        key = Key(*philox_key(rng))
        dim = sample(self, 0, key).shape[1]  # a 0-row draw: the row shape, no randomness
        rows = da.arange(n, chunks=chunks, dtype=np.int64)

        def block(idx):
            first = int(idx[0]) if idx.shape[0] else 0
            return sample(self, idx.shape[0], key, start=start + first)

        return da.map_blocks(block, rows, new_axis=1, chunks=(rows.chunks[0], (dim,)),
                             dtype=np.float64, meta=np.empty((0, 0)))

    wrapper.__doc__ = (sample.__doc__ or "") + _CHUNKS_DOC
    return wrapper


_CHUNKS_DOC = """
        Notes
        -----
        ``chunks=`` (keyword; an int or a tuple of row-chunk sizes, as for ``dask.array``)
        returns a lazy ``dask.array.Array`` of the same draws instead: block ``[a, b)`` is
        drawn with ``start + a``, so any chunking, on any scheduler, gives the in-memory
        result bit for bit (needs the ``dask`` extra).
"""


# ---------------------------------------------------------------------------
# Reductions over the rows of (n, D) samples (levyscore.metrics)
# ---------------------------------------------------------------------------


def as_row_blocks(x, name):
    """``(delayed row blocks, n, D)`` of samples ``x`` of shape (n, D) (or (n,): D = 1), a
    Dask array or an in-memory array (one block). Each block is checked for finite real
    values when computed (the message names ``name``)."""
    import dask

    if is_dask_array(x):
        if x.ndim == 1:
            x = x[:, None]
        if x.ndim != 2 or x.shape[0] < 1 or x.shape[1] < 1:
            raise ValueError(f"{name} must have shape (n, D) with n, D >= 1, got shape "
                             f"{x.shape}")
        if len(x.chunks[1]) != 1:
            x = x.rechunk({1: -1})
        blocks = list(x.to_delayed().ravel())
        shape = x.shape
    else:
        from .metrics import _as_samples

        arr = _as_samples(name, x)
        blocks, shape = [dask.delayed(arr)], arr.shape
    return [dask.delayed(_checked_block)(b, name) for b in blocks], int(shape[0]), int(shape[1])


def _checked_block(block, name):
    arr = np.asarray(block)
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise ValueError(f"{name} must be a real array, got dtype {arr.dtype}")
    arr = np.asarray(arr, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (found NaN or inf)")
    return arr


def _largest(arr, k):
    """The ``k`` largest values of each column of ``arr`` (n, D), sorted ascending: exact
    order statistics (a per-column partition, then a sort of the k kept rows)."""
    k = min(int(k), arr.shape[0])
    if k == 0:
        return arr[:0]
    return np.sort(np.partition(arr, arr.shape[0] - k, axis=0)[arr.shape[0] - k:], axis=0)


def _merge_largest(a, b, k):
    return _largest(np.concatenate([a, b]), k)


def largest_rows(blocks, k):
    """The ``k`` largest values of each column over all ``blocks`` (delayed (rows, D)
    arrays), sorted ascending: the top ``k`` order statistics, exactly, by a pairwise tree of
    merges (each holds at most 2 k rows), computed now."""
    import dask

    parts = [dask.delayed(_largest)(b, k) for b in blocks]
    while len(parts) > 1:
        parts = [dask.delayed(_merge_largest)(parts[i], parts[i + 1], k)
                 if i + 1 < len(parts) else parts[i] for i in range(0, len(parts), 2)]
    return dask.compute(parts[0])[0]


def max_abs(blocks):
    """``max |x|`` over all delayed blocks, computed now."""
    import dask

    return float(max(dask.compute(*[dask.delayed(lambda b: float(np.max(np.abs(b))))(b)
                                    for b in blocks])))


def pair_sums(fn, a_blocks, b_blocks):
    """``sum over block pairs of fn(a_i, b_j)`` (floats), one task per pair, computed now;
    the terms are added in the fixed order (i, j) whatever finished first."""
    import dask

    terms = dask.compute(*[dask.delayed(fn)(a, b) for a in a_blocks for b in b_blocks])
    return float(np.sum(np.array(terms, dtype=np.float64)))
