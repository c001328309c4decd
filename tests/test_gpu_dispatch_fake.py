"""The GPU orchestration of the public API, exercised on the CPU with a stand-in device.

A fake ``cupy`` module (NumPy arrays of a subclass whose ``__module__`` is ``"cupy"``) takes
CuPy's place in ``sys.modules`` for one test at a time, in two modes (the ``fake`` fixture):

* "twins": :func:`levyscore._gpu.function` is replaced by kernels that run each registered
  kernel's Numba loop twin (same arguments as the kernel) on the packed arguments. This checks everything but the CUDA code:
  dispatch, argument names, types and layouts as :func:`levyscore._gpu.pack_args` checks
  them, weight tables, time handling, streams and counters.
* "emulated": the fake's ``RawModule`` compiles the real ``.cu`` sources for the host
  emulation of the device launch (``tests/cuda_emulation.py``: the ``__global__`` wrappers
  and their grid-stride loops, thread by thread), and :mod:`levyscore._gpu` loads and
  launches them unchanged. This runs the CUDA source itself, with host libm.

Either way the device paths must reproduce the CPU paths bit for bit in float64.
"""
import sys

import numpy as np
import pytest

import levyscore
from cuda_emulation import FakeDeviceArray, fake_cupy
from levyscore import _gpu


def _dev(a):
    return np.asarray(a).view(FakeDeviceArray)


def _fake_cupy():
    return fake_cupy(emulated=False)


def twin_function(launched):
    """Stand-in for :func:`levyscore._gpu.function` that runs each kernel's Numba loop twin
    (``KernelInfo.run_twin``: the kernel's own arguments) on the packed arguments."""
    def function(info, dtype, options=_gpu.PARITY_OPTIONS):
        def kernel(grid, block, args):
            launched.append((info.name, dtype))
            info.run_twin(dict(zip((a.name for a in info.args), args)))
        return kernel
    return function


@pytest.fixture(params=["twins", "emulated"])
def fake(request, monkeypatch):
    """The fake CuPy. "twins": each kernel is its Numba twin. "emulated": the real ``.cu``
    sources, compiled for the host emulation of the device launch (tests/cuda_emulation.py)
    and launched through :func:`levyscore._gpu.launch` unchanged."""
    cp = _fake_cupy()
    monkeypatch.setitem(sys.modules, "cupy", cp)
    launched = []
    if request.param == "emulated":
        import shutil

        import cuda_emulation

        if shutil.which("g++") is None:
            pytest.skip("g++ not found: the CUDA emulation cannot be built")
        monkeypatch.setattr(_gpu, "_modules", {})  # compiled modules of this fake only
        monkeypatch.setattr(cuda_emulation.RawModule, "launched", launched)
        monkeypatch.setattr(cuda_emulation.RawModule, "shapes", [])
        cp.RawModule = cuda_emulation.RawModule
    else:
        monkeypatch.setattr(_gpu, "function", twin_function(launched))
    cp.mode = request.param
    cp.launched = launched
    return cp


def pure_jump(dim=2, m=1, schedule=None):
    return levyscore.JumpDiffusion(dim, theta=0.5, diffusion=0.0, jump_rate=float(m),
                                   jump_var=2.0, schedule=schedule)


@pytest.mark.parametrize("dim, m", [(1, 1), (2, 1), (3, 3)])
def test_fake_score_paths_equal_cpu(fake, dim, m):
    proc = pure_jump(dim, m)
    rng = np.random.default_rng(0)
    y = rng.normal(0.0, 2.0, (5, 4, dim))
    y[0, 0] = 0.0
    t = np.exp(rng.uniform(-3.0, 2.0, (5, 4)))
    for law in (proc.transition(0.8), proc.stationary()):
        got = law.score(_dev(y))
        assert isinstance(got, FakeDeviceArray) and got.shape == y.shape
        np.testing.assert_array_equal(np.asarray(got), law.score(y))
    np.testing.assert_array_equal(np.asarray(proc.score(_dev(y), 1.7)), proc.score(y, 1.7))
    np.testing.assert_array_equal(np.asarray(proc.score(_dev(y), _dev(t))), proc.score(y, t))
    np.testing.assert_array_equal(np.asarray(proc.score(_dev(y), _dev(t[0]))),
                                  proc.score(y, t[0]))
    assert ("weight_table", "f64") in fake.launched
    assert ("closed_form_score", "f64") in fake.launched


def test_fake_score_float32_and_errors(fake):
    proc = pure_jump()
    y = np.random.default_rng(1).normal(size=(9, 2)).astype(np.float32)
    got = proc.score(_dev(y), 1.0)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(np.asarray(got),
                                  proc.score(y.astype(np.float64), 1.0).astype(np.float32))
    assert ("closed_form_score", "f32") in fake.launched
    with pytest.raises(ValueError, match="closed-form route only"):
        levyscore.JumpDiffusion(2).score(_dev(y), 1.0)
    with pytest.raises(ValueError, match="closed-form route only"):
        levyscore.JumpDiffusion(2, jump_rate=0.0).stationary().score(_dev(y))
    with pytest.raises(ValueError, match="mixed NumPy and CuPy"):
        proc.score(_dev(y), np.ones(9))
    with pytest.raises(ValueError, match="finite"):
        proc.score(_dev(np.full((2, 2), np.nan)), 1.0)
    with pytest.raises(ValueError, match="shape"):
        proc.score(_dev(np.zeros((2, 3))), 1.0)
    with pytest.raises(ValueError, match="positive"):
        proc.score(_dev(y), _dev(-np.ones(9)))
    with pytest.raises(ValueError, match="noise schedule"):
        pure_jump(schedule="linear").score(_dev(y), _dev(np.full(9, 0.5)))
    sched = pure_jump(schedule="linear")
    np.testing.assert_array_equal(np.asarray(sched.score(_dev(y.astype(np.float64)), 0.5)),
                                  sched.score(y.astype(np.float64), 0.5))
    assert proc.score(_dev(np.zeros((0, 2))), 1.0).shape == (0, 2)


@pytest.mark.parametrize("kwargs", [dict(), dict(diffusion=0.0), dict(jump_rate=0.3)])
def test_fake_forward_sample_equals_cpu(fake, kwargs):
    proc = levyscore.JumpDiffusion(2, **kwargs)
    rng = np.random.default_rng(2)
    x0 = rng.normal(0.0, 3.0, (40, 2))
    t = np.exp(rng.uniform(-3.0, 2.0, 40))
    for tt, td in ((10.0, 10.0), (t, _dev(t))):
        got = proc.sample(_dev(x0), td, rng=7, start=3)
        assert isinstance(got, FakeDeviceArray)
        np.testing.assert_array_equal(np.asarray(got), proc.sample(x0, tt, rng=7, start=3))
    got32 = proc.sample(_dev(x0.astype(np.float32)), 2.0, rng=7)
    assert got32.dtype == np.float32
    want32 = proc.sample(x0.astype(np.float32).astype(np.float64), 2.0, rng=7)
    np.testing.assert_array_equal(np.asarray(got32), want32.astype(np.float32))
    assert ("forward", "f32") in fake.launched


@pytest.mark.parametrize("amplitude", ["laplace", "student-t", "gaussian"])
def test_fake_sample_path_equals_cpu(fake, amplitude):
    """sample_path on the device: the CPU path bit for bit in float64; in float32 the float64
    path rounded once."""
    proc = levyscore.JumpDiffusion(2, jump_rate=1.3, amplitude=amplitude)
    x0 = np.random.default_rng(3).normal(0.0, 2.0, (17, 2))
    times = [0.1, 0.5, 2.0, 2.5]
    got = proc.sample_path(_dev(x0), times, rng=11, start=5)
    assert isinstance(got, FakeDeviceArray) and got.shape == (17, 4, 2)
    want = proc.sample_path(x0, times, rng=11, start=5)
    np.testing.assert_array_equal(np.asarray(got), want)
    x32 = x0.astype(np.float32)
    got32 = proc.sample_path(_dev(x32), times, rng=11)
    assert got32.dtype == np.float32
    np.testing.assert_array_equal(np.asarray(got32), proc.sample_path(
        x32.astype(np.float64), times, rng=11).astype(np.float32))
    assert ("forward_path", "f64") in fake.launched
    with pytest.raises(ValueError, match="no GPU path"):
        proc.sample_path(_dev(x0), _dev(np.array(times)), rng=1)
    with pytest.raises(ValueError, match="increasing"):
        proc.sample_path(_dev(x0), [1.0, 0.5], rng=1)


@pytest.mark.parametrize("dim, m", [(1, 1), (2, 1), (3, 3)])
def test_fake_logpdf_equals_cpu(fake, dim, m):
    """TransitionLaw.logpdf / pdf on the device (closed form): the CPU values bit for bit in
    float64, at the origin, at extreme radii (rescaled norms) and in float32 (the
    float64 values rounded once); the quadrature routes refuse."""
    proc = pure_jump(dim, m)
    y = np.random.default_rng(6).normal(0.0, 2.0, (4, 5, dim))
    y[0, 0] = 0.0
    y[1, 0] = 1e-200
    y[2, 0] = 1e200
    for law in (proc.transition(0.8), proc.stationary()):
        got = law.logpdf(_dev(y))
        assert isinstance(got, FakeDeviceArray) and got.shape == y.shape[:-1]
        np.testing.assert_array_equal(np.asarray(got), law.logpdf(y))
        np.testing.assert_array_equal(np.asarray(law.pdf(_dev(y))), law.pdf(y))
        y32 = y[3].astype(np.float32)
        got32 = law.logpdf(_dev(y32))
        assert got32.dtype == np.float32
        np.testing.assert_array_equal(np.asarray(got32),
                                      law.logpdf(y32.astype(np.float64)).astype(np.float32))
    assert ("point_closed_form", "f64") in fake.launched
    with pytest.raises(ValueError, match="closed-form route only"):
        levyscore.JumpDiffusion(dim).transition(1.0).logpdf(_dev(y))


def _synthetic_score_table(seed=5):
    """A ScoreTable of a jump-diffusion (route "mixture") with synthetic arrays
    (tests/synthetic_table.py): the lookup is under test, not the values; the rows it does
    not serve go to the process's own quadrature, as for a built table."""
    from synthetic_table import synthetic_arrays

    from levyscore._table import ScoreTable
    from levyscore._table_build import ConditionalSource

    proc = levyscore.JumpDiffusion(2, diffusion=0.5, jump_rate=1.3)
    arrays = synthetic_arrays(np.random.default_rng(seed), extrap=1.0, v0=0.0)
    p = arrays["params"]
    return ScoreTable(ConditionalSource(proc), float(p[4]), float(p[5]), 1e-6, arrays,
                      from_cache=False, path=None)


def test_fake_score_table_equals_cpu(fake):
    """ScoreTable.score on the device: the table_score kernel, and for the rows the table
    does not serve (here u > u_hi and t outside the table) the host quadrature on those rows
    alone; bit for bit the CPU result, float32 the float64 result rounded once."""
    table = _synthetic_score_table()
    p = table.arrays()["params"]
    rng = np.random.default_rng(6)
    n = 24
    t = np.exp(rng.uniform(p[2], p[3], n))
    v = p[6] * -np.expm1(-p[7] * t)
    u = rng.uniform(p[0], p[1], n)
    u[:2] = p[1] + 0.5  # beyond the table: quadrature
    direction = rng.normal(size=(n, 2))
    y = direction / np.linalg.norm(direction, axis=1, keepdims=True) * (np.exp(u) *
                                                                       np.sqrt(v))[:, None]
    y[2] = 0.0
    assert not table.covers(np.linalg.norm(y[:2], axis=1), t[:2]).any()
    want = table.score(y, t)
    got = table.score(_dev(y), _dev(t))
    assert isinstance(got, FakeDeviceArray)
    np.testing.assert_array_equal(np.asarray(got), want)
    t_mid = float(np.exp(0.5 * (p[2] + p[3])))
    np.testing.assert_array_equal(np.asarray(table.score(_dev(y), t_mid)),
                                  table.score(y, t_mid))
    y32 = y.astype(np.float32)
    got32 = table.score(_dev(y32.reshape(4, 6, 2)), t_mid)
    assert got32.dtype == np.float32 and got32.shape == (4, 6, 2)
    np.testing.assert_array_equal(np.asarray(got32).reshape(n, 2),
                                  table.score(y32.astype(np.float64), t_mid).astype(np.float32))
    outside = float(np.exp(p[3] + 1.0))  # every row by quadrature
    np.testing.assert_array_equal(np.asarray(table.score(_dev(y[:3]), outside)),
                                  table.score(y[:3], outside))
    assert ("table_score", "f64") in fake.launched and ("table_score", "f32") in fake.launched
    assert table.score(_dev(np.zeros((0, 2))), 1.0).shape == (0, 2)
    with pytest.raises(ValueError, match="finite"):
        table.score(_dev(np.full((1, 2), np.nan)), 1.0)
    with pytest.raises(ValueError, match="no GPU path"):
        table.h(_dev(np.ones(3)), 1.0)


def test_fake_dsm_pairs_equal_cpu(fake):
    """dsm_pairs on the device: x_t and the targets (closed-form score at the exact
    increments, atom rule) equal the CPU pairs bit for bit in float64; float32 gives the
    float64 pairs rounded once; a conditional_score receives and returns CuPy arrays."""
    proc = pure_jump(2, 1)
    rng = np.random.default_rng(4)
    x0 = rng.normal(0.0, 1.0, (40, 2))
    t = np.exp(rng.uniform(-4.0, 1.0, 40))  # short times: many rows without a jump (atom)
    for tt, td in ((0.3, 0.3), (t, _dev(t))):
        got = proc.dsm_pairs(_dev(x0), td, rng=3, start=7)
        want = proc.dsm_pairs(x0, tt, rng=3, start=7)
        for g, w in zip(got, want):
            assert isinstance(g, FakeDeviceArray)
            np.testing.assert_array_equal(np.asarray(g), w)
    assert np.any(want[1] == 0.0)  # the atom rule was exercised
    got32 = proc.dsm_pairs(_dev(x0.astype(np.float32)), 0.3, rng=3)
    want32 = proc.dsm_pairs(x0.astype(np.float32).astype(np.float64), 0.3, rng=3)
    for g, w in zip(got32, want32):
        assert g.dtype == np.float32
        np.testing.assert_array_equal(np.asarray(g), w.astype(np.float32))
    seen = []

    def cond(y, tp):
        seen.append((type(y), type(tp)))
        return proc.score(y, tp)

    got = proc.dsm_pairs(_dev(x0), _dev(t), rng=3, conditional_score=cond)
    np.testing.assert_array_equal(np.asarray(got[1]), proc.dsm_pairs(x0, t, rng=3)[1])
    assert seen == [(FakeDeviceArray, FakeDeviceArray)]
    with pytest.raises(ValueError, match="closed-form score"):
        levyscore.JumpDiffusion(2).dsm_pairs(_dev(x0), 0.3, rng=1)
    with pytest.raises(ValueError, match="CuPy array"):
        proc.dsm_pairs(_dev(x0), 0.3, rng=1, conditional_score=lambda y, tp: np.zeros((40, 2)))


class _NoCopyArray(FakeDeviceArray):
    """A device array that refuses to be copied to the host (single values may be read)."""

    def get(self):
        if self.size > 1:
            raise AssertionError("device data copied to the host")
        return np.array(self)


_NoCopyArray.__module__ = "cupy"


def test_fake_dsm_batches_stay_on_device(fake):
    """learn.dsm_batches with CuPy data: every batch is drawn on the device (no copy of the
    data to the host) and equals the batches of the same data on the host, bit for bit."""
    from levyscore.learn import dsm_batches

    proc = pure_jump(2, 1)
    data = np.random.default_rng(5).normal(0.0, 1.0, (50, 2))
    dev = np.array(data).view(_NoCopyArray)
    kw = dict(batch_size=16, T=2.0, t_min=1e-2, rng=8, epochs=2)
    got = list(dsm_batches(proc, dev, **kw))
    want = list(dsm_batches(proc, data, **kw))
    assert len(got) == len(want) == 8
    for g, w in zip(got, want):
        for a, b in zip(g, w):
            assert isinstance(a, FakeDeviceArray)
            np.testing.assert_array_equal(np.asarray(a), b)
    assert ("forward", "f64") in fake.launched and ("closed_form_score", "f64") in fake.launched


@pytest.mark.parametrize("eta, solver", [(0.0, "exp-euler"), (1.0, "exp-euler"),
                                         (0.0, "exp-heun"), (1.0, "euler"), (0.5, "euler")])
def test_fake_sample_reverse_equals_cpu(fake, eta, solver):
    proc = pure_jump(2, 1)
    x_T = proc.stationary().sample(30, rng=5)
    kw = dict(steps=3, T=4.0, t_min=0.5, eta=eta, solver=solver, rng=9, start=2)
    got = levyscore.sample_reverse(proc, proc.score, 30, x_T=_dev(x_T), **kw)
    want = levyscore.sample_reverse(proc, proc.score, 30, x_T=x_T, **kw)
    assert isinstance(got, FakeDeviceArray)
    np.testing.assert_array_equal(np.asarray(got), want)
    assert not any(name == "closed_form_score" and d == "f32" for name, d in fake.launched)


@pytest.mark.parametrize("fake", ["emulated"], indirect=True)
@pytest.mark.parametrize("block, max_blocks, n", [(4, 2, 30), (4, 65535, 32), (4, 65535, 30),
                                                   (256, 65535, 30)])
def test_emulated_grids_equal_cpu(fake, monkeypatch, block, max_blocks, n):
    """The public device paths through grids with fewer threads than rows (8 for 30: each
    thread loops), exactly as many (8 blocks of 4 for 32), and more (a partial last block;
    one block of 256): bit for bit the CPU paths."""
    import cuda_emulation

    monkeypatch.setattr(_gpu, "BLOCK", block)
    monkeypatch.setattr(_gpu, "_MAX_BLOCKS", max_blocks)
    proc = pure_jump(2, 2)
    rng = np.random.default_rng(n)
    y = rng.normal(0.0, 2.0, (n, 2))
    t = np.exp(rng.uniform(-3.0, 2.0, n))
    np.testing.assert_array_equal(np.asarray(proc.score(_dev(y), _dev(t))), proc.score(y, t))
    np.testing.assert_array_equal(np.asarray(proc.sample(_dev(y), _dev(t), rng=4)),
                                  proc.sample(y, t, rng=4))
    student = levyscore.JumpDiffusion(2, amplitude="student-t")
    np.testing.assert_array_equal(np.asarray(student.sample(_dev(y), 0.7, rng=5)),
                                  student.sample(y, 0.7, rng=5))
    x_T = proc.stationary().sample(n, rng=6)
    kw = dict(steps=2, T=3.0, t_min=0.5, eta=1.0, rng=8)
    np.testing.assert_array_equal(
        np.asarray(levyscore.sample_reverse(proc, proc.score, n, x_T=_dev(x_T), **kw)),
        levyscore.sample_reverse(proc, proc.score, n, x_T=x_T, **kw))
    # kernels run over the n rows or the 2n entries (combine): the launch shapes of _gpu.launch
    want = {(max(1, min(max_blocks, -(-k // block))), block) for k in (n, 2 * n)}
    assert set(cuda_emulation.RawModule.shapes) <= want
    if max_blocks == 2:
        assert all(g * b < n for g, b in cuda_emulation.RawModule.shapes)  # threads loop
    assert {name for name, _ in fake.launched} >= {"weight_table", "closed_form_score",
                                                    "forward", "forward_law", "reverse_step"}


def test_fake_sample_reverse_refuses_host_score(fake):
    proc = pure_jump()
    x_T = _dev(proc.stationary().sample(6, rng=1))
    with pytest.raises(ValueError, match="mixed NumPy and CuPy"):
        levyscore.sample_reverse(proc, lambda x, t: np.zeros((6, 2)), 6, steps=2, x_T=x_T, rng=0)
    with pytest.raises(ValueError, match="shape"):
        levyscore.sample_reverse(proc, proc.score, 5, steps=2, x_T=x_T, rng=0)


def test_gpu_suites_pass_on_the_emulated_device():
    """The ``gpu``-marked suites (every registry kernel against Numba within its device
    tolerance, every public device path against the CPU path) run, in a subprocess, on the
    fake CuPy whose ``RawModule`` is the host emulation of the device launch
    (``LEVYSCORE_EMULATE_CUPY=1``, tests/conftest.py): all pass, none is skipped. The first
    device will run code that has already run."""
    import os
    import re
    import shutil
    import subprocess
    from pathlib import Path

    if shutil.which("g++") is None:
        pytest.skip("g++ not found: the CUDA emulation cannot be built")
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "LEVYSCORE_EMULATE_CUPY": "1"}
    cmd = [sys.executable, "-m", "pytest", "-m", "gpu", "-q", "-p", "no:cacheprovider",
           "tests/test_gpu_parity.py", "tests/test_gpu_paths.py"]
    done = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=600)
    tail = done.stdout[-3000:] + done.stderr[-2000:]
    assert done.returncode == 0, tail
    summary = done.stdout.strip().splitlines()[-1]
    passed = re.search(r"(\d+) passed", summary)
    assert passed and int(passed.group(1)) >= 70, summary
    assert "skipped" not in summary and "failed" not in summary, summary


def test_bench_gpu_dry_run_on_the_emulated_device(monkeypatch):
    """``python -m levyscore bench gpu`` end to end on the host emulation of a device (tiny
    n; a synthetic table): every op in both dtypes, records complete and finite, so the
    first run on a real GPU (tools/gpu_check.py) does not stop at a typo."""
    import shutil

    import cuda_emulation

    from levyscore._bench import bench_gpu

    if shutil.which("g++") is None:
        pytest.skip("g++ not found: the CUDA emulation cannot be built")
    monkeypatch.setitem(sys.modules, "cupy", cuda_emulation.fake_cupy(emulated=True))
    monkeypatch.setattr(_gpu, "_modules", {})
    rec = bench_gpu(n=40, n_cpu=40, repeat=1, table=_synthetic_score_table())
    ops = ("score", "forward", "ode-step", "pairs", "table")
    assert [(r["op"], r["dtype"]) for r in rec["results"]] == [
        (op, dtype) for dtype in ("float32", "float64") for op in ops]
    for r in rec["results"]:
        assert r["gpu_s"] > 0 and r["cpu_s"] > 0 and r["bytes"] > 0
        assert np.isfinite([r["speedup"], r["bandwidth_fraction"]]).all()
    assert rec["device"] == "levyscore host emulation" and len(rec["line"].splitlines()) == 11


def test_fake_cupy_backed_dask_chunks(fake):
    """A Dask array of (stand-in) CuPy chunks: every block runs the device path of the
    in-memory call at its global rows; the result equals the CPU result bit for bit, and
    its chunks stay device arrays."""
    da = pytest.importorskip("dask.array")
    proc = pure_jump(2, 1)
    rng = np.random.default_rng(12)
    x0 = rng.normal(0.0, 2.0, (50, 2))
    lazy_x = da.from_array(_dev(x0), chunks=(20, 2), asarray=False)
    sample = proc.sample(lazy_x, 0.7, rng=3, start=4)
    score = proc.score(lazy_x, 0.7)
    got = [v for v in da.compute(sample, score, scheduler="synchronous")]
    assert all(isinstance(v, FakeDeviceArray) for v in got)
    np.testing.assert_array_equal(np.asarray(got[0]), proc.sample(x0, 0.7, rng=3, start=4))
    np.testing.assert_array_equal(np.asarray(got[1]), proc.score(x0, 0.7))
    assert ("forward", "f64") in fake.launched and ("closed_form_score", "f64") in fake.launched
    with pytest.raises(ValueError, match="mixed Dask and CuPy"):
        proc.score(lazy_x, _dev(np.ones(50)))
