"""Write the tables of the 256-layer ziggurat normal sampler (levyscore._ziggurat).

Marsaglia & Tsang (2000), "The ziggurat method for generating random variables", with the
base-strip layout of Doornik (2005). Under f(x) = exp(-x^2/2) on x >= 0 lie 256 layers of
equal area V: layer 0 is the rectangle [0, R] x [0, f(R)] plus the tail beyond R, layer i
(1..255) the rectangle [0, X[i]] x [f(X[i]), f(X[i+1])], with X[1] = R, X[256] = 0 and
X[0] = V / f(R). R (and with it V) is solved here at 60 digits so that the top layer closes
(X[256] = 0) to far below double precision; the tables are then rounded to doubles.

Run from the repository root: python tools/make_ziggurat_tables.py. It writes
levyscore/_ziggurat_tables.py and kernels/ziggurat_tables.cuh (tests/test_kernel_parity.py
compares the two bit for bit). Needs mpmath.
"""
import mpmath as mp

mp.mp.dps = 60
N = 256


def f(x):
    return mp.exp(-x * x / 2)


def layers(r):
    v = r * f(r) + mp.sqrt(mp.pi / 2) * mp.erfc(r / mp.sqrt(2))
    x = [v / f(r), r]
    for _ in range(N - 2):
        x.append(mp.sqrt(-2 * mp.log(v / x[-1] + f(x[-1]))))
    return v, x


def closure(r):
    """Area of the top layer [0, X[255]] x [f(X[255]), 1] minus V: zero for the right R."""
    v, x = layers(r)
    return x[-1] * (1 - f(x[-1])) - v


def main():
    r = mp.findroot(closure, mp.mpf("3.6541528853610088"), tol=mp.mpf(10) ** -50)
    v, x = layers(r)
    x.append(mp.mpf(0))
    xs = [float(t) for t in x]
    fs = [float(f(mp.mpf(t))) for t in xs]
    head = [f"R = {mp.nstr(r, 25)}, V = {mp.nstr(v, 25)};",
            f"top-layer closure residual {mp.nstr(closure(r), 3)} (60-digit arithmetic)."]

    def rows(vals, indent):
        return "".join(indent + ", ".join(repr(t) for t in vals[i:i + 4]) + ",\n"
                       for i in range(0, len(vals), 4))

    py = ['"""Tables of the 256-layer ziggurat (written by tools/make_ziggurat_tables.py; do',
          "not edit: kernels/ziggurat_tables.cuh holds the same numbers, compared bit for bit).",
          *head, '"""', "import numpy as np", "", f"ZIG_R = {float(r)!r}", ""]
    for name, vals in (("ZIG_X", xs), ("ZIG_F", fs)):
        py += [f"{name} = np.array([", rows(vals, "    ").rstrip("\n"), "])", ""]
    with open("levyscore/_ziggurat_tables.py", "w") as fh:
        fh.write("\n".join(py))
    cu = ["// Tables of the 256-layer ziggurat (written by tools/make_ziggurat_tables.py; do not",
          "// edit: levyscore/_ziggurat_tables.py holds the same numbers, compared bit for bit).",
          *("// " + h for h in head), "#ifndef LEVYSCORE_ZIGGURAT_TABLES_CUH",
          "#define LEVYSCORE_ZIGGURAT_TABLES_CUH", "", '#include "common.cuh"', "",
          "namespace levyscore {", "", f"static constexpr double ZIG_R = {float(r)!r};", ""]
    for name, vals in (("ZIG_X", xs), ("ZIG_F", fs)):
        cu += [f"LS_TABLE double {name}[{len(vals)}] = {{", rows(vals, "    ").rstrip("\n"),
               "};", ""]
    cu += ["}  // namespace levyscore", "", "#endif  // LEVYSCORE_ZIGGURAT_TABLES_CUH", ""]
    with open("kernels/ziggurat_tables.cuh", "w") as fh:
        fh.write("\n".join(cu))


if __name__ == "__main__":
    main()
