"""Keras's losses: functions ``(y_true, y_pred) -> per-sample loss`` and ``Loss`` classes.

Every Keras name and alias resolves through :func:`get`: ``'mse'``/``'MSE'``/
``'mean_squared_error'``, ``'mae'``, ``'mape'``, ``'msle'``, ``'kld'``/``'kl_divergence'``/
``'kullback_leibler_divergence'``, ``'cosine_similarity'`` (and the legacy
``'cosine_proximity'``), ``'hinge'``, ``'squared_hinge'``, ``'categorical_hinge'``,
``'log_cosh'``/``'logcosh'``, ``'huber'``, ``'poisson'``, and the three crossentropies, plus
each class name (``'MeanSquaredError'`` gives an instance).
"""

import inspect

from gpuk.losses.classes import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    CategoricalHinge,
    CosineSimilarity,
    Hinge,
    Huber,
    KLDivergence,
    LogCosh,
    LossFunctionWrapper,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    Poisson,
    SparseCategoricalCrossentropy,
    SquaredHinge,
)
from gpuk.losses.functions import (
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    categorical_hinge,
    cosine_similarity,
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
from gpuk.losses.loss import Loss, Reduction, reduce_weighted_values
from gpuk.losses.more import (
    CTC,
    BinaryFocalCrossentropy,
    CategoricalFocalCrossentropy,
    CategoricalGeneralizedCrossEntropy,
    Circle,
    Dice,
    Tversky,
    categorical_generalized_cross_entropy,
    circle,
    ctc,
    dice,
    tversky,
)
from gpuk.losses.serialization import deserialize, register_builtins, serialize

# Aliases are the same function objects, as in Keras.
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence = kl_divergence
logcosh = log_cosh
cosine_proximity = cosine_similarity
huber_loss = huber

_FUNCTIONS = {
    fn.__name__: fn
    for fn in (
        mean_squared_error,
        mean_absolute_error,
        mean_absolute_percentage_error,
        mean_squared_logarithmic_error,
        cosine_similarity,
        hinge,
        squared_hinge,
        categorical_hinge,
        log_cosh,
        huber,
        poisson,
        kl_divergence,
        binary_crossentropy,
        binary_focal_crossentropy,
        categorical_crossentropy,
        categorical_focal_crossentropy,
        sparse_categorical_crossentropy,
    )
}
_ALIASES = {
    "mse": mse,
    "MSE": mse,
    "mae": mae,
    "MAE": mae,
    "mape": mape,
    "MAPE": mape,
    "msle": msle,
    "MSLE": msle,
    "kld": kld,
    "KLD": kld,
    "kullback_leibler_divergence": kld,
    "logcosh": log_cosh,
    "cosine_proximity": cosine_similarity,
    "huber_loss": huber,
    "bce": binary_crossentropy,
    "BCE": binary_crossentropy,
}
_CLASSES = {
    cls.__name__: cls
    for cls in (
        Loss,
        LossFunctionWrapper,
        MeanSquaredError,
        MeanAbsoluteError,
        MeanAbsolutePercentageError,
        MeanSquaredLogarithmicError,
        CosineSimilarity,
        Hinge,
        SquaredHinge,
        CategoricalHinge,
        LogCosh,
        Huber,
        Poisson,
        KLDivergence,
        BinaryCrossentropy,
        CategoricalCrossentropy,
        SparseCategoricalCrossentropy,
    )
}
# Issue 17's losses (gpuk/losses/more.py).
_FUNCTIONS.update(
    {fn.__name__: fn for fn in (categorical_generalized_cross_entropy, dice, tversky, circle, ctc)}
)
_CLASSES.update(
    {
        cls.__name__: cls
        for cls in (
            BinaryFocalCrossentropy,
            CategoricalFocalCrossentropy,
            CategoricalGeneralizedCrossEntropy,
            Dice,
            Tversky,
            Circle,
            CTC,
        )
    }
)
_BUILTINS = {**_FUNCTIONS, **_ALIASES, **_CLASSES}
register_builtins(_BUILTINS)

__all__ = sorted(
    list(_BUILTINS) + ["Reduction", "deserialize", "get", "reduce_weighted_values", "serialize"]
)


def get(identifier):
    """Resolve a loss: a name, a config dict, a ``Loss`` instance or class, or a function.

    Names give the function (``'mse'`` -> :func:`mean_squared_error`) or, for class names,
    a default instance (``'MeanSquaredError'``).

    Raises:
        ValueError: for an unknown name (the message lists the known ones).
        TypeError: for anything that is not a loss.
    """
    if identifier is None:
        return None
    if inspect.isclass(identifier):
        return identifier()
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise TypeError(
        f"Could not interpret loss identifier: {identifier!r} (expected a name, a config dict, "
        f"a function or a Loss instance)"
    )


# Only names this module defines (get()-only names such as "bce" stay out of import *).
__all__ = [name for name in __all__ if name in globals()]
