"""Registry of the CUDA kernels of ``kernels/`` and their Numba twins.

One :class:`KernelInfo` per kernel family (one elementwise CUDA kernel, instantiated once per
storage type), in the spirit of SciPy's ``_FuncInfo`` records for ``scipy.special``: the CPU
implementation it mirrors, the CUDA names, the source files, the C signature and the argument
domains of its parity tests. ``tests/test_kernel_parity.py`` (host C++ build) and
``tests/test_gpu_parity.py`` (CuPy) loop over :data:`KERNELS`, so a kernel added here without
a parity check fails the suite, and so does a mirrored scalar function of a ``.cuh`` file
that no record lists in ``mirrors``.

Conventions of every kernel (see ``kernels/common.cuh``)
--------------------------------------------------------
* ``extern "C"`` names ``<name>_<dtype>``; ``dtype`` is the storage type of the float
  arrays (``f64``/``f32``; ``u32``/``i64`` for integer-only kernels). Arithmetic is float64
  in every variant: an ``_f32`` result is the ``_f64`` result rounded once.
* One element (point, sample, array entry) per thread, in a grid-stride loop: any launch
  with at least one thread is correct.
* Scalars are passed by value with the exact C types of :attr:`Arg.kind`; arrays are
  C-contiguous device (or host) pointers.

Nothing here imports CuPy; :mod:`levyscore._gpu` (the generic loader) loads the sources.
The Numba twins are named, not imported (``"_forward._forward_kernel"``, resolved on first
use), so this module imports nothing of levyscore but the loader, and the CPU modules import
it to launch their device paths (:func:`launch`) without an import cycle.
"""
import importlib
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from . import _gpu

__all__ = ["Arg", "Domain", "KernelInfo", "KERNELS", "SCALAR_KINDS", "POINTER_KINDS", "get",
           "launch"]

#: Scalar argument kinds and their C types.
SCALAR_KINDS = MappingProxyType({
    "i64": "long long",
    "u64": "unsigned long long",
    "u32": "unsigned int",
    "f64": "double",
})
#: Pointer argument kinds and their element types; ``T*`` is the kernel's storage type.
POINTER_KINDS = MappingProxyType({
    "T*": None,
    "f64*": "double",
    "i64*": "long long",
    "u32*": "unsigned int",
})
_STORAGE = MappingProxyType({"f64": "double", "f32": "float", "u32": None, "i64": None})


@dataclass(frozen=True)
class Arg:
    """One kernel argument, in signature order.

    Attributes
    ----------
    name : str
        The parameter name in the ``.cu`` source.
    kind : str
        A key of :data:`SCALAR_KINDS` or :data:`POINTER_KINDS`.
    out : bool
        True for arrays the kernel writes.
    """

    name: str
    kind: str
    out: bool = False

    def __post_init__(self):
        if self.kind not in SCALAR_KINDS and self.kind not in POINTER_KINDS:
            raise ValueError(f"unknown argument kind {self.kind!r} for {self.name!r}")
        if self.out and self.kind not in POINTER_KINDS:
            raise ValueError(f"output argument {self.name!r} must be a pointer")

    @property
    def pointer(self):
        return self.kind in POINTER_KINDS

    def c_type(self, dtype):
        """C type of the argument in the ``dtype`` variant (as written in the source)."""
        if self.kind in SCALAR_KINDS:
            return SCALAR_KINDS[self.kind]
        elem = POINTER_KINDS[self.kind] or _STORAGE[dtype]
        return f"{elem}*" if self.out else f"const {elem}*"


@dataclass(frozen=True)
class Domain:
    """Range of a parity-test argument.

    Values are drawn in ``[lo, hi]``: uniformly (``scale="linear"``), log-uniformly
    (``"log"``, ``lo > 0``) or as integers (``"int"``, inclusive bounds); ``special`` are
    values every test includes (branch boundaries, edge cases, invalid inputs).
    """

    lo: float
    hi: float
    scale: str = "linear"
    special: tuple = ()

    def __post_init__(self):
        if self.scale not in ("linear", "log", "int"):
            raise ValueError(f"scale must be 'linear', 'log' or 'int', got {self.scale!r}")
        if not self.lo <= self.hi or (self.scale == "log" and not self.lo > 0):
            raise ValueError(f"bad domain [{self.lo}, {self.hi}] ({self.scale})")

    def draw(self, rng, size):
        """``size`` values from ``rng`` (a numpy Generator), ``special`` values first."""
        special = list(self.special)[:size]
        k = size - len(special)
        if self.scale == "int":
            drawn = [int(v) for v in rng.integers(int(self.lo), int(self.hi), k, endpoint=True,
                                                  dtype=np.uint64 if self.lo >= 0 else np.int64)]
        elif self.scale == "log":
            drawn = list(np.exp(rng.uniform(np.log(self.lo), np.log(self.hi), k)))
        else:
            drawn = list(rng.uniform(self.lo, self.hi, k))
        return special + drawn


@dataclass(frozen=True)
class KernelInfo:
    """One CUDA kernel family and its Numba twin.

    Attributes
    ----------
    name : str
        Stem of the CUDA names (``<name>_<dtype>``), also the C++ name of the scalar function
        it evaluates where there is one.
    cpu_name : str
        ``"<module>.<function>"`` (a module of levyscore) of the Numba implementation the
        kernel mirrors: a scalar function, or the parallel loop kernel whose body the CUDA
        kernel is; :attr:`cpu` is the function itself.
    mirrors : tuple of str
        C++ scalar functions of the ``.cuh`` files this kernel exercises; each is the twin of
        the Numba function named in its ``// Numba twin:`` comment.
    header : str
        The ``.cuh`` file of the scalar functions.
    source : str
        The ``.cu`` file of the kernels.
    dtypes : tuple of str
        Variants (CUDA name suffixes).
    args : tuple of Arg
        The C signature, in order (checked against the source by the tests).
    domains : mapping
        Parity-test domain of each drawn argument (by name; kernels with several cases, such
        as the forward draw, name the model parameters instead of raw arguments).
    device_eps : float
        Device tolerance in units of float64 eps (2**-52): ``|gpu - cpu| <= device_eps * eps
        * max(|cpu|, device_floor)`` (integers and Philox words: exact). The host C++ build
        must match bit for bit (glibc is Numba's libm). See ``note`` for the reason.
    device_floor : float
        Absolute scale of the device tolerance (1 for logarithms, whose error is absolute
        near their zero; 0 for purely relative).
    note : str
        Why the device tolerance is what it is.
    twin_name : str or None
        ``"<module>.<function>"`` of the Numba loop kernel that takes exactly the kernel's
        arguments (names and order of :attr:`args`) and is what the CPU path runs; None for
        families whose kernel is an elementwise wrapper of the scalar function :attr:`cpu`.
        :attr:`twin` is the function itself.
    """

    name: str
    cpu_name: str
    mirrors: tuple
    header: str
    source: str
    dtypes: tuple
    args: tuple
    domains: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    device_eps: float = 0.0
    device_floor: float = 0.0
    note: str = ""
    twin_name: str = None

    def __post_init__(self):
        object.__setattr__(self, "domains", MappingProxyType(dict(self.domains)))
        for d in self.dtypes:
            if d not in _STORAGE:
                raise ValueError(f"unknown dtype suffix {d!r} for {self.name!r}")

    @property
    def cpu(self):
        """The Numba function named by :attr:`cpu_name`."""
        return _resolve(self.cpu_name)

    @property
    def twin(self):
        """The Numba loop kernel named by :attr:`twin_name` (None if there is none)."""
        return None if self.twin_name is None else _resolve(self.twin_name)

    def run_twin(self, values):
        """Run :attr:`twin` on the host with the kernel's arguments by name.

        ``values`` is what :func:`levyscore._gpu.pack_args` takes: scalars become Python
        ints or floats (their C kind), arrays NumPy views of the same memory (outputs are
        written in place), so a stand-in device can run the CPU twin of any kernel. A float32
        storage array (the ``_f32`` variant) is widened to float64 for the twin, and a float32
        output is the float64 result rounded once: the contract of every ``_f32`` kernel.
        """
        if self.twin_name is None:
            raise TypeError(f"kernel {self.name!r} has no loop twin (an elementwise wrapper of "
                            f"{self.cpu_name})")
        args = []
        narrowed = []
        for arg in self.args:
            value = values[arg.name]
            if not arg.pointer:
                args.append(float(value) if arg.kind == "f64" else int(value))
                continue
            arr = np.asarray(value)
            if arg.kind == "T*" and arr.dtype == np.float32:
                wide = arr.astype(np.float64)
                if arg.out:
                    narrowed.append((arr, wide))
                arr = wide
            args.append(arr)
        self.twin(*args)
        for arr, wide in narrowed:
            arr[...] = wide

    @property
    def cuda_names(self):
        """The ``extern "C"`` kernel names, one per dtype."""
        return tuple(f"{self.name}_{d}" for d in self.dtypes)

    def signature(self, dtype):
        """The C parameter list of the ``dtype`` variant, as ``[(c_type, name), ...]``."""
        return [(a.c_type(dtype), a.name) for a in self.args]


def _resolve(name):
    module, _, attr = name.rpartition(".")
    return getattr(importlib.import_module(f"levyscore.{module}"), attr)


def _a(spec):
    """Arg list from a compact spec: "name:kind" inputs, "name:kind!" outputs."""
    out = []
    for item in spec.split():
        name, kind = item.split(":")
        is_out = kind.endswith("!")
        out.append(Arg(name, kind.rstrip("!"), is_out))
    return tuple(out)


_U32 = Domain(0, 2**32 - 1, "int", special=(0, 1, 2**32 - 1))
# start + n must stay below 2**64; the specials cross the 2**32 boundary of the low word.
_START = Domain(0, 2**62, "int", special=(0, 2**32 - 3))
_STREAM = Domain(0, 2**24 - 1, "int", special=(0, 2**24 - 1))
_NU = Domain(0.0, 2048.0, special=(0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 31.5, 1024.0, 1e5, 1.5e5,
                                   -1.0))
_X = Domain(1e-10, 1e4, "log", special=(0.25, 0.5, 1.0, 1.0 + 2.0**-52, 2.0, 4.0, 15.999, 16.0,
                                        1e-300, 0.0, -1.0, float("inf"), float("nan")))
_RADIUS = Domain(1e-6, 1e3, "log", special=(0.0, 1e-300, 1e-12, 1.0, 1e5, 1e300, 1.7e308))
_DIM = Domain(1, 64, "int", special=(1, 2, 3, 4, 5, 512, 2048))
_M = Domain(1, 8, "int", special=(1, 2, 3, 16, 64))
_LAM = Domain(0.1, 10.0, "log")
_B = Domain(0.05, 5.0, "log")
_TIME = Domain(1e-3, 30.0, "log", special=(float("inf"), 1e-8, 400.0))
_THETA = Domain(0.05, 2.0, "log", special=(0.5,))

_CF_TOL = ("log-space sums: |ell| = |log w_j + j log rho + log K ratios| reaches ~1e3 on "
           "these domains, and an ulp of libdevice's log/exp (1 ulp) or lgamma (4 ulps) in "
           "such a term moves h by ~|ell| eps")

# Amplitude laws (levyscore.amplitudes._dispatch.LAW_*): Laplace, Gaussian, Student-t; and
# Student-t's nu (> 2; 3 and 5 are the common choices, 2.5 the heaviest tail drawn here).
_LAW = Domain(0, 2, "int", special=(0, 1, 2))
_STUDENT_NU = Domain(2.5, 30.0, "log", special=(3.0, 5.0))

# The table arguments of the ScoreTable kernels (levyscore._table_kernel.table_args).
_TABLE_ARGS = ("params:f64* roots:i64* split:i64* value:f64* child:i64* leaf_of:i64* "
               "boxes:f64* coef:f64* n_coef:i64")
_TABLE_TOL = ("the panel search and the Chebyshev sum are IEEE (identical bits); libdevice's "
              "log (u, tau, v: 1 ulp each of values up to ~50) and expm1 move the panel "
              "coordinate by ~50 eps, and log h changes at most ~2 per unit of u (h ~ r^-2), "
              "so h moves by ~1e2 eps relative, plus 1 ulp of exp; a point within ulps of a "
              "panel edge may take the neighbouring panel, which agrees to the table's rtol, "
              "not to ulps (probability ~1e-14 per point)")

_FORWARD_DOMAINS = {
    "k0": _U32, "k1": _U32, "start": _START, "index": _STREAM,
    "dim": Domain(1, 9, "int", special=(1, 2)),
    "theta": _THETA, "diffusion": Domain(0.0, 2.0, special=(0.0,)),
    "m": Domain(1, 64, "int", special=(1, 2, 64)),
    "m_compound": Domain(0.05, 9.0, "log"),
    "jump_rate": Domain(0.1, 10.0, "log"), "jump_var": Domain(0.1, 5.0, "log"),
    "t": Domain(1e-3, 10.0, "log", special=(10.0,)),
}
_FORWARD_TOL = ("W sums N ~ lambda t (<= ~400 on these domains) marks times dampings "
                "e^{-2 theta a} (|2 theta a| <= 40) built from running products or sums of "
                "libdevice exp/log values: a random walk of ~sqrt(N) ulps, amplified up to 40x "
                "through the exponent, ~1e3 eps; Y = sqrt(s + sigma_A**2 W) xi adds a few "
                "ulps. N is exact unless a damping lands within ulps of q (probability ~1e-15 "
                "per jump)")
_STATIONARY_DOMAINS = {
    "k0": _U32, "k1": _U32, "start": _START, "index": _STREAM,
    "dim": Domain(1, 9, "int", special=(1, 2)), "theta": _THETA,
    "diffusion": Domain(0.0, 2.0, special=(0.0,)),
    "jump_rate": Domain(0.02, 20.0, "log"), "jump_var": Domain(0.1, 5.0, "log"),
}

KERNELS = (
    KernelInfo(
        "philox4x32_10", "_philox.philox4x32_10", ("philox4x32_10",), "philox.cuh",
        "special.cu", ("u32",), _a("n:i64 c:u32* k0:u32 k1:u32 out:u32*!"),
        {"c": _U32, "k0": _U32, "k1": _U32},
        note="integer arithmetic: exact on every backend",
    ),
    KernelInfo(
        "uniform_pair", "_philox.uniform_pair", ("stream_word", "uniform_from_words",
                                               "uniform_pair"),
        "philox.cuh", "special.cu", ("f64", "f32"),
        _a("n:i64 start:u64 domain:u32 index:u32 c3:u32 k0:u32 k1:u32 out:T*!"),
        {"start": _START, "domain": Domain(0, 255, "int", special=(0, 1, 255)),
         "index": _STREAM, "c3": _U32, "k0": _U32, "k1": _U32},
        note="(k + 0.5) 2**-52 is exact: bit for bit on every backend",
    ),
    KernelInfo(
        "normal_pair", "_philox.normal_pair", ("box_muller", "normal_pair"), "philox.cuh",
        "special.cu", ("f64", "f32"),
        _a("n:i64 start:u64 domain:u32 index:u32 c3:u32 k0:u32 k1:u32 out:T*!"),
        {"start": _START, "index": _STREAM, "c3": _U32, "k0": _U32, "k1": _U32},
        device_eps=8.0,
        note="libdevice log 1 ulp, sin/cos 2 ulps; sqrt halves the error of log",
    ),
    KernelInfo(
        "exponential_pair", "_philox.exponential_pair", ("exponential_pair",), "philox.cuh",
        "special.cu", ("f64", "f32"),
        _a("n:i64 start:u64 domain:u32 index:u32 c3:u32 k0:u32 k1:u32 out:T*!"),
        {"start": _START, "index": _STREAM, "c3": _U32, "k0": _U32, "k1": _U32},
        device_eps=4.0,
        note="libdevice log: 1 ulp; glibc's log: < 1 ulp",
    ),
    KernelInfo(
        "gamma_variate", "_philox.gamma_variate", ("gamma_variate", "marsaglia_tsang_cube"),
        "philox.cuh",
        "special.cu", ("f64", "f32"),
        _a("n:i64 shape:f64 start:u64 domain:u32 index:u32 k0:u32 k1:u32 out:T*!"),
        {"shape": Domain(0.01, 50.0, "log", special=(0.0, 0.5, 1.0, 2.0, 64.0)),
         "start": _START, "index": _STREAM, "k0": _U32, "k1": _U32},
        device_eps=2048.0,
        note=("one Box-Muller normal and v**3: a few ulps; below shape 1 the result is exp(E), "
              "E = log g + log(u) / shape, and an ulp of E (|E| < 745 before underflow) is "
              "|E| eps relative: <= ~1.5e3 eps. An accept/reject decision flips only if a "
              "test value is within ulps of its threshold (probability ~1e-15)"),
    ),
    KernelInfo(
        "bessel_k_ratio", "_bessel.bessel_k_ratio",
        ("bessel_k_ratio", "base_ratio", "temme_gammas", "base_temme", "cf2_ratio",
         "k1k0_chebyshev", "debye_sums"),
        "bessel.cuh", "special.cu", ("f64", "f32"), _a("n:i64 nu:T* x:T* out:T*!"),
        {"nu": _NU, "x": _X},
        device_eps=32.0,
        note=("Temme's series (sin, sinh, cosh, exp, log: <= 2 ulps each in libdevice) loses "
              "up to e^{2x} ~ 7 times its input error to cancellation for x <= 1; the "
              "recurrence is IEEE and stable (it damps a base difference); nu >= 24: the "
              "Debye expansion, one hypot and IEEE operations"),
    ),
    KernelInfo(
        "log_bessel_k", "_bessel.log_bessel_k", ("log_bessel_k",), "bessel.cuh", "special.cu",
        ("f64", "f32"), _a("n:i64 nu:T* x:T* out:T*!"),
        {"nu": Domain(-2048.0, 2048.0, special=_NU.special + (-0.5, -1e5, -2e5)), "x": _X},
        device_eps=64.0, device_floor=1.0,
        note=("absolute near the zero of log K: both builds are within 30 eps * max(1, "
              "|log K|) of mpmath"),
    ),
    KernelInfo(
        "log_bessel_k_and_ratio", "_bessel.log_bessel_k_and_ratio",
        ("log_bessel_k_and_ratio", "base", "base_cf2", "debye_log_k", "debye_nu_eta", "dd_log",
         "dd_div", "dd_add", "dd_two_prod", "dd_two_sum", "dd_fast_sum"),
        "bessel.cuh", "special.cu", ("f64", "f32"),
        _a("n:i64 nu:T* x:T* logk_out:T*! ratio_out:T*!"),
        {"nu": _NU, "x": _X},
        device_eps=64.0, device_floor=1.0,
        note="as log_bessel_k (log K) and bessel_k_ratio (ratio)",
    ),
    KernelInfo(
        "weight_table", "_closed_form._weight_table", ("weight_table", "time_constants",
                                                     "log_weight"),
        "closed_form.cuh", "closed_form.cu", ("f64",),
        _a("n:i64 t:f64* theta:f64 lam:f64 m:i64 lw_out:f64*! latom_out:f64*! "
           "atom_out:f64*!"),
        {"t": _TIME, "theta": _THETA, "lam": _LAM, "m": _M},
        device_eps=2048.0, device_floor=1.0,
        note=("three lgamma terms (4 ulps each in libdevice) of size up to lgamma(m + 1) = "
              "209 for m = 64: ~3.4e-13 = 1.5e3 eps absolute in log w, relative in w"),
        twin_name="_closed_form.weight_table_kernel",
    ),
    KernelInfo(
        "window", "_closed_form._window", ("window",), "closed_form.cuh", "closed_form.cu",
        ("i64",), _a("n:i64 dim:i64* m:i64* mu0_out:f64*! k_out:i64*!"),
        {"dim": Domain(1, 5000, "int", special=(1, 2, 3, 4)), "m": Domain(1, 200, "int")},
        note="integer logic on exact halves: exact on every backend",
    ),
    KernelInfo(
        "h_linear", "_closed_form._h_linear", ("h_linear", "h_linear_ratio", "h_linear_window",
                                                "h_one"),
        "closed_form.cuh",
        "closed_form.cu", ("f64", "f32"),
        _a("n:i64 r:T* dim:i64 lam:f64 b:f64 m:i64 atom:f64* lw:f64* per_row:i64 h_out:T*!"),
        {"r": _RADIUS, "dim": _DIM, "lam": _LAM, "b": _B, "m": _M, "t": _TIME,
         "theta": _THETA},
        device_eps=1024.0,
        note=("a product of up to m + 1 Bessel ratios (each within 32 eps, the recurrence "
              "damps the base difference) times exact powers rho**j: <= ~1e3 eps for m = 64"),
    ),
    KernelInfo(
        "point_closed_form", "_closed_form._point_closed_form",
        ("point_closed_form", "point_closed_form_log", "lse_add", "origin_logpdf"),
        "closed_form.cuh", "closed_form.cu", ("f64", "f32"),
        _a("n:i64 r:T* dim:i64 lam:f64 b:f64 m:i64 latom:f64* lw:f64* per_row:i64 "
           "want_logp:i64 logp_out:T*! h_out:T*!"),
        {"r": _RADIUS, "dim": _DIM, "lam": _LAM, "b": _B, "m": _M, "t": _TIME,
         "theta": _THETA},
        device_eps=4096.0, device_floor=1.0, note=_CF_TOL,
        twin_name="_closed_form.point_closed_form_kernel",
    ),
    KernelInfo(
        "h_fast", "_closed_form._h_fast", ("h_fast", "h_limit", "h_prepared"), "closed_form.cuh",
        "closed_form.cu",
        ("f64", "f32"),
        _a("n:i64 r:T* dim:i64 lam:f64 b:f64 m:i64 latom:f64* atom:f64* lw:f64* "
           "per_row:i64 h_out:T*!"),
        {"r": _RADIUS, "dim": _DIM, "lam": _LAM, "b": _B, "m": _M, "t": _TIME,
         "theta": _THETA},
        device_eps=4096.0, note=_CF_TOL,
    ),
    KernelInfo(
        "closed_form_score", "_closed_form.closed_form_score",
        ("rescaled_norm", "score_row_near_origin", "row_not_finite", "ratio_lookup",
         "double_bits", "score_row", "write_row", "norm2", "usual_h", "one_row"),
        "closed_form.cuh", "closed_form.cu",
        ("f64", "f32"),
        _a("n:i64 dim:i64 y:T* lam:f64 b:f64 m:i64 latom:f64* atom:f64* lw:f64* "
           "per_row:i64 ratio_coef:f64* has_ratio:i64 a:f64 c:f64 combine:i64 out:T*! "
           "bad_out:i64*!"),
        {"y": Domain(-30.0, 30.0), "dim": Domain(1, 16, "int", special=(1, 2, 3)),
         "lam": _LAM, "b": _B, "m": _M, "t": _TIME, "theta": _THETA},
        device_eps=4096.0, note=_CF_TOL + "; |y| is summed in the same order",
        twin_name="_closed_form.closed_form_score_kernel",
    ),
    KernelInfo(
        "table_h", "_table_kernel.table_h", ("locate", "chebyshev2d", "point_h", "one_minus_q_at"),
        "table.cuh", "table.cu", ("f64", "f32"),
        _a("n:i64 r:T* t:f64* t_per_row:i64 " + _TABLE_ARGS + " h_out:T*! leaf_out:i64*!"),
        {"r": _RADIUS, "t": _TIME}, device_eps=256.0, note=_TABLE_TOL,
        twin_name="_table_kernel.table_h",
    ),
    KernelInfo(
        "table_score", "_table_kernel.table_score", ("point_h",), "table.cuh", "table.cu",
        ("f64", "f32"),
        _a("n:i64 dim:i64 y:T* t:f64* t_per_row:i64 " + _TABLE_ARGS + " out:T*! leaf_out:i64*!"),
        {"y": Domain(-30.0, 30.0), "dim": Domain(1, 16, "int", special=(1, 2, 3)),
         "t": _TIME},
        device_eps=256.0, note=_TABLE_TOL + "; |y| is summed in the same order",
        twin_name="_table_kernel.table_score",
    ),
    KernelInfo(
        "forward", "_forward._forward_kernel",
        ("gaussian_variance", "binomial_gamma_mixing", "jump_mixing", "gaussian_row"),
        "forward.cuh", "forward.cu", ("f64", "f32"),
        _a("n:i64 dim:i64 k0:u32 k1:u32 x0:T* has_x0:i64 t:f64* t_per_row:i64 theta:f64 "
           "diffusion:f64 jump_rate:f64 jump_var:f64 start:u64 index:u32 dom_gauss:u32 "
           "dom_jump:u32 out:T*! w_out:T*! n_out:i64*!"),
        _FORWARD_DOMAINS, device_eps=4096.0, note=_FORWARD_TOL,
        twin_name="_forward._forward_laplace",
    ),
    KernelInfo(
        "forward_law", "_forward._forward_kernel",
        ("jump_mixing", "draw_mark", "laplace_mark", "gaussian_mark", "student_t_mark",
         "ziggurat_candidate", "ziggurat_fast", "ziggurat_slow"),
        "forward.cuh", "forward.cu", ("f64", "f32"),
        _a("n:i64 dim:i64 k0:u32 k1:u32 x0:T* has_x0:i64 t:f64* t_per_row:i64 theta:f64 "
           "diffusion:f64 jump_rate:f64 jump_var:f64 start:u64 index:u32 dom_gauss:u32 "
           "dom_jump:u32 dom_mark:u32 law:i64 law_param:f64 out:T*! w_out:T*! n_out:i64*!"),
        {**_FORWARD_DOMAINS, "law": _LAW, "nu": _STUDENT_NU},
        device_eps=4096.0,
        note=(_FORWARD_TOL + ". Laplace (law 0) is the forward kernel. Other laws take the "
              "jump loop at integer m too (no Binomial-Gamma route): N ~ 2 theta m t <= ~2.6e3 "
              "for m = 64, a random walk of ~50 ulps. Gaussian marks are "
              "exactly 1 (W is a sum of dampings: at most the Laplace error). A Student-t "
              "mark (nu/2 - 1)/G takes G from the Marsaglia-Tsang sampler (shape nu/2 >= "
              "1.25: no boost, a ziggurat normal (exact products of table entries; an exp "
              "or log only on its slow path) and v**3, a few ulps, as gamma_variate "
              "above shape 1); W is a sum of positive terms, so its relative error is at most "
              "the worst term's, heavy-tailed marks or not, except that the largest marks "
              "come from v = 1 + c x near 0, where the cancellation multiplies the error of "
              "v**3 by 1/v (> 100, i.e. ~1e3 eps, with probability ~1e-7 per mark at nu = "
              "2.5). An accept/reject decision of a mark flips only if a test value is within "
              "ulps of its threshold (probability ~1e-15 per attempt, ~1e-11 per launch of "
              "these cases)"),
        twin_name="_forward._forward_kernel",
    ),
    KernelInfo(
        "stationary", "_forward._stationary_kernel", (), "forward.cuh", "forward.cu",
        ("f64", "f32"),
        _a("n:i64 dim:i64 k0:u32 k1:u32 theta:f64 diffusion:f64 jump_rate:f64 jump_var:f64 "
           "start:u64 index:u32 out:T*! w_out:T*!"),
        _STATIONARY_DOMAINS,
        device_eps=2048.0,
        note="as gamma_variate (shape m down to 0.005 here), then a sqrt and a normal",
        twin_name="_forward._stationary_laplace",
    ),
    KernelInfo(
        "stationary_law", "_forward._stationary_kernel", ("stationary_mixing",), "forward.cuh",
        "forward.cu", ("f64", "f32"),
        _a("n:i64 dim:i64 k0:u32 k1:u32 theta:f64 diffusion:f64 jump_rate:f64 jump_var:f64 "
           "start:u64 index:u32 law:i64 law_param:f64 out:T*! w_out:T*!"),
        {**_STATIONARY_DOMAINS, "jump_rate": Domain(0.02, 5.0, "log"), "law": _LAW,
         "nu": _STUDENT_NU},
        device_eps=4096.0,
        note=("Laplace: as stationary (2048 eps). Other laws: the forward_law jump loop over "
              "the horizon 2 theta T = 64 log 2, i.e. ~44 m jumps (m = lambda/(2 theta) <= 50 "
              "here: <= ~2.2e3, a random walk of ~50 ulps) with dampings down to 2**-64 "
              "(|log damping| <= 44.4 amplifies a log/exp ulp at most 44x), then a sqrt and a "
              "normal: as forward_law, 4096 eps"),
        twin_name="_forward._stationary_kernel",
    ),
    KernelInfo(
        "forward_path", "_forward._path_kernel", (), "forward.cuh", "forward.cu", ("f64",),
        _a("n:i64 dim:i64 k0:u32 k1:u32 x0:T* times:f64* n_times:i64 theta:f64 diffusion:f64 "
           "jump_rate:f64 jump_var:f64 start:u64 law:i64 law_param:f64 out:T*!"),
        {**_FORWARD_DOMAINS, "law": _LAW, "nu": _STUDENT_NU},
        device_eps=4096.0,
        note=("a chain of forward_law draws (the same tolerance per interval): each value is "
              "decay * (previous value) + scale * xi, so an error of the previous value is "
              "damped by decay < 1, and the errors of L intervals add to at most L times one "
              "interval's (L <= 6 in the cases)"),
        twin_name="_forward._path_kernel",
    ),
    KernelInfo(
        "reverse_step", "_reverse._reverse_step_kernel",
        ("step_sample", "first_block_test", "first_block_no_jump"), "reverse.cuh", "reverse.cu",
        ("f64", "f32"),
        _a("n:i64 dim:i64 k0:u32 k1:u32 x:T* s:T* a:f64 c:f64 h:f64 theta:f64 diffusion:f64 "
           "jump_rate:f64 jump_var:f64 start:u64 index:u32 dom_gauss:u32 dom_jump:u32 "
           "dom_mark:u32 law:i64 law_param:f64 out:T*!"),
        {**_FORWARD_DOMAINS, "law": _LAW, "nu": _STUDENT_NU, "a": Domain(0.5, 3.0),
         "c": Domain(-2.0, 2.0, special=(0.0,)), "x": Domain(-10.0, 10.0),
         "s": Domain(-10.0, 10.0)},
        device_eps=4096.0,
        note=("the noise of forward_law (no x0, one time) added to a x + c s: the forward "
              "draw's tolerance, relative to the noise, plus the combine's exact arithmetic"),
        twin_name="_reverse._reverse_step_kernel",
    ),
    KernelInfo(
        "combine", "_reverse._combine", ("combine",), "reverse.cuh", "reverse.cu",
        ("f64", "f32"), _a("n:i64 a:f64 x:T* c:f64 s:T* out:T*!"),
        {"a": Domain(0.5, 3.0), "c": Domain(-2.0, 2.0, special=(0.0,)),
         "x": Domain(-10.0, 10.0), "s": Domain(-10.0, 10.0)},
        note="two products and a sum, unfused (--fmad=false): exact on every backend",
        twin_name="_reverse._combine",
    ),
    KernelInfo(
        "combine_noise", "_reverse._combine_noise", ("combine_noise",), "reverse.cuh",
        "reverse.cu", ("f64", "f32"), _a("n:i64 a:f64 x:T* c:f64 s:T* noise:T* out:T*!"),
        {"a": Domain(0.5, 3.0), "c": Domain(-2.0, 2.0, special=(0.0,)),
         "x": Domain(-10.0, 10.0), "s": Domain(-10.0, 10.0), "noise": Domain(-1.0, 1.0)},
        note="as combine",
        twin_name="_reverse._combine_noise",
    ),
)

_BY_NAME = {k.name: k for k in KERNELS}
assert len(_BY_NAME) == len(KERNELS), "duplicate kernel names"


def get(name):
    """The :class:`KernelInfo` of kernel family ``name``."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"no kernel {name!r}; known: {sorted(_BY_NAME)}") from None


def launch(name, dtype, n, values):
    """Launch ``<name>_<dtype>`` on the current CUDA device over ``n`` elements with the
    arguments ``values`` (a dict by argument name; CuPy arrays): :func:`levyscore._gpu.launch`
    with the record of ``name``."""
    _gpu.launch(get(name), dtype, n, values)
