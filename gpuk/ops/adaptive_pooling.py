"""Keras 3's adaptive pooling ops: pool any spatial size down to ``output_size`` bins.

Bin ``i`` of an axis of length ``L`` split into ``n`` covers ``[floor(i L / n),
ceil((i + 1) L / n))``, as PyTorch and Keras; each axis is pooled in turn (the windows are
rectangular), composed from slices, reductions and a concatenation, so it is differentiable.
"""

from gpuk import _config
from gpuk.autograd import as_tensor
from gpuk.ops.reduce import max as _max
from gpuk.ops.reduce import mean as _mean
from gpuk.ops.shaping import cast, concatenate, getitem

__all__ = ["adaptive_average_pool", "adaptive_max_pool"]


def _data_format(data_format):
    if data_format is None:
        data_format = getattr(_config, "image_data_format", lambda: "channels_last")()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(
            f"data_format must be 'channels_last' or 'channels_first', got {data_format!r}"
        )
    return data_format


def _pool(inputs, output_size, data_format, reduce, name):
    x = as_tensor(inputs)
    if x.dtype.kind != "f":
        x = cast(x, "float32")
    spatial = x.ndim - 2
    if spatial not in (1, 2, 3):
        raise ValueError(f"{name}: inputs must be 3-D to 5-D (batch, ..., channels), got {x.shape}")
    sizes = (output_size,) * spatial if isinstance(output_size, int) else tuple(output_size)
    if len(sizes) != spatial:
        raise ValueError(f"{name}: output_size {output_size!r} does not fit {spatial} spatial axes")
    first = 2 if _data_format(data_format) == "channels_first" else 1
    for offset, bins in enumerate(sizes):
        axis = first + offset
        length = x.shape[axis]
        parts = []
        for i in range(int(bins)):
            start, stop = (i * length) // bins, -((-(i + 1) * length) // bins)
            key = (slice(None),) * axis + (slice(start, stop),)
            parts.append(reduce(getitem(x, key), axis=axis, keepdims=True))
        x = concatenate(parts, axis=axis)
    return x


def adaptive_average_pool(inputs, output_size, data_format=None):
    """Average over adaptive bins so the spatial axes become ``output_size``."""
    return _pool(inputs, output_size, data_format, _mean, "adaptive_average_pool")


def adaptive_max_pool(inputs, output_size, data_format=None):
    """Maximum over adaptive bins so the spatial axes become ``output_size``."""
    return _pool(inputs, output_size, data_format, _max, "adaptive_max_pool")
