"""CUDA C sources of levyscore, installed as ``levyscore.kernels`` (see README.md here)."""
