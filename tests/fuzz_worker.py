"""Worker process of tests/test_fuzz.py: runs one public call per request, reports the outcome.

Protocol: the parent writes ``pickle((name, kwargs))`` frames (8-byte length prefix) on the
worker's stdin; the worker answers each with a pickled dict on stdout:

* ``{"status": "ok", "outputs": [(shape, dtype, n_nan, n_posinf, n_neginf, min, max), ...]}``
* ``{"status": "ValueError", "message": ...}``
* ``{"status": "error", "type": ..., "message": ..., "traceback": ...}`` for anything else.

The parent enforces the time bound (a Numba loop cannot be interrupted from inside) and
kills and restarts the worker on a timeout. The entry points below are the public API of
levyscore, called as a user would; nothing here inspects the library's internals.
"""
import io
import os
import pickle
import struct
import sys
import tempfile
import traceback

import numpy as np


def _summary(value):
    """Shape, dtype and the non-finite counts of an array-like result."""
    arr = np.asarray(value)
    if arr.dtype == object:
        raise TypeError(f"object result {value!r}")
    finite = arr[np.isfinite(arr)] if arr.size else arr
    return (arr.shape, str(arr.dtype), int(np.isnan(arr).sum()), int(np.isposinf(arr).sum()),
            int(np.isneginf(arr).sum()),
            float(finite.min()) if finite.size else None,
            float(finite.max()) if finite.size else None)


_STATE = {}


def _process(p):
    import levyscore

    amplitude = p.get("amplitude", "laplace")
    if amplitude == "student-t":
        amplitude = levyscore.amplitudes.StudentT(p["nu"])
    return levyscore.JumpDiffusion(p["dim"], theta=p["theta"], diffusion=p["diffusion"],
                                   jump_rate=p["jump_rate"], jump_var=p["jump_var"],
                                   amplitude=amplitude)


def _law(p, t):
    proc = _process(p)
    return proc.stationary() if t is None else proc.transition(t)


# -- entry points: each returns a tuple of outputs ------------------------------------------
def law_logpdf(p, t, y):
    return (_law(p, t).logpdf(y),)


def law_pdf(p, t, y):
    return (_law(p, t).pdf(y),)


def law_score(p, t, y):
    return (_law(p, t).score(y),)


def law_radial_cdf(p, t, r):
    return (_law(p, t).radial_cdf(r),)


def law_sample(p, t, n, seed):
    return (_law(p, t).sample(n, rng=seed),)


def process_score(p, y, t):
    return (_process(p).score(y, t),)


def process_sample(p, x0, t, seed):
    return (_process(p).sample(x0, t, rng=seed),)


def process_sample_path(p, x0, times, seed):
    return (_process(p).sample_path(x0, times, rng=seed),)


def process_dsm_pairs(p, x0, t, seed):
    return _process(p).dsm_pairs(x0, t, rng=seed)


def reverse(p, n, steps, T, t_min, solver, seed, eta):
    import levyscore

    proc = _process(p)
    return (levyscore.sample_reverse(proc, proc.score, n, steps=steps, T=T, t_min=t_min,
                                     solver=solver, rng=seed, eta=eta),)


def target_stable(alpha, variance, dim, n, seed):
    from levyscore import targets

    return (targets.SubGaussianStable(alpha=alpha, variance=variance, dim=dim).sample(n, rng=seed),)


def target_mixture(weights, means, variances, n, seed, x, t):
    import levyscore
    from levyscore import targets

    tgt = targets.GaussianMixture(weights, means, variances)
    proc = levyscore.JumpDiffusion(tgt.dim, diffusion=0.0)
    return tgt.sample(n, rng=seed), tgt.marginal_score(proc)(x, t)


def target_bessel(j, b, dim, n, seed, x, t):
    import levyscore
    from levyscore import targets

    tgt = targets.BesselTarget(j, b, dim)
    proc = levyscore.JumpDiffusion(dim, diffusion=0.0)
    return tgt.sample(n, rng=seed), tgt.marginal_score(proc)(x, t)


def metric(entry_name, x, y, **kw):
    from levyscore import metrics

    return (getattr(metrics, entry_name)(x, y, **kw),)


def table_score(y, t):
    """A small ScoreTable (pure jump, m = 0.7), built once per worker in a private folder."""
    import levyscore

    table = _STATE.get("table")
    if table is None:
        proc = levyscore.JumpDiffusion(2, diffusion=0.0, jump_rate=0.7)
        folder = tempfile.mkdtemp(prefix="levyscore-fuzz-")
        table = levyscore.ScoreTable.build(proc, 0.5, 2.0, cache_dir=folder, rtol=1e-3)
        _STATE["table"] = table
    return (table.score(y, t),)


def table_args(t_min, t_max, rtol, diffusion, jump_rate):
    import levyscore

    proc = levyscore.JumpDiffusion(2, diffusion=diffusion, jump_rate=jump_rate)
    folder = tempfile.mkdtemp(prefix="levyscore-fuzz-")
    return (levyscore.ScoreTable.build(proc, t_min, t_max, cache_dir=folder, rtol=rtol).score(
        np.ones((1, 2)), t_min),)


def learn_batches(p, data, batch_size, T, t_min, seed):
    from levyscore import learn

    proc = _process(p)
    xb, tb, sb = next(iter(learn.dsm_batches(proc, data, batch_size, T=T, t_min=t_min,
                                              rng=seed)))
    return xb, tb, sb


def learned_score(x, t):
    """A tiny fitted network, trained once per worker."""
    import levyscore
    from levyscore import learn

    model = _STATE.get("model")
    if model is None:
        proc = levyscore.JumpDiffusion(2, diffusion=0.0)
        data = np.random.default_rng(0).standard_normal((64, 2))
        model = learn.fit_score(proc, data, epochs=1, batch_size=32, hidden=(8,), T=2.0,
                                t_min=0.01, rng=0)
        _STATE["model"] = model
    return (model(x, t),)


def cli_parse(argv):
    from levyscore.__main__ import parse_args

    args = parse_args(argv)
    return (np.zeros(0) if args is None else np.zeros(1),)


ENTRIES = {name: fn for name, fn in globals().items()
           if callable(fn) and not name.startswith("_") and fn.__module__ == __name__
           and name not in ("main",)}


def _read(stream, n):
    data = b""
    while len(data) < n:
        chunk = stream.read(n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def main():
    inp = sys.stdin.buffer
    out = sys.stdout.buffer
    sys.stdout = io.StringIO()  # user-level prints must not corrupt the protocol
    while True:
        try:
            (size,) = struct.unpack("<Q", _read(inp, 8))
        except EOFError:
            return
        name, kwargs = pickle.loads(_read(inp, size))
        try:
            outputs = ENTRIES[name](**kwargs)
            result = {"status": "ok", "outputs": [_summary(v) for v in outputs]}
        except ValueError as exc:
            result = {"status": "ValueError", "message": str(exc)}
        except SystemExit as exc:
            result = {"status": "SystemExit", "code": exc.code}
        except BaseException as exc:  # noqa: BLE001 - reported to the parent as a failure
            result = {"status": "error", "type": type(exc).__name__, "message": str(exc),
                      "traceback": traceback.format_exc()}
        sys.stdout = io.StringIO()
        blob = pickle.dumps(result)
        out.write(struct.pack("<Q", len(blob)) + blob)
        out.flush()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    main()
