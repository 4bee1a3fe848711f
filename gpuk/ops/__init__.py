"""Differentiable operations written once over the NumPy/CuPy API (``xp``).

Every op accepts Tensors, Variables, NumPy/CuPy arrays and Python numbers, and returns a
Tensor. Importing this package attaches Python operators to Tensor.
"""

from gpuk.ops import operators as _operators
from gpuk.ops.compare import equal, greater, greater_equal, less, less_equal, not_equal
from gpuk.ops.linalg import matmul
from gpuk.ops.math import (
    abs,
    add,
    clip,
    divide,
    exp,
    log,
    log1p,
    maximum,
    minimum,
    multiply,
    negative,
    pow,
    round,
    sign,
    sqrt,
    square,
    subtract,
    tanh,
    where,
)
from gpuk.ops.reduce import max, mean, min, sum
from gpuk.ops.shape import getitem, reshape, transpose

_operators.install()
