"""Exact forward sampling of the jump-diffusion (MATH.md sections 1, 2, 8 and 11).

The process is dX = -theta X dt + sigma_G dW + dJ, with J compound Poisson of
rate lambda and isotropic amplitudes of per-component variance sigma_A**2:
Laplace (the default, sigma_A**2 = 2 b**2) or another Gaussian scale mixture
A = sqrt(M) xi of :mod:`levyscore.amplitudes` (keyword ``amplitude``; the
sections below describe Laplace, and z_i becomes the law's unit-mean mark
M_i / sigma_A**2, drawn by ``amplitudes._dispatch.draw_mark``). In the code,
``diffusion`` = sigma_G**2, ``jump_rate`` = lambda and ``jump_var`` = sigma_A**2.

Method (MATH.md section 1, "Gaussian scale mixture")
----------------------------------------------------
Over an elapsed time t, X_t = e^{-theta t} X_0 + Y_t and, given the jumps,
Y_t ~ N(0, (s + 2 b**2 W) I) with

    s = sigma_G**2 (1 - e^{-2 theta t}) / (2 theta)       (sigma_G**2 t at theta = 0)
    W = sum_{i <= N} z_i e^{-2 theta a_i},   z_i ~ Exp(1),

where a_i = t - tau_i are the ages of the N ~ Poisson(lambda t) jumps. So each
sample costs one scalar W and one D-vector of normals:
Y = sqrt(s + sigma_A**2 W) xi, xi ~ N(0, I_D). The ages are generated as
cumulative Exp(1)/lambda spacings going back from t until they exceed t (the
time-reversed Poisson process on [0, t] is again Poisson with rate lambda);
counting them gives N exactly, without a Poisson sampler, and the ages of the
most recent jumps (which dominate W) carry no cancellation error. Memory is
O(n D): nothing is allocated per jump. The cost is O(n (D + lambda t)).

For integer m = lambda/(2 theta) <= 64 (theta > 0), W is drawn instead by its second exact
representation (MATH.md section 2): W ~ Gamma(J, 1) with J ~ Binomial(m, 1 - q), at O(m)
cost whatever lambda t is (``binomial_gamma_mixing``; N then reports J, and N = 0 is still
exactly the atom). For the paper's default (m = 1, t = 10) this is ~5x cheaper than the ~10
jumps of the compound-Poisson route. Both routes sample the same law (tested).

When sigma_G = 0 and no jump occurs, the scale is 0 and Y is exactly +0.0:
the atom of MATH.md section 2 (probability e^{-lambda t}). Use ``N == 0`` for
the atom rule of section 5: ``W == 0`` also happens when every jump is so old
that e^{-2 theta a} underflows (2 theta a > ~745).

Random numbers (see :mod:`levyscore._philox` for the counter layout)
-------------------------------------------------------------------
Sample i (global index ``start + i``) over interval ``k`` (``stream=k``; the
k-th interval of a path) reads

* ``DOMAIN_FORWARD_GAUSS``, index k: block j gives xi_{2j}, xi_{2j+1};
* ``DOMAIN_FORWARD_JUMP``, index k: block j gives the j-th spacing (first
  uniform) and the j-th mark z_j (second uniform), j = 0..N (block N gives
  the spacing that overshoots t);
* ``DOMAIN_FORWARD_MARK``, index k: the marks that need more than one uniform
  (Student-t; see :func:`levyscore.amplitudes.student_t.student_t_mark`).

The stationary sampler reads ``DOMAIN_STATIONARY`` (xi) and
``DOMAIN_STATIONARY_GAM`` (W_inf), with the same index convention. Results
are therefore bit-identical for any thread count and for any split of the
batch into chunks (``start``). ``forward_path(...)[:, 0]`` equals
``forward_sample(key, x0, times[0], ...)`` bit for bit (both use stream 0 on
the first interval): callers that want independent draws pass different keys
or different ``stream`` values.
"""
import math

import numpy as np
from numba import njit, prange

from ._backend import cupy, is_cupy_array, time_argument
from ._philox import (
    philox4x32_10_inline,
    uniform_from_words_inline,
    DOMAIN_FORWARD_GAUSS,
    DOMAIN_FORWARD_JUMP,
    DOMAIN_FORWARD_MARK,
    DOMAIN_REVERSE_GAUSS,
    DOMAIN_REVERSE_JUMP,
    DOMAIN_REVERSE_MARK,
    DOMAIN_STATIONARY,
    DOMAIN_STATIONARY_GAM,
    DOMAIN_STATIONARY_JUMP,
    DOMAIN_STATIONARY_MARK,
    MAX_STREAM_INDEX,
    box_muller,
    gamma_variate,
    normal_pair,
    stream_word,
    uniform_pair,
)
from ._registry import launch
from ._time import gaussian_variance
from .amplitudes._dispatch import LAW_LAPLACE, draw_mark

__all__ = [
    "gaussian_variance",
    "jump_mixing",
    "forward_increments",
    "forward_increments_w",
    "forward_sample",
    "forward_sample_w",
    "forward_path",
    "stationary_sample",
    "stationary_sample_w",
    "add_decayed",
    "reverse_noise",
]

_MASK32 = np.uint64(0xFFFFFFFF)
_SHIFT32 = np.uint64(32)


# ---------------------------------------------------------------------------
# Scalar functions (mirrored one for one by the CUDA twin)
# ---------------------------------------------------------------------------


_BINOMIAL_MAX_M = 64  # integer m up to this uses the Binomial-Gamma representation of W
_FIRST_MARGIN = 2.0 ** -40  # relative margin of first_block_test's thresholds
_DAMPING_FLOOR = 1e-300  # below this damping the jump loop decides in log space and stops
MAX_EXPECTED_JUMPS = 1e6  # per sample: beyond this, exact jump-by-jump sampling is refused
#: 2 theta T of the stationary sampler of laws without an exact one: q(T) = 2**-64 (see
#: :func:`stationary_sample_w`)
STATIONARY_TWO_THETA_T = 64.0 * math.log(2.0)


@njit(cache=True)
def binomial_gamma_mixing(c0, c1, c2, k0, k1, two_theta_t, m):
    """W for integer m by its second exact representation (MATH.md section 2).

    W ~ Gamma(J, 1) with J ~ Binomial(m, 1 - q), q = e^{-2 theta t}: J counts the uniforms
    ``u > q`` among m, then W = -log of the product of J further uniforms. The cost is
    O(m) whatever lambda t is, and J = 0 exactly when W = 0 (the atom, probability q^m).

    Returns
    -------
    W : float
    J : int
        The Binomial count (J = 0 is the atom: no jump).
    """
    q = math.exp(-two_theta_t)
    block = np.uint64(0)
    j = 0
    k = 0
    while k < m:
        u1, u2 = uniform_pair(c0, c1, c2, block, k0, k1)
        block += np.uint64(1)
        if u1 > q:
            j += 1
        if k + 1 < m and u2 > q:
            j += 1
        k += 2
    w = 0.0
    prod = 1.0
    k = 0
    while k < j:
        u1, u2 = uniform_pair(c0, c1, c2, block, k0, k1)
        block += np.uint64(1)
        prod *= u1
        if k + 1 < j:
            prod *= u2
        if prod < 1e-280:  # keep the product normal: 2^-53 per factor at worst
            w -= math.log(prod)
            prod = 1.0
        k += 2
    if j > 0:
        w -= math.log(prod)
    return w, j


@njit(cache=True)
def first_block_test(theta, jump_rate, t):
    """When the first jump-stream block of a sample decides that it has no jump in the
    elapsed time t (W = 0, N = 0), :func:`jump_mixing` need not run: ``(ok, lo, hi)`` for
    :func:`first_block_no_jump`.

    ok: :func:`jump_mixing` takes its route of ages (theta <= 0: the reverse noise, any
    amplitude law), whose first age is ``0 + -log(u1) / jump_rate``: no jump exactly when it
    exceeds t. That is decided without the log where u1 < lo or u1 > hi,
    ``lo, hi = e^{-jump_rate t (1 +- 2^-40)} (1 -+ 2^-40)``: the margins (~1e-12 relative)
    exceed every rounding of the log, the division and these exponentials
    (~3e-16 |jump_rate t| + 4e-16) for jump_rate t <= 2700 (beyond, lo = hi = 0 and the log
    decides; there is then certainly a jump). Not ok (theta > 0, the other routes, or no
    jumps at all): no such test.
    """
    if jump_rate <= 0.0 or theta > 0.0:
        return False, 0.0, 0.0
    lt = jump_rate * t
    if not (lt <= 2700.0):
        return True, 0.0, 0.0
    lo = math.exp(-lt * (1.0 + _FIRST_MARGIN)) * (1.0 - _FIRST_MARGIN)
    hi = math.exp(-lt * (1.0 - _FIRST_MARGIN)) * (1.0 + _FIRST_MARGIN)
    return True, lo, hi


@njit(cache=True, inline="always")
def first_block_no_jump(u1, lo, hi, jump_rate, t):
    """True when the first uniform u1 of a sample's first jump-stream block gives no jump
    (W = 0, N = 0), for ``(lo, hi)`` of :func:`first_block_test`: the same decision as
    :func:`jump_mixing`'s, bit for bit."""
    if u1 < lo:
        return True
    if u1 > hi:
        return False
    return 0.0 + -math.log(u1) / jump_rate > t  # jump_mixing's first age, as it computes it


@njit(cache=True, inline="always")
def first_uniforms(ustart, count, c2, k0, k1, u1_out):
    """The first uniform of block 0 of stream word c2 for samples ``ustart .. ustart +
    count`` (:func:`levyscore._philox.uniform_pair` with c3 = 0, bit for bit), in a loop that
    LLVM vectorizes (1.9 ns a sample against 14 ns for one call at a time)."""
    for k in range(count):
        gi = ustart + np.uint64(k)
        w0, w1, w2, w3 = philox4x32_10_inline(gi & _MASK32, gi >> _SHIFT32, c2, np.uint64(0),
                                              k0, k1)
        u1_out[k] = uniform_from_words_inline(w0, w1)


@njit(cache=True)
def jump_mixing(c0, c1, c2, cm, k0, k1, t, theta, jump_rate, law, param):
    """Mixing variable W and jump count N of one sample (MATH.md sections 2 and 11).

    Parameters
    ----------
    c0, c1 : uint64
        Low and high words of the global sample index.
    c2 : uint64
        Stream word of the jump part (``DOMAIN_FORWARD_JUMP``): block j holds the j-th
        spacing and the j-th jump's own uniform.
    cm : uint64
        Stream word of the marks that need more than one uniform (``DOMAIN_FORWARD_MARK``;
        read by Student-t amplitudes only).
    k0, k1 : uint64
        Key words.
    t : float
        Elapsed time.
    theta, jump_rate : float
        OU rate and Poisson rate.
    law, param : int, float
        Amplitude law (:meth:`levyscore.amplitudes.AmplitudeLaw.kernel_args`).

    Returns
    -------
    W : float
        ``sum_i mu_i exp(-2 theta a_i)`` over the jumps of ages a_i < t, with
        ``mu_i = M_i / sigma_A^2`` the unit-mean marks of the law (Exp(1) for Laplace:
        :func:`levyscore.amplitudes._dispatch.draw_mark`).
    N : int
        Number of jumps in the interval, Poisson(jump_rate * t); for integer m (theta > 0)
        the Binomial count J of :func:`binomial_gamma_mixing` instead. Either way N = 0
        exactly when there is no jump (the atom). When 2 theta t > ~690 the count stops at
        the first jump whose damping is below 1e-300 (older jumps add less than 1e-298
        times their mark to W each), so N then counts the jumps that can still change W,
        plus that one. The Binomial-Gamma route is Laplace's alone.
    """
    if jump_rate <= 0.0:
        return 0.0, 0
    two_theta = 2.0 * theta
    w = 0.0
    n = 0
    spare = 0.0  # state of the marks from one jump to the next (draw_mark)
    block = np.uint64(0)
    if theta > 0.0:
        m = jump_rate / two_theta
        mi = int(m + 0.5)
        if (law == LAW_LAPLACE and mi >= 1 and mi <= _BINOMIAL_MAX_M
                and abs(m - mi) <= 1e-12 * m):
            return binomial_gamma_mixing(c0, c1, c2, k0, k1, two_theta * t, mi)
        # Track the damping e^{-2 theta a} of the current age a directly: each Exp(1)/lambda
        # spacing multiplies it by u^{2 theta / lambda} = u^{1/m}, so for m = 1 (the paper's
        # default) a jump costs no exp and one log (its mark), and a > t <=> damping < q.
        # Once the damping falls below _DAMPING_FLOOR (only possible when q does too, i.e.
        # 2 theta t > ~690) the next jump is placed in log space, where q = e^{-2 theta t}
        # cannot underflow: it is counted (and added) when it lies inside [0, t], and the loop
        # stops there. Every older jump would add less than 1e-298 to W, and the loop can no
        # longer run forever on an underflowed q (issue 10, bug 1).
        inv_m = two_theta / jump_rate
        logq = -two_theta * t
        q = math.exp(logq)
        damping = 1.0
        while True:
            u_gap, u_mark = uniform_pair(c0, c1, c2, block, k0, k1)
            previous = damping
            if inv_m == 1.0:
                damping *= u_gap
            else:
                damping *= math.exp(inv_m * math.log(u_gap))
            if damping < _DAMPING_FLOOR:
                if q < _DAMPING_FLOOR:
                    logd = math.log(previous) + inv_m * math.log(u_gap)
                    if logd >= logq:
                        mark, spare = draw_mark(law, param, u_mark, c0, c1, cm, n, k0, k1, spare)
                        w += mark * math.exp(logd)
                        n += 1
                break
            if damping < q:
                break
            mark, spare = draw_mark(law, param, u_mark, c0, c1, cm, n, k0, k1, spare)
            w += mark * damping
            n += 1
            block += np.uint64(1)
        return w, n
    age = 0.0
    while True:
        u_gap, u_mark = uniform_pair(c0, c1, c2, block, k0, k1)
        age += -math.log(u_gap) / jump_rate
        if age > t:
            break
        mark, spare = draw_mark(law, param, u_mark, c0, c1, cm, n, k0, k1, spare)
        w += mark * math.exp(-two_theta * age)
        n += 1
        block += np.uint64(1)
    return w, n


@njit(cache=True, inline="always")
def row_uniforms(c0, c1, c2, k0, k1, pairs, out):
    """``out[2 j], out[2 j + 1]`` = the two uniforms of block j (``c3 = j``) of stream word c2,
    for j < pairs (:func:`levyscore._philox.uniform_pair`, bit for bit), in a loop that LLVM
    vectorizes."""
    for j in range(pairs):
        w0, w1, w2, w3 = philox4x32_10_inline(c0, c1, c2, np.uint64(j), k0, k1)
        out[2 * j] = uniform_from_words_inline(w0, w1)
        out[2 * j + 1] = uniform_from_words_inline(w2, w3)


#: From this D on, :func:`gaussian_row` draws a row's uniforms in one vectorized loop.
ROW_UNIFORMS_MIN_DIM = 16


@njit(cache=True)
def gaussian_row(c0, c1, c2, k0, k1, scale, decay, base, has_base, out):
    """``out[d] = decay * base[d] + scale * xi_d`` (``scale * xi_d`` without base).

    ``xi`` ~ N(0, I_D) is read from the stream word ``c2``: block j gives
    ``xi_{2j}`` and ``xi_{2j+1}``. When ``scale == 0`` no normal is drawn and
    the result is ``decay * base`` (or exactly +0.0). ``base`` must not share memory with
    ``out``: from D = ``ROW_UNIFORMS_MIN_DIM`` on, ``out`` first holds the row's uniforms.
    """
    dim = out.shape[0]
    if scale == 0.0:
        for d in range(dim):
            out[d] = decay * base[d] if has_base else 0.0
        return
    start = 0
    if dim >= ROW_UNIFORMS_MIN_DIM:
        # the rows' uniforms first, into out itself, in a loop that LLVM vectorizes
        # (row_uniforms); then Box-Muller pair by pair: the bits of normal_pair
        pairs = dim // 2
        row_uniforms(c0, c1, c2, k0, k1, pairs, out)
        for j in range(pairs):
            d = 2 * j
            z0, z1 = box_muller(out[d], out[d + 1])
            if has_base:
                out[d] = decay * base[d] + scale * z0
                out[d + 1] = decay * base[d + 1] + scale * z1
            else:
                out[d] = scale * z0
                out[d + 1] = scale * z1
        start = 2 * pairs
    for d in range(start, dim, 2):
        z0, z1 = normal_pair(c0, c1, c2, np.uint64(d // 2), k0, k1)
        if has_base:
            out[d] = decay * base[d] + scale * z0
            if d + 1 < dim:
                out[d + 1] = decay * base[d + 1] + scale * z1
        else:
            out[d] = scale * z0
            if d + 1 < dim:
                out[d + 1] = scale * z1


# ---------------------------------------------------------------------------
# Parallel kernels: one sample per prange iteration, no state shared between
# iterations, so the result does not depend on the schedule.
# ---------------------------------------------------------------------------


@njit(cache=True, parallel=True, error_model="numpy")
def _forward_kernel(n, dim, k0, k1, x0, has_x0, t, t_per_row, theta, diffusion, jump_rate,
                    jump_var, start, index, dom_gauss, dom_jump, dom_mark, law, law_param, out,
                    w_out, n_out):
    """The forward draw (X with ``has_x0 = 1``, else the increment Y; x0 is then not read),
    its W and N: the arguments of the CUDA kernel ``forward_law`` (``kernels/forward.cu``).
    ``t`` has shape (n,) (``t_per_row = 1``) or (1,)."""
    no_row = np.empty(0, dtype=np.float64)
    cg = stream_word(dom_gauss, index)
    cj = stream_word(dom_jump, index)
    cm = stream_word(dom_mark, index)
    ustart = np.uint64(start)
    # with a shared t, the Gaussian variance and the decay are computed once (same values)
    s0 = gaussian_variance(theta, diffusion, t[0])
    decay0 = math.exp(-theta * t[0])
    for i in prange(n):
        gi = ustart + np.uint64(i)
        c0 = gi & _MASK32
        c1 = gi >> _SHIFT32
        ti = t[i] if t_per_row else t[0]
        w, nj = jump_mixing(c0, c1, cj, cm, k0, k1, ti, theta, jump_rate, law, law_param)
        if t_per_row:
            scale = math.sqrt(gaussian_variance(theta, diffusion, ti) + jump_var * w)
            decay = math.exp(-theta * ti)
        else:
            scale = math.sqrt(s0 + jump_var * w)
            decay = decay0
        base = x0[i] if has_x0 else no_row
        gaussian_row(c0, c1, cg, k0, k1, scale, decay, base, has_x0 != 0, out[i])
        w_out[i] = w
        n_out[i] = nj


def _forward_laplace(n, dim, k0, k1, x0, has_x0, t, t_per_row, theta, diffusion, jump_rate,
                     jump_var, start, index, dom_gauss, dom_jump, out, w_out, n_out):
    """:func:`_forward_kernel` for Laplace amplitudes (no mark stream is read): the
    arguments of the CUDA kernel ``forward``."""
    _forward_kernel(n, dim, k0, k1, x0, has_x0, t, t_per_row, theta, diffusion, jump_rate,
                    jump_var, start, index, dom_gauss, dom_jump, DOMAIN_FORWARD_MARK,
                    LAW_LAPLACE, 0.0, out, w_out, n_out)


@njit(cache=True, parallel=True, error_model="numpy")
def _path_kernel(n, dim, k0, k1, x0, times, n_times, theta, diffusion, jump_rate, jump_var,
                 start, law, law_param, out):
    """Exact path values ``out`` (n, n_times, dim) at ``times``: the arguments of the CUDA
    kernel ``forward_path``."""
    ustart = np.uint64(start)
    for i in prange(n):
        gi = ustart + np.uint64(i)
        c0 = gi & _MASK32
        c1 = gi >> _SHIFT32
        previous = 0.0
        for j in range(n_times):
            dt = times[j] - previous
            previous = times[j]
            cg = stream_word(DOMAIN_FORWARD_GAUSS, j)
            cj = stream_word(DOMAIN_FORWARD_JUMP, j)
            cm = stream_word(DOMAIN_FORWARD_MARK, j)
            w, _ = jump_mixing(c0, c1, cj, cm, k0, k1, dt, theta, jump_rate, law, law_param)
            scale = math.sqrt(gaussian_variance(theta, diffusion, dt) + jump_var * w)
            decay = math.exp(-theta * dt)
            base = x0[i] if j == 0 else out[i, j - 1]
            gaussian_row(c0, c1, cg, k0, k1, scale, decay, base, True, out[i, j])


@njit(cache=True)
def stationary_mixing(c0, c1, cw, cj, cm, k0, k1, theta, jump_rate, law, param):
    """W_inf of one stationary draw (MATH.md sections 2 and 11).

    Laplace: the exact Gamma(m) variate on the stream ``cw``. Other laws have no finite
    exact sampler of W_inf; W is drawn over the horizon ``2 theta T = 64 log 2`` by
    :func:`jump_mixing` (streams ``cj``, ``cm``), i.e. ``W_T = W_inf - 2**-64 W'_inf`` with
    ``W'_inf`` an independent copy of W_inf (MATH.md section 11): the draw is below W_inf
    by a relative ``2**-64 W'_inf / W_inf``, 5.4e-20 on average, under the float64
    resolution 1.1e-16 unless ``W'_inf > 2**11 W_inf``.
    """
    if law == LAW_LAPLACE:
        return gamma_variate(jump_rate / (2.0 * theta), c0, c1, cw, k0, k1)
    w, _ = jump_mixing(c0, c1, cj, cm, k0, k1, STATIONARY_TWO_THETA_T / (2.0 * theta), theta,
                       jump_rate, law, param)
    return w


@njit(cache=True, parallel=True, error_model="numpy")
def _stationary_kernel(n, dim, k0, k1, theta, diffusion, jump_rate, jump_var, start, index,
                       law, law_param, out, w_out):
    """Stationary draws ``out`` (n, dim) and their W_inf: the arguments of the CUDA kernel
    ``stationary_law``."""
    no_row = np.empty(0, dtype=np.float64)
    s_inf = diffusion / (2.0 * theta)
    cg = stream_word(DOMAIN_STATIONARY, index)
    cw = stream_word(DOMAIN_STATIONARY_GAM, index)
    cj = stream_word(DOMAIN_STATIONARY_JUMP, index)
    cm = stream_word(DOMAIN_STATIONARY_MARK, index)
    ustart = np.uint64(start)
    for i in prange(n):
        gi = ustart + np.uint64(i)
        c0 = gi & _MASK32
        c1 = gi >> _SHIFT32
        w = stationary_mixing(c0, c1, cw, cj, cm, k0, k1, theta, jump_rate, law, law_param)
        scale = math.sqrt(s_inf + jump_var * w)
        gaussian_row(c0, c1, cg, k0, k1, scale, 1.0, no_row, False, out[i])
        w_out[i] = w


def _stationary_laplace(n, dim, k0, k1, theta, diffusion, jump_rate, jump_var, start, index,
                        out, w_out):
    """:func:`_stationary_kernel` for Laplace amplitudes: the arguments of the CUDA kernel
    ``stationary``."""
    _stationary_kernel(n, dim, k0, k1, theta, diffusion, jump_rate, jump_var, start, index,
                       LAW_LAPLACE, 0.0, out, w_out)


# ---------------------------------------------------------------------------
# Python wrappers: primitive parameters, validated by the caller; the asserts
# below only guard the kernel's memory assumptions.
# ---------------------------------------------------------------------------


def _key_words(key):
    k0, k1 = (int(w) for w in key)
    assert 0 <= k0 < 2**32 and 0 <= k1 < 2**32, "key words must be 32-bit"
    return np.uint64(k0), np.uint64(k1)


def _check_counters(start, stream, n):
    assert 0 <= int(stream) <= MAX_STREAM_INDEX, "stream index must fit 24 bits"
    assert 0 <= int(start) and int(start) + int(n) <= 2**64, "sample index must fit 64 bits"


def _elapsed(t, n):
    t = np.asarray(t, dtype=np.float64)
    if t.ndim == 0:
        return t.reshape(1).copy()
    t = np.ascontiguousarray(t)
    assert t.shape == (n,), f"t must be a scalar or have shape ({n},), got {t.shape}"
    return t


def _check_x0(x0):
    assert isinstance(x0, np.ndarray) and x0.dtype == np.float64, "x0: float64 ndarray"
    assert x0.ndim == 2 and x0.flags.c_contiguous, "x0: C-contiguous, shape (n, dim)"
    assert x0.shape[1] >= 1, "x0: dim >= 1"


def _law_args(amplitude):
    """``(code, param)`` of an amplitude law for the kernels; ``None`` is Laplace."""
    if amplitude is None:
        return LAW_LAPLACE, 0.0
    return amplitude.kernel_args()


def expected_jumps(t, theta, jump_rate, amplitude=None):
    """Expected number of loop iterations of :func:`jump_mixing` per sample at elapsed time t.

    O(m) on the Binomial-Gamma route (Laplace amplitudes, integer m); otherwise the jumps whose damping is above the floor
    1e-300: ``jump_rate * min(t, 690 / (2 theta))`` (``jump_rate * t`` for theta <= 0).
    """
    if jump_rate <= 0.0:
        return 0.0
    if theta > 0.0:
        m = jump_rate / (2.0 * theta)
        mi = int(m + 0.5)
        if (_law_args(amplitude)[0] == LAW_LAPLACE and 1 <= mi <= _BINOMIAL_MAX_M
                and abs(m - mi) <= 1e-12 * m):
            return float(mi)
        return jump_rate * min(float(t), 691.0 / (2.0 * theta))
    return jump_rate * float(t)


def check_jump_work(t, theta, jump_rate, name="t", amplitude=None):
    """Raise ``ValueError`` when exact sampling would draw more than ``MAX_EXPECTED_JUMPS``
    jumps per sample (the sampler draws every jump; the cost would be unbounded).

    ``t`` is a scalar or an array of elapsed times; the largest is checked.
    """
    t_max = float(np.max(t)) if np.size(t) else 0.0
    work = expected_jumps(t_max, theta, jump_rate, amplitude)
    if not work <= MAX_EXPECTED_JUMPS:
        laplace = _law_args(amplitude)[0] == LAW_LAPLACE
        raise ValueError(
            f"exact sampling draws every jump, and jump_rate = {jump_rate:g} with theta = "
            f"{theta:g} at {name} = {t_max:g} means {work:.3g} jumps per sample on average "
            f"(at most {MAX_EXPECTED_JUMPS:.0e} are allowed); use a smaller jump_rate or "
            f"{name}" + (f", or an integer m = jump_rate / (2 theta) <= {_BINOMIAL_MAX_M}, "
                         f"which is sampled at O(m) cost" if laplace else ""))


def _run_forward(key, x0, n, dim, theta, diffusion, jump_rate, jump_var, t, start, stream,
                 amplitude=None):
    _check_counters(start, stream, n)
    check_jump_work(t, theta, jump_rate, amplitude=amplitude)
    law, law_param = _law_args(amplitude)
    k0, k1 = _key_words(key)
    t = _elapsed(t, n)
    out = np.empty((n, dim), dtype=np.float64)
    w = np.empty(n, dtype=np.float64)
    counts = np.empty(n, dtype=np.int64)
    _forward_kernel(n, dim, k0, k1, x0, int(x0.shape[0] > 0), t, int(t.shape[0] > 1),
                    float(theta), float(diffusion), float(jump_rate), float(jump_var),
                    int(start), int(stream), DOMAIN_FORWARD_GAUSS, DOMAIN_FORWARD_JUMP,
                    DOMAIN_FORWARD_MARK, law, law_param, out, w, counts)
    return out, w, counts


def forward_increments_w(key, n, dim, theta, diffusion, jump_rate, jump_var, t, *,
                         start=0, stream=0, amplitude=None):
    """Exact increments Y_t with their mixing variable W and jump count N.

    Y_t = X_t - e^{-theta t} X_0 (MATH.md section 1); given W,
    Y_t ~ N(0, (s(t) + jump_var * W) I).

    Parameters
    ----------
    key : (int, int)
        Philox key words, from :func:`levyscore._seeding.philox_key`.
    n, dim : int
        Number of samples and dimension D >= 1.
    theta : float
        OU rate (theta = 0 is handled exactly).
    diffusion : float
        sigma_G**2 >= 0.
    jump_rate : float
        lambda >= 0.
    jump_var : float
        sigma_A**2 = 2 b**2, per-component variance of one jump amplitude.
    t : float or ndarray, shape (n,)
        Elapsed times > 0, one per sample or shared.
    start : int, keyword-only
        Global index of the first row: rows [a, b) computed with ``start=a``
        equal rows a..b-1 of the whole batch, bit for bit.
    stream : int, keyword-only
        Sub-stream index in [0, 2**24) (the interval number of a path).
    amplitude : AmplitudeLaw or None, keyword-only
        Jump amplitude law (:mod:`levyscore.amplitudes`); None is Laplace.

    Returns
    -------
    Y : ndarray, shape (n, dim), float64
    W : ndarray, shape (n,), float64
        Mixing variable (MATH.md section 2); W = 0 when N = 0.
    N : ndarray, shape (n,), int64
        Number of jumps; N == 0 with ``diffusion == 0`` is the atom Y == 0.
    """
    no_x0 = np.empty((0, int(dim)), dtype=np.float64)
    return _run_forward(key, no_x0, int(n), int(dim), theta, diffusion, jump_rate,
                        jump_var, t, start, stream, amplitude)


def forward_increments(key, n, dim, theta, diffusion, jump_rate, jump_var, t, *,
                       start=0, stream=0, amplitude=None):
    """Exact increments Y_t, shape (n, dim); see :func:`forward_increments_w`."""
    return forward_increments_w(key, n, dim, theta, diffusion, jump_rate, jump_var, t,
                                start=start, stream=stream, amplitude=amplitude)[0]


def forward_sample_w(key, x0, t, theta, diffusion, jump_rate, jump_var, *, start=0,
                     stream=0, amplitude=None):
    """Exact X_t = e^{-theta t} x0 + Y_t with W and N (MATH.md section 1).

    Parameters
    ----------
    key : (int, int)
        Philox key words.
    x0 : ndarray, shape (n, dim), float64, C-contiguous
        Initial states.
    t : float or ndarray, shape (n,)
        Elapsed times > 0.
    theta, diffusion, jump_rate, jump_var : float
        As in :func:`forward_increments_w`.
    start, stream, amplitude : keyword-only
        As in :func:`forward_increments_w`; the same (key, start, stream) gives
        the same Y_t as :func:`forward_increments_w`.

    Returns
    -------
    X : ndarray, shape (n, dim), float64
    W : ndarray, shape (n,), float64
    N : ndarray, shape (n,), int64
    """
    _check_x0(x0)
    n, dim = x0.shape
    return _run_forward(key, x0, n, dim, theta, diffusion, jump_rate, jump_var, t,
                        start, stream, amplitude)


def forward_sample(key, x0, t, theta, diffusion, jump_rate, jump_var, *, start=0,
                   stream=0, amplitude=None):
    """Exact X_t, shape (n, dim); see :func:`forward_sample_w`."""
    return forward_sample_w(key, x0, t, theta, diffusion, jump_rate, jump_var,
                            start=start, stream=stream, amplitude=amplitude)[0]


def forward_path(key, x0, times, theta, diffusion, jump_rate, jump_var, *, start=0,
                 amplitude=None):
    """Exact path values on a time grid (MATH.md section 1, last paragraph).

    Interval j (from ``times[j-1]``, or 0, to ``times[j]``) applies the exact
    transition with sub-stream index j, so ``forward_path(...)[:, 0]`` equals
    ``forward_sample(key, x0, times[0], ...)``.

    Parameters
    ----------
    key : (int, int)
        Philox key words.
    x0 : ndarray, shape (n, dim), float64, C-contiguous
        States at time 0.
    times : ndarray, shape (L,)
        Strictly increasing times > 0; L <= 2**24.
    theta, diffusion, jump_rate, jump_var : float
        As in :func:`forward_increments_w`.
    start : int, keyword-only
        Global index of the first row.
    amplitude : AmplitudeLaw or None, keyword-only
        Jump amplitude law; None is Laplace.

    Returns
    -------
    path : ndarray, shape (n, L, dim), float64
        ``path[i, j]`` is X at ``times[j]``.
    """
    _check_x0(x0)
    times = np.ascontiguousarray(times, dtype=np.float64)
    assert times.ndim == 1 and 1 <= times.shape[0] <= MAX_STREAM_INDEX + 1
    assert times[0] > 0.0 and np.all(np.diff(times) > 0.0), "times: increasing, > 0"
    n, dim = x0.shape
    _check_counters(start, 0, n)
    check_jump_work(np.diff(times, prepend=0.0), theta, jump_rate, name="times",
                    amplitude=amplitude)
    k0, k1 = _key_words(key)
    out = np.empty((n, times.shape[0], dim), dtype=np.float64)
    law, law_param = _law_args(amplitude)
    _path_kernel(n, dim, k0, k1, x0, times, times.shape[0], float(theta), float(diffusion),
                 float(jump_rate), float(jump_var), int(start), law, law_param, out)
    return out


def stationary_sample_w(key, n, dim, theta, diffusion, jump_rate, jump_var, *, start=0,
                        stream=0, amplitude=None):
    """Draw from the stationary law, with its mixing variable (MATH.md sections 2, 11).

    X = sqrt(sigma_G**2/(2 theta)) xi + sqrt(2 b**2 W_inf) xi' with
    W_inf ~ Gamma(m, 1), m = lambda/(2 theta) for Laplace amplitudes (exact); drawn as the
    equal-in-law scale mixture X = sqrt(sigma_G**2/(2 theta) + jump_var * W_inf) xi.
    Other amplitude laws have no finite exact sampler of W_inf: W is drawn over the horizon
    2 theta T = 64 log 2 (q(T) = 2**-64), exact up to a relative ``2**-64 W'_inf / W_inf``
    with W'_inf an independent copy (:func:`stationary_mixing`; MATH.md section 11).

    Parameters
    ----------
    key : (int, int)
        Philox key words.
    n, dim : int
        Number of samples and dimension.
    theta : float
        OU rate, > 0 (required for a stationary law).
    diffusion, jump_rate, jump_var : float
        As in :func:`forward_increments_w`.
    start, stream : int, keyword-only
        Global index of the first row; sub-stream index.
    amplitude : AmplitudeLaw or None, keyword-only
        Jump amplitude law; None is Laplace.

    Returns
    -------
    X : ndarray, shape (n, dim), float64
    W_inf : ndarray, shape (n,), float64
        In units of jump_var (Y | W ~ N(0, (s + jump_var W) I)): Gamma(m, 1) draws for
        Laplace (all 0 when jump_rate = 0; may underflow to 0 for very small m).
    """
    assert float(theta) > 0.0, "the stationary law needs theta > 0"
    n, dim = int(n), int(dim)
    _check_counters(start, stream, n)
    law, law_param = _law_args(amplitude)
    if law != LAW_LAPLACE:
        check_jump_work(STATIONARY_TWO_THETA_T / (2.0 * float(theta)), theta, jump_rate,
                        amplitude=amplitude)
    k0, k1 = _key_words(key)
    out = np.empty((n, dim), dtype=np.float64)
    w = np.empty(n, dtype=np.float64)
    _stationary_kernel(n, dim, k0, k1, float(theta), float(diffusion), float(jump_rate),
                       float(jump_var), int(start), int(stream), law, law_param, out, w)
    return out, w


def stationary_sample(key, n, dim, theta, diffusion, jump_rate, jump_var, *, start=0,
                      stream=0, amplitude=None):
    """Stationary draw, shape (n, dim); see :func:`stationary_sample_w`."""
    return stationary_sample_w(key, n, dim, theta, diffusion, jump_rate, jump_var,
                               start=start, stream=stream, amplitude=amplitude)[0]


@njit(cache=True, parallel=True)
def _add_decayed(x0, y, t, theta, out):
    n, dim = y.shape
    scalar_t = t.shape[0] == 1
    for i in prange(n):
        decay = math.exp(-theta * (t[0] if scalar_t else t[i]))
        for d in range(dim):
            out[i, d] = decay * x0[i, d] + y[i, d]


def add_decayed(x0, y, t, theta):
    """``X = exp(-theta t) x0 + Y`` with the arithmetic of :func:`forward_sample`.

    With ``Y`` from :func:`forward_increments_w` and the same key, start and stream, the result
    equals :func:`forward_sample` bit for bit (both evaluate ``decay * x0 + scale * xi``).
    """
    _check_x0(x0)
    out = np.empty_like(y)
    _add_decayed(x0, np.ascontiguousarray(y), _elapsed(t, y.shape[0]), float(theta), out)
    return out


def reverse_noise(key, n, dim, theta, diffusion, jump_rate, jump_var, h, step, *, start=0,
                  growth=True, amplitude=None):
    """Exact noise of one reverse-time step of length h (MATH.md section 6).

    With ``growth=True`` (exponential integrators): the Gaussian part
    N(0, diffusion (e^{2 theta h} - 1)/(2 theta) I) plus Poisson(jump_rate h) jumps
    A_i e^{theta (h - u_i)}, u_i ~ U(0, h) — the forward draw with theta -> -theta, since the
    ages h - u_i are uniform too. With ``growth=False`` (plain Euler-Maruyama): Gaussian
    N(0, diffusion h I) plus undamped jumps (theta -> 0). Pass ``diffusion = eta sigma_G^2``
    and ``jump_rate = eta lambda`` for the SDE family of parameter eta.

    Draws come from the reverse-time streams (``DOMAIN_REVERSE_*``, index = ``step``), so they
    never overlap the forward or stationary streams of the same key. ``amplitude`` is the
    jump amplitude law (None: Laplace).

    Returns
    -------
    ndarray, shape (n, dim)
    """
    _check_counters(start, step, n)
    check_jump_work(h, -float(theta) if growth else 0.0, jump_rate, name="step length h",
                    amplitude=amplitude)
    law, law_param = _law_args(amplitude)
    k0, k1 = _key_words(key)
    out = np.empty((n, dim), dtype=np.float64)
    w = np.empty(n, dtype=np.float64)
    counts = np.empty(n, dtype=np.int64)
    _forward_kernel(n, dim, k0, k1, out, 0, np.array([float(h)]), 0,
                    -float(theta) if growth else 0.0, float(diffusion), float(jump_rate),
                    float(jump_var), int(start), int(step), DOMAIN_REVERSE_GAUSS,
                    DOMAIN_REVERSE_JUMP, DOMAIN_REVERSE_MARK, law, law_param, out, w, counts)
    return out


# ---------------------------------------------------------------------------
# Device paths: the same draws from the CUDA kernels of kernels/forward.cu, on CuPy arrays
# (the caller has picked the backend with levyscore._backend and checked the inputs).
# ---------------------------------------------------------------------------


def device_forward(key, x0, n, dim, dtype, t, theta, diffusion, jump_rate, jump_var, *,
                   start=0, index=0, reverse=False, amplitude=None, with_counts=False):
    """The forward draw on the device (kernel ``forward`` or ``forward_law``): X, or Y when
    ``x0`` is None.

    Same key, counters and streams as :func:`_forward_kernel`, so the device draw reproduces
    the CPU draw up to the libdevice tolerance of the registry. ``reverse=True`` reads the
    reverse-time streams (the noise of reverse step ``index``, as :func:`reverse_noise`).

    Parameters
    ----------
    key : (int, int)
    x0 : cupy.ndarray, shape (n, dim), C-contiguous, storage ``dtype``; or None
    n, dim : int
    dtype : {"f64", "f32"}
        Storage type of the result.
    t : float or cupy.ndarray, float64, shape (n,)
        Clock time shared by every row, or one per row
        (:func:`levyscore._backend.device_times`).
    theta, diffusion, jump_rate, jump_var : float
    start, index : int, keyword-only
    reverse : bool, keyword-only
    amplitude : AmplitudeLaw or None, keyword-only
        Laplace (None) launches ``forward``; any other law ``forward_law`` with its
        ``kernel_args()`` and the mark stream.
    with_counts : bool, keyword-only

    Returns
    -------
    cupy.ndarray, shape (n, dim), storage ``dtype``
        With ``with_counts=True``, also the jump counts N (int64, shape (n,)).
    """
    cp = cupy()
    store = cp.float64 if dtype == "f64" else cp.float32
    out = cp.empty((n, dim), dtype=store)
    w = cp.empty(n, dtype=store)
    counts = cp.empty(n, dtype=cp.int64)
    if n == 0:
        return (out, counts) if with_counts else out
    law, law_param = _law_args(amplitude)
    t_host = float(t.max().get()) if is_cupy_array(t) else float(t)
    check_jump_work(t_host, float(theta), jump_rate, amplitude=amplitude)
    t, t_per_row = time_argument(t)
    values = {"n": n, "dim": dim, "k0": int(key[0]), "k1": int(key[1]),
              "x0": out if x0 is None else x0, "has_x0": int(x0 is not None), "t": t,
              "t_per_row": t_per_row, "theta": float(theta), "diffusion": float(diffusion),
              "jump_rate": float(jump_rate), "jump_var": float(jump_var), "start": int(start),
              "index": int(index),
              "dom_gauss": DOMAIN_REVERSE_GAUSS if reverse else DOMAIN_FORWARD_GAUSS,
              "dom_jump": DOMAIN_REVERSE_JUMP if reverse else DOMAIN_FORWARD_JUMP,
              "out": out, "w_out": w, "n_out": counts}
    if law == LAW_LAPLACE:
        launch("forward", dtype, n, values)
    else:
        launch("forward_law", dtype, n,
               {**values, "dom_mark": DOMAIN_REVERSE_MARK if reverse else DOMAIN_FORWARD_MARK,
                "law": int(law), "law_param": float(law_param)})
    return (out, counts) if with_counts else out


def device_forward_path(key, x0, times, theta, diffusion, jump_rate, jump_var, *, start=0,
                        amplitude=None):
    """Exact path values on a time grid on the device (kernel ``forward_path``).

    Same key, counters and sub-streams as :func:`forward_path`.

    Parameters
    ----------
    key : (int, int)
    x0 : cupy.ndarray, shape (n, dim), float32 or float64, C-contiguous
    times : ndarray, shape (L,), float64
        Strictly increasing clock times > 0 (host; checked by the caller).
    theta, diffusion, jump_rate, jump_var : float
    start : int
    amplitude : AmplitudeLaw or None

    Returns
    -------
    cupy.ndarray, shape (n, L, dim), dtype of ``x0``
        Computed in float64 (the path feeds on its own values) and, for float32 ``x0``,
        rounded once at the end.
    """
    cp = cupy()
    n, dim = x0.shape
    times = np.ascontiguousarray(times, dtype=np.float64)
    out = cp.empty((n, times.shape[0], dim), dtype=cp.float64)
    if n == 0:
        return out.astype(x0.dtype)
    check_jump_work(np.diff(times, prepend=0.0), float(theta), jump_rate, name="times",
                    amplitude=amplitude)
    law, law_param = _law_args(amplitude)
    launch("forward_path", "f64", n,
           {"n": n, "dim": dim, "k0": int(key[0]), "k1": int(key[1]),
            "x0": cp.ascontiguousarray(x0.astype(cp.float64)),
            "times": cp.asarray(times), "n_times": times.shape[0], "theta": float(theta),
            "diffusion": float(diffusion), "jump_rate": float(jump_rate),
            "jump_var": float(jump_var), "start": int(start), "law": int(law),
            "law_param": float(law_param), "out": out})
    return out if x0.dtype == cp.float64 else out.astype(x0.dtype)
