"""Confusion-matrix metrics: Precision, Recall and AUC, with Keras's counting rules.

A prediction counts as positive at threshold ``t`` when ``y_pred > t``; labels count as
positive when non-zero. Counts are accumulated per threshold with one ``bincount`` over the
index of the highest threshold each prediction exceeds, then a reversed cumulative sum:
O(N + T) work and memory on the device, instead of an ``(T, N)`` comparison table. For
evenly spaced thresholds the index is computed as Keras does
(``ceil(clip(p, 0, 1) * (T - 1)) - 1``) so the results agree to the bit.
"""

import numpy as np

from gpuk import _config
from gpuk._array import get_array_module
from gpuk.autograd import Tensor
from gpuk.metrics.base import Metric, squeeze_or_expand

NEG_INF = -1e10


def _parse_thresholds(thresholds, default):
    if thresholds is None:
        return [float(default)]
    values = list(thresholds) if isinstance(thresholds, (list, tuple, np.ndarray)) else [thresholds]
    values = [float(t) for t in values]
    for t in values:
        if not 0.0 <= t <= 1.0 and t != NEG_INF:
            raise ValueError(f"Threshold values must be in [0, 1]. Received: {thresholds}")
    return values


def _evenly_distributed(thresholds):
    n = len(thresholds)
    if n < 3:
        return False
    even = np.arange(n, dtype=np.float32) / (n - 1)
    return bool(np.allclose(thresholds, even, atol=_config.epsilon()))


def _filter_top_k(xp, x, k):
    """Keep the ``k`` largest values of the last axis; the others become ``NEG_INF``."""
    if k >= x.shape[-1]:
        return x
    # The rank of each entry in its row (ties: the lower index ranks first, as top_k does).
    # CuPy's sorts are always stable and it refuses NumPy's ``kind`` values.
    stable = {"kind": "stable"} if xp is np else {}
    rank = xp.argsort(xp.argsort(-x, axis=-1, **stable), axis=-1, **stable)
    return xp.where(rank < k, x, xp.asarray(NEG_INF, dtype=x.dtype))


class _ConfusionCounter:
    """Per-threshold TP/FP/TN/FN counts for one batch."""

    def __init__(self, thresholds, evenly, dtype):
        self.thresholds = np.asarray(thresholds, dtype=dtype)
        self.evenly = evenly
        self.with_epsilon = evenly and (thresholds[0] < 0.0 or thresholds[-1] > 1.0)
        self.order = np.argsort(self.thresholds, kind="stable")
        self.sorted = self.thresholds[self.order]
        self.inverse = np.empty(len(self.thresholds), dtype=np.int64)
        self.inverse[self.order] = np.arange(len(self.thresholds))
        self._device = {}

    def _on(self, xp, name):
        """The host table ``name`` as an ``xp`` array, uploaded once per module."""
        key = (xp.__name__, name)
        if key not in self._device:
            self._device[key] = xp.asarray(getattr(self, name))
        return self._device[key]

    def bucket(self, xp, y_pred):
        """Per prediction: the index of the highest threshold it exceeds (-1 for none)."""
        n = len(self.thresholds)
        if self.evenly:
            p = xp.clip(y_pred, 0.0, 1.0)
            index = xp.ceil(p * (n - 1)) - 1
            if self.with_epsilon:
                index = xp.maximum(index, 0)
            return index.astype(np.int64)
        index = xp.searchsorted(self._on(xp, "sorted"), y_pred, side="left") - 1
        return xp.where(xp.isnan(y_pred), -1, index)

    def counts(self, xp, labels, y_pred, weights, segments=1, segment_ids=None):
        """Return (tp, fp, total_pos, total_neg), shape (T,) or (T, segments)."""
        n = len(self.thresholds)
        index = self.bucket(xp, y_pred)
        # Buckets outside [0, n) are dropped (segment_sum's rule); map them to a spare slot.
        index = xp.where((index >= 0) & (index < n), index, n)
        if segment_ids is not None:
            index = index + segment_ids * (n + 1)
        size = segments * (n + 1)
        pos_w = weights * labels
        neg_w = weights * (1 - labels)
        pos = weighted_bincount(xp, index, pos_w, size).reshape(segments, n + 1)
        neg = weighted_bincount(xp, index, neg_w, size).reshape(segments, n + 1)
        pos, neg = pos[:, :n], neg[:, :n]
        tp = xp.flip(xp.cumsum(xp.flip(pos, -1), axis=-1), -1)
        fp = xp.flip(xp.cumsum(xp.flip(neg, -1), axis=-1), -1)
        total_pos = pos_w.reshape(-1, segments).sum(axis=0) if segments > 1 else pos_w.sum()
        total_neg = neg_w.reshape(-1, segments).sum(axis=0) if segments > 1 else neg_w.sum()
        if not self.evenly:  # back from sorted order to the user's threshold order
            inverse = self._on(xp, "inverse")
            tp, fp = tp[:, inverse], fp[:, inverse]
        tp, fp = tp.T, fp.T  # (T, segments)
        if segments == 1:
            tp, fp = tp[:, 0], fp[:, 0]
        return tp, fp, total_pos, total_neg


def weighted_bincount(xp, index, weights, size):
    """``bincount(index, weights, minlength=size)`` in float64, for indices in ``[0, size)``.

    ``cupy.bincount`` reads ``max(index)`` and ``any(index < 0)`` back to the host (two syncs
    per call); a scatter-add into ``size`` zeros gives the same sums without them.
    """
    if xp is np:
        return np.bincount(index, weights=weights, minlength=size)
    out = xp.zeros((size,), dtype=np.float64)
    xp.add.at(out, index, weights.astype(np.float64))
    return out


def _prepare(metric, y_true, y_pred, sample_weight, top_k=None, class_id=None):
    """Arrays on the state's device: predictions, 0/1 labels and weights, Keras's alignment."""
    y_true = metric._like(y_true)
    y_pred = metric._like(y_pred)
    xp = get_array_module(y_pred)
    y_pred, y_true = squeeze_or_expand(y_pred, y_true)
    weights = None
    if sample_weight is not None:
        weights = metric._like(sample_weight)[..., None]
        _, weights = squeeze_or_expand(y_true, weights, expand_rank_1=False)
    if top_k is not None:
        y_pred = _filter_top_k(xp, y_pred, top_k)
    if class_id is not None:
        if y_pred.ndim == 1:
            raise ValueError(
                "When class_id is provided, y_pred must be a 2D array with shape "
                f"(num_samples, num_classes), found shape: {tuple(y_pred.shape)}"
            )
        y_true = y_true[..., class_id, None]
        y_pred = y_pred[..., class_id, None]
    try:
        shape = np.broadcast_shapes(y_pred.shape, y_true.shape)
        if weights is None:
            weights = xp.ones(shape, dtype=y_pred.dtype)
        else:
            weights = xp.broadcast_to(weights, shape)
        y_pred = xp.broadcast_to(y_pred, shape)
        y_true = xp.broadcast_to(y_true, shape)
    except ValueError:
        raise ValueError(
            f"{metric.name}: incompatible shapes y_true {tuple(y_true.shape)}, y_pred "
            f"{tuple(y_pred.shape)}"
            + ("" if sample_weight is None else f", sample_weight {tuple(np.shape(weights))}")
        ) from None
    labels = (y_true != 0).astype(y_pred.dtype)
    return xp, labels, y_pred, weights


class _PrecisionRecall(Metric):
    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.top_k = top_k
        self.class_id = class_id
        default = 0.5 if top_k is None else NEG_INF
        self.thresholds = _parse_thresholds(thresholds, default)
        self._counter = _ConfusionCounter(
            self.thresholds, _evenly_distributed(self.thresholds), self._dtype
        )
        size = len(self.thresholds)
        self.true_positives = self.add_variable((size,), name="true_positives")
        setattr(self, self._second, self.add_variable((size,), name=self._second))

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Accumulate true positives and false positives (Precision) or negatives (Recall)."""
        xp, labels, y_pred, weights = _prepare(
            self, y_true, y_pred, sample_weight, self.top_k, self.class_id
        )
        tp, fp, total_pos, _ = self._counter.counts(
            xp, labels.reshape(-1), y_pred.reshape(-1), weights.reshape(-1)
        )
        self.true_positives.assign_add(tp)
        second = fp if self._second == "false_positives" else total_pos - tp
        getattr(self, self._second).assign_add(second)

    def result(self):
        tp = self.true_positives.data
        other = getattr(self, self._second).data
        xp = get_array_module(tp)
        denominator = tp + other
        value = xp.where(
            denominator == 0, xp.zeros_like(tp), tp / xp.where(denominator == 0, 1, denominator)
        )
        return Tensor(xp.asarray(value[0] if len(self.thresholds) == 1 else value))

    def get_config(self):
        config = super().get_config()
        config.update(
            {"thresholds": self.init_thresholds, "top_k": self.top_k, "class_id": self.class_id}
        )
        return config


class Precision(_PrecisionRecall):
    """Precision ``tp / (tp + fp)``, accumulated over batches.

    Args:
        thresholds: a float or list of floats in [0, 1]; a prediction above a threshold
            counts as positive (0.5 by default). With several thresholds the result has one
            value per threshold.
        top_k: only the ``top_k`` highest predictions of each sample count as positive.
        class_id: compute the metric for this class (last axis index) only.
        name, dtype: see :class:`Metric`.
    """

    _second = "false_positives"


class Recall(_PrecisionRecall):
    """Recall ``tp / (tp + fn)``, accumulated over batches (same arguments as Precision)."""

    _second = "false_negatives"


class AUC(Metric):
    """Area under the ROC or precision-recall curve, from per-threshold confusion counts.

    Args:
        num_thresholds: number of thresholds (evenly spaced in [0, 1], plus +-epsilon ends).
        curve: ``'ROC'`` or ``'PR'``.
        summation_method: ``'interpolation'`` (trapezoids; for PR, Davis & Goadrich's
            interpolation), ``'minoring'`` or ``'majoring'``.
        name, dtype: see :class:`Metric`.
        thresholds: explicit thresholds in [0, 1] (``num_thresholds`` is then ignored).
        multi_label: one curve per label (last axis), averaged; otherwise all labels are
            pooled into one curve.
        num_labels: number of labels with ``multi_label`` (else taken from the first batch).
        label_weights: per-label weights for the multi-label average (or, without
            ``multi_label``, for the pooled counts).
        from_logits: apply a sigmoid to ``y_pred`` first.
    """

    def __init__(
        self,
        num_thresholds=200,
        curve="ROC",
        summation_method="interpolation",
        name=None,
        dtype=None,
        thresholds=None,
        multi_label=False,
        num_labels=None,
        label_weights=None,
        from_logits=False,
    ):
        super().__init__(name=name, dtype=dtype)
        curve = str(curve).upper()
        if curve not in ("ROC", "PR"):
            raise ValueError(f'AUC: invalid curve {curve!r}; use "ROC" or "PR"')
        summation_method = str(summation_method).lower()
        if summation_method not in ("interpolation", "minoring", "majoring"):
            raise ValueError(
                f"AUC: invalid summation_method {summation_method!r}; use 'interpolation', "
                "'minoring' or 'majoring'"
            )
        self.curve = curve
        self.summation_method = summation_method
        self.multi_label = bool(multi_label)
        self.num_labels = num_labels
        self.label_weights = None if label_weights is None else list(np.ravel(label_weights))
        self.from_logits = bool(from_logits)
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            inner = sorted(_parse_thresholds(thresholds, None))  # not None here: no default
            self.num_thresholds = len(inner) + 2
            evenly = _evenly_distributed(np.array([0.0] + inner + [1.0]))
        else:
            if num_thresholds <= 1:
                raise ValueError(
                    f"AUC: num_thresholds must be > 1. Received: num_thresholds={num_thresholds}"
                )
            self.num_thresholds = int(num_thresholds)
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            evenly = True
        eps = _config.epsilon()
        self._thresholds = np.array([0.0 - eps] + inner + [1.0 + eps])
        self._counter = _ConfusionCounter(self._thresholds, evenly, self._dtype)
        self._built = False
        if not self.multi_label or num_labels is not None:
            self._build(num_labels)

    @property
    def thresholds(self):
        """The thresholds used, including the ``-eps`` and ``1 + eps`` ends."""
        return list(self._thresholds)

    def _build(self, num_labels):
        shape = (
            (self.num_thresholds,)
            if not self.multi_label
            else (self.num_thresholds, int(num_labels))
        )
        self.true_positives = self.add_variable(shape, name="true_positives")
        self.false_positives = self.add_variable(shape, name="false_positives")
        self.true_negatives = self.add_variable(shape, name="true_negatives")
        self.false_negatives = self.add_variable(shape, name="false_negatives")
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Accumulate the confusion counts of the batch at every threshold."""
        if not self._built:
            self._build(int(np.shape(y_pred)[-1]))
        xp, labels, y_pred, weights = _prepare(self, y_true, y_pred, sample_weight)
        if self.from_logits:
            y_pred = 1.0 / (1.0 + xp.exp(-y_pred))
        if self.label_weights is not None:
            label_weights = xp.asarray(self.label_weights, dtype=y_pred.dtype)
            if not self.multi_label:
                weights = weights * label_weights
        if self.multi_label:
            classes = y_pred.shape[-1]
            segment_ids = xp.broadcast_to(xp.arange(classes), y_pred.shape).reshape(-1)
            tp, fp, pos, neg = self._counter.counts(
                xp,
                labels.reshape(-1),
                y_pred.reshape(-1),
                weights.reshape(-1),
                classes,
                segment_ids,
            )
        else:
            tp, fp, pos, neg = self._counter.counts(
                xp, labels.reshape(-1), y_pred.reshape(-1), weights.reshape(-1)
            )
        self.true_positives.assign_add(tp)
        self.false_positives.assign_add(fp)
        self.false_negatives.assign_add(pos - tp)
        self.true_negatives.assign_add(neg - fp)

    def _interpolate_pr_auc(self, xp, tp, fp, fn):
        """Davis & Goadrich (2006) interpolation of the PR curve between thresholds."""
        n = self.num_thresholds
        dtp = tp[: n - 1] - tp[1:]
        p = tp + fp
        dp = p[: n - 1] - p[1:]
        prec_slope = _divide_no_nan(xp, dtp, xp.maximum(dp, 0))
        intercept = tp[1:] - prec_slope * p[1:]
        both = (p[: n - 1] > 0) & (p[1:] > 0)
        ratio = xp.where(both, _divide_no_nan(xp, p[: n - 1], xp.maximum(p[1:], 0)), 1.0)
        ratio = xp.where(ratio > 0, ratio, 1.0)
        increments = _divide_no_nan(
            xp, prec_slope * (dtp + intercept * xp.log(ratio)), xp.maximum(tp[1:] + fn[1:], 0)
        )
        return increments

    def result(self):
        """The area, a 0-d Tensor (averaged over labels with ``multi_label``)."""
        tp, fp = self.true_positives.data, self.false_positives.data
        tn, fn = self.true_negatives.data, self.false_negatives.data
        xp = get_array_module(tp)
        n = self.num_thresholds
        if self.curve == "PR" and self.summation_method == "interpolation":
            areas = self._interpolate_pr_auc(xp, tp, fp, fn)
        else:
            recall = _divide_no_nan(xp, tp, tp + fn)
            if self.curve == "ROC":
                x, y = _divide_no_nan(xp, fp, fp + tn), recall
            else:
                x, y = recall, _divide_no_nan(xp, tp, tp + fp)
            if self.summation_method == "interpolation":
                heights = (y[: n - 1] + y[1:]) / 2.0
            elif self.summation_method == "minoring":
                heights = xp.minimum(y[: n - 1], y[1:])
            else:
                heights = xp.maximum(y[: n - 1], y[1:])
            areas = (x[: n - 1] - x[1:]) * heights
        if not self.multi_label:
            return Tensor(xp.asarray(areas.sum(), dtype=self._dtype))
        by_label = areas.sum(axis=0)
        if self.label_weights is None:
            return Tensor(xp.asarray(by_label.mean(), dtype=self._dtype))
        weights = xp.asarray(self.label_weights, dtype=by_label.dtype)
        return Tensor(
            xp.asarray(_divide_no_nan(xp, (by_label * weights).sum(), weights.sum()), self._dtype)
        )

    def reset_state(self):
        if self._built:
            super().reset_state()

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_thresholds": self.num_thresholds,
                "curve": self.curve,
                "summation_method": self.summation_method,
                "multi_label": self.multi_label,
                "num_labels": self.num_labels,
                "label_weights": self.label_weights,
                "from_logits": self.from_logits,
            }
        )
        if self._init_from_thresholds:
            config["thresholds"] = [float(t) for t in self._thresholds[1:-1]]
        return config


def _divide_no_nan(xp, a, b):
    safe = xp.where(b == 0, xp.ones_like(b), b)
    return xp.where(b == 0, xp.zeros_like(a * b), a / safe)
