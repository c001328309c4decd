"""Tabulated conditional score (levyscore._table.ScoreTable).

References are the direct W-mixture quadrature (levyscore._mixture.mixture_logpdf_h,
MATH.md sections 2-4), called here independently of the table code. Every cache file lives
under a pytest tmp_path: an autouse fixture also points LEVYSCORE_CACHE_DIR there, so the
home directory is never touched.
"""
import math
import os
import time
import zipfile

import numpy as np
import pytest
from numpy.testing import assert_array_equal

import levyscore
from levyscore._mixture import mixture_logpdf_h
from levyscore._table import FORMAT_VERSION, ScoreTable

RTOL = 1e-6  # the certified relative error of h asked of every table
SEED = 20240611


def quadrature_h(proc, r, t):
    """Direct quadrature h at radii r and times t (flat float64 arrays)."""
    r = np.ascontiguousarray(r, dtype=np.float64).reshape(-1)
    t = np.ascontiguousarray(np.broadcast_to(t, r.shape), dtype=np.float64)
    logp = np.empty_like(r)
    h = np.empty_like(r)
    mixture_logpdf_h(r, t, proc.dim, proc.theta, proc.diffusion, proc.jump_rate, proc.b ** 2,
                     0.0, logp, h)
    return h


def radius(proc, u, t):
    """r = exp(u) sqrt(v(t)) with v(t) from TransitionLaw.variance (MATH.md section 8)."""
    v = np.array([proc.transition(float(ti)).variance for ti in np.atleast_1d(t)])
    return np.exp(u) * np.sqrt(v)


@pytest.fixture(autouse=True)
def _cache_env(tmp_path, monkeypatch):
    monkeypatch.setenv("LEVYSCORE_CACHE_DIR", str(tmp_path / "env-cache"))


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("score-table-cache")


PROCESSES = {
    "jump-diffusion D=2": (dict(dim=2), 1e-3, 10.0),
    "m=1.3 diffusion=0.5 D=3": (dict(dim=3, diffusion=0.5, jump_rate=1.3), 1e-3, 10.0),
    "jump-diffusion D=16": (dict(dim=16), 1e-3, 10.0),
}


@pytest.fixture(scope="module")
def tables(shared_cache):
    out = {}
    for name, (kwargs, t_min, t_max) in PROCESSES.items():
        proc = levyscore.JumpDiffusion(**kwargs)
        start = time.perf_counter()
        table = ScoreTable.build(proc, t_min, t_max, cache_dir=shared_cache)
        out[name] = (table, time.perf_counter() - start)
    return out


@pytest.fixture(scope="module")
def pure_jump_table(shared_cache):
    """Pure jump, non-integer m = 0.65 (no closed form), on a short time range."""
    proc = levyscore.JumpDiffusion(2, diffusion=0.0, jump_rate=1.3)
    return ScoreTable.build(proc, 0.5, 2.0, cache_dir=shared_cache)


# -- certified accuracy ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(PROCESSES))
def test_certified_error_at_fresh_points(tables, name):
    table, _ = tables[name]
    proc = table.process
    assert not table.from_cache
    assert table.max_rel_error <= RTOL
    # the certificate rests on more check points than there are nodes
    assert table.n_check > table.n_nodes
    rng = np.random.default_rng(SEED)
    n = 3000
    u_lo, u_hi = table.u_range
    # with diffusion, radii below r_lo (u < u_lo, down to r = 0) are inside the table too
    u = rng.uniform(u_lo - 3.0, u_hi, n)
    t = np.exp(rng.uniform(math.log(table.t_min), math.log(table.t_max), n))
    r = radius(proc, u, t)
    r[:20] = 0.0
    assert np.all(table.covers(r, t))
    exact = quadrature_h(proc, r, t)
    approx = table.h(r, t)
    assert np.max(np.abs(approx / exact - 1.0)) <= RTOL


def test_pure_jump_table_accuracy(pure_jump_table):
    table = pure_jump_table
    proc = table.process
    assert table.max_rel_error <= RTOL
    rng = np.random.default_rng(SEED + 1)
    u = rng.uniform(*table.u_range, 2000)
    t = rng.uniform(table.t_min, table.t_max, 2000)
    r = radius(proc, u, t)
    exact = quadrature_h(proc, r, t)
    assert np.max(np.abs(table.h(r, t) / exact - 1.0)) <= RTOL


def test_fallback_points_equal_quadrature_exactly(tables, pure_jump_table):
    table, _ = tables["jump-diffusion D=2"]
    proc = table.process
    u_lo, u_hi = table.u_range
    t_out = np.array([0.5e-3, 1e-4, 10.5, 40.0, 3.0, 0.1, 1.0])
    u_out = np.array([0.0, 1.0, 0.5, -2.0, u_hi + 0.2, u_hi + 1.0, u_hi + 3.0])
    r_out = radius(proc, u_out, t_out)
    assert not np.any(table.covers(r_out, t_out))
    assert_array_equal(table.h(r_out, t_out), quadrature_h(proc, r_out, t_out))
    # score rows outside the table: -y h with h from quadrature
    y = np.stack([r_out, np.zeros_like(r_out)], axis=1)
    assert_array_equal(table.score(y, t_out), -y * quadrature_h(proc, r_out, t_out)[:, None])
    # pure jump: below r_lo (h ~ r^-2) the quadrature is used; at r = 0, h = 0 as there
    pj = pure_jump_table
    t = np.array([0.6, 1.0, 1.9, 1.2])
    r = radius(pj.process, np.array([pj.u_range[0] - 0.5, pj.u_range[0] - 4.0, -9.0, -20.0]), t)
    assert not np.any(pj.covers(r, t))
    assert_array_equal(pj.h(r, t), quadrature_h(pj.process, r, t))
    assert_array_equal(pj.h(np.zeros(3), [0.6, 1.0, 5.0]), np.zeros(3))


# -- score -----------------------------------------------------------------------------------------
def test_score_is_minus_y_h_with_scalar_and_per_point_t(tables):
    table, _ = tables["m=1.3 diffusion=0.5 D=3"]
    proc = table.process
    rng = np.random.default_rng(SEED + 2)
    y = proc.transition(0.7).sample(500, rng=SEED)
    r = np.sqrt(np.sum(y * y, axis=1))
    # scalar t
    s = table.score(y, 0.7)
    assert s.shape == (500, 3)
    assert_array_equal(s, -y * table.h(r, 0.7)[:, None])
    ref = proc.score(y, 0.7)
    assert np.max(np.abs(s - ref)) <= RTOL * np.max(np.abs(ref))
    # per-point t
    t = np.exp(rng.uniform(math.log(1e-3), math.log(10.0), 500))
    s = table.score(y, t)
    assert_array_equal(s, -y * table.h(r, t)[:, None])
    ref = proc.score(y, t)
    np.testing.assert_allclose(s, ref, rtol=RTOL, atol=0.0)
    # y = 0 gives exactly 0
    assert_array_equal(table.score(np.zeros((4, 3)), t[:4]), np.zeros((4, 3)))


def test_score_and_h_shapes(tables):
    table, _ = tables["jump-diffusion D=2"]
    y = np.arange(24, dtype=float).reshape(3, 4, 2) / 10.0
    assert table.score(y, 1.0).shape == (3, 4, 2)
    t = np.array([0.1, 0.2, 0.3, 0.4])  # broadcasts against the leading axes (3, 4)
    s = table.score(y, t)
    assert s.shape == (3, 4, 2)
    assert_array_equal(s[1], table.score(y[1], t))
    assert table.score(np.empty((0, 2)), 1.0).shape == (0, 2)
    assert table.h(np.ones((2, 3)), 1.0).shape == (2, 3)
    assert table.h(1.0, np.array([0.5, 1.0])).shape == (2,)
    assert table.h(1.0, 1.0).shape == ()
    with pytest.raises(ValueError, match="broadcast"):
        table.score(y, np.ones(3))


def test_schedule_tables_live_in_clock_time(tmp_path):
    """With a noise schedule the table is built in the clock B(t) (MATH.md section 7)."""
    proc = levyscore.JumpDiffusion(2, schedule="linear")
    table = ScoreTable.build(proc, 0.1, 0.2, cache_dir=tmp_path)
    rng = np.random.default_rng(SEED + 3)
    t = rng.uniform(0.1, 0.2, 400)
    y = rng.standard_normal((400, 2)) * 0.6
    assert np.all(table.covers(np.sqrt(np.sum(y * y, axis=1)), t))
    np.testing.assert_allclose(table.score(y, t), proc.score(y, t), rtol=RTOL, atol=0.0)
    # the same clock range without a schedule is the same table: it loads from the same file
    plain = levyscore.JumpDiffusion(2)
    same = ScoreTable.build(plain, proc.clock(0.1), proc.clock(0.2), cache_dir=tmp_path)
    assert same.from_cache and same.path == table.path


# -- disk cache ------------------------------------------------------------------------------------
def test_second_build_loads_the_same_arrays_from_disk(tables, shared_cache):
    table, seconds = tables["jump-diffusion D=2"]
    assert table.path is not None and os.path.dirname(table.path) == str(shared_cache)
    assert os.path.isfile(table.path)
    start = time.perf_counter()
    again = ScoreTable.build(table.process, table.t_min, table.t_max, cache_dir=shared_cache)
    load_seconds = time.perf_counter() - start
    assert again.from_cache and again.path == table.path
    assert load_seconds < 0.2 * seconds
    a, b = table.arrays(), again.arrays()
    assert a.keys() == b.keys()
    for key in a:
        assert_array_equal(a[key], b[key])
    assert again.max_rel_error == table.max_rel_error
    # no temporary file is left behind by the atomic write
    assert all(f.endswith(".npz") for f in os.listdir(shared_cache))


def test_different_parameters_make_different_files(tmp_path):
    base = levyscore.JumpDiffusion(2)
    a = ScoreTable.build(base, 1.0, 2.0, cache_dir=tmp_path)
    variants = [
        ScoreTable.build(levyscore.JumpDiffusion(2, jump_var=1.5), 1.0, 2.0, cache_dir=tmp_path),
        ScoreTable.build(levyscore.JumpDiffusion(2, theta=0.6), 1.0, 2.0, cache_dir=tmp_path),
        ScoreTable.build(base, 1.0, 2.5, cache_dir=tmp_path),
    ]
    paths = {a.path} | {v.path for v in variants}
    assert len(paths) == 4 and all(os.path.isfile(p) for p in paths)
    assert not any(v.from_cache for v in variants)
    assert not np.array_equal(a.arrays()["coef"][0], variants[0].arrays()["coef"][0])


def test_cache_directory_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("LEVYSCORE_CACHE_DIR", str(tmp_path / "from-env"))
    table = ScoreTable.build(levyscore.JumpDiffusion(2), 1.0, 2.0)
    assert os.path.dirname(table.path) == str(tmp_path / "from-env")
    assert ScoreTable.build(levyscore.JumpDiffusion(2), 1.0, 2.0).from_cache
    nocache = ScoreTable.build(levyscore.JumpDiffusion(2), 1.0, 2.0, cache=False)
    assert nocache.path is None and not nocache.from_cache


def test_unwritable_cache_warns_and_still_builds(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_bytes(b"")
    with pytest.warns(RuntimeWarning, match="could not write the score-table cache"):
        table = ScoreTable.build(levyscore.JumpDiffusion(2), 1.0, 2.0, cache_dir=blocker)
    assert table.path is None and not table.from_cache
    assert table.max_rel_error <= RTOL


def _rewrite(path, **changes):
    with np.load(path) as f:
        content = {k: np.array(f[k]) for k in f.files}
    content.update(changes)
    with open(path, "wb") as fh:
        np.savez(fh, **content)


@pytest.mark.parametrize("damage", ["garbage", "truncated", "tampered-array", "wrong-key",
                                    "bad-version"])
def test_corrupt_or_mismatched_file_is_rebuilt(tmp_path, damage):
    proc = levyscore.JumpDiffusion(2)
    first = ScoreTable.build(proc, 1.0, 2.0, cache_dir=tmp_path)
    path = first.path
    if damage == "garbage":
        with open(path, "wb") as fh:
            fh.write(b"not a table" * 100)
    elif damage == "truncated":
        with open(path, "rb") as fh:
            data = fh.read()
        with open(path, "wb") as fh:
            fh.write(data[: len(data) // 2])
    elif damage == "tampered-array":
        coef = first.arrays()["coef"]
        coef[0, 0, 0] += 1.0  # a wrong table that still loads as a valid npz
        _rewrite(path, coef=coef)
    elif damage == "wrong-key":
        # a valid file of another process copied under this name
        other = ScoreTable.build(levyscore.JumpDiffusion(2, jump_var=1.5), 1.0, 2.0,
                                 cache_dir=tmp_path / "other")
        with open(other.path, "rb") as fh:
            data = fh.read()
        with open(path, "wb") as fh:
            fh.write(data)
    else:
        with np.load(path) as f:
            key = str(f["key"][()])
        _rewrite(path, key=np.array(key.replace(f"format={FORMAT_VERSION}",
                                                f"format={FORMAT_VERSION + 1}")))
    if damage in ("garbage", "truncated"):
        with pytest.raises((zipfile.BadZipFile, ValueError, OSError, EOFError)):
            with open(path, "rb") as fh, np.load(fh) as f:
                [np.array(f[k]) for k in f.files]
    rebuilt = ScoreTable.build(proc, 1.0, 2.0, cache_dir=tmp_path)
    assert not rebuilt.from_cache and rebuilt.path == path
    a, b = first.arrays(), rebuilt.arrays()
    for key in ("coef", "boxes", "split", "params"):
        assert_array_equal(a[key], b[key])
    # the rebuilt file is valid again and loads
    assert ScoreTable.build(proc, 1.0, 2.0, cache_dir=tmp_path).from_cache


# -- input validation ----------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, match", [
    (dict(t_min=2.0, t_max=1.0), "t_min must be smaller"),
    (dict(t_min=1.0, t_max=1.0), "t_min must be smaller"),
    (dict(t_min=0.0, t_max=1.0), "t_min must be positive"),
    (dict(t_min=-1.0, t_max=1.0), "t_min must be positive"),
    (dict(t_min=1e-3, t_max=math.inf), "t_max must be finite"),
    (dict(t_min=math.nan, t_max=1.0), "t_min must not be NaN"),
    (dict(t_min="1", t_max=2.0), "t_min must be a real number"),
    (dict(t_min=1.0, t_max=2.0, rtol=1e-14), "rtol must lie in"),
    (dict(t_min=1.0, t_max=2.0, cache="yes"), "cache must be True or False"),
])
def test_bad_arguments(kwargs, match, tmp_path):
    proc = levyscore.JumpDiffusion(2)
    with pytest.raises(ValueError, match=match):
        ScoreTable.build(proc, cache_dir=tmp_path, **kwargs)


@pytest.mark.parametrize("proc, match", [
    ("not a process", "process must be a levyscore.JumpDiffusion"),
    (levyscore.JumpDiffusion(2, diffusion=0.0), "closed form.*no table is needed"),
    (levyscore.JumpDiffusion(2, jump_rate=0.0), "'gaussian'.*no table is needed"),
])
def test_processes_that_need_no_table(proc, match, tmp_path):
    with pytest.raises(ValueError, match=match):
        ScoreTable.build(proc, 1e-3, 10.0, cache_dir=tmp_path)


def test_bad_evaluation_arguments(tables):
    table, _ = tables["jump-diffusion D=2"]
    with pytest.raises(ValueError, match="t must be positive"):
        table.h(1.0, 0.0)
    with pytest.raises(ValueError, match="t must be finite"):
        table.score(np.ones((2, 2)), math.inf)
    with pytest.raises(ValueError, match="r must be non-negative"):
        table.h(-1.0, 1.0)
    with pytest.raises(ValueError, match=r"y must have shape \(\.\.\., 2\)"):
        table.score(np.ones((2, 3)), 1.0)
