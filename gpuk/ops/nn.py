"""Activation functions and softmax, with Keras's formulas and defaults.

Each op is one Function with a hand-written backward, so activations cost one graph node.
"""

import math

import numpy as np

from gpuk.autograd import Function, as_tensor
from gpuk.ops._special import erf
from gpuk.ops._util import normalize_axis, xp_of

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


class _Activation(Function):
    """``y = value(xp, x)``; ``grad(xp, x, y)`` is dy/dx. Subclasses may read parameters."""

    def forward(self, x):
        xp = xp_of(x)
        y = self.value(xp, x)
        if y.dtype != x.dtype and x.dtype.kind == "f":
            y = y.astype(x.dtype)
        self.x, self.y = x, y
        return y

    def backward(self, g):
        d = self.grad(xp_of(g), self.x, self.y)
        return ((g * d).astype(g.dtype, copy=False),)


def _stable_sigmoid(xp, x):
    # exp of a non-positive number never overflows
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _stable_softplus(xp, x):
    return xp.log1p(xp.exp(-xp.abs(x))) + xp.maximum(x, 0)


class Sigmoid(_Activation):
    def value(self, xp, x):
        return _stable_sigmoid(xp, x)

    def grad(self, xp, x, y):
        return y * (1 - y)


class HardSigmoid(_Activation):
    def value(self, xp, x):
        return xp.clip(self.slope * x + self.offset, 0, 1)

    def grad(self, xp, x, y):
        z = self.slope * x + self.offset
        return ((z > 0) & (z < 1)) * self.slope


class Relu(_Activation):
    """tf.keras ``K.relu``: positive part above ``threshold`` capped at ``max_value``, minus
    ``negative_slope * relu(threshold - x)``."""

    def value(self, xp, x):
        if not self.threshold and self.max_value is None and not self.negative_slope:
            # plain relu: maximum is ~3x faster than where on mixed signs and, like Keras's
            # backends, lets NaN through
            return xp.maximum(x, 0)
        pos = xp.where(x > self.threshold, x, 0)
        if self.max_value is not None:
            pos = xp.clip(pos, 0, self.max_value)
        if self.negative_slope:
            pos = pos - self.negative_slope * xp.maximum(self.threshold - x, 0)
        return pos

    def grad(self, xp, x, y):
        d = x > self.threshold
        if self.max_value is not None:
            # Zero gradient where capped, as tf.nn.relu6 does.
            d = d & (x < self.max_value) & (x > 0)
        d = d.astype(x.dtype)
        if self.negative_slope:
            d = d + self.negative_slope * (x < self.threshold)
        return d


class LeakyRelu(_Activation):
    def value(self, xp, x):
        return xp.where(x >= 0, x, self.negative_slope * x)

    def grad(self, xp, x, y):
        return xp.where(x >= 0, 1.0, self.negative_slope)


class Elu(_Activation):
    def value(self, xp, x):
        return xp.where(x > 0, x, self.alpha * xp.expm1(xp.minimum(x, 0)))

    def grad(self, xp, x, y):
        return xp.where(x > 0, 1.0, self.alpha * xp.exp(xp.minimum(x, 0)))


class Selu(_Activation):
    def value(self, xp, x):
        return _SELU_SCALE * xp.where(x > 0, x, _SELU_ALPHA * xp.expm1(xp.minimum(x, 0)))

    def grad(self, xp, x, y):
        return _SELU_SCALE * xp.where(x > 0, 1.0, _SELU_ALPHA * xp.exp(xp.minimum(x, 0)))


class Softplus(_Activation):
    def value(self, xp, x):
        return _stable_softplus(xp, x)

    def grad(self, xp, x, y):
        return _stable_sigmoid(xp, x)


class Softsign(_Activation):
    def value(self, xp, x):
        return x / (1 + xp.abs(x))

    def grad(self, xp, x, y):
        d = 1 + xp.abs(x)
        return 1 / (d * d)


class Swish(_Activation):
    def value(self, xp, x):
        self.s = _stable_sigmoid(xp, x)
        return x * self.s

    def grad(self, xp, x, y):
        return self.s * (1 + x * (1 - self.s))


class Mish(_Activation):
    def value(self, xp, x):
        self.t = xp.tanh(_stable_softplus(xp, x))
        return x * self.t

    def grad(self, xp, x, y):
        return self.t + x * (1 - self.t * self.t) * _stable_sigmoid(xp, x)


_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)


class Gelu(_Activation):
    def value(self, xp, x):
        if self.approximate:
            self.t = xp.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x**3))
            return 0.5 * x * (1 + self.t)
        return 0.5 * x * (1 + erf(xp, x / math.sqrt(2)))

    def grad(self, xp, x, y):
        if self.approximate:
            inner = _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x)
            return 0.5 * (1 + self.t) + 0.5 * x * (1 - self.t * self.t) * inner
        cdf = 0.5 * (1 + erf(xp, x / math.sqrt(2)))
        pdf = xp.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
        return cdf + x * pdf


class Exponential(_Activation):
    def value(self, xp, x):
        return xp.exp(x)

    def grad(self, xp, x, y):
        return y


def _max_keepdims(x, axes):
    """``x.max(axis=axes, keepdims=True)``. NumPy reduces a short last axis of a matrix row by
    row (7 us for 128 x 10); over the transposed copy it reduces whole rows at once (2 us).
    A maximum is exact, so both give the same bits."""
    if type(x) is np.ndarray and x.ndim == 2 and axes == (1,) and x.shape[1] <= 32:
        return np.ascontiguousarray(x.T).max(axis=0)[:, None]
    return x.max(axis=axes, keepdims=True)


def softmax_value(x, axis=-1, overwrite=False):
    """Softmax of an array over ``axis`` (Softmax's forward). ``overwrite=True`` lets it work
    in ``x``'s memory (an array the caller owns), with the same bits as a fresh result."""
    xp = xp_of(x)
    axes = normalize_axis(axis, x.ndim)
    peak = _max_keepdims(x, axes)
    if overwrite:
        x -= peak
        shifted = x
    else:
        shifted = x - peak
    e = xp.exp(shifted)
    e /= e.sum(axis=axes, keepdims=True)
    return e


class Softmax(Function):
    def forward(self, x):
        self.axes = normalize_axis(self.axis, x.ndim)
        self.y = softmax_value(x, self.axes)
        return self.y

    def backward(self, g):
        y = self.y
        return (y * (g - (g * y).sum(axis=self.axes, keepdims=True)),)


class LogSoftmax(Function):
    def forward(self, x):
        xp = xp_of(x)
        self.axes = normalize_axis(self.axis, x.ndim)
        shifted = x - x.max(axis=self.axes, keepdims=True)
        y = shifted - xp.log(xp.exp(shifted).sum(axis=self.axes, keepdims=True))
        self.y = y
        return y

    def backward(self, g):
        xp = xp_of(g)
        return (g - xp.exp(self.y) * g.sum(axis=self.axes, keepdims=True),)


def sigmoid(x):
    """Logistic sigmoid ``1 / (1 + exp(-x))``, computed without overflow."""
    return Sigmoid.apply(x)


def hard_sigmoid(x, slope=1 / 6, offset=0.5):
    """Piecewise-linear sigmoid ``clip(slope * x + offset, 0, 1)``.

    The defaults give Keras 3's ``relu6(x + 3) / 6``; ``slope=0.2`` gives tf.keras's formula.
    """
    return HardSigmoid.apply(x, slope=float(slope), offset=float(offset))


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """Rectified linear unit with Keras's options.

    ``x`` above ``threshold`` (capped at ``max_value``), else
    ``negative_slope * (x - threshold)``.
    """
    return Relu.apply(
        x,
        negative_slope=float(negative_slope),
        max_value=None if max_value is None else float(max_value),
        threshold=float(threshold),
    )


def relu6(x):
    """``min(max(x, 0), 6)``."""
    return relu(x, max_value=6.0)


def leaky_relu(x, negative_slope=0.2):
    """``x`` where ``x >= 0``, else ``negative_slope * x`` (Keras 3 default slope 0.2)."""
    return LeakyRelu.apply(x, negative_slope=float(negative_slope))


def elu(x, alpha=1.0):
    """Exponential linear unit: ``x`` if ``x > 0`` else ``alpha * (exp(x) - 1)``."""
    return Elu.apply(x, alpha=float(alpha))


def selu(x):
    """Scaled ELU with the self-normalising constants of Klambauer et al. (2017)."""
    return Selu.apply(x)


def softplus(x):
    """``log(1 + exp(x))``, computed without overflow."""
    return Softplus.apply(x)


def softsign(x):
    """``x / (1 + |x|)``."""
    return Softsign.apply(x)


def swish(x):
    """``x * sigmoid(x)`` (also called SiLU)."""
    return Swish.apply(x)


silu = swish


def mish(x):
    """``x * tanh(softplus(x))``."""
    return Mish.apply(x)


def gelu(x, approximate=True):
    """Gaussian error linear unit ``x * Phi(x)``; ``approximate=True`` uses the tanh form.

    ``keras.ops.gelu`` defaults to the tanh form (``keras.activations.gelu`` passes
    ``approximate=False`` explicitly).
    """
    return Gelu.apply(x, approximate=bool(approximate))


def exponential(x):
    """``exp(x)``."""
    return Exponential.apply(x)


def linear(x):
    """The identity (returns ``x`` as a Tensor)."""
    return as_tensor(x)


def softmax(x, axis=-1):
    """Softmax over ``axis`` (an int or tuple), shifted by the max for stability."""
    return Softmax.apply(x, axis=axis)


def log_softmax(x, axis=-1):
    """``log(softmax(x))`` computed stably."""
    return LogSoftmax.apply(x, axis=axis)
