"""The published notebook's protocol (levyscore._paper): time convention and a small run."""
import numpy as np

import levyscore
from levyscore import _paper


class _Recorder:
    """A stand-in network: records the times it is asked for, predicts a zero score."""

    def __init__(self):
        self.times = []

    def predict(self, features):
        self.times.append(float(features[0, 0]))
        return np.zeros((features.shape[0], 2))


def test_score_is_taken_at_each_steps_end_time():
    # The notebook's loop: t += dt; x = e^{dt/2} x + 2 (e^{dt/2} - 1) score(T - t, x): the
    # score of the step from T - (t - dt) to T - t is evaluated at its end, T - t. With the
    # shift, levyscore's exp-Euler (score at the step's start) asks the network for
    # 9.9, 9.8, ..., 0.1: 99 steps of 0.1 ending at t = 0.1.
    rec = _Recorder()
    proc = levyscore.JumpDiffusion(2, diffusion=0.0)
    levyscore.sample_reverse(proc, _paper._RawNet(rec, _paper.DT), 4, steps=99, T=_paper.T,
                             t_min=_paper.T - 99 * _paper.DT, eta=0.0, grid="uniform", rng=0)
    np.testing.assert_allclose(rec.times, 9.9 - 0.1 * np.arange(99), rtol=0, atol=1e-9)


def test_small_run_reports_every_column():
    table = _paper.run(seeds=(0,), epochs=1, sizes=(400, 300, 200), log=lambda m: None)
    lines = table.splitlines()
    assert len(lines) == 2 + 6 + 1  # header, rule, 3 models x 2 samplers, footnote
    for line in lines[2:8]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert len(cells) == 6
        for c in cells[2:]:
            assert c.startswith("undefined") or float(c.split(" ")[0]) >= 0
