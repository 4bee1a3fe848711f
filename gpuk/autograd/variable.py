"""Variable: a named, mutable Tensor that holds a model's state (weights, optimizer slots)."""

import itertools

from gpuk._array import asarray, get_array_module
from gpuk.autograd.tensor import Tensor, as_array

_unique = itertools.count()


class Variable(Tensor):
    """A mutable tensor, watched automatically by ``GradientTape`` when ``trainable``.

    Args:
        initial_value: array-like, Tensor, or a callable returning one.
        dtype: element type; defaults to the value's own (Python floats give ``floatx()``).
        trainable: whether gradients are taken with respect to it.
        name: short name such as ``"kernel"``; ``path`` adds the owner, ``"dense/kernel"``.
        constraint: optional callable applied to the value after each optimizer update.
    """

    def __init__(self, initial_value, dtype=None, trainable=True, name=None, constraint=None):
        if callable(initial_value) and not isinstance(initial_value, Tensor):
            initial_value = initial_value()
        value = as_array(initial_value)
        # A C-contiguous copy: astype keeps a Fortran layout (an orthogonal initializer's
        # transposed Q), which fused kernels such as multi-tensor Adam cannot take.
        super().__init__(value.astype(dtype or value.dtype, order="C", copy=True))
        self.trainable = bool(trainable)
        self.name = name or f"variable_{next(_unique)}"
        self.path = self.name
        self.constraint = constraint

    @property
    def requires_grad(self):
        return self.trainable or self._watched

    @requires_grad.setter
    def requires_grad(self, value):
        self._watched = bool(value) and not getattr(self, "trainable", False)

    def assign(self, value):
        """Replace the value in place of this variable (same shape); returns the variable."""
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

    def value(self):
        """Return the current value as a plain (non-variable) Tensor."""
        return Tensor(self.data)

    read_value = value

    def __repr__(self):
        return (
            f"<gpuk.Variable path={self.path!r} shape={self.shape} dtype={self.dtype.name} "
            f"trainable={self.trainable}>\n{self.numpy()!r}"
        )
