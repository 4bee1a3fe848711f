"""Array helpers that work on NumPy and CuPy arrays alike."""

import numpy as np

from gpuk._array.device import cupy_module, default_module


def get_array_module(*arrays):
    """Return ``cupy`` if any argument is a CuPy array, else ``numpy`` (as Chainer does)."""
    ndarray = np.ndarray
    for a in arrays:  # hot: once per op; NumPy arrays skip the module-name test
        if type(a) is not ndarray and _looks_like_cupy(a):
            cupy = cupy_module()
            if cupy is not None and isinstance(a, cupy.ndarray):
                return cupy
    return np


def _looks_like_cupy(value):
    return type(value).__module__.startswith("cupy")


def is_array(value):
    """True for a NumPy or CuPy ndarray."""
    return isinstance(value, np.ndarray) or (
        _looks_like_cupy(value) and hasattr(value, "__cuda_array_interface__")
    )


def to_numpy(value):
    """Return ``value`` as a NumPy array, copying from the GPU if needed."""
    if _looks_like_cupy(value) and hasattr(value, "get"):
        return value.get()
    return np.asarray(value)


def asarray(value, dtype=None, xp=None):
    """Return ``value`` as an array of module ``xp`` (the current device's by default)."""
    xp = xp or default_module()
    if xp is np:
        return np.asarray(to_numpy(value), dtype=dtype)
    return xp.asarray(value, dtype=dtype)


def cupy_erf():
    """CuPy's fused ``erf`` ufunc (``cupyx.scipy.special.erf``), or None without CuPy.

    The portable series in ``gpuk.ops._special`` costs ~280 elementwise launches per call,
    which on a GPU is pure launch overhead; CuPy's ufunc is one kernel.
    """
    if cupy_module() is None:
        return None
    try:
        from cupyx.scipy.special import erf
    except Exception:  # an install without cupyx.scipy: the portable series is used
        return None
    return erf
