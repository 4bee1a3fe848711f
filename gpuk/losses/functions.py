"""Loss functions ``(y_true, y_pred) -> per-sample loss``, with Keras 3's numerics.

Each function casts ``y_true`` to ``y_pred``'s dtype, aligns ranks the way Keras does (a
trailing axis of length 1 is dropped or added when the ranks differ by one) and, except for
the crossentropies and cosine similarity, averages over the last axis.
"""

import math

import numpy as np

from gpuk import _config, ops
from gpuk._array import get_array_module
from gpuk.autograd import Tensor, as_array
from gpuk.losses.loss import cast_like, float_tensor, squeeze_or_expand_to_same_rank
from gpuk.ops.fused import registry as fused_registry
from gpuk.ops.fused import softmax_xent


def _shape(value):
    return tuple(getattr(value, "shape", np.shape(value)))


def _incompatible(name, y_true, y_pred, detail="cannot be broadcast together"):
    return ValueError(
        f"{name}: y_true and y_pred have incompatible shapes ({detail}). "
        f"Received: y_true.shape={_shape(y_true)}, y_pred.shape={_shape(y_pred)}"
    )


def _prepare(name, y_true, y_pred, same_shape=False):
    """Float tensors on one device, ranks aligned, shapes checked (raising ValueError)."""
    original = (y_true, y_pred)
    y_pred = float_tensor(y_pred)
    y_true = cast_like(y_true, y_pred)
    if y_pred.ndim == 0 and y_true.ndim == 0:
        y_pred, y_true = ops.reshape(y_pred, (1,)), ops.reshape(y_true, (1,))
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    if same_shape:
        if y_true.shape != y_pred.shape:
            raise _incompatible(name, *original, "they must be equal")
    else:
        try:
            np.broadcast_shapes(y_true.shape, y_pred.shape)
        except ValueError:
            raise _incompatible(name, *original) from None
    return y_true, y_pred


def mean_squared_error(y_true, y_pred):
    """``mean(square(y_true - y_pred), axis=-1)``."""
    y_true, y_pred = _prepare("mean_squared_error", y_true, y_pred)
    return ops.mean(ops.square(y_true - y_pred), axis=-1)


def mean_absolute_error(y_true, y_pred):
    """``mean(abs(y_true - y_pred), axis=-1)``."""
    y_true, y_pred = _prepare("mean_absolute_error", y_true, y_pred)
    return ops.mean(ops.abs(y_true - y_pred), axis=-1)


def mean_absolute_percentage_error(y_true, y_pred):
    """``100 * mean(abs((y_true - y_pred) / max(abs(y_true), epsilon)), axis=-1)``."""
    y_true, y_pred = _prepare("mean_absolute_percentage_error", y_true, y_pred)
    eps = _config.epsilon()
    diff = ops.abs((y_true - y_pred) / ops.maximum(ops.abs(y_true), eps))
    return 100.0 * ops.mean(diff, axis=-1)


def mean_squared_logarithmic_error(y_true, y_pred):
    """``mean(square(log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1)), axis=-1)``."""
    y_true, y_pred = _prepare("mean_squared_logarithmic_error", y_true, y_pred)
    eps = _config.epsilon()
    first = ops.log(ops.maximum(y_pred, eps) + 1.0)
    second = ops.log(ops.maximum(y_true, eps) + 1.0)
    return ops.mean(ops.square(first - second), axis=-1)


def _l2_normalize(x, axis):
    # Keras 3 multiplies by min(rsqrt(sum(x**2)), 1/eps); 1/sqrt(max(s, eps**2)) is the same
    # value but keeps the gradient finite for an all-zero vector.
    eps = _config.epsilon()
    square_sum = ops.sum(ops.square(x), axis=axis, keepdims=True)
    return x / ops.sqrt(ops.maximum(square_sum, eps * eps))


def cosine_similarity(y_true, y_pred, axis=-1):
    """Negative cosine similarity along ``axis``: -1 for identical directions, 0 if orthogonal.

    As in Keras this is the loss form (``-sum(l2_normalize(y_true) * l2_normalize(y_pred))``),
    so minimising it maximises the similarity.
    """
    y_true, y_pred = _prepare("cosine_similarity", y_true, y_pred)
    return -ops.sum(_l2_normalize(y_true, axis) * _l2_normalize(y_pred, axis), axis=axis)


def _hinge_labels(y_true):
    """{0, 1} labels become {-1, 1}; other labels pass unchanged (decided on the device)."""
    data = y_true.data
    is_binary = get_array_module(data).all((data == 0) | (data == 1))
    return ops.where(Tensor(is_binary), 2.0 * y_true - 1.0, y_true)


def hinge(y_true, y_pred):
    """``mean(max(1 - y_true * y_pred, 0), axis=-1)``; labels in {0, 1} are mapped to {-1, 1}."""
    y_true, y_pred = _prepare("hinge", y_true, y_pred)
    y_true = _hinge_labels(y_true)
    return ops.mean(ops.maximum(1.0 - y_true * y_pred, 0.0), axis=-1)


def squared_hinge(y_true, y_pred):
    """``mean(square(max(1 - y_true * y_pred, 0)), axis=-1)``; {0, 1} labels become {-1, 1}."""
    y_true, y_pred = _prepare("squared_hinge", y_true, y_pred)
    y_true = _hinge_labels(y_true)
    return ops.mean(ops.square(ops.maximum(1.0 - y_true * y_pred, 0.0)), axis=-1)


def categorical_hinge(y_true, y_pred):
    """``max(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1, 0)`` over the last axis."""
    y_true, y_pred = _prepare("categorical_hinge", y_true, y_pred)
    pos = ops.sum(y_true * y_pred, axis=-1)
    neg = ops.max((1.0 - y_true) * y_pred, axis=-1)
    return ops.maximum(neg - pos + 1.0, 0.0)


def log_cosh(y_true, y_pred):
    """``mean(log(cosh(y_pred - y_true)), axis=-1)``, computed without overflow."""
    y_true, y_pred = _prepare("log_cosh", y_true, y_pred)
    x = y_pred - y_true
    return ops.mean(x + ops.softplus(-2.0 * x) - math.log(2.0), axis=-1)


def huber(y_true, y_pred, delta=1.0):
    """Quadratic for ``|error| <= delta``, linear beyond: ``delta * |e| - delta**2 / 2``."""
    y_true, y_pred = _prepare("huber", y_true, y_pred)
    delta = float(delta)
    error = y_pred - y_true
    abs_error = ops.abs(error)
    quadratic = 0.5 * ops.square(error)
    linear = delta * abs_error - 0.5 * delta * delta
    return ops.mean(ops.where(abs_error <= delta, quadratic, linear), axis=-1)


def poisson(y_true, y_pred):
    """``mean(y_pred - y_true * log(y_pred + epsilon), axis=-1)``."""
    y_true, y_pred = _prepare("poisson", y_true, y_pred)
    return ops.mean(y_pred - y_true * ops.log(y_pred + _config.epsilon()), axis=-1)


def kl_divergence(y_true, y_pred):
    """``sum(y_true * log(y_true / y_pred), axis=-1)`` with both clipped to ``[eps, 1]``."""
    y_true, y_pred = _prepare("kl_divergence", y_true, y_pred)
    eps = _config.epsilon()
    y_true = ops.clip(y_true, eps, 1.0)
    y_pred = ops.clip(y_pred, eps, 1.0)
    return ops.sum(y_true * ops.log(y_true / y_pred), axis=-1)


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Mean over ``axis`` of the elementwise binary crossentropy.

    Args:
        y_true: labels in [0, 1].
        y_pred: probabilities (clipped to ``[eps, 1 - eps]``), or logits with
            ``from_logits=True``.
        from_logits: whether ``y_pred`` holds logits.
        label_smoothing: in [0, 1]; labels become ``y * (1 - s) + 0.5 * s``.
        axis: the axis to average over.
    """
    y_true, y_pred = _prepare("binary_crossentropy", y_true, y_pred, same_shape=True)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    values = ops.binary_crossentropy(y_true, y_pred, from_logits=from_logits)
    return ops.mean(values, axis=axis)


def binary_focal_crossentropy(
    y_true,
    y_pred,
    apply_class_balancing=False,
    alpha=0.25,
    gamma=2.0,
    from_logits=False,
    label_smoothing=0.0,
    axis=-1,
):
    """Binary crossentropy scaled by the focal factor ``(1 - p_t) ** gamma`` (Lin et al.,
    2017), averaged over ``axis``; with ``apply_class_balancing`` also by ``alpha`` for
    positives and ``1 - alpha`` for negatives."""
    y_true, y_pred = _prepare("binary_focal_crossentropy", y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        y_pred = ops.sigmoid(y_pred)
    bce = ops.binary_crossentropy(y_true, y_pred, from_logits=False)
    p_t = y_true * y_pred + (1 - y_true) * (1 - y_pred)
    focal_bce = (1.0 - p_t) ** gamma * bce
    if apply_class_balancing:
        focal_bce = (y_true * alpha + (1 - y_true) * (1 - alpha)) * focal_bce
    return ops.mean(focal_bce, axis=axis)


def categorical_focal_crossentropy(
    y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1
):
    """Categorical crossentropy of one-hot targets weighted by ``alpha * (1 - p) ** gamma``
    per class, summed over ``axis``."""
    y_true, y_pred = _prepare("categorical_focal_crossentropy", y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_true.shape[-1]
    if from_logits:
        y_pred = ops.softmax(y_pred, axis=axis)
    output = y_pred / ops.sum(y_pred, axis=axis, keepdims=True)
    eps = _config.epsilon()
    output = ops.clip(output, eps, 1.0 - eps)
    cce = -y_true * ops.log(output)
    return ops.sum((1.0 - output) ** gamma * alpha * cce, axis=axis)


def _fused_xent(y_true, y_pred, axis, sparse, from_logits):
    """The fused softmax-cross-entropy kernel when :func:`gpuk.ops.fused.registry.select`
    accepts this call (GPU, last axis, float32/float64, no target gradient), else None."""
    config = softmax_xent.softmax_cross_entropy_config(
        y_true, y_pred, axis=axis, sparse=sparse, from_logits=from_logits
    )
    return fused_registry.select("softmax_cross_entropy", config)[0]


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Crossentropy between one-hot (or soft) labels and predictions along ``axis``.

    Args:
        y_true: one-hot labels, the shape of ``y_pred``.
        y_pred: probabilities (renormalised over ``axis`` and clipped), or logits.
        from_logits: whether ``y_pred`` holds logits.
        label_smoothing: labels become ``y * (1 - s) + s / num_classes``.
        axis: the class axis.
    """
    if isinstance(axis, bool):
        raise ValueError(f"categorical_crossentropy: axis must be an int, received axis={axis}")
    y_true, y_pred = _prepare("categorical_crossentropy", y_true, y_pred, same_shape=True)
    if label_smoothing:
        num_classes = y_true.shape[-1]  # Keras 3: the last axis, whatever ``axis`` is
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / num_classes
    fused = _fused_xent(y_true, y_pred, axis, sparse=False, from_logits=from_logits)
    if fused is not None:
        return fused(y_true, y_pred, from_logits=from_logits, sparse=False)
    return ops.categorical_crossentropy(y_true, y_pred, from_logits=from_logits, axis=axis)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1):
    """Categorical crossentropy with integer labels.

    Args:
        y_true: class indices, ``y_pred``'s shape without the class axis (a trailing axis of
            length 1 is accepted).
        y_pred: probabilities or logits.
        from_logits: whether ``y_pred`` holds logits.
        ignore_class: a label whose entries get zero loss and are left out of the mean (the
            result carries the mask as ``_keras_mask`` for the ``Loss`` reduction).
        axis: the class axis.
    """
    name = "sparse_categorical_crossentropy"
    y_pred = float_tensor(y_pred)
    labels = as_array(y_true.data if isinstance(y_true, Tensor) else y_true, y_pred.data)
    if labels.ndim == y_pred.ndim and labels.ndim and labels.shape[-1] == 1:
        labels = labels.reshape(labels.shape[:-1])
    expected = tuple(np.delete(np.array(y_pred.shape, dtype=np.int64), axis % max(y_pred.ndim, 1)))
    if y_pred.ndim < 1 or tuple(labels.shape) != expected:
        raise _incompatible(
            name, y_true, y_pred, f"y_true must be y_pred's shape without the class axis {axis}"
        )
    valid = None
    if ignore_class is not None:
        valid = labels != ignore_class
        labels = labels * valid
    labels = labels.astype(np.int64) if labels.dtype.kind == "f" else labels
    fused = _fused_xent(None, y_pred, axis, sparse=True, from_logits=from_logits)
    if fused is not None:
        result = fused(Tensor(labels), y_pred, from_logits=from_logits, sparse=True)
    else:
        result = ops.sparse_categorical_crossentropy(
            Tensor(labels), y_pred, from_logits=from_logits, axis=axis
        )
    if valid is not None:
        result = ops.where(Tensor(valid), result, 0.0)
        result._keras_mask = valid
    return result
