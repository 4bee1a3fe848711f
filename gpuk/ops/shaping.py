"""Shape ops: reshape, transpose, indexing, joining, splitting, tiling, gather, cast."""

import numpy as np

from gpuk._array import asarray, is_array
from gpuk._config import floatx
from gpuk.autograd import Function, Tensor, as_array
from gpuk.ops._rearrange import rearrange_op
from gpuk.ops._util import normalize_axis, xp_of


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
    if is_array(key):  # a NumPy index on a CuPy tensor moves to the GPU (and back)
        return asarray(key, xp=xp_of(like))
    return key


def reshape(x, newshape=None, shape=None):
    """Reshape to ``newshape`` (one entry may be -1); ``shape=`` is accepted too."""
    shape = newshape if newshape is not None else shape
    if isinstance(shape, Tensor):
        shape = shape.numpy().tolist()
    shape = (shape,) if isinstance(shape, int) else tuple(int(s) for s in shape)
    return Reshape.apply(x, shape=shape)


def transpose(x, axes=None):
    """Permute the axes (reverse them when ``axes`` is None)."""
    return Transpose.apply(x, axes=axes)


def getitem(x, key):
    """``x[key]`` with a gradient that scatters back into x's shape."""
    like = x.data if isinstance(x, Tensor) else as_array(x)
    return GetItem.apply(x, key=_plain_key(key, like))


class ExpandDims(Function):
    def forward(self, x):
        self.in_shape = x.shape
        return xp_of(x).expand_dims(x, self.axis)

    def backward(self, g):
        return (g.reshape(self.in_shape),)


class Squeeze(Function):
    def forward(self, x):
        self.in_shape = x.shape
        if self.axis is not None:
            for a in normalize_axis(self.axis, x.ndim):
                if x.shape[a] != 1:
                    raise ValueError(
                        f"squeeze: cannot squeeze axis {a} of a tensor of shape "
                        f"{tuple(x.shape)}: its size is {x.shape[a]}, not 1"
                    )
            return x.squeeze(axis=normalize_axis(self.axis, x.ndim))
        return x.squeeze()

    def backward(self, g):
        return (g.reshape(self.in_shape),)


class Concatenate(Function):
    def forward(self, *xs):
        self.sizes = [x.shape[self.axis] for x in xs]
        return xp_of(*xs).concatenate(xs, axis=self.axis)

    def backward(self, g):
        xp = xp_of(g)
        cuts = list(np.cumsum(self.sizes)[:-1])
        return tuple(xp.split(g, cuts, axis=self.axis))


class Split(Function):
    def forward(self, x):
        return tuple(xp_of(x).split(x, self.cuts, axis=self.axis))

    def backward(self, *gs):
        return (xp_of(*gs).concatenate(gs, axis=self.axis),)


class Tile(Function):
    def forward(self, x):
        self.in_shape = x.shape
        return xp_of(x).tile(x, self.reps)

    def backward(self, g):
        # Tile prepends axes when reps is longer; view g as (rep, size) pairs and sum reps.
        shape = (1,) * (g.ndim - len(self.in_shape)) + tuple(self.in_shape)
        reps = (1,) * (g.ndim - len(self.reps)) + tuple(self.reps)
        paired = []
        for r, n in zip(reps, shape):
            paired += [r, n]
        gx = g.reshape(paired).sum(axis=tuple(range(0, 2 * g.ndim, 2)))
        return (gx.reshape(self.in_shape),)


class Repeat(Function):
    def forward(self, x):
        self.in_shape = x.shape
        return xp_of(x).repeat(x, self.repeats, axis=self.axis)

    def backward(self, g):
        xp = xp_of(g)
        if self.axis is None:
            flat_len = int(np.prod(self.in_shape))
            axis, g_in = 0, g
            reps = self.repeats
        else:
            axis, g_in, reps = self.axis, g, self.repeats
            flat_len = self.in_shape[axis]
        if isinstance(reps, int):
            moved = xp.moveaxis(g_in, axis, 0)
            moved = moved.reshape((flat_len, reps) + moved.shape[1:]).sum(axis=1)
            gx = xp.moveaxis(moved, 0, axis)
        else:
            ends = np.cumsum(reps)
            starts = ends - np.asarray(reps)
            parts = [
                xp.take(g_in, xp.arange(s, e), axis=axis).sum(axis=axis, keepdims=True)
                for s, e in zip(starts, ends)
            ]
            gx = xp.concatenate(parts, axis=axis)
        return (gx.reshape(self.in_shape),)


class Gather(Function):
    def forward(self, x, indices):
        self.in_shape, self.indices = x.shape, indices
        n = x.shape[self.axis]
        # The range check reads two scalars back; on the GPU that would stall every step, so
        # (as TensorFlow on a GPU) out-of-range indices are not checked there.
        xp = xp_of(x)
        checked = xp is np and indices.size
        if checked and (int(indices.max()) >= n or int(indices.min()) < -n):
            raise ValueError(
                f"gather: indices must be in [{-n}, {n}) for axis {self.axis} of a tensor of "
                f"shape {tuple(x.shape)}; got values from {int(indices.min())} to "
                f"{int(indices.max())}"
            )
        return xp.take(x, indices, axis=self.axis)

    def backward(self, g):
        xp = xp_of(g)
        gx = xp.zeros(self.in_shape, dtype=g.dtype)
        moved = xp.moveaxis(gx, self.axis, 0)
        k = self.indices.ndim
        g_moved = xp.moveaxis(
            g.reshape(g.shape[: self.axis] + (self.indices.size,) + g.shape[self.axis + k :]),
            self.axis,
            0,
        )
        xp.add.at(moved, self.indices.reshape(-1), g_moved)
        return (gx, None)


class Cast(Function):
    def forward(self, x):
        self.in_dtype = x.dtype
        return x.astype(self.dtype)

    def backward(self, g):
        # As TensorFlow: gradients flow only between floating types.
        if self.in_dtype.kind not in "fc" or g.dtype.kind not in "fc":
            return (None,)
        return (g.astype(self.in_dtype),)


class Cumsum(Function):
    def forward(self, x):
        return xp_of(x).cumsum(x, axis=self.axis)

    def backward(self, g):
        xp = xp_of(g)
        return (xp.flip(xp.cumsum(xp.flip(g, self.axis), axis=self.axis), self.axis),)


class Pad(Function):
    def forward(self, x):
        self.slices = tuple(slice(lo, lo + n) for (lo, _), n in zip(self.pad_width, x.shape))
        return xp_of(x).pad(x, self.pad_width, constant_values=self.constant_values)

    def backward(self, g):
        return (g[self.slices],)


def _tensor_of(x):
    return x if isinstance(x, Tensor) else Tensor(as_array(x))


def expand_dims(x, axis):
    """Insert a length-1 axis at ``axis`` (or at each of a tuple of axes)."""
    x = _tensor_of(x)
    if isinstance(axis, (tuple, list)):
        rank = x.ndim + len(axis)
        shape, it = [], iter(x.shape)
        axes = {a % rank for a in axis}
        for i in range(rank):
            shape.append(1 if i in axes else next(it))
        return reshape(x, tuple(shape))
    if not -x.ndim - 1 <= axis <= x.ndim:
        raise ValueError(
            f"expand_dims: axis {axis} is out of range for a tensor of shape {x.shape}"
        )
    return ExpandDims.apply(x, axis=int(axis))


def squeeze(x, axis=None):
    """Remove length-1 axes (all of them, or those in ``axis``)."""
    return Squeeze.apply(x, axis=axis)


def concatenate(tensors, axis=0):
    """Join tensors along an existing ``axis``.

    Raises:
        ValueError: naming every shape when ranks differ or the other axes do not match.
    """
    tensors = _same_device(tensors)
    shapes = [t.shape for t in tensors]
    if not tensors:
        raise ValueError("concatenate: needs at least one tensor")
    rank = len(shapes[0])
    ok = all(len(s) == rank for s in shapes) and -rank <= axis < max(rank, 1)
    if ok:
        a = axis % rank
        ok = all(s[:a] + s[a + 1 :] == shapes[0][:a] + shapes[0][a + 1 :] for s in shapes)
    if not ok:
        raise ValueError(
            f"concatenate: shapes {', '.join(str(s) for s in shapes)} cannot be joined "
            f"along axis {axis} (all other dimensions must match)"
        )
    return Concatenate.apply(*tensors, axis=axis % rank)


def stack(tensors, axis=0):
    """Join same-shaped tensors along a new ``axis``."""
    tensors = _same_device(tensors)
    shapes = [t.shape for t in tensors]
    if not tensors or any(s != shapes[0] for s in shapes):
        raise ValueError(
            f"stack: all tensors must have the same shape, got {', '.join(map(str, shapes))}"
        )
    rank = len(shapes[0]) + 1
    if not -rank <= axis < rank:
        raise ValueError(f"stack: axis {axis} is out of range for rank-{rank} output")
    return concatenate([expand_dims(t, axis % rank) for t in tensors], axis=axis % rank)


def split(x, num_or_size_splits, axis=0):
    """Split along ``axis`` into equal parts (an int) or parts of the given sizes (a list).

    Returns:
        A list of tensors.
    """
    x = _tensor_of(x)
    (axis,) = normalize_axis(axis, x.ndim)
    n = x.shape[axis]
    if isinstance(num_or_size_splits, int):
        if num_or_size_splits <= 0 or n % num_or_size_splits:
            raise ValueError(
                f"split: axis {axis} of shape {x.shape} (size {n}) cannot be split into "
                f"{num_or_size_splits} equal parts"
            )
        sizes = [n // num_or_size_splits] * num_or_size_splits
    else:
        sizes = [int(s) for s in num_or_size_splits]
        if sum(sizes) != n:
            raise ValueError(
                f"split: sizes {sizes} add up to {sum(sizes)}, but axis {axis} of shape "
                f"{x.shape} has size {n}"
            )
    cuts = [int(c) for c in np.cumsum(sizes)[:-1]]
    parts = Split.apply(x, cuts=cuts, axis=axis)
    return list(parts) if isinstance(parts, tuple) else [parts]


def tile(x, repeats=None, reps=None):
    """Repeat the whole tensor ``repeats[i]`` times along each axis (as ``numpy.tile``)."""
    reps = repeats if repeats is not None else reps
    if isinstance(reps, Tensor):
        reps = reps.numpy().tolist()
    reps = (int(reps),) if isinstance(reps, int) else tuple(int(r) for r in reps)
    return Tile.apply(x, reps=reps)


def repeat(x, repeats, axis=None):
    """Repeat each element ``repeats`` times along ``axis`` (as ``numpy.repeat``)."""
    x = _tensor_of(x)
    if axis is not None:
        (axis,) = normalize_axis(axis, x.ndim)
    if not isinstance(repeats, int):
        repeats = [int(r) for r in (repeats.numpy() if isinstance(repeats, Tensor) else repeats)]
        if len(repeats) == 1:
            repeats = repeats[0]
    return Repeat.apply(x, repeats=repeats, axis=axis)


def gather(x, indices, axis=0):
    """Pick slices of ``x`` along ``axis`` at integer ``indices`` (any shape)."""
    x = _tensor_of(x)
    (axis,) = normalize_axis(axis, x.ndim)
    idx = as_array(indices, None) if not isinstance(indices, Tensor) else indices.data
    idx = xp_of(x.data).asarray(idx)
    if idx.dtype.kind not in "iu":
        # Checking that float indices are whole reads a flag back from the GPU (a sync per
        # step), so there they are truncated unchecked.
        whole = xp_of(idx) is not np or bool((idx == np.round(idx)).all())
        if idx.dtype.kind == "f" and whole:
            idx = idx.astype(np.int64)
        else:
            raise TypeError(f"gather: indices must be integers, got dtype {idx.dtype}")
    return Gather.apply(x, Tensor(idx), axis=axis)


def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    """One-hot encode integer ``x`` into a new axis (``axis``, last by default) of length
    ``num_classes``.

    Out-of-range indices give all-zero rows (as TensorFlow). No gradient.
    """
    if sparse:
        raise ValueError("one_hot: gpuk has no sparse tensors (sparse=True)")
    idx = x.data if isinstance(x, Tensor) else as_array(x)
    xp = xp_of(idx)
    idx = idx.astype(np.int64)
    classes = xp.arange(int(num_classes))
    out = (idx[..., None] == classes).astype(dtype or floatx())
    if axis not in (-1, out.ndim - 1):
        out = xp.moveaxis(out, -1, axis)
    return Tensor(out)


def cast(x, dtype):
    """Convert to ``dtype``; gradients flow between float types only."""
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"cast: {dtype!r} is not a dtype") from None
    x = _tensor_of(x)
    if x.dtype == dtype:
        return x
    return Cast.apply(x, dtype=dtype)


def cumsum(x, axis=None, dtype=None):
    """Cumulative sum along ``axis`` (of the flattened tensor when None), in ``dtype`` if
    given."""
    x = _tensor_of(x)
    if dtype is not None:
        x = cast(x, dtype)
    if axis is None:
        x, axis = reshape(x, (-1,)), 0
    (axis,) = normalize_axis(axis, x.ndim)
    return Cumsum.apply(x, axis=axis)


def flatten(x):
    """Reshape to one dimension."""
    return reshape(x, (-1,))


_REARRANGING_PAD_MODES = ("edge", "reflect", "symmetric", "wrap")


def pad(x, pad_width, mode="constant", constant_values=None):
    """Pad ``x``; ``pad_width`` is ``[(before, after), ...]`` per axis (or an int).

    ``mode`` is ``'constant'`` (with ``constant_values``, 0 by default) or one of
    ``'edge'``, ``'reflect'``, ``'symmetric'``, ``'wrap'`` (NumPy's meanings).
    """
    x = _tensor_of(x)
    if mode in _REARRANGING_PAD_MODES:
        if constant_values is not None:
            raise ValueError(f"pad: constant_values only goes with mode='constant', not {mode!r}")
        width = _pad_width(pad_width, x)
        return rearrange_op(x, lambda xp, a: xp.pad(a, width, mode=mode))
    if mode != "constant":
        raise ValueError(
            f"pad: mode must be 'constant', 'edge', 'reflect', 'symmetric' or 'wrap', got {mode!r}"
        )
    constant_values = 0 if constant_values is None else constant_values
    pad_width = _pad_width(pad_width, x)
    return Pad.apply(x, pad_width=pad_width, constant_values=constant_values)


def _pad_width(pad_width, x):
    if isinstance(pad_width, Tensor):
        pad_width = pad_width.numpy().tolist()
    if isinstance(pad_width, int):
        pad_width = [(pad_width, pad_width)] * x.ndim
    if len(pad_width) == 2 and all(isinstance(p, (int, np.integer)) for p in pad_width):
        pad_width = [tuple(pad_width)] * x.ndim
    pad_width = tuple(
        (int(p), int(p)) if isinstance(p, int) else (int(p[0]), int(p[1])) for p in pad_width
    )
    if len(pad_width) == 1 and x.ndim > 1:
        pad_width = pad_width * x.ndim
    if len(pad_width) != x.ndim:
        raise ValueError(
            f"pad: pad_width has {len(pad_width)} entries for a tensor of shape {x.shape}"
        )
    return pad_width


def stop_gradient(variable):
    """The same value, cut off from differentiation."""
    return Tensor(_tensor_of(variable).data)


def zeros_like(x, dtype=None):
    """A tensor of zeros with ``x``'s shape (and dtype unless given)."""
    data = _tensor_of(x).data
    return Tensor(xp_of(data).zeros(data.shape, dtype=dtype or data.dtype))


def ones_like(x, dtype=None):
    """A tensor of ones with ``x``'s shape (and dtype unless given)."""
    data = _tensor_of(x).data
    return Tensor(xp_of(data).ones(data.shape, dtype=dtype or data.dtype))


def _same_device(tensors):
    """Tensors for a list of tensors/arrays/numbers; numbers take the first float's dtype."""
    tensors = list(tensors)
    like = next((t.data for t in tensors if isinstance(t, Tensor)), None)
    return [t if isinstance(t, Tensor) else Tensor(as_array(t, like)) for t in tensors]
