"""Reductions over axes: sum, mean, max, min, with ``axis`` and ``keepdims``."""

from gpuk.autograd import Function
from gpuk.ops._util import normalize_axis, xp_of


def _restore_dims(g, axes, keepdims):
    """Re-insert reduced axes so ``g`` broadcasts against the input."""
    if keepdims:
        return g
    xp = xp_of(g)
    for a in sorted(axes):
        g = xp.expand_dims(g, a)
    return g


class Sum(Function):
    def forward(self, x):
        self.axes = normalize_axis(self.axis, x.ndim)
        self.shape = x.shape
        return x.sum(axis=self.axes, keepdims=self.keepdims)

    def backward(self, g):
        g = _restore_dims(g, self.axes, self.keepdims)
        return (xp_of(g).broadcast_to(g, self.shape).copy(),)


class Mean(Function):
    def forward(self, x):
        self.axes = normalize_axis(self.axis, x.ndim)
        self.shape = x.shape
        self.count = 1
        for a in self.axes:
            self.count *= x.shape[a]
        return x.mean(axis=self.axes, keepdims=self.keepdims)

    def backward(self, g):
        g = _restore_dims(g, self.axes, self.keepdims) / self.count
        return (xp_of(g).broadcast_to(g, self.shape).astype(g.dtype),)


class _Extreme(Function):
    """max/min: the gradient is shared equally among tied extreme values (as TensorFlow)."""

    def forward(self, x):
        self.axes = normalize_axis(self.axis, x.ndim)
        y = self.reduce(x, axis=self.axes, keepdims=True)
        self.hit = (x == y).astype(x.dtype)
        return y if self.keepdims else y.squeeze(axis=self.axes)

    def backward(self, g):
        g = _restore_dims(g, self.axes, self.keepdims)
        count = self.hit.sum(axis=self.axes, keepdims=True)
        return (g * self.hit / count,)


class Max(_Extreme):
    @staticmethod
    def reduce(x, axis, keepdims):
        return x.max(axis=axis, keepdims=keepdims)


class Min(_Extreme):
    @staticmethod
    def reduce(x, axis, keepdims):
        return x.min(axis=axis, keepdims=keepdims)


def sum(x, axis=None, keepdims=False):
    """Sum over ``axis`` (an int, a tuple, or None for all)."""
    return Sum.apply(x, axis=axis, keepdims=keepdims)


def mean(x, axis=None, keepdims=False):
    """Mean over ``axis`` (an int, a tuple, or None for all)."""
    return Mean.apply(x, axis=axis, keepdims=keepdims)


def max(x, axis=None, keepdims=False):
    """Maximum over ``axis``; tied maxima share the gradient."""
    return Max.apply(x, axis=axis, keepdims=keepdims)


def min(x, axis=None, keepdims=False):
    """Minimum over ``axis``; tied minima share the gradient."""
    return Min.apply(x, axis=axis, keepdims=keepdims)
