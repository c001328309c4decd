"""Command line: ``python -m levyscore {demo,study,bench}``."""
import argparse
import sys


def _demo(args):
    """A quick version of the heavy-tail study, with its error budget (same table format)."""
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

    if args.name != "heavy-tail":
        raise SystemExit(f"unknown study {args.name!r}; available: heavy-tail")
    cfg = _study.DEMO if args.quick else _study.FULL
    if args.seeds is not None:
        if args.seeds < 1:
            raise SystemExit(f"--seeds must be >= 1, got {args.seeds}")
        cfg = dataclasses.replace(cfg, seeds=tuple(range(args.seeds)))
    if args.epochs is not None:
        if args.epochs < 1:
            raise SystemExit(f"--epochs must be >= 1, got {args.epochs}")
        cfg = dataclasses.replace(cfg, epochs=args.epochs)
    if args.activation is not None:
        cfg = dataclasses.replace(cfg, activation=args.activation)
    if args.times is not None:
        cfg = dataclasses.replace(cfg, times=args.times)
    if args.grid is not None:
        cfg = dataclasses.replace(cfg, grid=args.grid)
    if args.hidden is not None:
        cfg = dataclasses.replace(cfg, hidden=tuple(int(h) for h in args.hidden.split(",")))
    steps = None
    if args.steps:
        steps = tuple(int(k) for k in args.steps.split(","))
        if min(steps) < 1:
            raise SystemExit(f"--steps must be positive integers, got {args.steps}")
    t0 = time.perf_counter()
    if args.protocol == "paper":
        from levyscore import _paper

        table = _paper.run(seeds=cfg.seeds, quick=args.quick)
    else:
        if args.sweep:
            records = _study.run_sweep(cfg, results=args.results,
                                       **({"steps": steps} if steps else {}))
        else:
            records = _study.run_study(cfg, figure=args.figure, steps=steps,
                                       results=args.results)
        if any(r["model"] == "gaussian" for r in records):
            print("\n".join(_study.sweep_report(records)))
        table = _study.format_table(_study.summarize(records))
    print(table)
    print(f"wall time {time.perf_counter() - t0:.0f} s")
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(table + "\n")
    return 0


def _bench(args):
    from levyscore import _bench

    _bench.run(args.names, n=args.n, repeat=args.repeat)
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m levyscore", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p_demo = sub.add_parser("demo", help="quick JDL-versus-Gaussian heavy-tail study (< 3 min)")
    p_demo.add_argument("--figure", default=None, help="write the tail-quantile figure (PNG) here")
    p_demo.set_defaults(func=_demo)
    p_study = sub.add_parser("study", help="the JDL-versus-Gaussian study")
    p_study.add_argument("name", help="study name: heavy-tail")
    p_study.add_argument("--sweep", action="store_true", help="vary the jump rate and the step count")
    p_study.add_argument("--quick", action="store_true", help="demo-sized budgets")
    p_study.add_argument("--seeds", type=int, default=None, help="number of seeds (default 3)")
    p_study.add_argument("--figure", default=None, help="write the tail-quantile figure (PNG) here")
    p_study.add_argument("--out", default=None, help="write the Markdown table here")
    p_study.add_argument("--steps", default=None,
                         help="comma-separated step counts (default: 100; the sweep: 10,25,50,100,200)")
    p_study.add_argument("--epochs", type=int, default=None, help="training epochs (default 60)")
    p_study.add_argument("--activation", choices=("relu", "tanh"), default=None,
                         help="hidden-layer nonlinearity of the score network (default tanh)")
    p_study.add_argument("--times", choices=("log", "uniform"), default=None,
                         help="law of the training times on [t_min, T] (default uniform)")
    p_study.add_argument("--grid", choices=("log", "uniform"), default=None,
                         help="time grid of the samplers (default uniform)")
    p_study.add_argument("--hidden", default=None,
                         help="comma-separated hidden widths of the score network (default 128,128)")
    p_study.add_argument("--results", default=None,
                         help="JSON-lines file: append each finished unit, skip those already there "
                              "(resumable runs)")
    p_study.add_argument("--protocol", choices=("levyscore", "paper"), default="levyscore",
                         help="'paper': the published notebook's pipeline (see docs/results.md)")
    p_study.set_defaults(func=_study_cmd)
    p_bench = sub.add_parser("bench", help="benchmarks against NumPy/SciPy baselines")
    p_bench.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    p_bench.add_argument("--n", type=int, default=None, help="problem size (default per benchmark)")
    p_bench.add_argument("--repeat", type=int, default=3, help="timed repetitions (best is kept)")
    p_bench.set_defaults(func=_bench)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
