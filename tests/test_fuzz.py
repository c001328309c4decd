"""Fuzz test of every public entry point on extreme but finite inputs (issue 10).

Hypothesis draws inputs log-uniformly over magnitudes 1e-300 to 1e300 (float64; 1e-38 to
1e38 for float32), times from 1e-12 to 1e6, theta from 1e-3 to 1e3, dimensions 1 to 3072,
and both float dtypes. Each call runs in a worker process (tests/fuzz_worker.py) under a
per-call time bound: a Numba loop cannot be interrupted from inside, so a hang is detected
by the parent and the worker is killed. Every call must

* return finite output (``-inf`` is allowed for a log density below the float range, and
  ``+inf`` for a pure-jump density at exactly y = 0, both documented in docs/api.md) of the
  expected shape, or
* raise ``ValueError``,

within the bound. Any other exception, a hang, a NaN or a wrong shape fails the test with
the input that caused it (Hypothesis prints the minimal example).
"""
import os
import pickle
import select
import struct
import subprocess
import sys
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fuzz_worker.py")
# Per-call bound. The slowest legitimate calls (a quadrature at D = 3072 for a radius near
# 1e-300, a small reverse run on the quadrature route) take ~1 s warm on 2 cores; the first
# call of each kernel also loads it from Numba's cache. A hang never returns.
CALL_SECONDS = 20.0


class Worker:
    """One persistent worker process; restarted after a timeout or a crash."""

    def __init__(self):
        self.proc = None

    def start(self):
        env = dict(os.environ, PYTHONWARNINGS="ignore")
        self.proc = subprocess.Popen([sys.executable, WORKER], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)

    def stop(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc.stdin.close()
            self.proc.stdout.close()
            self.proc = None

    def _read(self, n, deadline):
        data = b""
        fd = self.proc.stdout.fileno()
        while len(data) < n:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return None
            chunk = os.read(fd, n - len(data))
            if not chunk:
                raise RuntimeError("worker died")
            data += chunk
        return data

    def call(self, entry, timeout=CALL_SECONDS, **kwargs):
        if self.proc is None:
            self.start()
        blob = pickle.dumps((entry, kwargs))
        self.proc.stdin.write(struct.pack("<Q", len(blob)) + blob)
        self.proc.stdin.flush()
        deadline = time.monotonic() + timeout
        head = self._read(8, deadline)
        body = None if head is None else self._read(struct.unpack("<Q", head)[0], deadline)
        if body is None:
            self.stop()
            return {"status": "timeout", "seconds": timeout, "call": entry, "kwargs": kwargs}
        out = pickle.loads(body)
        out["call"] = entry
        out["kwargs"] = kwargs
        return out


@pytest.fixture(scope="module")
def worker():
    w = Worker()
    w.start()
    # warm-up: load the kernels from Numba's cache (or compile them) once, unbounded by the
    # per-call limit, so that the bound measures the calls themselves
    p = dict(dim=2, theta=0.5, diffusion=1.0, jump_rate=0.7, jump_var=2.0)
    pj = dict(p, diffusion=0.0, jump_rate=1.0)
    one = np.ones((1, 2))
    warm = [("law_logpdf", dict(p=p, t=1.0, y=one)), ("law_logpdf", dict(p=pj, t=1.0, y=one)),
            ("law_score", dict(p=pj, t=1.0, y=one * 1e-200)),
            ("law_score", dict(p=p, t=1.0, y=one * 1e-200)),
            ("law_radial_cdf", dict(p=p, t=1.0, r=np.ones(1))),
            ("law_sample", dict(p=p, t=None, n=1, seed=0)),
            ("process_sample_path", dict(p=p, x0=one, times=np.ones(1), seed=0)),
            ("process_sample", dict(p=dict(p, amplitude="student-t", nu=3.0), x0=one, t=1.0,
                                    seed=0)),
            ("law_sample", dict(p=dict(p, amplitude="student-t", nu=3.0), t=None, n=1, seed=0)),
            ("law_score", dict(p=dict(p, amplitude="student-t", nu=3.0), t=1.0, y=one)),
            ("law_score", dict(p=dict(p, amplitude="gaussian"), t=1.0, y=one)),
            ("law_radial_cdf", dict(p=dict(p, amplitude="gaussian"), t=1.0, r=np.ones(1))),
            ("law_radial_cdf", dict(p=dict(p, amplitude="student-t", nu=3.0), t=1.0,
                                    r=np.ones(1))),
            ("process_dsm_pairs", dict(p=p, x0=one, t=1.0, seed=0)),
            ("target_stable", dict(alpha=1.5, variance=1.0, dim=2, n=1, seed=0)),
            ("target_mixture", dict(weights=np.ones(1), means=np.zeros((1, 2)),
                                    variances=np.ones(1), n=1, seed=0, x=one, t=1.0)),
            ("target_bessel", dict(j=2, b=1.0, dim=2, n=1, seed=0, x=one, t=1.0)),
            ("table_score", dict(y=one, t=1.0)), ("learned_score", dict(x=one, t=1.0)),
            ("learn_batches", dict(p=p, data=one, batch_size=1, T=1.0, t_min=1e-3, seed=0))]
    warm += [("reverse", dict(p=pp, n=1, steps=1, T=1.0, t_min=0.5, solver=solver, seed=0,
                              eta=eta))
             for pp in (p, pj) for solver in ("exp-euler", "exp-heun", "euler")
             for eta in ((0.0, 1.0) if solver != "exp-heun" else (0.0,))]
    warm += [("metric", dict(entry_name=name, x=one, y=one + 1, **kw)) for name, kw in
             [("energy_distance", {}), ("sliced_wasserstein", dict(n_projections=2, rng=0)),
              ("tail_msle", {}), ("energy_test", dict(permutations=3, rng=0))]]
    for name, kw in warm:
        out = w.call(name, timeout=600.0, **kw)
        assert out["status"] in ("ok", "ValueError"), out
    yield w
    w.stop()


# -- strategies --------------------------------------------------------------------------
def logu(lo, hi):
    return st.floats(np.log10(lo), np.log10(hi)).map(lambda e: float(10.0 ** e))


THETA = logu(1e-3, 1e3)
TIME = logu(1e-12, 1e6)
RATE = st.one_of(logu(1e-3, 1e3), st.integers(1, 8).map(float))  # integers * 2 theta below
DIMS = st.sampled_from([1, 2, 3, 16, 3072])


@st.composite
def process_params(draw):
    theta = draw(THETA)
    diffusion = draw(st.one_of(st.just(0.0), logu(1e-3, 1e3)))
    rate = draw(RATE)
    if rate == int(rate) and draw(st.booleans()):
        rate = 2.0 * theta * rate  # integer m: the closed-form route when diffusion = 0
    if diffusion > 0.0 and draw(st.integers(0, 4)) == 0:
        rate = 0.0  # the Gaussian route (lambda = 0)
    return dict(dim=draw(DIMS), theta=theta, diffusion=diffusion, jump_rate=rate,
                jump_var=draw(logu(1e-3, 1e3)))


@st.composite
def points(draw, dim, rows=st.integers(1, 3)):
    """Arrays (n, dim) with entries +-10^e, e uniform in the dtype's range, or exact zeros."""
    n = draw(rows)
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    span = 300 if dtype == np.float64 else 37
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    mode = draw(st.sampled_from(["row", "entry", "zero"]))
    if mode == "zero":
        return np.zeros((n, dim), dtype=dtype)
    if mode == "row":  # one magnitude per row: |y| spans the range
        mag = 10.0 ** rng.uniform(-span, span, size=(n, 1))
        vals = mag * rng.standard_normal((n, dim)) / np.sqrt(dim)
    else:
        vals = 10.0 ** rng.uniform(-span, span, size=(n, dim)) * rng.choice([-1, 1], (n, dim))
    return np.clip(vals, -10.0 ** span, 10.0 ** span).astype(dtype)


def check(out, shapes, *, allow_neginf=False, allow_posinf_at=None):
    """Assert ``out`` is a success with finite outputs of ``shapes``, or a ValueError."""
    status = out["status"]
    event(f"{out.get('call')}: {status}")  # shown by --hypothesis-show-statistics
    if status == "ValueError":
        return
    assert status == "ok", out
    for k, ((shape, dtype, n_nan, n_pinf, n_ninf, lo, hi), want) in enumerate(
            zip(out["outputs"], shapes)):
        if want is not None:
            assert shape == want, (k, shape, want, out)
        assert n_nan == 0, ("NaN in output", k, out)
        if not allow_neginf:
            assert n_ninf == 0, ("-inf in output", k, out)
        if allow_posinf_at is None:
            assert n_pinf == 0, ("+inf in output", k, out)
        else:
            assert n_pinf <= allow_posinf_at, ("+inf away from y = 0", k, out)


# examples per test: the profile's (25 in CI, 250 with LEVYSCORE_HYPOTHESIS_PROFILE=thorough)
FUZZ = settings(deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])


# -- the laws ---------------------------------------------------------------------------
@FUZZ
@given(data=st.data())
def test_laws(worker, data):
    check_laws(worker, data, data.draw(process_params()))


def check_laws(worker, data, p):
    """``logpdf``, ``score`` and ``radial_cdf`` of a drawn transition or stationary law."""
    t = data.draw(st.one_of(st.none(), TIME))
    y = data.draw(points(p["dim"]))
    n = y.shape[0]
    zeros = int(np.all(y == 0, axis=1).sum())
    check(worker.call("law_logpdf", p=p, t=t, y=y), [(n,)], allow_neginf=True,
          allow_posinf_at=zeros)
    check(worker.call("law_score", p=p, t=t, y=y), [(n, p["dim"])])
    r = np.abs(y[:, 0]).astype(np.float64)
    out = worker.call("law_radial_cdf", p=p, t=t, r=r)
    check(out, [(n,)])
    if out["status"] == "ok":
        lo, hi = out["outputs"][0][5], out["outputs"][0][6]
        assert lo >= 0.0 and hi <= 1.0, out


@FUZZ
@given(data=st.data())
def test_laws_of_other_amplitudes(worker, data):
    """Route "renewal": Gaussian, and Student-t with nu from 2 + 1e-9 to 1e6 (above 50, and
    m above 16: ValueError)."""
    p = data.draw(process_params())
    p["amplitude"] = data.draw(st.sampled_from(["gaussian", "student-t"]))
    p["nu"] = 2.0 + data.draw(logu(1e-9, 1e6))
    check_laws(worker, data, p)


def check_samplers(worker, data, p, x0, t, seed):
    """``sample``, ``TransitionLaw.sample`` (a drawn time or stationary) and ``sample_path``."""
    n = x0.shape[0]
    check(worker.call("process_sample", p=p, x0=x0, t=t, seed=seed), [(n, p["dim"])])
    check(worker.call("law_sample", p=p, t=data.draw(st.one_of(st.none(), TIME)), n=n,
                      seed=seed), [(n, p["dim"])])
    times = np.cumsum(data.draw(st.lists(TIME, min_size=1, max_size=3)))
    check(worker.call("process_sample_path", p=p, x0=x0, times=times, seed=seed),
          [(n, times.shape[0], p["dim"])])


@FUZZ
@given(data=st.data())
def test_process_score_and_sampling(worker, data):
    p = data.draw(process_params())
    if p["dim"] > 16:
        p["dim"] = 16  # sampling cost is O(n D); the laws above cover D = 3072
    x0 = data.draw(points(p["dim"]))
    n = x0.shape[0]
    t = data.draw(st.one_of(TIME, st.lists(TIME, min_size=n, max_size=n).map(np.array)))
    seed = data.draw(st.integers(0, 2**63))
    check(worker.call("process_score", p=p, y=x0, t=t), [(n, p["dim"])])
    check_samplers(worker, data, p, x0, t, seed)
    check(worker.call("process_dsm_pairs", p=p, x0=x0, t=t, seed=seed),
          [(n, p["dim"]), (n, p["dim"])])


@FUZZ
@given(data=st.data())
def test_sampling_of_every_amplitude_law(worker, data):
    """Gaussian and Student-t amplitudes (nu from 2 + 1e-9 to 1e6): every sampler gives finite
    values or a ValueError, within the time bound."""
    p = data.draw(process_params())
    p["dim"] = min(p["dim"], 16)
    p["amplitude"] = data.draw(st.sampled_from(["gaussian", "student-t"]))
    p["nu"] = 2.0 + data.draw(logu(1e-9, 1e6))
    x0 = data.draw(points(p["dim"]))
    n = x0.shape[0]
    t = data.draw(st.one_of(TIME, st.lists(TIME, min_size=n, max_size=n).map(np.array)))
    seed = data.draw(st.integers(0, 2**63))
    check_samplers(worker, data, p, x0, t, seed)


@FUZZ
@given(data=st.data())
def test_reverse_samplers(worker, data):
    p = data.draw(process_params())
    p["dim"] = min(p["dim"], 3)
    T = data.draw(logu(1e-2, 1e3))
    out = worker.call("reverse", p=p, n=2, steps=data.draw(st.integers(1, 4)), T=T,
                      t_min=data.draw(logu(1e-6, 1.0)) * T / 2,
                      solver=data.draw(st.sampled_from(["exp-euler", "exp-heun", "euler"])),
                      seed=data.draw(st.integers(0, 1000)), eta=data.draw(st.sampled_from([0.0, 1.0])))
    check(out, [(2, p["dim"])])


# -- targets, metrics, tables, learning, CLI ---------------------------------------------------
@FUZZ
@given(data=st.data())
def test_targets(worker, data):
    dim = data.draw(st.sampled_from([1, 2, 16]))
    n = data.draw(st.integers(1, 4))
    seed = data.draw(st.integers(0, 1000))
    check(worker.call("target_stable", alpha=data.draw(st.floats(0.05, 2.0)),
                      variance=data.draw(logu(1e-300, 1e300)), dim=dim, n=n, seed=seed),
          [(n, dim)])
    x = data.draw(points(dim))
    t = data.draw(TIME)
    k = data.draw(st.integers(1, 3))
    means = data.draw(points(dim, rows=st.just(k))).astype(np.float64)
    check(worker.call("target_mixture", weights=np.full(k, 1.0 / k), means=means,
                      variances=np.array([data.draw(logu(1e-300, 1e300)) for _ in range(k)]),
                      n=n, seed=seed, x=x, t=t), [(n, dim), x.shape])
    check(worker.call("target_bessel", j=data.draw(st.integers(1, 6)),
                      b=data.draw(logu(1e-300, 1e300)), dim=dim, n=n, seed=seed, x=x, t=t),
          [(n, dim), x.shape])


@FUZZ
@given(data=st.data())
def test_metrics(worker, data):
    dim = data.draw(st.sampled_from([1, 2, 16]))
    x = data.draw(points(dim, rows=st.integers(2, 6)))
    y = data.draw(points(dim, rows=st.integers(2, 6)))
    check(worker.call("metric", entry_name="energy_distance", x=x, y=y), [()])
    check(worker.call("metric", entry_name="sliced_wasserstein", x=x, y=y, n_projections=8,
                      p=data.draw(st.sampled_from([1, 2, 7])), rng=0), [()])
    check(worker.call("metric", entry_name="tail_msle", x=x, y=y), [()])
    check(worker.call("metric", entry_name="energy_test", x=x, y=y, permutations=9, rng=0),
          [None, None])


@FUZZ
@given(data=st.data())
def test_table_learn_and_cli(worker, data):
    y = data.draw(points(2))
    n = y.shape[0]
    check(worker.call("table_score", y=y, t=data.draw(logu(0.5, 2.0))), [(n, 2)])
    # invalid builds only (a valid one takes seconds): each must be a quick ValueError
    bad = data.draw(st.sampled_from([
        dict(t_min=2.0, t_max=1.0, rtol=1e-3, diffusion=1.0, jump_rate=0.7),
        dict(t_min=0.0, t_max=1.0, rtol=1e-3, diffusion=1.0, jump_rate=0.7),
        dict(t_min=0.5, t_max=1.0, rtol=0.0, diffusion=1.0, jump_rate=0.7),
        dict(t_min=0.5, t_max=float("nan"), rtol=1e-3, diffusion=1.0, jump_rate=0.7),
        dict(t_min=0.5, t_max=1.0, rtol=1e-3, diffusion=0.0, jump_rate=1.0)]))
    assert worker.call("table_args", **bad)["status"] == "ValueError"
    p = data.draw(process_params())
    p["dim"] = 2
    data_pts = data.draw(points(2, rows=st.integers(1, 4)))
    check(worker.call("learn_batches", p=p, data=data_pts, batch_size=data.draw(st.integers(1, 4)),
                      T=data.draw(logu(1e-2, 1e3)), t_min=1e-3 / 2, seed=0),
          [None, None, None])
    check(worker.call("learned_score", x=y, t=data.draw(logu(1e-3, 10.0))), [(n, 2)])
    token = st.one_of(st.sampled_from(["demo", "study", "bench", "heavy-tail", "--n", "--repeat",
                                       "--seeds", "--steps", "--epochs", "--figure", "--quick",
                                       "closed-form", "forward", "nosuch", "0", "-5", "1,2",
                                       "1e300", "nan", ""]),
                      st.integers(-10**6, 10**6).map(str))
    argv = data.draw(st.lists(token, max_size=5))
    out = worker.call("cli_parse", argv=argv)
    assert out["status"] in ("ok", "SystemExit"), out
    if out["status"] == "SystemExit":
        assert out["code"] in (0, 2), out
