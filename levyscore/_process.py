"""The forward process: an Ornstein-Uhlenbeck drift driven by Gaussian noise plus
compound-Poisson jumps with isotropic Laplace amplitudes (MATH.md sections 0-1)."""
import math

import numpy as np

from . import _forward
from ._backend import (array_module, cupy, device_points, device_times, is_cupy_array, is_dask,
                       is_device, require_host, storage)
from ._closed_form import closed_form_score, prepared_ratio
from ._dask import map_points, map_rows
from ._laws import TransitionLaw, _device_score, _score_flat, device_closed_form_score
from ._schedule import Clock
from ._seeding import Key, philox_key
from ._time import exponent_m, integer_m
from ._validation import as_points, as_times, check_dim, check_real, check_start, check_time
from .amplitudes import Gaussian, Laplace, StudentT, as_amplitude

__all__ = ["JumpDiffusion"]


class JumpDiffusion:
    r"""Jump-diffusion forward process of Baule (arXiv 2503.06558), MATH.md section 1.

    .. math::

        dX = -\theta X\,dt + \sigma_G\, dW + dJ,

    with J compound Poisson of rate :math:`\lambda` and isotropic amplitudes of
    per-component variance :math:`\sigma_A^2`: multivariate Laplace by default
    (characteristic function :math:`1/(1 + b^2|k|^2)`, :math:`b^2 = \sigma_A^2/2`), or any law
    of :mod:`levyscore.amplitudes` (MATH.md section 11).

    Parameters
    ----------
    dim : int
        Dimension D of a sample, ``>= 1``.
    theta : float, default 0.5
        Mean-reversion rate :math:`\theta > 0` (per unit time).
    diffusion : float, default 1.0
        Gaussian diffusion rate :math:`\sigma_G^2 \ge 0` (variance per unit time); 0 gives a
        pure-jump process.
    jump_rate : float, default 1.0
        Poisson jump rate :math:`\lambda \ge 0` (jumps per unit time); 0 gives the Gaussian
        (Ornstein-Uhlenbeck) model.
    jump_var : float, default 2.0
        Per-component variance :math:`\sigma_A^2 > 0` of one jump amplitude.
    schedule : None, "linear", "cosine" or callable, default None
        Noise schedule beta(t) (MATH.md section 7): every rate is multiplied by beta(t), which
        is the same as running the constant-coefficient process in the clock
        B(t) = int_0^t beta. Laws, scores and samplers take process times t and evaluate at
        B(t). See :class:`levyscore._schedule.Clock` for the named schedules.
    amplitude : str or AmplitudeLaw, default "laplace"
        Law of one jump amplitude: ``"laplace"``, ``"gaussian"``, ``"student-t"`` (nu = 5)
        or an object of :mod:`levyscore.amplitudes` such as ``StudentT(3)``. Its
        per-component variance is ``jump_var`` whatever the law, so
        :meth:`equivalent_gaussian` does not depend on it.

    Notes
    -----
    The defaults are the paper's jump-diffusion Laplace model. Every law depends on the
    jump rate only through the exponent :attr:`m` ``= lambda / (2 theta)``; it is treated as an
    integer when within a relative 1e-12 of one. The generalized score convention is
    ``S = grad V / p`` (MATH.md section 3; see :mod:`levyscore._laws`).

    Examples
    --------
    >>> import levyscore
    >>> proc = levyscore.JumpDiffusion(2, diffusion=0.0)     # pure jump, m = 1
    >>> law = proc.transition(1.0)
    >>> round(law.atom, 6)                                   # exp(-lambda t)
    0.367879
    """

    def __init__(self, dim, theta=0.5, diffusion=1.0, jump_rate=1.0, jump_var=2.0, schedule=None,
                 amplitude="laplace"):
        self._dim = check_dim(dim)
        self._theta = check_real("theta", theta, positive=True)
        self._diffusion = check_real("diffusion", diffusion, nonnegative=True)
        self._jump_rate = check_real("jump_rate", jump_rate, nonnegative=True)
        self._jump_var = check_real("jump_var", jump_var, positive=True)
        self._amplitude = as_amplitude(amplitude)
        if self._diffusion == 0.0 and self._jump_rate == 0.0:
            raise ValueError("diffusion and jump_rate are both 0: the process has no noise; "
                             "make at least one of them positive")
        self._clock = Clock(schedule, self._theta)
        m = exponent_m(self._theta, self._jump_rate)
        if not math.isfinite(m):
            raise ValueError(f"jump_rate / (2 theta) must be finite, got {m}")
        self._m_int = integer_m(m)
        self._m = float(self._m_int) if self._m_int else m
        self._wtables = {}  # route "renewal": W-law tables by clock time (see _laws.wlaw_table)
        self._ratio = None  # route "closed-form": the prepared Bessel ratio (_prepared_ratio)
        self._ratio_device = {}  # ... and its copies by CUDA device

    # -- parameters ----------------------------------------------------------------------
    @property
    def dim(self):
        """Dimension D."""
        return self._dim

    @property
    def theta(self):
        """Mean-reversion rate theta."""
        return self._theta

    @property
    def diffusion(self):
        """Gaussian diffusion rate sigma_G^2."""
        return self._diffusion

    @property
    def jump_rate(self):
        """Poisson jump rate lambda."""
        return self._jump_rate

    @property
    def jump_var(self):
        """Per-component jump-amplitude variance sigma_A^2."""
        return self._jump_var

    @property
    def amplitude(self):
        """The jump amplitude law (:mod:`levyscore.amplitudes`)."""
        return self._amplitude

    @property
    def b(self):
        """Laplace scale b = sqrt(sigma_A^2 / 2)."""
        return math.sqrt(0.5 * self._jump_var)

    @property
    def m(self):
        """Exponent m = lambda / (2 theta) that governs every law (MATH.md section 2)."""
        return self._m

    @property
    def route(self):
        """How laws and scores are computed.

        ``"gaussian"`` (no jumps), ``"closed-form"`` (Laplace amplitudes, pure jump, integer
        m), ``"mixture"`` (Laplace amplitudes otherwise: quadrature over the closed-form law
        of W), ``"renewal"`` (Student-t and Gaussian amplitudes: quadrature over the law of
        W computed from its renewal equation, MATH.md section 11) or ``"sampling-only"``
        (an amplitude law without laws: exact sampling only; none of the built-in laws).
        """
        if self._jump_rate == 0.0:
            return "gaussian"
        if isinstance(self._amplitude, (StudentT, Gaussian)):
            return "renewal"
        if not isinstance(self._amplitude, Laplace):
            return "sampling-only"
        if self._diffusion == 0.0 and self._m_int >= 1:
            return "closed-form"
        return "mixture"

    def equivalent_gaussian(self):
        """The Gaussian model with the same mean and covariance at every t (MATH.md §8).

        Returns
        -------
        JumpDiffusion
            ``diffusion = sigma_G^2 + lambda sigma_A^2``, ``jump_rate = 0``, same theta.
        """
        return JumpDiffusion(self._dim, theta=self._theta,
                             diffusion=self._diffusion + self._jump_rate * self._jump_var,
                             jump_rate=0.0, jump_var=self._jump_var, schedule=self.schedule)

    # -- time --------------------------------------------------------------------------------
    @property
    def schedule(self):
        """The noise schedule: ``None``, ``"linear"``, ``"cosine"`` or the callable beta(t)."""
        return self._clock.schedule

    def clock(self, t):
        """Clock B(t) in which the constant-coefficient laws are evaluated (MATH.md §7).

        Without a noise schedule the clock is the identity; see :class:`levyscore._schedule.Clock`.

        Parameters
        ----------
        t : float or ndarray
            Process times ``> 0``.
        """
        return self._clock(t)

    # -- laws ---------------------------------------------------------------------------------
    def transition(self, t):
        """Law of ``Y_t = X_t - exp(-theta t) X_0`` after time ``t > 0``.

        Returns
        -------
        TransitionLaw
        """
        return TransitionLaw(self, self.clock(check_time(t)))

    def stationary(self):
        """The stationary law (``t = inf``), MATH.md section 2.

        Returns
        -------
        TransitionLaw
        """
        return TransitionLaw(self, math.inf)

    def score(self, y, t):
        """Conditional generalized score ``S(y, t) = grad V / p`` of ``Y_t`` (MATH.md §3-4).

        Parameters
        ----------
        y : array_like or cupy.ndarray, shape (..., D)
            Points ``y = x - x0 exp(-theta t)``. A CuPy array (float32 or float64) runs the
            closed-form CUDA kernel on its device (the quadrature routes raise
            ``ValueError``) and returns a CuPy array of its dtype. A Dask array gives a lazy
            Dask array, block by block (``docs/scaling.md``).
        t : float or array_like
            Times ``> 0``, a scalar or an array broadcasting against ``y.shape[:-1]`` (on the
            same device as ``y``; device arrays of times need ``schedule=None``).

        Returns
        -------
        ndarray or cupy.ndarray, shape (..., D)
        """
        if is_dask(y, t):
            return map_points(self.score, y, t, name="y")
        if is_device(y, t):
            return _device_score(self, y, t)
        y = as_points(y, self._dim, finite=False)  # checked in the score's pass (_score_flat)
        batch = y.shape[:-1]
        if np.ndim(t) == 0:  # shared time: the kernels' fast path takes a (1,) array
            tt = np.array([self.clock(check_time(t))])
        else:
            tt = np.ascontiguousarray(self.clock(as_times(t, batch)).reshape(-1))
        y2 = np.ascontiguousarray(y.reshape(-1, self._dim))
        return _score_flat(self, y2, tt).reshape(y.shape)

    def _score_combine(self, x, t, a, c):
        """``a x + c S(x, t)`` for states x (n, D), float64 C-contiguous on the CPU, and a
        scalar process time t, in the score kernel's one pass (closed-form route): bit for
        bit ``score`` followed by the reverse step's combine. None where that pass cannot
        be used (another route, non-finite x or scores: the caller's two-step path then
        gives the result or the error)."""
        if self.route != "closed-form" or type(x) is not np.ndarray or x.ndim != 2 \
                or x.dtype != np.float64 or not x.flags.c_contiguous or x.shape[0] == 0:
            return None
        out = np.empty_like(x)
        bad = closed_form_score(x, np.array([self.clock(check_time(t))]), self._theta,
                                self._jump_rate, self.b, self._m_int, out,
                                self._prepared_ratio(), combine=(a, c))
        return None if bad else out

    def _prepared_ratio(self):
        """The closed form's prepared Bessel ratio (``levyscore/_ratio_table.py``), built on
        first use: it depends on D and m only, so every time and every score call share it."""
        if self._ratio is None:
            self._ratio = prepared_ratio(self._dim, self._m_int, self.b)
        return self._ratio

    # -- exact simulation (MATH.md section 1) ----------------------------------------------------
    def _params(self):
        return self._theta, self._diffusion, self._jump_rate, self._jump_var

    def _initial(self, x0):
        x0 = as_points(x0, self._dim, "x0")
        if x0.ndim != 2:
            raise ValueError(f"x0 must have shape (n, {self._dim}), got shape {x0.shape}")
        return np.ascontiguousarray(x0)

    def _device_initial(self, x0):
        """CuPy initial states, shape (n, D), checked as :meth:`_initial` checks host ones."""
        x0 = device_points(x0, self._dim, "x0")
        if x0.ndim != 2:
            raise ValueError(f"x0 must have shape (n, {self._dim}), got shape {x0.shape}")
        return x0

    def sample(self, x0, t, rng=None, *, start=0):
        """Exact draws of ``X_t`` given ``X_0 = x0`` (MATH.md section 1; no time step).

        Parameters
        ----------
        x0 : array_like or cupy.ndarray, shape (n, D)
            Initial states. A CuPy array (float32 or float64) runs the ``forward`` CUDA
            kernel on its device, with the same key and counters as the CPU path (the same
            streams: equal draws up to the libdevice tolerance of the registry), and returns
            a CuPy array of its dtype. A Dask array gives a lazy Dask array whose block of
            rows ``[a, b)`` is drawn with ``start + a``: the in-memory draw, bit for bit, for
            any chunking (``docs/scaling.md``; also for :meth:`sample_path` and
            :meth:`dsm_pairs`).
        t : float or array_like, shape (n,)
            Elapsed times ``> 0`` (a scalar, or an array on the device of ``x0``).
        rng : None, int, numpy.random.SeedSequence or numpy.random.Generator
            Seed of the counter-based generator (see :func:`levyscore._seeding.philox_key`;
            a ``Generator`` is advanced by two draws). No global random state is used.
        start : int, optional
            Global index of the first row. Rows ``[a, b)`` drawn with ``start=a`` and the
            same (int or ``SeedSequence``) seed equal rows ``a..b-1`` of the whole batch, bit
            for bit, whatever the thread count.

        Returns
        -------
        ndarray or cupy.ndarray, shape (n, D)
        """
        if is_dask(x0, t):
            key, start = self._dask_key(x0, rng, start)
            return map_rows(lambda xb, tb, a: self.sample(xb, tb, key, start=start + a), x0, t)
        if is_device(x0, t):
            return self._sample_device(x0, t, rng, start)
        x0 = self._initial(x0)
        t = self.clock(as_times(t, x0.shape[:1]))
        start = check_start(start, x0.shape[0])
        return _forward.forward_sample(philox_key(rng), x0, np.ascontiguousarray(t), *self._params(),
                                       start=start, amplitude=self._amplitude)

    def _dask_key(self, x0, rng, start):
        """The key resolved once from ``rng`` and the checked ``start`` of a Dask call over
        the rows of ``x0`` (:mod:`levyscore._dask`)."""
        if x0.ndim != 2 or x0.shape[-1] != self._dim:
            raise ValueError(f"x0 must have shape (n, {self._dim}), got shape {x0.shape}")
        return Key(*philox_key(rng)), check_start(start, x0.shape[0])

    def _sample_device(self, x0, t, rng, start):
        """:meth:`sample` for CuPy ``x0``: the ``forward`` kernel on the device."""
        x0 = self._device_initial(x0)
        n = x0.shape[0]
        tt = device_times(self, t, (n,))
        start = check_start(start, n)
        return _forward.device_forward(philox_key(rng), x0, n, self._dim, storage(x0), tt,
                                       *self._params(), start=start, amplitude=self._amplitude)

    def sample_path(self, x0, times, rng=None, *, start=0):
        """Exact values of one path per row on a time grid (MATH.md section 1).

        Parameters
        ----------
        x0 : array_like or cupy.ndarray, shape (n, D)
            States at time 0. A CuPy array (float32 or float64) runs the ``forward_path``
            CUDA kernel on its device (same key, counters and sub-streams as the CPU path;
            computed in float64, a float32 result is rounded once) and returns a CuPy array
            of its dtype.
        times : array_like, shape (L,)
            Strictly increasing times ``> 0`` (a host array, also with CuPy ``x0``).
        rng, start
            As in :meth:`sample`.

        Returns
        -------
        ndarray or cupy.ndarray, shape (n, L, D)
            ``path[i, k]`` is the state of path i at ``times[k]``.
        """
        require_host("JumpDiffusion.sample_path (times)", times)
        if is_dask(x0):
            key, start = self._dask_key(x0, rng, start)
            # a 0-row call checks times eagerly and gives the row shape (L, D)
            row = self.sample_path(np.zeros((0, self._dim)), times, key).shape[1:]
            return map_rows(lambda xb, _, a: self.sample_path(xb, times, key, start=start + a),
                            x0, trailing=row)
        device = is_device(x0)
        x0 = self._device_initial(x0) if device else self._initial(x0)
        times = np.asarray(times, dtype=np.float64) if np.ndim(times) == 1 else None
        if times is None or times.shape[0] == 0:
            raise ValueError("times must be a non-empty one-dimensional array")
        if not np.all(np.isfinite(times)) or times[0] <= 0 or np.any(np.diff(times) <= 0):
            raise ValueError("times must be finite, positive and strictly increasing")
        if times.shape[0] > _forward.MAX_STREAM_INDEX + 1:
            raise ValueError(f"times may hold at most {_forward.MAX_STREAM_INDEX + 1} values")
        start = check_start(start, x0.shape[0])
        if device:
            return _forward.device_forward_path(philox_key(rng), x0, self.clock(times),
                                                *self._params(), start=start,
                                                amplitude=self._amplitude)
        return _forward.forward_path(philox_key(rng), x0, self.clock(times), *self._params(),
                                     start=start, amplitude=self._amplitude)

    def dsm_pairs(self, x0, t, rng=None, *, start=0, conditional_score=None):
        """Denoising score-matching pairs ``(x_t, target)`` (MATH.md section 5).

        ``x_t`` is an exact draw of ``X_t`` given ``X_0 = x0`` (equal, bit for bit, to
        :meth:`sample` with the same arguments) and ``target`` is the conditional generalized
        score ``S(y, t)`` at ``y = x_t - exp(-theta t) x0``; the marginal score minimises
        ``E |s(X_t, t) - target|^2``. Atom rule: a pure-jump sample with no jump (``y = 0``
        exactly) keeps its place with target 0.

        Parameters
        ----------
        x0 : array_like or cupy.ndarray, shape (n, D)
            Data points. A CuPy array (float32 or float64) draws the pairs on its device
            (the forward kernel on the CPU path's streams, the closed-form score kernel or
            ``conditional_score`` with CuPy arrays; a float32 result is the float64 one
            rounded once) and returns CuPy arrays; without a ``conditional_score`` only the
            closed-form route has a device path.
        t : float or array_like, shape (n,)
            Times ``> 0`` (a scalar, or an array on the device of ``x0``).
        rng, start
            As in :meth:`sample`.
        conditional_score : callable, optional
            ``(y, t) -> S(y, t)`` evaluated at the exact increments ``y`` (shape (n, D)) and
            times ``t`` (shape (n,), process times); by default :meth:`score`. Use it to pass
            a tabulated score for the quadrature routes.

        Returns
        -------
        x_t : ndarray, shape (n, D)
        target : ndarray, shape (n, D)
        """
        if is_dask(x0, t):
            key, start = self._dask_key(x0, rng, start)

            def pairs(xb, tb, a):
                x_t, target = self.dsm_pairs(xb, tb, key, start=start + a,
                                             conditional_score=conditional_score)
                return array_module(x_t).stack([x_t, target], axis=1)

            both = map_rows(pairs, x0, t, trailing=(2, self._dim))
            return both[:, 0], both[:, 1]
        if is_device(x0, t):
            return self._dsm_pairs_device(x0, t, rng, start, conditional_score)
        x0 = self._initial(x0)
        tt = np.ascontiguousarray(self.clock(as_times(t, x0.shape[:1])))
        start = check_start(start, x0.shape[0])
        n = x0.shape[0]
        y, _, jumps = _forward.forward_increments_w(philox_key(rng), n, self._dim, *self._params(),
                                                    tt, start=start, amplitude=self._amplitude)
        x_t = _forward.add_decayed(x0, y, tt, self._theta)
        if conditional_score is None:
            target = _score_flat(self, y, tt if np.ndim(t) else tt[:1])
        else:
            t_proc = np.broadcast_to(np.asarray(t, dtype=np.float64), (n,))
            target = np.array(conditional_score(y, t_proc), dtype=np.float64)
            if target.shape != y.shape:
                raise ValueError(f"conditional_score must return shape {y.shape}, got {target.shape}")
            if not np.isfinite(target).all():
                i = int(np.flatnonzero(~np.isfinite(target).all(axis=1))[0])
                raise ValueError(f"conditional_score returned NaN or inf (row {i}, t = "
                                 f"{float(t_proc[i]):.6g})")
        if self._diffusion == 0.0:
            target[jumps == 0] = 0.0
        return x_t, target

    def _dsm_pairs_device(self, x0, t, rng, start, conditional_score):
        """:meth:`dsm_pairs` for CuPy ``x0``: the forward kernel twice on the same streams
        (the increments y without x0, in float64, and x_t with it: the CPU path's arithmetic)
        and the closed-form score kernel, or ``conditional_score``, at y; float32 ``x0``
        gives the float64 results rounded once."""
        cp = cupy()
        x0 = self._device_initial(x0)
        n = x0.shape[0]
        tt = device_times(self, t, (n,))
        start = check_start(start, n)
        if conditional_score is None and self.route != "closed-form":
            raise ValueError(
                f"the GPU path of dsm_pairs needs the closed-form score (pure jump, integer m) "
                f"or a conditional_score that takes CuPy arrays; this process has route "
                f"{self.route!r}")
        key = philox_key(rng)
        dtype = storage(x0)
        y, counts = _forward.device_forward(key, None, n, self._dim, "f64", tt, *self._params(),
                                            start=start, amplitude=self._amplitude,
                                            with_counts=True)
        x_t = _forward.device_forward(key, x0, n, self._dim, dtype, tt, *self._params(),
                                      start=start, amplitude=self._amplitude)
        if conditional_score is None:
            target = device_closed_form_score(self, y, tt)
        else:
            t_proc = (cp.full((n,), float(t)) if not is_cupy_array(t)
                      else cp.ascontiguousarray(cp.broadcast_to(cp.asarray(t, dtype=cp.float64),
                                                                (n,))))
            target = conditional_score(y, t_proc)
            if not is_cupy_array(target) or target.shape != y.shape:
                raise ValueError(f"conditional_score must return a CuPy array of shape "
                                 f"{y.shape} for CuPy x0, got {type(target).__name__} "
                                 f"{getattr(target, 'shape', None)}")
            target = cp.ascontiguousarray(target.astype(cp.float64))
            if n and not bool(cp.isfinite(target).all()):
                raise ValueError("conditional_score returned NaN or inf")
        if self._diffusion == 0.0:
            target[counts == 0] = 0.0
        return x_t, target.astype(x0.dtype) if dtype == "f32" else target

    def __repr__(self):
        return (f"JumpDiffusion(dim={self._dim}, theta={self._theta!r}, "
                f"diffusion={self._diffusion!r}, jump_rate={self._jump_rate!r}, "
                f"jump_var={self._jump_var!r}"
                + (f", schedule={self.schedule!r}" if self.schedule is not None else "")
                + (f", amplitude={self._amplitude!r})" if not isinstance(self._amplitude, Laplace)
                   else ")"))
