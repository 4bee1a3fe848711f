"""Layer wrappers: ``Wrapper`` base and ``TimeDistributed``."""

from gpuk import ops
from gpuk.layers.base import Layer, is_shape


class Wrapper(Layer):
    """A layer that holds another layer (``self.layer``) and serializes it in its config."""

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(
                f"{type(self).__name__}: `layer` must be a Layer instance, received {layer!r}"
            )
        super().__init__(**kwargs)
        self.layer = layer

    def get_config(self):
        from gpuk.layers.serialization import serialize

        config = super().get_config()
        config["layer"] = serialize(self.layer)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from gpuk.layers.base import standardize_dtype
        from gpuk.layers.serialization import deserialize

        config = dict(config)
        config["layer"] = deserialize(config["layer"], custom_objects=custom_objects)
        if isinstance(config.get("dtype"), dict):
            config["dtype"] = standardize_dtype(config["dtype"])
        return cls(**config)


class TimeDistributed(Wrapper):
    """Apply ``layer`` to every time step: inputs ``(batch, time, ...)``.

    Example::

        x = gpuk.layers.TimeDistributed(gpuk.layers.Dense(8))(inputs)  # (None, 10, 8)
    """

    supports_masking = True

    def _inner_shape(self, input_shape):
        if not is_shape(input_shape) or len(input_shape) < 3:
            raise ValueError(
                f"TimeDistributed {self.name!r} needs an input of rank >= 3 (batch, time, ...), "
                f"received input shape {input_shape}"
            )
        return (None, *tuple(input_shape)[2:])

    def build(self, input_shape):
        self.layer._maybe_build(self._inner_shape(input_shape))
        self.built = True

    def compute_output_shape(self, input_shape):
        inner = self.layer.compute_output_shape(self._inner_shape(input_shape))
        return (input_shape[0], input_shape[1], *tuple(inner)[1:])

    def call(self, inputs, training=None, mask=None):
        shape = tuple(inputs.shape)
        flat = ops.reshape(inputs, (shape[0] * shape[1], *shape[2:]))
        kwargs = {}
        if self.layer._call_has_training:
            kwargs["training"] = training
        outputs = self.layer(flat, **kwargs)
        return ops.reshape(outputs, (shape[0], shape[1], *tuple(outputs.shape)[1:]))

    def compute_mask(self, inputs, mask=None):
        return mask
