"""The one dispatch point (levyscore._backend), without a GPU.

CuPy arrays are recognised by the top-level module of their type, so a tiny class whose
``__module__`` is ``"cupy"`` stands in for one here: the detection and the mixed-input error
are checked on every machine, and CuPy is never imported by levyscore's CPU paths.
"""
import os
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

import levyscore
from levyscore._backend import MIXED_MESSAGE, array_module, is_cupy_array, is_device

REPO = Path(__file__).resolve().parent.parent


class FakeDeviceArray:
    """Stands in for ``cupy.ndarray`` (detection looks only at the type's module)."""

    shape = (3, 2)


FakeDeviceArray.__module__ = "cupy"


class FakeSubmoduleArray:
    pass


FakeSubmoduleArray.__module__ = "cupy._core.core"


def test_fake_cupy_objects_are_detected():
    assert is_cupy_array(FakeDeviceArray())
    assert is_cupy_array(FakeSubmoduleArray())
    assert not is_cupy_array(np.zeros(3))
    assert not is_cupy_array([1.0, 2.0])
    assert not is_cupy_array(1.0)


class NotCupy:
    pass


NotCupy.__module__ = "cupyx_lookalike.core"  # a prefix is not the package


def test_only_the_cupy_package_counts():
    assert not is_cupy_array(NotCupy())


def test_numpy_inputs_and_scalars_give_numpy():
    assert array_module(np.zeros(3)) is np
    assert array_module(np.zeros(3), 1.0, 2, np.float64(3.0), None) is np
    assert array_module() is np
    assert array_module(1.0, [1.0, 2.0]) is np
    assert not is_device(np.zeros(2))


@pytest.mark.parametrize("host", [np.zeros((3, 2)), [[0.0, 0.0]], np.float32(1.0) * np.ones(2)])
def test_mixing_raises(host):
    with pytest.raises(ValueError, match="mixed NumPy and CuPy inputs"):
        array_module(FakeDeviceArray(), host)
    with pytest.raises(ValueError, match=r"cupy\.asarray / \.get\(\)"):
        array_module(host, FakeDeviceArray())


def test_scalars_are_neutral_next_to_device_arrays(monkeypatch):
    # resolving to the module imports CuPy (already loaded when an input is a CuPy array);
    # a stand-in module plays its part here
    fake = types.ModuleType("cupy")
    monkeypatch.setitem(sys.modules, "cupy", fake)
    assert array_module(FakeDeviceArray(), 1.0, np.float64(2.0), None) is fake
    assert array_module(FakeDeviceArray(), FakeSubmoduleArray()) is fake
    assert is_device(FakeDeviceArray(), 3)


def test_public_api_refuses_mixed_inputs():
    proc = levyscore.JumpDiffusion(2, diffusion=0.0)
    with pytest.raises(ValueError, match="mixed NumPy and CuPy"):
        proc.score(FakeDeviceArray(), np.ones(3))
    with pytest.raises(ValueError, match="mixed NumPy and CuPy"):
        proc.sample(FakeDeviceArray(), np.ones(3), rng=0)


def test_reverse_refuses_device_score_for_host_states():
    proc = levyscore.JumpDiffusion(2, diffusion=0.0)

    def score(x, t):
        return FakeDeviceArray()

    with pytest.raises(ValueError, match=MIXED_MESSAGE.split(":")[0]):
        levyscore.sample_reverse(proc, score, 3, steps=2, rng=0)


def test_message_says_what_to_do():
    assert MIXED_MESSAGE == ("mixed NumPy and CuPy inputs: move all arrays to one device "
                             "(cupy.asarray / .get())")


def test_cpu_paths_do_not_import_cupy_or_dask():
    code = """
import sys
import numpy as np
import levyscore
assert 'cupy' not in sys.modules, 'import levyscore imported cupy'
proc = levyscore.JumpDiffusion(2, diffusion=0.0)
y = np.array([[0.5, -1.0], [2.0, 0.25]])
proc.score(y, 1.0)
proc.transition(1.0).score(y)
proc.transition(1.0).sample(4, rng=0)
proc.sample(np.zeros((4, 2)), 1.0, rng=0)
proc.dsm_pairs(np.zeros((4, 2)), 1.0, rng=0)
levyscore.sample_reverse(proc, proc.score, 4, steps=2, rng=0, eta=1.0)
from levyscore import _backend, _gpu, _registry
_backend.array_module(y, 1.0)
assert 'cupy' not in sys.modules, sorted(m for m in sys.modules if m.startswith('cupy'))
assert 'dask' not in sys.modules, sorted(m for m in sys.modules if m.startswith('dask'))
print('ok')
"""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_functions_without_gpu_path_refuse_device_inputs():
    proc = levyscore.JumpDiffusion(2, diffusion=0.0)
    law = proc.transition(1.0)
    # logpdf and pdf have a device path (tests/test_gpu_dispatch_fake.py)
    for call in (lambda: law.radial_cdf(FakeDeviceArray()),
                 # sample_path has a device path for x0 (tests/test_gpu_dispatch_fake.py),
                 # not for the time grid
                 lambda: proc.sample_path(np.zeros((3, 2)), FakeDeviceArray()),
                 # dsm_pairs has a device path (tests/test_gpu_dispatch_fake.py); mixed
                 # host points and device times are refused
                 lambda: proc.dsm_pairs(np.zeros((3, 2)), FakeDeviceArray())):
        with pytest.raises(ValueError, match="no GPU path|mixed NumPy and CuPy"):
            call()


# -- the GPU seam: no import cycle --------------------------------------------------------------
def _levyscore_imports(path, package, module_level_only):
    """Modules of levyscore that ``path`` imports (at module level, or anywhere)."""
    import ast

    tree = ast.parse(path.read_text())
    nodes = tree.body if module_level_only else ast.walk(tree)
    out = set()
    for node in nodes:
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.startswith("levyscore"):
                if node.module:  # "from . import x" loads x, not the package again
                    out.add(target)
                out |= {f"{target}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("levyscore")}
    return out


def _package_modules():
    root = Path(levyscore.__file__).resolve().parent
    mods = {}
    for path in root.rglob("*.py"):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        is_init = parts[-1] == "__init__"
        name = ".".join(parts[:-1] if is_init else parts)
        mods[name] = (path, name if is_init else name.rpartition(".")[0])
    return mods


def test_module_level_imports_have_no_cycle():
    mods = _package_modules()
    graph = {m: {t for t in _levyscore_imports(p, pkg, True) if t in mods and t != m}
             for m, (p, pkg) in mods.items()}
    state = {}

    def visit(m, stack):
        state[m] = "open"
        for t in sorted(graph[m]):
            assert state.get(t) != "open", "import cycle: " + " -> ".join(
                stack[stack.index(t):] + [m, t])
            if t not in state:
                visit(t, stack + [m])
        state[m] = "done"

    for m in sorted(graph):
        if m not in state:
            visit(m, [])


def test_gpu_seam_modules_import_only_downwards():
    """The loader imports nothing of levyscore, the registry only the loader (the twins are
    named, not imported), the backend helper only the loader and the input checks: anywhere
    in their code, so no call can close a cycle through them."""
    mods = _package_modules()

    def imported(name):
        path, pkg = mods[name]
        return {t for t in _levyscore_imports(path, pkg, False) if t in mods}

    assert imported("levyscore._gpu") == set()
    assert imported("levyscore._registry") == {"levyscore._gpu"}
    assert imported("levyscore._backend") <= {"levyscore._gpu", "levyscore._validation"}
