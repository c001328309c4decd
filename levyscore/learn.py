r"""Learning the generalized score by denoising score matching (MATH.md section 5).

The marginal generalized score minimises :math:`E|s(X_t, t) - S_{cond}|^2` over functions s,
where :math:`X_0` is drawn from the data, :math:`X_t` from the exact forward sampler and
:math:`S_{cond}` is the conditional generalized score at :math:`y = X_t - X_0 e^{-\theta t}`
(the atom rule of section 5 included): the same MSE loss as in the Gaussian case.

* :func:`dsm_batches` streams fresh training triples ``(x_t, t, target)`` as NumPy arrays.
  They work with any framework through DLPack (``torch.from_dlpack(x_t)``,
  ``jax.dlpack.from_dlpack``), so PyTorch or JAX users can train their own networks; see
  ``docs/learning.md``. CuPy input data is accepted (the pairs come back as CuPy arrays).
* :func:`fit_score` trains scikit-learn's ``MLPRegressor`` with ``partial_fit`` (extra
  ``learn``) on such batches and returns a :class:`LearnedScore`, a callable ``score(x, t)``
  that :func:`levyscore.sample_reverse` accepts.

Conventions. Times are drawn log-uniformly on ``[t_min, T]`` (default ``[1e-3, 10]``, the
interval that :func:`levyscore.sample_reverse` integrates over), so that the small times that
shape the tails get as many samples as the near-stationary large ones. The network sees
``x_t / a(t)`` and a scaled ``log t``, with ``a(t)^2 = q s_0^2 + v(t)``, ``s_0`` a robust
(interquartile) scale of the data and ``v(t)`` the per-component variance of
``Y_t`` (MATH.md section 8); it predicts ``S sqrt(v(t)) / (sigma_eq^2 / 2)``, which is O(1)
at every t (for the Gaussian model it is ``-y/sqrt(v)``). This output scaling is the usual
``v(t)``-weighting of the loss.
"""
import math
import sys

import numpy as np

from ._backend import array_module, device_points
from ._process import JumpDiffusion
from ._seeding import philox_key
from ._time import decay_q, total_variance
from ._validation import as_points, as_times, check_count, check_real

__all__ = ["dsm_batches", "fit_score", "LearnedScore"]

# relative slack on the ends of the training interval [t_min, T] of a LearnedScore (times
# computed as t_min * (T / t_min) ** 1 and the like differ from the ends by a few ulps)
_T_RTOL = 1e-12


def _check_positive_int(name, value):
    """Return ``value`` as an int >= 1 (``ValueError`` naming ``name`` otherwise)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    value = int(value)
    if value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value}")
    return value


def _variance(proc, t):
    """Per-component variance v(t) of Y_t in clock time (MATH.md section 8)."""
    return total_variance(proc.theta, proc.diffusion, proc.jump_rate, proc.jump_var,
                          proc.clock(t))


def _robust_scale(data):
    q75, q25 = np.percentile(data, [75, 25])
    scale = (q75 - q25) / 1.349
    return float(scale) if scale > 0 else float(np.std(data)) or 1.0


def _check_times(T, t_min, times):
    """Validate the training interval ``[t_min, T]`` and the law of the training times."""
    T = check_real("T", T, positive=True)
    t_min = check_real("t_min", t_min, positive=True)
    if not t_min < T:
        raise ValueError(f"t_min must be < T, got t_min={t_min}, T={T}")
    if times not in ("log", "uniform"):
        raise ValueError(f"times must be 'log' or 'uniform', got {times!r}")
    return T, t_min


def dsm_batches(proc, data, batch_size, *, T=10.0, t_min=1e-3, rng=None, epochs=1,
                conditional_score=None, times="log"):
    """Stream denoising score-matching triples ``(x_t, t, target)`` (MATH.md section 5).

    Parameters
    ----------
    proc : JumpDiffusion
        Forward process.
    data : array_like, shape (n, D)
        Training data (NumPy, or CuPy: then the triples are CuPy arrays, drawn on the device
        without a copy to the host, except for a process with a noise schedule).
    batch_size : int
        Rows per batch.
    T, t_min : float
        Times are log-uniform on ``[t_min, T]``.
    rng : None, int, SeedSequence or Generator
        Seed: data order, times and forward noise all derive from it.
    epochs : int
        Passes over the data (each with a fresh order, fresh times and fresh noise).
    conditional_score : callable, optional
        ``(y, t) -> S_cond`` used for the targets; by default ``proc.score``. A tabulated score
        can be passed here for the quadrature routes.
    times : {"log", "uniform"}
        Law of the training times on ``[t_min, T]``: log-uniform (default) or uniform (the
        paper's choice, which spends less of the budget on small t).

    Yields
    ------
    x_t : ndarray, shape (b, D)
    t : ndarray, shape (b,)
    target : ndarray, shape (b, D)
    """
    if not isinstance(proc, JumpDiffusion):
        raise ValueError(f"proc must be a levyscore.JumpDiffusion, got {type(proc).__name__}")
    if conditional_score is not None and not callable(conditional_score):
        raise ValueError("conditional_score must be a callable (y, t) -> S_cond, or None")
    xp = array_module(data)
    # CuPy data stays on the device (pairs by the device path of dsm_pairs), except with a
    # noise schedule, whose clock the device times do not support: then on the host
    device = xp is not np and proc.schedule is None
    if device:
        host = device_points(data, proc.dim, "data")
    else:
        host = np.asarray(data.get() if xp is not np else data, dtype=np.float64)
        host = as_points(host, proc.dim, "data")
    if host.ndim != 2:
        raise ValueError(f"data must have shape (n, {proc.dim}), got {host.shape}")
    batch_size = _check_positive_int("batch_size", batch_size)
    epochs = check_count(epochs, "epochs")
    T, t_min = _check_times(T, t_min, times)
    key = philox_key(rng)
    order_rng = np.random.default_rng(np.random.SeedSequence(list(key) + [1]))
    n = host.shape[0]
    counter = 0
    for _ in range(epochs):
        perm = order_rng.permutation(n)
        for a in range(0, n, batch_size):
            rows = perm[a:a + batch_size]
            if device:
                x0 = xp.ascontiguousarray(host[xp.asarray(rows)])
            else:
                x0 = np.ascontiguousarray(host[rows])
            if times == "log":
                t = np.exp(order_rng.uniform(math.log(t_min), math.log(T), size=x0.shape[0]))
            else:
                t = order_rng.uniform(t_min, T, size=x0.shape[0])
            if device:
                t = xp.asarray(t)
            # targets at the exact increments y (not x_t - e^{-theta t} x0, whose rounding
            # would move the atom y = 0 to |y| ~ 1e-16, where S is huge), atom rule included
            x_t, target = proc.dsm_pairs(x0, t, rng=np.random.SeedSequence(list(key)), start=counter,
                                         conditional_score=conditional_score)
            if not bool((xp if device else np).isfinite(target).all()):
                who = "conditional_score" if conditional_score is not None else \
                    "conditional_score (default proc.score)"
                raise ValueError(f"{who} returned NaN or inf (rows {counter} to "
                                 f"{counter + x0.shape[0] - 1} of the stream): the targets must "
                                 "be finite")
            counter += x0.shape[0]
            if xp is np or device:
                yield x_t, t, target
            else:
                yield xp.asarray(x_t), xp.asarray(t), xp.asarray(target)


class LearnedScore:
    """A trained score model: ``score(x, t) -> array like x`` (generalized score S = grad V/p).

    Attributes
    ----------
    model : sklearn.neural_network.MLPRegressor
    process : JumpDiffusion
    data_scale : float
        Robust per-component scale of the training data.
    t_min, T : float
        Interval of training times; the model is meant for ``t`` in it.
    loss_history : list of float
        Mean training loss (scaled units) per epoch.
    """

    def __init__(self, model, process, data_scale, t_min, T):
        self.model = model
        self.process = process
        self.data_scale = data_scale
        self.t_min = t_min
        self.T = T
        self.loss_history = []

    def _features(self, x, t):
        p = self.process
        v = _variance(p, t)
        q = decay_q(p.theta, p.clock(t))
        a = np.sqrt(q * self.data_scale ** 2 + v)
        lo, hi = math.log(self.t_min), math.log(self.T)
        tau = (2.0 * np.log(t) - lo - hi) / (hi - lo)
        a = np.broadcast_to(a, x.shape[:1])
        tau = np.broadcast_to(tau, x.shape[:1])
        return np.column_stack([x / a[:, None], tau]), v

    def _out_scale(self, v):
        p = self.process
        return 0.5 * (p.diffusion + p.jump_rate * p.jump_var) / np.sqrt(v)

    def __call__(self, x, t):
        """Score at points ``x`` (n, D) and time ``t`` (scalar or shape (n,)).

        Parameters
        ----------
        x : array_like, shape (n, D)
            Finite points (state units).
        t : float or array_like, shape (n,)
            Process times in the training interval ``[t_min, T]`` of the model (outside it the
            network would extrapolate in its time feature).

        Returns
        -------
        ndarray, shape (n, D)

        Raises
        ------
        ValueError
            If x is not a finite (n, D) array, or t is not finite, not > 0, does not broadcast
            to (n,) or lies outside ``[t_min, T]``.
        """
        x = as_points(x, self.process.dim, "x")
        if x.ndim != 2:
            raise ValueError(f"x must have shape (n, {self.process.dim}), got shape {x.shape}")
        if np.ndim(t) > 1 or (np.ndim(t) == 1 and np.shape(t)[0] not in (1, x.shape[0])):
            raise ValueError(f"t must be a scalar or of shape ({x.shape[0]},) (one time per row "
                             f"of x), got shape {np.shape(t)}")
        t = np.array(as_times(t, x.shape[:1], "t") if np.ndim(t) else as_times(t, (), "t"))
        lo, hi = self.t_min * (1.0 - _T_RTOL), self.T * (1.0 + _T_RTOL)
        if np.any((t < lo) | (t > hi)):
            bad = float(t[(t < lo) | (t > hi)].flat[0])
            raise ValueError(f"t must lie in the training interval [t_min, T] = "
                             f"[{self.t_min!r}, {self.T!r}] of the model, got {bad!r}")
        if x.shape[0] == 0:
            return np.empty_like(x)
        feats, v = self._features(x, t)
        pred = self.model.predict(feats).reshape(x.shape)
        return pred * np.broadcast_to(self._out_scale(v), x.shape[:1])[:, None]


def fit_score(proc, data, *, epochs=20, batch_size=512, hidden=(128, 128), T=10.0, t_min=1e-3,
              learning_rate=1e-3, rng=None, progress=True, conditional_score=None,
              activation="relu", times="log"):
    """Train an MLP on (x, t) -> generalized score with the MSE loss of MATH.md section 5.

    Parameters
    ----------
    proc : JumpDiffusion
        Forward process.
    data : array_like, shape (n, D)
        Training data.
    epochs, batch_size : int
        Passes over the data and rows per ``partial_fit`` step, each ``>= 1``; every batch
        draws fresh times and forward noise (streamed pairs).
    hidden : tuple of int
        Hidden layer widths of the MLP (Adam): at least one layer, each ``>= 1``.
    T, t_min : float
        Training times are log-uniform on ``[t_min, T]``; sample with the same interval.
    learning_rate : float
        Adam step size.
    rng : None, int, SeedSequence or Generator
        Seed of the pairs and of the network initialisation.
    progress : bool
        Print one line per epoch (loss) on standard error.
    conditional_score : callable, optional
        ``(y, t) -> S_cond``; see :func:`dsm_batches` (e.g. a tabulated score).
    times : {"log", "uniform"}
        Law of the training times (see :func:`dsm_batches`).
    activation : {"relu", "tanh"}
        Hidden-layer nonlinearity. A ReLU network extrapolates linearly in x, a tanh network
        saturates; on heavy-tailed data, whose score decays in the tails, tanh fits the tails
        far better (``docs/results.md``).

    Returns
    -------
    LearnedScore

    Raises
    ------
    ValueError
        For an argument outside its domain (the message names it), e.g. ``epochs < 1``.
    """
    try:
        from sklearn.neural_network import MLPRegressor
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError("fit_score needs scikit-learn: pip install 'levyscore[learn]'") from exc
    if not isinstance(proc, JumpDiffusion):
        raise ValueError(f"proc must be a levyscore.JumpDiffusion, got {type(proc).__name__}")
    data = as_points(np.asarray(data), proc.dim, "data")
    if data.ndim != 2 or data.shape[0] < 1:
        raise ValueError(f"data must have shape (n, {proc.dim}) with n >= 1, got {data.shape}")
    epochs = _check_positive_int("epochs", epochs)
    batch_size = _check_positive_int("batch_size", batch_size)
    if isinstance(hidden, (str, bytes)) or not hasattr(hidden, "__iter__"):
        raise ValueError(f"hidden must be a sequence of layer widths (integers >= 1), got {hidden!r}")
    hidden = tuple(_check_positive_int("hidden", h) for h in hidden)
    if not hidden:
        raise ValueError("hidden must hold at least one layer width (integers >= 1), got ()")
    learning_rate = check_real("learning_rate", learning_rate, positive=True)
    T, t_min = _check_times(T, t_min, times)
    if activation not in ("relu", "tanh"):
        raise ValueError(f"activation must be 'relu' or 'tanh', got {activation!r}")
    key = philox_key(rng)
    model = MLPRegressor(hidden_layer_sizes=hidden, activation=activation, solver="adam",
                         learning_rate_init=learning_rate, random_state=int(key[0]))
    scale = _robust_scale(data)
    learned = LearnedScore(model, proc, scale, t_min, T)
    n_batches = math.ceil(data.shape[0] / batch_size)
    batches = dsm_batches(proc, data, batch_size, T=T, t_min=t_min, rng=np.random.SeedSequence(list(key)),
                          epochs=epochs, conditional_score=conditional_score, times=times)
    for epoch in range(epochs):
        total = 0.0
        for _ in range(n_batches):
            x_t, t, target = next(batches)
            feats, v = learned._features(x_t, t)
            y = target / learned._out_scale(v)[:, None]
            model.partial_fit(feats, y)
            total += model.loss_
        learned.loss_history.append(total / n_batches)
        if progress:
            sys.stderr.write(f"epoch {epoch + 1}/{epochs}: loss {learned.loss_history[-1]:.4f}\n")
    return learned
