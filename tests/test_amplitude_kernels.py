"""Host parity of the amplitude-law kernels ``forward_law`` and ``stationary_law``.

The ``kernels/`` sources built by the host C++ compiler (as in
``tests/test_kernel_parity.py``: exactly the text CuPy compiles, ``-ffp-contract=off``) are
compared with their Numba twins, :func:`levyscore._forward._forward_kernel` and
:func:`levyscore._forward._stationary_kernel` with the law arguments, for the three
amplitude laws (Laplace, Gaussian, Student-t).

Tolerance: none, as for the other kernels of the host build. The Student-t mark is a
Marsaglia-Tsang Gamma draw (``student_t_mark``: sqrt, log, cos and IEEE arithmetic),
Laplace's is ``-log u``, Gaussian's the constant 1, so every float64 result is bit-identical
to Numba's (glibc is Numba's libm) and every float32 result is it rounded once. The device
tolerances (libdevice is not glibc) are in the registry records (``device_eps``, ``note``).

The case builders :func:`case_forward_law` and :func:`case_stationary_law` have the
signature of the ``CASES`` entries of ``tests/test_kernel_parity.py`` (which
``tests/test_gpu_parity.py`` reuses on a device). This module imports that one lazily, inside
functions (:func:`_kp`), so that it may in turn import these two builders at its end without
a circular import.
"""
import ctypes
import dataclasses
import importlib
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import levyscore
from levyscore import _forward, _gpu, _philox, _registry
from levyscore.amplitudes import Gaussian, Laplace, StudentT
from levyscore.amplitudes._dispatch import LAW_GAUSSIAN, LAW_LAPLACE, LAW_STUDENT_T
from levyscore.amplitudes.student_t import MARK_BLOCKS

LAWS = (LAW_LAPLACE, LAW_GAUSSIAN, LAW_STUDENT_T)
LAW_VARIANTS = [(name, dtype) for name in ("forward_law", "stationary_law")
                for dtype in _registry.get(name).dtypes]


def _kp():
    """``tests/test_kernel_parity.py`` (host build, ``Case``, comparisons), imported lazily:
    the copy already loaded (pytest's ``tests.test_kernel_parity`` or the ``sys.path`` one
    that ``tests/test_gpu_parity.py`` imports) if there is one. A first import must not
    happen inside a Hypothesis test (its ``@given`` decorators would count as nested), so the
    tests here that draw with Hypothesis take the :func:`kp` fixture."""
    for name in ("test_kernel_parity", "tests.test_kernel_parity"):
        mod = sys.modules.get(name)
        if mod is not None and hasattr(mod, "check_host"):
            return mod
    return importlib.import_module("test_kernel_parity")


# ---------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------


def forward_case(info, *, k0, k1, x0, t, theta, diffusion, jump_rate, jump_var, start, index,
                 dom_gauss, dom_jump, dom_mark, law, law_param):
    """One launch of ``forward``/``forward_law`` and its Numba result.

    ``x0`` is None for increments (``has_x0 = 0``); ``t`` has one entry (shared) or n.
    Float inputs must be float32-representable (:func:`test_kernel_parity.stored`).
    """
    kp = _kp()
    n = int(np.size(t)) if x0 is None else int(x0.shape[0])
    dim = int(x0.shape[1]) if x0 is not None else None
    return _forward_case_n(kp, info, n, dim, k0, k1, x0, t, theta, diffusion, jump_rate,
                           jump_var, start, index, dom_gauss, dom_jump, dom_mark, law, law_param)


def _forward_case_n(kp, info, n, dim, k0, k1, x0, t, theta, diffusion, jump_rate, jump_var,
                    start, index, dom_gauss, dom_jump, dom_mark, law, law_param):
    has_x0 = int(x0 is not None)
    t = np.ascontiguousarray(t, dtype=np.float64)
    t_per_row = int(t.shape[0] != 1)
    assert not t_per_row or t.shape[0] == n
    x0_arr = x0 if has_x0 else np.zeros((n, dim))
    scalars = dict(n=n, dim=dim, k0=int(k0), k1=int(k1), has_x0=has_x0, t_per_row=t_per_row,
                   theta=float(theta), diffusion=float(diffusion), jump_rate=float(jump_rate),
                   jump_var=float(jump_var), start=int(start), index=int(index),
                   dom_gauss=int(dom_gauss), dom_jump=int(dom_jump), dom_mark=int(dom_mark),
                   law=int(law), law_param=float(law_param))
    return kp.from_twin(_registry.get("forward_law"), n, scalars, {"x0": x0_arr, "t": t},
                        {"out": (n, dim), "w_out": (n,), "n_out": (n,)}, info=info)


def _param(d, rng, law):
    return float(_kp().pick(d["nu"], rng)) if law == LAW_STUDENT_T else 0.0


def case_forward_law(info, rng, dtype):
    """Every route of the forward draw (``test_kernel_parity.FORWARD_ROUTES``) for every law.

    On the "binomial" route (integer m) Laplace takes the Binomial-Gamma shortcut and the
    other laws the jump loop with integer m (for m = 1 its exp-free branch).
    """
    kp = _kp()
    d = info.domains
    cases = []
    for route in kp.FORWARD_ROUTES:
        for law in LAWS:
            n = 24
            dim = int(kp.pick(d["dim"], rng))
            theta = kp.pick(d["theta"], rng)
            dom_gauss, dom_jump = _philox.DOMAIN_FORWARD_GAUSS, _philox.DOMAIN_FORWARD_JUMP
            dom_mark = _philox.DOMAIN_FORWARD_MARK
            if route == "binomial":
                jump_rate = 2.0 * theta * int(kp.pick(d["m"], rng))
            elif route == "compound":
                mc = kp.pick(d["m_compound"], rng)
                if abs(mc - round(mc)) < 0.01:
                    mc += 0.37
                jump_rate = 2.0 * theta * mc
            elif route == "theta0":
                theta, jump_rate = 0.0, kp.pick(d["jump_rate"], rng)
            elif route == "no-jumps":
                jump_rate = 0.0
            else:  # reverse_noise(growth=True): theta -> -theta, reverse-time domains
                theta, jump_rate = -theta, kp.pick(d["jump_rate"], rng)
                dom_gauss, dom_jump = _philox.DOMAIN_REVERSE_GAUSS, _philox.DOMAIN_REVERSE_JUMP
                dom_mark = _philox.DOMAIN_REVERSE_MARK
            diffusion = kp.pick(d["diffusion"], rng)
            if route == "no-jumps" and diffusion == 0.0:
                diffusion = 1.0
            jump_var = kp.pick(d["jump_var"], rng)
            start, index, k0, k1 = (kp.pick(d[k], rng) for k in ("start", "index", "k0", "k1"))
            has_x0 = int(rng.integers(2))
            t_per_row = int(rng.integers(2))
            t = kp.stored(d["t"].draw(rng, n if t_per_row else 1))
            x0 = kp.stored(rng.normal(0.0, 3.0, (n, dim))) if has_x0 else None
            cases.append(_forward_case_n(kp, info, n, dim, k0, k1, x0, t, theta, diffusion,
                                         jump_rate, jump_var, start, index, dom_gauss,
                                         dom_jump, dom_mark, law, _param(d, rng, law)))
    return cases


def stationary_case(info, *, n, dim, k0, k1, theta, diffusion, jump_rate, jump_var, start,
                    index, law, law_param):
    """One launch of ``stationary``/``stationary_law`` and its Numba result."""
    scalars = dict(n=n, dim=dim, k0=int(k0), k1=int(k1), theta=float(theta),
                   diffusion=float(diffusion), jump_rate=float(jump_rate),
                   jump_var=float(jump_var), start=int(start), index=int(index), law=int(law),
                   law_param=float(law_param))
    return _kp().from_twin(_registry.get("stationary_law"), n, scalars, {},
                           {"out": (n, dim), "w_out": (n,)}, info=info)


def case_stationary_law(info, rng, dtype):
    """One stationary launch per law (Laplace: the exact Gamma(m) W_inf; the others: the
    jump loop over the horizon 2 theta T = 64 log 2)."""
    kp = _kp()
    d = info.domains
    cases = []
    for law in LAWS:
        dim = int(kp.pick(d["dim"], rng))
        theta, diffusion, jump_rate, jump_var = (kp.pick(d[k], rng) for k in (
            "theta", "diffusion", "jump_rate", "jump_var"))
        start, index, k0, k1 = (kp.pick(d[k], rng) for k in ("start", "index", "k0", "k1"))
        cases.append(stationary_case(info, n=24, dim=dim, k0=k0, k1=k1, theta=theta,
                                     diffusion=diffusion, jump_rate=jump_rate,
                                     jump_var=jump_var, start=start, index=index, law=law,
                                     law_param=_param(d, rng, law)))
    return cases


LAW_CASES = {"forward_law": case_forward_law, "stationary_law": case_stationary_law}


# ---------------------------------------------------------------------------
# The host library
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def kp():
    return _kp()


@pytest.fixture(scope="module")
def host_lib(tmp_path_factory):
    """The ``.cu`` files (headers inlined) as one host shared library, as in
    ``tests/test_kernel_parity.py``."""
    kp = _kp()
    cxx = shutil.which("g++")
    if cxx is None:
        pytest.skip("g++ not found: the host build of kernels/ cannot be checked")
    folder = tmp_path_factory.mktemp("amplitude_kernels_host")
    paths = []
    for name in kp.cu_files():
        path = folder / name
        path.write_text(_gpu.source(name))
        paths.append(str(path))
    lib = folder / "levyscore_kernels_host.so"
    cmd = [cxx, *kp.CXX_FLAGS, "-x", "c++", *paths, "-o", str(lib)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{' '.join(cmd)}\n{done.stderr}"
    assert "warning" not in done.stderr, done.stderr
    return ctypes.CDLL(str(lib))


def run_and_check(lib, case, dtype):
    """Run the case's kernel on the host library; every output bit-identical to Numba."""
    kp = _kp()
    got = kp.run_host(lib, case.info, dtype, case)
    kp.check_host(case.info, dtype, got, case)
    return got


# ---------------------------------------------------------------------------
# Parity on drawn inputs, every law
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name, dtype", LAW_VARIANTS)
@given(seed=st.integers(0, 2**32 - 1))
def test_law_kernels_host_parity(kp, host_lib, name, dtype, seed):
    info = _registry.get(name)
    rng = np.random.default_rng(seed)
    cases = LAW_CASES[name](info, rng, dtype)
    assert {c.scalars["law"] for c in cases} == set(LAWS)
    for case in cases:
        run_and_check(host_lib, case, dtype)


def _student_t_route_params():
    # (theta, jump_rate, dom_gauss, dom_jump, dom_mark): non-integer m, integer m (no
    # Binomial-Gamma for Student-t), m = 1 (the exp-free damping), theta = 0, reverse growth
    fwd = (_philox.DOMAIN_FORWARD_GAUSS, _philox.DOMAIN_FORWARD_JUMP, _philox.DOMAIN_FORWARD_MARK)
    rev = (_philox.DOMAIN_REVERSE_GAUSS, _philox.DOMAIN_REVERSE_JUMP, _philox.DOMAIN_REVERSE_MARK)
    return [(0.3, 5.0) + fwd, (0.5, 5.0) + fwd, (2.5, 5.0) + fwd, (0.0, 5.0) + fwd,
            (-0.3, 5.0) + rev]


@pytest.mark.parametrize("nu", [2.5, 3.0, 5.0, 30.0])
@pytest.mark.parametrize("dtype", ["f64", "f32"])
def test_student_t_many_jumps_host(host_lib, nu, dtype):
    """jump_rate 5 over t = 5: ~25 jumps per sample (~7 for theta = 2.5), each with its own
    Gamma draw on the mark stream (blocks p * 4096 + k for jumps 2p, 2p + 1); bit for bit
    on every route. The jump
    stream is the law's alone to choose: the counts N equal the Gaussian law's."""
    info = _registry.get("forward_law")
    rng = np.random.default_rng(int(nu * 10))
    kp = _kp()
    n, dim = 64, 3
    for theta, jump_rate, dg, dj, dm in _student_t_route_params():
        x0 = kp.stored(rng.normal(0.0, 2.0, (n, dim)))
        common = dict(k0=0x9E3779B9, k1=0x01234567, x0=x0, t=np.array([5.0]), theta=theta,
                      diffusion=0.5, jump_rate=jump_rate, jump_var=2.0, start=2**32 - 7,
                      index=11, dom_gauss=dg, dom_jump=dj, dom_mark=dm)
        case = forward_case(info, law=LAW_STUDENT_T, law_param=nu, **common)
        got = run_and_check(host_lib, case, dtype)
        counts = got["n_out"]
        if theta <= 0.5:
            assert counts.mean() > 15, (theta, counts.mean())
        assert counts.max() < 2**20  # the mark blocks of every jump are distinct
        gauss = forward_case(info, law=LAW_GAUSSIAN, law_param=0.0, **common)
        got_g = run_and_check(host_lib, gauss, dtype)
        np.testing.assert_array_equal(got_g["n_out"], counts)
        # Student-t marks are random (not the Gaussian law's 1): W differs where N > 0
        jumped = counts > 0
        assert np.all(got["w_out"][jumped] != got_g["w_out"][jumped])


@pytest.mark.parametrize("dtype", ["f64", "f32"])
@pytest.mark.parametrize("law, param", [(LAW_STUDENT_T, 3.0), (LAW_STUDENT_T, 5.0),
                                        (LAW_GAUSSIAN, 0.0), (LAW_LAPLACE, 0.0)])
def test_forward_law_per_row_times_host(host_lib, dtype, law, param):
    """One time per row (t_per_row = 1), from 1e-3 to 30, with and without x0."""
    info = _registry.get("forward_law")
    kp = _kp()
    rng = np.random.default_rng(5 + law)
    n, dim = 48, 2
    t = kp.stored(np.exp(rng.uniform(np.log(1e-3), np.log(30.0), n)))
    for x0 in (kp.stored(rng.normal(0.0, 3.0, (n, dim))), None):
        for theta, jump_rate in ((0.5, 2.7), (0.25, 0.5)):  # m = 2.7 and m = 1
            case = _forward_case_n(kp, info, n, dim, 17, 4242, x0, t, theta, 1.0, jump_rate,
                                   0.7, 123, 3, _philox.DOMAIN_FORWARD_GAUSS,
                                   _philox.DOMAIN_FORWARD_JUMP, _philox.DOMAIN_FORWARD_MARK,
                                   law, param)
            assert case.scalars["t_per_row"] == 1
            run_and_check(host_lib, case, dtype)


def test_forward_law_chunks_match_whole_batch_host(host_lib):
    """Rows [a, n) launched alone (start + a) equal rows a..n-1 of the whole Student-t batch."""
    info = _registry.get("forward_law")
    kp = _kp()
    rng = np.random.default_rng(8)
    n, dim, a = 30, 2, 7
    x0 = kp.stored(rng.normal(size=(n, dim)))
    t = kp.stored(np.exp(rng.uniform(-2.0, 2.0, n)))
    kw = dict(k0=1, k1=2, theta=0.4, diffusion=0.3, jump_rate=3.3, jump_var=1.5, index=9,
              dom_gauss=_philox.DOMAIN_FORWARD_GAUSS, dom_jump=_philox.DOMAIN_FORWARD_JUMP,
              dom_mark=_philox.DOMAIN_FORWARD_MARK, law=LAW_STUDENT_T, law_param=4.0)
    whole = run_and_check(host_lib, forward_case(info, x0=x0, t=t, start=2**32 - 10, **kw),
                          "f64")
    part = run_and_check(host_lib, forward_case(info, x0=x0[a:], t=t[a:],
                                                start=2**32 - 10 + a, **kw), "f64")
    for key in ("out", "w_out", "n_out"):
        kp.assert_bits(part[key], whole[key][a:], key)


@pytest.mark.parametrize("nu", [2.5, 3.0, 5.0, 30.0])
@pytest.mark.parametrize("law", [LAW_GAUSSIAN, LAW_STUDENT_T])
def test_stationary_law_host(host_lib, law, nu):
    """The horizon draw of W_inf (64 log 2 / (2 theta)), m from 0.1 to 20, both dtypes."""
    info = _registry.get("stationary_law")
    param = nu if law == LAW_STUDENT_T else 0.0
    for theta, jump_rate in ((0.5, 0.1), (0.5, 1.0), (0.05, 2.0), (2.0, 3.7)):
        case = stationary_case(info, n=32, dim=3, k0=77, k1=2**32 - 1, theta=theta,
                               diffusion=0.2, jump_rate=jump_rate, jump_var=1.3, start=5,
                               index=2**24 - 1, law=law, law_param=param)
        for dtype in info.dtypes:
            run_and_check(host_lib, case, dtype)


# ---------------------------------------------------------------------------
# Laplace through the law kernels is the Laplace kernels
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["f64", "f32"])
@pytest.mark.parametrize("seed", range(6))
def test_forward_law_laplace_equals_forward_host(host_lib, dtype, seed):
    """law = 0 through forward_law gives forward's bits, on every route and whatever the
    (unread) mark stream is."""
    fwd, fwd_law = _registry.get("forward"), _registry.get("forward_law")
    kp = _kp()
    rng = np.random.default_rng(seed)
    for case in case_forward_law(fwd_law, rng, dtype):
        if case.scalars["law"] != LAW_LAPLACE:
            continue
        got_law = run_and_check(host_lib, case, dtype)
        other_mark = dataclasses.replace(case, scalars={**case.scalars,
                                                        "dom_mark": int(rng.integers(256))})
        got_other = kp.run_host(host_lib, fwd_law, dtype, other_mark)
        got = kp.run_host(host_lib, fwd, dtype, dataclasses.replace(case, info=fwd))
        for key in ("out", "w_out", "n_out"):
            kp.assert_bits(got_law[key], got[key], f"forward vs forward_law: {key}")
            kp.assert_bits(got_other[key], got[key], f"dom_mark unread: {key}")


@pytest.mark.parametrize("dtype", ["f64", "f32"])
@pytest.mark.parametrize("seed", range(6))
def test_stationary_law_laplace_equals_stationary_host(host_lib, dtype, seed):
    st_info, law_info = _registry.get("stationary"), _registry.get("stationary_law")
    kp = _kp()
    rng = np.random.default_rng(100 + seed)
    case = case_stationary_law(law_info, rng, dtype)[0]
    assert case.scalars["law"] == LAW_LAPLACE
    got_law = run_and_check(host_lib, case, dtype)
    got = kp.run_host(host_lib, st_info, dtype, dataclasses.replace(case, info=st_info))
    for key in ("out", "w_out"):
        kp.assert_bits(got_law[key], got[key], f"stationary vs stationary_law: {key}")


# ---------------------------------------------------------------------------
# Constants of the sources
# ---------------------------------------------------------------------------


def test_domains_and_law_constants_match_numba():
    """DOMAIN_* (philox.cuh), LAW_*, MARK_BLOCKS and STATIONARY_TWO_THETA_T (forward.cuh)
    equal their Python values."""
    folder = _gpu.kernels_dir()
    philox = (folder / "philox.cuh").read_text()
    domains = dict(re.findall(r"\b(DOMAIN_\w+)\s*=\s*(0x[0-9A-Fa-f]+|\d+)", philox))
    want = {k: v for k, v in vars(_philox).items() if k.startswith("DOMAIN_")}
    assert set(domains) == set(want)
    for name, value in want.items():
        assert int(domains[name], 0) == value, name
    forward = (folder / "forward.cuh").read_text()
    ints = dict(re.findall(r"constexpr ls_(?:i64|u32) (\w+) = (\d+)u?;", forward))
    assert int(ints["LAW_LAPLACE"]) == LAW_LAPLACE
    assert int(ints["LAW_GAUSSIAN"]) == LAW_GAUSSIAN
    assert int(ints["LAW_STUDENT_T"]) == LAW_STUDENT_T
    assert int(ints["MARK_BLOCKS"]) == MARK_BLOCKS
    # written as a product (64 * log 2, as in Python); the C++ constant expression rounds
    # the same way Python's float product does
    a, b = re.search(r"constexpr double STATIONARY_TWO_THETA_T = ([0-9.eE+-]+) \* "
                     r"([0-9.eE+-]+);", forward).groups()
    assert float(a) * float(b) == _forward.STATIONARY_TWO_THETA_T


def test_law_codes_match_amplitude_objects():
    assert Laplace().kernel_args() == (LAW_LAPLACE, 0.0)
    assert Gaussian().kernel_args() == (LAW_GAUSSIAN, 0.0)
    assert StudentT(3).kernel_args() == (LAW_STUDENT_T, 3.0)


# ---------------------------------------------------------------------------
# levyscore._forward.device_forward picks the kernel by law (stand-in device, as in
# tests/test_gpu_dispatch_fake.py)
# ---------------------------------------------------------------------------


@pytest.fixture
def fake(monkeypatch):
    fk = importlib.import_module("test_gpu_dispatch_fake")
    cp = fk._fake_cupy()
    monkeypatch.setitem(sys.modules, "cupy", cp)
    launched = []

    def function(info, dtype, options=_gpu.PARITY_OPTIONS):
        def kernel(grid, block, args):
            values = dict(zip((a.name for a in info.args), args))
            launched.append((info.name, dtype, values))
            info.run_twin(values)
        return kernel

    monkeypatch.setattr(_gpu, "function", function)
    cp.launched = launched
    cp.dev = fk._dev
    return cp


@pytest.mark.parametrize("amplitude", ["laplace", "gaussian", StudentT(3.0), StudentT(5.0)])
def test_fake_device_sample_picks_the_law_kernel(fake, amplitude):
    proc = levyscore.JumpDiffusion(2, theta=0.3, jump_rate=2.0, amplitude=amplitude)
    rng = np.random.default_rng(2)
    x0 = rng.normal(0.0, 3.0, (40, 2))
    t = np.exp(rng.uniform(-3.0, 2.0, 40))
    for tt, td in ((5.0, 5.0), (t, fake.dev(t))):
        got = proc.sample(fake.dev(x0), td, rng=7, start=3)
        np.testing.assert_array_equal(np.asarray(got), proc.sample(x0, tt, rng=7, start=3))
    code, param = proc.amplitude.kernel_args()
    names = {name for name, _, _ in fake.launched}
    if code == LAW_LAPLACE:
        assert names == {"forward"}
    else:
        assert names == {"forward_law"}
        for _, _, args in fake.launched:
            assert (args["law"], args["law_param"]) == (code, param)
            assert args["dom_mark"] == _philox.DOMAIN_FORWARD_MARK


@pytest.mark.parametrize("amplitude", [None, Laplace(), Gaussian(), StudentT(3.0)])
def test_fake_device_reverse_noise_uses_reverse_mark_stream(fake, amplitude):
    key = (12345, 678)
    # as levyscore._reverse does for growth=True: theta -> -theta on the reverse streams
    got = _forward.device_forward(key, None, 25, 3, "f64", 0.4, -0.5, 0.8, 1.5, 2.0, start=4, index=6,
                       reverse=True, amplitude=amplitude)
    want = _forward.reverse_noise(key, 25, 3, 0.5, 0.8, 1.5, 2.0, 0.4, 6, start=4,
                                  amplitude=amplitude)
    np.testing.assert_array_equal(np.asarray(got), want)
    (name, _, args), = fake.launched
    if amplitude is None or isinstance(amplitude, Laplace):
        assert name == "forward"
    else:
        assert name == "forward_law" and args["dom_mark"] == _philox.DOMAIN_REVERSE_MARK


def test_fake_device_forward_checks_jump_work_for_the_law(fake, monkeypatch):
    """The jump-work guard sees the law (the Binomial-Gamma O(m) route is Laplace's alone)."""
    seen = []
    real = _forward.check_jump_work

    def spy(*args, **kwargs):
        seen.append(kwargs.get("amplitude"))
        return real(*args, **kwargs)

    monkeypatch.setattr(_forward, "check_jump_work", spy)
    x0 = fake.dev(np.zeros((2, 1)))
    law = StudentT(3.0)
    _forward.device_forward((1, 2), x0, 2, 1, "f64", 1.0, 0.5, 1.0, 2.0, 1.0, amplitude=law)
    assert seen == [law]
    with pytest.raises(ValueError, match="jumps per sample"):
        _forward.device_forward((1, 2), x0, 2, 1, "f64", 2e6, 0.0, 1.0, 1.0, 1.0, amplitude=law)
