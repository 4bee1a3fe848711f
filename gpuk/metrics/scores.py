"""``FBetaScore``/``F1Score``, ``R2Score`` and the correlation metrics, as Keras 3 computes
them; state and arithmetic stay on the device."""

import warnings

from gpuk import _config
from gpuk._array import get_array_module
from gpuk.autograd import Tensor, as_array
from gpuk.metrics.base import MeanMetricWrapper, Metric, squeeze_or_expand


def _data(value, like=None, dtype=None):
    array = as_array(value.data if isinstance(value, Tensor) else value, like)
    return array if dtype is None else array.astype(dtype, copy=False)


class FBetaScore(Metric):
    """F-beta score ``(1 + beta^2) * p * r / (beta^2 * p + r)`` per class, or averaged.

    Args:
        average: ``None`` (one score per class), ``"micro"`` (global counts), ``"macro"``
            (mean over classes) or ``"weighted"`` (mean weighted by each class's support).
        beta: weight of recall against precision (a Python float > 0).
        threshold: predictions above it count as 1; ``None``: the row's maximum counts as 1.
        name, dtype: see :class:`Metric`.
    """

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score", dtype=None):
        super().__init__(name=name, dtype=dtype)
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError(
                "Invalid `average` argument value. Expected one of: "
                f"{{None, 'micro', 'macro', 'weighted'}}. Received: average={average}"
            )
        if not isinstance(beta, float):
            raise ValueError(
                "Invalid `beta` argument value. It should be a Python float. "
                f"Received: beta={beta} of type '{type(beta)}'"
            )
        if beta <= 0.0:
            raise ValueError(f"Invalid `beta` argument value. It should be > 0. Received: {beta}")
        if threshold is not None:
            if not isinstance(threshold, float):
                raise ValueError(
                    "Invalid `threshold` argument value. It should be a Python float. "
                    f"Received: threshold={threshold} of type '{type(threshold)}'"
                )
            if threshold > 1.0 or threshold <= 0.0:
                raise ValueError(
                    "Invalid `threshold` argument value. It should verify "
                    f"0 < threshold <= 1. Received: threshold={threshold}"
                )
        self.average = average
        self.beta = beta
        self.threshold = threshold
        self.axis = None if average == "micro" else 0
        self._built = False

    def _build(self, y_true_shape, y_pred_shape):
        if len(y_pred_shape) != 2 or len(y_true_shape) != 2:
            raise ValueError(
                f"{type(self).__name__} expects 2D inputs with shape (batch_size, output_dim). "
                f"Received input shapes: y_pred.shape={tuple(y_pred_shape)} and "
                f"y_true.shape={tuple(y_true_shape)}."
            )
        shape = (y_pred_shape[-1],) if self.average != "micro" else ()
        self.true_positives = self.add_variable(shape, name="true_positives")
        self.false_positives = self.add_variable(shape, name="false_positives")
        self.false_negatives = self.add_variable(shape, name="false_negatives")
        self.intermediate_weights = self.add_variable(shape, name="intermediate_weights")
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Accumulate per-class true positives, false positives, false negatives, support."""
        y_pred = _data(y_pred, dtype=self._dtype)
        y_true = _data(y_true, y_pred, self._dtype)
        if not self._built:
            self._build(y_true.shape, y_pred.shape)
        xp = get_array_module(y_pred)
        if self.threshold is None:
            top = y_pred.max(axis=-1, keepdims=True)
            y_pred = (y_pred >= top) & (xp.abs(y_pred) > 1e-9)
        else:
            y_pred = y_pred > self.threshold
        y_pred = y_pred.astype(self._dtype)
        weight = None if sample_weight is None else _data(sample_weight, y_true, self._dtype)

        def total(values):
            if weight is not None:
                values = values * xp.expand_dims(weight, 1)
            return values.sum(axis=self.axis)

        self.true_positives.assign(self.true_positives.data + total(y_pred * y_true))
        self.false_positives.assign(self.false_positives.data + total(y_pred * (1 - y_true)))
        self.false_negatives.assign(self.false_negatives.data + total((1 - y_pred) * y_true))
        self.intermediate_weights.assign(self.intermediate_weights.data + total(y_true))

    def result(self):
        """The score: one per class with ``average=None``, else a scalar."""
        if not self._built:
            raise ValueError(f"{self.name}: result() before any update_state()")
        eps = _config.epsilon()
        tp, fp = self.true_positives.data, self.false_positives.data
        fn = self.false_negatives.data
        xp = get_array_module(tp)
        precision = tp / (tp + fp + eps)
        recall = tp / (tp + fn + eps)
        beta2 = self.beta**2
        score = precision * recall / (beta2 * precision + recall + eps) * (1 + beta2)
        if self.average == "weighted":
            weights = self.intermediate_weights.data
            score = (score * (weights / (weights.sum() + eps))).sum()
        elif self.average is not None:
            score = score.mean()
        return Tensor(xp.asarray(score, dtype=self._dtype))

    def reset_state(self):
        if self._built:
            super().reset_state()

    def get_config(self):
        config = super().get_config()
        config.update({"average": self.average, "beta": self.beta, "threshold": self.threshold})
        return config


class F1Score(FBetaScore):
    """F1 score ``2 * p * r / (p + r)``: :class:`FBetaScore` with ``beta=1``.

    Args:
        average, threshold, name, dtype: see :class:`FBetaScore`.
    """

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self):
        config = super().get_config()
        del config["beta"]
        return config


class R2Score(Metric):
    """Coefficient of determination ``1 - SS_res / SS_tot`` per output column, aggregated.

    Args:
        class_aggregation: ``"uniform_average"`` (mean over columns),
            ``"variance_weighted_average"`` or ``None`` (one score per column).
        num_regressors: for the adjusted R2 score (0: plain R2).
        name, dtype: see :class:`Metric`.
    """

    def __init__(
        self, class_aggregation="uniform_average", num_regressors=0, name="r2_score", dtype=None
    ):
        super().__init__(name=name, dtype=dtype)
        valid = (None, "uniform_average", "variance_weighted_average")
        if class_aggregation not in valid:
            raise ValueError(
                "Invalid value for argument `class_aggregation`. Expected one of "
                f"{valid}. Received: class_aggregation={class_aggregation}"
            )
        if num_regressors < 0:
            raise ValueError(
                "Invalid value for argument `num_regressors`. Expected a value >= 0. "
                f"Received: num_regressors={num_regressors}"
            )
        self.class_aggregation = class_aggregation
        self.num_regressors = num_regressors
        self.num_samples = self.add_variable((), name="num_samples")
        self._built = False

    def _build(self, y_true_shape, y_pred_shape):
        if len(y_pred_shape) != 2 or len(y_true_shape) != 2:
            raise ValueError(
                "R2Score expects 2D inputs with shape (batch_size, output_dim). Received "
                f"input shapes: y_pred.shape={tuple(y_pred_shape)} and "
                f"y_true.shape={tuple(y_true_shape)}."
            )
        shape = (y_pred_shape[-1],)
        self.squared_sum = self.add_variable(shape, name="squared_sum")
        self.sum = self.add_variable(shape, name="sum")
        self.total_mse = self.add_variable(shape, name="residual")
        self.count = self.add_variable(shape, name="count")
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Accumulate the weighted sums the score needs."""
        y_pred = _data(y_pred, dtype=self._dtype)
        y_true = _data(y_true, y_pred, self._dtype)
        y_true, y_pred = squeeze_or_expand(y_true, y_pred)
        if not self._built:
            self._build(y_true.shape, y_pred.shape)
        xp = get_array_module(y_pred)
        weight = xp.ones((), self._dtype) if sample_weight is None else _data(sample_weight, y_true)
        weight = weight.astype(self._dtype, copy=False)
        if weight.ndim == 1:
            weight = weight[:, None]
        weight = xp.broadcast_to(weight, y_true.shape)
        weighted = y_true * weight
        self.sum.assign(self.sum.data + weighted.sum(axis=0))
        self.squared_sum.assign(self.squared_sum.data + (y_true * weighted).sum(axis=0))
        self.total_mse.assign(self.total_mse.data + ((y_true - y_pred) ** 2 * weight).sum(axis=0))
        self.count.assign(self.count.data + weight.sum(axis=0))
        self.num_samples.assign(self.num_samples.data + y_true.size)

    def result(self):
        if not self._built:
            raise ValueError(f"{self.name}: result() before any update_state()")
        total_sum, count = self.sum.data, self.count.data
        xp = get_array_module(total_sum)
        mean = total_sum / count
        total = self.squared_sum.data - total_sum * mean
        raw = 1 - self.total_mse.data / total
        raw = xp.where(xp.isinf(raw), 0.0, raw)
        if self.class_aggregation == "uniform_average":
            score = raw.mean()
        elif self.class_aggregation == "variance_weighted_average":
            score = (total * raw).sum() / total.sum()
        else:
            score = raw
        if self.num_regressors:
            n = float(self.num_samples.data)  # host read: Keras also decides on the host
            p = float(self.num_regressors)
            if p > n - 1:
                warnings.warn(
                    "More independent predictors than datapoints in adjusted R2 score. "
                    "Falling back to standard R2 score.",
                    stacklevel=2,
                )
            elif p == n - 1:
                warnings.warn(
                    "Division by zero in Adjusted R2 score. Falling back to standard R2 score.",
                    stacklevel=2,
                )
            else:
                score = 1.0 - (1.0 - score) * (n - 1.0) / (n - p - 1.0)
        return Tensor(xp.asarray(score, dtype=self._dtype))

    def reset_state(self):
        for variable in self._variables:
            variable.assign(get_array_module(variable.data).zeros_like(variable.data))

    def get_config(self):
        config = super().get_config()
        config.update(
            {"class_aggregation": self.class_aggregation, "num_regressors": self.num_regressors}
        )
        return config


def _pair(y_true, y_pred):
    y_pred = _data(y_pred)
    if y_pred.dtype.kind != "f":
        y_pred = y_pred.astype(_config.floatx())
    y_true = _data(y_true, y_pred, y_pred.dtype)
    y_true, y_pred = squeeze_or_expand(y_true, y_pred)
    return get_array_module(y_pred), y_true, y_pred


def pearson_correlation(y_true, y_pred, axis=-1):
    """Pearson correlation of ``y_true`` and ``y_pred`` along ``axis`` (per sample)."""
    xp, y_true, y_pred = _pair(y_true, y_pred)
    t = y_true - y_true.mean(axis=axis, keepdims=True)
    p = y_pred - y_pred.mean(axis=axis, keepdims=True)
    t = t / t.std(axis=axis, keepdims=True)
    p = p / p.std(axis=axis, keepdims=True)
    return Tensor(xp.asarray((t * p).mean(axis=axis)))


def concordance_correlation(y_true, y_pred, axis=-1):
    """Lin's concordance correlation along ``axis``, exactly as Keras 3 computes it (its
    covariance term centres ``y_true`` on the mean of ``y_pred``)."""
    xp, y_true, y_pred = _pair(y_true, y_pred)
    true_mean = y_true.mean(axis=axis, keepdims=True)
    pred_mean = y_pred.mean(axis=axis, keepdims=True)
    true_var = (y_true - true_mean).var(axis=axis, keepdims=True)
    pred_var = (y_pred - pred_mean).var(axis=axis, keepdims=True)
    covar = (y_true - pred_mean) * (y_pred - pred_mean)
    norm = true_var + pred_var + (true_mean - pred_mean) ** 2
    return Tensor(xp.asarray((2 * covar / (norm + _config.epsilon())).mean(axis=axis)))


class PearsonCorrelation(MeanMetricWrapper):
    """Mean over samples of :func:`pearson_correlation`.

    Args:
        name, dtype: see :class:`Metric`.
        axis: the axis along which the correlation is computed.
    """

    def __init__(self, name="pearson_correlation", dtype=None, axis=-1):
        super().__init__(pearson_correlation, name=name, dtype=dtype, axis=axis)
        self.axis = axis

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "axis": self.axis}


class ConcordanceCorrelation(MeanMetricWrapper):
    """Mean over samples of :func:`concordance_correlation`.

    Args:
        name, dtype: see :class:`Metric`.
        axis: the axis along which the correlation is computed.
    """

    def __init__(self, name="concordance_correlation", dtype=None, axis=-1):
        super().__init__(concordance_correlation, name=name, dtype=dtype, axis=axis)
        self.axis = axis

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "axis": self.axis}
