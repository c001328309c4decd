"""Dask arrays in, lazy Dask arrays out: bit for bit the in-memory results, for any chunking.

Every public function with a Dask path is called three ways on the same data and seed: in
memory, and on Dask arrays in at least three row chunkings (one chunk; even chunks; ragged
chunks with a one-row chunk). Results must be *equal* (``assert_array_equal``), not close:
each block is the in-memory call on its rows with ``start`` moved to the block's first global
row, and every sampler draws row i from the counters (key, start + i). Schedulers: the
threaded default everywhere, a process pool, and a ``distributed`` LocalCluster of two
worker processes (module fixture; small arrays keep it to a few seconds).
"""
import numpy as np
import pytest

import levyscore
from levyscore import metrics, targets

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")

N = 240
CHUNKINGS = [N, 60, (1, 100, 39, 100)]  # one chunk, even, ragged (with a one-row chunk)


def chunked(a, rows):
    return da.from_array(np.asarray(a), chunks=(rows,) + np.shape(a)[1:])


def equal(got, want):
    assert isinstance(got, da.Array), type(got)
    np.testing.assert_array_equal(got.compute(), want)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    x0 = rng.normal(0.0, 2.0, (N, 2))
    t = np.exp(rng.uniform(-2.0, 1.0, N))
    return x0, t


PURE_JUMP = levyscore.JumpDiffusion(2, diffusion=0.0, jump_rate=1.0)  # closed form
JUMP_DIFFUSION = levyscore.JumpDiffusion(2)  # quadrature (route "mixture")
MIXTURE = targets.GaussianMixture([0.3, 0.7], [[0.0, 0.0], [3.0, 0.0]], [0.5, 0.2])
BESSEL = targets.BesselTarget(1, PURE_JUMP.b, 2)


@pytest.mark.parametrize("rows", CHUNKINGS)
def test_forward_sampling_is_chunk_invariant(data, rows):
    x0, t = data
    proc = JUMP_DIFFUSION
    equal(proc.sample(chunked(x0, rows), chunked(t, 50), rng=5, start=3),
          proc.sample(x0, t, rng=5, start=3))
    equal(proc.sample(chunked(x0, rows), 0.4, rng=5), proc.sample(x0, 0.4, rng=5))
    times = [0.1, 0.5, 2.0]
    equal(proc.sample_path(chunked(x0, rows), times, rng=2, start=7),
          proc.sample_path(x0, times, rng=2, start=7))
    x_t, target = PURE_JUMP.dsm_pairs(chunked(x0, rows), chunked(t, rows), rng=1)
    want_x, want_target = PURE_JUMP.dsm_pairs(x0, t, rng=1)
    equal(x_t, want_x)
    equal(target, want_target)


@pytest.mark.parametrize("rows", CHUNKINGS)
def test_law_and_target_sampling_with_chunks(rows):
    for law in (PURE_JUMP.stationary(), JUMP_DIFFUSION.transition(0.3)):
        equal(law.sample(N, rng=3, start=2, chunks=rows), law.sample(N, rng=3, start=2))
    for target in (MIXTURE,
                   targets.SubGaussianStable(1.5, dim=2), BESSEL,
                   targets.StationaryTarget(PURE_JUMP)):
        equal(target.sample(N, rng=4, chunks=rows), target.sample(N, rng=4))
    gen = np.random.default_rng(11)  # a Generator is advanced once, by the whole call
    got = PURE_JUMP.stationary().sample(N, rng=gen, chunks=rows)
    np.testing.assert_array_equal(got.compute(), PURE_JUMP.stationary().sample(
        N, rng=np.random.default_rng(11)))


@pytest.mark.parametrize("rows", CHUNKINGS)
def test_scores_and_densities_are_chunk_invariant(data, rows):
    x0, t = data
    y = x0.reshape(4, N // 4, 2)
    yd = da.from_array(y, chunks=(2, rows if isinstance(rows, int) else 17, 1))  # D split too
    for law in (PURE_JUMP.transition(0.5), JUMP_DIFFUSION.stationary()):
        equal(law.score(yd), law.score(y))
        equal(law.logpdf(yd), law.logpdf(y))
        equal(law.pdf(yd), law.pdf(y))
    equal(PURE_JUMP.score(chunked(x0, rows), chunked(t, rows)), PURE_JUMP.score(x0, t))
    equal(PURE_JUMP.score(yd, 0.7), PURE_JUMP.score(y, 0.7))
    equal(PURE_JUMP.score(chunked(x0, rows), t), PURE_JUMP.score(x0, t))  # NumPy t joins
    for target in (MIXTURE,
                   targets.StationaryTarget(PURE_JUMP), BESSEL):
        score = target.marginal_score(PURE_JUMP)
        equal(score(chunked(x0, rows), 0.6), score(x0, 0.6))


@pytest.mark.parametrize("rows", CHUNKINGS)
def test_reverse_sampling_is_chunk_invariant(rows):
    proc = PURE_JUMP
    x_T = proc.stationary().sample(N, rng=4)
    for eta, solver in ((0.0, "exp-heun"), (1.0, "exp-euler")):
        kw = dict(steps=4, rng=9, eta=eta, solver=solver, start=5)
        equal(levyscore.sample_reverse(proc, proc.score, N, x_T=chunked(x_T, rows), **kw),
              levyscore.sample_reverse(proc, proc.score, N, x_T=x_T, **kw))


def every_call(x0, t, rows):
    """(lazy Dask result, in-memory result) of every function with a Dask path, on rows
    chunked as ``rows`` (shared by the scheduler tests below)."""
    xd, td = chunked(x0, rows), chunked(t, rows)
    law = PURE_JUMP.transition(0.5)
    pairs = [
        (JUMP_DIFFUSION.sample(xd, td, rng=6, start=2), JUMP_DIFFUSION.sample(x0, t, rng=6,
                                                                            start=2)),
        (PURE_JUMP.sample_path(xd, [0.2, 1.0], rng=2), PURE_JUMP.sample_path(x0, [0.2, 1.0],
                                                                             rng=2)),
        (PURE_JUMP.score(xd, td), PURE_JUMP.score(x0, t)),
        (law.score(xd), law.score(x0)),
        (law.logpdf(xd), law.logpdf(x0)),
        (law.pdf(xd), law.pdf(x0)),
        (MIXTURE.marginal_score(PURE_JUMP)(xd, 0.6), MIXTURE.marginal_score(PURE_JUMP)(x0, 0.6)),
        (PURE_JUMP.stationary().sample(N, rng=3, chunks=rows),
         PURE_JUMP.stationary().sample(N, rng=3)),
        (MIXTURE.sample(N, rng=4, chunks=rows), MIXTURE.sample(N, rng=4)),
        (levyscore.sample_reverse(PURE_JUMP, PURE_JUMP.score, N, steps=3, eta=1.0, x_T=xd,
                                  rng=2),
         levyscore.sample_reverse(PURE_JUMP, PURE_JUMP.score, N, steps=3, eta=1.0, x_T=x0,
                                  rng=2)),
    ]
    lazy_pairs, want_pairs = PURE_JUMP.dsm_pairs(xd, td, rng=1), PURE_JUMP.dsm_pairs(x0, t,
                                                                                     rng=1)
    pairs += list(zip(lazy_pairs, want_pairs))
    return pairs


def tail_case(x0):
    data = np.abs(x0[::-1]) + 0.1
    return (lambda: metrics.tail_msle(np.abs(chunked(x0, 50)) + 0.1, data, method="levels"),
            metrics.tail_msle(np.abs(x0) + 0.1, data, method="levels"))


def test_process_pool_scheduler(data):
    x0, t = data
    pairs = every_call(x0, t, (30, 170, 40))
    tail, want_tail = tail_case(x0)
    with dask.config.set(scheduler="processes", num_workers=2):
        got = dask.compute(*[lazy for lazy, _ in pairs])
        assert tail() == want_tail
    for value, (_, want) in zip(got, pairs):
        np.testing.assert_array_equal(value, want)


def test_local_cluster_of_two_worker_processes(data):
    distributed = pytest.importorskip("distributed")
    x0, t = data
    pairs = every_call(x0, t, (1, 100, 139))
    tail, want_tail = tail_case(x0)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        got = client.compute([lazy for lazy, _ in pairs], sync=True)
        assert tail() == want_tail  # its reductions run on the client's cluster
    for value, (_, want) in zip(got, pairs):
        np.testing.assert_array_equal(value, want)


def test_dask_errors():
    y = da.zeros((10, 2), chunks=5)
    law = PURE_JUMP.transition(1.0)
    with pytest.raises(ValueError, match="no Dask path"):
        law.radial_cdf(da.ones(4, chunks=2))
    with pytest.raises(ValueError, match="shape"):
        PURE_JUMP.sample(da.zeros((10, 3), chunks=5), 1.0, rng=0)
    with pytest.raises(ValueError, match="broadcast"):
        PURE_JUMP.score(y, da.ones(7, chunks=7))
    with pytest.raises(ValueError, match="x_T"):
        levyscore.sample_reverse(PURE_JUMP, PURE_JUMP.score, 9, steps=2, x_T=y, rng=0)
    with pytest.raises(ValueError, match="progress"):
        levyscore.sample_reverse(PURE_JUMP, PURE_JUMP.score, 10, steps=2, x_T=y, rng=0,
                                 progress=True)
    with pytest.raises(ValueError, match="solver"):  # options are checked eagerly
        levyscore.sample_reverse(PURE_JUMP, PURE_JUMP.score, 10, steps=2, x_T=y, rng=0,
                                 solver="nope")
    bad = PURE_JUMP.sample(da.from_array(np.full((4, 2), np.nan), chunks=2), 1.0, rng=0)
    with pytest.raises(ValueError, match="finite"):  # block errors surface on compute
        bad.compute()


def test_resolved_key_passes_through_and_pickles():
    import pickle

    from levyscore._seeding import Key, philox_key

    key = Key(*philox_key(7))
    assert philox_key(key) == tuple(key) == philox_key(7)
    back = pickle.loads(pickle.dumps(key))
    assert type(back) is Key and back == key
    for words in ((-1, 0), (0, 2**32)):
        with pytest.raises(ValueError, match="key words"):
            Key(*words)


# -- metrics on Dask arrays -----------------------------------------------------------------
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402



@settings(max_examples=40)
@given(n=st.integers(1, 400), seed=st.integers(0, 2**32 - 1), ties=st.booleans())
def test_linear_quantiles_from_the_top_equal_numpy_quantile(n, seed, ties):
    """The Dask tail metric's quantiles, from the largest values only, are NumPy's bits."""
    rng = np.random.default_rng(seed)
    x = rng.standard_t(3.0, (n, 2))
    if ties:
        x = np.round(x, 1)
    levels = np.asarray(metrics.TAIL_LEVELS + (0.5, 1.0))
    want = np.quantile(x, levels, axis=0)
    k = n - int(np.floor((n - 1) * levels.min()))
    got = metrics._linear_quantiles(np.sort(x, axis=0)[n - k:], n, levels)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("method", ["paper", "levels"])
def test_tail_msle_on_dask_is_exact(method):
    """Exact order statistics by blocked partitions: the in-memory value, bit for bit, for
    any chunking and for mixed Dask / in-memory operands."""
    rng = np.random.default_rng(8)
    gen = np.abs(rng.standard_t(3.0, (3001, 2))) + 0.01
    data = np.abs(rng.standard_t(4.0, (2000, 2))) + 0.01
    want = metrics.tail_msle(gen, data, method=method)
    for rows in (3001, 500, (1, 1500, 1500)):
        got = metrics.tail_msle(da.from_array(gen, chunks=(rows, 1)), data, method=method)
        assert got == want
    assert metrics.tail_msle(gen, da.from_array(data, chunks=333), method=method) == want


def test_energy_distance_on_dask_by_blocked_sums():
    rng = np.random.default_rng(9)
    x = rng.normal(size=(300, 2)) * 1e200  # the power-of-two scaling is shared
    y = rng.normal(1.0, 1.0, (200, 2)) * 1e200
    for estimator in ("V", "U"):
        want = metrics.energy_distance(x, y, estimator=estimator)
        got = metrics.energy_distance(da.from_array(x, chunks=(70, 1)), y, estimator=estimator)
        # the same pair sums added in another order: a few ulps of the largest sum
        # (2 E|X - Y| ~ 3e200), relative to the result
        assert got == pytest.approx(want, rel=1e-12)


def test_metrics_without_dask_path_refuse_dask_input():
    x = da.ones((10, 2), chunks=5)
    with pytest.raises(ValueError, match="no Dask path"):
        metrics.sliced_wasserstein(x, np.ones((10, 2)))
    with pytest.raises(ValueError, match="no Dask path"):
        metrics.energy_test(x, np.ones((10, 2)))
    with pytest.raises(ValueError, match="finite"):
        metrics.tail_msle(da.from_array(np.full((10, 1), np.nan), chunks=5), np.ones((10, 1)))
    with pytest.raises(ValueError, match="dimension"):
        metrics.tail_msle(x, np.ones((10, 3)))
