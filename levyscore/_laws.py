"""Exact laws of the forward process at a fixed time (MATH.md sections 1-4).

:class:`TransitionLaw` is the law of ``Y_t = X_t - exp(-theta t) X_0`` (the transition law
of the process started at 0), and, with ``t = inf``, the stationary law. It is created by
:meth:`levyscore.JumpDiffusion.transition` and :meth:`levyscore.JumpDiffusion.stationary`.

Score convention (used throughout levyscore): the *generalized score* is
``S = grad V / p`` of MATH.md section 3, so that the Kolmogorov-Feller equation reads
``d_t p = div(theta y p + p S)``. It reduces to ``(sigma_G^2 / 2) grad log p`` without jumps.
All laws here are radial, ``S(y) = -y h(|y|)`` with ``h >= 0``.

Routes (chosen by :attr:`levyscore.JumpDiffusion.route`):

* ``"closed-form"``: pure jump, integer m: Bessel-potential mixtures
  (:mod:`levyscore._closed_form`);
* ``"mixture"``: diffusion > 0 or non-integer m: certified one-dimensional quadrature over
  the law of W (:mod:`levyscore._mixture`);
* ``"renewal"``: Student-t and Gaussian amplitudes: the same quadrature over W, with the
  law of W computed from its renewal equation (:mod:`levyscore._wvolterra` and
  :mod:`levyscore._wmixture` for Student-t; its delay-equation form for Gaussian jumps,
  :mod:`levyscore._wgauss`; MATH.md section 11);
* ``"gaussian"``: jump_rate = 0.

The radial CDF is always the W-mixture of regularized incomplete gamma functions.
"""
import math

import numpy as np

from . import _forward
from ._backend import (array_module, cupy, device_points, device_times, is_cupy_array, is_dask,
                       is_device, require_host, storage)
from ._closed_form import closed_form_logpdf_h, closed_form_score, weight_tables
from ._dask import chunked_sample, map_points
from ._mixture import mixture_log_h, mixture_logpdf_h, mixture_radial_cdf
from ._registry import launch
from ._seeding import philox_key
from ._time import gaussian_variance, time_constants, total_variance
from ._validation import (as_points, as_radii, check_count, check_finite_points, check_start,
                          row_norms)
from ._wgauss import GaussWLaw, gmix_log_h, gmix_logpdf_h, gmix_radial_cdf
from ._wmixture import wmix_log_h, wmix_logpdf_h, wmix_radial_cdf
from ._wvolterra import WLawTable
from .amplitudes import Gaussian

__all__ = ["TransitionLaw"]


def check_domain(process):
    """Raise ``ValueError`` if the laws of ``process`` are outside the supported domain.

    Amplitude laws of route ``"sampling-only"`` (none of the built-in ones) raise
    ``NotImplementedError``: they can be sampled exactly, but their densities, radial CDFs
    and scores are not implemented.

    The quadrature route (diffusion > 0 or non-integer m) needs m = lambda/(2 theta) <= 16:
    its series for the law of W is summed to ``c w < m^2`` (up to 256 there); beyond, the
    terms it would need overflow. The closed-form route (pure jump, integer m) has no limit.
    The renewal route (Student-t amplitudes) needs m <= 16 too (its grid step shrinks like
    1/m, its cost grows like m^2) and ``nu <= 50`` (the inverse-Gamma mark sharpens like
    ``1/sqrt(nu)``; larger nu is measured to break the march's grid).
    """
    if process.route == "sampling-only":
        raise NotImplementedError(
            f"the transition laws and scores of {process.amplitude!r} jump amplitudes are not "
            f"implemented yet (exact sampling is: sample, sample_path, TransitionLaw.sample, "
            f"and dsm_pairs with a conditional_score); use amplitude='laplace', 'gaussian' or "
            f"'student-t' for laws and scores")
    if process.route in ("mixture", "renewal") and process.m > M_MAX_QUADRATURE:
        raise ValueError(
            f"the exact laws of a process with diffusion > 0 or non-integer m (or non-Laplace "
            f"amplitudes) are computed by quadrature, which supports m = jump_rate / (2 theta) "
            f"<= {M_MAX_QUADRATURE:g}; this process has m = {process.m:.6g}")
    if (process.route == "renewal" and not isinstance(process.amplitude, Gaussian)
            and process.amplitude.nu > NU_MAX_RENEWAL):
        raise ValueError(
            f"the laws of Student-t amplitudes are computed for nu <= {NU_MAX_RENEWAL:g}; this "
            f"process has nu = {process.amplitude.nu:.6g} (for large nu the jumps are close to "
            f"Gaussian ones: amplitude='gaussian')")


def check_laplace(process, what):
    """Raise ``NotImplementedError`` unless ``process`` has Laplace amplitudes (or no jumps):
    ``what`` (a target) is built on the Laplace closed forms of the law of W."""
    check_domain(process)
    if process.route in ("renewal", "sampling-only"):
        raise NotImplementedError(
            f"{what} for {process.amplitude!r} jump amplitudes is not implemented yet (the "
            f"transition laws and scores are: process.transition(t), process.stationary(), "
            f"process.score); use amplitude='laplace'")


#: Largest m = lambda / (2 theta) of the quadrature routes (see :func:`check_domain`).
M_MAX_QUADRATURE = 16.0
#: Largest Student-t nu of the renewal route (see :func:`check_domain`).
NU_MAX_RENEWAL = 50.0
#: Gaussian amplitudes: below this q the stationary law of W stands for W_t.
_GAUSS_Q_STATIONARY = 1e-30
#: W-law tables a process keeps (route "renewal"), oldest dropped first.
_WTABLE_CACHE = 32


def wlaw_table(process, t, cache=None):
    """The :class:`WLawTable` of ``process`` at clock time ``t`` (``inf``: stationary), and
    the Gaussian variance s(t). Kept in ``cache`` (a dict), by default the process's own,
    which holds the last ``_WTABLE_CACHE`` times."""
    key = float(t)
    bounded = cache is None
    cache = process._wtables if cache is None else cache
    if key not in cache:
        m, q, logq, log1mq, _ = time_constants(key, process.theta, 0.0, process.jump_rate)
        if bounded and len(cache) >= _WTABLE_CACHE:
            cache.pop(next(iter(cache)))
        if isinstance(process.amplitude, Gaussian):
            # below q = 1e-30 the law of W_t is the stationary one to 1e-30 relative
            # (W_t = W_inf - q W'_inf in law), and the panels of q > 0 would crowd
            cache[key] = GaussWLaw(m, q if q >= _GAUSS_Q_STATIONARY else 0.0)
        else:
            cache[key] = WLawTable(process.amplitude, m, q, logq, log1mq)
    s = float(gaussian_variance(process.theta, process.diffusion, key))
    return cache[key], s


def _renewal_apply(process, t, n, fn, cache):
    """Call ``fn(idx, table, s)`` for each distinct time of ``t`` ((n,) or (1,)): ``idx`` the
    indices (or ``slice(None)``) of the points at that time."""
    if t.shape[0] != n:
        table, s = wlaw_table(process, t[0], cache)
        fn(slice(None), table, s)
        return
    times, inverse = np.unique(t, return_inverse=True)
    for k, tk in enumerate(times):
        table, s = wlaw_table(process, tk, cache)
        fn(np.flatnonzero(inverse == k), table, s)


def renewal_logpdf_h(process, r, t, cache=None, extra=0.0):
    """(log p, h) of route ``"renewal"`` at flat radii ``r`` (n,) and clock times ``t``
    ((n,) or (1,)); NaN where a quadrature failed. ``cache``: see :func:`wlaw_table`.
    ``extra >= 0`` adds a Gaussian variance to every component (a Gaussian-mixture target's
    ``v_k q``, MATH.md section 9): it joins s in the kernel, not sigma_G^2 in h's numerator."""
    logp = np.empty_like(r)
    h = np.empty_like(r)

    def run(idx, table, s):
        s = s + extra
        ri = np.ascontiguousarray(r[idx])
        lp_i = np.empty_like(ri)
        h_i = np.empty_like(ri)
        if isinstance(table, GaussWLaw):
            gmix_logpdf_h(ri, process.dim, s, process.jump_var, process.jump_rate,
                          process.diffusion, table.edges, table.cf, table.cr, table.pan,
                          table.meta, lp_i, h_i)
        else:
            wmix_logpdf_h(ri, process.dim, s, process.jump_var, process.jump_rate,
                          process.diffusion, table.meta, table.lp, table.lr, lp_i, h_i)
        logp[idx] = lp_i
        h[idx] = h_i

    _renewal_apply(process, t, r.shape[0], run, cache)
    return logp, h


def renewal_log_h(process, r, t, cache=None):
    """log h of route ``"renewal"`` (for radii where h overflows); as :func:`renewal_logpdf_h`."""
    out = np.empty_like(r)

    def run(idx, table, s):
        out_i = np.empty(r[idx].shape)
        ri = np.ascontiguousarray(r[idx])
        if isinstance(table, GaussWLaw):
            gmix_log_h(ri, process.dim, s, process.jump_var, process.jump_rate,
                       process.diffusion, table.edges, table.cf, table.cr, table.pan, table.meta,
                       out_i)
        else:
            wmix_log_h(ri, process.dim, s, process.jump_var, process.jump_rate,
                       process.diffusion, table.meta, table.lp, table.lr, out_i)
        out[idx] = out_i

    _renewal_apply(process, t, r.shape[0], run, cache)
    return out


def _raise_failed(values, r, t, what):
    """Turn the kernels' NaN status into a ``ValueError`` naming the first failed point."""
    bad = np.flatnonzero(np.isnan(values))
    if bad.size:
        i = int(bad[0])
        ti = float(t[i] if t.shape[0] > 1 else t[0])
        raise ValueError(
            f"the quadrature for {what} did not converge within its node budget at |y| = "
            f"{float(r[i]):.17g}, t = {ti:.17g} ({bad.size} point(s)); this input is outside "
            f"the certified domain (docs/api.md, 'Domain')")


def _radial_logpdf_h(process, r, t):
    """log p and h at flat float64 radii ``r`` (n,) and times ``t`` ((n,) or (1,))."""
    check_domain(process)
    logp = np.empty_like(r)
    h = np.empty_like(r)
    if process.route == "closed-form":
        closed_form_logpdf_h(r, t, process.dim, process.theta, process.jump_rate, process.b,
                             process._m_int, logp, h)
    elif process.route == "renewal":
        logp[:], h[:] = renewal_logpdf_h(process, r, t)
        bad = np.flatnonzero(np.isnan(logp))
        if bad.size:
            i = int(bad[0])
            raise ValueError(
                f"the law at |y| = {float(r[i]):.6g} lies beyond the radii where the law of W "
                f"of {process.amplitude!r} jumps is tabulated ({bad.size} point(s)): outside "
                f"the certified domain (docs/api.md, 'Domain')")
    else:
        tt = np.broadcast_to(t, r.shape).copy() if t.shape[0] != r.shape[0] else t
        mixture_logpdf_h(r, tt, process.dim, process.theta, process.diffusion, process.jump_rate,
                         process.b ** 2, 0.0, logp, h)
        _raise_failed(logp, r, tt, "the law")
    return logp, h


def _score_flat(process, y2, t):
    """Generalized score at y2 (n, D) and times t ((n,) or (1,)); returns (n, D)."""
    out = np.empty_like(y2)
    check_domain(process)
    if y2.shape[0] == 0:
        return out
    if process.route == "closed-form":
        # y2 may hold NaN or inf (the callers leave that check to this kernel's one pass)
        bad = closed_form_score(y2, t, process.theta, process.jump_rate, process.b,
                                process._m_int, out, process._prepared_ratio())
        if bad:
            check_finite_points(y2)
            _raise_score_overflow(y2, out)
        return out
    check_finite_points(y2)
    r = row_norms(y2)
    _, h = _radial_logpdf_h(process, r, t)
    if np.isnan(h).any():
        i = int(np.flatnonzero(np.isnan(h))[0])
        raise ValueError(
            f"the score at |y| = {float(r[i]):.6g} is beyond the radii where the law of W "
            f"of {process.amplitude!r} jumps is tabulated (its density underflows there: "
            f"log p = -inf); see docs/api.md, 'Domain'")
    big = np.flatnonzero(~(h < 1e290))
    if big.size:  # r below ~1e-145: h ~ 1/r^2 overflows, |S| = r h does not
        rb = np.ascontiguousarray(r[big])
        tb = np.ascontiguousarray(np.broadcast_to(t, r.shape)[big])
        lh = np.empty_like(rb)
        if process.route == "renewal":
            lh[:] = renewal_log_h(process, rb, tb)
        else:
            mixture_log_h(rb, tb, process.dim, process.theta, process.diffusion,
                          process.jump_rate, process.b ** 2, 0.0, lh)
        h[big] = 0.0
        with np.errstate(over="ignore"):  # |S| beyond the float range: raised below
            np.multiply(y2, -h[:, None], out=out)
            out[big] = -(y2[big] / rb[:, None]) * np.exp(lh + np.log(rb))[:, None]
    else:
        with np.errstate(over="ignore"):
            np.multiply(y2, -h[:, None], out=out)
    if not np.isfinite(out).all():
        _raise_score_overflow(y2, out)
    return out


def _raise_score_overflow(y2, out):
    """The error for a score beyond the float range (finite points y2, scores out)."""
    i = int(np.flatnonzero(~np.isfinite(out).all(axis=1))[0])
    raise ValueError(
        f"the score at |y| = {float(row_norms(y2[i])):.3g} exceeds the float range "
        f"(|S| ~ 1/|y| near the origin of a pure-jump law, and |S| = |y| h with h ~ 1/t "
        f"at tiny t for heavy-tailed jumps); |y| must be above ~1e-300 and |y| h below "
        f"~1.8e308")


def _closed_form_device_points(process, y):
    """CuPy points ``y`` checked for a device kernel of the closed form (the only route with
    one; the quadrature routes refuse rather than copy to the host)."""
    check_domain(process)
    if process.route != "closed-form":
        raise ValueError(
            f"the GPU path covers the closed-form route only (pure jump, integer m); this "
            f"process has route {process.route!r}: evaluate it on the host (y.get()) instead")
    return device_points(y, process.dim)


def _device_weight_tables(process, t, n):
    """``(lw, latom, atom, per_row)`` of the closed form on the device at the clock time(s)
    ``t`` (see :func:`levyscore._backend.device_times`): for a float, the one table of the
    CPU path (:func:`levyscore._closed_form.weight_tables`) copied over; for a CuPy array,
    one per row by the ``weight_table`` kernel."""
    cp = cupy()
    m = process._m_int
    if not is_cupy_array(t):
        return tuple(cp.asarray(a) if isinstance(a, np.ndarray) else a
                     for a in weight_tables(np.array([t]), process.theta, process.jump_rate, m))
    lw = cp.empty((n, 2, m + 1), dtype=cp.float64)
    latom = cp.empty(n, dtype=cp.float64)
    atom = cp.empty(n, dtype=cp.float64)
    launch("weight_table", "f64", n, {"n": n, "t": t, "theta": process.theta,
                                       "lam": process.jump_rate, "m": m, "lw_out": lw,
                                       "latom_out": latom, "atom_out": atom})
    return lw, latom, atom, 1


def device_closed_form_score(process, y2, t):
    """Closed-form generalized score on the device (kernel ``closed_form_score``).

    Parameters
    ----------
    process : JumpDiffusion
        Route ``"closed-form"`` (checked by the caller).
    y2 : cupy.ndarray, shape (n, D), float32 or float64, C-contiguous
    t : float or cupy.ndarray, float64, shape (n,)
        Clock time shared by every row, or one per row
        (:func:`levyscore._backend.device_times`).

    Returns
    -------
    cupy.ndarray, shape (n, D), dtype of ``y2``
    """
    n, dim = y2.shape
    out = cupy().empty_like(y2)
    if n == 0:
        return out
    lw, latom, atom, per_row = _device_weight_tables(process, t, n)
    # bad_out (rows with NaN or inf) is not read back: that would synchronise every call
    launch("closed_form_score", storage(y2), n,
           {"n": n, "dim": dim, "y": y2, "lam": process.jump_rate, "b": process.b,
            "m": process._m_int, "latom": latom, "atom": atom, "lw": lw, "per_row": per_row,
            "ratio_coef": _device_ratio(process), "has_ratio": 1, "a": 0.0, "c": 0.0,
            "combine": 0, "out": out,
            "bad_out": cupy().zeros(1, dtype=cupy().int64)})
    return out


def _device_ratio(process):
    """The process's prepared Bessel ratio on the current CUDA device, uploaded on first use."""
    cp = cupy()
    device = cp.cuda.runtime.getDevice()
    coef = process._ratio_device.get(device)
    if coef is None:
        coef = process._ratio_device[device] = cp.asarray(process._prepared_ratio())
    return coef


def _device_score(process, y, t=None, clock_time=None):
    """Generalized score of CuPy points ``y`` (..., D): the ``closed_form_score`` kernel on
    the device, a CuPy array back. The time is a process time ``t`` (a scalar or a CuPy
    array broadcasting against ``y.shape[:-1]``) or an already clocked scalar ``clock_time``
    (``inf``: stationary).

    Only the closed-form route has a device kernel; the quadrature routes refuse rather than
    copy to the host.
    """
    y = _closed_form_device_points(process, y)
    y2 = y.reshape(-1, process.dim)
    tt = float(clock_time) if clock_time is not None else device_times(process, t, y.shape[:-1])
    return device_closed_form_score(process, y2, tt).reshape(y.shape)


def _device_logpdf(process, y, clock_time):
    """log p of CuPy points ``y`` (..., D) at the clocked time ``clock_time`` (``inf``:
    stationary): the ``point_closed_form`` kernel on the device, a CuPy array back of shape
    ``y.shape[:-1]``.

    The radii come from :func:`levyscore._validation.row_norms` on the device (the CPU
    path's operations, in float64 whatever the dtype of ``y``); as on the CPU, a radius with
    ``r / b`` beyond the float range has log p = -inf. A float32 result is the float64 one
    rounded once. Only the closed-form route has a device kernel.
    """
    cp = cupy()
    y = _closed_form_device_points(process, y)
    y2 = y.reshape(-1, process.dim)
    n = y2.shape[0]
    logp = cp.empty(n, dtype=cp.float64)
    if n:
        r = cp.ascontiguousarray(row_norms(y2.astype(cp.float64), xp=cp))
        h = cp.empty(n, dtype=cp.float64)
        lw, latom, _, per_row = _device_weight_tables(process, float(clock_time), n)
        launch("point_closed_form", "f64", n,
               {"n": n, "r": r, "dim": process.dim, "lam": process.jump_rate, "b": process.b,
                "m": process._m_int, "latom": latom, "lw": lw, "per_row": per_row,
                "want_logp": 1, "logp_out": logp, "h_out": h})
        logp[cp.isinf(r / process.b)] = -cp.inf
    logp = logp if y.dtype == cp.float64 else logp.astype(y.dtype)
    return logp.reshape(y.shape[:-1])


class TransitionLaw:
    """Law of ``Y_t = X_t - exp(-theta t) X_0`` at a fixed time, or the stationary law.

    Parameters
    ----------
    process : JumpDiffusion
        The forward process.
    time : float
        Elapsed time ``t > 0`` in the process's own time unit (after any schedule clock), or
        ``inf`` for the stationary law.

    Notes
    -----
    The law is radially symmetric. With ``diffusion = 0`` it has an atom of mass
    :attr:`atom` at the origin (no jump yet, MATH.md section 2); :meth:`pdf` and
    :meth:`logpdf` describe the continuous part only, and :meth:`radial_cdf` includes the
    atom.
    """

    def __init__(self, process, time):
        self._process = process
        self._time = float(time)
        self._t = np.array([self._time])

    @property
    def process(self):
        """The :class:`JumpDiffusion` this law belongs to."""
        return self._process

    @property
    def time(self):
        """Elapsed (clock) time t; ``inf`` for the stationary law."""
        return self._time

    @property
    def stationary(self):
        """True for the stationary law."""
        return math.isinf(self._time)

    @property
    def atom(self):
        """Mass at y = 0: ``exp(-lambda t) = q^m`` for a pure-jump process, else 0."""
        p = self._process
        if p.diffusion > 0 or p.jump_rate == 0 or self.stationary:
            return 0.0
        return math.exp(-p.jump_rate * self._time)

    @property
    def variance(self):
        """Per-component variance ``(sigma_G^2 + lambda sigma_A^2)(1 - q)/(2 theta)`` (MATH.md §8)."""
        p = self._process
        return float(total_variance(p.theta, p.diffusion, p.jump_rate, p.jump_var, self._time))

    def logpdf(self, y):
        """Log density of the continuous part.

        Parameters
        ----------
        y : array_like or cupy.ndarray, shape (..., D)
            Points, in the units of the state. A CuPy array (float32 or float64) runs the
            closed-form kernel on its device (float64 arithmetic, a float32 result rounded
            once) and returns a CuPy array; the quadrature routes have no device path and
            raise ``ValueError``.

        Returns
        -------
        ndarray or cupy.ndarray, shape (...)
            ``log p(y)``; ``+inf`` at ``y = 0`` where the pure-jump density is singular.
        """
        if is_dask(y):
            return map_points(self.logpdf, y, drop_last=True, name="y")
        if is_device(y):
            return _device_logpdf(self._process, y, self._time)
        y = as_points(y, self._process.dim)
        r = row_norms(y).reshape(-1)
        logp, _ = _radial_logpdf_h(self._process, np.ascontiguousarray(r), self._t)
        return logp.reshape(y.shape[:-1])

    def pdf(self, y):
        """Density of the continuous part, ``exp(logpdf(y))``; shape (...) for y (..., D)
        (a CuPy array for CuPy ``y``, a lazy Dask array for Dask ``y``, as :meth:`logpdf`)."""
        if is_dask(y):
            return map_points(self.pdf, y, drop_last=True, name="y")
        return array_module(y).exp(self.logpdf(y))

    def score(self, y):
        """Generalized score ``S(y) = grad V / p`` (MATH.md section 3).

        Parameters
        ----------
        y : array_like or cupy.ndarray, shape (..., D)
            Points. A CuPy array (float32 or float64) runs the closed-form CUDA kernel on its
            device and returns a CuPy array of its dtype; the quadrature routes have no
            device path and raise ``ValueError``.

        Returns
        -------
        ndarray or cupy.ndarray, shape (..., D)
            ``S(y) = -y h(|y|)``. At ``y = 0`` the score is 0 (radial symmetry; for a
            pure-jump law the atom carries no flux, MATH.md section 5).
        """
        if is_dask(y):
            return map_points(self.score, y, name="y")
        if is_device(y):
            return _device_score(self._process, y, clock_time=self._time)
        y = as_points(y, self._process.dim, finite=False)  # checked in _score_flat's pass
        y2 = np.ascontiguousarray(y.reshape(-1, self._process.dim))
        return _score_flat(self._process, y2, self._t).reshape(y.shape)

    def radial_cdf(self, r):
        """``P(|Y| <= r)``, atom included.

        Parameters
        ----------
        r : array_like
            Radii ``>= 0``, any shape.

        Returns
        -------
        ndarray
            Same shape as ``r``.
        """
        require_host("TransitionLaw.radial_cdf", r)
        r = as_radii(r)
        flat = np.ascontiguousarray(r.reshape(-1))
        out = np.empty_like(flat)
        p = self._process
        t = np.full(flat.shape, self._time)
        check_domain(p)
        if p.route == "renewal":
            table, s = wlaw_table(p, self._time)
            if isinstance(table, GaussWLaw):
                gmix_radial_cdf(flat, p.dim, s, p.jump_var, table.edges, table.cf, table.cr,
                                table.pan, table.meta, out)
            else:
                wmix_radial_cdf(flat, p.dim, s, p.jump_var, table.meta, table.lp, table.lr, out)
        else:
            mixture_radial_cdf(flat, t, p.dim, p.theta, p.diffusion, p.jump_rate, p.b ** 2, out)
        _raise_failed(out, flat, t, "the radial CDF")
        return out.reshape(r.shape)

    @chunked_sample
    def sample(self, n, rng=None, *, start=0):
        """Exact draws from this law (MATH.md sections 1-2 and 11).

        For amplitude laws other than Laplace the stationary law has no finite exact
        sampler; it is drawn exact up to a relative ``2**-64`` of an independent copy of
        its mixing variable (:func:`levyscore._forward.stationary_sample_w`).

        Parameters
        ----------
        n : int
            Number of draws, ``>= 0``.
        rng : None, int, numpy.random.SeedSequence or numpy.random.Generator
            Seed of the counter-based generator (see :meth:`JumpDiffusion.sample`).
        start : int, optional
            Global index of the first row (chunked sampling reproduces the whole batch).

        Returns
        -------
        ndarray, shape (n, D)
        """
        n = check_count(n)
        start = check_start(start, n)
        p = self._process
        params = (p.theta, p.diffusion, p.jump_rate, p.jump_var)
        if self.stationary:
            return _forward.stationary_sample(philox_key(rng), n, p.dim, *params, start=start,
                                              amplitude=p.amplitude)
        return _forward.forward_increments(philox_key(rng), n, p.dim, *params, self._time,
                                           start=start, amplitude=p.amplitude)

    def __repr__(self):
        when = "stationary" if self.stationary else f"t={self._time!r}"
        return f"TransitionLaw({self._process!r}, {when})"
