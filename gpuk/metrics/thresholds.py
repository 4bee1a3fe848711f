"""Confusion counts at thresholds: ``TruePositives`` ... ``FalseNegatives`` and the
sensitivity/specificity family (``PrecisionAtRecall``, ``RecallAtPrecision``,
``SensitivityAtSpecificity``, ``SpecificityAtSensitivity``), with Keras 3's counting rules
(a prediction is positive when ``y_pred > threshold``; labels are positive when non-zero).

Counting reuses the O(N + T) bucketed counter of :mod:`gpuk.metrics.confusion`; every update
stays on the device.
"""

from gpuk._array import get_array_module
from gpuk.autograd import Tensor
from gpuk.metrics.base import Metric
from gpuk.metrics.confusion import (
    _ConfusionCounter,
    _divide_no_nan,
    _evenly_distributed,
    _parse_thresholds,
    _prepare,
)


class _ConditionCount(Metric):
    _condition = None

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.thresholds = _parse_thresholds(thresholds, 0.5)
        # Evenly spaced thresholds bucket clipped predictions, as Keras does.
        evenly = _evenly_distributed(self.thresholds)
        self._counter = _ConfusionCounter(self.thresholds, evenly, self._dtype)
        self.accumulator = self.add_variable((len(self.thresholds),), name="accumulator")

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Add the batch's (weighted) count at each threshold."""
        xp, labels, y_pred, weights = _prepare(self, y_true, y_pred, sample_weight)
        tp, fp, pos, neg = self._counter.counts(
            xp, labels.reshape(-1), y_pred.reshape(-1), weights.reshape(-1)
        )
        count = {"tp": tp, "fp": fp, "fn": pos - tp, "tn": neg - fp}[self._condition]
        self.accumulator.assign(self.accumulator.data + count.astype(self._dtype))

    def result(self):
        data = self.accumulator.data
        return Tensor(data[0] if len(self.thresholds) == 1 else data.copy())

    def get_config(self):
        config = super().get_config()
        config["thresholds"] = self.init_thresholds
        return config


_COUNT_DOC = """{what}, accumulated over batches (weighted by ``sample_weight``).

    Args:
        thresholds: a float or list of floats in [0, 1]; a prediction counts as positive
            above a threshold (0.5 by default). With several thresholds the result has one
            value per threshold.
        name, dtype: see :class:`Metric`.
    """


class TruePositives(_ConditionCount):
    __doc__ = _COUNT_DOC.format(what="The number of true positives")
    _condition = "tp"


class FalsePositives(_ConditionCount):
    __doc__ = _COUNT_DOC.format(what="The number of false positives")
    _condition = "fp"


class TrueNegatives(_ConditionCount):
    __doc__ = _COUNT_DOC.format(what="The number of true negatives")
    _condition = "tn"


class FalseNegatives(_ConditionCount):
    __doc__ = _COUNT_DOC.format(what="The number of false negatives")
    _condition = "fn"


class _SensitivitySpecificity(Metric):
    """Confusion counts at ``num_thresholds`` evenly spaced thresholds in [0, 1]."""

    def __init__(self, value, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        if not 0.0 <= value <= 1.0:
            raise ValueError(
                f"Argument `{self._value_name}` must be in the range [0, 1]. "
                f"Received: {self._value_name}={value}"
            )
        if num_thresholds <= 0:
            raise ValueError(
                "Argument `num_thresholds` must be an integer > 0. "
                f"Received: num_thresholds={num_thresholds}"
            )
        self.value = value
        self.class_id = class_id
        self.num_thresholds = num_thresholds
        if num_thresholds == 1:
            self.thresholds, evenly = [0.5], False
        else:
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self.thresholds, evenly = [0.0] + inner + [1.0], True
        self._counter = _ConfusionCounter(self.thresholds, evenly, self._dtype)
        size = (len(self.thresholds),)
        self.true_positives = self.add_variable(size, name="true_positives")
        self.false_positives = self.add_variable(size, name="false_positives")
        self.true_negatives = self.add_variable(size, name="true_negatives")
        self.false_negatives = self.add_variable(size, name="false_negatives")

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Accumulate the confusion counts of the batch at every threshold."""
        xp, labels, y_pred, weights = _prepare(
            self, y_true, y_pred, sample_weight, class_id=self.class_id
        )
        tp, fp, pos, neg = self._counter.counts(
            xp, labels.reshape(-1), y_pred.reshape(-1), weights.reshape(-1)
        )
        dtype = self._dtype
        self.true_positives.assign(self.true_positives.data + tp.astype(dtype))
        self.false_positives.assign(self.false_positives.data + fp.astype(dtype))
        self.false_negatives.assign(self.false_negatives.data + (pos - tp).astype(dtype))
        self.true_negatives.assign(self.true_negatives.data + (neg - fp).astype(dtype))

    def _rates(self):
        tp, fp = self.true_positives.data, self.false_positives.data
        tn, fn = self.true_negatives.data, self.false_negatives.data
        xp = get_array_module(tp)
        return xp, {
            "sensitivity": _divide_no_nan(xp, tp, tp + fn),
            "specificity": _divide_no_nan(xp, tn, tn + fp),
            "precision": _divide_no_nan(xp, tp, tp + fp),
        }

    def _max_under_constraint(self, constrained, dependent):
        """The largest ``dependent`` value where ``constrained >= value`` (0 if none)."""
        xp, rates = self._rates()
        feasible = rates[constrained] >= self.value
        best = xp.where(feasible, rates[dependent], 0).max()
        return Tensor(xp.maximum(best, 0).astype(self._dtype))

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "class_id": self.class_id,
                "num_thresholds": self.num_thresholds,
                self._value_name: self.value,
            }
        )
        return config


_SS_DOC = """{what}

    Args:
        {value}: a scalar in [0, 1].
        num_thresholds: thresholds evenly spaced in [0, 1] at which counts are kept (200).
        class_id: compute the metric for this class (last axis index) only.
        name, dtype: see :class:`Metric`.
    """


class SensitivityAtSpecificity(_SensitivitySpecificity):
    __doc__ = _SS_DOC.format(
        what="The best sensitivity (recall) among thresholds whose specificity is at least "
        "``specificity``.",
        value="specificity",
    )
    _value_name = "specificity"

    def __init__(self, specificity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(specificity, num_thresholds, class_id, name, dtype)

    def result(self):
        return self._max_under_constraint("specificity", "sensitivity")


class SpecificityAtSensitivity(_SensitivitySpecificity):
    __doc__ = _SS_DOC.format(
        what="The best specificity among thresholds whose sensitivity is at least ``sensitivity``.",
        value="sensitivity",
    )
    _value_name = "sensitivity"

    def __init__(self, sensitivity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(sensitivity, num_thresholds, class_id, name, dtype)

    def result(self):
        return self._max_under_constraint("sensitivity", "specificity")


class PrecisionAtRecall(_SensitivitySpecificity):
    __doc__ = _SS_DOC.format(
        what="The best precision among thresholds whose recall is at least ``recall``.",
        value="recall",
    )
    _value_name = "recall"

    def __init__(self, recall, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(recall, num_thresholds, class_id, name, dtype)

    def result(self):
        return self._max_under_constraint("sensitivity", "precision")


class RecallAtPrecision(_SensitivitySpecificity):
    __doc__ = _SS_DOC.format(
        what="The best recall among thresholds whose precision is at least ``precision``.",
        value="precision",
    )
    _value_name = "precision"

    def __init__(self, precision, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(precision, num_thresholds, class_id, name, dtype)

    def result(self):
        return self._max_under_constraint("precision", "sensitivity")
