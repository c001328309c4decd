"""Lazy loading and launching of the CUDA kernels of ``kernels/`` with CuPy.

Importing this module never imports CuPy; the first :func:`module` call does. Each ``.cu``
file is compiled once per device and options (CuPy's ``RawModule``, NVRTC) and memoised, as
``cupyx.scipy.ndimage`` does with its Voronoi kernels. Kernels are ``extern "C"`` with a dtype
suffix (``bessel_k_ratio_f64``), so no ``name_expressions`` are needed.

Headers are inlined here rather than found through ``-I``: CuPy's on-disk cache is keyed by
the source text and the options, so a header edit must change the source text it sees.

The kernels and their argument lists are described by :mod:`levyscore._registry`. They are
compiled with ``--fmad=false`` (:data:`PARITY_OPTIONS`): Numba never fuses a multiply and
an add, so a fused device build could not match the CPU bit for bit where libm agrees. CuPy
appends ``-ftz=true`` and ``-arch=compute_XX`` itself; flush-to-zero only touches float32
operations, and the kernels compute in float64, so it shows only as float32 results below
2**-126 stored as zero.
"""
import math
import re
import threading
from pathlib import Path

import numpy as np

from . import _registry

__all__ = ["PARITY_OPTIONS", "kernels_dir", "source", "module", "function", "launch",
           "pack_args"]

#: NVRTC options of every levyscore module (C++17; no fused multiply-add, see above).
PARITY_OPTIONS = ("--std=c++17", "--fmad=false")
#: Threads per block of :func:`launch`; the kernels use grid-stride loops, so any value works.
BLOCK = 256
_MAX_BLOCKS = 65535

_INCLUDE = re.compile(r'^[ \t]*#[ \t]*include[ \t]*"([^"]+)"[ \t]*$', re.MULTILINE)
_lock = threading.Lock()
_modules = {}


def kernels_dir():
    """Folder of the CUDA sources: the installed ``levyscore.kernels`` package, or the
    top-level ``kernels/`` folder of a source checkout.

    Raises
    ------
    FileNotFoundError
        If neither holds the sources.
    """
    import importlib.util

    spec = importlib.util.find_spec("levyscore.kernels")
    candidates = []
    if spec is not None and spec.submodule_search_locations:
        candidates += [Path(p) for p in spec.submodule_search_locations]
    candidates.append(Path(__file__).resolve().parent.parent / "kernels")
    for folder in candidates:
        if (folder / "common.cuh").is_file():
            return folder
    raise FileNotFoundError(
        "levyscore's CUDA sources (kernels/*.cuh, *.cu) were not found; looked in "
        + ", ".join(str(c) for c in candidates))


def source(filename, folder=None):
    """Text of ``filename`` with its local ``#include "..."`` files inlined, each once.

    ``#line`` directives keep NVRTC's error messages pointing at the original files.
    """
    folder = Path(folder) if folder is not None else kernels_dir()
    seen = set()

    def expand(name):
        if name in seen:
            return ""
        seen.add(name)
        path = folder / name
        if not path.is_file():
            raise FileNotFoundError(f"{path} (included by a levyscore kernel) does not exist")
        text = path.read_text()
        parts = []
        last = 0
        for match in _INCLUDE.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            parts.append(text[last:match.start()])
            parts.append(f'#line 1 "{match.group(1)}"\n')
            parts.append(expand(match.group(1)))
            parts.append(f'\n#line {line + 1} "{name}"')
            last = match.end()
        parts.append(text[last:])
        return "".join(parts)

    return f'#line 1 "{filename}"\n' + expand(filename)


def _cupy():
    try:
        import cupy
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("levyscore's GPU kernels need CuPy: pip install 'levyscore[gpu]'"
                          ) from exc
    return cupy


def module(filename, options=PARITY_OPTIONS):
    """The compiled ``cupy.RawModule`` of ``filename`` on the current device (memoised)."""
    cupy = _cupy()
    device = cupy.cuda.runtime.getDevice()
    key = (filename, device, tuple(options))
    with _lock:
        mod = _modules.get(key)
        if mod is None:
            mod = cupy.RawModule(code=source(filename), options=tuple(options),
                                 backend="nvrtc")
            mod.compile()
            _modules[key] = mod
    return mod


def function(name, dtype, options=PARITY_OPTIONS):
    """The ``cupy.RawKernel`` ``<name>_<dtype>`` of the registry record ``name``."""
    info = _registry.get(name)
    if dtype not in info.dtypes:
        raise ValueError(f"kernel {name!r} has variants {info.dtypes}, not {dtype!r}")
    return module(info.source, options).get_function(f"{name}_{dtype}")


_SCALAR_TYPES = {"i64": np.int64, "u64": np.uint64, "u32": np.uint32, "f64": np.float64}
_POINTER_DTYPES = {"f64*": np.float64, "i64*": np.int64, "u32*": np.uint32}
_STORAGE_DTYPES = {"f64": np.float64, "f32": np.float32}


def pack_args(info, dtype, values):
    """Kernel arguments of record ``info`` in signature order, from a dict by name.

    Scalars become the numpy scalar of their C type (CuPy passes them by value with that
    type); arrays are checked for dtype and contiguity, not copied.
    """
    packed = []
    for arg in info.args:
        if arg.name not in values:
            raise KeyError(f"kernel {info.name}_{dtype}: missing argument {arg.name!r}")
        value = values[arg.name]
        if not arg.pointer:
            packed.append(_SCALAR_TYPES[arg.kind](value))
            continue
        want = _STORAGE_DTYPES[dtype] if arg.kind == "T*" else _POINTER_DTYPES[arg.kind]
        if value.dtype != want or not value.flags.c_contiguous:
            raise TypeError(f"kernel {info.name}_{dtype}: {arg.name} must be a C-contiguous "
                            f"{np.dtype(want).name} array, got {value.dtype}")
        packed.append(value)
    return tuple(packed)


def launch(name, dtype, n, values, options=PARITY_OPTIONS):
    """Run kernel ``<name>_<dtype>`` over ``n`` elements with arguments ``values`` (a dict).

    Arrays must already be CuPy arrays on the current device.
    """
    info = _registry.get(name)
    kernel = function(name, dtype, options)
    blocks = max(1, min(_MAX_BLOCKS, math.ceil(int(n) / BLOCK)))
    kernel((blocks,), (BLOCK,), pack_args(info, dtype, values))


# ---------------------------------------------------------------------------
# Device paths of the public API. The callers (levyscore._laws, ._process, ._reverse) pick
# them through levyscore._backend.array_module; the arrays here are already CuPy arrays and
# nothing is copied to the host.
# ---------------------------------------------------------------------------

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


def as_device_points(y, dim, name="y"):
    """A C-contiguous float32/float64 CuPy array of shape (..., dim) with finite entries.

    Integer arrays become float64. The finiteness check reduces on the device and reads one
    boolean back (no data transfer).
    """
    cupy = _cupy()
    if y.dtype.kind in "iu":
        y = y.astype(cupy.float64)
    storage(y)
    if y.ndim == 0 or y.shape[-1] != dim:
        raise ValueError(f"{name} must have shape (..., {dim}) (last axis = process dimension), "
                         f"got shape {y.shape}")
    if y.size and not bool(cupy.isfinite(y).all()):
        raise ValueError(f"{name} must be finite (found NaN or inf)")
    return cupy.ascontiguousarray(y)


def device_times(process, t, n):
    """Clock times for ``n`` device rows: a float (``t`` a scalar, shared by every row) or a
    float64 CuPy array of shape (n,) (``t`` a CuPy array broadcasting to (n,))."""
    from ._validation import check_time

    if not hasattr(t, "__cuda_array_interface__"):
        return float(process.clock(check_time(t)))
    cupy = _cupy()
    tt = cupy.asarray(t, dtype=cupy.float64)
    if tt.size and not bool(((tt > 0) & cupy.isfinite(tt)).all()):
        raise ValueError("t must be finite and positive (t > 0)")
    if process.schedule is not None:
        raise ValueError("device arrays of times are supported without a noise schedule only; "
                         "pass a scalar t, or compute on the host")
    try:
        return cupy.ascontiguousarray(cupy.broadcast_to(tt, (n,)))
    except ValueError:
        raise ValueError(f"t of shape {tt.shape} does not broadcast against the {n} points "
                         "of y") from None


def _device_t(t):
    """(t as a float64 CuPy array of shape (1,) or (n,), per_row flag)."""
    cupy = _cupy()
    if isinstance(t, float):
        return cupy.asarray([t], dtype=cupy.float64), 0
    return t, 1


def closed_form_score(process, y2, t):
    """Closed-form generalized score on the device (kernel ``closed_form_score``).

    Parameters
    ----------
    process : JumpDiffusion
        Route ``"closed-form"`` (checked by the caller).
    y2 : cupy.ndarray, shape (n, D), float32 or float64, C-contiguous
    t : float or cupy.ndarray, float64, shape (n,)
        Clock time shared by every row, or one per row (see :func:`device_times`).

    Returns
    -------
    cupy.ndarray, shape (n, D), dtype of ``y2``
    """
    cupy = _cupy()
    n, dim = y2.shape
    out = cupy.empty_like(y2)
    if n == 0:
        return out
    lw, latom, atom, per_row = _weight_tables(process, t, n)
    launch("closed_form_score", storage(y2), n,
           {"n": n, "dim": dim, "y": y2, "lam": process.jump_rate, "b": process.b,
            "m": process._m_int, "latom": latom, "atom": atom, "lw": lw, "per_row": per_row,
            "out": out})
    return out


def _weight_tables(process, t, n):
    """``(lw, latom, atom, per_row)`` of the closed form at the clock time(s) ``t`` (a float:
    one table, from the Numba function the CPU path uses; a CuPy array: one per row, by the
    ``weight_table`` kernel)."""
    from ._closed_form import _weight_table

    cupy = _cupy()
    m = process._m_int
    per_row = int(not isinstance(t, float))
    if per_row:
        lw = cupy.empty((n, 2 * (m + 1)), dtype=cupy.float64)
        latom = cupy.empty(n, dtype=cupy.float64)
        atom = cupy.empty(n, dtype=cupy.float64)
        launch("weight_table", "f64", n, {"n": n, "t": t, "theta": process.theta,
                                           "lam": process.jump_rate, "m": m, "lw_out": lw,
                                           "latom_out": latom, "atom_out": atom})
    else:
        host = np.empty((2, m + 1))
        la, at = _weight_table(t, process.theta, process.jump_rate, m, host)
        lw = cupy.asarray(host.reshape(1, -1))
        latom = cupy.asarray([la], dtype=cupy.float64)
        atom = cupy.asarray([at], dtype=cupy.float64)
    return lw, latom, atom, per_row


def closed_form_logpdf(process, y2, t):
    """Closed-form log density on the device (kernel ``point_closed_form``).

    The radii come from :func:`levyscore._validation.row_norms` on the device (the CPU
    path's operations, in float64 whatever the dtype of ``y2``); as on the CPU, a radius
    with ``r / b`` beyond the float range has log p = -inf.

    ``process``, ``y2`` and ``t`` as for :func:`closed_form_score`. Returns a CuPy array of
    shape (n,) and the dtype of ``y2`` (a float32 result is the float64 one rounded once).
    """
    from ._validation import row_norms

    cupy = _cupy()
    n, dim = y2.shape
    logp = cupy.empty(n, dtype=cupy.float64)
    if n == 0:
        return logp.astype(y2.dtype)
    r = cupy.ascontiguousarray(row_norms(y2.astype(cupy.float64), xp=cupy))
    h = cupy.empty(n, dtype=cupy.float64)
    lw, latom, _, per_row = _weight_tables(process, t, n)
    launch("point_closed_form", "f64", n,
           {"n": n, "r": r, "dim": dim, "lam": process.jump_rate, "b": process.b,
            "m": process._m_int, "latom": latom, "lw": lw, "per_row": per_row,
            "want_logp": 1, "logp_out": logp, "h_out": h})
    logp[cupy.isinf(r / process.b)] = -cupy.inf
    return logp if y2.dtype == cupy.float64 else logp.astype(y2.dtype)


def forward(key, x0, n, dim, dtype, t, theta, diffusion, jump_rate, jump_var, *,
            start=0, index=0, reverse=False, amplitude=None, with_counts=False):
    """The forward draw (kernel ``forward``) on the device: X (or Y when ``x0`` is None).

    Same key, counters and streams as :func:`levyscore._forward._forward_kernel`, so the
    device draw reproduces the CPU draw up to the libdevice tolerance of the registry.
    ``reverse=True`` reads the reverse-time streams (the noise of reverse step ``index``);
    ``t`` is a float (shared) or a float64 CuPy array of shape (n,). ``amplitude`` is the
    jump amplitude law (:mod:`levyscore.amplitudes`; None is Laplace): Laplace launches the
    kernel ``forward``, any other law ``forward_law`` with its ``kernel_args()`` and the mark
    stream ``DOMAIN_FORWARD_MARK`` (``DOMAIN_REVERSE_MARK`` with ``reverse=True``).

    Returns
    -------
    cupy.ndarray, shape (n, dim), storage type ``dtype`` (``"f64"`` or ``"f32"``)
        With ``with_counts=True``, also the jump counts N (int64, shape (n,)).
    """
    from . import _philox
    from ._forward import _law_args, check_jump_work
    from .amplitudes._dispatch import LAW_LAPLACE

    cupy = _cupy()
    store = cupy.float64 if dtype == "f64" else cupy.float32
    out = cupy.empty((n, dim), dtype=store)
    w = cupy.empty(n, dtype=store)
    counts = cupy.empty(n, dtype=cupy.int64)
    if n == 0:
        return (out, counts) if with_counts else out
    has_x0 = x0 is not None
    gauss = _philox.DOMAIN_REVERSE_GAUSS if reverse else _philox.DOMAIN_FORWARD_GAUSS
    jump = _philox.DOMAIN_REVERSE_JUMP if reverse else _philox.DOMAIN_FORWARD_JUMP
    law, law_param = _law_args(amplitude)
    k0, k1 = (int(v) for v in key)

    t_host = float(t.max().get()) if hasattr(t, "__cuda_array_interface__") else float(t)
    check_jump_work(t_host, float(theta), jump_rate, amplitude=amplitude)
    t, per_row = _device_t(t)
    values = {"n": n, "dim": dim, "k0": k0, "k1": k1, "x0": x0 if has_x0 else out,
              "has_x0": int(has_x0), "t": t, "t_per_row": per_row, "theta": float(theta),
              "diffusion": float(diffusion), "jump_rate": float(jump_rate),
              "jump_var": float(jump_var), "start": int(start), "index": int(index),
              "dom_gauss": gauss, "dom_jump": jump, "out": out, "w_out": w, "n_out": counts}
    if law == LAW_LAPLACE:
        launch("forward", dtype, n, values)
    else:
        mark = _philox.DOMAIN_REVERSE_MARK if reverse else _philox.DOMAIN_FORWARD_MARK
        launch("forward_law", dtype, n, {**values, "dom_mark": mark, "law": int(law),
                                          "law_param": float(law_param)})
    return (out, counts) if with_counts else out


def forward_path(key, x0, times, theta, diffusion, jump_rate, jump_var, *, start=0,
                 amplitude=None):
    """Exact path values on a time grid on the device (kernel ``forward_path``).

    Same key, counters and sub-streams as :func:`levyscore._forward.forward_path`.

    Parameters
    ----------
    key : (int, int)
    x0 : cupy.ndarray, shape (n, dim), float32 or float64, C-contiguous
    times : ndarray, shape (L,), float64
        Strictly increasing clock times > 0 (host; checked by the caller).
    theta, diffusion, jump_rate, jump_var : float
    start : int
    amplitude : AmplitudeLaw or None

    Returns
    -------
    cupy.ndarray, shape (n, L, dim), dtype of ``x0``
        Computed in float64 (the path feeds on its own values) and, for float32 ``x0``,
        rounded once at the end.
    """
    from ._forward import _law_args, check_jump_work

    cupy = _cupy()
    n, dim = x0.shape
    times = np.ascontiguousarray(times, dtype=np.float64)
    out = cupy.empty((n, times.shape[0], dim), dtype=cupy.float64)
    if n == 0:
        return out.astype(x0.dtype)
    check_jump_work(np.diff(times, prepend=0.0), float(theta), jump_rate, name="times",
                    amplitude=amplitude)
    law, law_param = _law_args(amplitude)
    k0, k1 = (int(v) for v in key)
    x64 = cupy.ascontiguousarray(x0.astype(cupy.float64))
    launch("forward_path", "f64", n,
           {"n": n, "dim": dim, "k0": k0, "k1": k1, "x0": x64,
            "times": cupy.asarray(times, dtype=cupy.float64), "n_times": times.shape[0],
            "theta": float(theta), "diffusion": float(diffusion), "jump_rate": float(jump_rate),
            "jump_var": float(jump_var), "start": int(start), "law": int(law),
            "law_param": float(law_param), "out": out})
    return out if x0.dtype == cupy.float64 else out.astype(x0.dtype)


def combine(a, x, c, s, noise=None):
    """``a x + c s (+ noise)`` on the device (kernels ``combine`` / ``combine_noise``).

    ``x``, ``s`` and ``noise`` are C-contiguous CuPy arrays of one shape and float dtype.
    """
    cupy = _cupy()
    out = cupy.empty_like(x)
    n = x.size
    if n == 0:
        return out
    values = {"n": n, "a": float(a), "x": x, "c": float(c), "s": s, "out": out}
    if noise is None:
        launch("combine", storage(x), n, values)
    else:
        launch("combine_noise", storage(x), n, {**values, "noise": noise})
    return out
