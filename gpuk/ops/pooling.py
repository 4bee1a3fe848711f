"""Pooling with Keras 3's ``keras.ops`` signatures: ``max_pool``, ``average_pool``,
``adaptive_max_pool``, ``adaptive_average_pool``.

Windows are gathered one kernel tap at a time (see ``gpuk.ops._windows``) and reduced in one
call. ``"same"`` padding follows TensorFlow/JAX: max pooling pads with ``-inf``, average
pooling divides by the number of real (unpadded) elements in each window. The max gradient
goes to the first maximum of each window. Adaptive pooling uses PyTorch's bins
(``floor(i * n / out)`` to ``ceil((i + 1) * n / out)``), as Keras 3 does.
"""

import numpy as np

from gpuk.autograd import Function, Tensor, as_array
from gpuk.ops import _windows as W
from gpuk.ops._util import xp_of
from gpuk.ops.linalg import tensordot
from gpuk.ops.reduce import max as reduce_max
from gpuk.ops.shaping import gather, transpose


class Pool(Function):
    """params: mode ('max'/'average'), pool, strides, pads, data_format.

    Reduces tap by tap (a running maximum or sum over the ``prod(pool)`` strided views), so no
    window copy is made; the max backward routes each gradient to the first maximum.
    """

    def forward(self, x):
        xp = xp_of(x)
        x = W.to_channels_last(xp, x, self.data_format)
        self.in_sizes = x.shape[1:-1]
        fill = -np.inf if self.mode == "max" else 0
        xpad = W.pad_spatial(xp, x, self.pads, fill)
        self.out_sizes = tuple(
            (n - k) // s + 1 for n, k, s in zip(xpad.shape[1:-1], self.pool, self.strides)
        )
        views = self._views(xpad)
        y = next(views).copy()
        combine = xp.maximum if self.mode == "max" else xp.add
        for view in views:
            combine(y, view, out=y)
        if self.mode == "max":
            if any(self.needs_input_grad):
                self.xpad, self.y = xpad, y
        else:
            self.counts = xp.asarray(self._counts(), dtype=x.dtype)
            y = y / self.counts
        self.padded_shape = xpad.shape
        return W.from_channels_last(xp, y.astype(x.dtype, copy=False), self.data_format)

    def _views(self, xpad):
        for offsets in W.taps(self.pool):
            key = W.tap_slices(offsets, (1,) * len(self.pool), self.out_sizes, self.strides)
            yield xpad[(slice(None), *key)]

    def _counts(self):
        """Real elements per window, ``(1, *out, 1)`` (the padded ones do not count)."""
        counts = np.ones((), dtype=np.float64)
        for n, k, s, (lo, _), out in zip(
            self.in_sizes, self.pool, self.strides, self.pads, self.out_sizes
        ):
            start = np.arange(out) * s - lo
            size = np.minimum(start + k, n) - np.maximum(start, 0)
            counts = np.multiply.outer(counts, size)
        return counts.reshape(1, *self.out_sizes, 1)

    def backward(self, grad):
        xp = xp_of(grad)
        g = W.to_channels_last(xp, grad, self.data_format)
        dpad = xp.zeros(self.padded_shape, dtype=g.dtype)
        ones = (1,) * len(self.pool)
        if self.mode == "max":
            free = xp.ones(g.shape, dtype=bool)
            for offsets, view in zip(W.taps(self.pool), self._views(self.xpad)):
                hit = free & (view == self.y)
                free &= ~hit
                key = W.tap_slices(offsets, ones, self.out_sizes, self.strides)
                dpad[(slice(None), *key)] += g * hit
        else:
            share = (g / self.counts).astype(g.dtype, copy=False)
            for offsets in W.taps(self.pool):
                key = W.tap_slices(offsets, ones, self.out_sizes, self.strides)
                dpad[(slice(None), *key)] += share
        dx = W.crop_spatial(dpad, self.pads, self.in_sizes)
        return (W.from_channels_last(xp, dx, self.data_format),)


def _pool(op, mode, inputs, pool_size, strides, padding, data_format):
    inputs = inputs if isinstance(inputs, Tensor) else Tensor(as_array(inputs))
    if inputs.ndim < 3:
        raise ValueError(
            f"{op}: inputs must have rank 3 or more (batch, spatial..., channels), "
            f"received shape {inputs.shape}"
        )
    rank = inputs.ndim - 2
    data_format = W.normalize_data_format(data_format, op)
    padding = W.normalize_padding(padding, op)
    pool = W.normalize_tuple(pool_size, rank, "pool_size", op)
    strides = pool if strides is None else W.normalize_tuple(strides, rank, "strides", op)
    sizes = inputs.shape[2:] if data_format == "channels_first" else inputs.shape[1:-1]
    pads = [W.padding_amounts(n, k, s, 1, padding) for n, k, s in zip(sizes, pool, strides)]
    if padding == "valid" and any(n < k for n, k in zip(sizes, pool)):
        raise ValueError(
            f"{op}: pool_size {pool} is larger than the input's spatial size {tuple(sizes)} "
            f"with padding='valid' (input shape {inputs.shape})"
        )
    return Pool.apply(
        inputs, mode=mode, pool=pool, strides=strides, pads=pads, data_format=data_format
    )


def max_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """Max pooling over the spatial axes as ``keras.ops.max_pool`` (``strides`` defaults to
    ``pool_size``)."""
    return _pool("max_pool", "max", inputs, pool_size, strides, padding, data_format)


def average_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """Average pooling as ``keras.ops.average_pool``; with ``"same"`` padding each window is
    averaged over its real elements only."""
    return _pool("average_pool", "average", inputs, pool_size, strides, padding, data_format)


# ----------------------------------------------------------------------------- adaptive


def _bins(length, out):
    starts = [(i * length) // out for i in range(out)]
    ends = [-((-(i + 1) * length) // out) for i in range(out)]
    return starts, ends


def _adaptive(op, mode, inputs, output_size, data_format):
    inputs = inputs if isinstance(inputs, Tensor) else Tensor(as_array(inputs))
    rank = inputs.ndim - 2
    if rank not in (1, 2, 3):
        raise ValueError(
            f"{op}: inputs must be 3-D, 4-D or 5-D (batch, spatial..., channels), "
            f"received shape {inputs.shape}"
        )
    data_format = W.normalize_data_format(data_format, op)
    sizes = W.normalize_tuple(output_size, rank, "output_size", op)
    offset = 2 if data_format == "channels_first" else 1
    x = inputs
    xp = xp_of(inputs.data)
    for i, out in enumerate(sizes):
        axis = offset + i
        length = x.shape[axis]
        if out <= 0 or length is None:
            raise ValueError(f"{op}: output_size must be positive, received {output_size!r}")
        starts, ends = _bins(length, out)
        if mode == "average":
            weights = np.zeros((length, out), dtype=x.dtype)
            for j, (a, b) in enumerate(zip(starts, ends)):
                weights[a:b, j] = 1.0 / (b - a)
            moved = tensordot(x, Tensor(xp.asarray(weights)), axes=[[axis], [0]])
            order = list(range(moved.ndim))
            order.insert(axis, order.pop())
            x = transpose(moved, order)
        else:
            width = max(b - a for a, b in zip(starts, ends))
            index = np.array(
                [[min(a + k, b - 1) for k in range(width)] for a, b in zip(starts, ends)]
            )
            picked = gather(x, xp.asarray(index), axis=axis)  # axis -> (out, width)
            x = reduce_max(picked, axis=axis + 1)
    return x


def adaptive_average_pool(inputs, output_size, data_format=None):
    """Average over ``output_size`` adaptive bins per spatial axis (PyTorch's bins)."""
    return _adaptive("adaptive_average_pool", "average", inputs, output_size, data_format)


def adaptive_max_pool(inputs, output_size, data_format=None):
    """Maximum over ``output_size`` adaptive bins per spatial axis (PyTorch's bins)."""
    return _adaptive("adaptive_max_pool", "max", inputs, output_size, data_format)


__all__ = ["adaptive_average_pool", "adaptive_max_pool", "average_pool", "max_pool"]
