"""Every ``.cu`` file of ``kernels/`` compiles to PTX for sm_90 (H100/H200) with nvcc.

Two forms are compiled, with the options CuPy is given (:data:`levyscore._gpu.PARITY_OPTIONS`):
the files as they lie in ``kernels/`` (relative ``#include``), and the single-text form with
headers inlined that :func:`levyscore._gpu.source` hands to NVRTC. The PTX must export every
``extern "C"`` name of the registry, which is what ``RawModule.get_function`` looks up.
No GPU is needed; skipped, visibly, without nvcc.
"""
import re
import shutil
import subprocess

import pytest

from levyscore import _gpu
from levyscore._registry import KERNELS

ARCH = "sm_90"


@pytest.fixture(scope="module")
def nvcc():
    path = shutil.which("nvcc")
    if path is None:
        pytest.skip("nvcc not found: the CUDA sources cannot be compiled here")
    return path


def _ptx(nvcc, files, outdir):
    outdir.mkdir()
    # NVRTC spells the options --std=c++17 --fmad=false; nvcc takes the same words.
    cmd = [nvcc, "-ptx", f"-arch={ARCH}", *_gpu.PARITY_OPTIONS, "-odir", str(outdir),
           *map(str, files)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{' '.join(cmd)}\n{done.stderr}"
    assert "warning" not in done.stderr.lower(), done.stderr
    return {p.stem: p.read_text() for p in outdir.glob("*.ptx")}


def _entries(ptx):
    return set(re.findall(r"\.visible\s+\.entry\s+(\w+)\s*\(", ptx))


def test_nvcc_compiles_every_cu_file_with_the_registered_kernels(nvcc, tmp_path):
    folder = _gpu.kernels_dir()
    sources = sorted(folder.glob("*.cu"))
    assert {p.name for p in sources} == {k.source for k in KERNELS}, "unregistered .cu file"
    # the files as installed, and the inlined text that CuPy compiles
    inlined = tmp_path / "inlined"
    inlined.mkdir()
    flat = []
    for p in sources:
        q = inlined / p.name
        q.write_text(_gpu.source(p.name))
        flat.append(q)
    for label, files in (("as-is", sources), ("inlined", flat)):
        ptx = _ptx(nvcc, files, tmp_path / f"ptx-{label}")
        assert set(ptx) == {p.stem for p in sources}, label
        for info in KERNELS:
            stem = info.source.rsplit(".", 1)[0]
            missing = set(info.cuda_names) - _entries(ptx[stem])
            assert not missing, f"{label}: {missing} not exported by {info.source}"


def test_gpu_extras_name_one_cupy_wheel_per_cuda_major():
    """CuPy ships one wheel per CUDA major version: ``gpu-cuda12`` and ``gpu-cuda13`` pick
    them, ``gpu`` stays the CUDA 12 one. (The nvcc test above compiles with whatever CUDA the
    machine has: 13.0 on the project's machines; no CUDA 12 toolkit is installed there.)"""
    import configparser
    from pathlib import Path

    cfg = configparser.ConfigParser()
    cfg.read(Path(__file__).resolve().parent.parent / "setup.cfg")
    extras = {k: v.split() for k, v in cfg["options.extras_require"].items()}
    assert extras["gpu-cuda12"] == ["cupy-cuda12x>=13"]
    assert extras["gpu-cuda13"] == ["cupy-cuda13x>=14"]
    assert extras["gpu"] == extras["gpu-cuda12"]
