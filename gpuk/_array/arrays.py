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


def ndimage(xp):
    """``scipy.ndimage`` for NumPy arrays, ``cupyx.scipy.ndimage`` for CuPy arrays.

    Image preprocessing layers interpolate with these (``map_coordinates``), so the same code
    runs on either device. SciPy is imported only when an image layer first needs it.
    """
    if xp is np:
        import scipy.ndimage

        return scipy.ndimage
    try:
        import cupyx.scipy.ndimage
    except ImportError:  # a CuPy without cupyx.scipy: compute on the host, return to xp
        return _HostNdimage(xp)
    return cupyx.scipy.ndimage


class _HostNdimage:
    """``scipy.ndimage`` behind ``xp`` arrays: inputs copied to the host, results back."""

    def __init__(self, xp):
        self._xp = xp

    def __getattr__(self, name):
        import scipy.ndimage

        function = getattr(scipy.ndimage, name)

        def call(*args, **kwargs):
            args = [to_numpy(a) if is_array(a) else a for a in args]
            kwargs = {k: to_numpy(v) if is_array(v) else v for k, v in kwargs.items()}
            return self._xp.asarray(function(*args, **kwargs))

        return call
