"""Cross-entropies with Keras's exact numerics, shared by ``gpuk.backend`` and ``gpuk.losses``.

Probabilities are clipped to ``[epsilon, 1 - epsilon]`` (``gpuk.config.epsilon()``) before
the log; categorical crossentropy first renormalises ``output`` to sum to one over ``axis``.
The results are per element (binary) or per sample (categorical): no mean is taken.

Keras 3 and tf.keras 2 differ in two places, so both are offered:

* binary: tf.keras 2 (``K.binary_crossentropy``) takes ``log(output + epsilon)`` after the
  clip; Keras 3 takes ``log(output)``. The values differ by about ``epsilon / output`` (a
  factor-2 change inside the log at the clipped ends). :func:`binary_crossentropy` is
  Keras 3; :func:`legacy_binary_crossentropy` is tf.keras 2.
* sparse categorical without logits: tf.keras 2 clips, takes the log and then applies a
  log-softmax (which renormalises after the clip); Keras 3 renormalises, clips, and takes the
  log. They agree except where probabilities were clipped.
  :func:`legacy_sparse_categorical_crossentropy` is the tf.keras 2 form.

With ``from_logits=True`` both use the overflow-free forms
(``max(x, 0) - x * t + log1p(exp(-|x|))`` and ``log_softmax``), as TensorFlow's
``*_cross_entropy_with_logits`` do.
"""

import numpy as np

from gpuk._config import epsilon
from gpuk.autograd import Function, Tensor, as_array, as_tensor
from gpuk.ops._util import broadcast_shape, normalize_axis, unbroadcast, xp_of
from gpuk.ops.math import clip, log
from gpuk.ops.nn import log_softmax
from gpuk.ops.reduce import sum as reduce_sum
from gpuk.ops.shaping import one_hot, transpose


class SigmoidCrossEntropyWithLogits(Function):
    """``max(x, 0) - x * t + log1p(exp(-|x|))``: no overflow, no cancellation for large |x|."""

    def forward(self, target, logits):
        xp = xp_of(logits)
        self.t, self.x = target, logits
        out = xp.maximum(logits, 0) - logits * target + xp.log1p(xp.exp(-xp.abs(logits)))
        return out.astype(logits.dtype, copy=False)

    def backward(self, g):
        xp = xp_of(g)
        e = xp.exp(-xp.abs(self.x))
        sig = xp.where(self.x >= 0, 1 / (1 + e), e / (1 + e))
        gt = unbroadcast(-g * self.x, self.t.shape) if self.needs_input_grad[0] else None
        return gt, unbroadcast(g * (sig - self.t), self.x.shape)


class SparseCrossentropyOfProbabilities(Function):
    """Sparse categorical crossentropy of probabilities over the last axis, one op.

    The arithmetic of the op chain it replaces, step for step in both directions (so the same
    bits): ``s = sum(x)``, ``o = x / s``, ``c = clip(o, eps, 1 - eps)``, ``-sum(mask *
    log(c))`` with ``mask`` the one-hot labels (a parameter: labels take no gradient).
    """

    def forward(self, x):
        xp = xp_of(x)
        axes = (x.ndim - 1,)
        s = x.sum(axis=axes, keepdims=True)
        o = x / s
        low, high = self.eps, 1.0 - self.eps
        self.inside = (o >= low) & (o <= high)
        c = xp.clip(o, low, high).astype(o.dtype, copy=False)
        self.x, self.s, self.c = x, s, c
        return -(self.mask * xp.log(c)).sum(axis=axes, keepdims=False)

    def backward(self, g):
        xp = xp_of(g)
        x, s = self.x, self.s
        g = (g * -1)[..., None] * self.mask  # the sum op's broadcast gradient, then the product
        g = g * (1 / self.c)
        g = xp.where(self.inside, g, xp.zeros((), dtype=g.dtype))
        gx = g / s
        gs = (-gx * x / s).sum(axis=(x.ndim - 1,), keepdims=True)
        return (gx + gs,)


def _pair(target, output):
    output = as_tensor(output)
    target = as_tensor(target, output.data)
    return target, output


def _check_same_shape(name, target, output):
    if target.shape != output.shape:
        broadcast_shape(name, target.shape, output.shape)
        if len(target.shape) != len(output.shape):
            raise ValueError(
                f"{name}: target shape {target.shape} and output shape {output.shape} must be equal"
            )


def binary_crossentropy(target, output, from_logits=False):
    """Elementwise binary crossentropy (Keras 3 numerics).

    ``-(t * log(o) + (1 - t) * log(1 - o))`` with ``o`` clipped to ``[eps, 1 - eps]``.

    Args:
        target: labels in [0, 1], the shape of ``output``.
        output: probabilities, or logits when ``from_logits=True``.
        from_logits: whether ``output`` holds logits.
    """
    target, output = _pair(target, output)
    _check_same_shape("binary_crossentropy", target, output)
    if from_logits:
        return SigmoidCrossEntropyWithLogits.apply(target, output)
    eps = epsilon()
    o = clip(output, eps, 1.0 - eps)
    return -(target * log(o) + (1.0 - target) * log(1.0 - o))


def legacy_binary_crossentropy(target, output, from_logits=False):
    """tf.keras 2's ``K.binary_crossentropy``: as Keras 3's, but ``log(o + eps)``."""
    target, output = _pair(target, output)
    _check_same_shape("binary_crossentropy", target, output)
    if from_logits:
        return SigmoidCrossEntropyWithLogits.apply(target, output)
    eps = epsilon()
    o = clip(output, eps, 1.0 - eps)
    return -(target * log(o + eps) + (1.0 - target) * log(1.0 - o + eps))


def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Crossentropy between one-hot (or soft) ``target`` and ``output`` along ``axis``.

    Without logits, ``output`` is renormalised to sum to one over ``axis`` and clipped to
    ``[eps, 1 - eps]``; the result is ``-sum(target * log(output), axis)``. Identical in
    tf.keras 2 and Keras 3.
    """
    target, output = _pair(target, output)
    if target.shape != output.shape:
        raise ValueError(
            f"categorical_crossentropy: target shape {target.shape} and output shape "
            f"{output.shape} must be equal"
        )
    if from_logits:
        log_prob = log_softmax(output, axis=axis)
    else:
        eps = epsilon()
        o = output / reduce_sum(output, axis=axis, keepdims=True)
        log_prob = log(clip(o, eps, 1.0 - eps))
    return -reduce_sum(target * log_prob, axis=axis)


def _sparse_setup(name, target, output, axis):
    output = as_tensor(output)
    # the labels follow the output's device (host labels meet device predictions in metrics)
    labels = as_array(target.data if isinstance(target, Tensor) else target, output.data)
    if output.ndim < 1:
        raise ValueError(f"{name}: output must have rank >= 1, got shape {output.shape}")
    (axis,) = normalize_axis(axis, output.ndim)
    if axis != output.ndim - 1:
        order = [a for a in range(output.ndim) if a != axis] + [axis]
        output = transpose(output, order)
    if labels.ndim == output.ndim and labels.shape[-1] == 1:
        labels = labels.reshape(labels.shape[:-1])
    if tuple(labels.shape) != output.shape[:-1]:
        raise ValueError(
            f"{name}: target shape {tuple(labels.shape)} must equal the output shape "
            f"{output.shape} without the class axis {axis} (a trailing 1 is allowed)"
        )
    if labels.dtype.kind == "f":
        labels = labels.astype(np.int64)
    return labels, output


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Categorical crossentropy with integer class labels (Keras 3 numerics).

    Args:
        target: integer labels of ``output``'s shape without ``axis`` (a trailing axis of
            length 1 is accepted; float labels are truncated to ints).
        output: probabilities (renormalised and clipped as in categorical crossentropy), or
            logits when ``from_logits=True``.
        axis: the class axis of ``output``.
    """
    name = "sparse_categorical_crossentropy"
    labels, output = _sparse_setup(name, target, output, axis)
    mask = one_hot(Tensor(labels), output.shape[-1], dtype=output.dtype)
    if not from_logits and output.dtype.kind == "f":
        return SparseCrossentropyOfProbabilities.apply(output, mask=mask.data, eps=epsilon())
    if from_logits:
        log_prob = log_softmax(output, axis=-1)
    else:
        eps = epsilon()
        o = output / reduce_sum(output, axis=-1, keepdims=True)
        log_prob = log(clip(o, eps, 1.0 - eps))
    return -reduce_sum(mask * log_prob, axis=-1)


def legacy_sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """tf.keras 2's ``K.sparse_categorical_crossentropy``: clip, log, then log-softmax."""
    name = "sparse_categorical_crossentropy"
    labels, output = _sparse_setup(name, target, output, axis)
    if not from_logits:
        eps = epsilon()
        output = log(clip(output, eps, 1.0 - eps))
    mask = one_hot(Tensor(labels), output.shape[-1], dtype=output.dtype)
    return -reduce_sum(mask * log_softmax(output, axis=-1), axis=-1)
