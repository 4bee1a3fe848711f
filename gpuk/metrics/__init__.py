"""Keras's metrics: stateless functions, stateful ``Metric`` classes, and name resolution.

For the training loop:

* :func:`resolve_metric` ``(identifier, loss=None, y_true_shape=None, y_pred_shape=None)``
  returns ``(Metric, log_name)``: a fresh stateful metric for a name, a function wrapped in
  :class:`MeanMetricWrapper` (so it is averaged over samples across the epoch), or the given
  Metric instance. ``'accuracy'``/``'acc'`` and ``'crossentropy'``/``'ce'`` become the
  binary, sparse or categorical variant chosen from the loss and the shapes; without shapes
  the choice is made at the first ``update_state``.
* :func:`metric_name` ``(identifier)``: the name Keras logs (the string as given, a
  function's ``__name__``, an instance's ``.name``).
* :func:`get`: Keras's ``metrics.get`` (names give Metric instances where Keras 3 has a class,
  functions otherwise); with ``y_true_shape``/``y_pred_shape``/``loss`` it also resolves
  ``'accuracy'`` and ``'crossentropy'``.
"""

import functools
import inspect

from gpuk import losses as _losses
from gpuk.losses.functions import (
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    categorical_hinge,
    hinge,
    huber,
    kl_divergence,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    poisson,
    sparse_categorical_crossentropy,
    squared_hinge,
)
from gpuk.metrics.base import Mean, MeanMetricWrapper, Metric, Sum
from gpuk.metrics.classes import (
    Accuracy,
    BinaryAccuracy,
    BinaryCrossentropy,
    CategoricalAccuracy,
    CategoricalCrossentropy,
    CategoricalHinge,
    CosineSimilarity,
    Hinge,
    KLDivergence,
    LogCoshError,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    Poisson,
    RootMeanSquaredError,
    SparseCategoricalAccuracy,
    SparseCategoricalCrossentropy,
    SparseTopKCategoricalAccuracy,
    SquaredHinge,
    TopKCategoricalAccuracy,
)
from gpuk.metrics.classes import _cosine_similarity as cosine_similarity
from gpuk.metrics.confusion import AUC, Precision, Recall
from gpuk.metrics.functions import (
    accuracy,
    binary_accuracy,
    categorical_accuracy,
    sparse_categorical_accuracy,
    sparse_top_k_categorical_accuracy,
    top_k_categorical_accuracy,
)
from gpuk.metrics.iou import BinaryIoU, IoU, MeanIoU, OneHotIoU, OneHotMeanIoU
from gpuk.metrics.scores import (
    ConcordanceCorrelation,
    F1Score,
    FBetaScore,
    PearsonCorrelation,
    R2Score,
    concordance_correlation,
    pearson_correlation,
)
from gpuk.metrics.serialization import deserialize, register_builtins, serialize
from gpuk.metrics.thresholds import (
    FalseNegatives,
    FalsePositives,
    PrecisionAtRecall,
    RecallAtPrecision,
    SensitivityAtSpecificity,
    SpecificityAtSensitivity,
    TrueNegatives,
    TruePositives,
)
from gpuk.utils.naming import to_snake_case

mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence = kl_divergence
logcosh = log_cosh

_CLASSES = [
    Metric, Mean, Sum, MeanMetricWrapper, Accuracy, BinaryAccuracy, CategoricalAccuracy,
    SparseCategoricalAccuracy, TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy,
    MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError, RootMeanSquaredError, CosineSimilarity, LogCoshError, Hinge,
    SquaredHinge, CategoricalHinge, KLDivergence, Poisson, BinaryCrossentropy,
    CategoricalCrossentropy, SparseCategoricalCrossentropy, Precision, Recall, AUC,
    TruePositives, FalsePositives, TrueNegatives, FalseNegatives, PrecisionAtRecall,
    RecallAtPrecision, SensitivityAtSpecificity, SpecificityAtSensitivity, F1Score, FBetaScore,
    R2Score, PearsonCorrelation, ConcordanceCorrelation, IoU, BinaryIoU, MeanIoU, OneHotIoU,
    OneHotMeanIoU,
]  # fmt: skip
_FUNCTIONS = [
    accuracy, binary_accuracy, categorical_accuracy, sparse_categorical_accuracy,
    top_k_categorical_accuracy, sparse_top_k_categorical_accuracy, mean_squared_error,
    mean_absolute_error, mean_absolute_percentage_error, mean_squared_logarithmic_error,
    cosine_similarity, log_cosh, hinge, squared_hinge, categorical_hinge, kl_divergence,
    poisson, binary_crossentropy, categorical_crossentropy, sparse_categorical_crossentropy,
    binary_focal_crossentropy, categorical_focal_crossentropy, huber, pearson_correlation,
    concordance_correlation,
]  # fmt: skip
# Keras 3's table: functions by name, then classes by name and by snake-case name (a class
# wins over a function of the same name), then the short aliases.
_BUILTINS = {fn.__name__: fn for fn in _FUNCTIONS}
_BUILTINS.update({cls.__name__: cls for cls in _CLASSES})
_BUILTINS.update({to_snake_case(cls.__name__): cls for cls in _CLASSES if cls is not Metric})
_BUILTINS.update(
    {
        "mse": MeanSquaredError, "MSE": MeanSquaredError,
        "mae": MeanAbsoluteError, "MAE": MeanAbsoluteError,
        "mape": MeanAbsolutePercentageError, "MAPE": MeanAbsolutePercentageError,
        "msle": MeanSquaredLogarithmicError, "MSLE": MeanSquaredLogarithmicError,
        "bce": BinaryCrossentropy, "BCE": BinaryCrossentropy,
        "kld": KLDivergence, "KLD": KLDivergence,
        "kullback_leibler_divergence": KLDivergence,
        "logcosh": LogCoshError, "log_cosh": LogCoshError,
        "cosine_proximity": CosineSimilarity,
        "acc": Accuracy,
        "auc": AUC,
    }
)  # fmt: skip
# Every other loss function is usable as a metric under its loss names ('huber', ...).
for _name, _obj in _losses._BUILTINS.items():
    if not inspect.isclass(_obj):
        _BUILTINS.setdefault(_name, _obj)
register_builtins(_BUILTINS)

_ACCURACY = ("accuracy", "acc")
_CROSSENTROPY = ("crossentropy", "ce")


def get(identifier, y_true_shape=None, y_pred_shape=None, loss=None):
    """Resolve a metric identifier as Keras does.

    Args:
        identifier: a name (``'mse'``, ``'AUC'``, ``'binary_accuracy'`` ...), a config dict, a
            function, a Metric class or instance.
        y_true_shape, y_pred_shape, loss: when any is given, ``'accuracy'``/``'acc'`` and
            ``'crossentropy'``/``'ce'`` resolve to the binary, sparse or categorical variant
            (see :func:`resolve_metric`); otherwise ``'accuracy'`` is exact-match
            :class:`Accuracy`, as in Keras 3.

    Returns:
        A Metric instance or a function.

    Raises:
        ValueError: for an unknown name (the message lists the known ones).
    """
    if identifier is None:
        return None
    if isinstance(identifier, str):
        kind = _special_kind(identifier)
        hinted = y_true_shape is not None or y_pred_shape is not None or loss is not None
        if kind and (hinted or kind == "crossentropy"):
            return _resolved_metric(kind, identifier, loss, y_true_shape, y_pred_shape)
        if kind == "accuracy":
            # The class name gives a default instance, as every class name does.
            return Accuracy() if identifier == "Accuracy" else Accuracy(name=identifier)
    if inspect.isclass(identifier):
        return identifier()
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise TypeError(
        f"Could not interpret metric identifier: {identifier!r} (expected a name, a config "
        "dict, a function or a Metric)"
    )


def metric_name(identifier):
    """The name Keras logs for a metric identifier.

    A string stays as the user wrote it (``'acc'`` stays ``'acc'``, ``'mse'`` stays
    ``'mse'``), a function gives its ``__name__``, a Metric instance its ``.name``, a class
    its snake-case name.
    """
    if isinstance(identifier, str):
        return identifier
    if isinstance(identifier, Metric):
        return identifier.name
    if isinstance(identifier, dict):
        config = identifier.get("config")
        if isinstance(config, dict) and "name" in config:
            return config["name"]
        return str(config if isinstance(config, str) else identifier.get("class_name"))
    if inspect.isclass(identifier):
        return to_snake_case(identifier.__name__)
    if isinstance(identifier, functools.partial):
        return metric_name(identifier.func)
    return (
        getattr(identifier, "__name__", None)
        or getattr(identifier, "name", None)
        or (type(identifier).__name__)
    )


def resolve_metric(identifier, loss=None, y_true_shape=None, y_pred_shape=None):
    """A stateful metric and its log name, for the training loop.

    Args:
        identifier: anything :func:`get` accepts.
        loss: the output's loss (name, function or Loss instance); it decides
            ``'accuracy'``/``'crossentropy'`` like Keras: binary when the loss is binary
            crossentropy or the output's last dimension is 1, sparse when the loss is sparse
            categorical crossentropy or ``y_true`` has one axis fewer than ``y_pred`` or a last
            dimension of 1 while ``y_pred``'s is larger, categorical otherwise.
        y_true_shape, y_pred_shape: the shapes, if known (else decided at the first update).

    Returns:
        ``(metric, name)``: a :class:`Metric` (functions are wrapped in
        :class:`MeanMetricWrapper`) and the name for the logs (see :func:`metric_name`).
    """
    name = metric_name(identifier)
    if isinstance(identifier, str) and _special_kind(identifier):
        metric = _resolved_metric(
            _special_kind(identifier), identifier, loss, y_true_shape, y_pred_shape
        )
    else:
        metric = get(identifier)
        if not isinstance(metric, Metric):
            if not callable(metric):
                raise TypeError(f"Could not interpret metric identifier: {identifier!r}")
            metric = MeanMetricWrapper(metric, name=name)
    metric.name = name
    return metric, name


def _special_kind(identifier):
    lowered = identifier.lower()
    if lowered in _ACCURACY:
        return "accuracy"
    if lowered in _CROSSENTROPY:
        return "crossentropy"
    return None


def _loss_kind(loss):
    """'binary', 'sparse', 'categorical' or None for a loss identifier."""
    if loss is None:
        return None
    try:
        loss = _losses.get(loss) if isinstance(loss, (str, dict)) else loss
    except (ValueError, TypeError):
        return None
    fn = getattr(loss, "fn", loss)
    if fn is binary_crossentropy:
        return "binary"
    if fn is sparse_categorical_crossentropy:
        return "sparse"
    if fn is categorical_crossentropy:
        return "categorical"
    return None


def _select(kind, loss, y_true_shape, y_pred_shape):
    """Pick the function behind 'accuracy'/'crossentropy' (Keras 2's rules)."""
    loss_kind = _loss_kind(loss)
    true_shape = None if y_true_shape is None else tuple(y_true_shape)
    pred_shape = None if y_pred_shape is None else tuple(y_pred_shape)
    is_binary = loss_kind == "binary" or (bool(pred_shape) and pred_shape[-1] == 1)
    is_sparse = loss_kind == "sparse"
    if not is_binary and not is_sparse and true_shape is not None and pred_shape is not None:
        # (pred_shape[-1] is not 1 here: that was binary.)
        is_sparse = len(true_shape) < len(pred_shape) or (
            bool(true_shape) and bool(pred_shape) and true_shape[-1] == 1
        )
    if is_binary:
        return binary_accuracy if kind == "accuracy" else binary_crossentropy
    if is_sparse:
        return (
            sparse_categorical_accuracy if kind == "accuracy" else (sparse_categorical_crossentropy)
        )
    return categorical_accuracy if kind == "accuracy" else categorical_crossentropy


class _AutoMetric(MeanMetricWrapper):
    """'accuracy' or 'crossentropy' whose variant is chosen from the first batch's shapes."""

    def __init__(self, kind, loss=None, name=None, dtype=None):
        super().__init__(None, name=name or kind, dtype=dtype)
        self._kind = kind
        self._loss = loss

    def update_state(self, y_true, y_pred, sample_weight=None):
        if self._fn is None:
            self._fn = _select(self._kind, self._loss, getattr(y_true, "shape", None), y_pred.shape)
        super().update_state(y_true, y_pred, sample_weight=sample_weight)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


def _resolved_metric(kind, name, loss, y_true_shape, y_pred_shape):
    if y_pred_shape is None:
        return _AutoMetric(kind, loss, name=name)
    return MeanMetricWrapper(_select(kind, loss, y_true_shape, y_pred_shape), name=name)


__all__ = sorted(
    set(_BUILTINS)
    | {
        "Mean", "Metric", "MeanMetricWrapper", "Sum", "deserialize", "get", "metric_name",
        "resolve_metric", "serialize", "cosine_similarity", "kullback_leibler_divergence",
    }
)  # fmt: skip

# Only names this module defines (get()-only names such as "bce" stay out of import *).
__all__ = [name for name in __all__ if name in globals()]
