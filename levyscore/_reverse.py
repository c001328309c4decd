r"""Reverse-time (generative) dynamics: solvers and the driving loop (MATH.md sections 6-7).

With the marginal generalized score S (MATH.md section 3) and forward time t running down from
T, the reverse dynamics of parameter :math:`\eta \ge 0` is

.. math::

    dx = [\theta x + (1 + \eta) S(x, t)]\, ds + dL^{(\eta)}, \qquad s = T - t,

where :math:`L^{(\eta)}` is the driving noise with Gaussian rate :math:`\eta\sigma_G^2` and jump
rate :math:`\eta\lambda` (same amplitudes). :math:`\eta = 0` is the probability-flow ODE,
:math:`\eta = 1` the standard reverse SDE; every :math:`\eta` has the same marginals.

Each solver is an object with a class-level ``order`` (weak order, with an exact score) and a
pure ``step(t0, t1, x, state, rng) -> (x, state)`` from forward time ``t0`` to ``t1 < t0``;
:func:`sample_reverse` is the loop that drives it. A noise schedule (section 7) is a change of
clock: a step over ``[t1, t0]`` has length ``h = B(t0) - B(t1)`` in the clock of the
constant-coefficient process, and the score is called with the process times.

Noise increments are exact (no discretisation of the Lévy noise): see
:func:`levyscore._forward.reverse_noise`, which draws them from the counter-based reverse-time
streams, one stream per step, so results do not depend on thread count or chunking.
"""
import math
import sys

import numba as nb
import numpy as np

from . import _forward
from ._backend import array_module, device_points, is_cupy_array, is_dask, is_device, storage
from ._dask import map_rows
from ._process import JumpDiffusion
from ._registry import launch
from ._seeding import Key, philox_key
from ._validation import check_count, check_real, check_start

__all__ = ["ExpEuler", "ExpHeun", "Euler", "SOLVERS", "ReverseNoise", "sample_reverse"]

#: Largest ``theta h`` of one exponential step (h: the step's length in the clock of the
#: constant-coefficient process). The step computes ``E x + ((E - 1)/theta) S`` with
#: ``E = e^{theta h}``; near stationarity ``S ~ -theta x`` and the two terms cancel to a result
#: of the size of x, so their rounding errors, ``~ 2^-53 E |x|`` each, make a relative error of
#: ``2^-53 e^{theta h}``: at ``theta h = 52 log 2 ~ 36.04`` (``E = 2^52``) not one significant
#: bit is left, and at ``theta h > 709.78`` ``E`` overflows the double range. Steps beyond this
#: limit raise a ``ValueError`` instead of returning such numbers.
MAX_THETA_H = 52.0 * math.log(2.0)


def _check_process(proc):
    if not isinstance(proc, JumpDiffusion):
        raise ValueError(f"proc must be a levyscore.JumpDiffusion (the forward process), "
                         f"got {type(proc).__name__}")
    return proc


def _check_finite(xp, value, name, what):
    """Raise ``ValueError`` naming ``name`` when ``value`` holds NaN or inf (one reduction)."""
    if not bool(xp.isfinite(value).all()):
        raise ValueError(f"{name} {what}")


@nb.njit(cache=True, parallel=True)
def _combine(n, a, x, c, s, out):
    """out = a x + c s over the n entries of flat arrays: the arguments of the CUDA kernel
    ``combine`` (``kernels/reverse.cu``)."""
    for i in nb.prange(n):
        out[i] = a * x[i] + c * s[i]


@nb.njit(cache=True, parallel=True)
def _combine_noise(n, a, x, c, s, noise, out):
    """out = a x + c s + noise over the n entries of flat arrays (CUDA ``combine_noise``)."""
    for i in nb.prange(n):
        out[i] = a * x[i] + c * s[i] + noise[i]


@nb.njit(cache=True, parallel=True, error_model="numpy")
def _reverse_step_kernel(n, dim, k0, k1, x, s, a, c, h, theta, diffusion, jump_rate, jump_var,
                         start, index, dom_gauss, dom_jump, dom_mark, law, law_param, out):
    """``out = a x + c s + xi`` for x, s, out of shape (n, D): the stochastic step with its
    exact noise xi drawn in the same pass (the arguments of the CUDA kernel
    ``reverse_step``).

    xi is the reverse noise of :func:`levyscore._forward.reverse_noise` (the forward draw of
    the increment, no ``x0``, over the clock length ``h`` with the given ``theta``, rates and
    streams), computed in the same operations, so ``out`` equals
    ``a x + c s + reverse_noise(...)`` (:func:`_combine_noise`) bit for bit, without the
    noise array and its W and N arrays (whose allocation was most of the SDE overhead).
    """
    cg = _forward.stream_word(dom_gauss, index)
    cj = _forward.stream_word(dom_jump, index)
    cm = _forward.stream_word(dom_mark, index)
    ustart = np.uint64(start)
    s0 = _forward.gaussian_variance(theta, diffusion, h)
    ok, lo, hi = _forward.first_block_test(theta, jump_rate, h)
    # Where the first jump-stream block of a sample decides "no jump" (first_block_test) and
    # the step has no Gaussian part, the noise of that sample is exactly +0.0: samples go in
    # batches of _BATCH whose first blocks are drawn in one vectorized loop
    # (first_uniforms), and those without a jump are combined inline; every other sample is
    # drawn in full by step_sample (which draws the same block again: the same bits).
    quick = ok and math.sqrt(s0 + jump_var * 0.0) == 0.0
    for batch in nb.prange((n + _BATCH - 1) // _BATCH):
        i0 = batch * _BATCH
        count = min(n - i0, _BATCH)
        u1 = np.empty(_BATCH)
        if quick:
            _forward.first_uniforms(ustart + np.uint64(i0), count, cj, k0, k1, u1)
        for k in range(count):
            i = np.uint64(i0 + k)  # unsigned: no negative-index test at each access
            if quick and _forward.first_block_no_jump(u1[k], lo, hi, jump_rate, h):
                for d in range(dim):
                    out[i, d] = a * x[i, d] + c * s[i, d] + 0.0
            else:
                step_sample(i, dim, k0, k1, x, s, a, c, h, theta, jump_rate, jump_var, s0,
                            ustart, cg, cj, cm, law, law_param, out)


@nb.njit(cache=True)
def step_sample(i, dim, k0, k1, x, s, a, c, h, theta, jump_rate, jump_var, s0, ustart, cg,
                cj, cm, law, law_param, out):
    """Row i of :func:`_reverse_step_kernel`, drawn in full: ``out[i] = a x[i] + c s[i] +
    xi_i`` with W from :func:`levyscore._forward.jump_mixing` and the Gaussian draw scaled
    by ``sqrt(s0 + jump_var W)`` (none where that is 0: the noise is then exactly +0.0)."""
    gi = ustart + np.uint64(i)
    c0 = gi & _MASK32
    c1 = gi >> _SHIFT32
    w, _ = _forward.jump_mixing(c0, c1, cj, cm, k0, k1, h, theta, jump_rate, law, law_param)
    scale = math.sqrt(s0 + jump_var * w)
    if scale == 0.0:  # the noise is exactly +0.0 (no normal is drawn)
        for d in range(dim):
            out[i, d] = a * x[i, d] + c * s[i, d] + 0.0
        return
    start = 0
    if dim >= _forward.ROW_UNIFORMS_MIN_DIM:  # as _forward.gaussian_row: the same bits
        row = out[i]
        pairs = dim // 2
        _forward.row_uniforms(c0, c1, cg, k0, k1, pairs, row)
        for j in range(pairs):
            d = 2 * j
            z0, z1 = _forward.box_muller(row[d], row[d + 1])
            out[i, d] = a * x[i, d] + c * s[i, d] + scale * z0
            out[i, d + 1] = a * x[i, d + 1] + c * s[i, d + 1] + scale * z1
        start = 2 * pairs
    for d in range(start, dim, 2):
        z0, z1 = _forward.normal_pair(c0, c1, cg, np.uint64(d // 2), k0, k1)
        out[i, d] = a * x[i, d] + c * s[i, d] + scale * z0
        if d + 1 < dim:
            out[i, d + 1] = a * x[i, d + 1] + c * s[i, d + 1] + scale * z1


_MASK32 = np.uint64(0xFFFFFFFF)
_SHIFT32 = np.uint64(32)
_BATCH = 256  # samples per batch of _reverse_step_kernel


def _combine_any(a, x, c, s, noise=None):
    """``a x + c s (+ noise)`` for C-contiguous arrays of one shape, on the backend of ``x``:
    the Numba kernels, or the ``combine`` kernels of a CUDA device (same arguments)."""
    xp = array_module(x)
    out = xp.empty_like(x)
    n = x.size
    if n == 0:
        return out
    if xp is np:
        xf, sf, of = (np.ascontiguousarray(v).reshape(-1) for v in (x, s, out))
        if noise is None:
            _combine(n, a, xf, c, sf, of)
        else:
            _combine_noise(n, a, xf, c, sf, np.ascontiguousarray(noise).reshape(-1), of)
        return out
    # the kernels see flat arrays (the twins' shapes too)
    values = {"n": n, "a": float(a), "x": x.reshape(-1), "c": float(c), "s": s.reshape(-1),
              "out": out.reshape(-1)}
    if noise is None:
        launch("combine", storage(x), n, values)
    else:
        launch("combine_noise", storage(x), n, {**values, "noise": noise.reshape(-1)})
    return out


def _as_device_array(value, like, what):
    """The score ``value`` (a CuPy array) checked against the CuPy state ``like``."""
    if not is_cupy_array(value):
        raise ValueError(f"score must return a CuPy array for CuPy states, got {type(value).__name__} ({what})")
    if value.shape != like.shape:
        raise ValueError(f"score must return an array of shape {like.shape}, got {value.shape} ({what})")
    if value.dtype != like.dtype:
        value = value.astype(like.dtype)
    return value if value.flags.c_contiguous else value.copy()


def _as_float_array(value, like, what):
    arr = np.asarray(value, dtype=np.float64)
    if arr.shape != like.shape:
        raise ValueError(f"score must return an array of shape {like.shape}, got {arr.shape} ({what})")
    return np.ascontiguousarray(arr)


_STEP_ARGS = ("n", "dim", "k0", "k1", "x", "s", "a", "c", "h", "theta", "diffusion",
              "jump_rate", "jump_var", "start", "index", "dom_gauss", "dom_jump", "dom_mark",
              "law", "law_param")


class ReverseNoise:
    """Exact noise increments of the reverse dynamics, from counter-based streams.

    Parameters
    ----------
    process : JumpDiffusion
    eta : float
        SDE parameter; the noise has Gaussian rate ``eta sigma_G^2`` and jump rate ``eta lambda``.
    key : (int, int)
        Philox key (see :func:`levyscore._seeding.philox_key`).
    start : int
        Global index of the first row.
    """

    def __init__(self, process, eta, key, start=0):
        self.process = process
        self.eta = eta
        self.key = key
        self.start = start

    def increment(self, step, n, h, growth=True, like=None):
        """Noise of step number ``step`` over a clock interval ``h`` (shape (n, D)).

        With a CuPy array ``like`` the noise is drawn on its device, in its dtype, from the
        same streams (the ``forward`` kernel with the reverse-time domains).
        """
        p = self.process
        if like is not None and is_device(like):
            return _forward.device_forward(
                self.key, None, n, p.dim, storage(like), float(h), -p.theta if growth else 0.0,
                self.eta * p.diffusion, self.eta * p.jump_rate, p.jump_var, start=self.start,
                index=step, reverse=True, amplitude=p.amplitude)
        return _forward.reverse_noise(self.key, n, p.dim, p.theta, self.eta * p.diffusion,
                                      self.eta * p.jump_rate, p.jump_var, h, step,
                                      start=self.start, growth=growth, amplitude=p.amplitude)

    def step(self, step, a, x, c, s, h, growth=True):
        """``a x + c s + xi`` with xi the noise of :meth:`increment` (same arguments), drawn
        in the same pass (kernel ``reverse_step``; its Numba twin on the CPU): the bits of
        ``_combine_any(a, x, c, s, self.increment(step, n, h, growth, like=x))`` without the
        noise array. ``x`` and ``s`` are C-contiguous, of one shape (n, D) and dtype."""
        p = self.process
        theta = -p.theta if growth else 0.0
        n, dim = x.shape
        _forward._check_counters(self.start, step, n)
        _forward.check_jump_work(h, theta, self.eta * p.jump_rate, name="step length h",
                                 amplitude=p.amplitude)
        law, law_param = _forward._law_args(p.amplitude)
        k0, k1 = (int(v) for v in self.key)
        values = dict(n=n, dim=dim, k0=k0, k1=k1, x=x, s=s, a=float(a), c=float(c),
                      h=float(h), theta=theta, diffusion=self.eta * p.diffusion,
                      jump_rate=self.eta * p.jump_rate, jump_var=p.jump_var,
                      start=int(self.start), index=int(step),
                      dom_gauss=_forward.DOMAIN_REVERSE_GAUSS,
                      dom_jump=_forward.DOMAIN_REVERSE_JUMP,
                      dom_mark=_forward.DOMAIN_REVERSE_MARK, law=int(law),
                      law_param=float(law_param))
        xp = array_module(x)
        out = xp.empty_like(x)
        if n == 0:
            return out
        if xp is np:
            _reverse_step_kernel(*(values[k] for k in _STEP_ARGS), out)
        else:
            launch("reverse_step", storage(x), n, {**values, "out": out})
        return out


class _Solver:
    """Common parts: the process, the score callable and eta."""

    order = None
    ode_only = False
    #: True for the exponential integrators, whose step multiplies by e^{theta h}
    #: (see :data:`MAX_THETA_H`).
    exponential = False

    def __init__(self, process, score, eta=0.0):
        self.process = _check_process(process)
        if not callable(score):
            raise ValueError("score must be a callable score(x, t)")
        self.score = score
        # the process's own score (its bound method): the exponential steps of the ODE fuse
        # it with their combine (JumpDiffusion._score_combine; the same bits, one pass)
        self._own_score = (getattr(score, "__self__", None) is process
                           and getattr(score, "__func__", None) is JumpDiffusion.score)
        self.eta = check_real("eta", eta, nonnegative=True)
        if self.ode_only and self.eta != 0.0:
            raise ValueError(f"eta must be 0 for {type(self).__name__}, a probability-flow ODE solver")

    @property
    def stochastic(self):
        """True when the step draws noise (eta > 0 and the process has noise to draw)."""
        return self.eta > 0.0

    def init(self, x, t0):
        """Initial solver state: the step counter."""
        return 0

    def _clock_step(self, t0, t1):
        p = self.process
        return p.clock(t0) - p.clock(t1)

    def _growth_step(self, t0, t1):
        """Clock length h of the step and ``theta h``, checked against :data:`MAX_THETA_H`."""
        h = self._clock_step(t0, t1)
        th = self.process.theta * h
        if not th <= MAX_THETA_H:
            raise ValueError(
                f"t0, t1 = {t0!r}, {t1!r}: the step has clock length h = {h:.6g} and "
                f"theta*h = {th:.6g} > {MAX_THETA_H:.2f}, where the growth factor e^(theta h) "
                "of the exponential step exceeds 2^52 and the step loses every significant "
                "digit to rounding (or overflows); use shorter steps")
        return h, th

    def _score(self, x, t, step=None):
        """The score at ``(x, t)``, checked for shape and finiteness; ``step`` is the number of
        the reverse step (for the error message)."""
        value = self.score(x, t)
        what = f"t = {t!r}" + ("" if step is None else f", reverse step {step}")
        xp = array_module(x, value)
        if xp is not np:
            value = _as_device_array(value, x, what)
        else:
            value = _as_float_array(value, x, what)
        if not (self._own_score and xp is np):  # on the CPU it refuses NaN and inf itself
            _check_finite(xp, value, "score", f"returned NaN or inf ({what}): the score "
                          "callable must return finite values")
        return value


class ExpEuler(_Solver):
    r"""Exponential Euler for the ODE (``eta = 0``) and the SDE family (MATH.md section 6).

    ``x <- E x + (1 + eta) ((E - 1)/theta) S(x, t0) + xi``, ``E = e^{theta h}``, with the exact
    noise xi of the linear part (Gaussian plus jumps grown by ``e^{theta (h - u)}``). With
    ``eta = 1`` this is the paper's sampler. Weak order 1.
    """

    order = 1.0
    exponential = True

    def step(self, t0, t1, x, state, rng):
        theta = self.process.theta
        h, th = self._growth_step(t0, t1)
        e = math.exp(th)
        c = (1.0 + self.eta) * math.expm1(th) / theta
        if self._own_score and not self.stochastic:
            fused = self.process._score_combine(x, t0, e, c)
            if fused is not None:
                return fused, state + 1
        s = self._score(x, t0, state)
        if self.stochastic:  # the noise drawn in the combine's pass (ReverseNoise.step)
            return rng.step(state, e, x, c, s, h, growth=True), state + 1
        return _combine_any(e, x, c, s), state + 1


class ExpHeun(_Solver):
    r"""Exponential Heun (ETD-RK2, Cox and Matthews) for the probability-flow ODE.

    With ``N(x, t) = S(x, t)``, ``a = E x + ((E - 1)/theta) N(x, t0)`` and
    ``x <- a + (N(a, t1) - N(x, t0)) (E - 1 - theta h)/(theta^2 h)``. Order 2, two score
    evaluations per step.
    """

    order = 2.0
    ode_only = True
    exponential = True

    def step(self, t0, t1, x, state, rng):
        theta = self.process.theta
        h, th = self._growth_step(t0, t1)
        e = math.exp(th)
        phi1 = math.expm1(th) / theta
        # (E - 1 - theta h) / (theta^2 h), by its series where it would cancel
        if th < 1e-4:
            phi2 = h * (0.5 + th / 6.0 + th * th / 24.0)
        else:
            phi2 = (math.expm1(th) - th) / (theta * theta * h)
        s0 = self._score(x, t0, state)
        a = _combine_any(e, x, phi1, s0)
        s1 = self._score(a, t1, state)
        return _combine_any(1.0, a, phi2, s1 - s0), state + 1


class Euler(_Solver):
    r"""Plain Euler (ODE) / Euler-Maruyama (SDE), the naive baseline.

    ``x <- x + h (theta x + (1 + eta) S(x, t0)) + xi`` with xi the noise over h without the
    growth factor of the linear part (Gaussian N(0, eta sigma_G^2 h I) plus undamped jumps).
    Weak order 1.
    """

    order = 1.0

    def step(self, t0, t1, x, state, rng):
        theta = self.process.theta
        h = self._clock_step(t0, t1)
        s = self._score(x, t0, state)
        a, c = 1.0 + theta * h, (1.0 + self.eta) * h
        if self.stochastic:
            return rng.step(state, a, x, c, s, h, growth=False), state + 1
        return _combine_any(a, x, c, s), state + 1


SOLVERS = {"exp-euler": ExpEuler, "exp-heun": ExpHeun, "euler": Euler}


def _time_grid(grid, steps, T, t_min, process):
    if isinstance(grid, str):
        if steps is None:
            raise ValueError("steps must be given with a named grid")
        steps = check_count(steps, "steps")
        if steps < 1:
            raise ValueError(f"steps must be >= 1, got {steps}")
        T = check_real("T", T, positive=True)
        t_min = check_real("t_min", t_min, positive=True)
        if not t_min < T:
            raise ValueError(f"t_min must be < T, got t_min={t_min}, T={T}")
        if grid == "uniform":
            times = np.linspace(T, t_min, steps + 1)
        elif grid == "log":
            times = np.geomspace(T, t_min, steps + 1)
        else:
            raise ValueError(f"grid must be 'uniform', 'log' or a decreasing array of times, got {grid!r}")
    else:
        times = np.asarray(grid, dtype=np.float64)
        if times.ndim != 1 or times.shape[0] < 2:
            raise ValueError("grid must be 'uniform', 'log' or a one-dimensional array of >= 2 times")
        if not np.all(np.isfinite(times)) or times[-1] <= 0 or np.any(np.diff(times) >= 0):
            raise ValueError("grid must hold finite, positive, strictly decreasing times")
        if steps is not None and steps != times.shape[0] - 1:
            raise ValueError(f"steps={steps} does not match the grid of {times.shape[0]} times")
    process.clock(times)  # validates the times against the schedule (e.g. cosine: t < 1)
    return times


def _check_growth(times, process, grid):
    """Refuse a grid with a step of ``theta h > MAX_THETA_H`` (exponential solvers), naming T
    (named grids) or grid (explicit times)."""
    clock = np.asarray(process.clock(times), dtype=np.float64)
    th = process.theta * (clock[:-1] - clock[1:])
    k = int(np.argmax(th))
    if th[k] <= MAX_THETA_H:
        return
    named = isinstance(grid, str)
    where = (f"T = {float(times[0])!r} with steps = {times.shape[0] - 1} ({grid} grid)"
             if named else "grid")
    raise ValueError(
        f"{'T' if named else 'grid'} is too large for the number of steps: {where} gives step "
        f"{k} (t = {times[k]:.6g} -> {times[k + 1]:.6g}) the clock length "
        f"h = {clock[k] - clock[k + 1]:.6g}, so theta*h = {th[k]:.6g} > {MAX_THETA_H:.2f}: the "
        "growth factor e^(theta h) of one exponential step exceeds 2^52 and the step loses "
        "every significant digit to rounding (or overflows). Use more steps, or a smaller T: "
        "the forward marginal forgets the data like e^(-theta B(t)), below 2^-53 from "
        f"t ~ {53 * math.log(2.0) / process.theta:.3g} without a schedule, so a larger T "
        "changes nothing in double precision")


def _progress(k, total, stream=None):
    stream = sys.stderr if stream is None else stream
    width = 30
    done = int(width * k / total)
    stream.write(f"\rreverse sampling [{'#' * done}{'.' * (width - done)}] {k}/{total}")
    if k == total:
        stream.write("\n")
    stream.flush()


def _sample_reverse_dask(proc, score, n, x_T, rng, start, progress, options):
    """:func:`sample_reverse` for Dask ``x_T``: each block of rows integrated on its own, with
    the noise of its global rows (``start`` + the block's first row), lazily."""
    if x_T.ndim != 2 or x_T.shape != (n, proc.dim):
        raise ValueError(f"x_T must be finite with shape ({n}, {proc.dim}), got shape "
                         f"{x_T.shape}")
    if progress:
        raise ValueError("progress=True is not available with Dask x_T (blocks run in "
                         "parallel): use Dask's own progress bar (dask.diagnostics)")
    key = Key(*philox_key(rng))
    start = check_start(start, n)
    # check every option eagerly on a 0-row run (no steps are taken on 0 rows)
    sample_reverse(proc, score, 0, x_T=np.zeros((0, proc.dim)), rng=key, **options)
    return map_rows(lambda xb, _, a: sample_reverse(proc, score, xb.shape[0], x_T=xb, rng=key,
                                                    start=start + a, **options), x_T, name="x_T")


def sample_reverse(proc, score, n, *, steps=None, T=10.0, t_min=1e-3, solver="exp-euler",
                   eta=0.0, grid="uniform", x_T=None, rng=None, progress=False, start=0):
    """Generate samples by integrating the reverse-time dynamics (MATH.md section 6).

    Parameters
    ----------
    proc : JumpDiffusion
        The forward process (and its noise schedule).
    score : callable
        ``score(x, t) -> array`` of the shape of ``x`` (n, D): the marginal generalized score
        ``S = grad V / p`` at process time t (for instance a learnt model, or an oracle from
        :mod:`levyscore.targets`).
    n : int
        Number of samples.
    steps : int
        Number of steps (with a named grid).
    T, t_min : float
        Start and end times of the reverse integration, ``0 < t_min < T``.
    solver : {"exp-euler", "exp-heun", "euler"} or solver class
        ``"exp-euler"`` (ODE and SDE), ``"exp-heun"`` (second-order, ODE only), ``"euler"``
        (naive baseline).
    eta : float
        ``0`` for the probability-flow ODE, ``1`` for the standard reverse SDE, any ``>= 0``.
    grid : {"uniform", "log"} or array_like
        Time grid from T down to t_min, or an explicit strictly decreasing array of times
        (then T, t_min and steps come from it).
    x_T : array_like or cupy.ndarray, shape (n, D), optional
        Initial states at T; by default exact draws from ``proc.stationary()``. A CuPy array
        (float32 or float64) runs the whole loop on its device: the score must then return
        CuPy arrays (for instance ``proc.score`` on the closed-form route), and the step
        (``combine`` kernels, reverse noise from the ``forward`` kernel) never leaves the
        device. A score returning NumPy arrays for CuPy states raises ``ValueError``. A
        Dask array gives a lazy Dask array: each block of rows integrated on its own with
        the noise of its global rows, bit for bit the in-memory result (``docs/scaling.md``).
    rng : None, int, SeedSequence or Generator
        Seed of the counter-based streams (start states and noise).
    progress : bool
        Print a progress bar on standard error.
    start : int
        Global index of the first row (chunked runs reproduce the whole batch).

    Returns
    -------
    ndarray or cupy.ndarray, shape (n, D)
        Samples at time ``t_min`` (or the last time of the grid), on the device of ``x_T``.

    Raises
    ------
    ValueError
        For an argument outside its domain (the message names it): ``proc`` not a
        :class:`levyscore.JumpDiffusion`; a score that returns an array of the wrong shape or
        with NaN or inf (the message gives t and the step); with an exponential solver, a
        step longer than ``theta h = 52 log 2`` in the process clock (:data:`MAX_THETA_H`:
        its growth factor ``e^{theta h}`` exceeds ``2^52`` and no significant digit survives
        rounding; e.g. ``T = 1e6`` with 5 steps), which names ``T`` (or ``grid``); states that
        leave the double range.
    """
    _check_process(proc)
    n = check_count(n)
    if is_dask(x_T):
        return _sample_reverse_dask(proc, score, n, x_T, rng, start, progress,
                                    dict(steps=steps, T=T, t_min=t_min, solver=solver, eta=eta,
                                         grid=grid))
    times = _time_grid(grid, steps, T, t_min, proc)
    cls = SOLVERS.get(solver) if isinstance(solver, str) else solver
    if cls is None or not (isinstance(cls, type) and issubclass(cls, _Solver)):
        raise ValueError(f"solver must be one of {sorted(SOLVERS)} or a solver class, got {solver!r}")
    if not callable(score):
        raise ValueError("score must be a callable score(x, t)")
    stepper = cls(proc, score, eta=eta)
    if stepper.exponential:
        _check_growth(times, proc, grid)
    key = philox_key(rng)
    if x_T is None:
        x = proc.stationary().sample(n, rng=np.random.SeedSequence(list(key)), start=start)
    elif is_device(x_T):
        x = device_points(x_T, proc.dim, "x_T")
        if x.shape != (n, proc.dim):
            raise ValueError(f"x_T must be finite with shape ({n}, {proc.dim}), got shape {x.shape}")
    else:
        x = np.ascontiguousarray(np.asarray(x_T, dtype=np.float64))
        if x.shape != (n, proc.dim) or not np.all(np.isfinite(x)):
            raise ValueError(f"x_T must be finite with shape ({n}, {proc.dim}), got shape {x.shape}")
    noise = ReverseNoise(proc, stepper.eta, key, start)
    state = stepper.init(x, times[0])
    total = times.shape[0] - 1
    xp = array_module(x)
    for k in range(total):
        x, state = stepper.step(float(times[k]), float(times[k + 1]), x, state, noise)
        _check_finite(xp, x, "x_T", f"(or the score, or the step sizes): the states became NaN "
                      f"or inf at reverse step {k} (t = {float(times[k])!r} -> "
                      f"{float(times[k + 1])!r}), outside the double range")
        if progress:
            _progress(k + 1, total)
    return x
