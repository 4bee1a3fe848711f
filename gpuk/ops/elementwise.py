"""Keras 3's elementwise NumPy-like functions: trigonometry, exponentials, rounding,
predicates, bitwise and logical ops, written once over ``xp``.

Functions whose Keras counterpart is differentiable are one ``Function`` with a hand-written
derivative; predicates, rounding, bitwise and logical ops carry no gradient (as in Keras).
Integer inputs to float-valued functions are computed in ``floatx()``, as Keras promotes them.
"""

import math

import numpy as np

from gpuk._config import floatx
from gpuk.autograd import Function, Tensor, as_array, as_tensor
from gpuk.ops._special import erf as _erf
from gpuk.ops._util import broadcast_shape, unbroadcast, xp_of
from gpuk.ops.math import Elementwise, divide, pow

__all__ = [
    "absolute",
    "allclose",
    "arccos",
    "arccosh",
    "arcsin",
    "arcsinh",
    "arctan",
    "arctan2",
    "arctanh",
    "bitwise_and",
    "bitwise_invert",
    "bitwise_left_shift",
    "bitwise_not",
    "bitwise_or",
    "bitwise_right_shift",
    "bitwise_xor",
    "cbrt",
    "ceil",
    "cos",
    "cosh",
    "deg2rad",
    "divide_no_nan",
    "erf",
    "erfc",
    "erfinv",
    "exp2",
    "expm1",
    "fabs",
    "floor",
    "floor_divide",
    "fmax",
    "fmin",
    "fmod",
    "gcd",
    "heaviside",
    "hypot",
    "i0",
    "isclose",
    "isfinite",
    "isinf",
    "isnan",
    "isneginf",
    "isposinf",
    "isreal",
    "lcm",
    "ldexp",
    "left_shift",
    "log10",
    "log2",
    "logaddexp",
    "logaddexp2",
    "logical_and",
    "logical_not",
    "logical_or",
    "logical_xor",
    "mod",
    "nan_to_num",
    "nextafter",
    "power",
    "rad2deg",
    "reciprocal",
    "right_shift",
    "rsqrt",
    "signbit",
    "sin",
    "sinc",
    "sinh",
    "tan",
    "true_divide",
    "trunc",
]

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)


def _float_input(x):
    """``x`` as a Tensor, ints and bools cast to ``floatx()`` (Keras's promotion)."""
    t = as_tensor(x)
    if t.dtype.kind in "biu":
        return Tensor(t.data.astype(floatx()))
    return t


def _unary(name, fn, derivative, doc):
    cls = type(
        name, (Elementwise,), {"fn": staticmethod(fn), "derivative": staticmethod(derivative)}
    )

    def op(x):
        return cls.apply(_float_input(x))

    op.__name__ = op.__qualname__ = name.lower()
    op.__doc__ = doc
    op.function = cls
    return op


def _quiet(fn):
    def wrapped(xp, x, y):
        with np.errstate(divide="ignore", invalid="ignore"):
            return fn(xp, x, y)

    return wrapped


sin = _unary("Sin", lambda xp, x: xp.sin(x), lambda xp, x, y: xp.cos(x), "Elementwise sine.")
cos = _unary("Cos", lambda xp, x: xp.cos(x), lambda xp, x, y: -xp.sin(x), "Elementwise cosine.")
tan = _unary("Tan", lambda xp, x: xp.tan(x), lambda xp, x, y: 1 + y * y, "Elementwise tangent.")
arcsin = _unary(
    "Arcsin",
    lambda xp, x: xp.arcsin(x),
    _quiet(lambda xp, x, y: 1 / xp.sqrt(1 - x * x)),
    "Elementwise inverse sine.",
)
arccos = _unary(
    "Arccos",
    lambda xp, x: xp.arccos(x),
    _quiet(lambda xp, x, y: -1 / xp.sqrt(1 - x * x)),
    "Elementwise inverse cosine.",
)
arctan = _unary(
    "Arctan",
    lambda xp, x: xp.arctan(x),
    lambda xp, x, y: 1 / (1 + x * x),
    "Elementwise inverse tangent.",
)
sinh = _unary("Sinh", lambda xp, x: xp.sinh(x), lambda xp, x, y: xp.cosh(x), "Hyperbolic sine.")
cosh = _unary("Cosh", lambda xp, x: xp.cosh(x), lambda xp, x, y: xp.sinh(x), "Hyperbolic cosine.")
arcsinh = _unary(
    "Arcsinh",
    lambda xp, x: xp.arcsinh(x),
    lambda xp, x, y: 1 / xp.sqrt(x * x + 1),
    "Inverse hyperbolic sine.",
)
arccosh = _unary(
    "Arccosh",
    lambda xp, x: xp.arccosh(x),
    _quiet(lambda xp, x, y: 1 / xp.sqrt(x * x - 1)),
    "Inverse hyperbolic cosine.",
)
arctanh = _unary(
    "Arctanh",
    lambda xp, x: xp.arctanh(x),
    _quiet(lambda xp, x, y: 1 / (1 - x * x)),
    "Inverse hyperbolic tangent.",
)
expm1 = _unary(
    "Expm1", lambda xp, x: xp.expm1(x), lambda xp, x, y: y + 1, "``exp(x) - 1``, accurate near 0."
)
exp2 = _unary("Exp2", lambda xp, x: xp.exp2(x), lambda xp, x, y: y * _LN2, "Elementwise 2**x.")
log2 = _unary(
    "Log2", lambda xp, x: xp.log2(x), _quiet(lambda xp, x, y: 1 / (x * _LN2)), "Base-2 logarithm."
)
log10 = _unary(
    "Log10",
    lambda xp, x: xp.log10(x),
    _quiet(lambda xp, x, y: 1 / (x * _LN10)),
    "Base-10 logarithm.",
)
cbrt = _unary(
    "Cbrt", lambda xp, x: xp.cbrt(x), _quiet(lambda xp, x, y: 1 / (3 * y * y)), "Cube root."
)
reciprocal = _unary(
    "Reciprocal",
    lambda xp, x: _reciprocal(xp, x),
    lambda xp, x, y: -y * y,
    "Elementwise ``1 / x``.",
)
rsqrt = _unary(
    "Rsqrt",
    lambda xp, x: _reciprocal(xp, xp.sqrt(x)),
    lambda xp, x, y: -0.5 * y * y * y,
    "Elementwise ``1 / sqrt(x)``.",
)
deg2rad = _unary(
    "Deg2rad",
    lambda xp, x: xp.deg2rad(x),
    lambda xp, x, y: math.pi / 180,
    "Degrees to radians.",
)
rad2deg = _unary(
    "Rad2deg",
    lambda xp, x: xp.rad2deg(x),
    lambda xp, x, y: 180 / math.pi,
    "Radians to degrees.",
)
fabs = _unary(
    "Fabs",
    lambda xp, x: xp.abs(x),
    lambda xp, x, y: xp.sign(x),
    "Absolute value as a float.",
)
erf = _unary(
    "Erf",
    lambda xp, x: _erf(xp, x),
    lambda xp, x, y: (2 / math.sqrt(math.pi)) * xp.exp(-x * x),
    "The error function.",
)
erfc = _unary(
    "Erfc",
    lambda xp, x: 1 - _erf(xp, x),
    lambda xp, x, y: (-2 / math.sqrt(math.pi)) * xp.exp(-x * x),
    "The complementary error function ``1 - erf(x)``.",
)


def _reciprocal(xp, x):
    with np.errstate(divide="ignore"):
        return 1 / x


def _sinc_value(xp, x):
    px = math.pi * xp.where(x == 0, xp.ones_like(x), x)
    return xp.where(x == 0, xp.ones_like(x), xp.sin(px) / px)


def _sinc_grad(xp, x, y):
    safe = xp.where(x == 0, xp.ones_like(x), x)
    px = math.pi * safe
    d = (xp.cos(px) * px - xp.sin(px)) / (px * safe)
    return xp.where(x == 0, xp.zeros_like(x), d)


sinc = _unary("Sinc", _sinc_value, _sinc_grad, "Normalised sinc ``sin(pi x) / (pi x)``.")


def _erfinv_value(xp, x):
    # Giles's single-precision approximation, then two Newton steps on erf (float64-accurate).
    x64 = x.astype(np.float64)
    w = -xp.log(xp.clip((1 - x64) * (1 + x64), 1e-300, None))
    small = w < 5
    ws = w - 2.5
    p = 2.81022636e-08
    for c in (3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503,
              -0.00417768164, 0.246640727, 1.50140941):  # fmt: skip
        p = c + p * ws
    wb = xp.sqrt(w) - 3
    q = -0.000200214257
    for c in (0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613,
              0.00943887047, 1.00167406, 2.83297682):  # fmt: skip
        q = c + q * wb
    y = xp.where(small, p, q) * x64
    for _ in range(2):
        y = y - (_erf(xp, y) - x64) / ((2 / math.sqrt(math.pi)) * xp.exp(-y * y))
    y = xp.where(xp.abs(x64) == 1, xp.sign(x64) * np.inf, y)
    return y.astype(x.dtype, copy=False)


erfinv = _unary(
    "Erfinv",
    _erfinv_value,
    lambda xp, x, y: (math.sqrt(math.pi) / 2) * xp.exp(y * y),
    "Inverse error function (``erf(erfinv(x)) == x`` on (-1, 1)).",
)


def i0(x):
    """Modified Bessel function of the first kind, order 0 (no gradient)."""
    data = _float_input(x).data
    return Tensor(xp_of(data).i0(data).astype(data.dtype, copy=False))


class _Binary(Function):
    """Broadcasting binary op; subclasses give ``compute`` and ``partials``."""

    def forward(self, a, b):
        broadcast_shape(self.op_name, a.shape, b.shape)
        self.a, self.b = a, b
        self.y = self.compute(xp_of(a, b), a, b)
        return self.y

    def backward(self, g):
        ga, gb = self.partials(xp_of(g), g)
        return (
            None if ga is None else unbroadcast(ga, self.a.shape),
            None if gb is None else unbroadcast(gb, self.b.shape),
        )


def _pair(x1, x2):
    """Both operands as arrays on one device; numbers take the tensor's dtype."""
    like = next((v.data for v in (x1, x2) if isinstance(v, Tensor)), None)
    if like is None:
        a = as_array(x1)
        like = a if a.dtype.kind in "fc" else None
        return Tensor(a), as_tensor(x2, like if like is not None else as_array(x2))
    return as_tensor(x1, like), as_tensor(x2, like)


def _float_pair(x1, x2):
    a, b = _pair(x1, x2)
    a, b = _float_input(a), _float_input(b)
    if a.dtype != b.dtype:
        dtype = np.result_type(a.dtype, b.dtype)
        a, b = Tensor(a.data.astype(dtype)) if a.dtype != dtype else a, b
        b = Tensor(b.data.astype(dtype)) if b.dtype != dtype else b
    return a, b


def _binary(name, compute, partials, doc, floats=True):
    cls = type(
        name, (_Binary,), {"op_name": name.lower(), "compute": compute, "partials": partials}
    )

    def op(x1, x2):
        a, b = _float_pair(x1, x2) if floats else _pair(x1, x2)
        return cls.apply(a, b)

    op.__name__ = op.__qualname__ = name.lower()
    op.__doc__ = doc
    op.function = cls
    return op


def _atan2_partials(self, xp, g):
    d = self.a * self.a + self.b * self.b
    d = xp.where(d == 0, xp.ones_like(d), d)
    return g * self.b / d, -g * self.a / d


arctan2 = _binary(
    "Arctan2",
    lambda self, xp, a, b: xp.arctan2(a, b),
    _atan2_partials,
    "Elementwise ``arctan(x1 / x2)`` in the correct quadrant.",
)


def _hypot_partials(self, xp, g):
    h = xp.where(self.y == 0, xp.ones_like(self.y), self.y)
    return g * self.a / h, g * self.b / h


hypot = _binary(
    "Hypot",
    lambda self, xp, a, b: xp.hypot(a, b),
    _hypot_partials,
    "Elementwise ``sqrt(x1**2 + x2**2)``.",
)


def _logaddexp_partials(self, xp, g):
    wa = xp.exp(self.a - self.y)
    wb = xp.exp(self.b - self.y)
    return g * wa, g * wb


logaddexp = _binary(
    "Logaddexp",
    lambda self, xp, a, b: xp.logaddexp(a, b),
    _logaddexp_partials,
    "``log(exp(x1) + exp(x2))`` without overflow.",
)
logaddexp2 = _binary(
    "Logaddexp2",
    lambda self, xp, a, b: xp.logaddexp2(a, b),
    lambda self, xp, g: (g * xp.exp2(self.a - self.y), g * xp.exp2(self.b - self.y)),
    "``log2(2**x1 + 2**x2)`` without overflow.",
)


def _pick_partials(first):
    def partials(self, xp, g):
        pick = first(xp, self.a, self.b)
        zero = xp.zeros((), dtype=g.dtype)
        return xp.where(pick, g, zero), xp.where(pick, zero, g)

    return partials


fmax = _binary(
    "Fmax",
    lambda self, xp, a, b: xp.fmax(a, b),
    _pick_partials(lambda xp, a, b: (a >= b) | xp.isnan(b)),
    "Elementwise maximum that ignores NaNs.",
)
fmin = _binary(
    "Fmin",
    lambda self, xp, a, b: xp.fmin(a, b),
    _pick_partials(lambda xp, a, b: (a <= b) | xp.isnan(b)),
    "Elementwise minimum that ignores NaNs.",
)
mod = _binary(
    "Mod",
    lambda self, xp, a, b: xp.mod(a, b),
    lambda self, xp, g: (g, -g * xp.floor(self.a / self.b)),
    "Remainder with the sign of the divisor (``numpy.mod``).",
    floats=False,
)
fmod = _binary(
    "Fmod",
    lambda self, xp, a, b: xp.fmod(a, b),
    lambda self, xp, g: (g, -g * xp.trunc(self.a / self.b)),
    "Remainder with the sign of the dividend (C's ``fmod``).",
    floats=False,
)


def _divide_no_nan(xp, a, b):
    zero = b == 0
    return xp.where(zero, xp.zeros((), dtype=a.dtype), a / xp.where(zero, xp.ones_like(b), b))


def _divide_no_nan_partials(self, xp, g):
    zero = self.b == 0
    safe = xp.where(zero, xp.ones_like(self.b), self.b)
    ga = xp.where(zero, xp.zeros_like(g), g / safe)
    return ga, -ga * self.a / safe


divide_no_nan = _binary(
    "DivideNoNan",
    lambda self, xp, a, b: _divide_no_nan(xp, a, b),
    _divide_no_nan_partials,
    "``x1 / x2``, with 0 wherever ``x2`` is 0.",
)
ldexp = _binary(
    "Ldexp",
    lambda self, xp, a, b: (a * xp.exp2(b.astype(a.dtype))).astype(a.dtype),
    lambda self, xp, g: (g * xp.exp2(self.b.astype(g.dtype)), None),
    "``x1 * 2**x2``.",
    floats=False,
)


def true_divide(x1, x2):
    """``x1 / x2`` (an alias of ``divide``)."""
    return divide(x1, x2)


def power(x1, x2):
    """Elementwise ``x1 ** x2``."""
    return pow(x1, x2)


def _no_grad(name, fn, doc, floats=False):
    def op(*args):
        if len(args) == 1:
            data = (_float_input(args[0]) if floats else as_tensor(args[0])).data
            return Tensor(fn(xp_of(data), data))
        a, b = _pair(*args)
        broadcast_shape(name, a.shape, b.shape)
        return Tensor(fn(xp_of(a.data, b.data), a.data, b.data))

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc + " No gradient."
    return op


def _keep_float(fn):
    return lambda xp, x: fn(xp, x).astype(x.dtype, copy=False)


floor = _no_grad("floor", _keep_float(lambda xp, x: xp.floor(x)), "Round down.", floats=True)
ceil = _no_grad("ceil", _keep_float(lambda xp, x: xp.ceil(x)), "Round up.", floats=True)
trunc = _no_grad("trunc", lambda xp, x: xp.trunc(x), "Round towards zero.")
signbit = _no_grad("signbit", lambda xp, x: xp.signbit(x), "True where the sign bit is set.")
isnan = _no_grad("isnan", lambda xp, x: xp.isnan(x), "True where NaN.")
isinf = _no_grad("isinf", lambda xp, x: xp.isinf(x), "True where infinite.")
isfinite = _no_grad("isfinite", lambda xp, x: xp.isfinite(x), "True where finite.")
isneginf = _no_grad("isneginf", lambda xp, x: xp.isinf(x) & (x < 0), "True where -inf.")
isposinf = _no_grad("isposinf", lambda xp, x: xp.isinf(x) & (x > 0), "True where +inf.")
isreal = _no_grad("isreal", lambda xp, x: xp.isreal(x), "True where the imaginary part is 0.")
logical_not = _no_grad("logical_not", lambda xp, x: xp.logical_not(x), "Elementwise NOT.")
logical_and = _no_grad("logical_and", lambda xp, a, b: xp.logical_and(a, b), "Elementwise AND.")
logical_or = _no_grad("logical_or", lambda xp, a, b: xp.logical_or(a, b), "Elementwise OR.")
logical_xor = _no_grad("logical_xor", lambda xp, a, b: xp.logical_xor(a, b), "Elementwise XOR.")
bitwise_and = _no_grad("bitwise_and", lambda xp, a, b: xp.bitwise_and(a, b), "Bitwise AND.")
bitwise_or = _no_grad("bitwise_or", lambda xp, a, b: xp.bitwise_or(a, b), "Bitwise OR.")
bitwise_xor = _no_grad("bitwise_xor", lambda xp, a, b: xp.bitwise_xor(a, b), "Bitwise XOR.")
bitwise_invert = _no_grad("bitwise_invert", lambda xp, x: xp.invert(x), "Bitwise NOT.")
bitwise_not = _no_grad("bitwise_not", lambda xp, x: xp.invert(x), "Bitwise NOT.")
bitwise_left_shift = _no_grad(
    "bitwise_left_shift", lambda xp, a, b: xp.left_shift(a, b), "Shift bits left."
)
left_shift = _no_grad("left_shift", lambda xp, a, b: xp.left_shift(a, b), "Shift bits left.")
bitwise_right_shift = _no_grad(
    "bitwise_right_shift", lambda xp, a, b: xp.right_shift(a, b), "Shift bits right."
)
right_shift = _no_grad("right_shift", lambda xp, a, b: xp.right_shift(a, b), "Shift bits right.")
gcd = _no_grad("gcd", lambda xp, a, b: xp.gcd(a, b), "Greatest common divisor.")
lcm = _no_grad("lcm", lambda xp, a, b: xp.lcm(a, b), "Least common multiple.")
nextafter = _no_grad(
    "nextafter", lambda xp, a, b: xp.nextafter(a, b), "Next float after x1 towards x2."
)
heaviside = _no_grad(
    "heaviside",
    lambda xp, a, b: xp.heaviside(a, b),
    "Step function: 0 below zero, ``x2`` at zero, 1 above.",
)


def floor_divide(x1, x2):
    """``floor(x1 / x2)`` (integer division for ints). No gradient."""
    a, b = _pair(x1, x2)
    broadcast_shape("floor_divide", a.shape, b.shape)
    return Tensor(xp_of(a.data, b.data).floor_divide(a.data, b.data))


def absolute(x):
    """Elementwise ``|x|`` (an alias of ``abs``)."""
    from gpuk.ops.math import abs as _abs

    return _abs(x)


def isclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
    """True where ``|x1 - x2| <= atol + rtol * |x2|``. No gradient."""
    a, b = _pair(x1, x2)
    xp = xp_of(a.data, b.data)
    return Tensor(xp.isclose(a.data, b.data, rtol=rtol, atol=atol, equal_nan=equal_nan))


def allclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
    """A boolean scalar tensor: ``isclose`` holds everywhere."""
    return Tensor(isclose(x1, x2, rtol, atol, equal_nan).data.all())


class NanToNum(Function):
    def forward(self, x):
        xp = xp_of(x)
        self.finite = xp.isfinite(x)
        return xp.nan_to_num(x, nan=self.nan, posinf=self.posinf, neginf=self.neginf)

    def backward(self, g):
        return (xp_of(g).where(self.finite, g, xp_of(g).zeros((), dtype=g.dtype)),)


def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    """Replace NaN by ``nan`` and infinities by ``posinf``/``neginf`` (the dtype's extremes
    by default); the gradient passes where ``x`` was finite."""
    return NanToNum.apply(as_tensor(x), nan=nan, posinf=posinf, neginf=neginf)
