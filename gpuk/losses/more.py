"""Keras 3's newer losses: generalized crossentropy, Dice, Tversky, Circle and CTC.

Functions take ``(y_true, y_pred, ...)`` and return per-sample losses (Dice and Tversky
reduce over ``axis``, all axes by default, as Keras does); each has a ``Loss`` class with
Keras's defaults and config. The focal crossentropies live in ``functions.py``.
"""

import numpy as np

from gpuk import _config, ops
from gpuk._array import get_array_module
from gpuk.autograd import Tensor, as_array
from gpuk.losses import functions as F
from gpuk.losses.classes import LossFunctionWrapper
from gpuk.losses.loss import Loss, cast_like, float_tensor


def _pred_and_true(y_true, y_pred):
    y_pred = float_tensor(y_pred)
    return cast_like(y_true, y_pred), y_pred


def _int_labels(labels, like):
    data = labels.data if isinstance(labels, Tensor) else as_array(labels, like.data)
    return as_array(data, like.data).astype(np.int32)


def categorical_generalized_cross_entropy(y_true, y_pred, q):
    """``(1 - p ** q) / q`` with ``p`` the predicted probability of the integer label
    ``y_true`` (Zhang & Sabuncu, 2018): crossentropy as ``q -> 0``, MAE at ``q = 1``."""
    y_pred = float_tensor(y_pred)
    labels = _int_labels(y_true, y_pred)
    one_hot = ops.one_hot(Tensor(labels), y_pred.shape[-1], dtype=y_pred.dtype)
    p = ops.sum(y_pred * one_hot, axis=-1)
    return (1.0 - p**q) / q


def dice(y_true, y_pred, axis=None):
    """``1 - 2 * sum(y_true * y_pred) / (sum(y_true) + sum(y_pred) + epsilon)`` over ``axis``
    (all axes when None)."""
    y_true, y_pred = _pred_and_true(y_true, y_pred)
    intersection = ops.sum(y_true * y_pred, axis=axis)
    total = ops.sum(y_true, axis=axis) + ops.sum(y_pred, axis=axis) + _config.epsilon()
    return 1.0 - 2.0 * intersection / total


def tversky(y_true, y_pred, alpha=0.5, beta=0.5, axis=None):
    """``1 - TP / (TP + alpha * FP + beta * FN + epsilon)`` over ``axis`` (all when None),
    with Keras's soft counts ``FP = sum((1 - y_pred) * y_true)``, ``FN = sum(y_pred * (1 -
    y_true))``. ``alpha = beta = 0.5`` is the Dice loss."""
    y_true, y_pred = _pred_and_true(y_true, y_pred)
    intersection = ops.sum(y_true * y_pred, axis=axis)
    fp = ops.sum((1.0 - y_pred) * y_true, axis=axis)
    fn = ops.sum(y_pred * (1.0 - y_true), axis=axis)
    return 1.0 - intersection / (intersection + fp * alpha + fn * beta + _config.epsilon())


def _pos_neg_masks(query, keys, remove_diagonal, xp):
    positive = query.reshape(-1, 1) == keys.reshape(1, -1)
    negative = ~positive
    if remove_diagonal:
        positive = positive & ~xp.eye(query.size, keys.size, dtype=bool)
    return positive, negative


def circle(
    y_true,
    y_pred,
    ref_labels=None,
    ref_embeddings=None,
    remove_diagonal=True,
    gamma=80,
    margin=0.4,
):
    """Circle loss (Sun et al., 2020) over cosine distances of L2-normalised embeddings.

    Args:
        y_true: integer labels ``(batch,)``.
        y_pred: normalised embeddings ``(batch, dim)``.
        ref_labels, ref_embeddings: the set to compare with (default: the batch itself).
        remove_diagonal: do not pair a sample with itself.
        gamma: 80, the scale. margin: 0.4, the relaxation.

    Returns ``(batch,)`` losses; entries with no positive pair are 0 and masked out of the mean
    (as Keras marks them).
    """
    y_pred = float_tensor(y_pred)
    xp = get_array_module(y_pred.data)
    labels = _int_labels(y_true, y_pred)
    ref = y_pred if ref_embeddings is None else cast_like(ref_embeddings, y_pred)
    ref_lab = labels if ref_labels is None else _int_labels(ref_labels, y_pred)
    distances = ops.maximum(1.0 - ops.matmul(y_pred, ops.transpose(ref)), 0.0)
    positive, negative = _pos_neg_masks(labels, ref_lab, remove_diagonal, xp)
    dtype = y_pred.dtype
    pos_f, neg_f = Tensor(positive.astype(dtype)), Tensor(negative.astype(dtype))
    pos_weights = ops.maximum((margin + distances) * pos_f, 0.0)
    neg_weights = ops.maximum((1.0 + margin - distances) * neg_f, 0.0)
    pos_wdists = -1.0 * gamma * pos_weights * (margin - distances)
    neg_wdists = gamma * neg_weights * ((1.0 - margin) - distances)
    # A very negative finite stand-in for Keras's -inf: the same values, finite gradients.
    low = Tensor(xp.asarray(np.finfo(dtype).min / 4, dtype=dtype))
    p_loss = ops.logsumexp(ops.where(Tensor(positive), pos_wdists, low), axis=1)
    n_loss = ops.logsumexp(ops.where(Tensor(negative), neg_wdists, low), axis=1)
    losses = ops.softplus(p_loss + n_loss)
    losses._keras_mask = losses.data > 0
    return losses


def ctc(y_true, y_pred):
    """Connectionist temporal classification loss, as ``keras.losses.ctc``.

    Args:
        y_true: integer labels ``(batch, max_label_length)``, 0-padded (0 is the blank).
        y_pred: logits ``(batch, time, num_classes)``.

    Returns ``(batch,)`` negative log-likelihoods (``gpuk.ops.ctc_loss`` with every time step
    valid and each label's length its count of non-zero entries).
    """
    shape_true = tuple(getattr(y_true, "shape", np.shape(y_true)))
    shape_pred = tuple(getattr(y_pred, "shape", np.shape(y_pred)))
    if len(shape_true) != 2:
        raise ValueError(
            "Targets `y_true` are expected to be a tensor of shape `(batch_size, max_length)` "
            f"in integer format. Received: y_true.shape={shape_true}"
        )
    if len(shape_pred) != 3:
        raise ValueError(
            "Logits `y_pred` are expected to be a tensor of shape `(batch_size, max_length, "
            f"num_classes)`. Received: y_pred.shape={shape_pred}"
        )
    ctc_loss = getattr(ops, "ctc_loss", None)
    if ctc_loss is None:
        raise NotImplementedError("gpuk.losses.ctc needs gpuk.ops.ctc_loss")
    y_pred = float_tensor(y_pred)
    labels = _int_labels(y_true, y_pred)
    label_length = (labels != 0).sum(axis=-1).astype(np.int32)
    input_length = get_array_module(labels).full((shape_pred[0],), shape_pred[1], np.int32)
    return ctc_loss(labels, y_pred, label_length, input_length, mask_index=0)


def _wrapper(class_name, fn, default_name, keys, doc, check=None):
    """A ``LossFunctionWrapper`` subclass with keyword arguments ``keys`` (name -> default)."""

    def __init__(self, *args, reduction="sum_over_batch_size", name=default_name, dtype=None,
                 **kwargs):  # fmt: skip
        params = dict(keys)
        for key, value in zip(keys, args):
            params[key] = value
        unknown = set(kwargs) - set(keys)
        if unknown or len(args) > len(keys):
            raise TypeError(f"{class_name}: unexpected arguments {sorted(unknown) or args}")
        params.update(kwargs)
        if check is not None:
            check(params)
        LossFunctionWrapper.__init__(
            self, fn, reduction=reduction, name=name, dtype=dtype, **params
        )
        for key, value in params.items():
            setattr(self, key, value)

    def get_config(self):
        config = Loss.get_config(self)
        config.update({key: getattr(self, key) for key in keys})
        return config

    return type(
        class_name,
        (LossFunctionWrapper,),
        {"__init__": __init__, "get_config": get_config, "__doc__": doc},
    )


_COMMON = """
    reduction: ``'sum_over_batch_size'`` (default), ``'sum'``, ``'mean'``,
        ``'mean_with_sample_weight'``, ``'none'``/None.
    name: the loss name. dtype: compute dtype (``y_pred``'s by default).
"""


def _check_q(params):
    if not 0 < params["q"] < 1:
        raise ValueError("q must be in the interval (0, 1)")


BinaryFocalCrossentropy = _wrapper(
    "BinaryFocalCrossentropy",
    F.binary_focal_crossentropy,
    "binary_focal_crossentropy",
    {
        "apply_class_balancing": False,
        "alpha": 0.25,
        "gamma": 2.0,
        "from_logits": False,
        "label_smoothing": 0.0,
        "axis": -1,
    },
    "Focal binary crossentropy (Lin et al., 2017), mean over ``axis``.\n\nArgs:\n"
    "    apply_class_balancing: weight positives by ``alpha``, negatives by ``1 - alpha``.\n"
    "    alpha: 0.25. gamma: 2.0, the focusing power. from_logits, label_smoothing, axis:\n"
    "        as ``BinaryCrossentropy``." + _COMMON,
)
CategoricalFocalCrossentropy = _wrapper(
    "CategoricalFocalCrossentropy",
    F.categorical_focal_crossentropy,
    "categorical_focal_crossentropy",
    {"alpha": 0.25, "gamma": 2.0, "from_logits": False, "label_smoothing": 0.0, "axis": -1},
    "Focal categorical crossentropy of one-hot targets, summed over ``axis``.\n\nArgs:\n"
    "    alpha: 0.25. gamma: 2.0. from_logits, label_smoothing, axis: as\n"
    "        ``CategoricalCrossentropy``." + _COMMON,
)
CategoricalGeneralizedCrossEntropy = _wrapper(
    "CategoricalGeneralizedCrossEntropy",
    categorical_generalized_cross_entropy,
    "categorical_generalized_cross_entropy",
    {"q": 0.5},
    "Generalized crossentropy of integer labels (robust to label noise).\n\nArgs:\n"
    "    q: 0.5, in (0, 1)." + _COMMON,
    check=_check_q,
)
Dice = _wrapper(
    "Dice",
    dice,
    "dice",
    {"axis": None},
    "Dice loss ``1 - 2|A.B| / (|A| + |B|)``.\n\nArgs:\n"
    "    axis: the axes summed (None: all, one loss per call)." + _COMMON,
)
Tversky = _wrapper(
    "Tversky",
    tversky,
    "tversky",
    {"alpha": 0.5, "beta": 0.5, "axis": None},
    "Tversky loss; ``alpha`` weights false positives, ``beta`` false negatives.\n\nArgs:\n"
    "    alpha: 0.5. beta: 0.5. axis: the axes summed (None: all)." + _COMMON,
)
Circle = _wrapper(
    "Circle",
    circle,
    "circle",
    {"gamma": 80.0, "margin": 0.4, "remove_diagonal": True},
    "Circle loss over integer labels and L2-normalised embeddings.\n\nArgs:\n"
    "    gamma: 80.0. margin: 0.4. remove_diagonal: True." + _COMMON,
)
CTC = _wrapper(
    "CTC",
    ctc,
    "ctc",
    {},
    "CTC loss of 0-padded integer labels against logits ``(batch, time, classes)``."
    "\n\nArgs:" + _COMMON,
)
