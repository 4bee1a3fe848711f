"""The ``K`` namespace's activations, losses, gradients and random functions (tf.keras 2
numerics; see the numerics notes in ``gpuk/backend/__init__.py``)."""

import builtins

from gpuk import ops
from gpuk._array import default_module, get_array_module
from gpuk.autograd import Tensor
from gpuk.autograd import gradients as _engine_gradients
from gpuk.backend._common import (
    _dtype,
    _tensor,
    eval,
    learning_phase,
)

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
