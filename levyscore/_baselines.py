"""Vectorised NumPy baselines for benchmarks (what a careful NumPy user would write).

These functions follow the textbook route of MATH.md section 1 directly (Poisson
jump counts, uniform jump times, Laplace amplitude vectors A = sqrt(2 b**2 z) xi),
not the scale mixture of :mod:`levyscore._forward`, so they are also an
independent check of the law that the Numba kernels sample.
"""
import numpy as np

from ._time import decay_q, one_minus_q

__all__ = ["forward_increments_numpy", "scipy_closed_form_score"]


def forward_increments_numpy(rng, n, dim, theta, diffusion, jump_rate, jump_var, t,
                             amplitude=None):
    """Exact increments Y_t = G_t + J_t by flat jump arrays and ``np.bincount``.

    Parameters
    ----------
    rng : None, int, SeedSequence or numpy.random.Generator
        Passed to ``numpy.random.default_rng`` (a Generator is used as is and
        advanced).
    n, dim : int
        Number of samples and dimension.
    theta, diffusion, jump_rate, jump_var : float
        OU rate, sigma_G**2, lambda, sigma_A**2 (MATH.md section 0).
    t : float or array_like, shape (n,)
        Elapsed times > 0.
    amplitude : AmplitudeLaw or None
        Jump amplitude law (:mod:`levyscore.amplitudes`); None is Laplace. The amplitude
        vectors are drawn by their textbook definitions: a Gaussian vector of variance
        ``jump_var``, or a multivariate t (``xi sqrt(beta / G)``, G ~ Gamma(nu/2)).

    Returns
    -------
    Y : ndarray, shape (n, dim), float64
        G_t ~ N(0, s I) plus sum_i A_i exp(-theta (t - tau_i)) over
        N ~ Poisson(lambda t) jumps at tau_i ~ U(0, t).

    Notes
    -----
    Memory is O(n D + total number of jumps): the flat per-jump arrays are
    the cost that the Numba kernel avoids.
    """
    rng = np.random.default_rng(rng)
    t = np.broadcast_to(np.asarray(t, dtype=np.float64), (n,))
    if theta == 0.0:
        s = diffusion * t
    else:
        s = diffusion * (one_minus_q(theta, t) / (2.0 * theta))
    y = np.sqrt(s)[:, None] * rng.standard_normal((n, dim))
    if jump_rate == 0.0:
        return y
    counts = rng.poisson(jump_rate * t)
    owner = np.repeat(np.arange(n), counts)
    t_owner = t[owner]
    age = t_owner - rng.uniform(0.0, 1.0, owner.size) * t_owner  # t - tau, tau ~ U(0, t)
    # amplitude A = sqrt(M) xi, damped by e^{-theta age}; Laplace: M = jump_var Exp(1)
    name = "laplace" if amplitude is None else amplitude.name
    if name == "laplace":
        mix = jump_var * rng.standard_exponential(owner.size)
    elif name == "gaussian":
        mix = np.full(owner.size, float(jump_var))
    elif name == "student-t":
        mix = amplitude.beta(jump_var) / rng.standard_gamma(0.5 * amplitude.nu, owner.size)
    else:
        raise ValueError(f"amplitude: no NumPy baseline for {amplitude!r}")
    radial = np.sqrt(mix) * np.exp(-theta * age)
    for d in range(dim):
        weights = radial * rng.standard_normal(owner.size)
        y[:, d] += np.bincount(owner, weights=weights, minlength=n)
    return y


def scipy_closed_form_score(y, t, theta, jump_rate, b):
    """Vectorised SciPy generalized score, pure jump, m = 1 (MATH.md section 4).

    ``S = -lambda y / 2 - lambda b q/(1-q) (y/r) K_{D/2}(r/b) / K_{D/2-1}(r/b)``, with the
    Bessel ratio from exponentially scaled ``scipy.special.kve``.
    """
    from scipy.special import kve

    dim = y.shape[-1]
    q = decay_q(theta, t)
    r = np.sqrt(np.einsum("ij,ij->i", y, y))
    rho = r / b
    ratio = kve(dim / 2.0, rho) / kve(dim / 2.0 - 1.0, rho)
    h = 0.5 * jump_rate + jump_rate * b * q / (1.0 - q) * ratio / r
    return -h[:, None] * y
