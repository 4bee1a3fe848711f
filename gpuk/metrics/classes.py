"""Metric classes that average a function over samples (accuracies, regression errors, ...)."""

from gpuk._array import get_array_module
from gpuk.autograd import Tensor
from gpuk.losses import functions as L
from gpuk.metrics import functions as F
from gpuk.metrics.base import Mean, MeanMetricWrapper


def _cosine_similarity(y_true, y_pred, axis=-1):
    """Cosine similarity along ``axis`` (positive: 1 for the same direction)."""
    return -L.cosine_similarity(y_true, y_pred, axis=axis)


_cosine_similarity.__name__ = "cosine_similarity"


def _wrapper(class_name, fn, default_name, doc, **defaults):
    """A MeanMetricWrapper subclass whose keyword arguments are ``defaults``."""

    def __init__(self, name=default_name, dtype=None, **kwargs):
        unknown = set(kwargs) - set(defaults)
        if unknown:
            raise TypeError(f"{class_name}: unexpected arguments {sorted(unknown)}")
        MeanMetricWrapper.__init__(self, fn, name=name, dtype=dtype, **{**defaults, **kwargs})

    for key in defaults:
        doc += f"\n        {key}: defaults to {defaults[key]!r}."
    return type(
        class_name,
        (MeanMetricWrapper,),
        {"__init__": __init__, "__doc__": doc + "\n        name, dtype: see Metric.\n"},
    )


_A = "\n\n    Args:"
Accuracy = _wrapper("Accuracy", F.accuracy, "accuracy", "How often y_pred equals y_true." + _A)
BinaryAccuracy = _wrapper(
    "BinaryAccuracy",
    F.binary_accuracy,
    "binary_accuracy",
    "How often ``y_pred > threshold`` matches the 0/1 labels." + _A,
    threshold=0.5,
)
CategoricalAccuracy = _wrapper(
    "CategoricalAccuracy",
    F.categorical_accuracy,
    "categorical_accuracy",
    "How often the argmax of y_pred matches the one-hot label." + _A,
)
SparseCategoricalAccuracy = _wrapper(
    "SparseCategoricalAccuracy",
    F.sparse_categorical_accuracy,
    "sparse_categorical_accuracy",
    "How often the argmax of y_pred matches the integer label." + _A,
)
TopKCategoricalAccuracy = _wrapper(
    "TopKCategoricalAccuracy",
    F.top_k_categorical_accuracy,
    "top_k_categorical_accuracy",
    "How often the one-hot target is among the top ``k`` predictions." + _A,
    k=5,
)
SparseTopKCategoricalAccuracy = _wrapper(
    "SparseTopKCategoricalAccuracy",
    F.sparse_top_k_categorical_accuracy,
    "sparse_top_k_categorical_accuracy",
    "How often the integer target is among the top ``k`` predictions." + _A,
    k=5,
)
MeanSquaredError = _wrapper(
    "MeanSquaredError",
    L.mean_squared_error,
    "mean_squared_error",
    "Mean of squared errors over samples." + _A,
)
MeanAbsoluteError = _wrapper(
    "MeanAbsoluteError",
    L.mean_absolute_error,
    "mean_absolute_error",
    "Mean of absolute errors over samples." + _A,
)
MeanAbsolutePercentageError = _wrapper(
    "MeanAbsolutePercentageError",
    L.mean_absolute_percentage_error,
    "mean_absolute_percentage_error",
    "Mean absolute percentage error." + _A,
)
MeanSquaredLogarithmicError = _wrapper(
    "MeanSquaredLogarithmicError",
    L.mean_squared_logarithmic_error,
    "mean_squared_logarithmic_error",
    "Mean squared logarithmic error." + _A,
)
CosineSimilarity = _wrapper(
    "CosineSimilarity",
    _cosine_similarity,
    "cosine_similarity",
    "Mean cosine similarity (1 for the same direction)." + _A,
    axis=-1,
)
LogCoshError = _wrapper("LogCoshError", L.log_cosh, "logcosh", "Mean of log(cosh(error))." + _A)
Hinge = _wrapper("Hinge", L.hinge, "hinge", "Mean hinge loss." + _A)
SquaredHinge = _wrapper("SquaredHinge", L.squared_hinge, "squared_hinge", "Squared hinge." + _A)
CategoricalHinge = _wrapper(
    "CategoricalHinge", L.categorical_hinge, "categorical_hinge", "Categorical hinge." + _A
)
KLDivergence = _wrapper(
    "KLDivergence", L.kl_divergence, "kl_divergence", "Kullback-Leibler divergence." + _A
)
Poisson = _wrapper("Poisson", L.poisson, "poisson", "Poisson loss." + _A)
BinaryCrossentropy = _wrapper(
    "BinaryCrossentropy",
    L.binary_crossentropy,
    "binary_crossentropy",
    "Mean binary crossentropy." + _A,
    from_logits=False,
    label_smoothing=0.0,
)
CategoricalCrossentropy = _wrapper(
    "CategoricalCrossentropy",
    L.categorical_crossentropy,
    "categorical_crossentropy",
    "Mean categorical crossentropy." + _A,
    from_logits=False,
    label_smoothing=0.0,
    axis=-1,
)
SparseCategoricalCrossentropy = _wrapper(
    "SparseCategoricalCrossentropy",
    L.sparse_categorical_crossentropy,
    "sparse_categorical_crossentropy",
    "Mean sparse categorical crossentropy (ignored labels count as 0, as in Keras)." + _A,
    from_logits=False,
    ignore_class=None,
    axis=-1,
)


class RootMeanSquaredError(Mean):
    """``sqrt(mean((y_pred - y_true)**2))`` over all elements seen.

    Args:
        name, dtype: see Metric.
    """

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = L._prepare(self.name, y_true, y_pred)
        super().update_state((y_pred.data - y_true.data) ** 2, sample_weight=sample_weight)

    def result(self):
        value = super().result().data
        xp = get_array_module(value)
        return Tensor(xp.asarray(xp.sqrt(value)))
