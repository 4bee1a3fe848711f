"""Elementwise arithmetic and math functions, written once over ``xp``."""

import numpy as np

from gpuk.autograd import Function, Tensor, as_array, as_tensor
from gpuk.ops._util import broadcast_shape, unbroadcast, xp_of


class _Binary(Function):
    """Broadcasting binary op; subclasses give ``compute`` and ``partials``."""

    def forward(self, a, b):
        broadcast_shape(self.op_name, a.shape, b.shape)
        self.a, self.b = a, b
        return self.compute(a, b)

    def backward(self, g):
        ga, gb = self.partials(g)
        need_a, need_b = self.needs_input_grad
        return (
            unbroadcast(ga, self.a.shape) if ga is not None and need_a else None,
            unbroadcast(gb, self.b.shape) if gb is not None and need_b else None,
        )


class Add(_Binary):
    op_name = "add"

    def compute(self, a, b):
        return a + b

    def partials(self, g):
        return g, g


class Subtract(_Binary):
    op_name = "subtract"

    def compute(self, a, b):
        return a - b

    def partials(self, g):
        return g, -g


class Multiply(_Binary):
    op_name = "multiply"

    def compute(self, a, b):
        return a * b

    def partials(self, g):
        return g * self.b, g * self.a


class Divide(_Binary):
    op_name = "divide"

    def compute(self, a, b):
        return a / b

    def partials(self, g):
        ga = g / self.b
        return ga, -ga * self.a / self.b


class Power(_Binary):
    op_name = "pow"

    def compute(self, a, b):
        self.y = a**b
        return self.y

    def partials(self, g):
        xp = xp_of(self.a)
        ga = g * self.b * self.a ** (self.b - 1) if self.needs_input_grad[0] else None
        gb = None
        if self.needs_input_grad[1]:
            safe = xp.where(self.a > 0, self.a, xp.ones_like(self.a))
            gb = g * self.y * xp.log(safe) * (self.a > 0)
        return ga, gb


class Minimum(_Binary):
    op_name = "minimum"

    def compute(self, a, b):
        return xp_of(a).minimum(a, b)

    def partials(self, g):
        # Ties send the gradient to the first argument, as TensorFlow does. ``where`` rather
        # than a product keeps an infinite upstream gradient (sqrt at 0) out of the
        # unpicked side, where inf * 0 would be nan.
        first = self.a <= self.b
        zero = xp_of(g).zeros((), dtype=g.dtype)
        return xp_of(g).where(first, g, zero), xp_of(g).where(first, zero, g)


class Maximum(_Binary):
    op_name = "maximum"

    def compute(self, a, b):
        return xp_of(a).maximum(a, b)

    def partials(self, g):
        first = self.a >= self.b
        zero = xp_of(g).zeros((), dtype=g.dtype)
        return xp_of(g).where(first, g, zero), xp_of(g).where(first, zero, g)


class Where(Function):
    """``where(condition, x, y)``; the condition gets no gradient."""

    def forward(self, condition, x, y):
        self.condition = condition.astype(bool)
        broadcast_shape("where", condition.shape, x.shape, y.shape)
        self.x_shape, self.y_shape = x.shape, y.shape
        return xp_of(x).where(self.condition, x, y)

    def backward(self, g):
        xp = xp_of(g)
        zero = xp.zeros((), dtype=g.dtype)
        return (
            None,
            unbroadcast(xp.where(self.condition, g, zero), self.x_shape),
            unbroadcast(xp.where(self.condition, zero, g), self.y_shape),
        )


class Elementwise(Function):
    """``y = fn(x)`` with ``dy/dx = derivative(xp, x, y)``; subclasses set both."""

    def forward(self, x):
        xp = xp_of(x)
        y = self.fn(xp, x)
        self.x, self.y = x, y
        return y

    def backward(self, g):
        return (g * self.derivative(xp_of(self.x), self.x, self.y),)


def _elementwise(name, fn, derivative, doc):
    cls = type(
        name, (Elementwise,), {"fn": staticmethod(fn), "derivative": staticmethod(derivative)}
    )

    def op(x):
        return cls.apply(x)

    op.__name__ = name.lower()
    op.__doc__ = doc
    op.function = cls
    return op


def _quiet_reciprocal(y):
    # 1/0 = inf is the intended gradient of sqrt at 0 (as TensorFlow); no NumPy warning.
    with np.errstate(divide="ignore"):
        return 1 / y


def _no_grad_result(data):
    return Tensor(data)


negative = _elementwise("Negative", lambda xp, x: -x, lambda xp, x, y: -1, "Elementwise -x.")
abs = _elementwise("Abs", lambda xp, x: xp.abs(x), lambda xp, x, y: xp.sign(x), "Elementwise |x|.")
square = _elementwise("Square", lambda xp, x: x * x, lambda xp, x, y: 2 * x, "Elementwise x**2.")
sqrt = _elementwise(
    "Sqrt",
    lambda xp, x: xp.sqrt(x),
    lambda xp, x, y: _quiet_reciprocal(2 * y),
    "Elementwise square root (gradient is infinite at 0, as in TensorFlow).",
)
exp = _elementwise("Exp", lambda xp, x: xp.exp(x), lambda xp, x, y: y, "Elementwise e**x.")
log = _elementwise("Log", lambda xp, x: xp.log(x), lambda xp, x, y: 1 / x, "Natural logarithm.")
log1p = _elementwise(
    "Log1p", lambda xp, x: xp.log1p(x), lambda xp, x, y: 1 / (1 + x), "log(1 + x), accurate near 0."
)
tanh = _elementwise(
    "Tanh", lambda xp, x: xp.tanh(x), lambda xp, x, y: 1 - y * y, "Hyperbolic tangent."
)


def sign(x):
    """Elementwise sign (-1, 0 or 1); no gradient."""
    data = as_array(x)
    return _no_grad_result(xp_of(data).sign(data))


def round(x, decimals=0):
    """Round half to even (to ``decimals`` places), as Keras and NumPy do; no gradient."""
    data = as_array(x)
    return _no_grad_result(xp_of(data).round(data, int(decimals)))


def add(a, b):
    """Elementwise a + b with broadcasting."""
    return Add.apply(a, b)


def subtract(a, b):
    """Elementwise a - b with broadcasting."""
    return Subtract.apply(a, b)


def multiply(a, b):
    """Elementwise a * b with broadcasting."""
    return Multiply.apply(a, b)


def divide(a, b):
    """Elementwise a / b with broadcasting."""
    return Divide.apply(a, b)


def pow(a, b):
    """Elementwise a ** b; the exponent gets a gradient where a > 0."""
    return Power.apply(a, b)


def minimum(a, b):
    """Elementwise minimum; ties send the gradient to ``a``."""
    return Minimum.apply(a, b)


def maximum(a, b):
    """Elementwise maximum; ties send the gradient to ``a``."""
    return Maximum.apply(a, b)


def where(condition, x1=None, x2=None):
    """Pick ``x1`` where ``condition`` holds, else ``x2``; gradients flow to the picked side.

    With only ``condition``, the indices of its non-zero elements (as ``nonzero``).
    """
    if x1 is None and x2 is None:
        data = as_array(condition)
        return tuple(Tensor(i.astype("int32")) for i in xp_of(data).nonzero(data))
    if x1 is None or x2 is None:
        raise ValueError("where: give both x1 and x2, or neither")
    # A Python number takes the other branch's dtype (not the boolean condition's).
    like = next((v.data for v in (x1, x2) if isinstance(v, Tensor)), None)
    if like is not None:
        x1, x2 = as_tensor(x1, like), as_tensor(x2, like)
    return Where.apply(condition, x1, x2)


class Clip(Function):
    """Clip into [low, high]; gradient passes where the value was inside (inclusive)."""

    def forward(self, x):
        self.inside = (x >= self.low) & (x <= self.high)
        return xp_of(x).clip(x, self.low, self.high).astype(x.dtype, copy=False)

    def backward(self, g):
        return (xp_of(g).where(self.inside, g, xp_of(g).zeros((), dtype=g.dtype)),)


def clip(x, x_min, x_max):
    """Clip values to ``[x_min, x_max]``."""
    return Clip.apply(x, low=x_min, high=x_max)
