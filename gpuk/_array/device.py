"""Which array module new arrays use: NumPy on the CPU or CuPy on a CUDA GPU.

The choice comes from ``gpuk.config.set_device`` or the ``GPUK_DEVICE`` environment
variable (``auto``, ``cpu`` or ``gpu``). ``auto`` is resolved once, lazily, on first use.
"""

import os

import numpy as np

DEVICES = ("auto", "cpu", "gpu")
_state = {"requested": None, "resolved": None, "cupy": None, "cupy_error": None}


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
    return None


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
        _state["resolved"] = "gpu" if requested != "cpu" and reason is None else "cpu"
    return _state["resolved"]


def default_module():
    """Return the array module (numpy or cupy) for the device in use."""
    return _state["cupy"] if device() == "gpu" else np
