"""Shape ops: reshape, transpose and indexing."""

import numpy as np

from gpuk.autograd import Function, Tensor
from gpuk.ops._util import xp_of


class Reshape(Function):
    def forward(self, x):
        self.in_shape = x.shape
        try:
            return x.reshape(self.shape)
        except ValueError:
            raise ValueError(
                f"reshape: cannot reshape a tensor of shape {tuple(x.shape)} "
                f"({x.size} elements) into shape {tuple(self.shape)}"
            ) from None

    def backward(self, g):
        return (g.reshape(self.in_shape),)


class Transpose(Function):
    def forward(self, x):
        self.axes_ = tuple(self.axes) if self.axes is not None else tuple(reversed(range(x.ndim)))
        if sorted(a % max(x.ndim, 1) for a in self.axes_) != list(range(x.ndim)):
            raise ValueError(
                f"transpose: axes {self.axes_} are not a permutation of a rank-{x.ndim} tensor"
            )
        return x.transpose(self.axes_)

    def backward(self, g):
        return (g.transpose(np.argsort([a % g.ndim for a in self.axes_])),)


class GetItem(Function):
    """``x[key]`` for ints, slices, Ellipsis, None, integer and boolean arrays."""

    def forward(self, x):
        self.in_shape, self.dtype = x.shape, x.dtype
        return x[self.key]

    def backward(self, g):
        xp = xp_of(g)
        gx = xp.zeros(self.in_shape, dtype=g.dtype)
        if _has_advanced_index(self.key):
            xp.add.at(gx, self.key, g)  # repeated integer indices accumulate
        else:
            gx[self.key] = g
        return (gx,)


def _has_advanced_index(key):
    items = key if isinstance(key, tuple) else (key,)
    return any(not isinstance(k, (int, slice, type(None), type(Ellipsis))) for k in items)


def _plain_key(key, like):
    """Turn Tensor parts of an index into arrays on the indexed tensor's device."""
    if isinstance(key, tuple):
        return tuple(_plain_key(k, like) for k in key)
    if isinstance(key, Tensor):
        return key.data
    if isinstance(key, list):
        return xp_of(like).asarray(key)
    return key


def reshape(x, shape):
    """Reshape to ``shape`` (one entry may be -1)."""
    shape = (shape,) if isinstance(shape, int) else tuple(int(s) for s in shape)
    return Reshape.apply(x, shape=shape)


def transpose(x, axes=None):
    """Permute the axes (reverse them when ``axes`` is None)."""
    return Transpose.apply(x, axes=axes)


def getitem(x, key):
    """``x[key]`` with a gradient that scatters back into x's shape."""
    like = x.data if isinstance(x, Tensor) else np.asarray(x)
    return GetItem.apply(x, key=_plain_key(key, like))
