"""Normalization ops with Keras 3's formulas: ``moments``, ``batch_normalization``,
``layer_normalization``, ``rms_normalization``, ``normalize`` (the public ``keras.ops``
functions, re-exported by :mod:`gpuk.ops.nn_extra`; the one implementation the layers use
too), and the fused ``normalize_moments`` (one graph node, analytic backward).

Integer inputs are cast to ``floatx()`` first, as Keras's ops compute in floats.
"""

import warnings

from gpuk._config import epsilon as default_epsilon
from gpuk._config import floatx
from gpuk.autograd import Function, as_tensor
from gpuk.ops import math as _math
from gpuk.ops import reduce as _reduce
from gpuk.ops import shaping as _shaping
from gpuk.ops._util import normalize_axis, unbroadcast, xp_of

__all__ = [
    "batch_normalization",
    "layer_normalization",
    "moments",
    "normalize",
    "normalize_moments",
    "rms_normalization",
]


def _float(x):
    x = as_tensor(x)
    return _shaping.cast(x, floatx()) if x.dtype.kind in "biu" else x


class _NormalizeMoments(Function):
    """``(x - mean) * rsqrt(var + eps) * scale + offset`` with the statistics over ``axes``.

    Outputs ``(y, mean, variance)`` (statistics with kept dims); gradients flow through all
    three, so using the statistics (e.g. a moving average) costs nothing extra.
    """

    def forward(self, x, scale, offset):
        xp = xp_of(x)
        axes = self.axes
        count = 1
        for a in axes:
            count *= x.shape[a]
        self.count = count
        mean = x.mean(axis=axes, keepdims=True)
        centered = x - mean
        var = (centered * centered).mean(axis=axes, keepdims=True)
        rstd = 1.0 / xp.sqrt(var + x.dtype.type(self.epsilon))
        xhat = centered * rstd
        self.xhat, self.rstd, self.centered = xhat, rstd, centered
        self.scale, self.scale_shape, self.offset_shape = scale, scale.shape, offset.shape
        y = xhat * scale + offset if self.has_scale else xhat + offset
        return y.astype(x.dtype, copy=False), mean, var

    def backward(self, g, g_mean, g_var):
        axes, n = self.axes, self.count
        xhat = self.xhat
        g_scale = unbroadcast(g * xhat, self.scale_shape) if self.has_scale else None
        g_offset = unbroadcast(g, self.offset_shape) if self.has_offset else None
        gx_hat = g * self.scale if self.has_scale else g
        mean_g = gx_hat.mean(axis=axes, keepdims=True)
        mean_gx = (gx_hat * xhat).mean(axis=axes, keepdims=True)
        gx = self.rstd * (gx_hat - mean_g - xhat * mean_gx)
        gx = gx + g_mean / n + g_var * (2.0 / n) * self.centered
        return gx.astype(g.dtype, copy=False), g_scale, g_offset


def normalize_moments(x, axes, scale=None, offset=None, epsilon=1e-3):
    """Normalize ``x`` by its mean and variance over ``axes``, then scale and shift.

    Args:
        x: input tensor.
        axes: int or tuple of axes to take the statistics over.
        scale, offset: optional tensors broadcastable to ``x`` (``gamma``/``beta``).
        epsilon: added to the variance.

    Returns:
        ``(outputs, mean, variance)``; the statistics keep the reduced dims.
    """
    x = as_tensor(x)
    axes = normalize_axis(axes, x.ndim)
    xp = xp_of(x.data)
    one = xp.ones((), dtype=x.dtype)
    zero = xp.zeros((), dtype=x.dtype)
    return _NormalizeMoments.apply(
        x,
        one if scale is None else scale,
        zero if offset is None else offset,
        axes=axes,
        epsilon=float(epsilon),
        has_scale=scale is not None,
        has_offset=offset is not None,
    )


def moments(x, axes, keepdims=False, synchronized=False):
    """``(mean, variance)`` of ``x`` over ``axes`` (population variance, as Keras)."""
    x = _float(x)
    axes = normalize_axis(axes, x.ndim)
    mean = _reduce.mean(x, axis=axes, keepdims=True)
    variance = _reduce.mean(
        _math.square(x - _shaping.stop_gradient(mean)), axis=axes, keepdims=True
    )
    # The mean's gradient through the variance is zero (sum of deviations), so stopping it
    # changes nothing numerically and saves a path.
    if not keepdims:
        mean = _shaping.squeeze(mean, axes)
        variance = _shaping.squeeze(variance, axes)
    return mean, variance


def _rsqrt(x):
    return 1.0 / _math.sqrt(x)


def batch_normalization(x, mean, variance, axis, offset=None, scale=None, epsilon=1e-3):
    """Keras's ``ops.batch_normalization``: ``(x - mean) * rsqrt(variance + eps) * scale +
    offset`` with the 1-D statistics laid along ``axis``."""
    x = _float(x)
    axis = normalize_axis(axis, x.ndim)[0]
    shape = [1] * x.ndim
    shape[axis] = x.shape[axis]

    def lay(v):
        return _shaping.reshape(as_tensor(v, like=x.data), shape)

    inv = _rsqrt(lay(variance) + epsilon)
    if scale is not None:
        inv = inv * lay(scale)
    res = -lay(mean) * inv
    if offset is not None:
        res = res + lay(offset)
    return x * inv + res


def _broadcast_param(v, x, axes):
    if v is None:
        return None
    v = as_tensor(v, like=x.data)
    if v.ndim == x.ndim:
        return v
    shape = [1] * x.ndim
    for a in axes:
        shape[a] = x.shape[a]
    return _shaping.reshape(v, shape)


def layer_normalization(x, gamma=None, beta=None, axis=-1, epsilon=None, **kwargs):
    """Keras's ``ops.layer_normalization`` over ``axis`` (an int or a list of axes).

    ``rms_scaling=True`` (deprecated in Keras 3, which warns) scales by
    ``rsqrt(variance + epsilon)`` without centering; use :func:`rms_normalization`.
    """
    rms_scaling = kwargs.pop("rms_scaling", False)
    if kwargs:
        raise TypeError(f"layer_normalization: unexpected arguments {sorted(kwargs)}")
    if rms_scaling:
        warnings.warn(
            "layer_normalization: rms_scaling=True is deprecated (as in Keras 3); use "
            "rms_normalization",
            stacklevel=2,
        )
    return _layer_normalization(x, gamma, beta, axis, epsilon, rms_scaling)


def _layer_normalization(x, gamma, beta, axis, epsilon, rms_scaling):
    """:func:`layer_normalization` without the deprecation warning (for LayerNormalization,
    whose ``rms_scaling`` argument warns once, when the layer is created)."""
    x = _float(x)
    epsilon = default_epsilon() if epsilon is None else float(epsilon)
    axes = tuple(sorted(normalize_axis(axis, x.ndim)))
    gamma = _broadcast_param(gamma, x, axes)
    beta = _broadcast_param(beta, x, axes)
    if rms_scaling:
        _, variance = moments(x, axes, keepdims=True)
        out = x * _rsqrt(variance + epsilon)
        return out * gamma if gamma is not None else out
    return normalize_moments(x, axes, scale=gamma, offset=beta, epsilon=epsilon)[0]


def rms_normalization(x, scale=None, axis=-1, epsilon=None):
    """``x * rsqrt(mean(x**2, axis) + epsilon) * scale`` (Keras's ``ops.rms_normalization``)."""
    x = _float(x)
    if x.ndim == 0:
        x = _shaping.expand_dims(x, 0)
    epsilon = default_epsilon() if epsilon is None else float(epsilon)
    axes = tuple(sorted(normalize_axis(axis, x.ndim)))
    rrms = _rsqrt(_reduce.mean(_math.square(x), axis=axes, keepdims=True) + epsilon)
    out = x * rrms
    if scale is not None:
        out = out * _broadcast_param(scale, x, axes)
    return out


def normalize(x, axis=-1, order=2, epsilon=None):
    """``x / norm(x, order, axis)`` (Keras's ``ops.normalize``; L2 as ``x * min(rsqrt(sum
    x**2), 1/epsilon)``)."""
    if not isinstance(order, int) or order < 1:
        raise ValueError(f"normalize: order must be an int >= 1, received order={order!r}")
    x = _float(x)
    if x.ndim == 0:
        x = _shaping.expand_dims(x, 0)
    epsilon = default_epsilon() if epsilon is None else float(epsilon)
    if order == 2:
        inv = _rsqrt(_reduce.sum(_math.square(x), axis=axis, keepdims=True))
        return x * _math.minimum(inv, 1.0 / epsilon)
    norm = _math.pow(
        _reduce.sum(_math.pow(_math.abs(x), float(order)), axis=axis, keepdims=True),
        1.0 / order,
    )
    return x / _math.maximum(norm, epsilon)
