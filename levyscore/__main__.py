"""Command line: ``python -m levyscore {demo,bench}``."""
import argparse
import sys


def _demo(args):
    import numpy as np

    import levyscore

    np.set_printoptions(precision=6, suppress=False)
    radii = np.array([0.1, 0.5, 1.0, 2.0, 4.0])
    for label, kwargs in [("pure jump, Laplace amplitudes (closed form)", dict(diffusion=0.0)),
                          ("jump-diffusion (W-mixture quadrature)", dict(diffusion=1.0)),
                          ("equivalent Gaussian", None)]:
        proc = levyscore.JumpDiffusion(2, **kwargs) if kwargs is not None else \
            levyscore.JumpDiffusion(2).equivalent_gaussian()
        law = proc.transition(1.0)
        y = np.stack([radii, np.zeros_like(radii)], axis=1)
        print(f"{label}: {proc!r}, route {proc.route}, t = 1")
        print(f"  atom P(Y=0)      = {law.atom:.6f}")
        print(f"  |y|              = {radii}")
        print(f"  pdf(y)           = {law.pdf(y)}")
        print(f"  score(y)[:, 0]   = {law.score(y)[:, 0]}")
        print(f"  P(|Y| <= |y|)    = {law.radial_cdf(radii)}")
    return 0


def _bench(args):
    from levyscore import _bench

    _bench.run(args.names, n=args.n, repeat=args.repeat)
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m levyscore", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p_demo = sub.add_parser("demo", help="print a few transition densities and scores")
    p_demo.set_defaults(func=_demo)
    p_bench = sub.add_parser("bench", help="benchmarks against NumPy/SciPy baselines")
    p_bench.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    p_bench.add_argument("--n", type=int, default=None, help="problem size (default per benchmark)")
    p_bench.add_argument("--repeat", type=int, default=3, help="timed repetitions (best is kept)")
    p_bench.set_defaults(func=_bench)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
