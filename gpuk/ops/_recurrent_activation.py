"""The one enumeration of the activations the recurrent ops differentiate by hand.

Shared by the layers (``gpuk.layers.recurrent`` maps Keras's activation functions onto it),
the ops (``gpuk.ops.recurrent`` take the member's :attr:`~Activation.op_name`) and the fused
kernels' launchers (which pass :attr:`~Activation.value`, the code ``kernels/common.cuh``'s
``GpukActivation`` enum switches on: ``GPUK_<NAME>``). A name has one spelling everywhere;
``hard_sigmoid_legacy`` is the Keras 1/2 and tf.keras hard sigmoid ``clip(0.2 x + 0.5, 0, 1)``,
``hard_sigmoid`` Keras 3's ``clip(x / 6 + 0.5, 0, 1)``.
"""

import enum


class Activation(enum.IntEnum):
    """A hand-differentiated activation; the value is its kernel code (``GPUK_<NAME>``)."""

    LINEAR = 0
    TANH = 1
    SIGMOID = 2
    RELU = 3
    HARD_SIGMOID = 4
    HARD_SIGMOID_LEGACY = 5

    @property
    def op_name(self):
        """The name the ops and layers use: ``"tanh"``, ``"hard_sigmoid_legacy"``, ..."""
        return self.name.lower()

    @classmethod
    def named(cls, name):
        """The member called ``name`` (an op name such as ``"tanh"``), or None for anything else
        (an unknown name, a callable)."""
        if isinstance(name, cls):
            return name
        if not isinstance(name, str):
            return None
        return cls.__members__.get(name.upper()) if name == name.lower() else None


#: The op names of all members, in code order.
NAMES = tuple(member.op_name for member in Activation)
