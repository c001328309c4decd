"""Shared test configuration.

Hypothesis profiles (choose with ``LEVYSCORE_HYPOTHESIS_PROFILE``):

* ``ci`` (default): ``derandomize=True`` so that CI is deterministic, modest example counts;
* ``thorough``: randomised and ten times more examples, for local runs.

``LEVYSCORE_EMULATE_CUPY=1`` installs the fake CuPy of ``tests/cuda_emulation.py`` for the
session: the ``gpu``-marked tests then run the real CUDA sources on the host emulation of a
device (``pytest -m gpu``; ``tests/test_gpu_dispatch_fake.py`` does this in a subprocess).
"""
import os
import sys

import pytest
from hypothesis import HealthCheck, settings

if os.environ.get("LEVYSCORE_EMULATE_CUPY") == "1":
    import cuda_emulation

    sys.modules["cupy"] = cuda_emulation.fake_cupy(emulated=True)

settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=25,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "thorough",
    max_examples=250,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("LEVYSCORE_HYPOTHESIS_PROFILE", "ci"))


def _have_gpu():
    try:
        import cupy  # noqa: F401

        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


def pytest_collection_modifyitems(config, items):
    # the fuzz test runs last: its worker process then loads every kernel from Numba's disk
    # cache (written by the tests before it) instead of compiling them under its time bound
    items.sort(key=lambda item: item.nodeid.split("::")[0].endswith("test_fuzz.py"))
    if _have_gpu():
        return
    skip = pytest.mark.skip(reason="gpu: no CUDA device or CuPy not installed")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)
