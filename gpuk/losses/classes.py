"""Loss classes: each wraps a loss function with its arguments, a name and a reduction."""

from gpuk.losses import functions as F
from gpuk.losses.loss import Loss, squeeze_or_expand_to_same_rank
from gpuk.losses.serialization import deserialize
from gpuk.utils.serialization import get_registered_name


class LossFunctionWrapper(Loss):
    """A ``Loss`` around a function ``fn(y_true, y_pred, **kwargs)`` returning per-sample losses.

    Args:
        fn: the loss function.
        reduction: see :class:`Loss`.
        name: defaults to the function's name.
        dtype: see :class:`Loss`.
        **kwargs: passed to ``fn`` on every call.
    """

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        super().__init__(
            name=name or getattr(fn, "__name__", None), reduction=reduction, dtype=dtype
        )
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true, y_pred):
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self):
        config = super().get_config()
        if type(self) is LossFunctionWrapper:
            config["fn"] = get_registered_name(self.fn)
        config.update(self._fn_kwargs)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if cls is LossFunctionWrapper and isinstance(config.get("fn"), str):
            config["fn"] = deserialize(config["fn"])
        return cls(**config)

    def __repr__(self):
        return (
            f"<{type(self).__name__}({getattr(self.fn, '__name__', self.fn)}, "
            f"kwargs={self._fn_kwargs})>"
        )


def _simple(class_name, fn, default_name, doc):
    """A wrapper class with no arguments besides reduction, name and dtype."""

    def __init__(self, reduction="sum_over_batch_size", name=default_name, dtype=None):
        LossFunctionWrapper.__init__(self, fn, reduction=reduction, name=name, dtype=dtype)

    return type(class_name, (LossFunctionWrapper,), {"__init__": __init__, "__doc__": doc})


_ARGS = """

    Args:
        reduction: ``'sum_over_batch_size'`` (default), ``'sum'``, ``'none'``/None, ...
        name: the loss name.
        dtype: compute dtype (``y_pred``'s by default).
"""

MeanSquaredError = _simple(
    "MeanSquaredError",
    F.mean_squared_error,
    "mean_squared_error",
    "Mean of squares of errors: ``mean((y_true - y_pred)**2, axis=-1)``." + _ARGS,
)
MeanAbsoluteError = _simple(
    "MeanAbsoluteError",
    F.mean_absolute_error,
    "mean_absolute_error",
    "Mean of absolute errors: ``mean(abs(y_true - y_pred), axis=-1)``." + _ARGS,
)
MeanAbsolutePercentageError = _simple(
    "MeanAbsolutePercentageError",
    F.mean_absolute_percentage_error,
    "mean_absolute_percentage_error",
    "``100 * mean(abs((y_true - y_pred) / y_true), axis=-1)`` (denominator at least eps)." + _ARGS,
)
MeanSquaredLogarithmicError = _simple(
    "MeanSquaredLogarithmicError",
    F.mean_squared_logarithmic_error,
    "mean_squared_logarithmic_error",
    "``mean((log(y_pred + 1) - log(y_true + 1))**2, axis=-1)``." + _ARGS,
)
Hinge = _simple("Hinge", F.hinge, "hinge", "``mean(max(1 - y_true * y_pred, 0))``." + _ARGS)
SquaredHinge = _simple(
    "SquaredHinge",
    F.squared_hinge,
    "squared_hinge",
    "``mean(max(1 - y_true * y_pred, 0)**2)``." + _ARGS,
)
CategoricalHinge = _simple(
    "CategoricalHinge",
    F.categorical_hinge,
    "categorical_hinge",
    "``max(neg - pos + 1, 0)`` with ``pos = sum(y_true * y_pred)``, "
    "``neg = max((1 - y_true) * y_pred)``." + _ARGS,
)
LogCosh = _simple(
    "LogCosh",
    F.log_cosh,
    "log_cosh",
    "``mean(log(cosh(y_pred - y_true)), axis=-1)``." + _ARGS,
)
Poisson = _simple(
    "Poisson", F.poisson, "poisson", "``mean(y_pred - y_true * log(y_pred + eps))``." + _ARGS
)
KLDivergence = _simple(
    "KLDivergence",
    F.kl_divergence,
    "kl_divergence",
    "Kullback-Leibler divergence ``sum(y_true * log(y_true / y_pred), axis=-1)``." + _ARGS,
)


class CosineSimilarity(LossFunctionWrapper):
    """Negative cosine similarity along ``axis`` (-1 means the same direction).

    Args:
        axis: the axis along which the similarity is computed.
        reduction, name, dtype: see :class:`Loss`.
    """

    def __init__(
        self, axis=-1, reduction="sum_over_batch_size", name="cosine_similarity", dtype=None
    ):
        super().__init__(
            F.cosine_similarity, reduction=reduction, name=name, dtype=dtype, axis=axis
        )


class Huber(LossFunctionWrapper):
    """Huber loss: quadratic for errors up to ``delta``, linear beyond.

    Args:
        delta: where the quadratic part turns linear.
        reduction, name, dtype: see :class:`Loss`.
    """

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss", dtype=None):
        super().__init__(F.huber, reduction=reduction, name=name, dtype=dtype, delta=delta)


class BinaryCrossentropy(LossFunctionWrapper):
    """Crossentropy for 0/1 labels (one or several independent labels per sample).

    Args:
        from_logits: whether ``y_pred`` holds logits rather than probabilities.
        label_smoothing: in [0, 1]; labels become ``y * (1 - s) + 0.5 * s``.
        axis: the axis averaged over.
        reduction, name, dtype: see :class:`Loss`.
    """

    def __init__(
        self,
        from_logits=False,
        label_smoothing=0.0,
        axis=-1,
        reduction="sum_over_batch_size",
        name="binary_crossentropy",
        dtype=None,
    ):
        super().__init__(
            F.binary_crossentropy,
            reduction=reduction,
            name=name,
            dtype=dtype,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis


class CategoricalCrossentropy(LossFunctionWrapper):
    """Crossentropy for one-hot labels.

    Args:
        from_logits: whether ``y_pred`` holds logits rather than probabilities.
        label_smoothing: labels become ``y * (1 - s) + s / num_classes``.
        axis: the class axis.
        reduction, name, dtype: see :class:`Loss`.
    """

    def __init__(
        self,
        from_logits=False,
        label_smoothing=0.0,
        axis=-1,
        reduction="sum_over_batch_size",
        name="categorical_crossentropy",
        dtype=None,
    ):
        super().__init__(
            F.categorical_crossentropy,
            reduction=reduction,
            name=name,
            dtype=dtype,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Crossentropy for integer class labels.

    Args:
        from_logits: whether ``y_pred`` holds logits rather than probabilities.
        ignore_class: a label to leave out (zero loss, not counted in the mean).
        reduction, name, dtype: see :class:`Loss`.
    """

    def __init__(
        self,
        from_logits=False,
        ignore_class=None,
        reduction="sum_over_batch_size",
        name="sparse_categorical_crossentropy",
        dtype=None,
    ):
        super().__init__(
            F.sparse_categorical_crossentropy,
            reduction=reduction,
            name=name,
            dtype=dtype,
            from_logits=from_logits,
            ignore_class=ignore_class,
        )
        self.from_logits = from_logits
        self.ignore_class = ignore_class

    def call(self, y_true, y_pred):
        # No rank alignment: labels legitimately have one axis fewer than predictions.
        return self.fn(y_true, y_pred, **self._fn_kwargs)
