"""Every invalid parameter, time or shape raises a ValueError that names it."""
import math

import numpy as np
import pytest

import levyscore

BAD_REALS = [-1.0, math.nan, math.inf, -math.inf, "1.0", None, [1.0], True]


@pytest.mark.parametrize("name", ["theta", "jump_var"])
@pytest.mark.parametrize("value", BAD_REALS + [0.0])
def test_positive_parameters(name, value):
    with pytest.raises(ValueError, match=rf"^{name} "):
        levyscore.JumpDiffusion(2, **{name: value})


@pytest.mark.parametrize("name", ["diffusion", "jump_rate"])
@pytest.mark.parametrize("value", BAD_REALS)
def test_nonnegative_parameters(name, value):
    with pytest.raises(ValueError, match=rf"^{name} "):
        levyscore.JumpDiffusion(2, **{name: value})


def test_no_noise_is_refused():
    with pytest.raises(ValueError, match="diffusion and jump_rate"):
        levyscore.JumpDiffusion(2, diffusion=0.0, jump_rate=0.0)


@pytest.mark.parametrize("dim", [0, -3, 2.5, "2", None, math.nan, True])
def test_dim(dim):
    with pytest.raises(ValueError, match=r"^dim "):
        levyscore.JumpDiffusion(dim)


def test_valid_numpy_scalars_are_accepted():
    proc = levyscore.JumpDiffusion(np.int64(3), theta=np.float32(0.5), diffusion=np.float64(0.0),
                                   jump_rate=np.int32(1), jump_var=2)
    assert proc.dim == 3 and proc.m == 1.0 and proc.route == "closed-form"


@pytest.mark.parametrize("t", [0.0, -1.0, math.nan, math.inf, "1", None])
def test_transition_time(t):
    proc = levyscore.JumpDiffusion(2)
    with pytest.raises(ValueError, match=r"^t "):
        proc.transition(t)


@pytest.mark.parametrize("t", [0.0, -1.0, math.nan, math.inf, np.array([1.0, -1.0, 2.0])])
def test_score_time(t):
    proc = levyscore.JumpDiffusion(2)
    with pytest.raises(ValueError, match=r"^t "):
        proc.score(np.ones((3, 2)), t)


def test_score_time_shape():
    proc = levyscore.JumpDiffusion(2)
    with pytest.raises(ValueError, match="broadcast"):
        proc.score(np.ones((3, 2)), np.ones(4))


@pytest.mark.parametrize("method", ["pdf", "logpdf", "score"])
@pytest.mark.parametrize("y", [np.ones((4, 3)), np.ones(3), 1.0, np.array([[np.nan, 1.0]]),
                               np.array([[np.inf, 1.0]]), np.array([["a", "b"]])])
def test_point_shape_and_values(method, y):
    law = levyscore.JumpDiffusion(2).transition(1.0)
    with pytest.raises(ValueError, match=r"^y "):
        getattr(law, method)(y)


@pytest.mark.parametrize("r", [-0.1, np.nan, np.inf, np.array([1.0, -2.0])])
def test_radial_cdf_radius(r):
    law = levyscore.JumpDiffusion(2).transition(1.0)
    with pytest.raises(ValueError, match=r"^r "):
        law.radial_cdf(r)


def test_shapes_are_preserved():
    law = levyscore.JumpDiffusion(3, diffusion=0.0).transition(0.5)
    y = np.random.default_rng(0).normal(size=(2, 5, 3))
    assert law.logpdf(y).shape == (2, 5)
    assert law.pdf(y[0, 0]).shape == ()
    assert law.score(y).shape == (2, 5, 3)
    assert law.radial_cdf(np.ones((4, 1))).shape == (4, 1)
    assert law.score(np.empty((0, 3))).shape == (0, 3)
