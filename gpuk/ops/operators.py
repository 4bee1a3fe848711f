"""Python operators on Tensor (``+ - * / // % ** @``, ``& | ^ ~``, unary minus, ``abs``,
comparisons, ``[]``)."""

import numpy as np

from gpuk.autograd import Tensor
from gpuk.ops import compare, elementwise, linalg, math, reduce, shaping


def _swap(op):
    return lambda self, other: op(other, self)


def _bitwise_or_logical(kind):
    """``&``, ``|``, ``^``: logical on booleans, bitwise on integers (as NumPy and Keras)."""

    def method(self, other):
        if self.dtype.kind == "b" and _is_bool(other):
            return getattr(elementwise, f"logical_{kind}")(self, other)
        return getattr(elementwise, f"bitwise_{kind}")(self, other)

    return method


def _is_bool(value):
    if isinstance(value, bool):
        return True
    dtype = getattr(value, "dtype", None)
    return dtype is not None and np.dtype(dtype).kind == "b"


def _invert(self):
    if self.dtype.kind == "b":
        return elementwise.logical_not(self)
    return elementwise.bitwise_not(self)


def install():
    """Attach the operators to Tensor; called once when gpuk.ops is imported."""
    methods = {
        "__add__": math.add,
        "__radd__": _swap(math.add),
        "__sub__": math.subtract,
        "__rsub__": _swap(math.subtract),
        "__mul__": math.multiply,
        "__rmul__": _swap(math.multiply),
        "__truediv__": math.divide,
        "__rtruediv__": _swap(math.divide),
        "__floordiv__": elementwise.floor_divide,
        "__rfloordiv__": _swap(elementwise.floor_divide),
        "__mod__": elementwise.mod,
        "__rmod__": _swap(elementwise.mod),
        "__and__": _bitwise_or_logical("and"),
        "__rand__": _bitwise_or_logical("and"),
        "__or__": _bitwise_or_logical("or"),
        "__ror__": _bitwise_or_logical("or"),
        "__xor__": _bitwise_or_logical("xor"),
        "__rxor__": _bitwise_or_logical("xor"),
        "__invert__": _invert,
        "__pow__": math.pow,
        "__rpow__": _swap(math.pow),
        "__matmul__": linalg.matmul,
        "__rmatmul__": _swap(linalg.matmul),
        "__neg__": math.negative,
        "__pos__": lambda self: self,
        "__abs__": math.abs,
        "__getitem__": shaping.getitem,
        "__lt__": compare.less,
        "__le__": compare.less_equal,
        "__gt__": compare.greater,
        "__ge__": compare.greater_equal,
        "__eq__": compare.equal,
        "__ne__": compare.not_equal,
        "reshape": lambda self, *s: shaping.reshape(self, s[0] if len(s) == 1 else s),
        "sum": lambda self, axis=None, keepdims=False: reduce.sum(self, axis, keepdims),
        "mean": lambda self, axis=None, keepdims=False: reduce.mean(self, axis, keepdims),
        "T": property(lambda self: shaping.transpose(self)),
    }
    for name, method in methods.items():
        setattr(Tensor, name, method)
    Tensor.__hash__ = object.__hash__
