"""levyscore: generative diffusion with jump noise.

Exact laws and generalized scores of the jump-diffusion forward process of Baule,
"Generative modelling with jump-diffusions" (arXiv 2503.06558). The mathematics is specified
in MATH.md; ``docs/math.md`` maps each section to the code that implements it.
"""
from ._laws import TransitionLaw
from ._process import JumpDiffusion

__all__ = ["JumpDiffusion", "TransitionLaw"]
__version__ = "0.1.0"
