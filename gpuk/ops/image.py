"""Keras 3's ``keras.ops.image``: colour conversions, resizing and resampling, padding and
cropping, patch extraction, affine/perspective/elastic warps, blurs, Sobel edges and SSIM.

``gpuk.ops.image`` is this module's functions (see ``gpuk.ops._namespaces``). Images are
``(batch, height, width, channels)`` (or a single image without the batch axis);
``data_format='channels_first'`` puts channels before the spatial axes. Resampling,
filtering and warps are composed from differentiable ops, so gradients reach the images.
"""

import numpy as np

from gpuk import _config
from gpuk.autograd import Tensor, as_tensor
from gpuk.ops import _image_sampling as sampling
from gpuk.ops._util import xp_of
from gpuk.ops.elementwise import mod
from gpuk.ops.indexing import moveaxis, rearrange_op, take
from gpuk.ops.math import abs, add, clip, divide, maximum, minimum, multiply, subtract, where
from gpuk.ops.reduce import mean
from gpuk.ops.shaping import cast, expand_dims, pad, squeeze, stack

__all__ = [
    "affine_transform",
    "crop_images",
    "elastic_transform",
    "extract_patches",
    "extract_patches_3d",
    "gaussian_blur",
    "hsv_to_rgb",
    "map_coordinates",
    "pad_images",
    "perspective_transform",
    "resize",
    "rgb_to_grayscale",
    "rgb_to_hsv",
    "scale_and_translate",
    "sobel_edges",
    "ssim",
]

map_coordinates = sampling.map_coordinates


def _format(data_format):
    if data_format is None:
        data_format = getattr(_config, "image_data_format", lambda: "channels_last")()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(
            f"data_format must be 'channels_last' or 'channels_first', got {data_format!r}"
        )
    return data_format


def _images(images, name, ranks=(3, 4)):
    x = as_tensor(images)
    if x.ndim not in ranks:
        raise ValueError(
            f"{name}: expected images of rank {' or '.join(map(str, ranks))}, got shape {x.shape}"
        )
    return x


def _float(x):
    return cast(x, _config.floatx()) if x.dtype.kind in "biu" else x


def _channels_last(x, data_format):
    """``x`` batched and channels-last, and a function undoing both."""
    single = x.ndim == 3
    if single:
        x = expand_dims(x, 0)
    if data_format == "channels_first":
        x = moveaxis(x, 1, -1)

    def undo(y):
        if data_format == "channels_first":
            y = moveaxis(y, -1, 1)
        return squeeze(y, 0) if single else y

    return x, undo


def rgb_to_grayscale(images, data_format=None):
    """Luma ``0.2989 R + 0.5870 G + 0.1140 B`` with a channel axis of 1 (kept dtype)."""
    x = _images(images, "rgb_to_grayscale")
    axis = -1 if _format(data_format) == "channels_last" else -3
    if x.shape[axis] == 1:
        return x
    if x.shape[axis] != 3:
        raise ValueError(f"rgb_to_grayscale: expected 1 or 3 channels, got shape {x.shape}")
    weights = np.array([[0.2989], [0.5870], [0.1140]])
    gray = sampling.apply_along(_float(x), weights, axis)
    return cast(gray, x.dtype)


def _planes(x, data_format, name):
    if x.dtype.kind != "f":
        raise ValueError(f"{name}: images must be a float dtype, got {x.dtype.name}")
    axis = -1 if _format(data_format) == "channels_last" else -3
    key = [slice(None)] * x.ndim
    planes = []
    for c in range(3):
        key[axis] = c
        planes.append(x[tuple(key)])
    return planes, axis


def rgb_to_hsv(images, data_format=None):
    """RGB in [0, 1] to hue, saturation, value (all in [0, 1])."""
    x = _images(images, "rgb_to_hsv")
    eps = float(np.finfo(x.dtype).eps) if x.dtype.kind == "f" else 0.0
    if x.dtype.kind == "f":
        x = where(Tensor(xp_of(x.data).abs(x.data) < eps), 0.0, x)
    (r, g, b), axis = _planes(x, data_format, "rgb_to_hsv")
    value = maximum(maximum(r, g), b)
    low = minimum(minimum(r, g), b)
    spread = subtract(value, low)
    safe_value = where(Tensor(value.data > 0), value, 1.0)
    safe_spread = where(Tensor(spread.data > 0), spread, 1.0)
    saturation = where(Tensor(value.data > 0), divide(spread, safe_value), 0.0)
    norm = divide(1.0, multiply(safe_spread, 6.0))
    hue = where(
        Tensor(value.data == g.data),
        add(multiply(norm, subtract(b, r)), 2.0 / 6.0),
        add(multiply(norm, subtract(r, g)), 4.0 / 6.0),
    )
    hue = where(Tensor(value.data == r.data), multiply(norm, subtract(g, b)), hue)
    hue = add(where(Tensor(spread.data > 0), hue, 0.0), Tensor((hue.data < 0).astype(hue.dtype)))
    return stack([hue, saturation, value], axis=axis)


def hsv_to_rgb(images, data_format=None):
    """Hue, saturation, value in [0, 1] to RGB."""
    x = _images(images, "hsv_to_rgb")
    (h, s, v), axis = _planes(x, data_format, "hsv_to_rgb")
    dh = multiply(mod(h, 1.0), 6.0)
    dr = clip(subtract(abs(subtract(dh, 3.0)), 1.0), 0.0, 1.0)
    dg = clip(subtract(2.0, abs(subtract(dh, 2.0))), 0.0, 1.0)
    db = clip(subtract(2.0, abs(subtract(dh, 4.0))), 0.0, 1.0)
    grey = subtract(1.0, s)
    rgb = [multiply(v, add(grey, multiply(s, d))) for d in (dr, dg, db)]
    return stack(rgb, axis=axis)


def _spatial_axes(x, data_format):
    """Indices of the height and width axes of a rank-3 or rank-4 image tensor."""
    if data_format == "channels_last":
        return x.ndim - 3, x.ndim - 2
    return x.ndim - 2, x.ndim - 1


def resize(
    images,
    size,
    interpolation="bilinear",
    antialias=False,
    crop_to_aspect_ratio=False,
    pad_to_aspect_ratio=False,
    fill_mode="constant",
    fill_value=0.0,
    data_format=None,
):
    """Resize to ``size = (height, width)`` with ``'bilinear'``, ``'nearest'``,
    ``'bicubic'``, ``'lanczos3'`` or ``'lanczos5'`` (pixel centres aligned, as Keras/JAX);
    optionally crop or pad (with ``fill_value``) to the target aspect ratio first."""
    methods = ("bilinear", "nearest", "lanczos3", "lanczos5", "bicubic")
    if interpolation not in methods:
        raise ValueError(f"resize: interpolation must be one of {methods}, got {interpolation!r}")
    if fill_mode != "constant":
        raise ValueError(f"resize: only fill_mode='constant' is supported, got {fill_mode!r}")
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError("resize: only one of crop_to_aspect_ratio and pad_to_aspect_ratio")
    if len(size) != 2:
        raise ValueError(f"resize: size must be (height, width), got {size!r}")
    x = _images(images, "resize")
    data_format = _format(data_format)
    ha, wa = _spatial_axes(x, data_format)
    th, tw = int(size[0]), int(size[1])
    height, width = x.shape[ha], x.shape[wa]
    if crop_to_aspect_ratio:
        ch = max(min(height, int(float(width * th) / tw)), 1)
        cw = max(min(width, int(float(height * tw) / th)), 1)
        top, left = int(float(height - ch) / 2), int(float(width - cw) / 2)
        key = [slice(None)] * x.ndim
        key[ha], key[wa] = slice(top, top + ch), slice(left, left + cw)
        x = x[tuple(key)]
    elif pad_to_aspect_ratio:
        ph = max(height, int(float(width * th) / tw))
        pw = max(width, int(float(height * tw) / th))
        top, left = int(float(ph - height) / 2), int(float(pw - width) / 2)
        widths = [(0, 0)] * x.ndim
        if top > 0:
            widths[ha] = (top, top)
        elif left > 0:
            widths[wa] = (left, left)
        x = pad(x, widths, constant_values=fill_value)
    x = _float(x)
    for axis, out in ((ha, th), (wa, tw)):
        n = x.shape[axis]
        if interpolation == "nearest":
            x = take(x, xp_of(x.data).asarray(sampling.nearest_indices(n, out)), axis=axis)
        else:
            matrix = sampling.resample_matrix(n, out, out / n, 0.0, interpolation, antialias)
            x = sampling.apply_along(x, matrix, axis)
    return x


def scale_and_translate(
    images, output_shape, scale, translation, spatial_dims, method, antialias=True
):
    """Resample the ``spatial_dims`` of ``images`` to ``output_shape``, scaling by ``scale``
    and shifting by ``translation`` (``jax.image.scale_and_translate``)."""
    if method not in sampling.KERNELS:
        raise ValueError(
            f"scale_and_translate: method must be one of {sorted(sampling.KERNELS)}, got {method!r}"
        )
    x = _float(as_tensor(images))
    scale = np.asarray(as_tensor(scale).numpy(), dtype=np.float64).reshape(-1)
    translation = np.asarray(as_tensor(translation).numpy(), dtype=np.float64).reshape(-1)
    for k, axis in enumerate(spatial_dims):
        matrix = sampling.resample_matrix(
            x.shape[axis], int(output_shape[axis]), scale[k], translation[k], method, antialias
        )
        x = sampling.apply_along(x, matrix, axis)
    return x


def _sides(first, second, target, size, name, crop):
    given = [first, second, target].count(None)
    if given != 1:
        raise ValueError(f"{name}: give exactly two of the two margins and the target size")
    for value in (first, second, target):
        if value is not None and value < 0:
            raise ValueError(f"{name}: margins and target sizes must be >= 0")
    if crop:
        if first is None:
            first = size - target - second
        if target is None:
            target = size - second - first
        if first < 0 or target < 0 or first + target > size:
            raise ValueError(f"{name}: the crop does not fit an axis of size {size}")
        return int(first), int(target)
    if first is None:
        first = target - second - size
    if second is None:
        second = target - first - size
    if first < 0 or second < 0:
        raise ValueError(f"{name}: target size smaller than the image axis of size {size}")
    return int(first), int(second)


def pad_images(
    images,
    top_padding=None,
    left_padding=None,
    bottom_padding=None,
    right_padding=None,
    target_height=None,
    target_width=None,
    data_format=None,
):
    """Zero-pad the height and width axes (give two of margin, margin, target per axis)."""
    x = _images(images, "pad_images")
    ha, wa = _spatial_axes(x, _format(data_format))
    top, bottom = _sides(
        top_padding, bottom_padding, target_height, x.shape[ha], "pad_images", False
    )
    left, right = _sides(
        left_padding, right_padding, target_width, x.shape[wa], "pad_images", False
    )
    widths = [(0, 0)] * x.ndim
    widths[ha], widths[wa] = (top, bottom), (left, right)
    return pad(x, widths)


def crop_images(
    images,
    top_cropping=None,
    left_cropping=None,
    bottom_cropping=None,
    right_cropping=None,
    target_height=None,
    target_width=None,
    data_format=None,
):
    """Crop the height and width axes (give two of margin, margin, target per axis)."""
    x = _images(images, "crop_images")
    ha, wa = _spatial_axes(x, _format(data_format))
    top, height = _sides(
        top_cropping, bottom_cropping, target_height, x.shape[ha], "crop_images", True
    )
    left, width = _sides(
        left_cropping, right_cropping, target_width, x.shape[wa], "crop_images", True
    )
    key = [slice(None)] * x.ndim
    key[ha], key[wa] = slice(top, top + height), slice(left, left + width)
    return x[tuple(key)]


def _tuple(value, n):
    return (
        (int(value),) * n if isinstance(value, (int, np.integer)) else tuple(int(v) for v in value)
    )


def _patches(x, size, strides, dilation_rate, padding, data_format, n):
    """Patches of the ``n`` spatial axes of a batched channels-last ``x``, flattened in
    (spatial..., channel) order into the last axis."""
    size = _tuple(size, n)
    strides = _tuple(strides if strides else size, n)
    dilation = _tuple(dilation_rate, n)
    if padding not in ("valid", "same"):
        raise ValueError(f"extract_patches: padding must be 'valid' or 'same', got {padding!r}")
    spatial = x.shape[1 : 1 + n]
    if padding == "same":
        widths = [(0, 0)]
        for length, k, s, d in zip(spatial, size, strides, dilation):
            total = max((-(-length // s) - 1) * s + (k - 1) * d + 1 - length, 0)
            widths.append((total // 2, total - total // 2))
        x = pad(x, widths + [(0, 0)])
        spatial = x.shape[1 : 1 + n]
    outs = [
        (length - (k - 1) * d - 1) // s + 1
        for length, k, s, d in zip(spatial, size, strides, dilation)
    ]
    xp = xp_of(x.data)
    grids = []
    for axis in range(n):
        starts = xp.arange(outs[axis]) * strides[axis]
        offsets = xp.arange(size[axis]) * dilation[axis]
        grids.append(starts[:, None] + offsets[None, :])  # (out, k)
    index = []
    for axis in range(n):  # broadcast to (out..., k...)
        shape = [1] * (2 * n)
        shape[axis], shape[n + axis] = outs[axis], size[axis]
        index.append(grids[axis].reshape(shape))
    key = (slice(None),) + tuple(index)
    channels = x.shape[-1]
    final = (x.shape[0], *outs, int(np.prod(size)) * channels)
    return rearrange_op(x, lambda xp_, a: a[key].reshape(final))


def extract_patches(images, size, strides=None, dilation_rate=1, padding="valid", data_format=None):
    """Patches of ``size`` (an int or (height, width); three sizes for volumes) taken every
    ``strides``, flattened into the channel axis in (row, column, channel) order."""
    if not isinstance(size, (int, np.integer)) and len(size) == 3:
        return extract_patches_3d(images, size, strides, dilation_rate, padding, data_format)
    data_format = _format(data_format)
    x, undo = _channels_last(_images(images, "extract_patches"), data_format)
    return undo(_patches(x, size, strides, dilation_rate, padding, data_format, 2))


def extract_patches_3d(
    volumes, size, strides=None, dilation_rate=1, padding="valid", data_format=None
):
    """3-D patches of ``volumes`` ``(batch, depth, height, width, channels)``."""
    data_format = _format(data_format)
    x = _images(volumes, "extract_patches_3d", ranks=(4, 5))
    single = x.ndim == 4
    if single:
        x = expand_dims(x, 0)
    if data_format == "channels_first":
        x = moveaxis(x, 1, -1)
    out = _patches(x, size, strides, dilation_rate, padding, data_format, 3)
    if data_format == "channels_first":
        out = moveaxis(out, -1, 1)
    return squeeze(out, 0) if single else out


def gaussian_blur(images, kernel_size=(3, 3), sigma=(1.0, 1.0), data_format=None):
    """Blur each channel with a Gaussian (zero padding, output the input's size). As in
    Keras, the height axis uses ``kernel_size[1]``/``sigma[1]`` and the width axis
    ``kernel_size[0]``/``sigma[0]``."""
    data_format = _format(data_format)
    x, undo = _channels_last(_float(_images(images, "gaussian_blur")), data_format)
    sizes, sigmas = _tuple(kernel_size, 2), tuple(float(s) for s in np.broadcast_to(sigma, (2,)))
    for axis, k in ((1, 1), (2, 0)):
        taps = sampling.gaussian_1d(sizes[k], sigmas[k])
        x = sampling.apply_along(x, sampling.filter_matrix(x.shape[axis], taps, "same"), axis)
    return undo(x)


def sobel_edges(images, data_format=None):
    """Sobel derivatives per channel (zero padding): ``(..., 2)`` holding ``[dy, dx]``."""
    data_format = _format(data_format)
    x, undo = _channels_last(_float(_images(images, "sobel_edges", ranks=(4,))), data_format)
    smooth, derive = sampling.sobel_taps()

    def filtered(rows, cols):
        y = sampling.apply_along(x, sampling.filter_matrix(x.shape[1], rows, "same"), 1)
        return sampling.apply_along(y, sampling.filter_matrix(x.shape[2], cols, "same"), 2)

    return stack([undo(filtered(derive, smooth)), undo(filtered(smooth, derive))], axis=-1)


def ssim(
    image1,
    image2,
    max_val=1.0,
    filter_size=11,
    filter_sigma=1.5,
    k1=0.01,
    k2=0.03,
    data_format=None,
):
    """Structural similarity with a Gaussian window (valid), averaged over space and channels:
    one value per image."""
    data_format = _format(data_format)
    a, undo = _channels_last(_float(_images(image1, "ssim")), data_format)
    b, _ = _channels_last(_float(_images(image2, "ssim")), data_format)
    single = as_tensor(image1).ndim == 3
    taps = sampling.gaussian_1d(int(filter_size), float(filter_sigma))
    rows = sampling.filter_matrix(a.shape[1], taps, "valid")
    cols = sampling.filter_matrix(a.shape[2], taps, "valid")

    def window(t):
        return sampling.apply_along(sampling.apply_along(t, rows, 1), cols, 2)

    c1, c2 = (k1 * max_val) ** 2, (k2 * max_val) ** 2
    mu1, mu2 = window(a), window(b)
    mu11, mu22, mu12 = multiply(mu1, mu1), multiply(mu2, mu2), multiply(mu1, mu2)
    s11 = subtract(window(multiply(a, a)), mu11)
    s22 = subtract(window(multiply(b, b)), mu22)
    s12 = subtract(window(multiply(a, b)), mu12)
    num = multiply(add(multiply(mu12, 2.0), c1), add(multiply(s12, 2.0), c2))
    den = multiply(add(add(mu11, mu22), c1), add(add(s11, s22), c2))
    value = mean(divide(num, den), axis=(1, 2, 3))
    return squeeze(value, 0) if single else value


_ORDERS = {"nearest": 0, "bilinear": 1}


def _order(interpolation, name):
    if interpolation not in _ORDERS:
        raise ValueError(
            f"{name}: interpolation must be 'nearest' or 'bilinear', got {interpolation!r}"
        )
    return _ORDERS[interpolation]


def affine_transform(
    images,
    transform,
    interpolation="bilinear",
    fill_mode="constant",
    fill_value=0,
    data_format=None,
):
    """Warp by ``transform = [a0, a1, a2, b0, b1, b2, c0, c1]`` (one row per image): output
    pixel (x, y) reads input ``(a0 x + a1 y + a2, b0 x + b1 y + b2)``. As Keras's JAX
    backend, ``c0``/``c1`` offset the coordinates per channel (no projective division)."""
    order = _order(interpolation, "affine_transform")
    data_format = _format(data_format)
    x, undo = _channels_last(_float(_images(images, "affine_transform")), data_format)
    t = np.asarray(as_tensor(transform).numpy(), dtype=np.float64)
    if t.ndim not in (1, 2) or t.shape[-1] != 8:
        raise ValueError(f"affine_transform: transform must be (8,) or (batch, 8), got {t.shape}")
    t = np.broadcast_to(t.reshape(-1, 8), (x.shape[0], 8))
    _, h, w, c = x.shape
    yy, xx, cc = np.meshgrid(np.arange(h), np.arange(w), np.arange(c), indexing="ij")
    outs = []
    for i in range(x.shape[0]):
        a0, a1, a2, b0, b1, b2, c0, c1 = t[i]
        coords = np.stack([b1 * yy + b0 * xx + c0 * cc + b2, a1 * yy + a0 * xx + c1 * cc + a2, cc])
        outs.append(sampling.map_coordinates(x[i], coords, order, fill_mode, fill_value))
    return undo(stack(outs, axis=0))


def _homography(start, end):
    sx, sy, ex, ey = start[..., 0], start[..., 1], end[..., 0], end[..., 1]
    zeros, ones = np.zeros_like(ex), np.ones_like(ex)
    x_rows = np.stack([ex, ey, ones, zeros, zeros, zeros, -sx * ex, -sx * ey], axis=-1)
    y_rows = np.stack([zeros, zeros, zeros, ex, ey, ones, -sy * ex, -sy * ey], axis=-1)
    matrix = np.concatenate([x_rows, y_rows], axis=1)
    target = np.concatenate([sx, sy], axis=-1)[..., None]
    return np.linalg.solve(matrix, target)[..., 0]


def perspective_transform(
    images, start_points, end_points, interpolation="bilinear", fill_value=0, data_format=None
):
    """Warp so that the four ``start_points`` (x, y) land on ``end_points``; outside reads
    give ``fill_value``."""
    order = _order(interpolation, "perspective_transform")
    data_format = _format(data_format)
    x, undo = _channels_last(_float(_images(images, "perspective_transform")), data_format)
    start = np.asarray(as_tensor(start_points).numpy(), dtype=np.float64)
    end = np.asarray(as_tensor(end_points).numpy(), dtype=np.float64)
    if start.shape[-2:] != (4, 2) or start.shape != end.shape:
        raise ValueError(
            f"perspective_transform: points must be (4, 2) or (batch, 4, 2) and alike, got "
            f"{start.shape} and {end.shape}"
        )
    h_all = _homography(start.reshape(-1, 4, 2), end.reshape(-1, 4, 2))
    h_all = np.broadcast_to(h_all, (x.shape[0], 8))
    _, height, width, channels = x.shape
    gx, gy = np.meshgrid(np.arange(width), np.arange(height), indexing="xy")
    outs = []
    for i in range(x.shape[0]):
        m = h_all[i]
        denom = m[6] * gx + m[7] * gy + 1.0
        xin = (m[0] * gx + m[1] * gy + m[2]) / denom
        yin = (m[3] * gx + m[4] * gy + m[5]) / denom
        planes = [
            sampling.map_coordinates(
                x[i, :, :, ch], np.stack([yin, xin]), order, "constant", fill_value
            )
            for ch in range(channels)
        ]
        outs.append(stack(planes, axis=-1))
    return undo(stack(outs, axis=0))


def elastic_transform(
    images,
    alpha=20.0,
    sigma=5.0,
    interpolation="bilinear",
    fill_mode="reflect",
    fill_value=0.0,
    seed=None,
    data_format=None,
):
    """Warp by a random displacement field (normal noise scaled by ``sigma``, Gaussian
    blurred, scaled by ``alpha``). As Keras's JAX backend, one field displaces both axes.
    ``seed`` is an int, a ``gpuk.random.SeedGenerator`` or None."""
    order = _order(interpolation, "elastic_transform")
    data_format = _format(data_format)
    x, undo = _channels_last(_images(images, "elastic_transform"), data_format)
    dtype = x.dtype
    x = _float(x)
    b, h, w, c = x.shape
    from gpuk.ops.random import random_normal

    if hasattr(seed, "next"):
        seed = seed.next()
    noise = random_normal((b, h, w, 1), 0.0, float(sigma), dtype=x.dtype, seed=seed)
    k = sampling.elastic_kernel_size(sigma)
    field = gaussian_blur(noise, (k, k), (float(sigma), float(sigma)), "channels_last")
    field = np.asarray(field.numpy()[..., 0], dtype=np.float64) * float(alpha)
    gx, gy = np.meshgrid(np.arange(w), np.arange(h))
    outs = []
    for i in range(b):
        coords = np.stack([gy + field[i], gx + field[i]])
        planes = [
            sampling.map_coordinates(x[i, :, :, ch], coords, order, fill_mode, fill_value)
            for ch in range(c)
        ]
        outs.append(stack(planes, axis=-1))
    return undo(cast(stack(outs, axis=0), dtype))
