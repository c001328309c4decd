r"""Builder of :class:`levyscore.ScoreTable`: adaptive Chebyshev fit and certification.

:class:`_Builder` turns a *source* (:class:`ConditionalSource` for the conditional h of a
process, or a target's marginal source such as
:class:`levyscore._stable_marginal.StableMarginalSource`) into the arrays evaluated by
:mod:`levyscore._table_kernel`: it finds the domain in :math:`u` (:meth:`_Builder.lower_edge`,
:meth:`_Builder.upper_edge`), fits :math:`\log h` on a tree of panels from direct
quadrature at the Chebyshev points of the first kind (:func:`_coefficients`, a type-II DCT),
and certifies every panel at independent Chebyshev-Lobatto and random points. The scheme is
described in :mod:`levyscore._table`. Time enters only through the constants of
:mod:`levyscore._time`.
"""
import math

import numpy as np
import scipy.fft

from ._mixture import mixture_log_h, mixture_logpdf_h
from ._table_kernel import (_N_PARAMS, _P_2THETA, _P_EXTRAP, _P_TAUHI, _P_TAULO, _P_THI,
                            _P_TLO, _P_UHI, _P_ULO, _P_V0, _P_VC, table_args, table_h)
from ._time import decay_q, one_minus_q, variance_constant

_N = 16  # Chebyshev points per panel and coordinate
_ROOT_DU = 2.0  # target root-panel width in u
_ROOT_DTAU = 3.0  # target root-panel width in tau = log t
_TAIL_FRACTION = 0.02  # refinement: coefficient tail below rtol * _TAIL_FRACTION
_N_RANDOM = 16  # random check points per panel
_MAX_DEPTH = 12  # bisections below a root panel
_MAX_ROUNDS = 6  # certification rounds
_QUANTILE = 1e-12  # u_hi: the (1 - _QUANTILE) radial quantile
_U_MARGIN = 0.5
_U_LO_DEFAULT = math.log(1e-3)
_U_LO_SMOOTH = 1e-8  # target relative change of h below r_lo (diffusion > 0)


def _quadrature_h(proc, r, t, logp=False, wtables=None):
    """Direct quadrature h (or log p) at flat radii r (n,) and times t (n,) (clock time).

    ``wtables``: for route ``"renewal"``, the dict that keeps its W-law tables by time.
    """
    r = np.ascontiguousarray(r, dtype=np.float64)
    t = np.ascontiguousarray(np.broadcast_to(t, r.shape), dtype=np.float64)
    lp = np.empty_like(r)
    h = np.empty_like(r)
    if r.shape[0] and proc.route == "renewal":
        from ._laws import renewal_logpdf_h  # here: _laws sits above the table layer

        lp, h = renewal_logpdf_h(proc, r, t, wtables)
    elif r.shape[0]:
        mixture_logpdf_h(r, t, proc.dim, proc.theta, proc.diffusion, proc.jump_rate,
                         proc.b ** 2, 0.0, lp, h)
    return lp if logp else h


class ConditionalSource:
    """What the builder needs to tabulate the conditional h of ``proc`` (clock times).

    A *source* provides direct quadratures ``h(r, t)`` and ``logp(r, t)`` at flat radii and
    clock times, the scale ``v(t) = vc (1 - q) + v0 q`` of the coordinate u, whether h may be
    extrapolated below the smallest radius (``extrapolate``), the radial quantile that sets
    the table's upper edge, and the fields it adds to the cache key.
    """

    quantile = _QUANTILE

    def __init__(self, proc):
        from ._laws import check_domain  # here: _laws sits above the table layer

        check_domain(proc)  # a law without laws (route "sampling-only"): NotImplementedError
        self.proc = proc
        self.extrapolate = proc.diffusion > 0.0
        self.vc = _variance_constant(proc)
        self.v0 = 0.0
        # route "renewal": each distinct time costs a W-law table (0.1-2 s), kept here for
        # the build; its random check points then share 2 times per panel (not 16)
        self.wtables = {} if proc.route == "renewal" else None
        self.random_times = 2 if proc.route == "renewal" else None

    def h(self, r, t):
        return _quadrature_h(self.proc, r, t, wtables=self.wtables)

    def log_h(self, r, t):
        """log h at flat radii and clock times (h ~ 1/r^2 overflows below r ~ 1e-150)."""
        r = np.ascontiguousarray(r, dtype=np.float64)
        t = np.ascontiguousarray(np.broadcast_to(t, r.shape), dtype=np.float64)
        out = np.empty_like(r)
        if r.shape[0] and self.proc.route == "renewal":
            from ._laws import renewal_log_h

            out = renewal_log_h(self.proc, r, t, self.wtables)
        elif r.shape[0]:
            mixture_log_h(r, t, self.proc.dim, self.proc.theta, self.proc.diffusion,
                          self.proc.jump_rate, self.proc.b ** 2, 0.0, out)
        return out

    def logp(self, r, t):
        return _quadrature_h(self.proc, r, t, logp=True, wtables=self.wtables)

    def key_fields(self):
        return []

    def describe(self):
        return "conditional"


def _variance_constant(proc):
    """v(t) = vc (1 - exp(-2 theta t)); returns vc (:func:`levyscore._time.variance_constant`)."""
    return variance_constant(proc.theta, proc.diffusion, proc.jump_rate, proc.jump_var)


def _chebyshev_points(n):
    """First-kind points cos(pi (j + 1/2) / n), j = 0..n-1 (descending)."""
    return np.cos(np.pi * (np.arange(n) + 0.5) / n)


def _lobatto_points(n):
    """Chebyshev extrema cos(pi k / n), k = 0..n: interleave the first-kind points."""
    return np.cos(np.pi * np.arange(n + 1) / n)


def _coefficients(values):
    """Chebyshev coefficients (L, n, n) of values (L, n, n) at first-kind points."""
    n = values.shape[1]
    c = scipy.fft.dct(scipy.fft.dct(values, type=2, axis=1), type=2, axis=2) / (n * n)
    c[:, 0, :] *= 0.5
    c[:, :, 0] *= 0.5
    return c


class _Builder:
    """Adaptive construction and certification of one table (see :mod:`levyscore._table`)."""

    def __init__(self, source, c_lo, c_hi, rtol, seed):
        self.source = source
        self.proc = source.proc
        self.c_lo = c_lo
        self.c_hi = c_hi
        self.rtol = rtol
        self.rng = np.random.default_rng(seed)
        self.vc = source.vc
        self.v0 = source.v0
        self.tau_lo = math.log(c_lo)
        self.tau_hi = math.log(c_hi)
        self.extrapolate = source.extrapolate
        self.quantile = source.quantile
        self.n_quadrature = 0
        self.nodes = _chebyshev_points(_N)
        self.lobatto = _lobatto_points(_N)

    # quadrature with bookkeeping
    def quad(self, r, t):
        self.n_quadrature += r.shape[0]
        return self.source.h(r, t)

    def quad_logp(self, r, t):
        self.n_quadrature += r.shape[0]
        return self.source.logp(r, t)

    def v(self, t):
        """Scale^2 of u: v(t) (section 8), plus v0 q for a marginal (the data's share)."""
        v = self.vc * one_minus_q(self.proc.theta, t)
        if self.v0 != 0.0:
            v = v + self.v0 * decay_q(self.proc.theta, t)
        return v

    def to_rt(self, u, tau):
        t = np.exp(tau)
        return np.exp(u) * np.sqrt(self.v(t)), t

    def time_grid(self, n):
        return np.exp(np.linspace(self.tau_lo, self.tau_hi, n))

    def lower_edge(self):
        """u_lo: log 1e-3, or lower where h(r) - h(0) would exceed ~1e-8 relative.

        With diffusion, ``h(r)/h(0) - 1 ~ c e^{2u}`` for small r. c is probed at u = -4, -6,
        ... (12 times) until the relative change falls below 1e-10 (further probes would
        only see rounding); the largest c found sets ``e^{2 u_lo} = 1e-8 / c``.
        """
        if not self.extrapolate:
            return _U_LO_DEFAULT
        t = self.time_grid(12)
        h0 = self.quad(np.zeros_like(t), t)
        worst = 0.0
        for u1 in np.arange(-4.0, -40.0, -2.0):
            change = float(np.max(np.abs(self.quad(math.exp(u1) * np.sqrt(self.v(t)), t) / h0
                                         - 1.0)))
            worst = max(worst, change / math.exp(2.0 * u1))
            if change < 1e-10:
                break
        if worst <= 0.0:
            return _U_LO_DEFAULT
        return min(_U_LO_DEFAULT, 0.5 * math.log(_U_LO_SMOOTH / worst))

    def upper_edge(self):
        """u_hi: max over the time range of the (1 - 1e-12) radial quantile, plus a margin.

        The tail ``P(|Y_t| > r)`` is the integral of the radial density
        ``S_D rho^D p(rho)`` over ``log rho > log r`` (trapezoidal rule, step 0.1 in u, from
        the quadrature's log p), extended upwards past the bulk until the integrand is below
        1e-16.
        """
        proc = self.proc
        t = self.time_grid(min(25, 3 + math.ceil((self.tau_hi - self.tau_lo) / 0.4)))
        step = 0.1
        log_area = math.log(2.0) + 0.5 * proc.dim * math.log(math.pi) - math.lgamma(0.5 * proc.dim)
        blocks = []
        u0 = -2.0  # the bulk lies above: log sqrt(D) for diffusion, higher for jumps
        while True:  # blocks of 2 in u, upwards until the integrand is negligible
            u = u0 + step * np.arange(20)
            uu = np.repeat(u[None, :], t.shape[0], axis=0)
            tt = np.repeat(t[:, None], u.shape[0], axis=1)
            rr, _ = self.to_rt(uu, np.log(tt))
            logp = self.quad_logp(rr.reshape(-1), tt.reshape(-1)).reshape(rr.shape)
            blocks.append((u, log_area + proc.dim * np.log(rr) + logp))  # log S_D rho^D p
            u0 += 20 * step
            u = np.concatenate([b[0] for b in blocks])
            g = np.concatenate([b[1] for b in blocks], axis=1)
            # stop past the bulk (the peak at least 1 below the top) once the integrand is
            # negligible at the top
            past_peak = np.argmax(np.where(np.isnan(g), -np.inf, g), axis=1) < u.shape[0] - 10
            small = np.where(np.isnan(g[:, -1]), -np.inf, g[:, -1])  # NaN: checked below
            if (np.all(past_peak) and np.all(small < math.log(1e-4 * self.quantile))) \
                    or u0 > 40.0:
                break
        # NaN: a radius beyond the law's domain (Gaussian jumps: beyond the tabulated law of
        # W). Harmless once the row's integrand is negligible below it; otherwise the table
        # cannot reach this row's quantile
        for i in range(g.shape[0]):
            bad = np.flatnonzero(np.isnan(g[i]))
            if bad.shape[0]:
                if bad[0] == 0 or g[i, bad[0] - 1] >= math.log(1e-4 * self.quantile):
                    raise ValueError(
                        f"the radial law at t = {t[i]:.6g} ends (NaN) before its "
                        f"(1 - {self.quantile:g}) quantile: the time range [{self.c_lo:g}, "
                        f"{self.c_hi:g}] is too wide for this process")
                g[i, bad[0]:] = -np.inf
        dens = np.exp(g)
        pieces = 0.5 * step * (dens[:, 1:] + dens[:, :-1])
        tail = np.zeros_like(dens)
        tail[:, :-1] = np.cumsum(pieces[:, ::-1], axis=1)[:, ::-1]  # tail[k] = int beyond u[k]
        quantile = np.empty(t.shape[0])
        for i in range(t.shape[0]):
            above = np.flatnonzero(tail[i] > self.quantile)
            quantile[i] = u[min(above[-1] + 1, u.shape[0] - 1)] if above.shape[0] else u[0]
        return float(np.max(quantile)) + _U_MARGIN

    # tree
    def new_node(self, box, depth):
        self.split.append(-1)
        self.value.append(0.0)
        self.child.append(-1)
        self.box.append(box)
        self.depth.append(depth)
        self.coef.append(None)
        return len(self.split) - 1

    def divide(self, node, axis):
        ua, ub, ta, tb = self.box[node]
        if axis == 0:
            mid = 0.5 * (ua + ub)
            boxes = ((ua, mid, ta, tb), (mid, ub, ta, tb))
        else:
            mid = 0.5 * (ta + tb)
            boxes = ((ua, ub, ta, mid), (ua, ub, mid, tb))
        c0 = self.new_node(boxes[0], self.depth[node] + 1)
        self.new_node(boxes[1], self.depth[node] + 1)
        self.split[node] = axis
        self.value[node] = mid
        self.child[node] = c0
        self.coef[node] = None
        return [c0, c0 + 1]

    def fit(self, pending):
        """Evaluate, fit and refine the panels in ``pending`` until their tails are small."""
        tol = self.rtol * _TAIL_FRACTION
        n = _N
        while pending:
            boxes = np.array([self.box[k] for k in pending])
            uu = (0.5 * (boxes[:, 0] + boxes[:, 1])[:, None]
                  + 0.5 * (boxes[:, 1] - boxes[:, 0])[:, None] * self.nodes[None, :])
            tt = (0.5 * (boxes[:, 2] + boxes[:, 3])[:, None]
                  + 0.5 * (boxes[:, 3] - boxes[:, 2])[:, None] * self.nodes[None, :])
            U = np.broadcast_to(uu[:, :, None], (len(pending), n, n)).reshape(-1)
            T = np.broadcast_to(tt[:, None, :], (len(pending), n, n)).reshape(-1)
            r, t = self.to_rt(U, T)
            h = self.quad(r, t)
            if not np.all(np.isfinite(h) & (h > 0)):
                raise RuntimeError("quadrature returned a non-positive or non-finite h while "
                                   "building the score table")
            coefs = _coefficients(np.log(h).reshape(len(pending), n, n))
            nxt = []
            for k, node in enumerate(pending):
                c = np.abs(coefs[k])
                tail_u = float(np.sum(c[-2:, :]))
                tail_t = float(np.sum(c[:, -2:]))
                if max(tail_u, tail_t) > tol and self.depth[node] < _MAX_DEPTH:
                    nxt.extend(self.divide(node, 0 if tail_u >= tail_t else 1))
                else:
                    self.coef[node] = coefs[k]
            pending = nxt

    def arrays(self, u_lo, u_hi, nu0, nt0):
        split = np.array(self.split, dtype=np.int64)
        leaves = np.flatnonzero(split < 0)
        leaf_of = np.full(split.shape, -1, dtype=np.int64)
        leaf_of[leaves] = np.arange(leaves.shape[0])
        params = np.zeros(_N_PARAMS)
        params[_P_ULO], params[_P_UHI] = u_lo, u_hi
        params[_P_TAULO], params[_P_TAUHI] = self.tau_lo, self.tau_hi
        params[_P_TLO], params[_P_THI] = self.c_lo, self.c_hi
        params[_P_VC], params[_P_2THETA] = self.vc, 2.0 * self.proc.theta
        params[_P_EXTRAP] = 1.0 if self.extrapolate else 0.0
        params[_P_V0] = self.v0
        return {
            "params": params,
            "roots": np.array([nu0, nt0], dtype=np.int64),
            "split": split,
            "value": np.array(self.value, dtype=np.float64),
            "child": np.array(self.child, dtype=np.int64),
            "leaf_of": leaf_of,
            "boxes": np.array([self.box[k] for k in leaves], dtype=np.float64).reshape(-1, 4),
            "coef": np.array([self.coef[k] for k in leaves], dtype=np.float64),
            "leaves": leaves,
        }

    def check_points(self, leaves):
        """Independent check points (u, tau) of the given leaves (node ids)."""
        n1 = _N + 1
        us, taus = [], []
        for node in leaves:
            ua, ub, ta, tb = self.box[node]
            lu = 0.5 * (ua + ub) + 0.5 * (ub - ua) * self.lobatto
            lt = 0.5 * (ta + tb) + 0.5 * (tb - ta) * self.lobatto
            us.append(np.repeat(lu, n1))
            taus.append(np.tile(lt, n1))
            us.append(self.rng.uniform(ua, ub, _N_RANDOM))
            k = getattr(self.source, "random_times", None)
            if k is None:
                taus.append(self.rng.uniform(ta, tb, _N_RANDOM))
            else:  # a source whose cost is per distinct time: k random times, shared
                taus.append(np.repeat(self.rng.uniform(ta, tb, k), _N_RANDOM // k))
        return np.concatenate(us), np.concatenate(taus)

    def errors(self, arrays, u, tau):
        """Relative errors of the table at check points (u, tau) and the leaf that served them.

        Points the table does not serve (fall-back) get leaf -1 and error 0: they are exact.
        """
        r, t = self.to_rt(u, tau)
        exact = self.quad(r, t)
        approx = np.empty_like(r)
        leaf = np.empty(r.shape, dtype=np.int64)
        table_h(r.shape[0], r, t, 1, *table_args(arrays), approx, leaf)
        err = np.zeros_like(r)
        inside = leaf >= 0
        with np.errstate(divide="ignore", invalid="ignore"):
            err[inside] = np.abs(approx[inside] / exact[inside] - 1.0)
        err[~np.isfinite(err)] = np.inf
        return err, leaf

    def run(self, u_lo, u_hi):
        """Build and certify on ``[u_lo, u_hi]``.

        Returns (arrays, max error, number of check points, extrapolation below u_lo ok).
        """
        nu0 = max(1, math.ceil((u_hi - u_lo) / _ROOT_DU))
        nt0 = max(1, math.ceil((self.tau_hi - self.tau_lo) / _ROOT_DTAU))
        self.split, self.value, self.child, self.box, self.depth, self.coef = [], [], [], [], [], []
        du = (u_hi - u_lo) / nu0
        dt = (self.tau_hi - self.tau_lo) / nt0
        for i in range(nu0):
            for j in range(nt0):
                ua = u_lo + i * du
                ub = u_hi if i == nu0 - 1 else u_lo + (i + 1) * du
                ta = self.tau_lo + j * dt
                tb = self.tau_hi if j == nt0 - 1 else self.tau_lo + (j + 1) * dt
                self.new_node((ua, ub, ta, tb), 0)
        self.fit(list(range(nu0 * nt0)))
        # per-leaf certification: largest error and number of check points served by a leaf
        err_of, count_of = {}, {}
        to_check = [k for k in range(len(self.split)) if self.split[k] < 0]
        for round_ in range(_MAX_ROUNDS + 1):
            arrays = self.arrays(u_lo, u_hi, nu0, nt0)
            u, tau = self.check_points(to_check)
            err, leaf = self.errors(arrays, u, tau)
            served = leaf >= 0
            nodes = arrays["leaves"][leaf[served]]
            for node, e in zip(nodes.tolist(), err[served].tolist()):
                err_of[node] = max(err_of.get(node, 0.0), e)
                count_of[node] = count_of.get(node, 0) + 1
            bad = [k for k, e in err_of.items() if e > self.rtol]
            if not bad:
                break
            if round_ == _MAX_ROUNDS:
                raise RuntimeError(f"score table: certification did not reach rtol={self.rtol} "
                                   f"after {_MAX_ROUNDS} refinement rounds")
            pending = []
            for node in bad:
                if self.depth[node] + 2 > _MAX_DEPTH:
                    raise RuntimeError(f"score table: panel {self.box[node]} cannot reach "
                                       f"rtol={self.rtol} (maximum depth)")
                del err_of[node]
                count_of.pop(node, None)
                for c in self.divide(node, 0):
                    pending.extend(self.divide(c, 1))
            before = len(self.split)
            self.fit(pending)
            to_check = [k for k in pending if self.split[k] < 0]
            to_check += [k for k in range(before, len(self.split)) if self.split[k] < 0]
        arrays = self.arrays(u_lo, u_hi, nu0, nt0)
        max_err = max(err_of.values(), default=0.0)
        n_check = sum(count_of.values())
        if self.extrapolate:
            # below r_lo, h(r_lo) stands for h(r): check r = 0 and two radii below r_lo
            tb = np.concatenate([np.linspace(self.tau_lo, self.tau_hi, 4 * _N + 1),
                                 self.rng.uniform(self.tau_lo, self.tau_hi, 4 * _N)])
            u = np.concatenate([np.full(tb.shape, -np.inf), np.full(tb.shape, u_lo - 1.0),
                                np.full(tb.shape, u_lo - 3.0)])
            err, leaf = self.errors(arrays, u, np.tile(tb, 3))
            n_check += int(np.count_nonzero(leaf >= 0))
            max_err = max(max_err, float(np.max(err)))
            if max_err > self.rtol:
                return arrays, max_err, n_check, False
        return arrays, max_err, n_check, True

    def build(self):
        u_lo = self.lower_edge()
        u_hi = self.upper_edge()
        for _ in range(4):
            arrays, max_err, n_check, below_ok = self.run(u_lo, u_hi)
            if below_ok:
                return arrays, max_err, n_check
            u_lo -= math.log(10.0)
        raise RuntimeError("score table: the extrapolation below the smallest radius cannot "
                           f"reach rtol={self.rtol}")
