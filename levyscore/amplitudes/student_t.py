r"""Student-t amplitudes: :math:`M = \beta / \mathrm{Gamma}(\nu/2)`, :math:`\beta = \sigma_A^2(\nu-2)/2`.

Each coordinate of A is :math:`t_\nu` with scale :math:`\sqrt{2\beta/\nu}` (variance
:math:`\sigma_A^2`), and :math:`|A|` has a power-law tail, density
:math:`\sim |a|^{-\nu-D}`: the finite-activity counterpart of the alpha-stable noise of
DLPM and LIM (MATH.md section 11). Requires :math:`\nu > 2` (finite variance).
"""
import math

import numba as nb
import numpy as np
from scipy import special

from .._philox import marsaglia_tsang_cube, philox4x32_10, uniform_from_words
from .._ziggurat import ZIG_NONE, ziggurat_fast, ziggurat_slow
from .._validation import check_real
from ._base import AmplitudeLaw

__all__ = ["StudentT", "student_t_mark", "MARK_BLOCKS"]

#: Philox blocks reserved per pair of jumps on the mark stream (see :func:`student_t_mark`):
#: each jump has MARK_BLOCKS/2 - 1 = 2047 blocks for what its first attempt does not cover
#: (a normal finished by the ziggurat's slow path, retries of the Gamma sampler). Every block
#: read ends the mark with probability above 0.9 (the ziggurat's tail or wedge test, or an
#: attempt that accepts with probability > 0.95 for shape nu/2 > 1), so the region is never
#: exhausted in practice (probability < 1e-2000).
MARK_BLOCKS = 4096


@nb.njit(cache=True)
def student_t_mark(nu, u_mark, c0, c1, cm, j, k0, k1, spare):
    """``M / sigma_A^2 = ((nu - 2)/2) / G``, G ~ Gamma(nu/2), for jump j of a sample.

    G by Marsaglia & Tsang (2000) (shape nu/2 > 1, so no boost;
    :func:`levyscore._philox.marsaglia_tsang_cube`), whose normals are ziggurat variates
    (:mod:`levyscore._ziggurat`). Jumps 2p and 2p + 1 share block
    ``base = (p mod 2**20) * MARK_BLOCKS`` of the mark stream ``cm``: its words 0, 1 are the
    ziggurat candidate of jump 2p's first attempt and words 2, 3 that of jump 2p + 1. Jump 2p
    evaluates both; jump 2p + 1's normal travels in ``spare``, or :data:`ZIG_NONE` when its
    candidate needs the slow path, which jump 2p + 1 then runs itself. The first attempt's
    acceptance uniform is the jump's own ``u_mark``. Everything else jump j reads (the
    ziggurat's slow path, then each retry: a candidate in words 0, 1 and the acceptance
    uniform in words 2, 3 of one block) comes in order from its own blocks
    ``base + 1 + (j mod 2) MARK_BLOCKS/2, ...``, so each jump has its own counters and the
    block index fits the 32-bit counter word (a sample draws far fewer than 2**21 jumps:
    ``levyscore._forward.MAX_EXPECTED_JUMPS`` = 1e6 caps their mean).

    Returns
    -------
    mark : float
    spare : float
        Jump j + 1's first normal, or ``ZIG_NONE`` (``spare`` unchanged for odd j).
    """
    a = 0.5 * nu
    d = a - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    jj = np.uint64(j)
    odd = jj & np.uint64(1)
    base = ((jj >> np.uint64(1)) & np.uint64(0xFFFFF)) * np.uint64(MARK_BLOCKS)
    block = base + np.uint64(1) + odd * np.uint64(MARK_BLOCKS // 2)
    if odd == np.uint64(0):
        w0, w1, w2, w3 = philox4x32_10(c0, c1, cm, base, k0, k1)
        x = ziggurat_fast(w0, w1)
        if x == ZIG_NONE:
            x, block = ziggurat_slow(w0, w1, c0, c1, cm, block, k0, k1)
        spare = ziggurat_fast(w2, w3)
    else:
        x = spare
        if x == ZIG_NONE:
            w0, w1, w2, w3 = philox4x32_10(c0, c1, cm, base, k0, k1)
            x, block = ziggurat_slow(w2, w3, c0, c1, cm, block, k0, k1)
    u = u_mark
    while True:
        v = marsaglia_tsang_cube(x, u, c, d)
        if v > 0.0:
            break
        w0, w1, w2, w3 = philox4x32_10(c0, c1, cm, block, k0, k1)
        block += np.uint64(1)
        u = uniform_from_words(w2, w3)
        x = ziggurat_fast(w0, w1)
        if x == ZIG_NONE:
            x, block = ziggurat_slow(w0, w1, c0, c1, cm, block, k0, k1)
    return (a - 1.0) / (d * v), spare


class StudentT(AmplitudeLaw):
    r"""Multivariate Student-t jump amplitudes with ``nu > 2`` degrees of freedom.

    :math:`A = \sqrt{M}\,\xi` with :math:`M = \beta/G`, :math:`G \sim \mathrm{Gamma}(\nu/2)`,
    :math:`\beta = \sigma_A^2(\nu-2)/2`, so that each coordinate has variance
    :math:`\sigma_A^2` whatever nu is and ``JumpDiffusion.equivalent_gaussian()`` is unchanged.

    Parameters
    ----------
    nu : float, default 5
        Degrees of freedom, ``> 2`` (finite variance). Tails of |A| decay like
        :math:`|a|^{-\nu-D}`.

    Examples
    --------
    >>> import levyscore
    >>> levyscore.JumpDiffusion(2, amplitude=levyscore.amplitudes.StudentT(3)).amplitude
    StudentT(nu=3.0)
    """

    name = "student-t"
    code = 2

    def __init__(self, nu=5.0):
        nu = check_real("nu", nu)
        if not nu > 2.0:
            raise ValueError(f"nu must be > 2 (finite amplitude variance), got {nu!r}")
        self._nu = nu

    @property
    def nu(self):
        """Degrees of freedom."""
        return self._nu

    @property
    def param(self):
        return self._nu

    def cache_key(self):
        return (self.name, self._nu)

    def beta(self, jump_var):
        """Scale ``beta = sigma_A^2 (nu - 2) / 2`` of the inverse-Gamma mixing variable."""
        return jump_var * (self._nu - 2.0) / 2.0

    def laplace_m(self, u, jump_var):
        u = np.asarray(u, dtype=np.float64)
        a = 0.5 * self._nu
        bu = self.beta(jump_var) * u
        z = 2.0 * np.sqrt(bu)
        with np.errstate(divide="ignore", invalid="ignore"):
            log = (math.log(2.0) + 0.5 * a * np.log(bu) + np.log(special.kve(a, z)) - z
                   - special.gammaln(a))
        return np.where(u == 0.0, 1.0, np.exp(log))

    def one_minus_laplace_m(self, u, jump_var):
        """``E[1 - exp(-u beta / G)]``; below ``sigma_A^2 u = 1e-3`` by quadrature over G
        (the Bessel form would lose ``1/(sigma_A^2 u)`` of its digits to cancellation).

        The quadrature is the trapezoidal rule in ``y = log g`` with step 0.05 over
        ``[log(beta u) - 50/a, log 200]``, a = nu/2: the integrand is analytic in the strip
        ``|Im y| < pi/2``, so the rule's error is ~exp(-pi^2/0.05), and the truncated tails
        are below e^-50 relative.
        """
        u = np.asarray(u, dtype=np.float64)
        out = np.array(1.0 - self.laplace_m(u, jump_var), dtype=np.float64)
        flat = out.reshape(-1)
        uf = u.reshape(-1)
        small = np.flatnonzero(jump_var * uf < 1e-3)
        if small.size:
            a = 0.5 * self._nu
            beta = self.beta(jump_var)
            lga = math.lgamma(a)
            for i in small:
                bu = beta * float(uf[i])
                if bu == 0.0:
                    flat[i] = 0.0
                    continue
                y = np.arange(math.log(bu) - 50.0 / a, math.log(200.0), 0.05)
                f = -np.expm1(-bu * np.exp(-y)) * np.exp(a * y - np.exp(y) - lga)
                flat[i] = 0.05 * f.sum()
        return flat.reshape(u.shape)

    def __repr__(self):
        return f"StudentT(nu={self._nu!r})"
