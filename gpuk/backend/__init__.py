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
from gpuk.utils.dtypes import standardize_dtype
from gpuk.utils.session import clear_session as utils_clear_session
from gpuk.utils.session import register_clear_session_hook

_ALLOWED_DTYPES = (
    "float16",
    "float32",
    "float64",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "bool",
)
_state = {"learning_phase": 0}


# ----------------------------------------------------------------------------- helpers


def _dtype(dtype, default=None):
    """Validate a dtype and return its name; None gives ``default`` (floatx by default)."""
    if dtype is None:
        return default or floatx()
    name = getattr(dtype, "name", dtype)
    try:
        name = np.dtype(name).name
    except TypeError:
        name = None
    if name not in _ALLOWED_DTYPES:
        raise ValueError(f"Unknown dtype: {dtype!r}. Allowed: {', '.join(_ALLOWED_DTYPES)}")
    return name


def _tensor(x):
    """``x`` as a Tensor; Python floats and float lists take ``floatx()``."""
    return as_tensor(x)


def _float_if_bool(x):
    x = _tensor(x)
    return ops.cast(x, floatx()) if x.dtype == bool else x


# ----------------------------------------------------------------------------- settings


def learning_phase():
    """The global learning phase: 0 (test) unless set to 1 (train)."""
    return _state["learning_phase"]


def set_learning_phase(value):
    """Set the global learning phase to 0 (test) or 1 (train)."""
    if value not in (0, 1, True, False):
        raise ValueError(f"Expected learning phase to be 0 or 1, got {value!r}")
    _state["learning_phase"] = int(value)


def _reset_learning_phase():
    _state["learning_phase"] = 0


register_clear_session_hook(_reset_learning_phase)


def clear_session(free_memory=True):
    """Reset global state (learning phase, layer and model name counters): see
    ``gpuk.utils.clear_session``."""
    utils_clear_session(free_memory=free_memory)


def backend():
    """The name of the backend, ``'gpuk'``."""
    return "gpuk"


_uids = {}


def get_uid(prefix=""):
    """1, 2, 3, ... for each ``prefix``, as Keras's ``backend.get_uid`` (reset by
    ``clear_session``)."""
    _uids[prefix] = _uids.get(prefix, 0) + 1
    return _uids[prefix]


register_clear_session_hook(_uids.clear)


def is_float_dtype(dtype):
    """True for floating-point dtypes (``float16``/``bfloat16``/``float32``/``float64``...)."""
    return standardize_dtype(dtype).startswith(("float", "bfloat"))


def is_int_dtype(dtype):
    """True for signed and unsigned integer dtypes."""
    return standardize_dtype(dtype).startswith(("int", "uint"))


def result_type(*dtypes):
    """The dtype an operation on ``dtypes`` produces, by Keras 3's rule (JAX's lattice): a
    float meets an integer at the float's width, so ``int32`` and ``float32`` give
    ``float32`` (NumPy would say ``float64``); no dtypes give ``floatx()``."""
    if not dtypes:
        return floatx()
    names = [standardize_dtype(d) for d in dtypes]
    floats = [n for n in names if is_float_dtype(n)]
    if floats:
        if "bfloat16" in floats and all(f in ("bfloat16", "float16") for f in floats):
            return "bfloat16" if floats == ["bfloat16"] * len(floats) else "float32"
        return builtins.max(floats, key=lambda n: np.dtype(n).itemsize if n != "bfloat16" else 2)
    return np.result_type(*names).name


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


def eval(x):
    """The value of ``x`` as a NumPy array."""
    if isinstance(x, Tensor):
        return x.numpy()
    return np.asarray(to_numpy(x) if hasattr(x, "shape") else x)


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


# ----------------------------------------------------------------------------- activations


def relu(x, alpha=0.0, max_value=None, threshold=0.0):
    """tf.keras's ``K.relu``: ``x`` above ``threshold`` (capped at ``max_value``), else
    ``alpha * (x - threshold)``."""
    return ops.relu(x, negative_slope=alpha, max_value=max_value, threshold=threshold)


def elu(x, alpha=1.0):
    """Exponential linear unit."""
    return ops.elu(x, alpha=alpha)


def sigmoid(x):
    """Logistic sigmoid."""
    return ops.sigmoid(x)


def hard_sigmoid(x):
    """tf.keras's hard sigmoid ``clip(0.2 * x + 0.5, 0, 1)``."""
    return ops.hard_sigmoid(x, slope=0.2, offset=0.5)


def tanh(x):
    """Hyperbolic tangent."""
    return ops.tanh(x)


def softmax(x, axis=-1):
    """Softmax over ``axis``."""
    return ops.softmax(x, axis=axis)


def softplus(x):
    """``log(1 + exp(x))``."""
    return ops.softplus(x)


def softsign(x):
    """``x / (1 + |x|)``."""
    return ops.softsign(x)


# ----------------------------------------------------------------------------- losses


def binary_crossentropy(target, output, from_logits=False):
    """Elementwise binary crossentropy with tf.keras's numerics (clip, then
    ``log(output + epsilon)``)."""
    return ops.legacy_binary_crossentropy(target, output, from_logits=from_logits)


def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Categorical crossentropy along ``axis`` (output renormalised, then clipped)."""
    return ops.categorical_crossentropy(target, output, from_logits=from_logits, axis=axis)


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Categorical crossentropy with integer labels (tf.keras numerics)."""
    return ops.legacy_sparse_categorical_crossentropy(
        target, output, from_logits=from_logits, axis=axis
    )


# ----------------------------------------------------------------------------- gradients


def stop_gradient(variables):
    """The value(s) with gradient flow cut; accepts one tensor or a list."""
    if isinstance(variables, (list, tuple)):
        return [ops.stop_gradient(v) for v in variables]
    return ops.stop_gradient(variables)


def gradients(loss, variables):
    """Gradients of ``loss`` (summed if not scalar) with respect to ``variables``.

    gpuk is eager, so this only works when ``loss`` was computed inside an active
    ``gpuk.GradientTape`` (that is what records the operations); sources the loss does not
    depend on get None. Prefer ``tape.gradient``.
    """
    single = not isinstance(variables, (list, tuple))
    sources = [variables] if single else list(variables)
    loss = _tensor(loss)
    if loss.node is None and not builtins.any(loss is s for s in sources):
        raise ValueError(
            "gradients: `loss` carries no record of how it was computed; compute it inside "
            "`with gpuk.GradientTape():` (gpuk is eager, like TensorFlow 2)"
        )
    xp = get_array_module(loss.data)
    seed = xp.ones(loss.shape, dtype=loss.dtype)
    grads = _engine_gradients([loss], [seed], sources)
    out = [None if g is None else Tensor(g) for g in grads]
    return out[0] if single else out


# ----------------------------------------------------------------------------- randomness


def random_uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """Uniform samples in ``[minval, maxval)``."""
    return ops.random_uniform(shape, minval, maxval, dtype=_dtype(dtype), seed=seed)


def random_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Normal samples."""
    return ops.random_normal(shape, mean, stddev, dtype=_dtype(dtype), seed=seed)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Normal samples redrawn until within two standard deviations of the mean."""
    xp = default_module()
    z = ops.random_normal(shape, 0.0, 1.0, dtype="float64", seed=seed).data
    attempt = 1
    while bool(xp.any(xp.abs(z) > 2)):
        redraw = ops.random_normal(
            z.shape, 0.0, 1.0, dtype="float64", seed=None if seed is None else seed + attempt
        ).data
        z = xp.where(xp.abs(z) > 2, redraw, z)
        attempt += 1
    return Tensor((mean + stddev * z).astype(_dtype(dtype)))


def random_binomial(shape, p=0.0, dtype=None, seed=None):
    """Bernoulli samples (1 with probability ``p``)."""
    return ops.random_binomial(shape, p, dtype=_dtype(dtype), seed=seed)


random_bernoulli = random_binomial


def dropout(x, level, noise_shape=None, seed=None):
    """Inverted dropout: drop a fraction ``level`` of units, scale the rest by
    ``1 / (1 - level)``."""
    return ops.dropout(x, level, noise_shape=noise_shape, seed=seed)


def in_train_phase(x, alt, training=None):
    """``x`` in the training phase, else ``alt``; either may be a callable.

    ``training`` defaults to :func:`learning_phase`.
    """
    if training is None:
        training = learning_phase()
    chosen = x if bool(training) else alt
    return chosen() if callable(chosen) else chosen


def in_test_phase(x, alt, training=None):
    """``x`` in the test phase, else ``alt``."""
    return in_train_phase(alt, x, training=training)


def switch(condition, then_expression, else_expression):
    """Pick ``then_expression`` where ``condition`` holds, else ``else_expression``.

    A scalar condition picks a whole branch (callables are called lazily); a lower-rank
    condition is broadcast over the trailing axes of the branches (as tf.keras).
    """
    cond = _tensor(condition).data
    if cond.ndim == 0:
        chosen = then_expression if bool(cond) else else_expression
        return _tensor(chosen() if callable(chosen) else chosen)
    then = then_expression() if callable(then_expression) else then_expression
    other = else_expression() if callable(else_expression) else else_expression
    then, other = _tensor(then), _tensor(other)
    if cond.ndim > then.ndim:
        raise ValueError(
            f"switch: rank of condition ({cond.ndim}) must not exceed the rank of the "
            f"expressions ({then.ndim})"
        )
    cond = cond.astype(bool).reshape(cond.shape + (1,) * (then.ndim - cond.ndim))
    return ops.where(Tensor(cond), then, other)


def print_tensor(x, message=""):
    """Print ``message`` and the value of ``x``; returns ``x``."""
    print(message, eval(x))
    return x
