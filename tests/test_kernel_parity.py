"""CPU parity of the CUDA kernels: the ``kernels/`` sources built by the host C++ compiler.

Every ``.cu`` file compiles as plain C++ (``kernels/common.cuh``: ``__host__ __device__``
drops out and each kernel becomes a serial loop over its elements), so the scalar functions
of the ``.cuh`` files *and* the kernel bodies (indexing, strides, tables per row) run here,
without a GPU, and are compared with their Numba twins on drawn inputs.

Build: ``g++ -std=c++17 -O2 -shared -fPIC -ffp-contract=off`` on exactly the text CuPy
compiles (:func:`levyscore._gpu.source`, headers inlined). ``-ffp-contract=off`` because
Numba (fastmath off) never fuses a multiply and an add, while GCC fuses by default
(``-ffp-contract=fast``) wherever the target has FMA; ``-march`` is left at its default.

Tolerance: none. Numba calls the same glibc libm as the C++ build (``math.log`` -> ``log``,
``math.lgamma`` -> ``lgamma``, ...), every IEEE operation is mirrored in the same order, so
every float64 result must be bit-identical (NaN positions equal, signs of zeros equal), and
every float32 result must be the float64 result rounded once. A single ulp of difference is a
mirroring bug (operation order, an integer division, a missing conversion), which is what
this file is for. Device tolerances (libdevice is not glibc) live in the registry and are
used by ``tests/test_gpu_parity.py``, which reuses the cases below.
"""
import ctypes
import importlib
import math
import re
import shutil
import subprocess
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from levyscore import _closed_form, _forward, _gpu, _philox, _ratio_table, _registry
from levyscore._registry import KERNELS

MASK32 = 0xFFFFFFFF
CXX_FLAGS = ["-std=c++17", "-O2", "-shared", "-fPIC", "-ffp-contract=off", "-Wall", "-Wextra"]
# Random123's known-answer vectors (kat_vectors, philox4x32 with 10 rounds).
PHILOX_KAT = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((MASK32,) * 4, (MASK32, MASK32), (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
]
STORAGE = {"f64": np.float64, "f32": np.float32}
POINTER_DTYPES = {"f64*": np.float64, "i64*": np.int64, "u32*": np.uint32}
CTYPES = {"i64": ctypes.c_longlong, "u64": ctypes.c_ulonglong, "u32": ctypes.c_uint,
          "f64": ctypes.c_double}


# ---------------------------------------------------------------------------
# Building and calling the host library
# ---------------------------------------------------------------------------


def cu_files():
    return sorted({k.source for k in KERNELS})


@pytest.fixture(scope="module")
def host_lib(tmp_path_factory):
    """The ``.cu`` files (headers inlined, as CuPy sees them) as one host shared library."""
    cxx = shutil.which("g++")
    if cxx is None:
        pytest.skip("g++ not found: the host build of kernels/ cannot be checked")
    folder = tmp_path_factory.mktemp("kernels_host")
    paths = []
    for name in cu_files():
        path = folder / name
        path.write_text(_gpu.source(name))
        paths.append(str(path))
    lib = folder / "levyscore_kernels_host.so"
    cmd = [cxx, *CXX_FLAGS, "-x", "c++", *paths, "-o", str(lib)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{' '.join(cmd)}\n{done.stderr}"
    assert "warning" not in done.stderr, done.stderr
    return ctypes.CDLL(str(lib))


@pytest.fixture(scope="module")
def emu_lib():
    """The ``.cu`` files built for the host emulation of the device launch
    (tests/cuda_emulation.py): the ``__global__`` wrappers and their grid-stride loops."""
    import cuda_emulation

    if shutil.which("g++") is None:
        pytest.skip("g++ not found: the CUDA emulation cannot be built")
    return cuda_emulation.build([_gpu.source(name) for name in cu_files()])


def alloc_outputs(info, dtype, shapes):
    """Zero-filled output arrays of record ``info`` (shapes by name)."""
    out = {}
    for arg in info.args:
        if arg.out:
            want = STORAGE[dtype] if arg.kind == "T*" else POINTER_DTYPES[arg.kind]
            out[arg.name] = np.zeros(shapes[arg.name], dtype=want)
    return out


def run_host(lib, info, dtype, case):
    """Run ``<name>_<dtype>`` of the host library on ``case``; returns its outputs."""
    outputs = alloc_outputs(info, dtype, case.out_shapes)
    values = {**case.inputs(dtype), **outputs}
    fn = getattr(lib, f"{info.name}_{dtype}")
    fn.restype = None
    fn.argtypes = [ctypes.c_void_p if a.pointer else CTYPES[a.kind] for a in info.args]
    args = []
    for arg in info.args:
        value = values[arg.name]
        if arg.pointer:
            want = STORAGE[dtype] if arg.kind == "T*" else POINTER_DTYPES[arg.kind]
            assert value.dtype == want and value.flags.c_contiguous, (arg.name, value.dtype)
            args.append(value.ctypes.data_as(ctypes.c_void_p))
        else:
            args.append(value)
    fn(*args)
    return outputs


def run_emulated(lib, info, dtype, case, grid, block):
    """Run ``<name>_<dtype>`` through the emulated launch ``grid`` x ``block`` (threads in
    blocks, each on its own grid-stride loop) with the arguments :func:`levyscore._gpu.pack_args`
    builds; returns its outputs."""
    import cuda_emulation

    outputs = alloc_outputs(info, dtype, case.out_shapes)
    values = {**case.inputs(dtype), **outputs}
    cuda_emulation.launch(lib, f"{info.name}_{dtype}", grid, block,
                          _gpu.pack_args(info, dtype, values))
    return outputs


def grid_shapes(n):
    """Launch shapes with fewer threads than elements (one thread, and 2 blocks of 3), as
    many (one block of n), and more (a partial last block), for n elements."""
    n = max(int(n), 1)
    return [(1, 1), (2, 3), (1, n), (n // 32 + 2, 32)]


# ---------------------------------------------------------------------------
# Cases: inputs, output shapes and the Numba results, per kernel
# ---------------------------------------------------------------------------


@dataclass
class Case:
    """One launch: ``n`` elements, inputs (float64 values of float arrays), expected outputs.

    Float arrays of kind ``T*`` are given as the float64 values *after* rounding to every
    storage type used (see :func:`stored`), so one set of expected values serves f64 and f32.
    """

    info: object
    n: int
    scalars: dict
    arrays: dict
    out_shapes: dict
    expected: dict

    def inputs(self, dtype):
        values = dict(self.scalars)
        kinds = {a.name: a.kind for a in self.info.args}
        for name, arr in self.arrays.items():
            want = STORAGE[dtype] if kinds[name] == "T*" else POINTER_DTYPES[kinds[name]]
            values[name] = np.ascontiguousarray(arr, dtype=want)
        return values


def from_twin(twin, n, scalars, arrays, out_shapes, info=None):
    """A :class:`Case` of record ``info`` (default ``twin``) whose expected outputs come from
    the Numba loop twin of record ``twin`` (``twin.twin``: that kernel's own argument list;
    ``stationary_law`` with law 0 for ``stationary``, say), run on the float64 inputs."""
    info = twin if info is None else info
    case = Case(info, n, scalars, arrays, out_shapes, {})
    values = Case(twin, n, scalars, arrays, out_shapes, {}).inputs("f64")
    outputs = alloc_outputs(twin, "f64", out_shapes)
    twin.run_twin({**values, **outputs})
    case.expected = outputs
    return case


def stored(values):
    """Float64 values that float32 represents exactly (inputs shared by both variants)."""
    with np.errstate(over="ignore"):
        return np.asarray(values, dtype=np.float64).astype(np.float32).astype(np.float64)


def pick(domain, rng):
    """One scalar from ``domain``: a special value 30% of the time, else a drawn one."""
    if domain.special and rng.random() < 0.3:
        return domain.special[int(rng.integers(len(domain.special)))]
    return domain.draw(rng, len(domain.special) + 1)[-1]


def counters(start, i):
    gi = int(start) + int(i)
    return np.uint64(gi & MASK32), np.uint64(gi >> 32)


def _u64(*values):
    return [np.uint64(int(v)) for v in values]


def case_philox(info, rng, dtype):
    d = info.domains
    cases = []
    for counter, key, expected in PHILOX_KAT:  # Random123's answers, not Numba's
        c = np.array([counter], dtype=np.uint32)
        cases.append(Case(info, 1, {"n": 1, "k0": key[0], "k1": key[1]}, {"c": c},
                          {"out": (1, 4)}, {"out": np.array([expected])}))
    n = 32
    c = np.array(d["c"].draw(rng, 4 * n), dtype=np.uint32).reshape(n, 4)
    rng.shuffle(c.ravel())
    k0, k1 = pick(d["k0"], rng), pick(d["k1"], rng)
    want = np.array([[int(w) for w in info.cpu(*_u64(*row, k0, k1))] for row in c])
    cases.append(Case(info, n, {"n": n, "k0": k0, "k1": k1}, {"c": c}, {"out": (n, 4)},
                      {"out": want}))
    return cases



def case_variate_pair(info, rng, dtype):
    d = info.domains
    n = 48
    start = pick(d["start"], rng)
    domain = pick(d["domain"], rng) if "domain" in d else int(rng.integers(256))
    index, c3, k0, k1 = (pick(d[k], rng) for k in ("index", "c3", "k0", "k1"))
    c2 = _philox.stream_word(domain, index)
    want = np.empty((n, 2))
    for i in range(n):
        want[i] = info.cpu(*counters(start, i), c2, *_u64(c3, k0, k1))
    scalars = dict(n=n, start=start, domain=domain, index=index, c3=c3, k0=k0, k1=k1)
    return [Case(info, n, scalars, {}, {"out": (n, 2)}, {"out": want})]


def case_gamma(info, rng, dtype):
    d = info.domains
    n = 32
    shape, start, index, k0, k1 = (pick(d[k], rng) for k in ("shape", "start", "index", "k0",
                                                              "k1"))
    domain = int(rng.integers(256))
    c2 = _philox.stream_word(domain, index)
    want = np.array([info.cpu(shape, *counters(start, i), c2, *_u64(k0, k1))
                     for i in range(n)])
    scalars = dict(n=n, shape=shape, start=start, domain=domain, index=index, k0=k0, k1=k1)
    return [Case(info, n, scalars, {}, {"out": (n,)}, {"out": want})]


def _bessel_points(info, rng, n_random=64):
    """Every (special nu, special x) pair, then random pairs; float32-representable."""
    dnu, dx = info.domains["nu"], info.domains["x"]
    gnu, gx = np.meshgrid(np.array(dnu.special, dtype=float), np.array(dx.special, dtype=float))
    nu = np.concatenate([gnu.ravel(), dnu.draw(rng, len(dnu.special) + n_random)[-n_random:]])
    x = np.concatenate([gx.ravel(), dx.draw(rng, len(dx.special) + n_random)[-n_random:]])
    # integer and half-integer orders take other paths (Chebyshev fit, closed form)
    snap = rng.random(nu.size) < 0.3
    nu[snap] = np.round(2.0 * nu[snap]) / 2.0
    return stored(nu), stored(x)


def case_bessel(info, rng, dtype):
    nu, x = _bessel_points(info, rng)
    n = nu.size
    if info.name == "log_bessel_k_and_ratio":
        pairs = np.array([info.cpu(a, b) for a, b in zip(nu, x)])
        expected = {"logk_out": pairs[:, 0], "ratio_out": pairs[:, 1]}
        shapes = {"logk_out": (n,), "ratio_out": (n,)}
    else:
        expected = {"out": np.array([info.cpu(a, b) for a, b in zip(nu, x)])}
        shapes = {"out": (n,)}
    return [Case(info, n, {"n": n}, {"nu": nu, "x": x}, shapes, expected)]


def tables(rng, d, n, per_row, m):
    """Weight tables from the Numba _weight_table: (lw of shape (rows, 2, m + 1), latom,
    atom, t), one row per point when ``per_row`` else one."""
    theta, lam = pick(d["theta"], rng), pick(d["lam"], rng)
    rows = n if per_row else 1
    t = np.array([pick(d["t"], rng) for _ in range(rows)], dtype=float)
    lw = np.empty((rows, 2, m + 1))
    latom = np.empty(rows)
    atom = np.empty(rows)
    for i in range(rows):
        latom[i], atom[i] = _closed_form._weight_table(t[i], theta, lam, m, lw[i])
    return lw, latom, atom, t, theta, lam


def case_weight_table(info, rng, dtype):
    d = info.domains
    n = 16
    m = int(pick(d["m"], rng))
    theta, lam = pick(d["theta"], rng), pick(d["lam"], rng)
    t = np.array(d["t"].draw(rng, n), dtype=float)
    lw = np.empty((n, 2, m + 1))
    latom = np.empty(n)
    atom = np.empty(n)
    for i in range(n):  # the scalar function, point by point
        latom[i], atom[i] = info.cpu(t[i], theta, lam, m, lw[i])
    scalars = dict(n=n, theta=theta, lam=lam, m=m)
    shapes = {"lw_out": (n, 2, m + 1), "latom_out": (n,), "atom_out": (n,)}
    case = from_twin(info, n, scalars, {"t": t}, shapes)
    for name, want in (("lw_out", lw), ("latom_out", latom), ("atom_out", atom)):
        assert_bits(case.expected[name], want, f"twin {info.twin_name}.{name}")
    return [case]


def case_window(info, rng, dtype):
    d = info.domains
    n = 64
    dim = np.array(d["dim"].draw(rng, n), dtype=np.int64)
    m = np.array(d["m"].draw(rng, n), dtype=np.int64)
    rng.shuffle(m)
    res = [info.cpu(int(a), int(b)) for a, b in zip(dim, m)]
    expected = {"mu0_out": np.array([r[0] for r in res]),
                "k_out": np.array([r[1:] for r in res], dtype=np.int64)}
    return [Case(info, n, {"n": n}, {"dim": dim, "m": m}, {"mu0_out": (n,), "k_out": (n, 3)},
                 expected)]


def case_radial(info, rng, dtype):
    """h_linear, point_closed_form and h_fast at radii, one table or one per point."""
    d = info.domains
    n = 40
    m = int(pick(d["m"], rng))
    dim = int(pick(d["dim"], rng))
    b = pick(d["b"], rng)
    per_row = int(rng.integers(2))
    lw, latom, atom, _, _, lam = tables(rng, d, n, per_row, m)
    r = stored(d["r"].draw(rng, n))
    want_logp = int(rng.integers(2))
    rows = [lw[i if per_row else 0] for i in range(n)]
    la = [latom[i if per_row else 0] for i in range(n)]
    at = [atom[i if per_row else 0] for i in range(n)]
    scalars = dict(n=n, dim=dim, lam=lam, b=b, m=m, per_row=per_row)
    arrays = {"r": r, "lw": lw}
    if info.name == "h_linear":
        # precondition r > 0 (h_fast handles r = 0 first; Numba raises ZeroDivisionError)
        r[r == 0.0] = 0.125
        arrays["atom"] = atom
        want = np.array([info.cpu(r[i], dim, lam, b, m, at[i], rows[i]) for i in range(n)])
        return [Case(info, n, scalars, arrays, {"h_out": (n,)}, {"h_out": want})]
    if info.name == "h_fast":
        arrays.update(latom=latom, atom=atom)
        want = np.array([info.cpu(r[i], dim, lam, b, m, la[i], at[i], rows[i])
                         for i in range(n)])
        return [Case(info, n, scalars, arrays, {"h_out": (n,)}, {"h_out": want})]
    arrays["latom"] = latom
    scalars["want_logp"] = want_logp
    res = np.array([info.cpu(r[i], dim, lam, b, m, la[i], rows[i], bool(want_logp))
                    for i in range(n)])
    case = from_twin(info, n, scalars, arrays, {"logp_out": (n,), "h_out": (n,)})
    assert_bits(case.expected["logp_out"], res[:, 0], f"twin {info.twin_name}.logp_out")
    assert_bits(case.expected["h_out"], res[:, 1], f"twin {info.twin_name}.h_out")
    return [case]


def case_score(info, rng, dtype):
    d = info.domains
    n = 24
    m = int(pick(d["m"], rng))
    dim = int(pick(d["dim"], rng))
    b = pick(d["b"], rng)
    per_row = int(rng.integers(2))
    lw, latom, atom, t, theta, lam = tables(rng, d, n, per_row, m)
    y = stored(d["y"].draw(rng, n * dim)).reshape(n, dim)
    y[0] = 0.0  # the origin: h = 0
    y[1, 0] = 2.0**-40  # near it (float32-representable)
    if dtype == "f64":
        # |y|^2 under- and overflows: the rescaled norm, the log-h path near the origin
        # (h ~ 1/r^2 overflows) and, far out, the limit of h
        y[2] = 1e-200 * y[2]
        y[3] = 1e200 * y[3]
        y[4] = 1e300 * y[4]
    if dtype == "f64":
        y[5, 0] = math.nan  # counted in bad_out, as an overflowing score
        y[6, -1] = -math.inf
        y[7] = 1e150 * y[7] / np.linalg.norm(y[7])
    # the prepared Bessel ratio (levyscore/_ratio_table.py) or, one case in four, the exact one
    has_ratio = int(rng.random() < 0.75)
    ratio = _closed_form.prepared_ratio(dim, m, b) if has_ratio else None
    # one case in three: a y + c S, the reverse step's combine in the same pass
    combine = (float(rng.uniform(0.5, 2.0)), float(rng.uniform(-1.0, 1.0))) \
        if rng.random() < 1 / 3 else None
    want = np.empty_like(y)
    # the CPU path: its own tables from t
    bad = info.cpu(y, t, theta, lam, b, m, want, ratio, combine)
    a, c = combine if combine is not None else (0.0, 0.0)
    scalars = dict(n=n, dim=dim, lam=lam, b=b, m=m, per_row=per_row, has_ratio=has_ratio,
                   a=a, c=c, combine=int(combine is not None))
    arrays = {"y": y, "latom": latom, "atom": atom, "lw": lw,
              "ratio_coef": ratio if has_ratio else np.zeros(1)}
    case = from_twin(info, n, scalars, arrays, {"out": (n, dim), "bad_out": (1,)})
    assert_bits(case.expected["out"], want, f"twin {info.twin_name}.out")
    assert int(case.expected["bad_out"][0]) == bad
    return [case]


def _table_case_arrays(rng, dtype, n):
    """Synthetic table arrays (tests/synthetic_table.py), ``n_coef`` among 2, 3, 16 and the
    device maximum, with times shared (``t_per_row = 0``) or one per point."""
    from synthetic_table import radii_and_times, synthetic_arrays

    from levyscore import _table_kernel

    n_coef = int(rng.choice([2, 3, 16, 16, _table_kernel.DEVICE_MAX_COEF]))
    arrays = synthetic_arrays(rng, n_coef=n_coef)
    r, t = radii_and_times(rng, arrays, n)
    t_per_row = int(rng.integers(2))
    t = stored(t if t_per_row else t[:1])
    table = dict(zip(_table_kernel.TABLE_ARG_NAMES, _table_kernel.table_args(arrays)))
    scalars = {"n": n, "t_per_row": t_per_row, "n_coef": table.pop("n_coef")}
    return scalars, {**table, "t": t}, stored(r)


def case_table_h(info, rng, dtype):
    n = 64
    scalars, arrays, r = _table_case_arrays(rng, dtype, n)
    if dtype == "f64":
        r[1:4] = (1e-300, 1e300, 1.7e308)
    return [from_twin(info, n, scalars, {**arrays, "r": r}, {"h_out": (n,), "leaf_out": (n,)})]


def case_table_score(info, rng, dtype):
    d = info.domains
    n = 48
    dim = int(pick(d["dim"], rng))
    scalars, arrays, r = _table_case_arrays(rng, dtype, n)
    direction = rng.normal(size=(n, dim))
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    y = stored(direction * r[:, None])
    y[0] = 0.0
    if dtype == "f64":  # |y|^2 under- and overflows: the rescaled norm
        y[1] = 1e-200 * direction[1]
        y[2] = 1e200 * direction[2]
    return [from_twin(info, n, {**scalars, "dim": dim}, {**arrays, "y": y},
                      {"out": (n, dim), "leaf_out": (n,)})]


# Routes of the forward draw: (name, how jump_rate and theta are set)
FORWARD_ROUTES = ("binomial", "compound", "theta0", "no-jumps", "reverse-growth")


def case_forward(info, rng, dtype):
    d = info.domains
    cases = []
    for route in FORWARD_ROUTES:
        n = 24
        dim = int(pick(d["dim"], rng))
        theta = pick(d["theta"], rng)
        m = int(pick(d["m"], rng))
        dom_gauss, dom_jump = _philox.DOMAIN_FORWARD_GAUSS, _philox.DOMAIN_FORWARD_JUMP
        if route == "binomial":  # integer m <= 64: Binomial-Gamma
            jump_rate = 2.0 * theta * m
        elif route == "compound":  # non-integer m: compound Poisson with the damping product
            mc = pick(d["m_compound"], rng)
            if abs(mc - round(mc)) < 0.01:
                mc += 0.37
            jump_rate = 2.0 * theta * mc
        elif route == "theta0":
            theta, jump_rate = 0.0, pick(d["jump_rate"], rng)
        elif route == "no-jumps":
            jump_rate = 0.0
        else:  # reverse_noise(growth=True): theta -> -theta, reverse-time domains
            theta, jump_rate = -theta, pick(d["jump_rate"], rng)
            dom_gauss, dom_jump = _philox.DOMAIN_REVERSE_GAUSS, _philox.DOMAIN_REVERSE_JUMP
        diffusion = pick(d["diffusion"], rng)
        if route == "no-jumps" and diffusion == 0.0:
            diffusion = 1.0
        jump_var = pick(d["jump_var"], rng)
        start, index, k0, k1 = (pick(d[k], rng) for k in ("start", "index", "k0", "k1"))
        has_x0 = int(rng.integers(2))
        t_per_row = int(rng.integers(2))
        t = stored(d["t"].draw(rng, n if t_per_row else 1))
        x0 = stored(rng.normal(0.0, 3.0, (n, dim)) if has_x0 else np.zeros((n, dim)))
        scalars = dict(n=n, dim=dim, k0=k0, k1=k1, has_x0=has_x0, t_per_row=t_per_row,
                       theta=theta, diffusion=diffusion, jump_rate=jump_rate, jump_var=jump_var,
                       start=start, index=index, dom_gauss=dom_gauss, dom_jump=dom_jump)
        cases.append(from_twin(info, n, scalars, {"x0": x0, "t": t},
                               {"out": (n, dim), "w_out": (n,), "n_out": (n,)}))
    return cases


def case_stationary(info, rng, dtype):
    d = info.domains
    n = 24
    dim = int(pick(d["dim"], rng))
    theta, diffusion, jump_rate, jump_var = (pick(d[k], rng) for k in (
        "theta", "diffusion", "jump_rate", "jump_var"))
    start, index, k0, k1 = (pick(d[k], rng) for k in ("start", "index", "k0", "k1"))
    scalars = dict(n=n, dim=dim, k0=k0, k1=k1, theta=theta, diffusion=diffusion,
                   jump_rate=jump_rate, jump_var=jump_var, start=start, index=index)
    return [from_twin(info, n, scalars, {}, {"out": (n, dim), "w_out": (n,)})]


def case_combine(info, rng, dtype):
    d = info.domains
    n = 257
    a, c = pick(d["a"], rng), pick(d["c"], rng)
    names = ["x", "s", "noise"] if info.name == "combine_noise" else ["x", "s"]
    arrays = {k: stored(d[k].draw(rng, n)) for k in names}
    return [from_twin(info, n, {"n": n, "a": a, "c": c}, arrays, {"out": (n,)})]


def case_reverse_step(info, rng, dtype):
    """The fused stochastic step for every amplitude law, exponential (theta -> -theta) and
    Euler (theta = 0) noise, with and without Gaussian noise, and no noise at all (the
    exact +0.0 branch); odd and even dimensions."""
    from levyscore.amplitudes._dispatch import LAW_GAUSSIAN, LAW_LAPLACE, LAW_STUDENT_T

    d = info.domains
    cases = []
    for law in (LAW_LAPLACE, LAW_GAUSSIAN, LAW_STUDENT_T):
        for theta in (-pick(d["theta"], rng), 0.0):
            n = 16
            dim = int(pick(d["dim"], rng))
            diffusion = pick(d["diffusion"], rng)
            jump_rate = pick(d["jump_rate"], rng) if rng.random() < 0.8 else 0.0
            scalars = dict(n=n, dim=dim, k0=pick(d["k0"], rng), k1=pick(d["k1"], rng),
                           a=pick(d["a"], rng), c=pick(d["c"], rng),
                           h=float(stored(pick(d["t"], rng))), theta=theta,
                           diffusion=diffusion, jump_rate=jump_rate,
                           jump_var=pick(d["jump_var"], rng), start=pick(d["start"], rng),
                           index=pick(d["index"], rng), dom_gauss=_philox.DOMAIN_REVERSE_GAUSS,
                           dom_jump=_philox.DOMAIN_REVERSE_JUMP,
                           dom_mark=_philox.DOMAIN_REVERSE_MARK, law=law,
                           law_param=pick(d["nu"], rng) if law == LAW_STUDENT_T else 0.0)
            arrays = {k: stored(d[k].draw(rng, n * dim)).reshape(n, dim) for k in ("x", "s")}
            cases.append(from_twin(info, n, scalars, arrays, {"out": (n, dim)}))
    return cases


def case_forward_path(info, rng, dtype):
    """Paths on grids of 1-6 times, for every amplitude law (Student-t with a drawn nu),
    with the compound-Poisson route (non-integer m) and, for Laplace, integer m."""
    from levyscore.amplitudes._dispatch import LAW_GAUSSIAN, LAW_LAPLACE, LAW_STUDENT_T

    d = info.domains
    cases = []
    for law in (LAW_LAPLACE, LAW_GAUSSIAN, LAW_STUDENT_T):
        n = 12
        dim = int(pick(d["dim"], rng))
        theta = pick(d["theta"], rng)
        if law == LAW_LAPLACE and rng.integers(2):
            jump_rate = 2.0 * theta * int(pick(d["m"], rng))
        else:
            mc = pick(d["m_compound"], rng)
            jump_rate = 2.0 * theta * (mc + 0.37 if abs(mc - round(mc)) < 0.01 else mc)
        law_param = pick(d["nu"], rng) if law == LAW_STUDENT_T else 0.0
        diffusion = pick(d["diffusion"], rng)
        jump_var = pick(d["jump_var"], rng)
        start, k0, k1 = (pick(d[k], rng) for k in ("start", "k0", "k1"))
        times = np.cumsum(stored(d["t"].draw(rng, int(rng.integers(1, 7)))))
        x0 = stored(rng.normal(0.0, 3.0, (n, dim)))
        scalars = dict(n=n, dim=dim, k0=k0, k1=k1, n_times=times.shape[0], theta=theta,
                       diffusion=diffusion, jump_rate=jump_rate, jump_var=jump_var,
                       start=start, law=law, law_param=law_param)
        cases.append(from_twin(info, n, scalars, {"x0": x0, "times": times},
                               {"out": (n, times.shape[0], dim)}))
    return cases


CASES = {
    "philox4x32_10": case_philox,
    "uniform_pair": case_variate_pair,
    "normal_pair": case_variate_pair,
    "exponential_pair": case_variate_pair,
    "gamma_variate": case_gamma,
    "bessel_k_ratio": case_bessel,
    "log_bessel_k": case_bessel,
    "log_bessel_k_and_ratio": case_bessel,
    "weight_table": case_weight_table,
    "window": case_window,
    "h_linear": case_radial,
    "point_closed_form": case_radial,
    "h_fast": case_radial,
    "closed_form_score": case_score,
    "table_h": case_table_h,
    "table_score": case_table_score,
    "forward": case_forward,
    "forward_path": case_forward_path,
    "stationary": case_stationary,
    "reverse_step": case_reverse_step,
    "combine": case_combine,
    "combine_noise": case_combine,
}


# ---------------------------------------------------------------------------
# Comparison
# ---------------------------------------------------------------------------


def expected_as(dtype, want, got_dtype):
    """Expected values in the storage type of the result (float32: rounded once)."""
    with np.errstate(over="ignore"):
        return np.asarray(want).astype(got_dtype)


def assert_bits(got, want, what):
    """Bit-identical floats (any NaN matches any NaN) or equal integers."""
    assert got.shape == want.shape, (what, got.shape, want.shape)
    if not np.issubdtype(got.dtype, np.floating):
        bad = np.flatnonzero(got.ravel() != want.ravel())
        assert bad.size == 0, f"{what}: {bad.size} differ, first at {bad[0]}: " \
                              f"{got.ravel()[bad[0]]} != {want.ravel()[bad[0]]}"
        return
    g, w = got.ravel(), want.ravel()
    nan_g, nan_w = np.isnan(g), np.isnan(w)
    assert np.array_equal(nan_g, nan_w), f"{what}: NaN at different places"
    ints = {4: np.uint32, 8: np.uint64}[g.itemsize]
    bad = np.flatnonzero((g.view(ints) != w.view(ints)) & ~nan_g)
    if bad.size:
        i = bad[0]
        ulps = ulp_distance(g[bad], w[bad])
        raise AssertionError(f"{what}: {bad.size}/{g.size} not bit-identical; first at {i}: "
                             f"{g[i]!r} != {w[i]!r}; max {ulps.max()} ulps")


def ulp_distance(a, b):
    """Number of representable floats between a and b (same dtype, finite or equal inf)."""
    ints = {4: np.int32, 8: np.int64}[a.itemsize]
    ia = a.view(ints).astype(object)
    ib = b.view(ints).astype(object)
    top = 1 << (8 * a.itemsize - 1)
    # map the sign-magnitude encoding onto a monotonic integer line
    ia = np.array([v if v >= 0 else -(v + top) for v in ia], dtype=object)
    ib = np.array([v if v >= 0 else -(v + top) for v in ib], dtype=object)
    return np.abs(ia - ib)


def check_host(info, dtype, got, case):
    for name, want in case.expected.items():
        assert_bits(got[name], expected_as(dtype, want, got[name].dtype),
                    f"{info.name}_{dtype}.{name}")


# ---------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------

VARIANTS = [(k.name, d) for k in KERNELS for d in k.dtypes]


def test_every_registry_kernel_has_a_parity_case():
    assert set(CASES) == {k.name for k in KERNELS}


@pytest.mark.parametrize("name, dtype", VARIANTS)
@given(seed=st.integers(0, 2**32 - 1))
def test_host_parity(host_lib, name, dtype, seed):
    info = _registry.get(name)
    rng = np.random.default_rng(seed)
    for case in CASES[name](info, rng, dtype):
        check_host(info, dtype, run_host(host_lib, info, dtype, case), case)


@pytest.mark.parametrize("name, dtype", VARIANTS)
@settings(max_examples=4)
@given(seed=st.integers(0, 2**32 - 1))
def test_emulated_launch_parity(emu_lib, name, dtype, seed):
    """Every registry kernel through the emulated device launch (the ``__global__`` wrapper
    and its grid-stride loop) at grids smaller than, equal to and larger than the element
    count: bit for bit the Numba results, as the serial host build."""
    info = _registry.get(name)
    rng = np.random.default_rng(seed)
    for case in CASES[name](info, rng, dtype):
        for grid, block in grid_shapes(case.n):
            check_host(info, dtype, run_emulated(emu_lib, info, dtype, case, grid, block), case)


def test_philox_known_answers_host(host_lib):
    info = _registry.get("philox4x32_10")
    for counter, key, expected in PHILOX_KAT:
        case = Case(info, 1, {"n": 1, "k0": key[0], "k1": key[1]},
                    {"c": np.array([counter], dtype=np.uint32)}, {"out": (1, 4)}, {})
        got = run_host(host_lib, info, "u32", case)["out"]
        assert tuple(int(w) for w in got[0]) == expected


def test_forward_chunks_match_whole_batch_host(host_lib):
    """Rows [a, b) launched alone (start = a) equal rows a..b-1 of the whole batch."""
    info = _registry.get("forward")
    rng = np.random.default_rng(7)
    whole = case_forward(info, rng, "f64")[1]  # the compound-Poisson route
    n = whole.n
    got = run_host(host_lib, info, "f64", whole)
    a = 5
    part = Case(info, n - a, {**whole.scalars, "n": n - a,
                              "start": int(whole.scalars["start"]) + a},
                {"x0": whole.arrays["x0"][a:],
                 "t": whole.arrays["t"][a:] if whole.scalars["t_per_row"] else whole.arrays["t"]},
                {"out": (n - a, whole.arrays["x0"].shape[1]), "w_out": (n - a,),
                 "n_out": (n - a,)}, {})
    got_part = run_host(host_lib, info, "f64", part)
    for key in ("out", "w_out", "n_out"):
        assert_bits(got_part[key], got[key][a:], key)


# --- the sources themselves -------------------------------------------------

_KERNEL_DEF = re.compile(r"LS_KERNEL\s+(\w+)\s*\(([^)]*)\)", re.S)
_TWIN = re.compile(r"//\s*Numba twin:\s*([\w.]*\w)[^\n]*\n(?://[^\n]*\n)*"
                   r"(?:template\s*<[^>]*>\s*)?LS_HD\s+inline\s+[\w\s*]+?\b(\w+)\s*\(")
_HD_FUNC = re.compile(r"LS_HD\s+inline\s+[\w\s*]+?\b(\w+)\s*\(")
# LS_HD helpers that mirror Numba built-ins, not levyscore functions
HELPERS = {"ls_inf", "ls_nan", "ipow", "to_int", "sample_words", "table_row", "count_one", "py_max",
           "py_min", "py_max_i", "py_min_i"}


def _normalise(params):
    out = []
    for p in params.split(","):
        p = " ".join(p.replace("*", " * ").split())
        ctype, name = p.rsplit(" ", 1)
        ctype = ctype.replace(" *", "*").replace("ls_i64", "long long")
        ctype = ctype.replace("ls_u64", "unsigned long long").replace("ls_u32", "unsigned int")
        out.append((ctype, name))
    return out


def test_loop_twins_take_the_kernel_arguments():
    """Each loop twin takes exactly its kernel's arguments (names, order), so anything that
    can pack a launch can run the twin (``KernelInfo.run_twin``)."""
    import inspect

    with_twin = [k for k in KERNELS if k.twin_name is not None]
    assert {k.name for k in with_twin} >= {"weight_table", "closed_form_score",
                                          "point_closed_form", "table_h", "table_score",
                                          "forward", "forward_law", "forward_path", "combine",
                                          "combine_noise"}
    for info in with_twin:
        fn = getattr(info.twin, "py_func", info.twin)
        assert list(inspect.signature(fn).parameters) == [a.name for a in info.args], info.name


def test_table_constants_match_numba():
    from levyscore import _table_kernel as tk

    text = (_gpu.kernels_dir() / "table.cuh").read_text()
    for name in ("ULO", "UHI", "TAULO", "TAUHI", "TLO", "THI", "VC", "2THETA", "EXTRAP", "V0"):
        assert int(re.search(rf"\bP_{name} = (\d+)", text).group(1)) == getattr(tk, f"_P_{name}")
    got = int(re.search(r"TABLE_MAX_COEF = (\d+);", text).group(1))
    assert got == tk.DEVICE_MAX_COEF
    from levyscore._table_build import _N
    assert _N <= tk.DEVICE_MAX_COEF


def test_registry_signatures_match_sources():
    folder = _gpu.kernels_dir()
    defs = {}
    for name in cu_files():
        for kname, params in _KERNEL_DEF.findall((folder / name).read_text()):
            assert kname not in defs, f"kernel {kname} defined twice"
            defs[kname] = (name, _normalise(params))
    registered = set()
    for info in KERNELS:
        for dtype, cname in zip(info.dtypes, info.cuda_names):
            assert cname in defs, f"{cname} is registered but not defined in {info.source}"
            source, params = defs[cname]
            assert source == info.source, (cname, source, info.source)
            assert params == info.signature(dtype), cname
            registered.add(cname)
    assert set(defs) == registered, f"kernels missing from the registry: {set(defs) - registered}"


def test_every_mirrored_function_is_covered_and_its_twin_exists():
    folder = _gpu.kernels_dir()
    twins = {}
    all_hd = set()
    for path in sorted(folder.glob("*.cuh")):
        text = path.read_text()
        all_hd |= set(_HD_FUNC.findall(text))
        for target, cname in _TWIN.findall(text):
            twins[cname] = target
    assert all_hd - set(twins) - HELPERS == set(), "LS_HD functions without a Numba twin"
    for cname, target in twins.items():
        module, _, attr = target.rpartition(".")
        obj = getattr(importlib.import_module(module), attr)
        py_name = getattr(obj, "py_func", obj).__name__
        assert py_name.lstrip("_") == cname, (cname, target)
    covered = set()
    for info in KERNELS:
        covered |= set(info.mirrors)
    assert covered == set(twins), (sorted(set(twins) - covered), sorted(covered - set(twins)))


def _table(text, name):
    match = re.search(name + r"\[[^=]*=\s*\{(.*?)\};", text, re.S)
    return np.array([float(v) for v in re.findall(r"[-+0-9.eE]+(?=\s*,)", match.group(1))])


def test_bessel_tables_match_numba_bit_for_bit():
    from levyscore import _bessel

    text = (_gpu.kernels_dir() / "bessel.cuh").read_text()
    for name, want in (("RGAM_COEFFS", _bessel._RGAM_COEFFS), ("K1K0_CHEB", _bessel._K1K0_CHEB),
                       ("DEBYE_U", _bessel._DEBYE_U), ("DEBYE_V", _bessel._DEBYE_V),
                       ("DEBYE_NU_OMIT", _bessel._DEBYE_NU_OMIT),
                       ("LOG_TABLE", _bessel._LOG_TABLE)):
        got = _table(text, name)
        assert_bits(got, np.asarray(want, dtype=np.float64).ravel(), name)
    terms = _bessel._DEBYE_TERMS
    assert int(re.search(r"int DEBYE_TERMS = (\d+);", text).group(1)) == terms
    assert re.search(rf"DEBYE_U\[{terms}\]\[{terms}\]", text)
    assert re.search(rf"DEBYE_V\[{terms}\]\[{terms}\]", text)
    assert re.search(rf"DEBYE_NU_OMIT\[{terms + 1}\]", text)
    assert re.search(rf"LOG_TABLE\[{_bessel._LOG_TABLE.shape[0]}\]\[2\]", text)
    assert int(re.search(r"int LOG_K0 = (\d+);", text).group(1)) == _bessel._LOG_K0


def test_ziggurat_tables_match_numba_bit_for_bit():
    from levyscore import _ziggurat_tables as zt

    text = (_gpu.kernels_dir() / "ziggurat_tables.cuh").read_text()
    for name in ("ZIG_X", "ZIG_F"):
        got = _table(text, name)
        assert got.shape == (257,), name
        assert_bits(got, getattr(zt, name), name)


def test_scalar_constants_match_numba():
    """Named float constants of the .cuh files equal their Numba values bit for bit."""
    from levyscore import _bessel, _ziggurat

    text = "".join(p.read_text() for p in sorted(_gpu.kernels_dir().glob("*.cuh")))
    consts = dict(re.findall(r"constexpr double (\w+) = ([-+0-9.eE]+);", text))
    numba_values = {
        "TWO_M52": 2.0**-52, "TWO_PI": 2.0 * math.pi, "EULER_GAMMA": _bessel._EULER_GAMMA,
        "LN2_HI": _bessel._LN2_HI, "LN2_LO": _bessel._LN2_LO, "EPS": _bessel._EPS,
        "PI": _bessel._PI, "HALF_LOG_PI_2": _bessel._HALF_LOG_PI_2,
        "SQRT_HALF": _bessel._SQRT_HALF, "SCALE_BIG": _bessel._SCALE_BIG,
        "SCALE_INV": _bessel._SCALE_INV, "X_SWITCH": _bessel._X_SWITCH,
        "X_SWITCH_LOG": _bessel._X_SWITCH_LOG, "K1K0_LO": _bessel._K1K0_LO,
        "K1K0_HI": _bessel._K1K0_HI, "NU_MAX": _bessel.NU_MAX,
        "NU_DEBYE": _bessel._NU_DEBYE, "S0": _bessel._S0, "SPLIT": _bessel._SPLIT,
        "LOG_C3": _bessel._LOG_C3, "LOG_C5": _bessel._LOG_C5, "LOG_C7": _bessel._LOG_C7,
        "LOG_C9": _bessel._LOG_C9, "HALF_LOG_PI_2_LO": _bessel._HALF_LOG_PI_2_LO,
        "S0_LO": _bessel._S0_LO, "K0_HI": _bessel._K0_HI, "K0_LO": _bessel._K0_LO,
        "X_HUGE": _bessel._X_HUGE, "X_TINY": _bessel._X_TINY,
        "TINY_SCALE": _bessel._TINY_SCALE, "TINY_EXP": _bessel._TINY_EXP,
        "LOG2PI": _closed_form._LOG2PI, "LOG2": _closed_form._LOG2,
        "DAMPING_FLOOR": _forward._DAMPING_FLOOR, "ZIG_R": _ziggurat.ZIG_R,
        "FIRST_MARGIN": _forward._FIRST_MARGIN,
        "RT_TSCALE": _ratio_table.RT_TSCALE,
    }
    assert set(consts) == set(numba_values)
    for name, value in numba_values.items():
        assert float(consts[name]) == value, name


# The cases of the amplitude-law kernels live with their other tests; imported at the end
# (test_amplitude_kernels imports this module lazily, inside functions).
from test_amplitude_kernels import case_forward_law, case_stationary_law  # noqa: E402

CASES.update(forward_law=case_forward_law, stationary_law=case_stationary_law)
