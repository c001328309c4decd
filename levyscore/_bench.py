"""Benchmarks: levyscore kernels against the NumPy/SciPy code a careful user would write.

Run with ``python -m levyscore bench``. Each benchmark times the levyscore kernel and its
baseline in the same run (best of ``repeat`` after a warm-up call that also triggers Numba
compilation) and reports the ratio. Results are recorded in ``docs/benchmarks.md``.

``python -m levyscore bench gpu`` (not part of the default set) times the CUDA paths against
the CPU paths of the same run; it is skipped, with a message, without CuPy or a device. With
the environment variable ``LEVYSCORE_BENCH_JSON`` set to a path, :func:`run` also writes its
records there as JSON.
"""
import json
import math
import os
import platform
import time

import numpy as np

__all__ = ["run", "machine_info", "BENCHMARKS"]


def _best_of(fn, repeat):
    fn()  # warm-up (JIT compilation, caches)
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _best_of_each(fns, repeat):
    """Best time of each callable in ``fns``, timed in turn within each of ``repeat`` rounds
    (after one warm-up call each), so that every ratio between them is taken under the same
    conditions: on a shared two-core machine the speed of both cores drifts between and
    within processes."""
    for fn in fns:
        fn()
    best = [np.inf] * len(fns)
    for _ in range(repeat):
        for k, fn in enumerate(fns):
            t0 = time.perf_counter()
            fn()
            best[k] = min(best[k], time.perf_counter() - t0)
    return best


def bench_score(n=1_000_000, repeat=3, seed=0):
    """Closed-form generalized score, D = 2, m = 1, against the SciPy ``kve`` formula."""
    import levyscore
    from levyscore._baselines import scipy_closed_form_score

    proc = levyscore.JumpDiffusion(2, theta=0.5, diffusion=0.0, jump_rate=1.0, jump_var=2.0)
    y = np.random.default_rng(seed).standard_normal((n, 2)) * 2.0
    t = 1.0
    ours = proc.transition(t)
    err = np.max(np.abs(ours.score(y) - scipy_closed_form_score(y, t, 0.5, 1.0, proc.b))
                 / np.maximum(np.abs(scipy_closed_form_score(y, t, 0.5, 1.0, proc.b)), 1e-300))
    t_ours, t_base = _best_of_each(
        [lambda: ours.score(y), lambda: scipy_closed_form_score(y, t, 0.5, 1.0, proc.b)], repeat)
    return dict(name="score closed form (D=2, m=1)", n=n, levyscore_s=t_ours, baseline_s=t_base,
                ratio=t_base / t_ours, rate=n / t_ours, unit="points/s",
                baseline="scipy.special.kve formula", max_rel_diff=float(err))


def bench_forward(n=1_000_000, repeat=3, seed=0):
    """Exact forward sampling, D = 2, t = 10, default process, against the NumPy baseline."""
    import levyscore
    from levyscore._baselines import forward_increments_numpy

    proc = levyscore.JumpDiffusion(2)  # theta 0.5, diffusion 1, jump_rate 1, jump_var 2
    law = proc.transition(10.0)
    t_ours = _best_of(lambda: law.sample(n, rng=seed), repeat)
    t_base = _best_of(lambda: forward_increments_numpy(seed, n, 2, proc.theta, proc.diffusion,
                                                       proc.jump_rate, proc.jump_var, 10.0),
                      repeat)
    return dict(name="forward sampling (D=2, t=10)", n=n, levyscore_s=t_ours, baseline_s=t_base,
                ratio=t_base / t_ours, rate=n / t_ours, unit="samples/s",
                baseline="NumPy Poisson + bincount")


def bench_amplitudes(n=1_000_000, repeat=3, seed=0):
    """Forward sampling of each amplitude law, D = 2, t = 10, m = 1.3 (non-integer).

    Each law's time is compared with the Laplace sampler's compound-Poisson route at the same
    lambda and t (the issue-11 target: within 1.5x) and with the NumPy baseline for that law.
    The laws are timed in turn within each repetition (best of ``repeat`` rounds), so that a
    drift of the machine's speed during the run does not favour one of them.
    """
    import levyscore
    from levyscore._baselines import forward_increments_numpy
    from levyscore.amplitudes import Gaussian, Laplace, StudentT

    laws = (("laplace", Laplace()), ("gaussian", Gaussian()), ("student-t3", StudentT(3)),
            ("student-t5", StudentT(5)))
    jobs = {}
    for label, amp in laws:
        proc = levyscore.JumpDiffusion(2, jump_rate=1.3, amplitude=amp)
        law = proc.transition(10.0)
        jobs[label] = (lambda law=law: law.sample(n, rng=seed),
                       lambda proc=proc, amp=amp: forward_increments_numpy(
                           seed, n, 2, proc.theta, proc.diffusion, proc.jump_rate,
                           proc.jump_var, 10.0, amplitude=amp))
    best = {label: [np.inf, np.inf] for label in jobs}
    for fns in jobs.values():
        fns[0]()  # warm-up (JIT compilation)
    for _ in range(repeat):
        for label, fns in jobs.items():
            for k, fn in enumerate(fns):
                t0 = time.perf_counter()
                fn()
                best[label][k] = min(best[label][k], time.perf_counter() - t0)
    t_lap = best["laplace"][0]
    rec = dict(name="forward sampling per amplitude law (D=2, t=10, m=1.3)", n=n,
               laplace_s=t_lap, laplace_numpy_s=best["laplace"][1])
    parts = [f"laplace {t_lap:.4f} s (NumPy {best['laplace'][1] / t_lap:.1f}x slower)"]
    for label, _ in laws[1:]:
        ours, base = best[label]
        rec[label] = dict(levyscore_s=ours, numpy_s=base, vs_laplace=ours / t_lap,
                          ratio=base / ours)
        parts.append(f"{label} {ours:.4f} s ({ours / t_lap:.2f}x Laplace, NumPy "
                     f"{base / ours:.1f}x slower)")
    rec["line"] = f"{rec['name']}: n={n}, " + ", ".join(parts)
    return rec


def bench_reverse_step(n=1_000_000, repeat=3, seed=0):
    """Solver overhead of one reverse step relative to one closed-form score evaluation.

    Exponential Euler, D = 2, pure jump m = 1, as ODE (eta = 0) and SDE (eta = 1): the step
    time minus the score time, divided by the score time. The score is the process's own
    (``proc.score``: the ODE step fuses it with its combine); ``overhead_ode_callable`` is the
    ODE step with any other callable (the same score behind a lambda: score, then combine),
    and ``step_s`` the absolute step times. ``sde_parts`` splits the SDE step's extra time,
    as fractions of the score: the step kernel (``ReverseNoise.step``, a pass over x, s and
    the result with the exact noise) with the case's jump rate and with a jump rate of
    1e-12 (no row draws a jump), and the first Philox block of every sample alone (the
    vectorized loop that decides "no jump"), the least any exact noise costs.
    """
    import levyscore
    from levyscore._reverse import ExpEuler, ReverseNoise
    from levyscore._seeding import philox_key

    proc = levyscore.JumpDiffusion(2, theta=0.5, diffusion=0.0, jump_rate=1.0, jump_var=2.0)
    x = proc.stationary().sample(n, rng=seed)
    score = proc.score
    key = philox_key(seed)
    steps = [lambda eta=eta: ExpEuler(proc, score, eta=eta).step(
        1.0, 0.99, x, 0, ReverseNoise(proc, eta, key)) for eta in (0.0, 1.0)]
    other = ExpEuler(proc, lambda y, t: score(y, t))
    s = score(x, 1.0)
    h = proc.clock(1.0) - proc.clock(0.99)
    kernel = [lambda eta=eta: ReverseNoise(proc, eta, key).step(0, 1.0, x, 0.5, s, h)
              for eta in (1.0, 1e-12)]
    first_blocks = _first_blocks_kernel()
    blocks = np.empty((n + 255) // 256)
    k0, k1 = (np.uint64(v) for v in key)
    t_score, t_ode, t_sde, t_callable, t_kernel, t_quiet, t_blocks = _best_of_each(
        [lambda: score(x, 1.0), *steps, lambda: other.step(1.0, 0.99, x, 0, None), *kernel,
         lambda: first_blocks(n, k0, k1, blocks)], repeat)
    out = {0.0: t_ode, 1.0: t_sde}
    parts = dict(step_kernel=t_kernel / t_score, step_kernel_no_jumps=t_quiet / t_score,
                 first_blocks=t_blocks / t_score)
    return dict(name="reverse step overhead (exp-Euler, D=2)", n=n, levyscore_s=out[0.0],
                baseline_s=t_score, ratio=t_score / out[0.0], rate=n / out[0.0],
                unit="points/step/s", baseline="one closed-form score evaluation",
                overhead_ode=(out[0.0] - t_score) / t_score,
                overhead_sde=(out[1.0] - t_score) / t_score,
                overhead_ode_callable=(t_callable - t_score) / t_score,
                step_s=dict(ode=out[0.0], sde=out[1.0], ode_callable=t_callable),
                sde_parts=parts)


def _first_blocks_kernel():
    """The first jump-stream Philox block of samples ``0 .. n-1`` (reverse domain, step 0),
    256 at a time in the vectorized loop of the SDE step
    (:func:`levyscore._forward.first_uniforms`); one uniform per batch is kept."""
    import numba as nb

    from levyscore import _forward

    cj = _forward.stream_word(_forward.DOMAIN_REVERSE_JUMP, 0)

    @nb.njit(cache=True, parallel=True)
    def first_blocks(n, k0, k1, out):
        for batch in nb.prange((n + 255) // 256):
            u1 = np.empty(256)
            _forward.first_uniforms(np.uint64(256 * batch), min(256, n - 256 * batch), cj, k0,
                                    k1, u1)
            out[batch] = u1[0]

    return first_blocks


def _floor_kernel():
    """The memory floor of a radial score (Numba, compiled on first use): two bare loops that
    read each row, take its norm and write ``-y h`` with the cheapest h that depends on it,
    one summing the norm in index order, one with ``fastmath`` (the sum reassociated into
    vector lanes). Neither is the faster at every D (index order at D = 2, lanes from
    D = 64 on, where the index-order sum waits on each addition); the floor is the faster."""
    import numba as nb

    def floor_loop(y, out):
        n, dim = y.shape
        for i in nb.prange(n):
            r2 = 0.0
            for d in range(dim):
                r2 += y[i, d] * y[i, d]
            h = 1.0 / (1.0 + math.sqrt(r2))
            for d in range(dim):
                out[i, d] = -h * y[i, d]

    # Numba's cache keys on the function and signature, not on the flags: only the first
    # compilation is cached (the fastmath one compiles anew in each process, ~1 s)
    return (nb.njit(cache=True, parallel=True)(floor_loop),
            nb.njit(parallel=True, fastmath=True)(floor_loop))


def bench_floor(n=2_000_000, repeat=7, seed=0, dims=(2, 64, 3072)):
    """Closed-form score (pure jump, m = 1, t = 1) against the machine's floor loops
    (:func:`_floor_kernel`) at D in ``dims``, about ``n`` array elements each, warm arrays,
    best of ``repeat``: ns per point, ns per element, and the ratio score / floor."""
    import levyscore

    floor_loops = _floor_kernel()
    lines, recs = [], []
    for dim in dims:
        rows = max(1, n // dim)
        proc = levyscore.JumpDiffusion(dim, theta=0.5, diffusion=0.0, jump_rate=1.0,
                                       jump_var=2.0)
        y = np.random.default_rng(seed).standard_normal((rows, dim)) * 2.0
        out = np.empty_like(y)
        *t_floors, t_score = _best_of_each(
            [*(lambda loop=loop: loop(y, out) for loop in floor_loops),
             lambda: proc.score(y, 1.0)], repeat)
        t_floor = min(t_floors)
        rec = dict(dim=dim, rows=rows, score_ns_point=1e9 * t_score / rows,
                   score_ns_element=1e9 * t_score / y.size,
                   floor_ns_element=1e9 * t_floor / y.size, ratio=t_score / t_floor)
        recs.append(rec)
        lines.append(f"  D={dim:5d}: score {rec['score_ns_point']:9.1f} ns/point "
                     f"({rec['score_ns_element']:.2f} ns/element), floor "
                     f"{rec['floor_ns_element']:.2f} ns/element, score/floor "
                     f"{rec['ratio']:.1f}x")
    # forward sampling at the largest D against NumPy's normals (most of its work)
    dim = dims[-1]
    rows = max(2, n // dim)
    law = levyscore.JumpDiffusion(dim).transition(1.0)
    t_fwd = _best_of(lambda: law.sample(rows, rng=seed), repeat)
    gen = np.random.default_rng(seed)
    buf = np.empty((rows, dim))
    t_np1 = _best_of(lambda: gen.standard_normal(out=buf), repeat)
    from concurrent.futures import ThreadPoolExecutor

    halves = (buf[: rows // 2], buf[rows // 2:])
    gens = [np.random.default_rng([seed, k]) for k in range(2)]
    with ThreadPoolExecutor(2) as pool:  # NumPy's generators release the GIL
        t_np2 = _best_of(lambda: list(pool.map(lambda k: gens[k].standard_normal(
            out=halves[k]), range(2))), repeat)
    fwd = dict(dim=dim, rows=rows, forward_ns_element=1e9 * t_fwd / buf.size,
               numpy_1_ns_element=1e9 * t_np1 / buf.size,
               numpy_2_ns_element=1e9 * t_np2 / buf.size)
    lines.append(f"  forward sampling, D={dim}: {fwd['forward_ns_element']:.2f} ns/element; "
                 f"NumPy standard_normal {fwd['numpy_1_ns_element']:.2f} ns/element on one "
                 f"thread, {fwd['numpy_2_ns_element']:.2f} on two")
    header = (f"closed-form score vs the floor (the faster of two bare loops: read, norm, "
              f"write -y h), ~{n} elements, "
              f"best of {repeat}:")
    return dict(name="floor", n=n, results=recs, forward=fwd,
                line="\n".join([header] + lines))


def bench_table(n=100_000, repeat=3, seed=0):
    """Tabulated conditional score against direct quadrature (jump-diffusion, D = 2)."""
    import tempfile

    import levyscore

    proc = levyscore.JumpDiffusion(2)  # route "mixture"
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        table = levyscore.ScoreTable.build(proc, 1e-3, 10.0, cache_dir=tmp)
        build = time.perf_counter() - t0
    rng = np.random.default_rng(seed)
    t = np.exp(rng.uniform(np.log(1e-3), np.log(10.0), n))
    y = proc.sample(np.zeros((n, 2)), t, rng=seed)
    err = np.max(np.abs(table.score(y, t) - proc.score(y, t)) / np.maximum(np.abs(proc.score(y, t)), 1e-300))
    t_table = _best_of(lambda: table.score(y, t), repeat)
    t_quad = _best_of(lambda: proc.score(y, t), 1)
    return dict(name="tabulated score (jump-diffusion, D=2)", n=n, levyscore_s=t_table,
                baseline_s=t_quad, ratio=t_quad / t_table, rate=n / t_table, unit="points/s",
                baseline="direct quadrature", max_rel_diff=float(err), build_s=build,
                certified=table.max_rel_error)


def bench_table_student_t(n=100_000, repeat=3, seed=0, n_direct=40, amplitude=None):
    """Tabulated conditional score against direct quadrature, Student-t amplitudes (nu = 5,
    jump-diffusion, D = 2, t in [0.05, 2]; route "renewal", MATH.md section 11), or another
    ``amplitude`` law.

    Direct quadrature costs a W-law table per distinct time, so it is timed on ``n_direct``
    points at distinct times (fresh process: no table kept) and the ratio is per point;
    ``shared_time_s`` is the direct cost per point at one time, tables excluded, for scale.
    """
    import tempfile

    import levyscore

    law = amplitude or levyscore.amplitudes.StudentT(5)

    def process():
        return levyscore.JumpDiffusion(2, amplitude=law)

    proc = process()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        table = levyscore.ScoreTable.build(proc, 0.05, 2.0, cache_dir=tmp)
        build = time.perf_counter() - t0
    rng = np.random.default_rng(seed)
    t = np.exp(rng.uniform(np.log(0.05), np.log(2.0), n))
    y = proc.sample(np.zeros((n, 2)), t, rng=seed)
    t_table = _best_of(lambda: table.score(y, t), repeat) / n
    t0 = time.perf_counter()
    exact = process().score(y[:n_direct], t[:n_direct])
    t_quad = (time.perf_counter() - t0) / n_direct
    err = np.max(np.abs(table.score(y[:n_direct], t[:n_direct]) - exact)
                 / np.maximum(np.abs(exact), 1e-300))
    one = np.full(n_direct * 25, t[0])
    proc.score(y[:1], one[:1])  # its W-table
    t_shared = _best_of(lambda: proc.score(y[:one.size], one), 1) / one.size
    return dict(name=f"tabulated score, {law!r} amplitudes (jump-diffusion, D=2)", n=n,
                levyscore_s=t_table * n, baseline_s=t_quad * n, ratio=t_quad / t_table,
                rate=1.0 / t_table, unit="points/s",
                baseline=f"direct quadrature, per point at distinct times ({n_direct} points)",
                max_rel_diff=float(err), build_s=build, certified=table.max_rel_error,
                shared_time_s=t_shared)


def bench_table_gaussian_jumps(n=100_000, repeat=3, seed=0, n_direct=40):
    """:func:`bench_table_student_t` for Gaussian (Merton) amplitudes."""
    import levyscore

    return bench_table_student_t(n, repeat, seed, n_direct, levyscore.amplitudes.Gaussian())


def bench_marginal(n=1_000_000, repeat=3, seed=0):
    """Tabulated exact marginal score of the benchmark (pure jump) against the closed-form score.

    The issue's yardstick: the oracle score must cost at most 3x one closed-form conditional
    score evaluation per point (same D = 2, m = 1 process, same n, same run). The table is
    loaded from the disk cache (built once, timed separately as ``build_s``). Points are the
    benchmark propagated to log-uniform times, so they sit where a sampler evaluates.
    """
    import levyscore
    from levyscore.targets import SubGaussianStable

    proc = levyscore.JumpDiffusion(2, theta=0.5, diffusion=0.0, jump_rate=1.0, jump_var=2.0)
    target = SubGaussianStable()
    t0 = time.perf_counter()
    table = target.marginal_table(proc)
    build = time.perf_counter() - t0
    t = 0.3
    x = proc.sample(target.sample(n, rng=seed), t, rng=seed)
    law = proc.transition(t)
    t_table = _best_of(lambda: table.score(x, t), repeat)
    t_closed = _best_of(lambda: law.score(x), repeat)
    return dict(name="exact marginal score, table (pure jump, D=2)", n=n, levyscore_s=t_table,
                baseline_s=t_closed, ratio=t_closed / t_table, rate=n / t_table, unit="points/s",
                baseline="closed-form conditional score", build_s=build,
                certified=table.max_rel_error)


#: Bytes per second of an H200's HBM3e (the bound of a memory-bound kernel).
H200_BANDWIDTH = 4.8e12


def _device_or_reason():
    """``(cupy, None)`` when CuPy and a CUDA device are usable, else ``(None, reason)``."""
    try:
        import cupy
    except ImportError:
        return None, "CuPy is not installed (pip install 'levyscore[gpu]')"
    try:
        if cupy.cuda.runtime.getDeviceCount() < 1:
            return None, "no CUDA device"
    except Exception as exc:  # CUDARuntimeError, missing driver
        return None, f"no usable CUDA device ({exc})"
    return cupy, None


def _best_of_events(cupy, fn, repeat):
    """Best device time (s) of ``fn`` over ``repeat`` runs after a warm-up, by CUDA events."""
    fn()  # warm-up: NVRTC compilation, module load, memory pool
    cupy.cuda.get_current_stream().synchronize()
    best = np.inf
    for _ in range(repeat):
        start, end = cupy.cuda.Event(), cupy.cuda.Event()
        start.record()
        fn()
        end.record()
        end.synchronize()
        best = min(best, cupy.cuda.get_elapsed_time(start, end) * 1e-3)
    return best


def bench_gpu(n=10_000_000, repeat=3, seed=0, n_cpu=1_000_000, bandwidth=H200_BANDWIDTH,
              cpu_threads=2, table=None):
    """CUDA paths against the CPU paths of the same run (D = 2), float32 and float64.

    At ``n`` points on the device, timed with CUDA events (best of ``repeat`` after a
    warm-up), against the CPU paths (float64, ``cpu_threads`` Numba threads: the 2-core
    reference machine) at ``n_cpu`` points, scaled per point:

    * ``score``: closed-form score (pure jump, m = 1, t = 1);
    * ``forward``: forward sampling ``X_t`` from ``x0`` (default process, t = 10);
    * ``ode-step``: one exponential-Euler ODE step (score plus ``combine``);
    * ``pairs``: denoising score-matching pairs ``(x_t, target)`` (pure jump, t = 1: the
      forward kernel twice and the score kernel);
    * ``table``: :class:`levyscore.ScoreTable` lookup (default jump-diffusion, t = 1, points
      drawn from its forward law; ``table`` is built on ``[1e-3, 10]`` unless given).

    Each device time is also compared with the memory-bandwidth bound: the bytes a kernel
    must move (its inputs read and its results written once) divided by ``bandwidth`` (an
    H200's 4.8e12 B/s by default).
    """
    cupy, reason = _device_or_reason()
    if cupy is None:
        msg = f"gpu benchmark skipped: {reason}"
        return dict(name="gpu", n=n, skipped=reason, line=msg)
    import tempfile

    import levyscore
    from levyscore._reverse import ExpEuler, ReverseNoise
    from levyscore._seeding import philox_key

    dim = 2
    jump = levyscore.JumpDiffusion(dim, theta=0.5, diffusion=0.0, jump_rate=1.0, jump_var=2.0)
    default = levyscore.JumpDiffusion(dim)
    if table is None:
        with tempfile.TemporaryDirectory() as tmp:
            table = levyscore.ScoreTable.build(default, 1e-3, 10.0, cache_dir=tmp)
    law = jump.transition(1.0)
    noise = ReverseNoise(jump, 0.0, philox_key(seed))
    ode = ExpEuler(jump, jump.score, eta=0.0)

    def cases(y, x0, y_table):
        """op -> (call, bytes moved per point at storage size ``size``)."""
        return {
            "score": (lambda: law.score(y), lambda size: 2 * dim * size),  # read y, write S
            # read x0; write X, W (storage type) and N (int64)
            "forward": (lambda: default.sample(x0, 10.0, rng=seed),
                        lambda size: 2 * dim * size + size + 8),
            # score (read x, write S) then combine (read x and S, write x')
            "ode-step": (lambda: ode.step(1.0, 0.99, y, 0, noise), lambda size: 5 * dim * size),
            # read x0; write x_t and the target
            "pairs": (lambda: jump.dsm_pairs(x0, 1.0, rng=seed), lambda size: 3 * dim * size),
            # read y, write S
            "table": (lambda: table.score(y_table, 1.0), lambda size: 2 * dim * size),
        }

    host_y = np.random.default_rng(seed).standard_normal((n_cpu, dim)) * 2.0
    host_x0 = np.zeros((n_cpu, dim))
    host_table_y = table.process.sample(host_x0, 1.0, rng=seed)
    import numba

    threads = numba.get_num_threads()
    numba.set_num_threads(max(1, min(cpu_threads, threads)))
    try:
        cpu = {name: _best_of(fn, repeat)
               for name, (fn, _) in cases(host_y, host_x0, host_table_y).items()}
        cpu_used = numba.get_num_threads()
    finally:
        numba.set_num_threads(threads)
    results = []
    lines = []
    props = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.runtime.getDevice())
    device = props["name"].decode() if isinstance(props["name"], bytes) else str(props["name"])
    for dtype in (np.float32, np.float64):
        size = np.dtype(dtype).itemsize
        y = (cupy.random.default_rng(seed).standard_normal((n, dim), dtype=np.float64)
             * 2.0).astype(dtype)
        x0 = cupy.zeros((n, dim), dtype=dtype)
        y_table = table.process.sample(x0, 1.0, rng=seed)
        for name, (fn, per_point) in cases(y, x0, y_table).items():
            nbytes = n * per_point(size)
            t_gpu = _best_of_events(cupy, fn, repeat)
            cpu_rate = n_cpu / cpu[name]
            gpu_rate = n / t_gpu
            rec = dict(op=name, dtype=np.dtype(dtype).name, n=n, dim=dim, gpu_s=t_gpu,
                       gpu_rate=gpu_rate, cpu_n=n_cpu, cpu_threads=cpu_used, cpu_s=cpu[name],
                       cpu_rate=cpu_rate,
                       speedup=gpu_rate / cpu_rate, bytes=nbytes,
                       bandwidth_fraction=nbytes / t_gpu / bandwidth)
            results.append(rec)
            lines.append(f"  {name:9s} {rec['dtype']}: {t_gpu * 1e3:8.3f} ms for n={n} "
                         f"({gpu_rate:.3g} points/s), {rec['speedup']:.1f}x the CPU "
                         f"({cpu_rate:.3g} points/s at n={n_cpu}), "
                         f"{100 * rec['bandwidth_fraction']:.1f}% of {bandwidth:.2g} B/s")
        del y, x0, y_table
        cupy.get_default_memory_pool().free_all_blocks()
    header = (f"gpu ({device}) vs CPU ({cpu_used} Numba threads, float64), D={dim}, "
              f"best of {repeat} (CUDA events after a warm-up):")
    return dict(name="gpu", n=n, device=device, bandwidth=bandwidth, results=results,
                line="\n".join([header] + lines))


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def bench_dask(n=100_000_000, repeat=1, seed=0, chunk=1_000_000):
    """Forward sampling through Dask against the in-memory call of the same kernel (D = 2).

    * ``array``: ``X_t`` of ``n`` points (default jump-diffusion, t = 1) materialised, in
      memory vs from a Dask array of ``chunk``-row blocks on the threaded scheduler (the
      per-chunk overhead: task graph, scheduling, concatenation); the two must be equal;
    * ``reduce``: the same draws reduced to ``sum x**2`` block by block (streaming: a few
      blocks in memory) vs the in-memory array then its sum;
    * ``cluster``: the reduction on a ``distributed.LocalCluster`` of 1 worker process with
      all cores vs 2 worker processes with one core each (strong scaling of the
      task-per-block path; the scheduler's overhead per task is ``(t - t_ideal) / tasks``).

    Best of ``repeat`` after a warm-up at ``chunk`` points.
    """
    import dask
    import dask.array as da

    import levyscore

    proc = levyscore.JumpDiffusion(2)
    chunks = (chunk, 2)

    def memory():
        return proc.sample(np.zeros((n, 2)), 1.0, rng=seed)

    def lazy():
        return proc.sample(da.zeros((n, 2), chunks=chunks), 1.0, rng=seed)

    proc.sample(np.zeros((chunk, 2)), 1.0, rng=seed)  # warm-up: compilation, caches
    t_mem, want = min((_timed(memory) for _ in range(repeat)), key=lambda r: r[0])
    with dask.config.set(scheduler="threads"):
        t_arr, got = min((_timed(lambda: lazy().compute()) for _ in range(repeat)),
                         key=lambda r: r[0])
        equal = bool(np.array_equal(got, want))
        del got
        t0 = time.perf_counter()
        total = float(np.sum(want * want))
        t_mem_red = t_mem + time.perf_counter() - t0
        del want
        t_red, streamed = min((_timed(lambda: float((lazy() ** 2).sum().compute()))
                               for _ in range(repeat)), key=lambda r: r[0])
    rec = dict(name="dask", n=n, chunk=chunk, memory_s=t_mem, dask_array_s=t_arr,
               array_ratio=t_arr / t_mem, equal=equal, memory_reduce_s=t_mem_red,
               dask_reduce_s=t_red, reduce_ratio=t_red / t_mem_red,
               reduce_rel_diff=abs(streamed - total) / total)
    lines = [f"dask forward sampling (D=2, n={n}, chunks of {chunk}, threads): in memory "
             f"{t_mem:.2f} s, Dask array {t_arr:.2f} s ({rec['array_ratio']:.2f}x, "
             f"bit-identical: {equal}); sum of squares: in memory {t_mem_red:.2f} s, streamed "
             f"{t_red:.2f} s ({rec['reduce_ratio']:.2f}x, rel diff {rec['reduce_rel_diff']:.1e})"]
    try:
        import distributed
    except ImportError:  # pragma: no cover - the dask extra brings it
        rec["line"] = lines[0]
        return rec
    cores = os.cpu_count() or 1
    # one core per worker (one task thread, one Numba thread), then one worker on every core
    setups = [(1, 1), (2, 1)] + ([(1, cores)] if cores > 1 else [])
    for workers, threads in setups:
        # Numba reads its thread count at import: set before the worker process starts
        with dask.config.set({"distributed.nanny.pre-spawn-environ.NUMBA_NUM_THREADS":
                              threads}), \
                distributed.LocalCluster(n_workers=workers, threads_per_worker=threads,
                                         processes=True, dashboard_address=None) as cluster, \
                distributed.Client(cluster) as client:
            client.run(lambda: proc.sample(np.zeros((chunk, 2)), 1.0, rng=seed))  # warm-up
            t_c, _ = min((_timed(lambda: float(client.compute((lazy() ** 2).sum(),
                                                              sync=True)))
                          for _ in range(repeat)), key=lambda r: r[0])
        rec[f"cluster_{workers}x{threads}_s"] = t_c
        lines.append(f"  LocalCluster {workers} worker process(es) x {threads} core(s): "
                     f"{t_c:.2f} s for the streamed sum ({n / t_c:.3g} points/s)")
    rec["cluster_speedup"] = rec["cluster_1x1_s"] / rec["cluster_2x1_s"]
    lines.append(f"  2 workers vs 1 (one core each): {rec['cluster_speedup']:.2f}x")
    rec["line"] = "\n".join(lines)
    return rec


BENCHMARKS = {"score": bench_score, "forward": bench_forward, "amplitudes": bench_amplitudes,
              "reverse": bench_reverse_step,
              "table": bench_table, "table-student-t": bench_table_student_t,
              "table-gaussian-jumps": bench_table_gaussian_jumps,
              "marginal": bench_marginal, "gpu": bench_gpu, "dask": bench_dask,
              "floor": bench_floor}
#: The default set of ``python -m levyscore bench`` (the GPU and marginal benchmarks are asked
#: for by name: the marginal one builds its table, about a minute, on a cold cache).
DEFAULT = ("score", "forward", "amplitudes", "reverse", "table", "floor")


def machine_info():
    """A short description of this machine and the thread settings."""
    import numba

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return dict(cpu=cpu, cores=os.cpu_count(), numba_threads=numba.get_num_threads(),
                python=platform.python_version(), numpy=np.__version__, numba=numba.__version__)


def run(names=None, *, n=None, repeat=3, out=print):
    """Run the named benchmarks (the default set when none), print a table, return the records.

    Parameters
    ----------
    names : sequence of str, optional
        Keys of :data:`BENCHMARKS`; default :data:`DEFAULT`.
    n : int, optional
        Problem size, ``>= 1`` (default: each benchmark's own).
    repeat : int
        Timed repetitions, ``>= 1`` (the best is kept).
    out : callable
        Receives each output line.

    Returns
    -------
    list of dict

    Raises
    ------
    ValueError
        For an unknown name, or ``n`` or ``repeat`` not an integer ``>= 1``.
    """
    from ._validation import check_count

    names = list(DEFAULT) if not names else names
    for name in names:
        if name not in BENCHMARKS:
            raise ValueError(f"names: unknown benchmark {name!r}; choose from "
                             f"{', '.join(BENCHMARKS)}")
    for label, value in (("n", n), ("repeat", repeat)):
        if value is not None and check_count(value, label) < 1:
            raise ValueError(f"{label} must be an integer >= 1, got {value}")
    info = machine_info()
    out("machine: " + ", ".join(f"{k}={v}" for k, v in info.items()))
    records = []
    for name in names:
        kwargs = {"repeat": repeat}
        if n is not None:
            kwargs["n"] = n
        rec = BENCHMARKS[name](**kwargs)
        records.append(rec)
        if "line" in rec:
            out(rec["line"])
            continue
        out(f"{rec['name']}: n={rec['n']}, levyscore {rec['levyscore_s']:.4f} s, "
            f"{rec['baseline']} {rec['baseline_s']:.4f} s, ratio {rec['ratio']:.1f}x, "
            f"{rec['rate']:.3g} {rec['unit']}"
            + (f", max rel diff {rec['max_rel_diff']:.1e}" if "max_rel_diff" in rec else "")
            + (f", solver overhead ODE {100 * rec['overhead_ode']:.0f}% (other score "
               f"callables {100 * rec['overhead_ode_callable']:.0f}%), SDE "
               f"{100 * rec['overhead_sde']:.0f}% (steps: ODE {rec['step_s']['ode']:.4f} s, "
               f"SDE {rec['step_s']['sde']:.4f} s); of the score: step kernel "
               f"{100 * rec['sde_parts']['step_kernel']:.0f}% (no jumps "
               f"{100 * rec['sde_parts']['step_kernel_no_jumps']:.0f}%), first Philox blocks "
               f"{100 * rec['sde_parts']['first_blocks']:.0f}%"
               if "overhead_ode" in rec else "")
            + (f", table build {rec['build_s']:.1f} s, certified error {rec['certified']:.1e}"
               if "build_s" in rec else "")
            + (f", direct at one shared time {rec['shared_time_s'] * 1e6:.0f} us/point"
               if "shared_time_s" in rec else ""))
    path = os.environ.get("LEVYSCORE_BENCH_JSON")
    if path:
        with open(path, "w") as fh:
            json.dump({"machine": info, "records": records}, fh, indent=2, default=float)
    return records
