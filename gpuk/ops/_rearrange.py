"""``Rearrange``: one Function for every op that only moves, repeats or picks elements.

Its backward replays the same rearrangement on an array of flat positions and scatter-adds the
upstream gradient there (``bincount`` with weights: one kernel, no host sync), so one definition
serves the value and the gradient. Used by ``gpuk.ops.indexing``, ``shaping`` (``pad``) and
``image``.
"""

import numpy as np

from gpuk.autograd import Function, as_tensor
from gpuk.ops._util import xp_of


class Rearrange(Function):
    """``y = fn(xp, x)`` where ``fn`` only moves, repeats or picks elements of ``x``."""

    def forward(self, x):
        self.in_shape, self.size = x.shape, x.size
        return self.fn(xp_of(x), x)

    def backward(self, g):
        xp = xp_of(g)
        positions = self.fn(xp, xp.arange(self.size).reshape(self.in_shape))
        flat = xp.bincount(
            positions.reshape(-1), weights=g.reshape(-1).astype(np.float64), minlength=self.size
        )
        return (flat.astype(g.dtype, copy=False).reshape(self.in_shape),)


def rearrange_op(x, fn):
    """Apply an element-moving ``fn(xp, array)`` to ``x`` with a gradient."""
    return Rearrange.apply(as_tensor(x), fn=fn)
