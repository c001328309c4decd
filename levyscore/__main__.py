"""Command line: python -m levyscore {demo,study,bench}.

demo: a quick JDL-versus-Gaussian heavy-tail study; study: the full study; bench: benchmarks
against NumPy/SciPy baselines.
"""
import argparse
import contextlib
import os
import sys

#: Study names of ``python -m levyscore study``.
STUDIES = ("heavy-tail",)


def _positive_int(text):
    """argparse type: an integer >= 1 (an argparse error, exit code 2, otherwise)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {value}")
    return value


def _positive_ints(text):
    """argparse type: a comma-separated list of integers >= 1."""
    try:
        values = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be comma-separated integers >= 1, got {text!r}") from None
    if min(values) < 1:
        raise argparse.ArgumentTypeError(f"must be comma-separated integers >= 1, got {text!r}")
    return values


def _plot_unavailable():
    """None when matplotlib (with the Agg backend) imports, else the reason it does not."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot  # noqa: F401
    except ImportError as exc:
        return f"matplotlib is not installed ({exc}); pip install 'levyscore[plot]' or drop --figure"
    return None


def _demo(args):
    """Run the demo: a small, quick version of the heavy-tail study (``_study.DEMO`` budgets).

    On the sub-Gaussian alpha-stable benchmark (alpha = 1.7, D = 2) it trains the same score
    network (scikit-learn MLP) under the pure-jump, jump-diffusion and equivalent Gaussian
    forward processes, samples each with the probability-flow ODE and the reverse SDE, and
    prints one table per model and sampler: tail MSLE (the paper's and at fixed levels) and
    energy distance to held-out data, with the error budget (floor: two data sets; oracle:
    the exact score; learned: the network; score error of the network). Lower is better in
    every column. With ``--figure`` it also writes the tail-quantile figure (needs matplotlib,
    checked before any work starts).

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments (``figure``).

    Returns
    -------
    int
        Exit code 0.
    """
    import time

    from levyscore import _study

    t0 = time.perf_counter()
    cfg = _study.DEMO
    print(f"levyscore demo: JDL vs Gaussian on the alpha-stable benchmark ({cfg.n_train} training "
          f"samples, {cfg.epochs} epochs, {cfg.steps} steps, seeds {list(cfg.seeds)})", flush=True)
    records = _study.run_study(cfg, figure=args.figure)
    print(_study.format_table(_study.summarize(records)))
    print("Lower is better in every column. floor: two independent data sets; oracle: samples "
          "from the exact score (sampler error only); learned: the network's samples; score "
          "error: E|s - S|^2 / E|S|^2 of the network, all of p_t | its tail.")
    print(f"(demo wall time {time.perf_counter() - t0:.0f} s; the full study: "
          f"python -m levyscore study heavy-tail)")
    return 0


def _study_cmd(args):
    import dataclasses
    import time

    from levyscore import _study

    cfg = _study.DEMO if args.quick else _study.FULL
    if args.seeds is not None:
        cfg = dataclasses.replace(cfg, seeds=tuple(range(args.seeds)))
    if args.epochs is not None:
        cfg = dataclasses.replace(cfg, epochs=args.epochs)
    if args.activation is not None:
        cfg = dataclasses.replace(cfg, activation=args.activation)
    if args.times is not None:
        cfg = dataclasses.replace(cfg, times=args.times)
    if args.grid is not None:
        cfg = dataclasses.replace(cfg, grid=args.grid)
    if args.hidden is not None:
        cfg = dataclasses.replace(cfg, hidden=args.hidden)
    steps = args.steps or None
    t0 = time.perf_counter()
    if args.protocol == "paper":
        from levyscore import _paper

        table = _paper.run(seeds=cfg.seeds, quick=args.quick)
    else:
        with _cluster(args) as client:
            if args.sweep:
                records = _study.run_sweep(cfg, results=args.results, client=client,
                                           **({"steps": steps} if steps else {}))
            else:
                models = _study.amplitude_models(cfg) if args.amplitudes else None
                records = _study.run_study(cfg, models=models, figure=args.figure,
                                           steps=steps, results=args.results, client=client)
        if any(r["model"] == "gaussian" for r in records):
            print("\n".join(_study.sweep_report(records)))
        table = _study.format_table(_study.summarize(records))
    print(table)
    print(f"wall time {time.perf_counter() - t0:.0f} s")
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(table + "\n")
    return 0


@contextlib.contextmanager
def _cluster(args):
    """A ``distributed.Client`` for ``--scheduler ADDRESS`` or ``--workers N`` (a local
    cluster of N worker processes sharing the cores), or None for a serial run."""
    if args.scheduler is None and args.workers is None:
        yield None
        return
    try:
        import distributed
    except ImportError:
        raise SystemExit("--scheduler and --workers need Dask: pip install 'levyscore[dask]'")
    if args.scheduler is not None:
        with distributed.Client(args.scheduler) as client:
            yield client
        return
    import dask

    threads = max(1, (os.cpu_count() or 1) // args.workers)
    # Each worker's Numba threads share its cores, not all of the machine's (Dask already
    # sets the BLAS/OpenMP counts to 1): set before the worker process starts, since Numba
    # reads it at import; oversubscribed spinning OpenMP threads made units 3x slower.
    with dask.config.set({"distributed.nanny.pre-spawn-environ.NUMBA_NUM_THREADS": threads}), \
            distributed.LocalCluster(n_workers=args.workers, threads_per_worker=threads,
                                     processes=True, dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        yield client


def _bench(args):
    from levyscore import _bench

    _bench.run(args.names, n=args.n, repeat=args.repeat)
    return 0


def main(argv=None):
    """Parse ``argv`` (default: ``sys.argv[1:]``) and run the command; returns its exit code.

    Bad arguments end in an argparse error (usage and a one-line message on standard error,
    ``SystemExit`` with code 2) before any work starts.
    """
    args = parse_args(argv)
    return args.func(args)


def parse_args(argv=None):
    """Parse and check ``argv`` without running anything; returns the argparse namespace.

    Every check that needs no work (names, counts, an importable matplotlib for
    ``--figure``) happens here, so that ``main`` fails before it starts.
    """
    from levyscore._bench import BENCHMARKS, DEFAULT

    parser = argparse.ArgumentParser(prog="python -m levyscore", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p_demo = sub.add_parser("demo", help="quick JDL-versus-Gaussian heavy-tail study (< 3 min)")
    p_demo.add_argument("--figure", default=None, help="write the tail-quantile figure (PNG) here")
    p_demo.set_defaults(func=_demo)
    p_study = sub.add_parser("study", help="the JDL-versus-Gaussian study")
    p_study.add_argument("name", choices=STUDIES, help="study name: " + ", ".join(STUDIES))
    p_study.add_argument("--sweep", action="store_true", help="vary the jump rate and the step count")
    p_study.add_argument("--amplitudes", action="store_true",
                         help="models with Student-t jump amplitudes (nu = 3, 5) beside the "
                              "Laplace pure-jump and Gaussian ones, all at the same sigma_eq^2")
    p_study.add_argument("--quick", action="store_true", help="demo-sized budgets")
    p_study.add_argument("--seeds", type=_positive_int, default=None,
                         help="number of seeds, >= 1 (default 3)")
    p_study.add_argument("--figure", default=None, help="write the tail-quantile figure (PNG) here")
    p_study.add_argument("--out", default=None, help="write the Markdown table here")
    p_study.add_argument("--steps", type=_positive_ints, default=None,
                         help="comma-separated step counts (default: 100; the sweep: 10,25,50,100,200)")
    p_study.add_argument("--epochs", type=_positive_int, default=None,
                         help="training epochs, >= 1 (default 60)")
    p_study.add_argument("--activation", choices=("relu", "tanh"), default=None,
                         help="hidden-layer nonlinearity of the score network (default tanh)")
    p_study.add_argument("--times", choices=("log", "uniform"), default=None,
                         help="law of the training times on [t_min, T] (default uniform)")
    p_study.add_argument("--grid", choices=("log", "uniform"), default=None,
                         help="time grid of the samplers (default uniform)")
    p_study.add_argument("--hidden", type=_positive_ints, default=None,
                         help="comma-separated hidden widths of the score network (default 128,128)")
    p_study.add_argument("--results", default=None,
                         help="JSON-lines file: append each finished unit, skip those already there "
                              "(resumable runs)")
    where = p_study.add_mutually_exclusive_group()
    where.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="run each (seed, model) unit as a task on this Dask scheduler "
                            "(tcp://host:port); needs the dask extra")
    where.add_argument("--workers", type=_positive_int, default=None, metavar="N",
                       help="run the units on a local Dask cluster of N worker processes")
    p_study.add_argument("--protocol", choices=("levyscore", "paper"), default="levyscore",
                         help="'paper': the published notebook's pipeline (see docs/results.md)")
    p_study.set_defaults(func=_study_cmd)
    names = ", ".join(BENCHMARKS)
    p_bench = sub.add_parser("bench", help=f"benchmarks against NumPy/SciPy baselines: {names}",
                             description=f"Benchmarks against NumPy/SciPy baselines. Available: "
                                         f"{names}.")
    p_bench.add_argument("names", nargs="*", metavar="name",
                         help=f"benchmarks to run, any of: {names} "
                              f"(default: {' '.join(DEFAULT)})")
    p_bench.add_argument("--n", type=_positive_int, default=None,
                         help="problem size, >= 1 (default per benchmark)")
    p_bench.add_argument("--repeat", type=_positive_int, default=3,
                         help="timed repetitions, >= 1 (best is kept; default 3)")
    p_bench.set_defaults(func=_bench)
    args = parser.parse_args(argv)
    if args.command == "bench":
        unknown = [name for name in args.names if name not in BENCHMARKS]
        if unknown:
            p_bench.error(f"unknown benchmark {unknown[0]!r}; choose from {names}")
    if args.command == "study" and args.amplitudes and (args.sweep or args.protocol == "paper"):
        p_study.error("--amplitudes chooses the models of one study run; it cannot be combined "
                      "with --sweep or --protocol paper")
    if args.command == "study" and args.protocol == "paper" and (
            args.scheduler is not None or args.workers is not None):
        p_study.error("--scheduler and --workers run the levyscore protocol's units on Dask; "
                      "the paper protocol runs serially")
    if getattr(args, "figure", None):
        reason = _plot_unavailable()
        if reason is not None:
            parser.error(f"argument --figure: {reason}")
    return args


if __name__ == "__main__":
    sys.exit(main())
