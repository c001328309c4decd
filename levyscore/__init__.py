"""levyscore: generative diffusion with jump noise.

Exact laws and generalized scores of the jump-diffusion forward process of Baule,
"Generative modelling with jump-diffusions" (arXiv 2503.06558), exact forward simulation
with counter-based random numbers, and reverse-time samplers. The mathematics is specified
in ``docs/math.md`` (code citations "MATH.md section N" refer to its sections), with the
checks behind each formula.
"""
from ._laws import TransitionLaw
from ._process import JumpDiffusion
from ._reverse import Euler, ExpEuler, ExpHeun, sample_reverse
from ._table import ScoreTable
from . import amplitudes, learn, metrics, targets  # noqa: E402  (public submodules)

__all__ = ["JumpDiffusion", "TransitionLaw", "ScoreTable", "sample_reverse", "ExpEuler", "ExpHeun",
           "Euler", "amplitudes", "learn", "metrics", "targets"]
__version__ = "0.1.0"
