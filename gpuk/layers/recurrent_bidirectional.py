"""``Bidirectional``: run a recurrent layer forwards and backwards and merge the outputs (Keras 3).

The wrapped layer is copied through its config twice: ``forward_<name>`` and
``backward_<name>`` (with ``go_backwards=True``), unless ``backward_layer`` is given. Weights
are the forward layer's followed by the backward layer's, with paths such as
``bidirectional/forward_gru/gru_cell/kernel``. As in Keras 3, both copies output zeros at masked
steps when they return sequences, and the backward sequence is flipped back to input time order
before merging.
"""

from gpuk import ops
from gpuk.layers.base import Layer
from gpuk.layers.serialization import deserialize, register_layer_class, serialize
from gpuk.layers.wrappers import Wrapper

__all__ = ["Bidirectional"]

_MERGE_MODES = ("sum", "mul", "ave", "concat", None)


def _renamed_copy(layer, prefix, **overrides):
    config = serialize(layer)
    name = layer.name[len(prefix) :] if layer.name.startswith(prefix) else layer.name
    config["config"] = dict(config["config"], name=prefix + name, **overrides)
    return deserialize(config)


class Bidirectional(Wrapper):
    """Bidirectional wrapper for RNNs.

    Args:
        layer: a recurrent layer instance (``GRU``, ``LSTM``, ``SimpleRNN``).
        merge_mode: ``"concat"`` (default), ``"sum"``, ``"mul"``, ``"ave"`` or None (return
            the two outputs as a list).
        backward_layer: optional recurrent layer used for the backward direction; it must have
            ``go_backwards=True`` and the same ``return_sequences``/``return_state``/``stateful``.
        weights: optional initial weights (forward half, then backward half).
    """

    supports_masking = True

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(f"Bidirectional: `layer` must be a Layer instance, received {layer!r}")
        if backward_layer is not None and not isinstance(backward_layer, Layer):
            raise ValueError(
                "Bidirectional: `backward_layer` must be a Layer instance, received "
                f"{backward_layer!r}"
            )
        if merge_mode not in _MERGE_MODES:
            raise ValueError(
                f"Bidirectional: invalid merge_mode {merge_mode!r}; expected one of "
                '"sum", "mul", "ave", "concat" or None'
            )
        forward = _renamed_copy(layer, "forward_")
        super().__init__(forward, **kwargs)
        self.forward_layer = forward
        if backward_layer is None:
            backward_layer = _renamed_copy(layer, "backward_", go_backwards=True)
        self.backward_layer = backward_layer
        if self.forward_layer.go_backwards == self.backward_layer.go_backwards:
            raise ValueError(
                f"Bidirectional {self.name!r}: forward and backward layers must have different "
                f"go_backwards values, received {self.forward_layer.go_backwards} for both"
            )
        for attribute in ("stateful", "return_sequences", "return_state"):
            ours = getattr(self.forward_layer, attribute)
            theirs = getattr(self.backward_layer, attribute)
            if ours != theirs:
                raise ValueError(
                    f"Bidirectional {self.name!r}: forward and backward layers must have the "
                    f"same {attribute}, received {ours} and {theirs}"
                )
        for sub in (self.forward_layer, self.backward_layer):
            if hasattr(sub, "zero_output_for_mask"):
                sub.zero_output_for_mask = sub.return_sequences
        self.merge_mode = merge_mode
        self.stateful = self.forward_layer.stateful
        self.return_sequences = self.forward_layer.return_sequences
        self.return_state = self.forward_layer.return_state
        self._bidirectional_weights = weights

    def build(self, input_shape):
        self.forward_layer._maybe_build(input_shape)
        self.backward_layer._maybe_build(input_shape)
        for sub in (self.forward_layer, self.backward_layer):
            for variable in sub.weights:
                variable.path = f"{self.name}/{variable.path}"
        if self._bidirectional_weights is not None:
            self.set_weights(self._bidirectional_weights)
            self._bidirectional_weights = None
        self.built = True

    def compute_output_shape(self, input_shape):
        output = self.forward_layer.compute_output_shape(input_shape)
        states = []
        if self.return_state:
            output, states = output[0], list(output[1:])
        if self.merge_mode == "concat":
            output = (*tuple(output)[:-1], output[-1] * 2)
        elif self.merge_mode is None:
            output = [output, output]
        if self.return_state:
            outputs = output if self.merge_mode is None else [output]
            return outputs + states + states
        return output

    def call(self, inputs, mask=None, training=None, initial_state=None):
        forward_state = backward_state = None
        if initial_state is not None:
            half = len(initial_state) // 2
            forward_state, backward_state = initial_state[:half], initial_state[half:]
        y = self.forward_layer(inputs, mask=mask, training=training, initial_state=forward_state)
        y_rev = self.backward_layer(
            inputs, mask=mask, training=training, initial_state=backward_state
        )
        states = []
        if self.return_state:
            states = list(y[1:]) + list(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = ops.getitem(y_rev, (slice(None), slice(None, None, -1)))
        if self.merge_mode == "concat":
            output = ops.concatenate([y, y_rev], axis=-1)
        elif self.merge_mode == "sum":
            output = ops.add(y, y_rev)
        elif self.merge_mode == "ave":
            output = ops.multiply(ops.add(y, y_rev), 0.5)
        elif self.merge_mode == "mul":
            output = ops.multiply(y, y_rev)
        else:
            output = [y, y_rev]
        if self.return_state:
            return (output if self.merge_mode is None else [output]) + states
        return output

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        output_mask = mask if self.return_sequences else None
        if self.merge_mode is None:
            output_mask = [output_mask, output_mask]
        if self.return_state:
            n_states = 2 * getattr(self.forward_layer, "_n_states", lambda: 1)()
            outputs = output_mask if self.merge_mode is None else [output_mask]
            return outputs + [None] * n_states
        return output_mask

    def reset_states(self, states=None):
        self.forward_layer.reset_states()
        self.backward_layer.reset_states()

    reset_state = reset_states

    def get_config(self):
        config = super().get_config()
        config["merge_mode"] = self.merge_mode
        config["backward_layer"] = serialize(self.backward_layer)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        config["layer"] = deserialize(config["layer"], custom_objects=custom_objects)
        backward = config.pop("backward_layer", None)
        if backward is not None:
            config["backward_layer"] = deserialize(backward, custom_objects=custom_objects)
        if isinstance(config.get("dtype"), dict):
            from gpuk.layers.base import standardize_dtype

            config["dtype"] = standardize_dtype(config["dtype"])
        return cls(**config)


register_layer_class(Bidirectional)
