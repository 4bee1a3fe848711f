"""Which array module new arrays use: NumPy on the CPU or CuPy on a CUDA GPU.

The choice comes from ``gpuk.config.set_device`` or the ``GPUK_DEVICE`` environment
variable (``auto``, ``cpu`` or ``gpu``). ``auto`` is resolved once, lazily, on first use. A GPU
counts as usable only when CuPy imports, a device answers, and a tiny kernel compiles with
NVRTC and runs (CuPy 14 wheels without CUDA headers import fine but compile nothing, CuPy's own
elementwise kernels included); ``auto`` otherwise falls back to the CPU with a warning that
says why.
"""

import os
import warnings

import numpy as np

DEVICES = ("auto", "cpu", "gpu")
_state = {"requested": None, "resolved": None, "cupy": None, "cupy_error": None, "probe": None}

_PROBE_SOURCE = r"""
extern "C" __global__ void gpuk_probe(float* x) { x[threadIdx.x] += 1.0f; }
"""


def _import_cupy():
    """Import CuPy once; return it, or None with the reason remembered."""
    if _state["cupy"] is None and _state["cupy_error"] is None:
        try:
            import cupy
        except Exception as error:  # ImportError, or a broken CUDA install raising anything
            _state["cupy_error"] = f"CuPy is not installed or failed to import ({error})"
            return None
        _state["cupy"] = cupy
    return _state["cupy"]


def cupy_module():
    """Return the CuPy module if it imports, else None (never raises)."""
    return _import_cupy()


def gpu_unavailable_reason():
    """Return None when a CUDA device answers, else a sentence saying why not."""
    cupy = _import_cupy()
    if cupy is None:
        return _state["cupy_error"] + "; install gpuk[cuda12]"
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as error:
        return f"no usable CUDA driver ({error})"
    if count < 1:
        return "the CUDA driver reports no GPU device"
    return _kernel_probe(cupy)


def _kernel_probe(cupy):
    """None when a tiny RawKernel and a CuPy elementwise kernel compile and run (checked once
    per process), else a sentence saying why not."""
    if _state["probe"] is None:
        try:
            x = cupy.zeros((32,), dtype=np.float32)
            cupy.RawKernel(_PROBE_SOURCE, "gpuk_probe")((1,), (32,), (x,))
            total = float((x * 2.0).sum())  # an elementwise and a reduction kernel of CuPy's own
            if total != 64.0:
                raise RuntimeError(f"the probe kernel computed {total}, expected 64.0")
            _state["probe"] = ""
        except Exception as error:
            _state["probe"] = (
                f"CUDA kernels do not compile or run ({type(error).__name__}: "
                f"{str(error).strip().splitlines()[0] if str(error).strip() else ''}); "
                "CuPy 14 needs the CUDA headers: install gpuk[cuda12] or gpuk[cuda13] (CuPy with "
                "its [ctk] extra) or a CUDA toolkit"
            )
    return _state["probe"] or None


def set_device(name):
    """Choose where new arrays live: ``'auto'``, ``'cpu'`` or ``'gpu'``.

    Raises:
        ValueError: for an unknown name.
        RuntimeError: for ``'gpu'`` when CuPy or a CUDA device is unavailable, saying why.
    """
    if name not in DEVICES:
        raise ValueError(f"Unknown device {name!r}. Allowed: {', '.join(DEVICES)}")
    _state["requested"] = name
    _state["resolved"] = None
    if name == "gpu":
        device()


def device():
    """Return the device in use, ``'cpu'`` or ``'gpu'``, resolving ``'auto'`` on first call."""
    if _state["resolved"] is None:
        requested = _state["requested"] or os.environ.get("GPUK_DEVICE", "auto").lower()
        if requested not in DEVICES:
            raise ValueError(
                f"GPUK_DEVICE={requested!r} is not a known device. Allowed: {', '.join(DEVICES)}"
            )
        reason = None if requested == "cpu" else gpu_unavailable_reason()
        if requested == "gpu" and reason is not None:
            raise RuntimeError(f"GPU requested but unavailable: {reason}")
        if requested == "auto" and _state["probe"]:
            # a GPU answered but cannot run kernels: say so instead of failing at the first op
            warnings.warn(f"gpuk: using the CPU: {reason}", RuntimeWarning, stacklevel=3)
        _state["resolved"] = "gpu" if requested != "cpu" and reason is None else "cpu"
    return _state["resolved"]


def default_module():
    """Return the array module (numpy or cupy) for the device in use."""
    return _state["cupy"] if device() == "gpu" else np
