"""Benchmarks: levyscore kernels against the NumPy/SciPy code a careful user would write.

Run with ``python -m levyscore bench``. Each benchmark times the levyscore kernel and its
baseline in the same run (best of ``repeat`` after a warm-up call that also triggers Numba
compilation) and reports the ratio. Results are recorded in ``docs/benchmarks.md``.
"""
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
    t_ours = _best_of(lambda: ours.score(y), repeat)
    t_base = _best_of(lambda: scipy_closed_form_score(y, t, 0.5, 1.0, proc.b), repeat)
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


def bench_reverse_step(n=1_000_000, repeat=3, seed=0):
    """Solver overhead of one reverse step relative to one closed-form score evaluation.

    Exponential Euler, D = 2, pure jump m = 1, as ODE (eta = 0) and SDE (eta = 1): the step
    time minus the score time, divided by the score time.
    """
    import levyscore
    from levyscore._reverse import ExpEuler, ReverseNoise
    from levyscore._seeding import philox_key

    proc = levyscore.JumpDiffusion(2, theta=0.5, diffusion=0.0, jump_rate=1.0, jump_var=2.0)
    x = proc.stationary().sample(n, rng=seed)
    score = proc.score
    t_score = _best_of(lambda: score(x, 1.0), repeat)
    out = {}
    for eta in (0.0, 1.0):
        solver = ExpEuler(proc, score, eta=eta)
        noise = ReverseNoise(proc, eta, philox_key(seed))
        out[eta] = _best_of(lambda: solver.step(1.0, 0.99, x, 0, noise), repeat)
    return dict(name="reverse step overhead (exp-Euler, D=2)", n=n, levyscore_s=out[0.0],
                baseline_s=t_score, ratio=t_score / out[0.0], rate=n / out[0.0],
                unit="points/step/s", baseline="one closed-form score evaluation",
                overhead_ode=(out[0.0] - t_score) / t_score,
                overhead_sde=(out[1.0] - t_score) / t_score)


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


BENCHMARKS = {"score": bench_score, "forward": bench_forward, "reverse": bench_reverse_step,
              "table": bench_table}


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
    """Run the named benchmarks (all by default), print a table, return the records."""
    names = list(BENCHMARKS) if not names else names
    for name in names:
        if name not in BENCHMARKS:
            raise ValueError(f"unknown benchmark {name!r}; choose from {sorted(BENCHMARKS)}")
    info = machine_info()
    out("machine: " + ", ".join(f"{k}={v}" for k, v in info.items()))
    records = []
    for name in names:
        kwargs = {"repeat": repeat}
        if n is not None:
            kwargs["n"] = n
        rec = BENCHMARKS[name](**kwargs)
        records.append(rec)
        out(f"{rec['name']}: n={rec['n']}, levyscore {rec['levyscore_s']:.4f} s, "
            f"{rec['baseline']} {rec['baseline_s']:.4f} s, ratio {rec['ratio']:.1f}x, "
            f"{rec['rate']:.3g} {rec['unit']}"
            + (f", max rel diff {rec['max_rel_diff']:.1e}" if "max_rel_diff" in rec else "")
            + (f", solver overhead ODE {100 * rec['overhead_ode']:.0f}%, SDE {100 * rec['overhead_sde']:.0f}%"
               if "overhead_ode" in rec else "")
            + (f", table build {rec['build_s']:.1f} s, certified error {rec['certified']:.1e}"
               if "build_s" in rec else ""))
    return records
