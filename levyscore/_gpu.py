"""Lazy loading and launching of the CUDA kernels of ``kernels/`` with CuPy.

Importing this module never imports CuPy; the first :func:`module` call does. Each ``.cu``
file is compiled once per device and options (CuPy's ``RawModule``, NVRTC) and memoised, as
``cupyx.scipy.ndimage`` does with its Voronoi kernels. Kernels are ``extern "C"`` with a dtype
suffix (``bessel_k_ratio_f64``), so no ``name_expressions`` are needed.

Headers are inlined here rather than found through ``-I``: CuPy's on-disk cache is keyed by
the source text and the options, so a header edit must change the source text it sees.

This module is the generic loader: it imports nothing of levyscore. The kernels and their
argument lists are described by :mod:`levyscore._registry` (whose records :func:`function`,
:func:`launch` and :func:`pack_args` take); each family's device path lives next to its CPU
path, and :mod:`levyscore._backend` picks between them. The kernels are
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

__all__ = ["PARITY_OPTIONS", "import_cupy", "kernels_dir", "source", "module", "function",
           "launch", "pack_args"]

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


def import_cupy():
    """The ``cupy`` module (ImportError with the install hint when it is missing)."""
    try:
        import cupy
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("levyscore's GPU kernels need CuPy: pip install 'levyscore[gpu]'"
                          ) from exc
    return cupy


def module(filename, options=PARITY_OPTIONS):
    """The compiled ``cupy.RawModule`` of ``filename`` on the current device (memoised)."""
    cupy = import_cupy()
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


def function(info, dtype, options=PARITY_OPTIONS):
    """The ``cupy.RawKernel`` ``<name>_<dtype>`` of the registry record ``info``."""
    if dtype not in info.dtypes:
        raise ValueError(f"kernel {info.name!r} has variants {info.dtypes}, not {dtype!r}")
    return module(info.source, options).get_function(f"{info.name}_{dtype}")


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


def launch(info, dtype, n, values, options=PARITY_OPTIONS):
    """Run kernel ``<name>_<dtype>`` of the registry record ``info`` over ``n`` elements with
    arguments ``values`` (a dict by name; :func:`pack_args` orders and checks them).

    Arrays must already be CuPy arrays on the current device.
    """
    kernel = function(info, dtype, options)
    blocks = max(1, min(_MAX_BLOCKS, math.ceil(int(n) / BLOCK)))
    kernel((blocks,), (BLOCK,), pack_args(info, dtype, values))
