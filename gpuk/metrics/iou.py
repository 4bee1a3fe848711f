"""Intersection-over-union metrics (``IoU``, ``BinaryIoU``, ``MeanIoU``, ``OneHotIoU``,
``OneHotMeanIoU``) from a confusion matrix accumulated on the device, as Keras 3 does.

As in Keras 3 the state is ``int32`` unless ``dtype`` says otherwise, so float sample weights
are truncated to integers (Keras warns about it too).
"""

import warnings

import numpy as np

from gpuk import _config
from gpuk._array import get_array_module
from gpuk.autograd import Tensor, as_array
from gpuk.metrics.base import Metric, squeeze_or_expand
from gpuk.metrics.confusion import weighted_bincount


def _array(value, like=None):
    return as_array(value.data if isinstance(value, Tensor) else value, like)


class _IoUBase(Metric):
    def __init__(
        self,
        num_classes,
        name=None,
        dtype=None,
        ignore_class=None,
        sparse_y_true=True,
        sparse_y_pred=True,
        axis=-1,
    ):
        super().__init__(name=name, dtype=dtype or "int32")
        self.num_classes = int(num_classes)
        self.ignore_class = ignore_class
        self.sparse_y_true = sparse_y_true
        self.sparse_y_pred = sparse_y_pred
        self.axis = axis
        self.total_cm = self.add_variable(
            (self.num_classes, self.num_classes), name="total_confusion_matrix"
        )

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Add the batch's (weighted) confusion matrix (rows: labels, columns: predictions)."""
        y_pred = _array(y_pred)
        y_true = _array(y_true, y_pred)
        xp = get_array_module(y_pred)
        if not self.sparse_y_true:
            y_true = y_true.argmax(axis=self.axis)
        if not self.sparse_y_pred:
            y_pred = y_pred.argmax(axis=self.axis)
        dtype = np.dtype(self._dtype)
        y_true = y_true.astype(dtype).reshape(-1)
        y_pred = y_pred.astype(dtype).reshape(-1)
        if sample_weight is None:
            weight = xp.ones(y_true.shape, dtype)
        else:
            weight = _array(sample_weight, y_pred)
            if weight.dtype.kind == "f" and dtype.kind in "iu":
                warnings.warn(
                    "You are passing weight as `float`, but dtype is `int`. This may result in "
                    "an incorrect weight due to type casting Consider using integer weights.",
                    stacklevel=2,
                )
            weight = xp.broadcast_to(weight.astype(dtype).reshape(-1), y_true.shape)
        n = self.num_classes
        valid = (y_true >= 0) & (y_true < n) & (y_pred >= 0) & (y_pred < n)
        if self.ignore_class is not None:
            valid = valid & (y_true != self.ignore_class)
        y_true = xp.where(valid, y_true, 0).astype(np.int64)
        y_pred = xp.where(valid, y_pred, 0).astype(np.int64)
        weight = xp.where(valid, weight, 0)
        y_true, y_pred = squeeze_or_expand(y_true, y_pred)
        counts = weighted_bincount(xp, y_true * n + y_pred, weight.astype(np.float64), n * n)
        self.total_cm.assign(self.total_cm.data + counts.reshape(n, n).astype(dtype))

    def _ious(self, target_class_ids):
        cm = self.total_cm.data
        xp = get_array_module(cm)
        dtype = np.dtype(self._dtype)
        sum_over_row = cm.sum(axis=0).astype(dtype)
        sum_over_col = cm.sum(axis=1).astype(dtype)
        true_positives = xp.diagonal(cm).astype(dtype)
        denominator = sum_over_row + sum_over_col - true_positives
        ids = xp.asarray(np.asarray(target_class_ids, np.int64))
        true_positives = true_positives[ids].astype(np.float32)
        denominator = denominator[ids].astype(np.float32)
        valid = (denominator > 1e-9).astype(np.float32)
        iou = true_positives / (denominator + _config.epsilon())
        iou = xp.where(valid > 0, iou, np.float32(0.0))
        return Tensor(iou.sum() / (valid.sum() + _config.epsilon()))

    def reset_state(self):
        self.total_cm.assign(get_array_module(self.total_cm.data).zeros_like(self.total_cm.data))


class IoU(_IoUBase):
    """Mean IoU ``tp / (tp + fp + fn)`` over the classes ``target_class_ids``.

    Args:
        num_classes: number of classes (the confusion matrix is ``num_classes`` squared).
        target_class_ids: the classes whose IoU is averaged.
        name, dtype: see :class:`Metric` (``dtype`` of the counts: ``int32`` by default).
        ignore_class: a label value left out of the counts (e.g. a "void" class).
        sparse_y_true, sparse_y_pred: ``False`` for one-hot/score vectors (argmax on ``axis``).
        axis: the class axis of dense inputs.
    """

    def __init__(
        self,
        num_classes,
        target_class_ids,
        name=None,
        dtype=None,
        ignore_class=None,
        sparse_y_true=True,
        sparse_y_pred=True,
        axis=-1,
    ):
        super().__init__(
            num_classes,
            name=name,
            dtype=dtype,
            ignore_class=ignore_class,
            sparse_y_true=sparse_y_true,
            sparse_y_pred=sparse_y_pred,
            axis=axis,
        )
        if max(target_class_ids) >= num_classes:
            raise ValueError(
                f"Target class id {max(target_class_ids)} is out of range, which is "
                f"[0, {num_classes})."
            )
        self.target_class_ids = list(target_class_ids)

    def result(self):
        return self._ious(self.target_class_ids)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_classes": self.num_classes,
                "target_class_ids": self.target_class_ids,
                "ignore_class": self.ignore_class,
                "sparse_y_true": self.sparse_y_true,
                "sparse_y_pred": self.sparse_y_pred,
                "axis": self.axis,
            }
        )
        return config


class BinaryIoU(IoU):
    """IoU of binary predictions: ``y_pred >= threshold`` is class 1.

    Args:
        target_class_ids: ``[0]``, ``[1]`` or ``[0, 1]`` (the mean of both).
        threshold: the decision threshold on ``y_pred``.
        name, dtype: see :class:`IoU`.
    """

    def __init__(self, target_class_ids=(0, 1), threshold=0.5, name=None, dtype=None):
        super().__init__(num_classes=2, target_class_ids=target_class_ids, name=name, dtype=dtype)
        self.threshold = threshold

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = _array(y_pred).astype(np.float32)
        super().update_state(y_true, (y_pred >= self.threshold).astype(self._dtype), sample_weight)

    def get_config(self):
        return {
            "target_class_ids": self.target_class_ids,
            "threshold": self.threshold,
            "name": self.name,
            "dtype": self._dtype,
        }


class MeanIoU(IoU):
    """IoU averaged over all ``num_classes`` classes (see :class:`IoU` for the arguments)."""

    def __init__(
        self,
        num_classes,
        name=None,
        dtype=None,
        ignore_class=None,
        sparse_y_true=True,
        sparse_y_pred=True,
        axis=-1,
    ):
        super().__init__(
            num_classes,
            list(range(num_classes)),
            name=name,
            dtype=dtype,
            ignore_class=ignore_class,
            sparse_y_true=sparse_y_true,
            sparse_y_pred=sparse_y_pred,
            axis=axis,
        )

    def get_config(self):
        return {
            "num_classes": self.num_classes,
            "name": self.name,
            "dtype": self._dtype,
            "ignore_class": self.ignore_class,
            "sparse_y_true": self.sparse_y_true,
            "sparse_y_pred": self.sparse_y_pred,
            "axis": self.axis,
        }


class OneHotIoU(IoU):
    """:class:`IoU` for one-hot labels (and score predictions unless ``sparse_y_pred``)."""

    def __init__(
        self,
        num_classes,
        target_class_ids,
        name=None,
        dtype=None,
        ignore_class=None,
        sparse_y_pred=False,
        axis=-1,
    ):
        super().__init__(
            num_classes,
            target_class_ids,
            name=name,
            dtype=dtype,
            ignore_class=ignore_class,
            sparse_y_true=False,
            sparse_y_pred=sparse_y_pred,
            axis=axis,
        )

    def get_config(self):
        return {
            "num_classes": self.num_classes,
            "target_class_ids": self.target_class_ids,
            "name": self.name,
            "dtype": self._dtype,
            "ignore_class": self.ignore_class,
            "sparse_y_pred": self.sparse_y_pred,
            "axis": self.axis,
        }


class OneHotMeanIoU(MeanIoU):
    """:class:`MeanIoU` for one-hot labels (and score predictions unless ``sparse_y_pred``)."""

    def __init__(
        self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_pred=False, axis=-1
    ):
        super().__init__(
            num_classes,
            name=name,
            dtype=dtype,
            ignore_class=ignore_class,
            sparse_y_true=False,
            sparse_y_pred=sparse_y_pred,
            axis=axis,
        )

    def get_config(self):
        return {
            "num_classes": self.num_classes,
            "name": self.name,
            "dtype": self._dtype,
            "ignore_class": self.ignore_class,
            "sparse_y_pred": self.sparse_y_pred,
            "axis": self.axis,
        }
