"""Regenerate ``tests/cupy_standin/cupy_names.json``: the names real CuPy exposes.

The strict CuPy stand-in (``tests/cupy_standin``) may expose only these names, and binds the
arguments of its module functions against the signatures recorded here, so a call CuPy would
refuse (an unknown keyword such as ``take(..., mode=...)``) is refused by the stand-in too.
CuPy imports without a GPU, so this runs on any machine with ``cupy-cuda12x`` installed::

    /work/venv/bin/python tools/make_cupy_standin_names.py
"""

import importlib
import inspect
import json
import pathlib
import sys

import numpy as np

OUT = pathlib.Path(__file__).resolve().parents[1] / "tests" / "cupy_standin" / "cupy_names.json"
MODULES = (
    "cupy",
    "cupy.random",
    "cupy.linalg",
    "cupy.fft",
    "cupy.cuda",
    "cupy.cuda.runtime",
    "cupy.cuda.compiler",
    "cupy.cuda.memory",
    "cupy.cuda.driver",
    "cupyx",
    "cupyx.scipy",
    "cupyx.scipy.special",
)
CLASSES = (
    "cupy.ndarray",
    "cupy.ufunc",
    "cupy.RawModule",
    "cupy.RawKernel",
    "cupy.random.RandomState",
    "cupy.random.Generator",
    "cupy.cuda.Device",
    "cupy.cuda.MemoryPointer",
    "cupy.cuda.Stream",
    "cupy.cuda.Event",
)


def _parameters(value):
    try:
        signature = inspect.signature(value)
    except (TypeError, ValueError):
        return None
    return [
        [p.name, p.kind.name, p.default is not inspect.Parameter.empty]
        for p in signature.parameters.values()
    ]


def _describe(module_name, module, name):
    value = getattr(module, name)
    numpy_value = getattr(np, name, None) if module_name == "cupy" else None
    if inspect.ismodule(value):
        return {"kind": "module"}
    if numpy_value is not None and value is numpy_value:
        return {"kind": "numpy"}
    if type(value).__name__ == "ufunc" and type(value).__module__.startswith("cupy"):
        return {"kind": "ufunc", "nin": int(value.nin), "nout": int(value.nout)}
    if inspect.isclass(value):
        return {"kind": "class"}
    if callable(value):
        return {"kind": "function", "params": _parameters(value)}
    return {"kind": "value"}


def _resolve(dotted):
    module_name, _, attribute = dotted.rpartition(".")
    return getattr(importlib.import_module(module_name), attribute)


def main():
    import cupy
    import cupyx.scipy.special  # noqa: F401  (imports the submodules)

    report = {"cupy_version": cupy.__version__, "modules": {}, "classes": {}}
    for module_name in MODULES:
        if module_name == "cupy.cuda.driver":
            module = cupy.cuda.driver
        else:
            module = importlib.import_module(module_name)
        report["modules"][module_name] = {
            name: _describe(module_name, module, name)
            for name in sorted(dir(module))
            if not name.startswith("_")
        }
    for dotted in CLASSES:
        cls = _resolve(dotted)
        report["classes"][dotted] = sorted(n for n in dir(cls) if not n.startswith("_"))
    report["ndarray_special_methods"] = sorted(
        n for n in dir(cupy.ndarray) if n.startswith("__") and n.endswith("__")
    )
    OUT.write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")
    print(f"wrote {OUT} (CuPy {cupy.__version__})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
