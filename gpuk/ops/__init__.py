"""Differentiable operations written once over the NumPy/CuPy API (``xp``).

Every op accepts Tensors, Variables, NumPy/CuPy arrays and Python numbers, and returns a
Tensor. Importing this package attaches Python operators to Tensor.
"""

from gpuk.ops import operators as _operators
from gpuk.ops.attention import dot_product_attention
from gpuk.ops.compare import equal, greater, greater_equal, less, less_equal, not_equal
from gpuk.ops.contraction import einsum
from gpuk.ops.crossentropy import (
    binary_crossentropy,
    categorical_crossentropy,
    legacy_binary_crossentropy,
    legacy_sparse_categorical_crossentropy,
    sparse_categorical_crossentropy,
)
from gpuk.ops.linalg import batch_dot, dot, matmul, tensordot
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
from gpuk.ops.nn import (
    elu,
    exponential,
    gelu,
    hard_sigmoid,
    leaky_relu,
    linear,
    log_softmax,
    mish,
    relu,
    relu6,
    selu,
    sigmoid,
    silu,
    softmax,
    softplus,
    softsign,
    swish,
)
from gpuk.ops.normalization import (
    batch_normalization,
    layer_normalization,
    moments,
    normalize,
    rms_normalization,
)
from gpuk.ops.random import dropout, random_binomial, random_normal, random_uniform
from gpuk.ops.reduce import (
    all,
    any,
    argmax,
    argmin,
    logsumexp,
    max,
    mean,
    min,
    prod,
    std,
    sum,
    var,
)
from gpuk.ops.shaping import (
    cast,
    concatenate,
    cumsum,
    expand_dims,
    flatten,
    gather,
    getitem,
    one_hot,
    ones_like,
    pad,
    repeat,
    reshape,
    split,
    squeeze,
    stack,
    stop_gradient,
    tile,
    transpose,
    zeros_like,
)

_operators.install()
