r"""On-disk cache of :class:`levyscore.ScoreTable` files.

A table depends only on (D, theta, sigma_G^2, lambda, sigma_A^2), the jump amplitude law
(``proc.amplitude.cache_key()``; the Laplace law adds no field), the (clock) time range,
``rtol``, the source's own key fields and :data:`FORMAT_VERSION`: :func:`_cache_key` writes
them (floats as exact hex) into one key string, whose SHA-256 names the file
``scoretable-<digest>.npz`` in ``cache_dir``, else ``$LEVYSCORE_CACHE_DIR``
(:data:`_CACHE_ENV`), else ``~/.cache/levyscore`` (:func:`_cache_directory`). :func:`_save`
writes a temporary file and moves it into place with :func:`os.replace`; :func:`_load` returns
the arrays only if the file loads, its stored key equals the requested key, a SHA-256
checksum over all its arrays matches (:func:`_checksum`), its tree is consistent
(:func:`_tree_is_consistent`) and its certified error is within ``rtol``.
"""
import hashlib
import numbers
import os
import tempfile

import numpy as np

from ._table_build import _N
from ._table_kernel import _ARRAY_FIELDS, _N_PARAMS

#: Version of the table layout and build procedure; part of the cache key.
FORMAT_VERSION = 2

_CACHE_ENV = "LEVYSCORE_CACHE_DIR"


def _amplitude_field(proc):
    """The jump amplitude law's key field, or None for the Laplace law.

    ``proc.amplitude.cache_key()`` is a tuple such as ``("laplace",)`` or
    ``("student-t", 5.0)``; numbers are written as exact float hex, then ``laws=<v>`` where
    the law's ``laws_version`` is above 1. The Laplace law, the only
    law of processes without an ``amplitude`` attribute, adds no field: its key, the file it
    names and the builder's seed (derived from the key) stay those of earlier versions.
    """
    amplitude = getattr(proc, "amplitude", None)
    law = getattr(amplitude, "cache_key", lambda: ("laplace",))()
    if tuple(law) == ("laplace",):
        return None
    parts = [float(v).hex() if isinstance(v, numbers.Real) and not isinstance(v, bool) else str(v)
             for v in law]
    version = getattr(amplitude, "laws_version", 1)
    if version != 1:  # the numerics of the law changed: tables of older code are not reused
        parts.append(f"laws={version}")
    return "amplitude=" + ",".join(parts)


def _cache_key(source, c_lo, c_hi, rtol):
    """The key string of a table: process, amplitude law, clock-time range, rtol, source."""
    proc = source.proc
    fields = [f"format={FORMAT_VERSION}", f"n={_N}", f"dim={proc.dim}"]
    for name, val in (("theta", proc.theta), ("diffusion", proc.diffusion),
                      ("jump_rate", proc.jump_rate), ("jump_var", proc.jump_var),
                      ("t_lo", c_lo), ("t_hi", c_hi), ("rtol", rtol)):
        fields.append(f"{name}={float(val).hex()}")
    amplitude = _amplitude_field(proc)
    if amplitude is not None:
        fields.append(amplitude)
    fields += [f"{name}={val}" for name, val in source.key_fields()]
    return ";".join(fields)


def _cache_directory(cache_dir):
    if cache_dir is None:
        cache_dir = os.environ.get(_CACHE_ENV) or os.path.join(os.path.expanduser("~"), ".cache",
                                                                "levyscore")
    return os.fspath(cache_dir)


def _checksum(key, arrays):
    digest = hashlib.sha256(key.encode())
    for name in _ARRAY_FIELDS:
        a = np.ascontiguousarray(arrays[name])
        digest.update(name.encode())
        digest.update(str(a.dtype).encode())
        digest.update(repr(a.shape).encode())
        digest.update(a.tobytes())
    return digest.hexdigest()


def _tree_is_consistent(arrays):
    """Structural checks of a loaded table (indices in range, finite numbers)."""
    params, roots, split = arrays["params"], arrays["roots"], arrays["split"]
    value, child, leaf_of = arrays["value"], arrays["child"], arrays["leaf_of"]
    boxes, coef, stats = arrays["boxes"], arrays["coef"], arrays["stats"]
    n_nodes = split.shape[0]
    n_leaves = boxes.shape[0]
    ok = (params.shape == (_N_PARAMS,) and params.dtype == np.float64
          and roots.shape == (2,) and roots.dtype == np.int64
          and split.dtype == np.int64 and value.dtype == np.float64
          and child.dtype == np.int64 and leaf_of.dtype == np.int64
          and value.shape == child.shape == leaf_of.shape == (n_nodes,)
          and boxes.shape == (n_leaves, 4) and coef.shape == (n_leaves, _N, _N)
          and stats.shape == (4,) and stats.dtype == np.float64)
    if not ok:
        return False
    ok = (roots[0] >= 1 and roots[1] >= 1 and roots[0] * roots[1] <= n_nodes
          and np.all(np.isfinite(params)) and np.all(np.isfinite(value))
          and np.all(np.isfinite(boxes)) and np.all(np.isfinite(coef))
          and np.all(np.isfinite(stats))
          and np.all((split >= -1) & (split <= 1)))
    if not ok:
        return False
    internal = split >= 0
    ch = child[internal]
    if np.any(ch <= np.flatnonzero(internal)) or np.any(ch + 1 >= n_nodes):
        return False
    lv = leaf_of[~internal]
    return bool(np.all((lv >= 0) & (lv < n_leaves)) and np.unique(lv).shape[0] == n_leaves)



def _load(path, key, rtol):
    """Arrays of a valid cache file for ``key``, or None (missing, corrupt or mismatched)."""
    if not os.path.exists(path):
        return None
    try:
        with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as f:
            if str(f["key"][()]) != key:
                return None
            arrays = {k: np.array(f[k]) for k in _ARRAY_FIELDS}
            checksum = str(f["checksum"][()])
    except Exception:  # any unreadable file is rebuilt, never trusted
        return None
    if checksum != _checksum(key, arrays) or not _tree_is_consistent(arrays):
        return None
    if not arrays["stats"][0] <= rtol:
        return None
    return arrays


def _save(path, key, arrays):
    """Write the table atomically: a temporary file in the same folder, then os.replace."""
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    payload = {k: arrays[k] for k in _ARRAY_FIELDS}
    fd, tmp = tempfile.mkstemp(prefix=".scoretable-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, key=np.array(key), checksum=np.array(_checksum(key, payload)), **payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
