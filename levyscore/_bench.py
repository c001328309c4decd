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


def scipy_closed_form_score(y, t, theta, jump_rate, b):
    """Vectorised SciPy generalized score, pure jump, m = 1 (MATH.md section 4).

    ``S = -lambda y / 2 - lambda b q/(1-q) (y/r) K_{D/2}(r/b) / K_{D/2-1}(r/b)``, with the
    Bessel ratio from exponentially scaled ``scipy.special.kve``.
    """
    from scipy.special import kve

    dim = y.shape[-1]
    q = np.exp(-2.0 * theta * t)
    r = np.sqrt(np.einsum("ij,ij->i", y, y))
    rho = r / b
    ratio = kve(dim / 2.0, rho) / kve(dim / 2.0 - 1.0, rho)
    h = 0.5 * jump_rate + jump_rate * b * q / (1.0 - q) * ratio / r
    return -h[:, None] * y


def bench_score(n=1_000_000, repeat=3, seed=0):
    """Closed-form generalized score, D = 2, m = 1, against the SciPy ``kve`` formula."""
    import levyscore

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


BENCHMARKS = {"score": bench_score}


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
            + (f", max rel diff {rec['max_rel_diff']:.1e}" if "max_rel_diff" in rec else ""))
    return records
