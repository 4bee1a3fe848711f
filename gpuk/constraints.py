"""Weight constraints with Keras's names, defaults, configs and formulas.

A constraint is called on a weight's value after each optimizer update and returns the
projected value as a gpuk Tensor: ``w_new = constraint(w)``. Users subclass :class:`Constraint`
the Keras way::

    class WeightClip(gpuk.constraints.Constraint):
        def __init__(self, c=2):
            self.c = c

        def __call__(self, p):
            return gpuk.ops.clip(p, -self.c, self.c)

        def get_config(self):
            return {"name": self.__class__.__name__, "c": self.c}

A ``name`` key that ``__init__`` does not accept (as in the config above) is dropped with a
warning when the constraint is deserialized.

The norm-based constraints use Keras's numerics: norms are ``sqrt(sum(w**2, axis))`` and the
scale is ``desired / (epsilon + norms)`` with ``gpuk.config.epsilon()`` (1e-7 by default).
"""

from gpuk import ops
from gpuk._config import epsilon
from gpuk.autograd import as_tensor
from gpuk.utils.serialization import deserialize_keras_object, get_object, serialize_keras_object

__all__ = [
    "Constraint",
    "MaxNorm",
    "MinMaxNorm",
    "NonNeg",
    "UnitNorm",
    "deserialize",
    "get",
    "max_norm",
    "min_max_norm",
    "non_neg",
    "serialize",
    "unit_norm",
]


class Constraint:
    """Base class of weight constraints: subclass it and implement ``__call__(w)``.

    ``__call__`` takes the weight's value (a Tensor) and returns its projection; the base class
    returns ``w`` unchanged. ``get_config`` returns the constructor arguments (``{}`` here) and
    ``from_config`` calls ``cls(**config)``.
    """

    def __call__(self, w):
        """Return the projected weight (the base class returns ``w`` unchanged)."""
        return w

    def get_config(self):
        """The constructor arguments as a JSON-serializable dict."""
        return {}

    @classmethod
    def from_config(cls, config):
        """Rebuild a constraint from :meth:`get_config`'s output."""
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def _norms(w, axis):
    return ops.sqrt(ops.sum(ops.square(w), axis=axis, keepdims=True))


class MaxNorm(Constraint):
    """Rescales slices of ``w`` along ``axis`` whose L2 norm exceeds ``max_value``.

    ``w * clip(norms, 0, max_value) / (epsilon + norms)``.

    Args:
        max_value: the largest norm allowed.
        axis: the axis (int or list) the norms run over; 0 for a Dense kernel
            ``(input_dim, units)`` constrains each unit's incoming weights.
    """

    def __init__(self, max_value=2, axis=0):
        self.max_value = max_value
        self.axis = axis

    def __call__(self, w):
        w = as_tensor(w)
        norms = _norms(w, self.axis)
        desired = ops.clip(norms, 0.0, self.max_value)
        return ops.multiply(w, ops.divide(desired, ops.add(norms, epsilon())))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class MinMaxNorm(Constraint):
    """Keeps the L2 norms of slices of ``w`` along ``axis`` within ``[min_value, max_value]``.

    ``desired = rate * clip(norms, min_value, max_value) + (1 - rate) * norms`` and
    ``w * desired / (epsilon + norms)``.

    Args:
        min_value: the smallest norm allowed.
        max_value: the largest norm allowed.
        rate: how far to move towards the allowed range each time (1.0: all the way).
        axis: the axis (int or list) the norms run over.
    """

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value = min_value
        self.max_value = max_value
        self.rate = rate
        self.axis = axis

    def __call__(self, w):
        w = as_tensor(w)
        norms = _norms(w, self.axis)
        clipped = ops.clip(norms, self.min_value, self.max_value)
        desired = ops.add(ops.multiply(clipped, self.rate), ops.multiply(norms, 1.0 - self.rate))
        return ops.multiply(w, ops.divide(desired, ops.add(norms, epsilon())))

    def get_config(self):
        return {
            "min_value": self.min_value,
            "max_value": self.max_value,
            "rate": self.rate,
            "axis": self.axis,
        }


class NonNeg(Constraint):
    """Sets negative weights to zero: ``maximum(w, 0)``."""

    def __call__(self, w):
        return ops.maximum(w, 0.0)


class UnitNorm(Constraint):
    """Scales slices of ``w`` along ``axis`` to unit L2 norm: ``w / (epsilon + norms)``.

    Args:
        axis: the axis (int or list) the norms run over.
    """

    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w):
        w = as_tensor(w)
        return ops.divide(w, ops.add(_norms(w, self.axis), epsilon()))

    def get_config(self):
        return {"axis": self.axis}


max_norm = MaxNorm
min_max_norm = MinMaxNorm
non_neg = NonNeg
unit_norm = UnitNorm

_BUILTINS = {
    "Constraint": Constraint,
    "MaxNorm": MaxNorm,
    "MinMaxNorm": MinMaxNorm,
    "NonNeg": NonNeg,
    "UnitNorm": UnitNorm,
    "constraint": Constraint,
    "max_norm": MaxNorm,
    "min_max_norm": MinMaxNorm,
    "non_neg": NonNeg,
    "unit_norm": UnitNorm,
    # Keras 1/2 spellings still found in old configs.
    "maxnorm": MaxNorm,
    "nonneg": NonNeg,
    "unitnorm": UnitNorm,
}


def serialize(constraint):
    """The legacy-form config ``{"class_name": ..., "config": {...}}`` of a constraint."""
    return serialize_keras_object(constraint)


def deserialize(config, custom_objects=None):
    """A constraint from a name or a config dict (legacy or Keras 3 form).

    User classes are found through ``custom_objects`` (or a ``custom_object_scope`` /
    registration), by ``registered_name`` then ``class_name``.

    Raises:
        ValueError: for unknown names (the message lists the known ones).
    """
    return deserialize_keras_object(config, _BUILTINS, custom_objects, "constraint")


def get(identifier):
    """Resolve a constraint identifier.

    Args:
        identifier: None (returned as None), a name (``"max_norm"``, ``"NonNeg"``), a config
            dict in legacy or Keras 3 form, a class (instantiated with defaults), an instance or
            any callable ``fn(w) -> w``.

    Raises:
        ValueError: for unknown names (listing the known ones).
        TypeError: for identifiers of another type.
    """
    return get_object(identifier, deserialize, "constraint")
