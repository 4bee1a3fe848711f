"""Reductions over axes (sum, mean, max, min, prod, var, std, logsumexp, arg/any/all)."""

from gpuk.autograd import Function, Tensor, as_array
from gpuk.ops._util import normalize_axis, xp_of
from gpuk.ops.math import sqrt


def _restore_dims(g, axes, keepdims):
    """Re-insert reduced axes so ``g`` broadcasts against the input."""
    if keepdims:
        return g
    shape = list(g.shape)
    for a in sorted(axes):
        shape.insert(a, 1)
    return g.reshape(shape)


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


def max(x, axis=None, keepdims=False, initial=None):
    """Maximum over ``axis``; tied maxima share the gradient. ``initial`` is a lower bound
    included in the reduction."""
    out = Max.apply(x, axis=axis, keepdims=keepdims)
    return out if initial is None else _bound(out, initial, "maximum")


def min(x, axis=None, keepdims=False, initial=None):
    """Minimum over ``axis``; tied minima share the gradient. ``initial`` is an upper bound
    included in the reduction."""
    out = Min.apply(x, axis=axis, keepdims=keepdims)
    return out if initial is None else _bound(out, initial, "minimum")


def _bound(out, initial, name):
    from gpuk.ops import math

    return getattr(math, name)(out, initial)


class Prod(Function):
    """Product; the gradient is the product of the other factors (exact with zeros too)."""

    def forward(self, x):
        self.axes = normalize_axis(self.axis, x.ndim)
        self.x = x
        return x.prod(axis=self.axes, keepdims=self.keepdims)

    def backward(self, g):
        xp = xp_of(g)
        x = self.x
        g = _restore_dims(g, self.axes, self.keepdims)
        # Move reduced axes last, flatten them, and multiply exclusive prefix and suffix
        # products: no division, so zeros in x give the right gradient.
        kept = [a for a in range(x.ndim) if a not in self.axes]
        order = kept + list(self.axes)
        moved = x.transpose(order)
        lead = moved.shape[: len(kept)]
        flat = moved.reshape(lead + (-1,))
        ones = xp.ones(lead + (1,), dtype=x.dtype)
        prefix = xp.cumprod(xp.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
        suffix = xp.cumprod(xp.concatenate([ones, flat[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
        others = (prefix * suffix).reshape(moved.shape).transpose(tuple(_inverse(order)))
        return ((g * others).astype(x.dtype, copy=False),)


def _inverse(order):
    inverse = [0] * len(order)
    for i, a in enumerate(order):
        inverse[a] = i
    return inverse


class Var(Function):
    """Population variance (``ddof=0``), as Keras's ``var``."""

    def forward(self, x):
        self.axes = normalize_axis(self.axis, x.ndim)
        count = 1
        for a in self.axes:
            count *= x.shape[a]
        self.count = count
        self.centered = x - x.mean(axis=self.axes, keepdims=True)
        return (self.centered * self.centered).mean(axis=self.axes, keepdims=self.keepdims)

    def backward(self, g):
        g = _restore_dims(g, self.axes, self.keepdims)
        return ((g * (2.0 / self.count) * self.centered).astype(self.centered.dtype),)


class LogSumExp(Function):
    def forward(self, x):
        xp = xp_of(x)
        self.axes = normalize_axis(self.axis, x.ndim)
        m = x.max(axis=self.axes, keepdims=True)
        # A row of -inf would give nan after the shift; keep it -inf as the math says.
        m = xp.where(xp.isfinite(m), m, xp.zeros_like(m))
        y = xp.log(xp.exp(x - m).sum(axis=self.axes, keepdims=True)) + m
        self.x, self.y = x, y
        return y if self.keepdims else y.squeeze(axis=self.axes)

    def backward(self, g):
        xp = xp_of(g)
        g = _restore_dims(g, self.axes, self.keepdims)
        return (g * xp.exp(self.x - self.y),)


def prod(x, axis=None, keepdims=False, dtype=None):
    """Product over ``axis`` (an int, a tuple, or None for all), in ``dtype`` if given."""
    if dtype is not None:
        from gpuk.ops.shaping import cast

        x = cast(x, dtype)
    return Prod.apply(x, axis=axis, keepdims=keepdims)


def var(x, axis=None, keepdims=False):
    """Population variance over ``axis``."""
    return Var.apply(x, axis=axis, keepdims=keepdims)


def std(x, axis=None, keepdims=False):
    """Population standard deviation over ``axis`` (``sqrt(var)``)."""
    return sqrt(var(x, axis=axis, keepdims=keepdims))


def logsumexp(x, axis=None, keepdims=False):
    """``log(sum(exp(x), axis))`` computed without overflow."""
    return LogSumExp.apply(x, axis=axis, keepdims=keepdims)


def _index_reduction(name, x, axis, keepdims):
    data = as_array(x)
    if axis is None:
        out = getattr(data.reshape(-1), name)()
        out = out.reshape((1,) * data.ndim) if keepdims else out
    else:
        (axis,) = normalize_axis(axis, data.ndim)
        out = getattr(data, name)(axis=axis, keepdims=keepdims)
    return Tensor(out.astype("int32"))


def argmax(x, axis=None, keepdims=False):
    """Index (int32, as Keras 3) of the largest value along ``axis`` (of the flattened
    tensor when None); no gradient."""
    return _index_reduction("argmax", x, axis, keepdims)


def argmin(x, axis=None, keepdims=False):
    """Index (int32, as Keras 3) of the smallest value along ``axis`` (of the flattened
    tensor when None); no gradient."""
    return _index_reduction("argmin", x, axis, keepdims)


def any(x, axis=None, keepdims=False):
    """Logical OR over ``axis``; a boolean tensor, no gradient."""
    data = as_array(x)
    return Tensor(data.astype(bool).any(axis=normalize_axis(axis, data.ndim), keepdims=keepdims))


def all(x, axis=None, keepdims=False):
    """Logical AND over ``axis``; a boolean tensor, no gradient."""
    data = as_array(x)
    return Tensor(data.astype(bool).all(axis=normalize_axis(axis, data.ndim), keepdims=keepdims))
