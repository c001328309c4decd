"""Host emulation of the CUDA launch model for the kernels of ``kernels/`` (tests only).

Each ``.cu`` text (headers inlined, exactly as CuPy compiles it: :func:`levyscore._gpu.source`)
is compiled by the host C++ compiler with ``-DLS_EMULATE_DEVICE`` and ``tests/cuda_shim.h``,
so ``kernels/common.cuh`` takes its device branch (the ``__global__`` wrappers and their
grid-stride loops). A launcher is generated per kernel::

    extern "C" void ls_emu_<kernel>(unsigned grid, unsigned block, <the kernel's params>)

which sets ``gridDim``/``blockDim`` and calls the kernel once per (block, thread), in order,
with ``blockIdx``/``threadIdx`` set: every thread runs its own grid-stride loop, as on a
device (the kernels use no shared memory, barriers or atomics, so a serial walk over the
threads is an exact emulation).

:class:`RawModule` stands in for ``cupy.RawModule``: the fake CuPy of
``tests/test_gpu_dispatch_fake.py`` uses it, so :func:`levyscore._gpu.launch` and
:func:`levyscore._gpu.pack_args` run unchanged and launch the real CUDA source.
:func:`fake_cupy` is that fake CuPy (NumPy memory posing as device arrays); with
``LEVYSCORE_EMULATE_CUPY=1`` ``tests/conftest.py`` installs it for a whole session, so the
``gpu``-marked suites (``tests/test_gpu_parity.py``, ``tests/test_gpu_paths.py``) run on the
emulated device.
"""
import ctypes
import hashlib
import re
import shutil
import subprocess
import tempfile
import types
from pathlib import Path

import numpy as np

SHIM = Path(__file__).resolve().parent / "cuda_shim.h"
CXX_FLAGS = ["-std=c++17", "-O2", "-shared", "-fPIC", "-ffp-contract=off", "-Wall", "-Wextra",
             "-DLS_EMULATE_DEVICE", "-include", str(SHIM)]
_KERNEL_DEF = re.compile(r"^LS_KERNEL\s+(\w+)\s*\(([^)]*)\)", re.S | re.M)
_CTYPES = {np.dtype(np.int64): ctypes.c_longlong, np.dtype(np.uint64): ctypes.c_ulonglong,
           np.dtype(np.uint32): ctypes.c_uint, np.dtype(np.float64): ctypes.c_double}
_built = {}


def kernel_names(text):
    """Names of the ``LS_KERNEL`` definitions in a ``.cu`` text."""
    return [name for name, _ in _KERNEL_DEF.findall(text)]


def launchers(text):
    """C++ source of the launcher ``ls_emu_<kernel>`` of every kernel in ``text``."""
    out = []
    for name, params in _KERNEL_DEF.findall(text):
        names = [p.replace("*", " ").split()[-1] for p in params.split(",")]
        out.append(
            f'extern "C" void ls_emu_{name}(unsigned int ls_grid, unsigned int ls_block, '
            f"{' '.join(params.split())}) {{\n"
            "    gridDim = {ls_grid, 1u, 1u};\n"
            "    blockDim = {ls_block, 1u, 1u};\n"
            "    for (unsigned int ls_b = 0; ls_b < ls_grid; ++ls_b) {\n"
            "        for (unsigned int ls_t = 0; ls_t < ls_block; ++ls_t) {\n"
            "            blockIdx = {ls_b, 0u, 0u};\n"
            "            threadIdx = {ls_t, 0u, 0u};\n"
            f"            {name}({', '.join(names)});\n"
            "        }\n"
            "    }\n"
            "}\n")
    return "\n" + "\n".join(out)


def build(texts):
    """One shared library from ``.cu`` texts (one translation unit each, with launchers),
    compiled once per set of texts in this process; raises if the compiler is missing or
    warns."""
    key = hashlib.sha256("\0".join(texts).encode()).hexdigest()[:20]
    if key in _built:
        return _built[key]
    cxx = shutil.which("g++")
    if cxx is None:
        raise FileNotFoundError("g++ not found: the CUDA emulation needs a host C++ compiler")
    folder = Path(tempfile.mkdtemp(prefix="levyscore_emu_"))
    paths = []
    for i, text in enumerate(texts):
        path = folder / f"unit{i}.cu"
        path.write_text(text + launchers(text))
        paths.append(str(path))
    lib = folder / f"levyscore_emu_{key}.so"
    cmd = [cxx, *CXX_FLAGS, "-x", "c++", *paths, "-o", str(lib)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if done.returncode != 0 or "warning" in done.stderr:
        raise RuntimeError(f"{' '.join(cmd)}\n{done.stderr}")
    _built[key] = ctypes.CDLL(str(lib))
    return _built[key]


def c_arg(value):
    """A packed kernel argument as ctypes: arrays by their data pointer, numpy scalars by
    value with their C type (what CuPy passes)."""
    if isinstance(value, np.ndarray):
        assert value.flags.c_contiguous, "kernel arrays must be C-contiguous"
        return ctypes.c_void_p(value.ctypes.data)
    return _CTYPES[np.dtype(type(value))](value)


def launch(lib, name, grid, block, args):
    """Run kernel ``name`` of ``lib`` over the emulated grid ``grid`` x ``block`` (ints)."""
    fn = getattr(lib, f"ls_emu_{name}")
    fn.restype = None
    fn(ctypes.c_uint(int(grid)), ctypes.c_uint(int(block)), *(c_arg(a) for a in args))


class RawKernel:
    """``cupy.RawKernel`` stand-in: ``kernel(grid, block, args)`` on the emulated grid."""

    def __init__(self, lib, name, launched):
        self.lib, self.name, self.launched = lib, name, launched

    def __call__(self, grid, block, args, **kwargs):
        assert not kwargs, f"unsupported launch options {kwargs}"
        assert len(grid) == 1 and len(block) == 1, (grid, block)
        base, _, dtype = self.name.rpartition("_")
        self.launched.append((base, dtype))
        RawModule.shapes.append((int(grid[0]), int(block[0])))
        launch(self.lib, self.name, grid[0], block[0], args)


class RawModule:
    """``cupy.RawModule`` stand-in compiling ``code`` for the host emulation."""

    launched = []  # (kernel, dtype) of every launch; a test may replace the list
    shapes = []  # (grid, block) of every launch

    def __init__(self, code, options=(), backend="nvrtc"):
        self.code, self.options = code, tuple(options)
        self.lib = None

    def compile(self):
        self.lib = build([self.code])

    def get_function(self, name):
        if self.lib is None:
            self.compile()
        if name not in kernel_names(self.code):
            raise AttributeError(f"no kernel {name!r} in this module")
        return RawKernel(self.lib, name, RawModule.launched)


class FakeDeviceArray(np.ndarray):
    """NumPy memory posing as a CuPy array."""

    @property
    def __cuda_array_interface__(self):
        return {}

    def get(self):
        return np.array(self)


FakeDeviceArray.__module__ = "cupy"


def device_array(a, dtype=None):
    """A copy of ``a`` as a :class:`FakeDeviceArray`."""
    return np.array(a, dtype=dtype).view(FakeDeviceArray)


class Event:
    """``cupy.cuda.Event`` stand-in: host wall-clock time stamps."""

    time = 0.0

    def record(self):
        import time

        self.time = time.perf_counter()

    def synchronize(self):
        pass


class CUDARuntimeError(RuntimeError):
    """Stand-in for ``cupy.cuda.runtime.CUDARuntimeError`` (never raised here)."""


def fake_cupy(emulated=True):
    """A module object standing in for ``cupy``: arrays are :class:`FakeDeviceArray`, one
    device, and (``emulated``) ``RawModule`` compiles the sources for the host emulation."""
    cp = types.ModuleType("cupy")
    cp.ndarray = FakeDeviceArray
    cp.float64, cp.float32, cp.int64, cp.uint32 = np.float64, np.float32, np.int64, np.uint32
    cp.nan, cp.inf = np.nan, np.inf
    cp.asarray = lambda a, dtype=None: (a if isinstance(a, FakeDeviceArray) and dtype is None
                                        else device_array(a, dtype))
    cp.empty = lambda shape, dtype=np.float64: np.empty(shape, dtype=dtype).view(FakeDeviceArray)
    cp.zeros = lambda shape, dtype=np.float64: np.zeros(shape, dtype=dtype).view(FakeDeviceArray)
    cp.full = lambda shape, value, dtype=None: np.full(shape, value, dtype=dtype).view(
        FakeDeviceArray)
    cp.empty_like = lambda a: np.empty_like(np.asarray(a)).view(FakeDeviceArray)
    cp.ascontiguousarray = lambda a: np.ascontiguousarray(a).view(FakeDeviceArray)
    cp.broadcast_to = lambda a, shape: np.broadcast_to(np.asarray(a), shape).view(
        FakeDeviceArray)
    cp.isfinite, cp.isinf = np.isfinite, np.isinf
    cp.sqrt, cp.einsum, cp.max, cp.abs, cp.frexp, cp.ldexp, cp.where, cp.exp = (
        np.sqrt, np.einsum, np.max, np.abs, np.frexp, np.ldexp, np.where, np.exp)
    cp.asnumpy = lambda a, **kwargs: np.array(a)
    # what Dask registers for CuPy-backed arrays (dask.array.backends.register_cupy)
    cp.concatenate = lambda arrays, axis=0, **kwargs: np.concatenate(
        [np.asarray(a) for a in arrays], axis=axis).view(FakeDeviceArray)
    cp.take = lambda a, indices, axis=None, **kwargs: np.take(
        np.asarray(a), indices, axis=axis).view(FakeDeviceArray)
    cp.tensordot = lambda a, b, axes=2: np.tensordot(np.asarray(a), np.asarray(b), axes).view(
        FakeDeviceArray)
    cp.flatnonzero = lambda a: np.flatnonzero(np.asarray(a)).view(FakeDeviceArray)
    stream = types.SimpleNamespace(synchronize=lambda: None)
    runtime = types.SimpleNamespace(getDevice=lambda: 0, getDeviceCount=lambda: 1,
                                    CUDARuntimeError=CUDARuntimeError,
                                    getDeviceProperties=lambda device: {
                                        "name": b"levyscore host emulation"})
    cp.cuda = types.SimpleNamespace(runtime=runtime, get_current_stream=lambda: stream,
                                    Event=Event,
                                    get_elapsed_time=lambda a, b: 1e3 * (b.time - a.time))
    # what the GPU benchmark (levyscore._bench.bench_gpu) uses besides the kernels
    cp.random = types.SimpleNamespace(default_rng=lambda seed: types.SimpleNamespace(
        standard_normal=lambda shape, dtype=np.float64: device_array(
            np.random.default_rng(seed).standard_normal(shape), dtype)))
    cp.get_default_memory_pool = lambda: types.SimpleNamespace(free_all_blocks=lambda: None)
    if emulated:
        cp.RawModule = RawModule
    return cp
