"""Tensor: an array (NumPy or CuPy) plus the bookkeeping reverse-mode autodiff needs.

Operators (``+``, ``@``, indexing, comparisons ...) are attached by ``gpuk.ops`` when it is
imported, so that this level stays free of op code.
"""

import numpy as np

from gpuk._array import asarray, get_array_module, is_array, to_numpy
from gpuk._config import floatx


class Tensor:
    """An immutable-by-convention array that can take part in automatic differentiation.

    Attributes:
        data: the underlying ``numpy.ndarray`` or ``cupy.ndarray``.
        requires_grad: whether gradients flow to this tensor.
        node: the recorded operation that produced it, or None for a leaf.
        index: which output of ``node`` this tensor is.
    """

    __array_priority__ = 1000  # NumPy defers to our reflected operators
    __array_ufunc__ = None
    __hash__ = object.__hash__

    def __init__(self, data, requires_grad=False):
        self.data = data
        self.requires_grad = requires_grad
        self.node = None
        self.index = 0

    @property
    def shape(self):
        """The shape as a tuple of ints."""
        return tuple(self.data.shape)

    @property
    def dtype(self):
        """The NumPy dtype (compares equal to its name, e.g. ``'float32'``)."""
        return self.data.dtype

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def size(self):
        return int(self.data.size)

    def __len__(self):
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def numpy(self):
        """Return a NumPy copy of the value (copied from the GPU when needed)."""
        return np.array(to_numpy(self.data))

    def item(self):
        """Return the value of a one-element tensor as a Python number."""
        return to_numpy(self.data).item()

    def __array__(self, dtype=None, copy=None):
        array = to_numpy(self.data)
        return array.astype(dtype) if dtype is not None else array

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        return bool(self.item())

    def __repr__(self):
        grad = ", requires_grad=True" if self.requires_grad else ""
        return f"<gpuk.Tensor shape={self.shape} dtype={self.dtype.name}{grad}\n{self.numpy()!r}>"


def as_array(value, like=None):
    """Return the array inside ``value``; Python numbers and lists take ``like``'s float dtype.

    Keeping scalars in the tensor's dtype stops ``float32 * 0.5`` from becoming float64.
    """
    if isinstance(value, Tensor):
        return value.data
    if is_array(value):
        if like is not None and value.dtype.kind == "f" and like.dtype.kind == "f":
            return asarray(value, dtype=like.dtype, xp=_module_of(like))
        return asarray(value, xp=_module_of(like) if like is not None else None)
    if isinstance(value, (bool, int, float)) and _on_device(like):
        # A NumPy scalar is a kernel argument on the GPU; a 0-d device array would be a
        # host-to-device copy in every op that meets a Python number.
        return np.asarray(value, dtype=_scalar_dtype(value, like))[()]
    dtype = None
    if like is not None and like.dtype.kind in "fc":
        dtype = like.dtype
    elif isinstance(value, float) or (
        isinstance(value, (list, tuple)) and np.asarray(value).dtype.kind == "f"
    ):
        dtype = floatx()
    return asarray(value, dtype=dtype, xp=_module_of(like) if like is not None else None)


def _module_of(array):
    return get_array_module(array)


def _on_device(like):
    return like is not None and not isinstance(like, (np.ndarray, np.generic)) and is_array(like)


def _scalar_dtype(value, like):
    if like.dtype.kind in "fc":
        return like.dtype
    return floatx() if isinstance(value, float) else None


def as_tensor(value, like=None):
    """Wrap ``value`` in a Tensor (a Tensor is returned as it is)."""
    if isinstance(value, Tensor):
        return value
    return Tensor(as_array(value, like))
