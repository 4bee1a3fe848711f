"""Stateless accuracy functions with Keras 3's shape rules; values are ``floatx()`` Tensors.

They work on the device arrays directly (accuracies have no gradient) and never copy to the
host.
"""

import numpy as np

from gpuk import _config
from gpuk._array import get_array_module
from gpuk.autograd import Tensor, as_array
from gpuk.metrics.base import squeeze_or_expand


def _pred(y_pred):
    data = y_pred.data if isinstance(y_pred, Tensor) else as_array(y_pred)
    return data


def _true(y_true, like):
    return as_array(y_true.data if isinstance(y_true, Tensor) else y_true, like)


def _out(xp, matches):
    return Tensor(matches.astype(_config.floatx()))


def accuracy(y_true, y_pred):
    """1 where ``y_true == y_pred`` exactly, else 0 (elementwise)."""
    y_pred = _pred(y_pred)
    y_true = _true(y_true, y_pred).astype(y_pred.dtype, copy=False)
    y_true, y_pred = squeeze_or_expand(y_true, y_pred)
    return _out(get_array_module(y_pred), y_true == y_pred)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """1 where ``(y_pred > threshold) == y_true``, elementwise (Keras 3 takes no mean here)."""
    y_pred = _pred(y_pred)
    y_true = _true(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand(y_true, y_pred)
    predicted = (y_pred > threshold).astype(y_true.dtype)
    return _out(get_array_module(y_pred), y_true == predicted)


def categorical_accuracy(y_true, y_pred):
    """1 where ``argmax(y_true) == argmax(y_pred)`` over the last axis."""
    y_pred = _pred(y_pred)
    y_true = _true(y_true, y_pred)
    true_index = y_true.argmax(axis=-1)
    original_shape = true_index.shape
    reshape = False
    if true_index.ndim == y_pred.ndim:
        true_index = true_index[..., 0] if true_index.shape[-1] == 1 else true_index
        reshape = True
    matches = true_index == y_pred.argmax(axis=-1)
    if reshape:
        matches = matches.reshape(original_shape)
    return _out(get_array_module(y_pred), matches)


def sparse_categorical_accuracy(y_true, y_pred):
    """1 where the integer label equals ``argmax(y_pred)`` over the last axis.

    Labels with a trailing length-1 axis (``y_pred``'s rank) lose it; a result of rank 2 or
    more loses a trailing length-1 axis too, as in Keras.
    """
    y_pred = _pred(y_pred)
    y_true = _true(y_true, y_pred)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    matches = y_true == y_pred.argmax(axis=-1).astype(y_true.dtype)
    if matches.ndim > 1 and matches.shape[-1] == 1:
        matches = matches[..., 0]
    return _out(get_array_module(y_pred), matches)


def _in_top_k(xp, targets, predictions, k):
    """Keras/JAX rule: the target is in the top k when fewer than k scores beat it (ties in)."""
    targets = targets.astype(np.int64)
    at_label = xp.take_along_axis(predictions, targets[..., None], axis=-1)
    at_label = xp.where(xp.isnan(at_label), -xp.inf, at_label)
    rank = 1 + (predictions > at_label).sum(axis=-1)
    return rank <= k


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1 where the one-hot target class is among the ``k`` highest predictions."""
    y_pred = _pred(y_pred)
    y_true = _true(y_true, y_pred)
    xp = get_array_module(y_pred)
    targets = y_true.argmax(axis=-1)
    flat_pred = y_pred.reshape(-1, y_pred.shape[-1])
    matches = _in_top_k(xp, targets.reshape(-1), flat_pred, k)
    return _out(xp, matches.reshape(targets.shape))


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1 where the integer target is among the ``k`` highest predictions."""
    y_pred = _pred(y_pred)
    y_true = _true(y_true, y_pred)
    xp = get_array_module(y_pred)
    flat_pred = y_pred.reshape(-1, y_pred.shape[-1])
    matches = _in_top_k(xp, y_true.reshape(-1), flat_pred, k)
    return _out(xp, matches.reshape(y_true.shape))  # y_true's shape, (batch, 1) included
