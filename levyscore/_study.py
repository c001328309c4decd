"""The JDL-versus-Gaussian heavy-tail study (the paper's experiment; MATH.md sections 5-9).

Data: the sub-Gaussian alpha-stable benchmark (alpha = 1.7, variance 0.05, D = 2; 32,000
training samples in the paper). Models, all with identical networks, training budgets, seeds
and step counts:

* ``pure-jump``: the Laplace pure-jump model (closed-form conditional scores);
* ``jump-diffusion``: the Laplace jump-diffusion model (tabulated conditional scores);
* ``gaussian``: the equivalent Gaussian model of the pure-jump one (same mean and covariance
  at every t, MATH.md section 8).

Each model is trained with :func:`levyscore.learn.fit_score` and sampled with the
probability-flow ODE (exponential Euler, eta = 0) and the reverse SDE (eta = 1). Reported per
model and sampler: the paper's tail MSLE, the DLPM-style tail MSLE at fixed levels, and the
energy distance to held-out data, as mean and standard deviation over seeds.

Error budget. Every figure is split into its sources, against the same held-out data:

* ``floor``: the metric between two independent data sets of the generated size (Monte Carlo
  alone; the same for every model);
* ``oracle``: samples generated with the exact marginal score of the benchmark under the
  model's process (:meth:`levyscore.targets.SubGaussianStable.marginal_score`): integration
  error plus Monte Carlo;
* ``learned``: samples generated with the trained network;
* ``score error``: :math:`E_{p_t}|s - S|^2 / E_{p_t}|S|^2` of the learned score s against the
  exact S at ``n_err_times`` log-spaced times (samples of :math:`p_t` from the exact forward
  process started at held-out data), averaged over the times; and the same over the tail
  region (|x| beyond the 0.99 radial quantile of those samples).

Run with ``python -m levyscore study heavy-tail`` (``--sweep`` varies the jump rate at a
matched equivalent variance); ``python -m levyscore demo`` is a small, quick version.
"""
import dataclasses
import json
import math
import os
import sys
import time

import numpy as np

__all__ = ["StudyConfig", "run_study", "run_sweep", "DEMO", "FULL"]


@dataclasses.dataclass(frozen=True)
class StudyConfig:
    """Budgets of one study run (all models share them)."""

    n_train: int = 32_000
    n_test: int = 32_000
    n_generate: int = 32_000
    epochs: int = 60
    batch_size: int = 1024
    hidden: tuple = (128, 128)
    # tanh network and uniform training times: the learned SDE then reaches its oracle's
    # tail MSLE at 100 steps (docs/results.md; ReLU with log-uniform times was 4-70x worse)
    activation: str = "tanh"
    times: str = "uniform"  # law of the training times: "log" (log-uniform) or "uniform"
    steps: int = 100
    # uniform time steps, as the paper: with a learned score the geometric grid spends a third
    # of its steps below t = 0.05, where the network is least accurate (docs/results.md)
    grid: str = "uniform"
    seeds: tuple = (0, 1, 2)
    T: float = 10.0
    t_min: float = 1e-3
    theta: float = 0.5
    jump_rate: float = 1.0
    jump_var: float = 2.0
    diffusion: float = 1.0
    energy_points: int = 4000
    alpha: float = 1.7
    data_variance: float = 0.05
    oracle: bool = True  # the exact-score column (builds a certified table per process, cached)
    oracle_rtol: float = 1e-6
    n_err_times: int = 10
    n_err_points: int = 8000


FULL = StudyConfig()
DEMO = StudyConfig(n_train=6000, n_test=6000, n_generate=6000, epochs=12, batch_size=512,
                   hidden=(64, 64), steps=50, energy_points=2000, oracle_rtol=1e-4,
                   n_err_points=3000)


def _models(cfg, jump_rate=None, jump_var=None):
    import levyscore

    lam = cfg.jump_rate if jump_rate is None else jump_rate
    var = cfg.jump_var if jump_var is None else jump_var
    pure = levyscore.JumpDiffusion(2, theta=cfg.theta, diffusion=0.0, jump_rate=lam, jump_var=var)
    return {
        "pure-jump": pure,
        "jump-diffusion": levyscore.JumpDiffusion(2, theta=cfg.theta, diffusion=cfg.diffusion,
                                                  jump_rate=lam, jump_var=var),
        "gaussian": pure.equivalent_gaussian(),
    }


#: Student-t amplitude laws of ``--amplitudes`` (each matched: same lambda and sigma_A^2,
#: so the same sigma_eq^2 as the Laplace pure-jump model).
AMPLITUDE_NUS = (3.0, 5.0)


def amplitude_models(cfg):
    """``--amplitudes``: the Laplace pure-jump model, its equivalent Gaussian, and pure-jump
    models with Student-t amplitudes (nu in :data:`AMPLITUDE_NUS`) and Gaussian (Merton)
    amplitudes, all with the same lambda, sigma_A^2 and so sigma_eq^2."""
    import levyscore

    base = _models(cfg)
    models = {"pure-jump": base["pure-jump"], "gaussian": base["gaussian"]}

    def pure(amplitude):
        return levyscore.JumpDiffusion(2, theta=cfg.theta, diffusion=0.0,
                                       jump_rate=cfg.jump_rate, jump_var=cfg.jump_var,
                                       amplitude=amplitude)

    for nu in AMPLITUDE_NUS:
        models[f"student-t nu={nu:g}"] = pure(levyscore.amplitudes.StudentT(nu))
    models["gaussian-jumps"] = pure(levyscore.amplitudes.Gaussian())
    return models


def _has_oracle(proc):
    """The benchmark's exact marginal score exists for every built-in amplitude law (Laplace:
    levyscore._stable_marginal; Student-t and Gaussian: levyscore._stable_renewal)."""
    return proc.route != "sampling-only"


def _conditional_score(proc, cfg, log):
    """Closed form where there is one; otherwise a certified table (built once, cached)."""
    if proc.route not in ("mixture", "renewal"):
        return None
    from ._table import ScoreTable

    t0 = time.perf_counter()
    table = ScoreTable.build(proc, cfg.t_min, cfg.T)
    log(f"  score table for {proc!r}: max rel error {table.max_rel_error:.1e}, "
        f"{time.perf_counter() - t0:.1f} s")
    return table.score


def _metrics(generated, test, cfg, seed):
    from . import metrics

    rng = np.random.default_rng(seed)
    k = min(cfg.energy_points, generated.shape[0], test.shape[0])
    a = generated[rng.choice(generated.shape[0], k, replace=False)]
    b = test[rng.choice(test.shape[0], k, replace=False)]
    out = {"energy": metrics.energy_distance(a, b)}
    for method in ("paper", "levels"):
        try:
            out[f"msle_{method}"] = metrics.tail_msle(generated, test, method=method)
        except ValueError:
            out[f"msle_{method}"] = math.nan  # a generated upper quantile <= 0: reported as nan
    return out


def _oracle_score(proc, data_law, cfg, log):
    """The exact marginal score of the benchmark under proc (certified table, disk cache)."""
    t0 = time.perf_counter()
    table = data_law.marginal_table(proc, t_min=cfg.t_min, t_max=cfg.T, rtol=cfg.oracle_rtol)
    log(f"  oracle table for {proc!r}: certified max rel error {table.max_rel_error:.1e}, "
        f"{'loaded' if table.from_cache else 'built'} in {time.perf_counter() - t0:.1f} s")
    return table.score


def score_error(proc, learned, exact, data, times, rng):
    """Relative weighted errors of a learned score at each time (see the module docstring).

    Returns two arrays of shape (len(times),): over all of p_t and over its tail region
    (radii beyond the 0.99 radial quantile of the samples).
    """
    err = np.empty(len(times))
    tail = np.empty(len(times))
    for i, t in enumerate(times):
        x_t = proc.sample(data, float(t), rng=np.random.SeedSequence([rng, i]))
        s = learned(x_t, float(t))
        S = exact(x_t, float(t))
        d = np.sum((s - S) ** 2, axis=1)
        n = np.sum(S ** 2, axis=1)
        err[i] = d.mean() / n.mean()
        r = np.linalg.norm(x_t, axis=1)
        sel = r > np.quantile(r, 0.99)
        tail[i] = d[sel].mean() / n[sel].mean()
    return err, tail


def _load_results(path):
    """Records already in a results file (JSON lines), or [] without one."""
    if not path or not os.path.exists(path):
        return []
    out = []
    with open(path) as fh:
        for line in fh:
            line = line.strip()
            if line:
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError:
                    break  # a line cut by an interruption: that unit is recomputed
    return out


def _append_results(path, records):
    """Append one finished unit's records (JSON lines), flushed to disk."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "a") as fh:
        for rec in records:
            fh.write(json.dumps(rec) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def _seed_data(cfg, seed, data_law):
    """(train, test, floor metrics) of one seed: the data every model of the seed shares."""
    train = data_law.sample(cfg.n_train, rng=np.random.SeedSequence([seed, 0]))
    test = data_law.sample(cfg.n_test, rng=np.random.SeedSequence([seed, 1]))
    floor = _metrics(data_law.sample(cfg.n_generate, rng=np.random.SeedSequence([seed, 4])),
                     test, cfg, seed)
    return train, test, floor


def _run_unit(cfg, seed, name, proc, steps, data_law, seed_data=None, oracle_score=None,
              log=None):
    """Train model ``name`` on the data of ``seed`` and sample it at every step count.

    One unit of :func:`run_study`, a pure function of its arguments (every random number
    comes from ``SeedSequence([seed, ...])``), so it can run in any process.

    Returns
    -------
    records : list of dict
        Two per step count (ODE, SDE).
    curve : dict
        ``{sampler: samples}`` at the last step count (for the figure).
    """
    import levyscore
    from .learn import fit_score

    log = log or (lambda msg: None)
    train, test, floor = seed_data if seed_data is not None else _seed_data(cfg, seed,
                                                                              data_law)
    oracle = cfg.oracle and _has_oracle(proc)
    if oracle and oracle_score is None:
        oracle_score = _oracle_score(proc, data_law, cfg, log)
    t0 = time.perf_counter()
    cond = _conditional_score(proc, cfg, log)
    learned = fit_score(proc, train, epochs=cfg.epochs, batch_size=cfg.batch_size,
                        hidden=cfg.hidden, T=cfg.T, t_min=cfg.t_min,
                        rng=np.random.SeedSequence([seed, 2]), progress=False,
                        conditional_score=cond, activation=cfg.activation, times=cfg.times)
    t_train = time.perf_counter() - t0
    budget = {}
    if oracle:
        err_times = np.geomspace(cfg.t_min, cfg.T, cfg.n_err_times)
        err, tail = score_error(proc, learned, oracle_score, test[:cfg.n_err_points], err_times,
                                seed)
        budget = dict(score_err=float(np.mean(err)), score_err_tail=float(np.mean(tail)),
                      score_err_t=err.tolist(), score_err_tail_t=tail.tolist(),
                      err_times=err_times.tolist())
    records, curve = [], {}
    for k in steps:
        for sampler, eta in (("ODE", 0.0), ("SDE", 1.0)):
            def generate(score):
                return levyscore.sample_reverse(proc, score, cfg.n_generate, steps=k, T=cfg.T,
                                                t_min=cfg.t_min, solver="exp-euler", eta=eta,
                                                grid=cfg.grid,
                                                rng=np.random.SeedSequence([seed, 3]))

            gen = generate(learned)
            rec = dict(model=name, sampler=sampler, seed=seed, steps=k, train_s=t_train,
                       **_metrics(gen, test, cfg, seed), **budget)
            rec.update({f"floor_{key}": v for key, v in floor.items()})
            if oracle:
                ora = _metrics(generate(oracle_score), test, cfg, seed)
                rec.update({f"oracle_{key}": v for key, v in ora.items()})
            records.append(rec)
            if k == steps[-1]:
                curve[sampler] = gen
            extra = ""
            if oracle:
                extra = (f", oracle msle(paper) {rec['oracle_msle_paper']:.4g}, score "
                         f"error {rec['score_err']:.3g} (tail {rec['score_err_tail']:.3g})")
            log(f"seed {seed} {name:>14} {sampler} {k:>3} steps: msle(paper) "
                f"{rec['msle_paper']:.4g}, msle(levels) {rec['msle_levels']:.4g}, "
                f"energy {rec['energy']:.4g} (train {t_train:.0f} s){extra}")
    return records, curve


def run_study(cfg=FULL, *, models=None, log=None, figure=None, steps=None, results=None,
              client=None):
    """Train and sample every model for every seed; return the per-run records.

    Parameters
    ----------
    cfg : StudyConfig
    models : dict, optional
        Name -> JumpDiffusion; by default the three models of the module docstring.
    log : callable, optional
        Progress printer (default: standard error).
    figure : str, optional
        Path of a PNG of log tail quantiles (needs matplotlib; without it the figure is
        skipped, with a message logged before the run starts).
    steps : sequence of int, optional
        Step counts to sample with (default ``(cfg.steps,)``); each model is trained once per
        seed and sampled at every step count.
    results : str, optional
        A JSON-lines file: the records of every finished (seed, model) unit are appended to it
        as soon as the unit ends, and units already in it are not run again, so an interrupted
        run resumes where it stopped. A unit is identified by seed, model name and the step
        counts; change the file when changing the configuration.
    client : distributed.Client, optional
        Run each (seed, model) unit as a task on this Dask cluster (:func:`_run_unit`: a pure
        function of its arguments), appending each unit's records to ``results`` as it
        finishes. The records are returned in the serial order and equal the serial run's.
        The workers need levyscore (and its ``learn`` extra) installed.
    """
    from .targets import SubGaussianStable

    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    if figure and _pyplot(log) is None:
        figure = None  # said now, before the run, not after it
    models = models or _models(cfg)
    steps = tuple(int(k) for k in (steps or (cfg.steps,)))
    if not cfg.seeds or min(steps) < 1:
        raise ValueError(f"cfg.seeds must not be empty and steps must be >= 1, got seeds "
                         f"{cfg.seeds!r}, steps {steps!r}")
    data_law = SubGaussianStable(alpha=cfg.alpha, variance=cfg.data_variance, dim=2)
    done = _load_results(results)
    units = {}  # (seed, name) -> records, in the serial order
    todo = []
    for seed in cfg.seeds:
        for name in models:
            unit = [r for r in done if r["seed"] == seed and r["model"] == name
                    and r["steps"] in steps]
            if len(unit) == 2 * len(steps):
                units[(seed, name)] = unit
                log(f"seed {seed} {name}: already in {results}, skipped")
            else:
                units[(seed, name)] = None
                todo.append((seed, name))
    curves = {}

    def finished(key, unit, curve):
        units[key] = unit
        if key[0] == cfg.seeds[0]:
            curves.update({(key[1], sampler): gen for sampler, gen in curve.items()})
        if results:
            _append_results(results, unit)

    if client is None:
        oracles, data = {}, {}
        for seed, name in todo:
            proc = models[name]
            if seed not in data:
                data = {seed: _seed_data(cfg, seed, data_law)}  # one seed's data at a time
            if cfg.oracle and _has_oracle(proc) and name not in oracles:
                oracles[name] = _oracle_score(proc, data_law, cfg, log)
            finished((seed, name), *_run_unit(cfg, seed, name, proc, steps, data_law,
                                              data[seed], oracles.get(name), log))
    else:
        from distributed import as_completed

        futures = {client.submit(_run_unit, cfg, seed, name, models[name], steps, data_law,
                                 pure=False): (seed, name) for seed, name in todo}
        for future in as_completed(futures):
            unit, curve = future.result()
            finished(futures[future], unit, curve)
            log(f"seed {futures[future][0]} {futures[future][1]}: done on the cluster "
                f"({sum(v is not None for v in units.values())}/{len(units)} units)")
    records = [rec for unit in units.values() for rec in unit]
    if figure:
        curves[("data", "")] = _seed_data(cfg, cfg.seeds[0], data_law)[1]
        if len(curves) > 1:
            _figure(curves, figure, log)
        if cfg.oracle:
            _score_error_figure(records, _sibling(figure, "_score_error"), log)
    return records


def _pyplot(log):
    """matplotlib.pyplot with the Agg backend, or None (with a message) without the extra."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("matplotlib is not installed (pip install 'levyscore[plot]'): no figure")
        return None
    return plt


def _sibling(path, suffix):
    root, ext = os.path.splitext(path)
    return f"{root}{suffix}{ext or '.png'}"


def _score_error_figure(records, path, log):
    plt = _pyplot(log)
    if plt is None:
        return
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), sharey=True)
    for model in dict.fromkeys(r["model"] for r in records):
        sel = [r for r in records if r["model"] == model and r["sampler"] == "ODE"
               and r["steps"] == records[0]["steps"]]
        if "err_times" not in sel[0]:
            continue  # no oracle for this model
        t = np.array(sel[0]["err_times"])
        for ax, key in zip(axes, ("score_err_t", "score_err_tail_t")):
            vals = np.array([r[key] for r in sel])
            ax.loglog(t, vals.mean(axis=0), marker="o", ms=3, label=model)
    axes[0].set_title("relative score error, all of p_t")
    axes[1].set_title("relative score error, tail (|x| > 0.99 quantile)")
    for ax in axes:
        ax.set_xlabel("t")
    axes[0].set_ylabel("E|s - S|^2 / E|S|^2 (mean over seeds)")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    log(f"figure written to {path}")


def summarize(records):
    """Table rows (model, sampler, metric means and standard deviations over seeds)."""
    rows = []
    keys = []
    for rec in records:
        if (rec["model"], rec["sampler"], rec["steps"]) not in keys:
            keys.append((rec["model"], rec["sampler"], rec["steps"]))
    several = len({k[2] for k in keys}) > 1
    for model, sampler, steps in keys:
        sel = [r for r in records if r["model"] == model and r["sampler"] == sampler
               and r["steps"] == steps]
        label = f"{sampler}, {steps} steps" if several else sampler
        row = dict(model=model, sampler=label, seeds=len(sel))
        for m in _SUMMARY_KEYS:
            if m not in sel[0]:
                continue
            vals = np.array([r[m] for r in sel], dtype=float)
            row[m] = (float(np.mean(vals)), float(np.std(vals, ddof=1)) if len(vals) > 1 else math.nan)
        rows.append(row)
    return rows


_SUMMARY_KEYS = ("msle_paper", "msle_levels", "energy", "floor_msle_paper", "floor_energy",
                 "oracle_msle_paper", "oracle_msle_levels", "oracle_energy", "score_err",
                 "score_err_tail")


def format_table(rows):
    """A Markdown table of :func:`summarize` rows (mean ± sd over seeds)."""
    def cell(row, m):
        if m not in row:
            return "—"  # no oracle: the benchmark's exact score exists for Laplace jumps only
        return f"{row[m][0]:.4g} ± {row[m][1]:.2g}"

    if any("oracle_msle_paper" in row for row in rows):
        lines = ["| model | sampler | tail MSLE (paper): floor | oracle | learned | "
                 "energy: floor | oracle | learned | score error: all | tail |",
                 "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
        keys = ("floor_msle_paper", "oracle_msle_paper", "msle_paper", "floor_energy",
                "oracle_energy", "energy", "score_err", "score_err_tail")
    else:
        lines = ["| model | sampler | tail MSLE (paper) | tail MSLE (levels) | energy distance |",
                 "| --- | --- | --- | --- | --- |"]
        keys = ("msle_paper", "msle_levels", "energy")
    for row in rows:
        lines.append(f"| {row['model']} | {row['sampler']} | "
                     + " | ".join(cell(row, m) for m in keys) + " |")
    return "\n".join(lines)


def _figure(curves, path, log):
    plt = _pyplot(log)
    if plt is None:
        return
    levels = 1 - np.geomspace(0.05, 1e-4, 40)
    data = curves[("data", "")]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
    for d, ax in enumerate(axes):
        qd = np.log(np.quantile(data[:, d], levels))
        ax.plot(qd, qd, "k--", lw=1, label="data")
        for (name, sampler), gen in curves.items():
            if name == "data":
                continue
            qg = np.quantile(gen[:, d], levels)
            ok = qg > 0
            ax.plot(qd[ok], np.log(qg[ok]), label=f"{name} {sampler}")
        ax.set_xlabel(f"log data quantile, coordinate {d + 1}")
        ax.set_ylabel("log generated quantile")
        ax.set_title(f"upper tail, levels 0.95 .. 0.9999 (coordinate {d + 1})")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    log(f"figure written to {path}")


#: Step counts of the sweep (issue 9: 10 to 200, ODE and SDE).
SWEEP_STEPS = (10, 25, 50, 100, 200)
SWEEP_RATES = (0.25, 0.5, 1.0, 2.0, 4.0)


def sweep_models(cfg, jump_rates=SWEEP_RATES):
    """Pure-jump models with ``jump_var = sigma_eq^2 / lambda`` and their equivalent Gaussian."""
    sigma_eq2 = cfg.jump_rate * cfg.jump_var
    models = {}
    for lam in jump_rates:
        models[f"pure-jump lambda={lam:g}"] = _models(cfg, lam, sigma_eq2 / lam)["pure-jump"]
    models["gaussian"] = _models(cfg)["gaussian"]
    return models


def run_sweep(cfg=FULL, *, jump_rates=SWEEP_RATES, steps=SWEEP_STEPS, log=None, results=None,
              client=None):
    """Vary the jump rate at matched sigma_eq^2 = lambda sigma_A^2 and the step count.

    Pure-jump models with ``jump_var = sigma_eq^2 / lambda`` against their common equivalent
    Gaussian model; each model is trained once per seed and sampled at every step count.
    ``results`` makes the sweep resumable and ``client`` runs its units on a Dask cluster
    (see :func:`run_study`). Returns records like :func:`run_study`.
    """
    return run_study(cfg, models=sweep_models(cfg, jump_rates), log=log, steps=steps,
                     results=results, client=client)


# two-sided 97.5% Student-t quantiles by degrees of freedom (for 95% intervals over seeds)
_T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306,
         9: 2.262, 10: 2.228}


def paired_ratio(gauss, jump):
    """Geometric-mean ratio Gaussian/jump over seeds and its 95% interval (paired by seed).

    Each seed shares data, network initialisation and sampler noise between the two models,
    so the log ratios are paired; the interval is the Student-t interval of their mean.
    Returns (ratio, lo, hi, n) with nan bounds for fewer than 2 seeds.
    """
    lr = np.log(np.asarray(gauss, dtype=float)) - np.log(np.asarray(jump, dtype=float))
    n = lr.size
    mean = float(np.mean(lr))
    if n < 2:
        return math.exp(mean), math.nan, math.nan, n
    half = _T975.get(n - 1, 1.96) * float(np.std(lr, ddof=1)) / math.sqrt(n)
    return math.exp(mean), math.exp(mean - half), math.exp(mean + half), n


def sweep_report(records, metric="msle_paper"):
    """Lines saying, per step count and sampler, where the jump model beats the Gaussian one.

    The factor is the geometric mean over seeds of Gaussian/jump for ``metric`` (learned and,
    when present, oracle), with its paired 95% interval: a jump model "wins" when the whole
    interval lies above 1, "loses" when below, and otherwise the difference is not resolved.
    """
    lines = []
    for k in sorted({r["steps"] for r in records}):
        for sampler in ("ODE", "SDE"):
            sel = [r for r in records if r["steps"] == k and r["sampler"] == sampler]
            by_seed = {r["seed"]: r for r in sel if r["model"] == "gaussian"}
            for model in sorted({r["model"] for r in sel} - {"gaussian"}):
                parts = []
                for prefix, label in (("", "learned"), ("oracle_", "oracle")):
                    key = prefix + metric
                    pairs = [(by_seed[r["seed"]][key], r[key]) for r in sel
                             if r["model"] == model and r["seed"] in by_seed and key in r]
                    if not pairs:
                        continue
                    ok = [(g, j) for g, j in pairs if np.isfinite(g) and np.isfinite(j) and g > 0
                          and j > 0]
                    if len(ok) < len(pairs):
                        parts.append(f"{label}: undefined in {len(pairs) - len(ok)} of "
                                     f"{len(pairs)} seeds")
                        continue
                    ratio, lo, hi, n = paired_ratio([g for g, _ in ok], [j for _, j in ok])
                    verdict = "wins" if lo > 1 else "loses" if hi < 1 else "not resolved"
                    parts.append(f"{label}: {verdict}, Gaussian/jump = {ratio:.2f} "
                                 f"[{lo:.2f}, {hi:.2f}] ({n} seeds)")
                lines.append(f"steps={k:>3} {sampler}: {model}: " + "; ".join(parts))
    return lines
