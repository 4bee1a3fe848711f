"""The ``Loss`` base class, Keras's reductions and its rank/sample-weight alignment rules."""

import numpy as np

from gpuk import _config, ops
from gpuk._array import get_array_module
from gpuk.autograd import Tensor, as_array
from gpuk.utils.naming import to_snake_case

REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)


class Reduction:
    """tf.keras 2's names of the reductions (``tf.keras.losses.Reduction``), kept for old code."""

    AUTO = "auto"
    NONE = "none"
    SUM = "sum"
    SUM_OVER_BATCH_SIZE = "sum_over_batch_size"

    @classmethod
    def all(cls):
        return (cls.AUTO, cls.NONE, cls.SUM, cls.SUM_OVER_BATCH_SIZE)

    @classmethod
    def validate(cls, key):
        standardize_reduction(key)


def standardize_reduction(reduction):
    """Check ``reduction``; tf.keras's ``'auto'`` means ``'sum_over_batch_size'``."""
    if reduction == "auto":
        return "sum_over_batch_size"
    if reduction not in REDUCTIONS:
        allowed = ", ".join(repr(r) for r in REDUCTIONS + ("auto",))
        raise ValueError(
            f"Invalid value for argument `reduction`. Expected one of {allowed}. "
            f"Received: reduction={reduction!r}"
        )
    return reduction


def float_tensor(value, dtype=None):
    """``value`` as a floating Tensor (ints become ``floatx()``); a Tensor keeps its graph."""
    tensor = value if isinstance(value, Tensor) else Tensor(as_array(value))
    if dtype is not None and tensor.dtype != np.dtype(dtype):
        return ops.cast(tensor, dtype)
    if tensor.dtype.kind != "f":
        return ops.cast(tensor, _config.floatx())
    return tensor


def cast_like(value, like):
    """``value`` as a Tensor of ``like``'s dtype on ``like``'s device (y_true follows y_pred)."""
    if isinstance(value, Tensor):
        if get_array_module(value.data) is not get_array_module(like.data):
            value = Tensor(as_array(value.data, like.data))
        return value if value.dtype == like.dtype else ops.cast(value, like.dtype)
    array = as_array(value, like.data)
    return Tensor(array if array.dtype == like.dtype else array.astype(like.dtype))


def squeeze_or_expand_to_same_rank(x1, x2, expand_rank_1=True):
    """Keras's rule: when ranks differ by one, drop a trailing 1 (or expand a rank-1 tensor)."""
    r1, r2 = len(x1.shape), len(x2.shape)
    if r1 == r2 + 1 and x1.shape[-1] == 1:
        if r2 == 1 and expand_rank_1:
            x2 = ops.expand_dims(x2, -1)
        else:
            x1 = ops.squeeze(x1, -1)
    elif r2 == r1 + 1 and x2.shape[-1] == 1:
        if r1 == 1 and expand_rank_1:
            x1 = ops.expand_dims(x1, -1)
        else:
            x2 = ops.squeeze(x2, -1)
    return x1, x2


def align_sample_weight(values, sample_weight, what="loss"):
    """Bring ``sample_weight`` to a rank that broadcasts against ``values``.

    Keras 3's squeeze/expand rule first; then, as tf.keras 2 did, a lower-rank weight gets
    trailing axes (so per-sample weights of shape ``(batch,)`` weight every time step of a
    ``(batch, time)`` loss) and a higher-rank weight loses trailing length-1 axes.
    """
    values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
    if sample_weight.ndim < values.ndim:
        extra = (1,) * (values.ndim - sample_weight.ndim)
        sample_weight = ops.reshape(sample_weight, sample_weight.shape + extra)
    while sample_weight.ndim > values.ndim and sample_weight.shape[-1] == 1:
        sample_weight = ops.squeeze(sample_weight, -1)
    try:
        shape = np.broadcast_shapes(values.shape, sample_weight.shape)
    except ValueError:
        shape = None
    if shape is None or len(shape) != values.ndim:
        raise ValueError(
            f"{what}: sample_weight of shape {sample_weight.shape} cannot be broadcast to the "
            f"per-sample losses of shape {values.shape}"
        )
    return values, sample_weight


def apply_mask(sample_weight, mask, dtype, reduction, like):
    """Merge a boolean mask into the sample weights (Keras 3's rule).

    For the mean reductions the valid entries get weight ``total / valid`` so that the mean
    over all entries equals the mean over the valid ones.
    """
    if mask is None:
        return sample_weight
    mask = Tensor(as_array(mask.data if isinstance(mask, Tensor) else mask, like).astype(dtype))
    if reduction in ("mean", "sum_over_batch_size"):
        total = mask.data.size
        valid = mask.data.sum()
        mask = Tensor(mask.data * (total / (valid + _config.epsilon())).astype(dtype))
    if sample_weight is None:
        return mask
    mask, sample_weight = align_sample_weight(mask, sample_weight, "mask")
    return sample_weight * mask


def reduce_values(values, sample_weight=None, reduction="sum_over_batch_size"):
    """Reduce (already weighted) losses: none, sum, or sum over the number of elements."""
    if reduction in (None, "none") or values.ndim == 0 or values.size == 0:
        return values
    total = ops.sum(values)
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        xp = get_array_module(values.data)
        # Keras 3 divides by the sum of the weights as given (a scalar weight counts once).
        denominator = sample_weight.data.sum()
        safe = xp.where(denominator == 0, xp.ones_like(denominator), denominator)
        return (
            total
            / Tensor(safe.astype(values.dtype))
            * Tensor((denominator != 0).astype(values.dtype))
        )
    return total / values.size


def reduce_weighted_values(
    values, sample_weight=None, mask=None, reduction="sum_over_batch_size", name="loss"
):
    """Weight per-sample losses by ``sample_weight`` and ``mask``, then reduce them.

    Args:
        values: per-sample (or per-element) losses, a Tensor.
        sample_weight: None, a scalar, or weights broadcastable as described in
            :func:`align_sample_weight`.
        mask: optional boolean mask of valid entries, the shape of ``values``.
        reduction: ``'sum_over_batch_size'`` (sum divided by the number of elements, as Keras
            3 does), ``'sum'``, ``'mean_with_sample_weight'``, ``'none'`` or None.
        name: used in error messages.
    """
    reduction = standardize_reduction(reduction)
    values = float_tensor(values)
    if sample_weight is not None:
        sample_weight = cast_like(
            sample_weight.data if isinstance(sample_weight, Tensor) else sample_weight, values
        )
    sample_weight = apply_mask(sample_weight, mask, values.dtype, reduction, values.data)
    if sample_weight is not None:
        values, sample_weight = align_sample_weight(values, sample_weight, name)
        values = values * sample_weight
    return reduce_values(values, sample_weight, reduction)


class Loss:
    """Base class of losses: subclass it and implement ``call(y_true, y_pred)``.

    ``call`` returns per-sample losses; ``__call__`` casts ``y_true`` to ``y_pred``'s dtype,
    applies ``sample_weight`` and any mask carried by ``y_pred`` (``_keras_mask``), and reduces.

    Args:
        name: name of the loss; the snake-case class name by default.
        reduction: ``'sum_over_batch_size'`` (default: the weighted sum divided by the number
            of loss elements), ``'sum'``, ``'mean_with_sample_weight'``, ``'none'``/None (no
            reduction); tf.keras's ``'auto'`` means ``'sum_over_batch_size'``.
        dtype: compute dtype; by default ``y_pred``'s (``floatx()`` for integer predictions).

    Example::

        class ScaledMSE(gpuk.losses.Loss):
            def call(self, y_true, y_pred):
                return 2.0 * K.mean(K.square(y_true - y_pred), axis=-1)
    """

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        self.name = name or to_snake_case(type(self).__name__)
        self.reduction = standardize_reduction(reduction)
        self.dtype = None if dtype is None else np.dtype(dtype).name

    def __call__(self, y_true, y_pred, sample_weight=None):
        """Return the reduced loss (a Tensor) of ``y_pred`` against ``y_true``."""
        in_mask = getattr(y_pred, "_keras_mask", None)
        dtype = self.dtype
        if dtype is None and np.dtype(getattr(y_pred, "dtype", "float32")).itemsize < 4:
            # Mixed precision: as Keras (losses compute in floatx()), not in float16.
            dtype = _config.floatx()
        y_pred = float_tensor(y_pred, dtype)
        y_true = cast_like(y_true, y_pred)
        losses = self.call(y_true, y_pred)
        out_mask = getattr(losses, "_keras_mask", None)
        mask = _combine_masks(in_mask, out_mask)
        return reduce_weighted_values(losses, sample_weight, mask, self.reduction, self.name)

    def call(self, y_true, y_pred):
        """Per-sample losses; subclasses implement it."""
        raise NotImplementedError(f"{type(self).__name__} must implement call(y_true, y_pred)")

    def get_config(self):
        """The constructor arguments, as a JSON-serializable dict."""
        config = {"name": self.name, "reduction": self.reduction}
        if self.dtype is not None:
            config["dtype"] = self.dtype
        return config

    @classmethod
    def from_config(cls, config):
        """Build the loss from :meth:`get_config`'s output."""
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r} reduction={self.reduction!r}>"


def _combine_masks(a, b):
    a = a.data if isinstance(a, Tensor) else a
    b = b.data if isinstance(b, Tensor) else b
    if a is None:
        return b
    if b is None:
        return a
    try:
        return a.astype(bool) & b.astype(bool)
    except ValueError:
        return b
