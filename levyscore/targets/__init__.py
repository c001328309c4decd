r"""Oracle targets: data laws whose marginal generalized score is known exactly (MATH.md §9).

A *target* is a data law :math:`p_0`. Run through a forward process
(:class:`levyscore.JumpDiffusion`, MATH.md section 1) it becomes the marginal
:math:`p_t = \text{law of } e^{-\theta t} X_0 + Y_t`, whose generalized score
:math:`S = \nabla V / p_t` (MATH.md section 3; ``d_t p = div(theta x p + p S)``) is what a
score network learns. For the targets of this module that score is available without
learning, so samplers can be tested with no learning error:

* :class:`StationaryTarget`: the stationary law of a process; ``p_t = p_0`` for every t.
* :class:`BesselTarget`: the Bessel potential :math:`g_j^{(b)}` (``j = 1``: the isotropic
  Laplace law); under a pure-jump process with integer ``m >= j`` the marginal is a finite
  Bessel mixture (closed form, MATH.md sections 4 and 9).
* :class:`GaussianMixture`: :math:`\sum_k \pi_k N(\mu_k, v_k I)`; under any process each
  component is the transition law with an extra Gaussian variance :math:`v_k q` centred at
  :math:`\mu_k e^{-\theta t}`, computed by the W-mixture quadrature of
  :mod:`levyscore._mixture`.

Common interface
----------------
Every target has ``dim``, ``sample(n, rng=None, *, start=0)`` (exact, counter-based,
reproducible from ``rng``; rows ``[a, b)`` drawn with ``start=a`` equal rows ``a..b-1`` of the
whole batch for an int or ``SeedSequence`` seed), and

* ``marginal_score(proc)`` -> callable ``score(x, t)``;
* ``marginal_logpdf(proc)`` -> callable ``logpdf(x, t)``.

The callables take ``x`` of shape ``(..., D)`` (state units) and a scalar *process* time
``t > 0``; they evaluate the laws at the clock time ``proc.clock(t)`` (MATH.md section 7).
``score`` returns an array shaped like ``x``; ``logpdf`` returns shape ``x.shape[:-1]``. The
score is the generalized score ``S = grad V / p`` of MATH.md section 3 (levyscore's
convention): without jumps it is ``(sigma_G^2 / 2) grad log p``, not ``grad log p``.

Layout
------
One module per target, holding the class and its Numba kernels: :mod:`.stationary`,
:mod:`.bessel`, :mod:`.mixture`; helpers they share (clock time, flat points, parameter
comparison) are in :mod:`._common`, input validators in :mod:`levyscore._validation`.
:class:`SubGaussianStable` (heavy-tailed benchmark data) lives in :mod:`levyscore._stable`
and is re-exported here.
"""
from .._stable import SubGaussianStable  # heavy-tailed benchmark data, MATH.md §9
from .bessel import BesselTarget, bessel_marginal_log_weights  # noqa: F401
from .mixture import DOMAIN_TARGET_MIXTURE, GaussianMixture  # noqa: F401
from .stationary import StationaryTarget

__all__ = ["StationaryTarget", "BesselTarget", "GaussianMixture", "SubGaussianStable"]
