"""Sliding windows for convolution and pooling, written once over ``xp``.

Arrays here are channels-last, ``(batch, *spatial, channels)``. A window is gathered as one
strided slice per kernel tap (a 3x3 kernel: nine copies of the whole batch), so the Python loop
runs over kernel taps, never over pixels or output positions; the arithmetic then happens in a
single matrix product (see ``gpuk.ops.convolution``) or reduction (``gpuk.ops.pooling``).
"""

import itertools

from gpuk import _config

PADDINGS = ("valid", "same")


def normalize_tuple(value, rank, name, op):
    """``value`` (an int or a sequence of ``rank`` ints) as a tuple of ``rank`` ints."""
    if isinstance(value, int) or (hasattr(value, "__index__") and not hasattr(value, "__len__")):
        return (int(value),) * rank
    try:
        values = tuple(int(v) for v in value)
    except TypeError:
        raise ValueError(
            f"{op}: {name} must be an int or a tuple of {rank} ints, received {name}={value!r}"
        ) from None
    if len(values) == 1 and rank > 1:
        values = values * rank
    if len(values) != rank:
        raise ValueError(
            f"{op}: {name} must have {rank} entries for a {rank}-D operation, "
            f"received {name}={value!r}"
        )
    return values


def normalize_padding(padding, op, allow_causal=False):
    """``'valid'``/``'same'`` (and ``'causal'`` where allowed), case-insensitive."""
    allowed = PADDINGS + (("causal",) if allow_causal else ())
    value = padding.lower() if isinstance(padding, str) else padding
    if value not in allowed:
        raise ValueError(
            f"{op}: padding must be one of {', '.join(allowed)}, received padding={padding!r}"
        )
    return value


def normalize_data_format(data_format, op="data_format"):
    """``channels_last``/``channels_first``; ``None`` is the global image data format."""
    value = data_format or _config.image_data_format()
    value = value.lower() if isinstance(value, str) else value
    if value not in ("channels_last", "channels_first"):
        raise ValueError(
            f"{op}: data_format must be 'channels_last' or 'channels_first', "
            f"received data_format={data_format!r}"
        )
    return value


def effective_size(kernel, dilation):
    return (kernel - 1) * dilation + 1


def output_length(length, kernel, stride, dilation, padding):
    """Keras's conv/pool output length (``None`` stays ``None``); may be <= 0 for 'valid'."""
    if length is None:
        return None
    if padding == "same":
        return (length + stride - 1) // stride
    span = effective_size(kernel, dilation)
    if padding == "causal":
        return (length - 1) // stride + 1
    return (length - span) // stride + 1


def padding_amounts(length, kernel, stride, dilation, padding):
    """``(before, after)`` zero padding of one spatial axis (TensorFlow's rule for 'same')."""
    span = effective_size(kernel, dilation)
    if padding == "causal":
        return (span - 1, 0)
    if padding == "valid":
        return (0, 0)
    out = (length + stride - 1) // stride
    total = max((out - 1) * stride + span - length, 0)
    return (total // 2, total - total // 2)


def taps(kernel):
    return list(itertools.product(*[range(k) for k in kernel]))


def tap_slices(offsets, dilation, out_sizes, strides):
    return tuple(
        slice(o * d, o * d + (n - 1) * s + 1, s)
        for o, d, n, s in zip(offsets, dilation, out_sizes, strides)
    )


def gather_windows(xp, x, kernel, strides, dilation, out_sizes):
    """``(N, *out, taps, C)`` windows of the (already padded) ``x`` of shape ``(N, *sp, C)``."""
    tap_list = taps(kernel)
    if len(tap_list) == 1 and all(s == 1 for s in strides) and out_sizes == x.shape[1:-1]:
        return x[..., None, :]  # a 1x1 convolution reads the input as it is
    cols = xp.empty((x.shape[0], *out_sizes, len(tap_list), x.shape[-1]), dtype=x.dtype)
    for t, offsets in enumerate(tap_list):
        cols[..., t, :] = x[(slice(None), *tap_slices(offsets, dilation, out_sizes, strides))]
    return cols


def scatter_windows(xp, cols, padded_shape, kernel, strides, dilation, out_sizes):
    """The adjoint of :func:`gather_windows`: add every window back into a zero array."""
    out = xp.zeros(padded_shape, dtype=cols.dtype)
    for t, offsets in enumerate(taps(kernel)):
        out[(slice(None), *tap_slices(offsets, dilation, out_sizes, strides))] += cols[..., t, :]
    return out


def pad_spatial(xp, x, pads, value=0):
    """Pad the spatial axes of a channels-last array by ``pads`` (``[(before, after), ...]``)."""
    if not any(lo or hi for lo, hi in pads):
        return x
    return xp.pad(x, ((0, 0), *pads, (0, 0)), constant_values=value)


def crop_spatial(x, pads, sizes):
    """The inverse of :func:`pad_spatial` (for gradients)."""
    return x[(slice(None), *(slice(lo, lo + n) for (lo, _), n in zip(pads, sizes)), slice(None))]


def to_channels_last(xp, x, data_format):
    return xp.moveaxis(x, 1, -1) if data_format == "channels_first" else x


def from_channels_last(xp, x, data_format):
    return xp.moveaxis(x, -1, 1) if data_format == "channels_first" else x
