"""Keras 3's slicing, scattering and segment ops: ``slice``, ``slice_update``, ``scatter``,
``scatter_update``, ``segment_sum/max/min/prod``, ``unravel_index``, ``extract_sequences``.

Index tensors stay on the device: no values are read back except the segment count when
``num_segments`` is not given.
"""

import numpy as np

from gpuk.autograd import Function, Tensor, as_tensor
from gpuk.ops._util import xp_of
from gpuk.ops.indexing import rearrange_op

__all__ = [
    "extract_sequences",
    "scatter",
    "scatter_update",
    "segment_max",
    "segment_min",
    "segment_prod",
    "segment_sum",
    "slice",
    "slice_update",
    "unravel_index",
]

_py_slice = slice  # the builtin, before this module's ``slice`` op shadows it


def _ints(values):
    if isinstance(values, Tensor):
        values = values.numpy().tolist()
    elif hasattr(values, "tolist"):
        values = values.tolist()
    return [int(v) for v in values]


def slice(inputs, start_indices, shape):
    """The block of ``inputs`` of ``shape`` starting at ``start_indices`` (``-1`` in
    ``shape`` takes the rest of that axis). Starts are clamped so the block fits, as XLA."""
    x = as_tensor(inputs)
    starts, sizes = _ints(start_indices), _ints(shape)
    if len(starts) != x.ndim or len(sizes) != x.ndim:
        raise ValueError(
            f"slice: start_indices {starts} and shape {sizes} need one entry per axis of "
            f"the input of shape {x.shape}"
        )
    key = []
    for s, n, dim in zip(starts, sizes, x.shape):
        n = dim - s if n == -1 else n
        s = min(max(s, 0), dim - n)
        key.append(_py_slice(s, s + n))
    key = tuple(key)
    return rearrange_op(x, lambda xp, a: a[key])


def _block(x_shape, starts, u_shape):
    key = []
    for s, n, dim in zip(starts, u_shape, x_shape):
        s = min(max(s, 0), dim - n)
        key.append(_py_slice(s, s + n))
    return tuple(key)


class SliceUpdate(Function):
    def forward(self, x, u):
        out = x.copy()
        out[self.key] = u.astype(x.dtype, copy=False)
        return out

    def backward(self, g):
        gx = g.copy()
        gx[self.key] = 0
        return gx, g[self.key].copy()


def slice_update(inputs, start_indices, updates):
    """``inputs`` with the block at ``start_indices`` replaced by ``updates``; gradients flow
    to both (none to the overwritten part of ``inputs``)."""
    x = as_tensor(inputs)
    u = as_tensor(updates, x.data)
    starts = _ints(start_indices)
    if len(starts) != x.ndim or u.ndim != x.ndim:
        raise ValueError(
            f"slice_update: inputs {x.shape}, updates {u.shape} and start_indices {starts} "
            "must have the same rank"
        )
    return SliceUpdate.apply(x, u, key=_block(x.shape, starts, u.shape))


def _index_tuple(indices, like):
    idx = indices.data if isinstance(indices, Tensor) else indices
    idx = xp_of(like).asarray(idx)
    if idx.dtype.kind not in "iu":
        idx = idx.astype(np.int64)
    return tuple(idx[..., k] for k in range(idx.shape[-1]))


class Scatter(Function):
    def forward(self, values):
        xp = xp_of(values)
        out = xp.zeros(self.shape, dtype=values.dtype)
        xp.add.at(out, self.key, values)
        return out

    def backward(self, g):
        return (g[self.key],)


def scatter(indices, values, shape):
    """Zeros of ``shape`` with ``values`` added at ``indices`` (``(..., k)`` coordinates into
    the first ``k`` axes); repeated indices add up."""
    values = as_tensor(values)
    shape = tuple(_ints(shape))
    return Scatter.apply(values, key=_index_tuple(indices, values.data), shape=shape)


class ScatterUpdate(Function):
    def forward(self, x, u):
        xp = xp_of(x)
        out = x.copy()
        u = u.astype(x.dtype, copy=False)
        if self.reduction is None:
            out[self.key] = u
        else:
            ufunc = {"add": xp.add, "max": xp.maximum, "min": xp.minimum, "mul": xp.multiply}
            ufunc[self.reduction].at(out, self.key, u)
        return out

    def backward(self, g):
        if self.reduction not in (None, "add"):
            raise NotImplementedError(
                f"scatter_update: no gradient for reduction={self.reduction!r} in gpuk"
            )
        gx = g.copy()
        if self.reduction is None:
            gx[self.key] = 0
        return gx, g[self.key]


def scatter_update(inputs, indices, updates, reduction=None):
    """``inputs`` with ``updates`` written at ``indices`` (``(N, k)`` coordinates), or
    combined there with ``reduction`` in ``'add'``, ``'max'``, ``'min'``, ``'mul'``."""
    if reduction not in (None, "add", "max", "min", "mul"):
        raise ValueError(
            f"scatter_update: reduction must be None, 'add', 'max', 'min' or 'mul', "
            f"got {reduction!r}"
        )
    x = as_tensor(inputs)
    u = as_tensor(updates, x.data)
    return ScatterUpdate.apply(x, u, key=_index_tuple(indices, x.data), reduction=reduction)


def _segments(data, segment_ids, num_segments):
    data = as_tensor(data)
    ids = segment_ids.data if isinstance(segment_ids, Tensor) else segment_ids
    ids = xp_of(data.data).asarray(ids).astype(np.int64)
    if num_segments is None:
        num_segments = int(ids.max()) + 1 if ids.size else 0
    return data, ids, int(num_segments)


class SegmentReduce(Function):
    def forward(self, x):
        xp = xp_of(x)
        ids = self.ids
        valid = (ids >= 0) & (ids < self.n)
        safe = xp.where(valid, ids, 0)
        shape = (self.n,) + x.shape[1:]
        fill = {"sum": 0, "prod": 1, "max": -np.inf, "min": np.inf}[self.kind]
        if x.dtype.kind in "iu" and self.kind in ("max", "min"):
            info = np.iinfo(x.dtype)
            fill = info.min if self.kind == "max" else info.max
        out = xp.full(shape, fill, dtype=x.dtype)
        ufunc = {"sum": xp.add, "prod": xp.multiply, "max": xp.maximum, "min": xp.minimum}
        contrib = xp.where(valid.reshape((-1,) + (1,) * (x.ndim - 1)), x, xp.asarray(fill, x.dtype))
        if self.kind == "prod" and xp is not np:
            out = _product_by_logs(xp, contrib, safe, shape)
        else:
            ufunc[self.kind].at(out, safe, contrib)
        self.x, self.out, self.valid, self.safe = x, out, valid, safe
        return out

    def backward(self, g):
        xp = xp_of(g)
        mask = self.valid.reshape((-1,) + (1,) * (g.ndim - 1))
        picked = g[self.safe]
        if self.kind == "sum":
            gx = picked
        elif self.kind == "prod":
            gx = picked * self.out[self.safe] / self.x
        else:
            hit = (self.x == self.out[self.safe]).astype(g.dtype) * mask
            counts = xp.zeros(self.out.shape, dtype=g.dtype)
            xp.add.at(counts, self.safe, hit)
            gx = picked * hit / xp.maximum(counts[self.safe], 1)
        return (xp.where(mask, gx, xp.zeros((), dtype=g.dtype)),)


def _product_by_logs(xp, values, ids, shape):
    """Segment products from scatter-added logs, signs and zero counts: CuPy's ``ufunc.at``
    has no ``multiply``."""
    zero = values == 0
    logs = xp.zeros(shape, dtype=values.dtype)
    xp.add.at(logs, ids, xp.log(xp.where(zero, xp.ones_like(values), xp.abs(values))))
    negatives = xp.zeros(shape, dtype=values.dtype)
    xp.add.at(negatives, ids, (values < 0).astype(values.dtype))
    zeros = xp.zeros(shape, dtype=values.dtype)
    xp.add.at(zeros, ids, zero.astype(values.dtype))
    sign = 1 - 2 * (negatives % 2)
    return xp.where(zeros > 0, xp.zeros_like(logs), sign * xp.exp(logs))


def _segment(kind, data, segment_ids, num_segments):
    x, ids, n = _segments(data, segment_ids, num_segments)
    if ids.ndim != 1 or ids.shape[0] != x.shape[0]:
        raise ValueError(
            f"segment_{kind}: segment_ids must be 1-D with one id per row of data {x.shape}, "
            f"got shape {tuple(ids.shape)}"
        )
    return SegmentReduce.apply(x, ids=ids, n=n, kind=kind)


def segment_sum(data, segment_ids, num_segments=None, sorted=False):
    """Sum of the rows of ``data`` sharing a segment id (ids outside the range are dropped)."""
    return _segment("sum", data, segment_ids, num_segments)


def segment_prod(data, segment_ids, num_segments=None, sorted=False):
    """Product of the rows of ``data`` sharing a segment id (1 for empty segments)."""
    return _segment("prod", data, segment_ids, num_segments)


def segment_max(data, segment_ids, num_segments=None, sorted=False):
    """Maximum of the rows sharing a segment id (the dtype's lowest value when empty)."""
    return _segment("max", data, segment_ids, num_segments)


def segment_min(data, segment_ids, num_segments=None, sorted=False):
    """Minimum of the rows sharing a segment id (the dtype's highest value when empty)."""
    return _segment("min", data, segment_ids, num_segments)


def unravel_index(indices, shape):
    """Flat ``indices`` to a tuple of int32 coordinate tensors for ``shape``."""
    data = indices.data if isinstance(indices, Tensor) else xp_of(indices).asarray(indices)
    xp = xp_of(data)
    coords = xp.unravel_index(data, tuple(_ints(shape)))
    return tuple(Tensor(c.astype(np.int32)) for c in coords)


def extract_sequences(x, sequence_length, sequence_stride):
    """Frames of ``sequence_length`` taken every ``sequence_stride`` along the last axis:
    shape ``(..., num_frames, sequence_length)``."""
    x = as_tensor(x)
    n, length, stride = x.shape[-1], int(sequence_length), int(sequence_stride)
    frames = 1 + (n - length) // stride if n >= length else 0
    xp = xp_of(x.data)
    idx = xp.arange(frames)[:, None] * stride + xp.arange(length)[None, :]
    return rearrange_op(x, lambda xp_, a: a[..., idx])
