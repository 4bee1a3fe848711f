"""Keras 3's array-creation functions: ranges, identity-like matrices, filled arrays,
meshgrids and window functions, created on the current device.

Default dtypes follow Keras: float results use ``floatx()``, integer ranges ``int32``.
"""

import numpy as np

from gpuk._array import asarray, default_module
from gpuk._config import floatx
from gpuk.autograd import Tensor, as_tensor
from gpuk.ops._util import xp_of
from gpuk.ops.math import multiply
from gpuk.ops.shaping import cast, concatenate, expand_dims, ones_like

__all__ = [
    "arange",
    "array",
    "bartlett",
    "blackman",
    "copy",
    "empty",
    "empty_like",
    "eye",
    "full",
    "full_like",
    "geomspace",
    "hamming",
    "hanning",
    "identity",
    "kaiser",
    "linspace",
    "logspace",
    "meshgrid",
    "ones",
    "tri",
    "vander",
    "zeros",
]


def _dtype(dtype, default):
    return np.dtype(dtype) if dtype is not None else np.dtype(default)


def _scalar(value):
    if isinstance(value, Tensor):
        return value.item()
    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        return value.item()
    return value


def _shape(shape):
    if isinstance(shape, Tensor):
        shape = shape.numpy().tolist()
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    return tuple(int(s) for s in shape)


def _is_float(*values):
    return any(isinstance(v, float) or np.asarray(v).dtype.kind == "f" for v in values)


def arange(start, stop=None, step=None, dtype=None):
    """Evenly spaced values in ``[start, stop)``; ``int32`` for ints, ``floatx()`` for floats."""
    start, stop, step = _scalar(start), _scalar(stop), _scalar(step)
    if stop is None:
        start, stop = 0, start
    if step is None:
        step = 1
    if step == 0:
        raise ValueError("arange: step must not be 0")
    default = floatx() if _is_float(start, stop, step) else "int32"
    return Tensor(default_module().arange(start, stop, step, dtype=_dtype(dtype, default)))


def _spaced(start, stop, num, endpoint, dtype, axis, fn):
    # Computed by NumPy on the host (the endpoints are a few numbers), then moved to the
    # device: CuPy lacks some of these functions for array endpoints.
    start_a = np.asarray(start.numpy() if isinstance(start, Tensor) else start, dtype=np.float64)
    stop_a = np.asarray(stop.numpy() if isinstance(stop, Tensor) else stop, dtype=np.float64)
    out = fn(np, start_a, stop_a, int(num), bool(endpoint), int(axis))
    return asarray(out.astype(_dtype(dtype, floatx())), xp=default_module())


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """``num`` evenly spaced values from ``start`` to ``stop`` (array endpoints broadcast)."""
    out = _spaced(
        start,
        stop,
        num,
        endpoint,
        dtype,
        axis,
        lambda xp, a, b, n, e, ax: xp.linspace(a, b, n, endpoint=e, axis=ax),
    )
    if retstep:
        div = (num - 1) if endpoint else num
        step = (np.asarray(_scalar(stop), dtype=float) - np.asarray(_scalar(start))) / max(div, 1)
        return Tensor(out), Tensor(asarray(step, dtype=out.dtype))
    return Tensor(out)


def logspace(start, stop, num=50, endpoint=True, base=10, dtype=None, axis=0):
    """``base ** linspace(start, stop, num)``."""
    return Tensor(
        _spaced(
            start,
            stop,
            num,
            endpoint,
            dtype,
            axis,
            lambda xp, a, b, n, e, ax: xp.logspace(a, b, n, endpoint=e, base=base, axis=ax),
        )
    )


def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    """``num`` values spaced evenly on a log scale from ``start`` to ``stop``."""
    return Tensor(
        _spaced(
            start,
            stop,
            num,
            endpoint,
            dtype,
            axis,
            lambda xp, a, b, n, e, ax: xp.geomspace(a, b, n, endpoint=e, axis=ax),
        )
    )


def eye(N, M=None, k=0, dtype=None):
    """An ``N x M`` matrix with ones on the ``k``-th diagonal."""
    return Tensor(default_module().eye(int(N), None if M is None else int(M), int(k),
                                       dtype=_dtype(dtype, floatx())))  # fmt: skip


def identity(n, dtype=None):
    """The ``n x n`` identity matrix."""
    return eye(n, dtype=dtype)


def tri(N, M=None, k=0, dtype=None):
    """Ones at and below the ``k``-th diagonal of an ``N x M`` matrix."""
    xp = default_module()
    return Tensor(xp.tri(int(N), None if M is None else int(M), int(k),
                         dtype=_dtype(dtype, floatx())))  # fmt: skip


def zeros(shape, dtype=None):
    """A tensor of zeros (``floatx()`` by default)."""
    return Tensor(default_module().zeros(_shape(shape), dtype=_dtype(dtype, floatx())))


def ones(shape, dtype=None):
    """A tensor of ones (``floatx()`` by default)."""
    return Tensor(default_module().ones(_shape(shape), dtype=_dtype(dtype, floatx())))


def empty(shape, dtype=None):
    """A tensor of the given shape (zero-filled: gpuk never hands out uninitialised memory)."""
    return zeros(shape, dtype)


def full(shape, fill_value, dtype=None):
    """A tensor filled with ``fill_value`` (``floatx()`` unless ``dtype`` is given)."""
    xp = default_module()
    value = fill_value.data if isinstance(fill_value, Tensor) else fill_value
    out = xp.empty(_shape(shape), dtype=_dtype(dtype, floatx()))
    out[...] = asarray(value, xp=xp)
    return Tensor(out)


def full_like(x, fill_value, dtype=None):
    """A tensor with ``x``'s shape (and dtype unless given) filled with ``fill_value``."""
    data = as_tensor(x).data
    xp = xp_of(data)
    out = xp.empty(data.shape, dtype=_dtype(dtype, data.dtype))
    value = fill_value.data if isinstance(fill_value, Tensor) else fill_value
    out[...] = asarray(value, xp=xp)
    return Tensor(out)


def empty_like(x, dtype=None):
    """A zero-filled tensor with ``x``'s shape (and dtype unless given)."""
    data = as_tensor(x).data
    return Tensor(xp_of(data).zeros(data.shape, dtype=_dtype(dtype, data.dtype)))


def array(x, dtype=None):
    """``x`` as a tensor on the current device (``convert_to_tensor``)."""
    from gpuk.ops.core import convert_to_tensor

    return convert_to_tensor(x, dtype=dtype)


def copy(x):
    """A copy of ``x`` (gradients flow through it)."""
    return multiply(as_tensor(x), 1) if as_tensor(x).dtype.kind in "fc" else _copy(x)


def _copy(x):
    data = as_tensor(x).data
    return Tensor(data.copy())


def meshgrid(*x, indexing="xy"):
    """Coordinate grids from 1-D tensors (``'xy'`` Cartesian or ``'ij'`` matrix indexing).

    Returns a list of tensors; gradients flow back to each input.
    """
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}")
    from gpuk.ops.indexing import broadcast_to
    from gpuk.ops.shaping import reshape

    tensors = [as_tensor(v) for v in x]
    sizes = [t.size for t in tensors]
    if indexing == "xy" and len(tensors) >= 2:
        sizes[0], sizes[1] = sizes[1], sizes[0]
    out = []
    for i, t in enumerate(tensors):
        axis = i
        if indexing == "xy" and len(tensors) >= 2 and i < 2:
            axis = 1 - i
        shape = [1] * len(tensors)
        shape[axis] = t.size
        out.append(broadcast_to(reshape(t, shape), sizes))
    return out


def vander(x, N=None, increasing=False):
    """The Vandermonde matrix of a 1-D ``x``: columns ``x**(N-1), ..., x, 1`` (reversed when
    ``increasing``); differentiable in ``x``."""
    x = as_tensor(x)
    if x.ndim != 1:
        raise ValueError(f"vander: x must be 1-D, got shape {x.shape}")
    n = x.shape[0] if N is None else int(N)
    col = expand_dims(x, 1)
    columns = [ones_like(col)] if n > 0 else []
    for _ in range(1, n):
        columns.append(multiply(columns[-1], col))
    if not increasing:
        columns = columns[::-1]
    if not columns:
        return Tensor(xp_of(x.data).zeros((x.shape[0], 0), dtype=x.dtype))
    return concatenate(columns, axis=1)


def _window(name, fn, x):
    n = int(_scalar(x))
    return cast(Tensor(asarray(fn(n), xp=default_module())), floatx())


def bartlett(x):
    """The Bartlett (triangular) window of length ``x``."""
    return _window("bartlett", np.bartlett, x)


def blackman(x):
    """The Blackman window of length ``x``."""
    return _window("blackman", np.blackman, x)


def hamming(x):
    """The Hamming window of length ``x``."""
    return _window("hamming", np.hamming, x)


def hanning(x):
    """The Hann window of length ``x``."""
    return _window("hanning", np.hanning, x)


def kaiser(x, beta):
    """The Kaiser window of length ``x`` and shape ``beta``."""
    return _window("kaiser", lambda n: np.kaiser(n, float(_scalar(beta))), x)
