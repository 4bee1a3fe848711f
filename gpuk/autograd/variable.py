"""Variable: a named, mutable Tensor that holds a model's state (weights, optimizer slots).

Keras 3's constructor (``Variable(initializer, shape=None, dtype=None, trainable=True, ...)``)
and tf.keras's (``Variable(initial_value, ...)``) are both accepted. Initializer *names* are
resolved through a getter that ``gpuk.initializers`` registers on import, because initializers
live at a higher import level than autograd (ARCHITECTURE.md).
"""

import inspect
import itertools

import numpy as np

from gpuk._array import asarray, get_array_module
from gpuk._config import floatx
from gpuk.autograd.tensor import Tensor, as_array

_unique = itertools.count()
_initializer_getter = {"get": None}
_AGGREGATIONS = (None, "none", "mean", "sum", "only_first_replica")
_SYNCHRONIZATIONS = (None, "none", "on_read", "on_write", "auto")


def register_initializer_getter(get):
    """Called by ``gpuk.initializers``: ``get(name_or_config)`` returns an initializer."""
    _initializer_getter["get"] = get


def _resolve_initializer(identifier):
    get = _initializer_getter["get"]
    if get is None:
        raise ValueError(
            f"Variable: initializer {identifier!r} is a name, and gpuk.initializers is not "
            "imported yet to resolve it; import gpuk first."
        )
    return get(identifier)


def _takes_no_arguments(fn):
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return False
    return all(
        p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        for p in signature.parameters.values()
    )


class Variable(Tensor):
    """A mutable tensor, watched automatically by ``GradientTape`` when ``trainable``.

    Keras 3's way::

        v = gpuk.Variable(initializer="glorot_uniform", shape=(3, 4), name="w")
        v = gpuk.Variable(np.ones((3, 3)))          # an array (its dtype is kept)
        v.assign_add(np.ones((3, 3))); v.value; v.numpy(); float(v[0, 0])

    Args:
        initializer: an array-like or Tensor (the value), an initializer object or name (needs
            ``shape``), a callable ``fn(shape, dtype)`` (needs ``shape``) or a zero-argument
            callable returning the value (tf.keras). ``initial_value=`` is the tf.keras spelling.
        shape: the shape, required with an initializer; checked against an array value.
        dtype: element type; defaults to the value's own (Python floats and initializers give
            ``floatx()``).
        trainable: whether gradients are taken with respect to it.
        autocast, aggregation, synchronization: Keras 3 annotations, kept as attributes.
        name: short name such as ``"kernel"`` (no ``/``); ``path`` adds the owner
            (``"dense/kernel"``).
        constraint: optional callable applied to the value after each optimizer update.
    """

    def __init__(
        self,
        initializer=None,
        shape=None,
        dtype=None,
        trainable=True,
        autocast=True,
        aggregation="none",
        synchronization="auto",
        name=None,
        constraint=None,
        initial_value=None,
        **kwargs,
    ):
        kwargs.pop("layout", None)
        kwargs.pop("validate_shape", None)
        kwargs.pop("caching_device", None)
        kwargs.pop("import_scope", None)
        if kwargs:
            raise TypeError(f"Variable got unexpected keyword arguments {sorted(kwargs)}")
        if initializer is None and initial_value is None:
            raise ValueError("Variable needs an `initializer` (or tf.keras's `initial_value`).")
        if initializer is not None and initial_value is not None:
            raise ValueError("Variable takes `initializer` or `initial_value`, not both.")
        tf_style = initializer is None
        source = initial_value if tf_style else initializer
        if name is not None and (not isinstance(name, str) or "/" in name):
            raise ValueError(
                f"Argument `name` must be a string and cannot contain character `/`. "
                f"Received: name={name}"
            )
        if aggregation not in _AGGREGATIONS:
            raise ValueError(
                f"Invalid value for argument `aggregation`. Expected one of {_AGGREGATIONS}. "
                f"Received: aggregation={aggregation}"
            )
        if synchronization not in _SYNCHRONIZATIONS:
            raise ValueError(
                f"Invalid value for argument `synchronization`. Expected one of "
                f"{_SYNCHRONIZATIONS}. Received: synchronization={synchronization}"
            )
        value, self._initializer = self._initial_value(source, shape, dtype, tf_style)
        if dtype is not None:
            value = value.astype(np.dtype(getattr(dtype, "name", dtype)), copy=False)
        elif value.dtype.kind == "f" and value.dtype.itemsize == 8 and _from_python(source):
            value = value.astype(floatx())
        # A C-contiguous copy: astype keeps a Fortran layout (an orthogonal initializer's
        # transposed Q), which fused kernels such as multi-tensor Adam cannot take.
        super().__init__(value.astype(value.dtype, order="C", copy=True))
        if shape is not None and tuple(int(s) for s in shape) != tuple(value.shape):
            raise ValueError(
                f"Variable: initial value has shape {tuple(value.shape)}, but shape={tuple(shape)} "
                "was given."
            )
        self.trainable = bool(trainable)
        self.name = name or _auto_name()
        self.path = self.name
        self.constraint = constraint
        self.regularizer = None
        self.autocast = bool(autocast)
        self.aggregation = aggregation or "none"
        self.synchronization = synchronization or "none"

    @staticmethod
    def _initial_value(source, shape, dtype, tf_style):
        """The initial array and the initializer object (None for array values)."""
        if isinstance(source, Tensor) or not (isinstance(source, str) or callable(source)):
            return as_array(source), None
        initializer = _resolve_initializer(source) if isinstance(source, str) else source
        if shape is None:
            if tf_style or _takes_no_arguments(initializer):
                return as_array(initializer()), None
            raise ValueError(
                "When creating a Variable from an initializer, the `shape` argument should be "
                f"specified. Received: initializer={initializer} and shape={shape}"
            )
        shape = tuple(int(s) for s in shape)
        result = initializer(shape, dtype=dtype if dtype is not None else floatx())
        return asarray(result.data if isinstance(result, Tensor) else result), initializer

    @property
    def initializer(self):
        """The initializer the variable was created with (None for an array value)."""
        return self._initializer

    @property
    def requires_grad(self):
        return self.trainable or self._watched

    @requires_grad.setter
    def requires_grad(self, value):
        self._watched = bool(value) and not getattr(self, "trainable", False)

    @property
    def value(self):
        """The current value as a plain (non-variable) Tensor (Keras 3: a property)."""
        return Tensor(self.data)

    def read_value(self):
        """The current value as a plain Tensor (tf.keras spelling of :attr:`value`)."""
        return Tensor(self.data)

    def assign(self, value):
        """Replace the value in place of this variable (same shape); returns the variable."""
        data = self.data
        if (
            type(value) is type(data)
            and value.dtype == data.dtype
            and value.shape == data.shape
            and value.flags.c_contiguous
        ):
            self.data = value  # hot (metrics, optimizers): an array as the general path keeps it
            return self
        new = as_array(value, like=self.data)
        xp = get_array_module(self.data)
        new = asarray(new, dtype=self.data.dtype, xp=xp)
        if new.shape != self.data.shape:
            if new.size != self.data.size:
                raise ValueError(
                    f"Cannot assign a value of shape {tuple(new.shape)} to variable "
                    f"{self.path!r} of shape {self.shape}"
                )
            new = new.reshape(self.data.shape)
        if not new.flags.c_contiguous:
            new = xp.ascontiguousarray(new)
        self.data = new
        return self

    def assign_add(self, delta):
        """Add ``delta`` to the value; returns the variable."""
        return self.assign(self.data + as_array(delta, like=self.data))

    def assign_sub(self, delta):
        """Subtract ``delta`` from the value; returns the variable."""
        return self.assign(self.data - as_array(delta, like=self.data))

    def __repr__(self):
        return (
            f"<Variable path={self.path}, shape={self.shape}, dtype={self.dtype.name}, "
            f"value={self.numpy()}>"
        )


def _auto_name():
    """Keras's automatic names: ``variable``, then ``variable_1``, ``variable_2`` ..."""
    count = next(_unique)
    return "variable" if count == 0 else f"variable_{count}"


def _from_python(source):
    """True for Python numbers and nested lists (they take ``floatx()``, as in Keras)."""
    return isinstance(source, (float, int, list, tuple))
