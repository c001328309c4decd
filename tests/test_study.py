"""The heavy-tail study's error budget (levyscore._study): columns, and the score-error metric."""
import math

import numpy as np
import pytest

import levyscore
from levyscore import _study
from levyscore.targets import SubGaussianStable


def test_score_error_metric_is_exact():
    # E|s - S|^2 / E|S|^2 is 0 for s = S and exactly (1 - c)^2 for s = c S, overall and in the
    # tail region, at every time: the metric cannot hide a wrong score.
    proc = levyscore.JumpDiffusion(2, diffusion=2.0, jump_rate=0.0)
    exact = proc.transition(1.0).score  # any callable of (x, t) works; t is ignored here

    def s_exact(x, t):
        return exact(x)

    def s_half(x, t):
        return 0.5 * exact(x)

    data = SubGaussianStable().sample(2000, rng=3)
    times = np.array([0.01, 1.0])
    err, tail = _study.score_error(proc, s_exact, s_exact, data, times, 0)
    assert np.all(err == 0) and np.all(tail == 0)
    err, tail = _study.score_error(proc, s_half, s_exact, data, times, 0)
    np.testing.assert_allclose(err, 0.25, rtol=1e-12)
    np.testing.assert_allclose(tail, 0.25, rtol=1e-12)


def test_study_reports_the_error_budget(tmp_path, monkeypatch):
    # A tiny run with the Gaussian model only (its oracle table builds in seconds): every
    # record carries the floor, oracle and learned metrics and the score errors, all finite,
    # and the table prints the four groups of columns.
    monkeypatch.setenv("LEVYSCORE_CACHE_DIR", str(tmp_path))
    cfg = _study.StudyConfig(n_train=400, n_test=400, n_generate=400, epochs=1, batch_size=200,
                             hidden=(8,), steps=5, seeds=(0,), energy_points=200,
                             oracle_rtol=1e-4, n_err_times=3, n_err_points=300)
    gauss = levyscore.JumpDiffusion(2, diffusion=0.0).equivalent_gaussian()
    records = _study.run_study(cfg, models={"gaussian": gauss}, log=lambda msg: None)
    assert [r["sampler"] for r in records] == ["ODE", "SDE"]
    for rec in records:
        for key in ("floor_energy", "oracle_energy", "energy", "score_err", "score_err_tail"):
            assert math.isfinite(rec[key]) and rec[key] >= 0, key
        assert len(rec["score_err_t"]) == 3
    # the floor compares two data sets of the same law: far below a 1-epoch network's error
    assert records[0]["floor_energy"] < records[0]["energy"]
    table = _study.format_table(_study.summarize(records))
    assert "floor" in table and "oracle" in table and "score error" in table
    assert table.count("\n") == 3


def _tiny(**kw):
    base = dict(n_train=300, n_test=300, n_generate=300, epochs=1, batch_size=150, hidden=(8,),
                steps=4, seeds=(0,), energy_points=150, oracle=False)
    base.update(kw)
    return _study.StudyConfig(**base)


def test_results_file_makes_runs_resumable(tmp_path):
    # Finished (seed, model) units are appended as JSON lines and skipped on a rerun, which
    # then returns the same records; a unit cut short (partial last line) is recomputed.
    path = tmp_path / "runs.jsonl"
    gauss = levyscore.JumpDiffusion(2, diffusion=0.0).equivalent_gaussian()
    models = {"gaussian": gauss}
    logs = []
    first = _study.run_study(_tiny(), models=models, steps=(3, 4), results=str(path),
                             log=logs.append)
    assert len(first) == 4 and len(path.read_text().splitlines()) == 4
    logs.clear()
    again = _study.run_study(_tiny(), models=models, steps=(3, 4), results=str(path),
                             log=logs.append)
    assert any("skipped" in m for m in logs)
    assert [(r["steps"], r["sampler"], r["energy"]) for r in again] == \
        [(r["steps"], r["sampler"], r["energy"]) for r in first]
    # cut the file inside its last record: the unit is incomplete and is run again, giving
    # the same numbers (same seeds)
    text = path.read_text()
    path.write_text(text[: len(text) - 20])
    logs.clear()
    third = _study.run_study(_tiny(), models=models, steps=(3, 4), results=str(path),
                             log=logs.append)
    assert not any("skipped" in m for m in logs)
    assert [r["energy"] for r in third] == [r["energy"] for r in first]


def test_paired_ratio_interval():
    ratio, lo, hi, n = _study.paired_ratio([2.0, 2.0, 2.0], [1.0, 1.0, 1.0])
    assert (ratio, lo, hi, n) == (2.0, 2.0, 2.0, 3)
    # log ratios 0 and log 4: mean log 2, sd log(4)/sqrt(2), t_{0.975, 1} = 12.706
    ratio, lo, hi, n = _study.paired_ratio([1.0, 4.0], [1.0, 1.0])
    half = 12.706 * (math.log(4.0) / math.sqrt(2)) / math.sqrt(2)
    assert math.isclose(ratio, 2.0) and math.isclose(lo, 2.0 * math.exp(-half))
    assert math.isclose(hi, 2.0 * math.exp(half))


def test_sweep_report_verdicts():
    recs = []
    for seed, (g, j) in enumerate([(0.4, 0.1), (0.5, 0.12), (0.45, 0.1)]):
        for model, v in (("gaussian", g), ("pure-jump lambda=1", j)):
            recs.append(dict(model=model, sampler="ODE", seed=seed, steps=10, msle_paper=v,
                             oracle_msle_paper=v))
    (line,) = [x for x in _study.sweep_report(recs) if "ODE" in x]
    assert "learned: wins" in line and "oracle: wins" in line


def test_cli_rejects_bad_study_arguments():
    import pytest

    from levyscore.__main__ import main

    with pytest.raises(SystemExit):
        main(["study", "heavy-tail", "--seeds", "0"])
    with pytest.raises(SystemExit):
        main(["study", "heavy-tail", "--steps", "10,-1"])


def test_units_on_a_local_cluster_equal_the_serial_run(tmp_path):
    """Each (seed, model) unit as a task on a distributed LocalCluster of 2 worker
    processes: the same records (every metric equal) as the serial run, in the serial order;
    a results file is appended as units finish and resumes a cluster run."""
    distributed = pytest.importorskip("distributed")
    gauss = levyscore.JumpDiffusion(2, diffusion=0.0).equivalent_gaussian()
    models = {"gaussian": gauss, "pure-jump": levyscore.JumpDiffusion(2, diffusion=0.0)}
    cfg = _tiny(seeds=(0, 1))
    serial = _study.run_study(cfg, models=models, log=lambda msg: None)
    path = tmp_path / "runs.jsonl"
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        parallel = _study.run_study(cfg, models=models, log=lambda msg: None, client=client,
                                    results=str(path))
        assert len(path.read_text().splitlines()) == len(serial)
        logs = []
        again = _study.run_study(cfg, models=models, log=logs.append, client=client,
                                 results=str(path))
    assert sum("skipped" in m for m in logs) == 4

    def strip(recs):
        return [{k: v for k, v in r.items() if k != "train_s"} for r in recs]

    assert strip(parallel) == strip(serial)
    assert strip(again) == strip(serial)


def test_cluster_options_are_checked(capsys):
    from levyscore.__main__ import main

    for argv in (["study", "heavy-tail", "--protocol", "paper", "--workers", "2"],
                 ["study", "heavy-tail", "--workers", "2", "--scheduler", "tcp://x:1"],
                 ["study", "heavy-tail", "--workers", "0"]):
        with pytest.raises(SystemExit):
            main(argv)
    assert "--workers" in capsys.readouterr().err
