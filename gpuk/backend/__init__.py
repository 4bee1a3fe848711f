"""The Keras backend namespace: ``from gpuk import backend as K``.

Thin wrappers over :mod:`gpuk.ops` with the names, argument order and numerics of tf.keras 2's
``keras.backend`` (Keras 3 keeps them as ``keras.src.legacy.backend``). Every function accepts
gpuk Tensors and Variables, NumPy arrays and Python numbers, and returns a gpuk Tensor
(``variable``/``zeros``/``ones``/``eye`` return Variables; ``eval``/``get_value`` return NumPy).

Numerics follow tf.keras where they differ from the obvious formula:

* ``sqrt`` clips negative inputs to 0 first.
* ``clip`` with ``max_value < min_value`` uses ``min_value`` for both; None means unbounded.
* ``hard_sigmoid`` is ``clip(0.2 * x + 0.5, 0, 1)`` (Keras 3's activation uses slope 1/6).
* ``binary_crossentropy`` clips to ``[eps, 1 - eps]`` and takes ``log(output + eps)``;
  ``categorical_crossentropy`` renormalises then clips; ``sparse_categorical_crossentropy``
  clips, takes the log and applies a log-softmax (see :mod:`gpuk.ops.crossentropy`).
* ``round`` rounds half to even; ``mean``/``sum`` cast booleans to ``floatx()``.
* ``l2_normalize`` divides by ``sqrt(max(sum(x ** 2), 1e-12))``.
"""

import builtins

import numpy as np

from gpuk import ops
from gpuk._array import default_module, get_array_module, to_numpy
from gpuk._config import (
    epsilon,
    floatx,
    image_data_format,
    set_epsilon,
    set_floatx,
    set_image_data_format,
)
from gpuk.autograd import Tensor, Variable, as_array, as_tensor
from gpuk.autograd import gradients as _engine_gradients
from gpuk.backend._common import (
    _ALLOWED_DTYPES,
    _dtype,
    _float_if_bool,
    _reset_learning_phase,
    _state,
    _tensor,
    backend,
    clear_session,
    eval,
    get_uid,
    is_float_dtype,
    is_int_dtype,
    learning_phase,
    result_type,
    set_learning_phase,
    standardize_dtype,
)
from gpuk.backend.nn import (
    binary_crossentropy,
    categorical_crossentropy,
    dropout,
    elu,
    gradients,
    hard_sigmoid,
    in_test_phase,
    in_train_phase,
    print_tensor,
    random_binomial,
    random_normal,
    random_uniform,
    relu,
    sigmoid,
    softmax,
    softplus,
    softsign,
    sparse_categorical_crossentropy,
    stop_gradient,
    switch,
    tanh,
    truncated_normal,
)
from gpuk.utils.session import clear_session as utils_clear_session
from gpuk.utils.session import register_clear_session_hook

# ----------------------------------------------------------------------------- variables


def variable(value, dtype=None, name=None, constraint=None):
    """A Variable holding ``value`` (dtype ``floatx()`` unless given)."""
    data = value.data if isinstance(value, Tensor) else value
    return Variable(as_array(data), dtype=_dtype(dtype), name=name, constraint=constraint)


def constant(value, dtype=None, shape=None, name=None):
    """A constant Tensor; a scalar ``value`` with ``shape`` fills that shape."""
    xp = default_module()
    data = xp.asarray(to_numpy(value.data) if isinstance(value, Tensor) else value)
    data = data.astype(_dtype(dtype))
    if shape is not None:
        shape = tuple(int(s) for s in shape)
        data = xp.broadcast_to(data, shape).copy() if data.size == 1 else data.reshape(shape)
    return Tensor(data)


def is_tensor(x):
    """True for gpuk Tensors (and Variables)."""
    return isinstance(x, Tensor)


def is_keras_tensor(x):
    """True for the symbolic tensors ``Input`` and layer calls return."""
    return type(x).__name__ == "KerasTensor"


def get_value(x):
    """The value of a variable (or tensor) as a NumPy array."""
    return eval(x)


def batch_get_value(tensors):
    """The values of a list of tensors, as NumPy arrays."""
    return [get_value(t) for t in tensors]


def set_value(x, value):
    """Assign ``value`` (an array or number) to the variable ``x``."""
    if not isinstance(x, Variable):
        raise TypeError(f"set_value expects a gpuk Variable, got {type(x).__name__}")
    # assign takes numbers, lists, NumPy/CuPy arrays and Tensors (np.asarray refuses CuPy).
    x.assign(value)


def batch_set_value(tuples):
    """Assign many values: ``tuples`` is a list of ``(variable, value)`` pairs."""
    for x, value in tuples:
        set_value(x, value)


def update(x, new_x):
    """Assign ``new_x`` to the variable ``x``; returns ``x``."""
    return x.assign(new_x)


def update_add(x, increment):
    """Add ``increment`` to the variable ``x``; returns ``x``."""
    return x.assign_add(increment)


def update_sub(x, decrement):
    """Subtract ``decrement`` from the variable ``x``; returns ``x``."""
    return x.assign_sub(decrement)


def count_params(x):
    """The number of scalars in ``x``."""
    return int(np.prod(int_shape(x)))


def zeros(shape, dtype=None, name=None):
    """A Variable of zeros (as tf.keras)."""
    xp = default_module()
    return Variable(xp.zeros(_shape_tuple(shape), dtype=_dtype(dtype)), name=name)


def ones(shape, dtype=None, name=None):
    """A Variable of ones (as tf.keras)."""
    xp = default_module()
    return Variable(xp.ones(_shape_tuple(shape), dtype=_dtype(dtype)), name=name)


def eye(size, dtype=None, name=None):
    """An identity-matrix Variable; ``size`` is ``n`` or ``(rows, columns)``."""
    xp = default_module()
    rows, cols = (size, size) if isinstance(size, int) else tuple(size)
    return Variable(xp.eye(int(rows), int(cols), dtype=_dtype(dtype)), name=name)


def zeros_like(x, dtype=None, name=None):
    """Zeros with ``x``'s shape (and dtype unless given)."""
    x = _tensor(x)
    return ops.zeros_like(x, dtype=_dtype(dtype, x.dtype.name))


def ones_like(x, dtype=None, name=None):
    """Ones with ``x``'s shape (and dtype unless given)."""
    x = _tensor(x)
    return ops.ones_like(x, dtype=_dtype(dtype, x.dtype.name))


def random_uniform_variable(shape, low, high, dtype=None, name=None, seed=None):
    """A Variable of uniform samples in ``[low, high)``."""
    value = ops.random_uniform(shape, low, high, dtype=_dtype(dtype), seed=seed)
    return Variable(value.data, name=name)


def random_normal_variable(shape, mean, scale, dtype=None, name=None, seed=None):
    """A Variable of normal samples."""
    value = ops.random_normal(shape, mean, scale, dtype=_dtype(dtype), seed=seed)
    return Variable(value.data, name=name)


def _shape_tuple(shape):
    if isinstance(shape, Tensor):
        shape = shape.numpy().tolist()
    return (int(shape),) if np.ndim(shape) == 0 else tuple(int(s) for s in shape)


# ----------------------------------------------------------------------------- shapes


def shape(x):
    """The shape of ``x`` as an int32 Tensor (``int_shape`` gives a tuple)."""
    return Tensor(np.asarray(int_shape(x), dtype="int32"))


def int_shape(x):
    """The shape of ``x`` as a tuple of ints (None for unknown dimensions of symbolic
    tensors)."""
    s = getattr(x, "shape", None)
    if s is None:
        s = np.shape(x)
    return tuple(None if d is None else int(d) for d in s)


def ndim(x):
    """The rank of ``x``."""
    return len(int_shape(x))


def dtype(x):
    """The dtype of ``x`` as a string, e.g. ``'float32'``."""
    d = getattr(x, "dtype", None)
    if d is None:
        d = np.asarray(x).dtype
    return getattr(d, "name", str(d))


def cast(x, dtype):
    """Convert ``x`` to ``dtype``; gradients flow between float types only."""
    return ops.cast(_tensor(x), _dtype(dtype))


def reshape(x, shape):
    """Reshape ``x`` (one entry may be -1)."""
    return ops.reshape(x, _shape_tuple(shape))


def transpose(x):
    """Reverse the axes of ``x`` (as ``tf.transpose``)."""
    return ops.transpose(x)


def permute_dimensions(x, pattern):
    """Reorder the axes of ``x``: ``pattern`` is a permutation such as ``(0, 2, 1)``."""
    return ops.transpose(x, tuple(pattern))


def concatenate(tensors, axis=-1):
    """Join tensors along ``axis``."""
    return ops.concatenate(tensors, axis=axis)


def stack(x, axis=0):
    """Stack a list of same-shaped tensors along a new ``axis``."""
    return ops.stack(x, axis=axis)


def expand_dims(x, axis=-1):
    """Insert a length-1 axis at ``axis``."""
    return ops.expand_dims(x, axis)


def squeeze(x, axis):
    """Remove the length-1 axis ``axis``."""
    return ops.squeeze(x, axis=axis)


def flatten(x):
    """Reshape to one dimension."""
    return ops.flatten(x)


def batch_flatten(x):
    """Reshape ``(batch, ...)`` to ``(batch, prod(...))``."""
    x = _tensor(x)
    return ops.reshape(x, (x.shape[0], -1) if x.ndim else (1, -1))


def repeat_elements(x, rep, axis):
    """Repeat each element ``rep`` times along ``axis`` (as ``numpy.repeat``)."""
    return ops.repeat(x, int(rep), axis=axis)


def repeat(x, n):
    """Repeat a 2-D ``(batch, dim)`` tensor into ``(batch, n, dim)``."""
    x = _tensor(x)
    if x.ndim != 2:
        raise ValueError(f"repeat expects a 2-D tensor, got shape {x.shape}")
    return ops.tile(ops.expand_dims(x, 1), (1, int(n), 1))


def tile(x, n):
    """Tile ``x``; ``n`` is an int or one count per axis."""
    return ops.tile(x, (n,) if isinstance(n, int) else tuple(n))


def gather(reference, indices):
    """Rows of ``reference`` at integer ``indices`` (axis 0)."""
    return ops.gather(reference, indices, axis=0)


def one_hot(indices, num_classes):
    """One-hot encode integer ``indices`` into a new last axis (``floatx()``)."""
    return ops.one_hot(indices, num_classes)


def arange(start, stop=None, step=1, dtype="int32"):
    """A 1-D tensor of evenly spaced values (as ``numpy.arange``)."""
    xp = default_module()
    if stop is None:
        start, stop = 0, start
    return Tensor(xp.arange(start, stop, step, dtype=_dtype(dtype)))


def slice(x, start, size):
    """``x[start[i] : start[i] + size[i]]`` along every axis (size -1 means to the end)."""
    key = tuple(
        builtins.slice(int(b), None if int(n) == -1 else int(b) + int(n))
        for b, n in zip(start, size)
    )
    return _tensor(x)[key]


# ----------------------------------------------------------------------------- reductions


def sum(x, axis=None, keepdims=False):
    """Sum over ``axis`` (booleans count as ``floatx()``)."""
    return ops.sum(_float_if_bool(x), axis=axis, keepdims=keepdims)


def mean(x, axis=None, keepdims=False):
    """Mean over ``axis`` (booleans count as ``floatx()``)."""
    return ops.mean(_float_if_bool(x), axis=axis, keepdims=keepdims)


def prod(x, axis=None, keepdims=False):
    """Product over ``axis``."""
    return ops.prod(x, axis=axis, keepdims=keepdims)


def max(x, axis=None, keepdims=False):
    """Maximum over ``axis``."""
    return ops.max(x, axis=axis, keepdims=keepdims)


def min(x, axis=None, keepdims=False):
    """Minimum over ``axis``."""
    return ops.min(x, axis=axis, keepdims=keepdims)


def var(x, axis=None, keepdims=False):
    """Population variance over ``axis``."""
    return ops.var(_float_if_bool(x), axis=axis, keepdims=keepdims)


def std(x, axis=None, keepdims=False):
    """Population standard deviation over ``axis``."""
    return ops.std(_float_if_bool(x), axis=axis, keepdims=keepdims)


def cumsum(x, axis=0):
    """Cumulative sum along ``axis``."""
    return ops.cumsum(x, axis=axis)


def logsumexp(x, axis=None, keepdims=False):
    """``log(sum(exp(x)))`` over ``axis``, computed stably."""
    return ops.logsumexp(x, axis=axis, keepdims=keepdims)


def argmax(x, axis=-1):
    """Index of the maximum along ``axis``."""
    return ops.argmax(x, axis=axis)


def argmin(x, axis=-1):
    """Index of the minimum along ``axis``."""
    return ops.argmin(x, axis=axis)


def any(x, axis=None, keepdims=False):
    """Logical OR over ``axis``."""
    return ops.any(x, axis=axis, keepdims=keepdims)


def all(x, axis=None, keepdims=False):
    """Logical AND over ``axis``."""
    return ops.all(x, axis=axis, keepdims=keepdims)


# ----------------------------------------------------------------------------- elementwise


def abs(x):
    """Elementwise absolute value."""
    return ops.abs(x)


def square(x):
    """Elementwise square."""
    return ops.square(x)


def sqrt(x):
    """Elementwise square root; negative inputs are clipped to 0 first (as tf.keras)."""
    x = _tensor(x)
    return ops.sqrt(ops.maximum(x, 0.0))


def exp(x):
    """Elementwise exponential."""
    return ops.exp(x)


def log(x):
    """Elementwise natural logarithm."""
    return ops.log(x)


def pow(x, a):
    """Elementwise ``x ** a``."""
    return ops.pow(x, a)


def clip(x, min_value, max_value):
    """Clip ``x`` to ``[min_value, max_value]``; None means unbounded on that side, and
    ``max_value < min_value`` uses ``min_value`` for both (as tf.keras)."""
    if isinstance(min_value, (int, float)) and isinstance(max_value, (int, float)):
        max_value = builtins.max(max_value, min_value)
    low = -np.inf if min_value is None else min_value
    high = np.inf if max_value is None else max_value
    return ops.clip(_tensor(x), low, high)


def minimum(x, y):
    """Elementwise minimum."""
    return ops.minimum(x, y)


def maximum(x, y):
    """Elementwise maximum."""
    return ops.maximum(x, y)


def round(x):
    """Round half to even (as tf.round); no gradient."""
    return ops.round(x)


def sign(x):
    """Elementwise sign; no gradient."""
    return ops.sign(x)


def equal(x, y):
    """Elementwise ``x == y``."""
    return ops.equal(x, y)


def not_equal(x, y):
    """Elementwise ``x != y``."""
    return ops.not_equal(x, y)


def greater(x, y):
    """Elementwise ``x > y``."""
    return ops.greater(x, y)


def greater_equal(x, y):
    """Elementwise ``x >= y``."""
    return ops.greater_equal(x, y)


def less(x, y):
    """Elementwise ``x < y``."""
    return ops.less(x, y)


def less_equal(x, y):
    """Elementwise ``x <= y``."""
    return ops.less_equal(x, y)


def cos(x):
    """Elementwise cosine (no gradient recorded)."""
    data = _tensor(x).data
    return Tensor(get_array_module(data).cos(data))


def sin(x):
    """Elementwise sine (no gradient recorded)."""
    data = _tensor(x).data
    return Tensor(get_array_module(data).sin(data))


# ----------------------------------------------------------------------------- linear algebra


def dot(x, y):
    """Keras's ``K.dot``: N-D inputs contract ``x``'s last axis with ``y``'s second-to-last."""
    return ops.dot(x, y)


def batch_dot(x, y, axes=None):
    """Keras's ``K.batch_dot`` (see :func:`gpuk.ops.batch_dot`)."""
    return ops.batch_dot(x, y, axes=axes)


def bias_add(x, bias, data_format=None):
    """Add a 1-D ``bias`` along the channel axis."""
    data_format = data_format or image_data_format()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(
            f"Unknown data_format: {data_format!r}. Allowed: channels_last, channels_first"
        )
    x, bias = _tensor(x), _tensor(bias)
    if data_format == "channels_first" and x.ndim > 2:
        bias = ops.reshape(bias, (bias.shape[0],) + (1,) * (x.ndim - 2))
    return x + bias


def l2_normalize(x, axis=None):
    """``x / sqrt(max(sum(x ** 2, axis), 1e-12))`` (as ``tf.math.l2_normalize``)."""
    x = _tensor(x)
    squared = ops.sum(ops.square(x), axis=axis, keepdims=True)
    return x / ops.sqrt(ops.maximum(squared, 1e-12))
