"""Sampling machinery behind ``gpuk.ops.image``: separable resampling matrices (the
``scale_and_translate`` kernels), banded filters (Gaussian, Sobel), and
``map_coordinates`` with its fill modes.

Resampling and filtering are linear along one axis at a time, so each is a small
``(in, out)`` matrix applied with ``tensordot``: one matrix product per axis on the device,
differentiable by the tape.
"""

import numpy as np

from gpuk.autograd import Tensor, as_tensor
from gpuk.ops._util import xp_of
from gpuk.ops.indexing import moveaxis, take
from gpuk.ops.linalg import tensordot
from gpuk.ops.math import add, multiply, where
from gpuk.ops.shaping import reshape


def apply_along(x, matrix, axis):
    """Contract axis ``axis`` of ``x`` with an ``(in, out)`` matrix, keeping the axis order."""
    x = as_tensor(x)
    axis = axis % x.ndim
    out = tensordot(x, Tensor(xp_of(x.data).asarray(matrix, dtype=x.dtype)), axes=([axis], [0]))
    return moveaxis(out, -1, axis) if axis != x.ndim - 1 else out


def _triangle(x):
    return np.maximum(0.0, 1.0 - np.abs(x))


def _keys_cubic(x):
    # Keys (1981) cubic convolution with a = -0.5.
    x = np.abs(x)
    inner = (1.5 * x - 2.5) * x * x + 1.0
    outer = ((-0.5 * x + 2.5) * x - 4.0) * x + 2.0
    return np.where(x >= 2.0, 0.0, np.where(x >= 1.0, outer, inner))


def _lanczos(radius):
    def kernel(x):
        x = np.abs(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            value = (
                radius * np.sin(np.pi * x) * np.sin(np.pi * x / radius) / (np.pi * np.pi * x * x)
            )
        return np.where(x > radius, 0.0, np.where(x == 0, 1.0, value))

    return kernel


KERNELS = {
    "linear": _triangle,
    "bilinear": _triangle,
    "trilinear": _triangle,
    "cubic": _keys_cubic,
    "bicubic": _keys_cubic,
    "tricubic": _keys_cubic,
    "lanczos3": _lanczos(3.0),
    "lanczos5": _lanczos(5.0),
}


def resample_matrix(in_size, out_size, scale, translation, method, antialias):
    """``(in, out)`` weights mapping samples at output pixel centres back onto the input
    grid (half-pixel centres, as ``jax.image.scale_and_translate``); an antialiased
    downscale widens the kernel by ``1 / scale``."""
    kernel = KERNELS[method]
    inv_scale = 1.0 / scale
    kernel_scale = max(inv_scale, 1.0) if antialias else 1.0
    sample = (np.arange(out_size) + 0.5) * inv_scale - translation * inv_scale - 0.5
    distance = np.abs(sample[None, :] - np.arange(in_size)[:, None]) / kernel_scale
    weights = kernel(distance)
    total = weights.sum(axis=0, keepdims=True)
    safe = np.where(total != 0, total, 1.0)
    weights = np.where(np.abs(total) > 1000.0 * np.finfo(np.float32).eps, weights / safe, 0.0)
    inside = (sample >= -0.5) & (sample <= in_size - 0.5)
    return np.where(inside[None, :], weights, 0.0)


def nearest_indices(in_size, out_size):
    """Input index of each output pixel for nearest-neighbour resizing (pixel centres)."""
    return np.floor((np.arange(out_size) + 0.5) * in_size / out_size).astype(np.int64)


def gaussian_1d(size, sigma):
    x = np.arange(size, dtype=np.float64) - (size - 1) / 2.0
    k = np.exp(-0.5 * (x / float(sigma)) ** 2)
    return k / k.sum()


def filter_matrix(in_size, taps, padding):
    """``(in, out)`` matrix of a 1-D cross-correlation with ``taps``: ``'same'`` (zero
    padding, TensorFlow's split) or ``'valid'``."""
    k = len(taps)
    if padding == "same":
        before, out_size = (k - 1) // 2, in_size
    else:
        before, out_size = 0, in_size - k + 1
    matrix = np.zeros((in_size, max(out_size, 0)))
    for o in range(max(out_size, 0)):
        for t in range(k):
            i = o + t - before
            if 0 <= i < in_size:
                matrix[i, o] += taps[t]
    return matrix


def _mirror(index, size, xp):
    if size == 1:
        return xp.zeros_like(index)
    s = size - 1
    return xp.abs((index + s) % (2 * s) - s)


def _fix_index(index, size, mode, xp):
    """The in-range index a fill mode reads for ``index``, and whether it is valid."""
    if mode == "constant":
        return xp.clip(index, 0, size - 1), (index >= 0) & (index < size)
    if mode == "nearest":
        fixed = xp.clip(index, 0, size - 1)
    elif mode == "wrap":
        fixed = index % size
    elif mode == "mirror":
        fixed = _mirror(index, size, xp)
    elif mode == "reflect":
        fixed = (_mirror(2 * index + 1, 2 * size + 1, xp) - 1) // 2
    else:
        raise ValueError(
            f"fill_mode must be 'constant', 'nearest', 'wrap', 'mirror' or 'reflect', got {mode!r}"
        )
    return fixed, xp.ones(index.shape, dtype=bool)


def map_coordinates(inputs, coordinates, order, fill_mode="constant", fill_value=0.0):
    """Sample ``inputs`` at fractional ``coordinates`` (shape ``(inputs.ndim, ...)``) with
    nearest (``order=0``) or linear (``order=1``) interpolation, as
    ``scipy.ndimage.map_coordinates``; out-of-range reads follow ``fill_mode``.
    Differentiable in ``inputs``."""
    x = as_tensor(inputs)
    if x.dtype.kind != "f":
        from gpuk.ops.shaping import cast

        x = cast(x, "float32")
    xp = xp_of(x.data)
    coords = as_tensor(coordinates).data
    coords = xp.asarray(coords).astype(np.float64)
    if coords.ndim < 2 or coords.shape[0] != x.ndim:
        raise ValueError(
            f"map_coordinates: coordinates must have shape ({x.ndim}, ...), got {coords.shape}"
        )
    if order not in (0, 1):
        raise ValueError(f"map_coordinates: order must be 0 or 1, got {order!r}")
    per_axis = []
    for axis in range(x.ndim):
        c = coords[axis]
        if order == 0:
            per_axis.append([(xp.round(c).astype(np.int64), None)])
        else:
            low = xp.floor(c)
            frac = c - low
            low = low.astype(np.int64)
            per_axis.append([(low, 1.0 - frac), (low + 1, frac)])
    flat = reshape(x, (-1,))
    strides = np.cumprod((1,) + x.shape[::-1])[::-1][1:]
    total = None
    for corner in np.ndindex(*(len(options) for options in per_axis)):
        index = xp.zeros(coords.shape[1:], dtype=np.int64)
        weight = xp.ones(coords.shape[1:], dtype=np.float64)
        valid = xp.ones(coords.shape[1:], dtype=bool)
        for axis, pick in enumerate(corner):
            raw, w = per_axis[axis][pick]
            fixed, ok = _fix_index(raw, x.shape[axis], fill_mode, xp)
            index = index + fixed * int(strides[axis])
            valid = valid & ok
            if w is not None:
                weight = weight * w
        values = take(flat, index)
        values = where(Tensor(valid), values, float(fill_value))
        term = multiply(values, Tensor(weight.astype(x.dtype)))
        total = term if total is None else add(total, term)
    return total


def sobel_taps():
    """(smoothing, derivative) taps of the 3x3 Sobel operator."""
    return np.array([1.0, 2.0, 1.0]), np.array([-1.0, 0.0, 1.0])


def elastic_kernel_size(sigma):
    return int(6 * float(sigma)) | 1
