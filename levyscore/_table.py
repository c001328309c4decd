r"""Tabulated conditional generalized score for the W-mixture route (MATH.md sections 2-4).

For processes whose conditional score has no closed form (``route == "mixture"``: diffusion
> 0, or a non-integer exponent m) each value of :math:`h` in :math:`S(y, t) = -y\,h(|y|, t)`
(MATH.md section 3) costs a one-dimensional quadrature over the law of W (MATH.md section 2,
:mod:`levyscore._mixture`), some 20-50 microseconds; on route ``"renewal"`` (Student-t
amplitudes, MATH.md section 11) each distinct time first costs the law of W itself (a
W-law table, 0.1-2 s). :class:`ScoreTable` tabulates :math:`h` once per process and
evaluates it in a fraction of a microsecond.

Coordinates
    :math:`u = \log\big(r/\sqrt{v(t)}\big)` and :math:`\tau = \log t`, with
    :math:`v(t) = (\sigma_G^2 + \lambda\sigma_A^2)(1 - e^{-2\theta t})/(2\theta)` the
    per-component variance of :math:`Y_t` (MATH.md section 8). The bulk of :math:`Y_t` sits
    near :math:`u = \log\sqrt{D}` at every t, and :math:`\log h` is smooth in
    :math:`(u, \tau)`: it tends to a constant for :math:`u \to -\infty` when
    :math:`\sigma_G > 0` (h is smooth and even in r), is asymptotically linear in u there for
    a pure-jump process (:math:`h \sim r^{-2}`), and tends to :math:`\log\theta` as
    :math:`t \to \infty` (the stationary score is :math:`-\theta y`).

Interpolation scheme
    The rectangle :math:`[u_{lo}, u_{hi}] \times [\tau_{lo}, \tau_{hi}]` is covered by a
    uniform grid of root panels (width about 2 in u and 3 in tau), each refined by
    bisection into a binary tree of rectangular panels. On each panel :math:`\log h` is
    interpolated by a tensor-product Chebyshev polynomial of degree 15 in each coordinate
    (16 x 16 Chebyshev points of the first kind; coefficients by a type-II DCT), evaluated
    from the three-term recurrence of :math:`T_k` in each coordinate. A panel is split (in
    the direction of its larger coefficient tail) while the sum of the moduli of its last
    two Chebyshev coefficient rows or columns exceeds ``rtol / 50``. Since the absolute
    error of :math:`\log h` is the relative error of h, this controls the relative error
    of h. Panels cost 16 x 16 quadratures each; the root grid, not the refinement, sets
    most of the panel count (some 40-80 panels, 10-20 thousand nodes, for t in
    [1e-3, 10]).

Certification
    After refinement every panel is checked against direct quadrature
    (:func:`levyscore._mixture.mixture_logpdf_h`) at points never used to build it: the
    17 x 17 Chebyshev-Lobatto points of the panel (they interleave the interpolation nodes
    in both coordinates and include the panel's edges and corners) and 16 uniformly random
    points (fixed seed derived from the cache key). Points are evaluated through the same
    kernel users call, from :math:`(r, t)`. Any panel whose maximum relative error exceeds
    ``rtol`` is split in both directions and the new panels are refined and certified in
    turn. Below :math:`u_{lo}` (see "Domain") the extrapolated value is certified at
    ``r = 0`` and two radii below :math:`r_{lo}`; should that fail, :math:`u_{lo}` is lowered
    and the table rebuilt. The maximum relative error over all check points is stored as
    :attr:`ScoreTable.max_rel_error`; a build that cannot reach ``rtol`` raises
    ``RuntimeError``.

Domain and fall-back
    t in ``[t_min, t_max]``; u from :math:`u_{lo}` to :math:`u_{hi}`, the largest
    :math:`1 - 10^{-12}` radial quantile of :math:`Y_t` over up to 25 times of the range (the
    tail is integrated from the quadrature's density) plus a margin of 0.5. With
    :math:`\sigma_G > 0`, :math:`h(r) = h(0) + O(r^2)`, and :math:`u_{lo}` is chosen (at most
    :math:`\log 10^{-3}`) so that the relative change of h between 0 and
    :math:`r_{lo} = e^{u_{lo}}\sqrt{v}` is about 1e-8; radii below :math:`r_{lo}` use
    :math:`h(r_{lo})` (certified, as above). For a pure-jump process h diverges like
    :math:`r^{-2}` at 0, and radii below :math:`r_{lo}` (:math:`u_{lo} = \log 10^{-3}`) fall
    back to quadrature. Every point outside the domain (t outside ``[t_min, t_max]``,
    :math:`u > u_{hi}`, or :math:`u < u_{lo}` without diffusion) is computed by direct
    quadrature, so results are always right; only their cost changes. At ``y = 0`` the score
    is 0 (``S = -y h``).

Marginal tables
    The same machinery tabulates the *marginal* score of a data law whose marginal h is
    known by quadrature (:meth:`levyscore.targets.SubGaussianStable.marginal_score`): a
    *source* object supplies the direct quadratures, the scale
    :math:`v(t) + v_0 e^{-2\theta t}` of u (v_0 the data's bulk variance), the radial
    quantile of the upper edge (1e-7 for the heavy-tailed marginal, whose 1 - 1e-12 quantile
    lies beyond 1e6) and extra cache-key fields (:class:`ConditionalSource` is the
    conditional one).

Disk cache
    A table depends only on (D, theta, sigma_G^2, lambda, sigma_A^2), the jump amplitude law
    (none but Laplace adds a key field), the (clock) time range, ``rtol`` and
    :data:`FORMAT_VERSION`; the SHA-256 of these (exact float hex) names the file
    ``scoretable-<digest>.npz`` in ``cache_dir``, else ``$LEVYSCORE_CACHE_DIR``, else
    ``~/.cache/levyscore``. Files are written to a temporary file and moved into place with
    :func:`os.replace`. A file is used only if it loads, its stored key equals the requested
    key, a SHA-256 checksum over all its arrays matches, its tree is consistent and its
    certified error is within ``rtol``; anything else is rebuilt and overwritten.

Modules
    This module holds the public class :class:`ScoreTable` and re-exports the names other
    modules use. The evaluation kernel is :mod:`levyscore._table_kernel`, the builder and the
    conditional source :mod:`levyscore._table_build`, the disk cache
    :mod:`levyscore._table_cache` (imports run kernel <- build <- cache <- this module).
"""
import hashlib
import math
import os
import time
import warnings

import numpy as np

from ._laws import check_domain
from ._process import JumpDiffusion
from ._table_build import _N, ConditionalSource, _Builder
from ._table_cache import FORMAT_VERSION, _cache_directory, _cache_key, _load, _save
from ._backend import (cupy, device_points, device_times, is_cupy_array, is_dask, is_device,
                       require_host, storage)
from ._dask import map_points
from ._registry import launch
from ._table_kernel import (_ARRAY_FIELDS, _P_UHI, _P_ULO, DEVICE_MAX_COEF, TABLE_ARG_NAMES,
                            table_args, table_h, table_score)
from ._validation import as_points, as_radii, check_real, row_norms

# re-exported: what other modules and older code import from levyscore._table
from ._table_build import _quadrature_h, _variance_constant  # noqa: F401
from ._table_cache import _CACHE_ENV, _checksum, _tree_is_consistent  # noqa: F401

__all__ = ["ScoreTable", "FORMAT_VERSION"]


class ScoreTable:
    r"""Certified tabulation of the conditional generalized score of the W-mixture route.

    ``S(y, t) = -y h(|y|, t)`` (MATH.md section 3, convention ``S = grad V / p``) with h
    computed, for processes without a closed form (MATH.md sections 2 and 4), by direct
    quadrature in :mod:`levyscore._mixture`. The table interpolates :math:`\log h` by
    piecewise tensor-product Chebyshev polynomials in :math:`(\log(r/\sqrt{v(t)}), \log t)`
    and is certified against the quadrature at independent points; see the module docstring
    of :mod:`levyscore._table` for the scheme, the domain and the fall-back.

    Create one with :meth:`build`; do not call the constructor.

    Attributes
    ----------
    process : JumpDiffusion
        The process the table belongs to.
    t_min, t_max : float
        Time range of the table (the process's time); outside it, quadrature is used.
    rtol : float
        Target relative error of h.
    max_rel_error : float
        Largest relative error of h found at the check points (certified: ``<= rtol``).
    n_check : int
        Number of check points behind :attr:`max_rel_error`.
    n_panels, n_nodes : int
        Panels of the table and interpolation nodes (``n_panels * 256``).
    u_range : tuple of float
        ``(u_lo, u_hi)``, the tabulated range of ``u = log(r / sqrt(v(t)))``.
    build_seconds : float
        Wall-clock seconds of the original build (stored with the table).
    n_quadrature : int
        Quadrature evaluations spent by the original build (nodes, checks, domain search).
    from_cache : bool
        True when this object was loaded from the disk cache.
    path : str or None
        Cache file, or None when the cache was not used.
    """

    def __init__(self, source, t_min, t_max, rtol, arrays, *, from_cache, path):
        self._source = source
        self._process = source.proc
        self._t_min = t_min
        self._t_max = t_max
        self._rtol = rtol
        self._arrays = {k: arrays[k] for k in _ARRAY_FIELDS}
        self._kernel_args = table_args(self._arrays)
        self._device_args = {}  # table_args on each CUDA device (uploaded on first use)
        self.from_cache = from_cache
        self.path = path

    # -- construction ------------------------------------------------------------------------
    @classmethod
    def build(cls, process, t_min, t_max, *, cache_dir=None, cache=True, rtol=1e-6):
        """Tabulate h for ``process`` on ``[t_min, t_max]``, or load it from the disk cache.

        Parameters
        ----------
        process : JumpDiffusion
            A process with ``route == "mixture"`` (``diffusion > 0`` and ``jump_rate > 0``, or
            a pure-jump process with non-integer m) or ``"renewal"`` (Student-t amplitudes).
            The closed-form and Gaussian routes are already cheap: a ``ValueError`` says that
            no table is needed.
        t_min, t_max : float
            Time range, ``0 < t_min < t_max < inf`` (the process's time; a schedule's clock is
            applied, and the table is stored in clock time).
        cache_dir : str or os.PathLike, optional
            Cache folder; default ``$LEVYSCORE_CACHE_DIR``, else ``~/.cache/levyscore``.
        cache : bool, default True
            Read and write the disk cache. If the cache cannot be written a
            ``RuntimeWarning`` is issued and the table is still returned.
        rtol : float, default 1e-6
            Target relative error of h, in ``[1e-10, 1e-2]``.

        Returns
        -------
        ScoreTable

        Raises
        ------
        ValueError
            Invalid arguments, or a process that needs no table.
        RuntimeError
            The certification could not reach ``rtol`` (not observed for the tested
            processes).
        """
        if not isinstance(process, JumpDiffusion):
            raise ValueError("process must be a levyscore.JumpDiffusion, got "
                             f"{type(process).__name__}")
        check_domain(process)  # a law without laws ("sampling-only"): NotImplementedError
        if process.route not in ("mixture", "renewal"):
            raise ValueError(f"process has route {process.route!r}: its score is a closed form, "
                             "cheap to evaluate directly, so no table is needed (use "
                             "process.score)")
        return cls._build_source(ConditionalSource(process), t_min, t_max, cache_dir=cache_dir,
                                 cache=cache, rtol=rtol)

    @classmethod
    def _build_source(cls, source, t_min, t_max, *, cache_dir=None, cache=True, rtol=1e-6):
        """:meth:`build` for any source (conditional, or a target's marginal)."""
        process = source.proc
        t_min = check_real("t_min", t_min, positive=True)
        t_max = check_real("t_max", t_max, positive=True)
        if not t_min < t_max:
            raise ValueError(f"t_min must be smaller than t_max, got t_min={t_min}, t_max={t_max}")
        rtol = check_real("rtol", rtol, positive=True)
        if not 1e-10 <= rtol <= 1e-2:
            raise ValueError(f"rtol must lie in [1e-10, 1e-2], got {rtol}")
        if not isinstance(cache, (bool, np.bool_)):
            raise ValueError(f"cache must be True or False, got {cache!r}")
        c_lo = float(process.clock(t_min))
        c_hi = float(process.clock(t_max))
        if not (math.isfinite(c_lo) and math.isfinite(c_hi) and 0.0 < c_lo < c_hi):
            raise ValueError(f"the clock maps [t_min, t_max] to [{c_lo}, {c_hi}], which is not a "
                             "finite positive interval")
        key = _cache_key(source, c_lo, c_hi, rtol)
        path = None
        if cache:
            folder = _cache_directory(cache_dir)
            digest = hashlib.sha256(key.encode()).hexdigest()[:32]
            path = os.path.join(folder, f"scoretable-{digest}.npz")
            arrays = _load(path, key, rtol)
            if arrays is not None:
                return cls(source, t_min, t_max, rtol, arrays, from_cache=True, path=path)
        start = time.perf_counter()
        builder = _Builder(source, c_lo, c_hi, rtol, int(hashlib.sha256(key.encode())
                                                          .hexdigest()[:16], 16))
        arrays, max_err, n_check = builder.build()
        elapsed = time.perf_counter() - start
        arrays["stats"] = np.array([max_err, n_check, elapsed, builder.n_quadrature],
                                   dtype=np.float64)
        if cache:
            try:
                _save(path, key, arrays)
            except OSError as exc:
                warnings.warn(f"could not write the score-table cache {path}: {exc}",
                              RuntimeWarning, stacklevel=2)
                path = None
        return cls(source, t_min, t_max, rtol, arrays, from_cache=False, path=path)

    # -- properties ---------------------------------------------------------------------------
    @property
    def process(self):
        """The :class:`JumpDiffusion` the table belongs to."""
        return self._process

    @property
    def t_min(self):
        """Smallest tabulated time."""
        return self._t_min

    @property
    def t_max(self):
        """Largest tabulated time."""
        return self._t_max

    @property
    def rtol(self):
        """Target relative error of h."""
        return self._rtol

    @property
    def max_rel_error(self):
        """Largest relative error of h at the independent check points."""
        return float(self._arrays["stats"][0])

    @property
    def n_check(self):
        """Number of check points of the certification."""
        return int(self._arrays["stats"][1])

    @property
    def build_seconds(self):
        """Wall-clock seconds of the original build."""
        return float(self._arrays["stats"][2])

    @property
    def n_quadrature(self):
        """Quadrature evaluations of the original build."""
        return int(self._arrays["stats"][3])

    @property
    def n_panels(self):
        """Number of Chebyshev panels."""
        return int(self._arrays["coef"].shape[0])

    @property
    def n_nodes(self):
        """Number of interpolation nodes (quadrature values the interpolant is built from)."""
        return self.n_panels * _N * _N

    @property
    def u_range(self):
        """``(u_lo, u_hi)``: tabulated range of ``u = log(r / sqrt(v(t)))``."""
        p = self._arrays["params"]
        return float(p[_P_ULO]), float(p[_P_UHI])

    def arrays(self):
        """Copies of the arrays that define the table (as stored in the cache), by name."""
        return {k: v.copy() for k, v in self._arrays.items()}

    # -- evaluation ---------------------------------------------------------------------------
    def _times(self, t, shape):
        arr = np.asarray(t)
        if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
            raise ValueError(f"t must be real, got dtype {arr.dtype}")
        arr = np.asarray(arr, dtype=np.float64)
        if not np.all(np.isfinite(arr)):
            raise ValueError("t must be finite (found NaN or inf)")
        if np.any(arr <= 0):
            raise ValueError("t must be positive (t > 0)")
        if arr.ndim == 0:
            return np.array([float(self._process.clock(float(arr)))])
        try:
            arr = np.broadcast_to(arr, shape)
        except ValueError:
            raise ValueError(f"t of shape {arr.shape} does not broadcast against the shape "
                             f"{shape}") from None
        return np.ascontiguousarray(self._process.clock(arr), dtype=np.float64).reshape(-1)

    def h(self, r, t):
        """The radial factor h of the score ``S(y, t) = -y h(|y|, t)`` (MATH.md section 3).

        Parameters
        ----------
        r : array_like
            Radii ``|y| >= 0``, any shape.
        t : float or array_like
            Times ``> 0``: a scalar, or an array broadcasting against ``r``.

        Returns
        -------
        ndarray
            h, of the broadcast shape of ``r`` and ``t``. Points outside the table (t outside
            ``[t_min, t_max]``, r beyond the tabulated range) are computed by direct
            quadrature.

        Raises
        ------
        ValueError
            Where h exceeds the float range: near the origin of a pure-jump law h ~ 1/r^2
            overflows below r ~ 1e-150 (:meth:`score`, whose magnitude is r h, does not).
        """
        require_host("ScoreTable.h (use ScoreTable.score on the device)", r, t)
        r = as_radii(r)
        shape = np.broadcast_shapes(r.shape, np.shape(t))
        tt = self._times(t, shape)
        flat = np.ascontiguousarray(np.broadcast_to(r, shape).reshape(-1))
        out = np.empty_like(flat)
        leaf = np.empty(flat.shape, dtype=np.int64)
        table_h(flat.shape[0], flat, tt, int(tt.shape[0] > 1), *self._kernel_args, out, leaf)
        miss = np.flatnonzero(leaf == -1)
        if miss.shape[0]:
            out[miss] = self._source.h(flat[miss], tt[miss] if tt.shape[0] > 1
                                      else np.full(miss.shape, tt[0]))
        if not np.isfinite(out).all():
            bad = float(flat[np.flatnonzero(~np.isfinite(out))[0]])
            raise ValueError(f"h exceeds the float range at r = {bad:.3g} (h ~ 1/r^2 near the "
                             f"origin of a pure-jump law); use score(), whose magnitude is r h")
        return out.reshape(shape)

    def covers(self, r, t):
        """Where the table itself serves h (elsewhere direct quadrature is used).

        Parameters
        ----------
        r : array_like
            Radii ``>= 0``, any shape.
        t : float or array_like
            Times ``> 0``, broadcasting against ``r``.

        Returns
        -------
        ndarray of bool
            Broadcast shape of ``r`` and ``t``; False where :meth:`h` falls back to quadrature.
        """
        require_host("ScoreTable.covers", r, t)
        r = as_radii(r)
        shape = np.broadcast_shapes(r.shape, np.shape(t))
        tt = self._times(t, shape)
        flat = np.ascontiguousarray(np.broadcast_to(r, shape).reshape(-1))
        out = np.empty_like(flat)
        leaf = np.empty(flat.shape, dtype=np.int64)
        table_h(flat.shape[0], flat, tt, int(tt.shape[0] > 1), *self._kernel_args, out, leaf)
        return (leaf != -1).reshape(shape)

    def score(self, y, t):
        """Conditional generalized score ``S(y, t) = -y h(|y|, t)`` (MATH.md sections 3-4).

        Parameters
        ----------
        y : array_like, shape (..., D)
            Points ``y = x - x0 exp(-theta t)``.
        t : float or array_like
            Times ``> 0``: a scalar, or an array broadcasting against ``y.shape[:-1]``.

        Returns
        -------
        ndarray or cupy.ndarray, shape (..., D)
            Agrees with ``process.score(y, t)`` to the certified relative error; exactly 0 at
            ``y = 0``. Rows outside the table are computed by direct quadrature.

        Notes
        -----
        CuPy points ``y`` (float32 or float64; ``t`` a scalar or a CuPy array) are evaluated
        on their device by the ``table_score`` kernel (the twin of the CPU kernel, with the
        table's arrays uploaded once per device) and give a CuPy array of their dtype, equal
        to the CPU result (computed in float64; float32 rounded once) up to the libdevice
        tolerance of the registry. The rows the table does not serve (see "Domain and
        fall-back" in :mod:`levyscore._table`: probability ~1e-12 per point of the forward
        law, or a pure-jump ``|y|`` below ``r_lo``) have no device route: those rows alone
        are copied to the host, computed by quadrature and copied back.
        """
        if is_dask(y, t):
            return map_points(self.score, y, t, name="y")
        if is_device(y, t):
            return self._device_score(y, t)
        dim = self._process.dim
        y = as_points(y, dim)
        tt = self._times(t, y.shape[:-1])
        return self._clocked_score(np.ascontiguousarray(y.reshape(-1, dim)), tt).reshape(y.shape)

    def _clocked_score(self, y2, tt):
        """:meth:`score` of host points ``y2`` (n, D) at clock times ``tt`` ((n,) or (1,))."""
        dim = self._process.dim
        out = np.empty_like(y2)
        leaf = np.empty(y2.shape[0], dtype=np.int64)
        if y2.shape[0]:
            table_score(y2.shape[0], dim, y2, tt, int(tt.shape[0] > 1), *self._kernel_args,
                        out, leaf)
        miss = np.flatnonzero(leaf == -1)
        if miss.shape[0]:
            r = row_norms(y2[miss])
            tm = tt[miss] if tt.shape[0] > 1 else np.full(miss.shape, tt[0])
            hm = self._source.h(r, tm)
            with np.errstate(over="ignore", invalid="ignore"):
                out[miss] = -y2[miss] * hm[:, None]
            big = np.flatnonzero(~(hm < 1e290))
            if big.size and hasattr(self._source, "log_h"):
                # h ~ 1/r^2 overflows near the origin of a pure-jump law; |S| = r h does not
                lh = self._source.log_h(r[big], tm[big])
                rows = miss[big]
                out[rows] = -(y2[rows] / r[big, None]) * np.exp(lh + np.log(r[big]))[:, None]
        if not np.isfinite(out).all():
            raise ValueError("the score exceeds the float range at some |y| below ~1e-300 "
                             "(|S| ~ 1/|y| near the origin of a pure-jump law)")
        return out

    def _on_device(self):
        """The table's kernel arguments (:func:`levyscore._table_kernel.table_args`) as CuPy
        arrays on the current device, uploaded on first use."""
        cp = cupy()
        device = cp.cuda.runtime.getDevice()
        args = self._device_args.get(device)
        if args is None:
            if self._kernel_args[-1] > DEVICE_MAX_COEF:
                raise ValueError(f"tables with more than {DEVICE_MAX_COEF} Chebyshev "
                                 f"coefficients per coordinate have no device path")
            args = tuple(cp.asarray(a) for a in self._kernel_args[:-1]) + self._kernel_args[-1:]
            self._device_args[device] = args
        return dict(zip(TABLE_ARG_NAMES, args))

    def _device_score(self, y, t):
        """:meth:`score` of CuPy points: kernel ``table_score``, host quadrature for the rows
        the table does not serve (leaf -1), a CuPy array back."""
        cp = cupy()
        dim = self._process.dim
        y = device_points(y, dim)
        y2 = y.reshape(-1, dim)
        n = y2.shape[0]
        out = cp.empty_like(y2)
        if n == 0:
            return out.reshape(y.shape)
        tt = device_times(self._process, t, y.shape[:-1])
        tt = tt if is_cupy_array(tt) else cp.asarray([tt])
        leaf = cp.empty(n, dtype=cp.int64)
        launch("table_score", storage(y2), n,
               {"n": n, "dim": dim, "y": y2, "t": tt, "t_per_row": int(tt.shape[0] > 1),
                **self._on_device(), "out": out, "leaf_out": leaf})
        miss = cp.flatnonzero(leaf == -1)
        if miss.size:  # the documented exception: these rows only, by quadrature on the host
            rows = cp.asnumpy(y2[miss]).astype(np.float64)
            t_rows = cp.asnumpy(tt[miss] if tt.shape[0] > 1 else tt)
            out[miss] = cp.asarray(self._clocked_score(rows, t_rows).astype(y2.dtype))
        return out.reshape(y.shape)

    def __repr__(self):
        what = self._source.describe()
        kind = "" if what == "conditional" else f"marginal of {what}, "
        return (f"ScoreTable({kind}{self._process!r}, t_min={self._t_min!r}, "
                f"t_max={self._t_max!r}, panels={self.n_panels}, "
                f"max_rel_error={self.max_rel_error:.2e})")
