"""A strict CuPy stand-in: gpuk's CuPy branch, run on the CPU.

``install()`` puts modules named ``cupy``, ``cupy.random``, ``cupy.linalg``, ``cupy.fft``,
``cupy.cuda`` (and its ``runtime``, ``driver``, ``compiler``, ``memory``), ``cupyx``,
``cupyx.scipy`` and ``cupyx.scipy.special`` into ``sys.modules`` and resets ``gpuk._array``'s
device choice, so ``gpuk._array.gpu_unavailable_reason()`` answers None and the ``xp`` fixture
runs the stand-in too. The test run switches it on with ``pytest --cupy=standin`` (or
``GPUK_TEST_CUPY=standin``); see ``docs/gpu-standin.md``.

What it mirrors of CuPy 14 (and refuses where CuPy refuses): a device ``ndarray`` of its own
type (``_core``), module functions with CuPy's names and signatures (``_functions``, names
generated from the real CuPy into ``cupy_names.json`` by ``tools/make_cupy_standin_names.py``),
``cupy.random``'s API (``_random``), one H200 (``_cuda``), and ``RawModule``/``RawKernel``
compiled by NVRTC and run on ``tests/cuda_emulator`` (``_raw``). ``counting()`` counts host
syncs, host-to-device copies and launches for budget tests.
"""

import os
import sys
import types

from tests.cupy_standin._counters import TOTAL, Counts, counting

__all__ = [
    "Counts",
    "TOTAL",
    "counting",
    "install",
    "installed",
    "modules",
    "requested",
    "uninstall",
]

_saved = {}
_modules = {}


def requested(config_value=None):
    """True when the run asked for the stand-in (option value, else GPUK_TEST_CUPY)."""
    value = config_value or os.environ.get("GPUK_TEST_CUPY", "")
    return value.strip().lower() == "standin"


def _module(name, values):
    module = types.ModuleType(name)
    module.__dict__.update(values)
    module.__standin__ = True
    return module


def _build():
    from tests.cupy_standin import _cuda, _functions, _random, _raw
    from tests.cupy_standin._core import UFUNCS, ufunc

    names = _functions.NAMES["modules"]
    cupy_values = _functions.cupy_namespace()
    cupy_values["RawModule"] = _raw.RawModule
    cupy_values["RawKernel"] = _raw.RawKernel
    cupy_values["__version__"] = _functions.NAMES["cupy_version"]
    modules = {
        "cupy.random": _module("cupy.random", _random.namespace()),
        "cupy.linalg": _module("cupy.linalg", _functions.linalg_namespace()),
        "cupy.fft": _module("cupy.fft", _functions.fft_namespace()),
    }
    modules.update(_cuda.modules())
    for attribute in ("random", "linalg", "fft", "cuda"):
        cupy_values[attribute] = modules[f"cupy.{attribute}"]
    modules["cupy"] = _module("cupy", cupy_values)

    import scipy.special

    special = {}
    for name, info in names["cupyx.scipy.special"].items():
        target = getattr(scipy.special, name, None)
        if info["kind"] == "ufunc" and isinstance(target, type(UFUNCS["add"]._f)):
            special[name] = ufunc(name, target, info["nin"], info["nout"])
    modules["cupyx.scipy.special"] = _module("cupyx.scipy.special", special)
    modules["cupyx.scipy"] = _module("cupyx.scipy", {"special": modules["cupyx.scipy.special"]})
    cupyx = {"scipy": modules["cupyx.scipy"]}
    if "rsqrt" in names["cupyx"]:
        cupyx["rsqrt"] = ufunc("rsqrt", lambda x, **k: 1 / __import__("numpy").sqrt(x, **k), 1, 1)
    modules["cupyx"] = _module("cupyx", cupyx)
    return modules


def modules():
    """The stand-in's modules by dotted name, built once, without installing them."""
    if not _modules:
        _modules.update(_build())
    return dict(_modules)


def install():
    """Make ``import cupy`` / ``import cupyx`` give the stand-in; reset gpuk's device choice."""
    try:  # NVRTC's bindings load parts of the real CuPy on first use: use them before the swap
        from cupy_backends.cuda.libs import nvrtc

        nvrtc.getVersion()
    except Exception:
        pass
    modules()
    for name in list(sys.modules):
        if name.split(".")[0] in ("cupy", "cupyx") and name not in _saved:
            _saved[name] = sys.modules.pop(name)
    sys.modules.update(_modules)
    _reset_gpuk()
    return _modules["cupy"]


def uninstall():
    """Restore the modules ``install`` replaced."""
    for name in _modules:
        sys.modules.pop(name, None)
    sys.modules.update(_saved)
    _saved.clear()
    _reset_gpuk()


def installed():
    return sys.modules.get("cupy") is _modules.get("cupy") and "cupy" in _modules


def _reset_gpuk():
    import importlib

    device = importlib.import_module("gpuk._array.device")
    kernels = importlib.import_module("gpuk._array.kernels")
    device._state.update(cupy=None, cupy_error=None, resolved=None, probe=None)
    kernels._modules.clear()
    kernels._functions.clear()
    kernels._limits.cache_clear()
