"""Differentiable operations written once over the NumPy/CuPy API (``xp``).

Every op accepts Tensors, Variables, NumPy/CuPy arrays and Python numbers, and returns a
Tensor. Importing this package attaches Python operators to Tensor.
"""

from gpuk.ops import _namespaces, _symbolic  # noqa: E402
from gpuk.ops import operators as _operators
from gpuk.ops.attention import dot_product_attention
from gpuk.ops.compare import equal, greater, greater_equal, less, less_equal, not_equal
from gpuk.ops.convolution import conv, conv_transpose, depthwise_conv, separable_conv
from gpuk.ops.core import *  # noqa: E402,F403
from gpuk.ops.creation import *  # noqa: E402,F403
from gpuk.ops.crossentropy import (
    binary_crossentropy,
    categorical_crossentropy,
    legacy_binary_crossentropy,
    legacy_sparse_categorical_crossentropy,
    sparse_categorical_crossentropy,
)
from gpuk.ops.ctc import *  # noqa: E402,F403
from gpuk.ops.decompositions import *  # noqa: E402,F403
from gpuk.ops.elementwise import *  # noqa: E402,F403
from gpuk.ops.indexing import *  # noqa: E402,F403
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
from gpuk.ops.nn_extra import *  # noqa: E402,F403
from gpuk.ops.pooling import adaptive_average_pool, adaptive_max_pool, average_pool, max_pool
from gpuk.ops.products import *  # noqa: E402,F403
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
    squeeze,
    stack,
    stop_gradient,
    tile,
    transpose,
    zeros_like,
)
from gpuk.ops.signal import *  # noqa: E402,F403
from gpuk.ops.slicing import *  # noqa: E402,F403
from gpuk.ops.statistics import *  # noqa: E402,F403

_operators.install()
_symbolic.wrap_public(globals())  # keras.ops also run on symbolic tensors (see _symbolic)
image, linalg, nn, numpy = _namespaces.build(globals())
