"""Keras 3's rearranging and selecting functions: flips, rolls, axis moves, diagonals,
take, sorting, stacking and splitting.

Every op that only moves or picks elements is one ``Rearrange`` Function: its backward
replays the same rearrangement on an array of flat positions and scatter-adds the upstream
gradient there (``bincount`` with weights: one kernel, no host sync), so one definition
serves the value and the gradient.
"""

import numpy as np

from gpuk.autograd import Function, Tensor, as_tensor
from gpuk.ops._rearrange import rearrange_op
from gpuk.ops._util import normalize_axis, xp_of
from gpuk.ops.math import where
from gpuk.ops.reduce import sum as _sum
from gpuk.ops.shaping import concatenate, reshape, squeeze
from gpuk.ops.shaping import split as _split_sizes

__all__ = [
    "append",
    "argpartition",
    "argsort",
    "array_split",
    "broadcast_to",
    "diag",
    "diagflat",
    "diagonal",
    "dsplit",
    "dstack",
    "flip",
    "fliplr",
    "flipud",
    "hsplit",
    "hstack",
    "moveaxis",
    "ravel",
    "roll",
    "rot90",
    "sort",
    "split",
    "swapaxes",
    "take",
    "take_along_axis",
    "top_k",
    "trace",
    "tril",
    "triu",
    "unstack",
    "vsplit",
    "vstack",
]


def flip(x, axis=None):
    """Reverse the order of elements along ``axis`` (all axes when None)."""
    x = as_tensor(x)
    axes = normalize_axis(axis, x.ndim)
    return rearrange_op(x, lambda xp, a: xp.flip(a, axis=axes))


def fliplr(x):
    """Reverse the columns (axis 1)."""
    return flip(x, 1)


def flipud(x):
    """Reverse the rows (axis 0)."""
    return flip(x, 0)


def roll(x, shift, axis=None):
    """Roll elements along ``axis`` (over the flattened tensor when None)."""
    shift = tuple(int(s) for s in shift) if isinstance(shift, (list, tuple)) else int(shift)
    axis = tuple(axis) if isinstance(axis, (list, tuple)) else axis
    return rearrange_op(x, lambda xp, a: xp.roll(a, shift, axis=axis))


def rot90(array, k=1, axes=(0, 1)):
    """Rotate by 90 degrees ``k`` times in the plane of ``axes``."""
    return rearrange_op(array, lambda xp, a: xp.rot90(a, int(k), axes=tuple(axes)))


def moveaxis(x, source, destination):
    """Move axes ``source`` to positions ``destination``."""
    return rearrange_op(x, lambda xp, a: xp.moveaxis(a, source, destination))


def swapaxes(x, axis1, axis2):
    """Interchange two axes."""
    return rearrange_op(x, lambda xp, a: xp.swapaxes(a, int(axis1), int(axis2)))


def broadcast_to(x, shape):
    """Broadcast ``x`` to ``shape``; the gradient sums over the broadcast axes."""
    shape = tuple(int(s) for s in (shape.numpy().tolist() if isinstance(shape, Tensor) else shape))
    x = as_tensor(x)
    try:
        np.broadcast_shapes(x.shape, shape)
    except ValueError:
        raise ValueError(f"broadcast_to: cannot broadcast shape {x.shape} to {shape}") from None
    return rearrange_op(x, lambda xp, a: xp.broadcast_to(a, shape).copy())


def ravel(x):
    """Flatten to 1-D."""
    return reshape(x, (-1,))


def diagonal(x, offset=0, axis1=0, axis2=1):
    """The ``offset``-th diagonal over ``axis1``/``axis2``, moved to the last axis."""
    return rearrange_op(x, lambda xp, a: xp.diagonal(a, int(offset), int(axis1), int(axis2)).copy())


def trace(x, offset=0, axis1=0, axis2=1):
    """Sum of the ``offset``-th diagonal over ``axis1``/``axis2``."""
    return _sum(diagonal(x, offset, axis1, axis2), axis=-1)


def diag(x, k=0):
    """The ``k``-th diagonal of a matrix, or a matrix with the vector ``x`` on it."""
    x = as_tensor(x)
    if x.ndim == 1:
        return _diag_matrix(x, int(k))
    if x.ndim != 2:
        raise ValueError(f"diag: x must be 1-D or 2-D, got shape {x.shape}")
    return diagonal(x, k)


def diagflat(x, k=0):
    """A matrix with the flattened ``x`` on its ``k``-th diagonal."""
    return _diag_matrix(ravel(x), int(k))


class _DiagMatrix(Function):
    def forward(self, v):
        return xp_of(v).diag(v, self.k)

    def backward(self, g):
        return (xp_of(g).diagonal(g, self.k).copy(),)


def _diag_matrix(v, k):
    return _DiagMatrix.apply(v, k=k)


def _tri_mask(x, k, lower):
    x = as_tensor(x)
    xp = xp_of(x.data)
    n, m = x.shape[-2], x.shape[-1]
    mask = xp.tri(n, m, int(k), dtype=bool)
    if not lower:
        mask = ~xp.tri(n, m, int(k) - 1, dtype=bool)
    return where(Tensor(mask), x, 0)


def tril(x, k=0):
    """Zero the elements above the ``k``-th diagonal (of the last two axes)."""
    return _tri_mask(x, k, lower=True)


def triu(x, k=0):
    """Zero the elements below the ``k``-th diagonal (of the last two axes)."""
    return _tri_mask(x, k, lower=False)


def _index_array(indices, like):
    data = indices.data if isinstance(indices, Tensor) else indices
    data = xp_of(like).asarray(data)
    if data.dtype.kind not in "iu":
        data = data.astype(np.int64)
    return data


def take(x, indices, axis=None):
    """Elements of ``x`` at integer ``indices`` along ``axis`` (of the flattened ``x`` when
    None); negative indices count from the end."""
    x = as_tensor(x)
    idx = _index_array(indices, x.data)
    if axis is None:
        return rearrange_op(x, lambda xp, a: xp.take(a.reshape(-1), idx))
    (axis,) = normalize_axis(axis, x.ndim)
    return rearrange_op(x, lambda xp, a: xp.take(a, idx, axis=axis))


def take_along_axis(x, indices, axis=None):
    """Pick values along ``axis`` at ``indices`` shaped like ``x`` (as ``argsort`` gives)."""
    x = as_tensor(x)
    idx = _index_array(indices, x.data)
    if axis is None:
        return rearrange_op(x, lambda xp, a: xp.take_along_axis(a.reshape(-1), idx.reshape(-1), 0))
    (axis,) = normalize_axis(axis, x.ndim)
    if idx.ndim != x.ndim:
        raise ValueError(
            f"take_along_axis: indices of shape {tuple(idx.shape)} need the rank of x {x.shape}"
        )
    others = [1 if a == axis else n for a, n in enumerate(x.shape)]
    idx_others = [1 if a == axis else n for a, n in enumerate(idx.shape)]
    try:
        common = list(np.broadcast_shapes(tuple(others), tuple(idx_others)))
    except ValueError:
        raise ValueError(
            f"take_along_axis: indices of shape {tuple(idx.shape)} do not broadcast against x "
            f"of shape {x.shape} outside axis {axis}"
        ) from None
    shape, ishape = list(common), list(common)
    shape[axis], ishape[axis] = x.shape[axis], idx.shape[axis]
    idx = xp_of(idx).broadcast_to(idx, tuple(ishape))
    if tuple(shape) == x.shape:
        return rearrange_op(x, lambda xp, a: xp.take_along_axis(a, idx, axis))
    return rearrange_op(
        x, lambda xp, a: xp.take_along_axis(xp.broadcast_to(a, tuple(shape)), idx, axis)
    )


def argsort(x, axis=-1):
    """Indices (int32) that sort ``x`` along ``axis`` (stable; over the flattened x if None)."""
    data = as_tensor(x).data
    if axis is None:
        data, axis = data.reshape(-1), 0
    return Tensor(xp_of(data).argsort(data, axis=axis, kind="stable").astype(np.int32))


def sort(x, axis=-1):
    """``x`` sorted ascending along ``axis``; the gradient follows the elements."""
    x = as_tensor(x)
    if axis is None:
        x, axis = ravel(x), 0
    order = argsort(x, axis)
    return take_along_axis(x, order, axis)


def argpartition(x, kth, axis=-1):
    """Indices (int32) that partition ``x`` around its ``kth`` smallest element."""
    data = as_tensor(x).data
    return Tensor(xp_of(data).argpartition(data, int(kth), axis=axis).astype(np.int32))


def top_k(x, k, sorted=True):
    """The ``k`` largest values along the last axis and their indices (int32).

    Ties keep the lower index first, as Keras does; ``sorted`` is accepted (the values are
    always returned in descending order).
    """
    x = as_tensor(x)
    k = int(k)
    if not 0 <= k <= x.shape[-1]:
        raise ValueError(f"top_k: k={k} must be in [0, {x.shape[-1]}] for shape {x.shape}")
    xp = xp_of(x.data)
    order = xp.argsort(-x.data, axis=-1, kind="stable")[..., :k]
    return take_along_axis(x, order, -1), Tensor(order.astype(np.int32))


def append(x1, x2, axis=None):
    """``x2`` appended to ``x1`` (both flattened when ``axis`` is None)."""
    if axis is None:
        return concatenate([ravel(x1), ravel(x2)], axis=0)
    return concatenate([x1, x2], axis=axis)


def _at_least(x, n):
    x = as_tensor(x)
    if x.ndim >= n:
        return x
    if n == 2:
        return reshape(x, (1, -1) if x.ndim else (1, 1))
    shape = {0: (1, 1, 1), 1: (1, x.size, 1), 2: x.shape + (1,)}[x.ndim]
    return reshape(x, shape)


def hstack(xs):
    """Join along axis 1 (axis 0 for 1-D tensors)."""
    xs = [as_tensor(x) for x in xs]
    return concatenate(xs, axis=0 if all(x.ndim <= 1 for x in xs) else 1)


def vstack(xs):
    """Join along axis 0 after making each tensor at least 2-D."""
    return concatenate([_at_least(x, 2) for x in xs], axis=0)


def dstack(xs):
    """Join along axis 2 after making each tensor at least 3-D."""
    return concatenate([_at_least(x, 3) for x in xs], axis=2)


def _cut_sizes(n, indices_or_sections, strict, name):
    if isinstance(indices_or_sections, (int, np.integer)):
        sections = int(indices_or_sections)
        if sections <= 0 or (strict and n % sections):
            raise ValueError(
                f"{name}: an axis of size {n} cannot be split into {sections} equal parts"
            )
        base, extra = divmod(n, sections)
        return [base + 1] * extra + [base] * (sections - extra)
    cuts = [min(max(int(c) if c >= 0 else n + int(c), 0), n) for c in indices_or_sections]
    bounds = [0] + cuts + [n]
    return [max(b - a, 0) for a, b in zip(bounds[:-1], bounds[1:])]


def _split(x, indices_or_sections, axis, strict, name):
    x = as_tensor(x)
    (axis,) = normalize_axis(axis, x.ndim)
    sizes = _cut_sizes(x.shape[axis], indices_or_sections, strict, name)
    if any(s == 0 for s in sizes):
        starts = np.cumsum([0] + sizes[:-1])
        return [take(x, xp_of(x.data).arange(s, s + n), axis=axis) for s, n in zip(starts, sizes)]
    return _split_sizes(x, sizes, axis=axis)


def split(x, indices_or_sections, axis=0):
    """Split into equal sections (an int) or at the given indices (a list), as NumPy."""
    return _split(x, indices_or_sections, axis, True, "split")


def array_split(x, indices_or_sections, axis=0):
    """Like ``split``, but an int need not divide the axis (the first parts get one more)."""
    return _split(x, indices_or_sections, axis, False, "array_split")


def hsplit(x, indices_or_sections):
    """``split`` along axis 1 (axis 0 for 1-D tensors)."""
    return split(x, indices_or_sections, axis=1 if as_tensor(x).ndim > 1 else 0)


def vsplit(x, indices_or_sections):
    """``split`` along axis 0."""
    return split(x, indices_or_sections, axis=0)


def dsplit(x, indices_or_sections):
    """``split`` along axis 2."""
    return split(x, indices_or_sections, axis=2)


def unstack(x, num=None, axis=0):
    """The list of slices of ``x`` along ``axis``."""
    x = as_tensor(x)
    (axis,) = normalize_axis(axis, x.ndim)
    n = x.shape[axis]
    if num is not None and int(num) != n:
        raise ValueError(f"unstack: num={num} but axis {axis} of shape {x.shape} has size {n}")
    return [squeeze(part, axis) for part in _split_sizes(x, [1] * n, axis=axis)]
