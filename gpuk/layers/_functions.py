"""Differentiable helpers the layers need that ``gpuk.ops`` may not offer (yet).

Each public helper prefers the ``gpuk.ops`` function of the same name when it exists, so the
ops package stays the single implementation once it has it.
"""

import numpy as np

from gpuk import ops
from gpuk.autograd import Function
from gpuk.ops._util import xp_of


class Cast(Function):
    def forward(self, x):
        self.in_dtype = x.dtype
        return x.astype(self.dtype)

    def backward(self, g):
        if np.dtype(self.in_dtype).kind != "f":
            return (None,)
        return (g.astype(self.in_dtype),)


def cast(x, dtype):
    """``x`` converted to ``dtype``; gradients flow back between float types."""
    if hasattr(ops, "cast"):
        return ops.cast(x, dtype)
    return Cast.apply(x, dtype=np.dtype(dtype))


class Concatenate(Function):
    def forward(self, *xs):
        self.sizes = [x.shape[self.axis] for x in xs]
        return xp_of(*xs).concatenate(xs, axis=self.axis)

    def backward(self, g):
        xp = xp_of(g)
        splits = np.cumsum(self.sizes)[:-1].tolist()
        return tuple(xp.split(g, splits, axis=self.axis))


def concatenate(xs, axis=-1):
    """Join tensors along ``axis``."""
    if hasattr(ops, "concatenate"):
        return ops.concatenate(xs, axis=axis)
    return Concatenate.apply(*xs, axis=axis)


class Dropout(Function):
    def forward(self, x):
        xp = xp_of(x)
        keep = 1.0 - self.rate
        noise_shape = self.noise_shape or x.shape
        if xp is np:
            draw = np.random.default_rng(self.seed).random(noise_shape)
        else:
            draw = xp.random.RandomState(self.seed).random_sample(noise_shape)
        self.scale = (draw < keep).astype(x.dtype) / x.dtype.type(keep)
        return x * self.scale

    def backward(self, g):
        return (g * self.scale,)


def dropout(x, rate, noise_shape=None, seed=None):
    """Inverted dropout: zero a fraction ``rate`` of entries, scale the rest by ``1/(1-rate)``."""
    if hasattr(ops, "dropout"):
        return ops.dropout(x, rate, noise_shape=noise_shape, seed=seed)
    from gpuk._array import fresh_seed

    return Dropout.apply(x, rate=rate, noise_shape=noise_shape, seed=fresh_seed())


def expand_dims(x, axis):
    """Insert an axis of size 1 at ``axis``."""
    shape = list(x.shape)
    axis = axis % (len(shape) + 1)
    shape.insert(axis, 1)
    return ops.reshape(x, tuple(shape))
