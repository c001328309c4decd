"""One-shot GPU check of levyscore: the device tests and the GPU benchmark, logs in a folder.

Usage (from the repository root, on a machine with a CUDA device and CuPy installed)::

    python tools/gpu_check.py OUTDIR        # or: OUT=OUTDIR python tools/gpu_check.py

Runs, each with its output captured in OUTDIR:

* ``pytest -m gpu -q`` over ``tests/test_gpu_parity.py`` and ``tests/test_gpu_paths.py``
  (every registered kernel against Numba, and every public GPU path against the CPU path):
  ``pytest_gpu.log`` and ``pytest_gpu.xml`` (JUnit);
* ``python -m levyscore bench gpu``: ``bench_gpu.log`` and ``bench_gpu.json``;
* ``summary.json``: exit codes, wall times, the device seen by CuPy.

Installs nothing. Exits with the first non-zero exit code (0 when all passed).
"""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GPU_TESTS = ("tests/test_gpu_parity.py", "tests/test_gpu_paths.py")


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO)] + ([env["PYTHONPATH"]]
                                                       if env.get("PYTHONPATH") else []))
    return env


def _run(cmd, log, env, timeout):
    t0 = time.perf_counter()
    with open(log, "w") as fh:
        fh.write("$ " + " ".join(cmd) + "\n")
        fh.flush()
        try:
            rc = subprocess.run(cmd, cwd=REPO, env=env, stdout=fh, stderr=subprocess.STDOUT,
                                timeout=timeout).returncode
        except subprocess.TimeoutExpired:
            fh.write(f"\n*** timed out after {timeout} s\n")
            rc = 124
    wall = time.perf_counter() - t0
    print(f"{' '.join(cmd[:4])} ...: rc={rc} in {wall:.0f} s (log {log})", flush=True)
    return rc, wall


def _device():
    try:
        import cupy

        rt = cupy.cuda.runtime
        props = rt.getDeviceProperties(rt.getDevice())
        name = props["name"]
        return dict(cupy=cupy.__version__, count=rt.getDeviceCount(),
                    name=name.decode() if isinstance(name, bytes) else str(name),
                    runtime=rt.runtimeGetVersion(), driver=rt.driverGetVersion())
    except Exception as exc:  # report, do not fail: pytest and the bench say why too
        return dict(error=f"{type(exc).__name__}: {exc}")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    out = argv[0] if argv else os.environ.get("OUT")
    if not out:
        raise SystemExit("usage: python tools/gpu_check.py OUTDIR (or set OUT)")
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    env = _env()
    summary = dict(python=sys.version.split()[0], device=_device(), steps={})
    print(f"device: {summary['device']}", flush=True)

    rc, wall = _run([sys.executable, "-m", "pytest", "-m", "gpu", "-q", "-p", "no:cacheprovider",
                     f"--junitxml={out / 'pytest_gpu.xml'}", *GPU_TESTS],
                    out / "pytest_gpu.log", env, timeout=int(os.environ.get("GPU_TEST_TIMEOUT",
                                                                             "420")))
    summary["steps"]["pytest_gpu"] = dict(rc=rc, wall_s=wall)

    bench_env = {**env, "LEVYSCORE_BENCH_JSON": str(out / "bench_gpu.json")}
    rc_b, wall_b = _run([sys.executable, "-m", "levyscore", "bench", "gpu"],
                        out / "bench_gpu.log", bench_env,
                        timeout=int(os.environ.get("GPU_BENCH_TIMEOUT", "240")))
    summary["steps"]["bench_gpu"] = dict(rc=rc_b, wall_s=wall_b)

    with open(out / "summary.json", "w") as fh:
        json.dump(summary, fh, indent=2)
    for name in ("pytest_gpu.log", "bench_gpu.log"):
        lines = (out / name).read_text().splitlines()
        print(f"--- tail of {name}\n" + "\n".join(lines[-15:]), flush=True)
    return next((r for r in (rc, rc_b) if r != 0), 0)


if __name__ == "__main__":
    sys.exit(main())
