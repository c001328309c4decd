"""Stationary target: the stationary law of a process as data (MATH.md section 9).

Started in its stationary law the process stays there, so the marginal score is the
stationary law's score at every t (:meth:`levyscore.TransitionLaw.score` at ``t = inf``).
"""
from .._process import JumpDiffusion
from .._validation import as_points, check_process
from .._dask import chunked_sample, rowwise
from ._common import _clock_time, _close

__all__ = ["StationaryTarget"]


class StationaryTarget:
    """The stationary law of a process as data (MATH.md section 9, first item).

    Started in its stationary law the process stays there: ``p_t = p_0`` for every t, so the
    marginal score is the stationary law's score, independent of t.

    Parameters
    ----------
    proc : JumpDiffusion
        The process whose stationary law (MATH.md section 2) is the data.

    Notes
    -----
    :meth:`marginal_score` accepts any process with the *same stationary law*: equal ``dim``,
    ``m = lambda / (2 theta)``, ``sigma_G^2 / (2 theta)`` and ``b`` (to a relative 1e-12).
    The score itself depends on the process passed (``S = grad V / p`` with V built from that
    process's noise, MATH.md section 3), not only on the law.
    """

    def __init__(self, proc):
        if not isinstance(proc, JumpDiffusion):
            raise ValueError(f"proc must be a levyscore.JumpDiffusion, got {type(proc).__name__}")
        self._proc = proc

    @property
    def dim(self):
        """Dimension D."""
        return self._proc.dim

    @property
    def process(self):
        """The process whose stationary law is the data."""
        return self._proc

    def _check(self, proc):
        check_process(proc, self.dim)
        mine, theirs = self._proc, proc
        pairs = [("m = jump_rate / (2 theta)", mine.m, theirs.m),
                 ("diffusion / (2 theta)", mine.diffusion / (2 * mine.theta),
                  theirs.diffusion / (2 * theirs.theta)),
                 ("b = sqrt(jump_var / 2)", mine.b if mine.jump_rate > 0 else 0.0,
                  theirs.b if theirs.jump_rate > 0 else 0.0)]
        for name, a, b in pairs:
            if not _close(a, b):
                raise ValueError(f"proc has a different stationary law than the target: {name} is "
                                 f"{b!r} for proc but {a!r} for the target's process")
        if mine.jump_rate > 0 and theirs.jump_rate > 0 and mine.amplitude != theirs.amplitude:
            raise ValueError(f"proc has a different stationary law than the target: its jump "
                             f"amplitude law is {theirs.amplitude!r}, the target's process has "
                             f"{mine.amplitude!r}")
        return proc

    @chunked_sample
    def sample(self, n, rng=None, *, start=0):
        """Exact draws from the stationary law (``proc.stationary().sample``).

        Parameters
        ----------
        n : int
            Number of draws, ``>= 0``.
        rng : None, int, numpy.random.SeedSequence or numpy.random.Generator
            Seed (see :func:`levyscore._seeding.philox_key`).
        start : int, optional
            Global index of the first row.

        Returns
        -------
        ndarray, shape (n, D)
        """
        return self._proc.stationary().sample(n, rng=rng, start=start)

    def radial_cdf(self, r):
        """``P(|X_0| <= r)`` for radii ``r`` (any shape, ``>= 0``); same shape as ``r``."""
        return self._proc.stationary().radial_cdf(r)

    def marginal_radial_cdf(self, proc, t, r):
        """``P(|X_t| <= r)`` under ``proc``: the stationary radial CDF for every ``t > 0``."""
        self._check(proc)
        _clock_time(proc, t)
        return proc.stationary().radial_cdf(r)

    def marginal_score(self, proc):
        """The marginal generalized score: ``proc.stationary().score(x)`` at every t.

        Parameters
        ----------
        proc : JumpDiffusion
            Forward process with the same stationary law (see the class notes).

        Returns
        -------
        callable
            ``score(x, t)``: x of shape (..., D), scalar t > 0; returns shape of x.

        Raises
        ------
        ValueError
            If ``proc`` has another dimension or another stationary law.
        """
        law = self._check(proc).stationary()
        dim = self.dim

        def score(x, t):
            _clock_time(proc, t)
            return law.score(as_points(x, dim, "x"))

        return rowwise(score)

    def marginal_logpdf(self, proc):
        """Callable ``logpdf(x, t)`` of the marginal (the stationary log density), shape x.shape[:-1]."""
        law = self._check(proc).stationary()
        dim = self.dim

        def logpdf(x, t):
            _clock_time(proc, t)
            return law.logpdf(as_points(x, dim, "x"))

        return logpdf

    def __repr__(self):
        return f"StationaryTarget({self._proc!r})"
