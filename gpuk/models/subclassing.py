"""What makes ``Model`` subclasses behave as in Keras 3: functional-subclass detection and
base injection, auto-config of plain constructor arguments, recording of the build shape, and
the trailing-axis input adaptation of functional models.

``Model`` and ``Functional`` live in :mod:`gpuk.models.functional`, which imports this module;
the helpers that need those classes receive them as arguments.
"""

import functools
import inspect

import numpy as np

from gpuk import ops
from gpuk.autograd import Tensor
from gpuk.layers.base import flatten

_PLAIN = (str, int, float, bool, type(None))


def recording_build(build):
    """Wrap a subclass's ``build`` so the first input shape is kept for ``build_config``
    (loading replays it before reading the weights) and the model counts as built."""

    @functools.wraps(build)
    def wrapper(self, *args, **kwargs):
        shape = args[0] if args else kwargs.get("input_shape")
        if shape is not None and "_build_input_shape" not in self.__dict__:
            self.__dict__["_build_input_shape"] = shape
        result = build(self, *args, **kwargs)
        self.built = True  # as Keras's build wrapper: a later call does not build again
        return result

    wrapper._records_shape = True
    return wrapper


def functional_init_arguments(args, kwargs):
    """Keras's rule for ``Model(...)`` arguments that define a functional model."""
    return (
        len(args) == 2
        or (len(args) == 1 and "outputs" in kwargs)
        or ("inputs" in kwargs and "outputs" in kwargs)
    )


def inject_functional(cls, model_cls, functional_cls):
    """Put ``Functional`` in place of ``Model`` among ``cls``'s bases (as Keras 3 does), so a
    subclass of ``Model`` built from inputs and outputs runs the graph."""
    if cls is model_cls:
        return functional_cls
    if cls is object or issubclass(cls, functional_cls) or not issubclass(cls, model_cls):
        return cls
    cls.__bases__ = tuple(
        inject_functional(base, model_cls, functional_cls) for base in cls.__bases__
    )
    return cls


def auto_config(cls, args, kwargs):
    """The constructor arguments as a config when all are plain values (Keras 3's
    auto-config), else None."""
    try:
        names = inspect.getfullargspec(cls.__init__).args[1:]
    except TypeError:
        return None
    if len(args) > len(names):
        return None
    config = dict(kwargs)
    config.update(zip(names, args))
    if all(isinstance(v, _PLAIN) for v in flatten(list(config.values()))):
        return config
    return None


def adjust_rank(tensor, value, model_name):
    """Keras 3's input adaptation: a trailing axis of size 1 is added or dropped when that is
    the only difference between the data and the ``Input``; otherwise a clear error."""
    expected = tensor.shape
    shape = tuple(value.shape) if hasattr(value, "shape") else np.shape(value)
    rank, want = len(shape), len(expected)
    if rank == want + 1 and shape[-1] == 1:
        value = value[..., 0] if not isinstance(value, Tensor) else ops.squeeze(value, -1)
    elif rank == want - 1 and want and expected[-1] == 1:
        value = value[..., None] if not isinstance(value, Tensor) else ops.expand_dims(value, -1)
    elif rank != want:
        raise ValueError(
            f"Invalid input shape for input {tensor._keras_history[0].name!r} of model "
            f"{model_name!r}: expected shape {expected} (rank {want}), but the input has "
            f"incompatible shape {tuple(shape)} (rank {rank})."
        )
    return value


def shape_list(shape):
    """A shape (or structure of shapes) as JSON-friendly lists."""
    if isinstance(shape, dict):
        return {k: shape_list(v) for k, v in shape.items()}
    if isinstance(shape, (list, tuple)) and shape and isinstance(shape[0], (list, tuple, dict)):
        return [shape_list(s) for s in shape]
    return [None if s is None else int(s) for s in shape]
