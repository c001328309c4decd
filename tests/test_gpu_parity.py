"""CPU/GPU parity of every registered kernel, on a CUDA device through CuPy.

The same cases as the host build (``tests/test_kernel_parity.py``: same draws, same Numba
results) run through :func:`levyscore._gpu.launch`, i.e. NVRTC-compiled ``RawModule``\\ s with
``--fmad=false``. Tolerances come from the registry (``KernelInfo.device_eps`` and
``device_floor``, with the reason in ``note``): Philox words, uniforms, window integers, the
combine step and jump counts N must be identical; anything that goes through a libm call may
differ by the documented multiple of eps, because libdevice is not glibc. A float32 result
may further differ by one float32 ulp (the float64 values are within a few ulps of each other,
so their roundings to float32 are at most one float32 ulp apart), and a float32 result below
2**-126 may be flushed to zero (CuPy always adds ``-ftz=true``, which affects float32
operations only; every kernel computes in float64 and rounds once at the store).

Every test here carries the ``gpu`` marker and is skipped, visibly, without CuPy or a device
(``tests/conftest.py``).
"""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from levyscore import _gpu, _registry
from levyscore._registry import KERNELS
from test_kernel_parity import (
    CASES,
    PHILOX_KAT,
    VARIANTS,
    Case,
    alloc_outputs,
    case_forward,
    expected_as,
    ulp_distance,
)

pytestmark = pytest.mark.gpu

EPS = np.finfo(np.float64).eps
F32_TINY = float(np.finfo(np.float32).tiny)


@pytest.fixture(scope="module")
def cupy():
    cp = pytest.importorskip("cupy")
    try:
        if cp.cuda.runtime.getDeviceCount() < 1:
            pytest.skip("no CUDA device")
    except cp.cuda.runtime.CUDARuntimeError as exc:
        pytest.skip(f"no usable CUDA device: {exc}")
    return cp


def run_device(cp, info, dtype, case):
    """Run ``<name>_<dtype>`` on the device; returns its outputs as numpy arrays."""
    outputs = {k: cp.asarray(v) for k, v in alloc_outputs(info, dtype, case.out_shapes).items()}
    values = {k: cp.asarray(v) if isinstance(v, np.ndarray) else v
              for k, v in case.inputs(dtype).items()}
    _gpu.launch(info, dtype, case.n, {**values, **outputs})
    cp.cuda.get_current_stream().synchronize()
    return {k: cp.asnumpy(v) for k, v in outputs.items()}


def check_device(info, dtype, got, case):
    for name, want in case.expected.items():
        g = got[name]
        what = f"{info.name}_{dtype}.{name}"
        assert g.shape == np.shape(want), (what, g.shape, np.shape(want))
        if not np.issubdtype(g.dtype, np.floating):
            np.testing.assert_array_equal(g, expected_as(dtype, want, g.dtype), err_msg=what)
            continue
        w64 = np.asarray(want, dtype=np.float64).ravel()
        wq = expected_as(dtype, want, g.dtype).ravel()  # the reference in storage type
        gr = g.ravel()
        assert np.array_equal(np.isnan(gr), np.isnan(wq)), f"{what}: NaN at other places"
        inf = np.isinf(wq)
        assert np.array_equal(gr[inf], wq[inf]), f"{what}: infinities differ"
        ok = np.isfinite(wq)
        tol = info.device_eps * EPS * np.maximum(np.abs(w64[ok]), info.device_floor)
        if g.dtype == np.float32:
            tol = tol + np.spacing(np.abs(wq[ok])).astype(np.float64)
            # CuPy compiles with -ftz=true: a float32 store may flush a subnormal to zero
            tol = np.where(np.abs(wq[ok]) < np.finfo(np.float32).tiny, F32_TINY, tol)
        err = np.abs(gr[ok].astype(np.float64) - w64[ok])
        bad = np.flatnonzero(err > tol)
        if bad.size:
            ulps = ulp_distance(gr[ok][bad], wq[ok][bad])
            raise AssertionError(
                f"{what}: {bad.size}/{err.size} beyond {info.device_eps} eps "
                f"(floor {info.device_floor}); worst {gr[ok][bad][0]!r} vs {w64[ok][bad][0]!r}, "
                f"max {max(ulps)} ulps; tolerance reason: {info.note}")


@pytest.mark.parametrize("source", sorted({k.source for k in KERNELS}))
def test_module_compiles_and_is_memoised(cupy, source):
    mod = _gpu.module(source)
    assert _gpu.module(source) is mod
    for info in KERNELS:
        if info.source == source:
            for cname in info.cuda_names:
                mod.get_function(cname)


@pytest.mark.parametrize("name, dtype", VARIANTS)
@given(seed=st.integers(0, 2**32 - 1))
def test_device_parity(cupy, name, dtype, seed):
    info = _registry.get(name)
    rng = np.random.default_rng(seed)
    for case in CASES[name](info, rng, dtype):
        check_device(info, dtype, run_device(cupy, info, dtype, case), case)


def test_device_philox_known_answers(cupy):
    info = _registry.get("philox4x32_10")
    for counter, key, expected in PHILOX_KAT:
        case = Case(info, 1, {"n": 1, "k0": key[0], "k1": key[1]},
                    {"c": np.array([counter], dtype=np.uint32)}, {"out": (1, 4)}, {})
        got = run_device(cupy, info, "u32", case)["out"]
        assert tuple(int(w) for w in got[0]) == expected


def test_device_forward_chunks_match_whole_batch(cupy):
    """On the device too, rows [a, b) launched alone equal rows a..b-1 of the batch, bit for
    bit (same code, same counters), and a launch far wider than n changes nothing."""
    info = _registry.get("forward")
    whole = case_forward(info, np.random.default_rng(7), "f64")[1]
    n = whole.n
    got = run_device(cupy, info, "f64", whole)
    a = 5
    part = Case(info, n - a, {**whole.scalars, "n": n - a,
                              "start": int(whole.scalars["start"]) + a},
                {"x0": whole.arrays["x0"][a:],
                 "t": whole.arrays["t"][a:] if whole.scalars["t_per_row"] else whole.arrays["t"]},
                {"out": (n - a, whole.arrays["x0"].shape[1]), "w_out": (n - a,),
                 "n_out": (n - a,)}, {})
    got_part = run_device(cupy, info, "f64", part)
    for key in ("out", "w_out", "n_out"):
        np.testing.assert_array_equal(got_part[key], got[key][a:], err_msg=key)


def test_device_large_batch_grid_stride(cupy):
    """More elements than one launch grid has threads (every thread loops), checked at the
    tail against the Numba scalar function."""
    from levyscore import _philox

    n = _gpu.BLOCK * 65535 + 1000
    key = (0x1234ABCD, 0x0F0E0D0C)
    out = cupy.empty((n, 2), dtype=cupy.float64)
    _registry.launch("uniform_pair", "f64", n, {"n": n, "start": 0, "domain": _philox.DOMAIN_TEST,
                                            "index": 3, "c3": 0, "k0": key[0], "k1": key[1],
                                            "out": out})
    tail = cupy.asnumpy(out[-600:])
    c2 = _philox.stream_word(_philox.DOMAIN_TEST, 3)
    want = np.array([_philox.uniform_pair(np.uint64(i), np.uint64(0), c2, np.uint64(0),
                                          np.uint64(key[0]), np.uint64(key[1]))
                     for i in range(n - 600, n)])
    np.testing.assert_array_equal(tail, want)
