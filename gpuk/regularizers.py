"""Weight regularizers with Keras's names, defaults, configs and formulas.

A regularizer is called on a weight (Variable, Tensor or array) and returns a scalar gpuk
Tensor built from differentiable ``gpuk.ops``, so that its gradient flows into training:
``L1``: ``l1 * sum(|x|)``; ``L2``: ``l2 * sum(x**2)`` (no 0.5 factor, as Keras); ``L1L2``: both.

``l1``, ``l2`` and ``l1_l2`` are the classes themselves (Keras 3), so ``regularizers.l2(1e-6)``
works. As a string, ``"l1_l2"`` means ``L1L2(l1=0.01, l2=0.01)`` (Keras's documented default
for the string form, tf.keras's behaviour).
"""

import math
import numbers

from gpuk import ops
from gpuk._array import get_array_module
from gpuk._config import epsilon
from gpuk.autograd import Tensor, as_array, as_tensor
from gpuk.utils.serialization import deserialize_keras_object, get_object, serialize_keras_object

__all__ = [
    "L1",
    "L1L2",
    "L2",
    "OrthogonalRegularizer",
    "Regularizer",
    "deserialize",
    "get",
    "l1",
    "l1_l2",
    "l2",
    "orthogonal_regularizer",
    "serialize",
]


def _factor(value, name, who):
    """A non-negative finite float, or a ValueError naming the argument (Keras's check)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or math.isinf(value)
        or math.isnan(value)
        or value < 0
    ):
        raise ValueError(
            f"{who}: invalid value for argument {name}: expected a non-negative float; "
            f"received {name}={value!r}"
        )
    return float(value)


class Regularizer:
    """Base class of regularizers: subclass it and implement ``__call__`` and ``get_config``.

    Example::

        class L2Regularizer(gpuk.regularizers.Regularizer):
            def __init__(self, l2=0.0):
                self.l2 = l2

            def __call__(self, x):
                return self.l2 * gpuk.ops.sum(gpuk.ops.square(x))

            def get_config(self):
                return {"l2": float(self.l2)}
    """

    def __call__(self, x):
        """Return the penalty for weight ``x`` (0.0 for the base class)."""
        return 0.0

    @classmethod
    def from_config(cls, config):
        """Rebuild a regularizer from :meth:`get_config`'s output."""
        return cls(**config)

    def get_config(self):
        """The constructor arguments as a JSON-serializable dict (subclasses implement it)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement get_config()")

    def __repr__(self):
        try:
            args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        except NotImplementedError:
            args = ""
        return f"{type(self).__name__}({args})"


class L1L2(Regularizer):
    """``l1 * sum(|x|) + l2 * sum(x**2)``.

    Args:
        l1: non-negative L1 factor (None means 0).
        l2: non-negative L2 factor (None means 0).
    """

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = _factor(0.0 if l1 is None else l1, "l1", "L1L2")
        self.l2 = _factor(0.0 if l2 is None else l2, "l2", "L1L2")

    def __call__(self, x):
        x = as_tensor(x)
        # A zero of x's dtype and device (0 * sum(x) would turn an inf weight into nan).
        penalty = Tensor(as_array(0.0, like=x.data))
        if self.l1:
            penalty = ops.add(penalty, ops.multiply(ops.sum(ops.abs(x)), self.l1))
        if self.l2:
            penalty = ops.add(penalty, ops.multiply(ops.sum(ops.square(x)), self.l2))
        return penalty

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(Regularizer):
    """``l1 * sum(|x|)``.

    Args:
        l1: non-negative factor (None means 0.01). tf.keras's spelling ``l=`` is accepted.
    """

    def __init__(self, l1=0.01, **kwargs):
        l1 = kwargs.pop("l", l1)
        if kwargs:
            raise TypeError(f"L1: unexpected arguments {sorted(kwargs)}")
        self.l1 = _factor(0.01 if l1 is None else l1, "l1", "L1")

    def __call__(self, x):
        return ops.multiply(ops.sum(ops.abs(x)), self.l1)

    def get_config(self):
        return {"l1": self.l1}


class L2(Regularizer):
    """``l2 * sum(x**2)`` (no 0.5 factor).

    Args:
        l2: non-negative factor (None means 0.01). tf.keras's spelling ``l=`` is accepted.
    """

    def __init__(self, l2=0.01, **kwargs):
        l2 = kwargs.pop("l", l2)
        if kwargs:
            raise TypeError(f"L2: unexpected arguments {sorted(kwargs)}")
        self.l2 = _factor(0.01 if l2 is None else l2, "l2", "L2")

    def __call__(self, x):
        return ops.multiply(ops.sum(ops.square(x)), self.l2)

    def get_config(self):
        return {"l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """Pushes the rows (or columns) of a 2-D weight towards mutual orthogonality.

    The penalty is ``factor * 0.5 * sum(|P - diag(P)|) / (n * (n - 1) / 2)`` where ``P`` holds
    the dot products of the L2-normalized rows (``mode="rows"``) or columns, ``n`` of them. Rows
    are normalized as Keras does: ``x * min(1 / sqrt(sum(x**2)), 1 / epsilon)``.

    Args:
        factor: non-negative factor.
        mode: ``"rows"`` or ``"columns"``.
    """

    def __init__(self, factor=0.01, mode="rows"):
        self.factor = _factor(factor, "factor", "OrthogonalRegularizer")
        if mode not in ("rows", "columns"):
            raise ValueError(
                "OrthogonalRegularizer: invalid value for argument mode; expected 'rows' or "
                f"'columns'; received mode={mode!r}"
            )
        self.mode = mode

    def __call__(self, x):
        x = as_tensor(x)
        if x.ndim != 2:
            raise ValueError(
                f"Inputs to OrthogonalRegularizer must have rank 2; received shape={x.shape}"
            )
        if self.mode == "columns":
            x = ops.transpose(x)
        squares = ops.sum(ops.square(x), axis=1, keepdims=True)
        inverse_norm = ops.minimum(ops.divide(1.0, ops.sqrt(squares)), 1.0 / epsilon())
        rows = ops.multiply(x, inverse_norm)
        product = ops.matmul(rows, ops.transpose(rows))
        size = x.shape[0]
        off_diagonal = ops.multiply(product, 1.0 - _eye_like(product.data, size))
        pairs = size * (size - 1.0) / 2.0
        return ops.multiply(ops.sum(ops.abs(off_diagonal)), self.factor * 0.5 / pairs)

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode}


def _eye_like(array, size):
    return get_array_module(array).eye(size, dtype=array.dtype)


l1 = L1
l2 = L2
l1_l2 = L1L2
orthogonal_regularizer = OrthogonalRegularizer

_BUILTINS = {
    "Regularizer": Regularizer,
    "L1": L1,
    "L2": L2,
    "L1L2": L1L2,
    "OrthogonalRegularizer": OrthogonalRegularizer,
    "regularizer": Regularizer,
    "l1": L1,
    "l2": L2,
    "l1l2": L1L2,
    "orthogonal_regularizer": OrthogonalRegularizer,
}


def serialize(regularizer):
    """The legacy-form config ``{"class_name": ..., "config": {...}}`` of a regularizer."""
    return serialize_keras_object(regularizer)


def deserialize(config, custom_objects=None):
    """A regularizer from a name or a config dict (legacy or Keras 3 form).

    Raises:
        ValueError: for unknown names (the message lists the known ones).
    """
    if config == "l1_l2":
        return L1L2(l1=0.01, l2=0.01)
    return deserialize_keras_object(config, _BUILTINS, custom_objects, "regularizer")


def get(identifier):
    """Resolve a regularizer identifier.

    Args:
        identifier: None (returned as None), a name (``"l2"``, ``"L1L2"``, ``"l1_l2"``), a config
            dict in legacy or Keras 3 form, a class (instantiated with defaults), an instance or
            any callable ``fn(weight) -> scalar``.

    Raises:
        ValueError: for unknown names (listing the known ones).
        TypeError: for identifiers of another type.
    """
    return get_object(identifier, deserialize, "regularizer")
