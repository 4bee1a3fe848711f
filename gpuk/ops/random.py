"""Random tensors and dropout, drawn from gpuk's seeded generators.

Without ``seed`` the shared generator of the current device is used (reset by
``gpuk.utils.set_random_seed``); a given ``seed`` makes a fresh generator, so equal seeds give
equal draws.
"""

import numpy as np

from gpuk._array import default_module, generator
from gpuk._array.graphs import refuse_in_capture
from gpuk._config import floatx
from gpuk.autograd import Function, Tensor, as_tensor
from gpuk.ops._util import xp_of


def _generator(xp, seed):
    if seed is None:
        return generator(xp)  # in a captured step: the graph's device random stream
    refuse_in_capture("a seeded random draw")
    if xp is np:
        return np.random.default_rng(int(seed))
    return xp.random.RandomState(int(seed))


def _float_dtype(dtype):
    dtype = np.dtype(dtype or floatx())
    if dtype.kind != "f":
        raise ValueError(f"random ops need a float dtype, got {dtype.name!r}")
    return dtype


def _shape(shape):
    if isinstance(shape, Tensor):
        shape = shape.numpy().tolist()
    return (int(shape),) if np.ndim(shape) == 0 else tuple(int(s) for s in shape)


def _uniform(xp, shape, seed, dtype):
    rng = _generator(xp, seed)
    return rng.uniform(0.0, 1.0, size=shape).astype(dtype, copy=False)


def random_uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """Uniform samples in ``[minval, maxval)`` of the given ``shape``."""
    xp = default_module()
    dtype = _float_dtype(dtype)
    u = _uniform(xp, _shape(shape), seed, dtype)
    return Tensor((minval + (maxval - minval) * u).astype(dtype, copy=False))


def random_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Normal samples with the given ``mean`` and ``stddev``."""
    xp = default_module()
    dtype = _float_dtype(dtype)
    rng = _generator(xp, seed)
    z = rng.normal(0.0, 1.0, size=_shape(shape))
    return Tensor((mean + stddev * z).astype(dtype, copy=False))


def random_binomial(shape, p=0.0, dtype=None, seed=None):
    """Bernoulli samples: 1 with probability ``p``, else 0 (Keras's ``random_binomial``)."""
    xp = default_module()
    dtype = _float_dtype(dtype)
    u = _uniform(xp, _shape(shape), seed, np.float64)
    return Tensor((u < p).astype(dtype))


class _Mask(Function):
    """Multiply by a fixed mask (already scaled); the gradient goes through the mask."""

    def forward(self, x):
        return (x * self.mask).astype(x.dtype, copy=False)

    def backward(self, g):
        return ((g * self.mask).astype(g.dtype, copy=False),)


def dropout(x, rate, noise_shape=None, seed=None):
    """Inverted dropout: zero each unit with probability ``rate``, scale the rest by
    ``1 / (1 - rate)``.

    Args:
        x: input tensor.
        rate: fraction of units to drop, in ``[0, 1)``.
        noise_shape: shape of the keep/drop mask, broadcast against ``x`` (e.g. ``(batch, 1,
            features)`` to drop the same features at every time step); entries may be None to
            take ``x``'s size.
        seed: optional integer for a reproducible mask.
    """
    x = as_tensor(x)
    rate = float(rate)
    if not 0.0 <= rate < 1.0:
        raise ValueError(f"dropout: rate must be in [0, 1), got {rate}")
    if rate == 0.0:
        return x
    xp = xp_of(x.data)
    if noise_shape is None:
        shape = x.shape
    else:
        shape = tuple(x.shape[i] if s is None else int(s) for i, s in enumerate(noise_shape))
        try:
            np.broadcast_shapes(shape, x.shape)
        except ValueError:
            raise ValueError(
                f"dropout: noise_shape {tuple(noise_shape)} does not broadcast to the input "
                f"shape {x.shape}"
            ) from None
    keep = _uniform(xp, shape, seed, np.float64) >= rate
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(floatx())
    mask = keep.astype(dtype) * dtype.type(1.0 / (1.0 - rate))
    return _Mask.apply(x, mask=mask)
