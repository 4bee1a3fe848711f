"""``Input`` and ``InputLayer``: where a symbolic layer graph starts."""

from gpuk.layers.base import KerasTensor, Layer, Node, normalize_shape, standardize_dtype


class InputLayer(Layer):
    """The layer behind ``Input``: it owns the graph's entry tensor and has no weights.

    Args:
        shape: shape without the batch axis, e.g. ``(None, 42)``.
        batch_size: fixed batch size, or None.
        dtype: dtype of the data fed (``floatx()`` by default).
        sparse, ragged: accepted; gpuk has dense tensors only.
        batch_shape: full shape including the batch axis (instead of shape/batch_size).
        input_tensor: an existing KerasTensor to wrap.
        name: layer name, ``input_layer`` (made unique) by default.
        **kwargs: the legacy spellings ``input_shape`` and ``batch_input_shape``.
    """

    def __init__(
        self,
        shape=None,
        batch_size=None,
        dtype=None,
        sparse=None,
        ragged=None,
        batch_shape=None,
        input_tensor=None,
        optional=False,
        name=None,
        **kwargs,
    ):
        if "input_shape" in kwargs:
            shape = kwargs.pop("input_shape")
        if "batch_input_shape" in kwargs:
            batch_shape = kwargs.pop("batch_input_shape")
        kwargs.pop("trainable", None)
        super().__init__(name=name, dtype=dtype, **kwargs)
        if input_tensor is not None:
            batch_shape = input_tensor.shape
            dtype = input_tensor.dtype
        else:
            if shape is not None and batch_shape is not None:
                raise ValueError(
                    f"InputLayer {self.name!r}: pass either shape={shape} or "
                    f"batch_shape={batch_shape}, not both."
                )
            if shape is None and batch_shape is None:
                raise ValueError(f"InputLayer {self.name!r}: you must pass a `shape` argument.")
            if shape is not None:
                shape = (shape,) if isinstance(shape, int) else tuple(shape)
                batch_shape = (batch_size, *shape)
        self._batch_shape = normalize_shape(batch_shape)
        self.dtype = standardize_dtype(dtype)
        self.sparse = bool(sparse)
        self.ragged = bool(ragged)
        self.optional = optional
        if input_tensor is None:
            input_tensor = KerasTensor(self._batch_shape, dtype=self.dtype, name=self.name)
        input_tensor._keras_history = (self, 0, 0)
        self._input_tensor = input_tensor
        self._inbound_nodes.append(Node(self, (), {}, input_tensor))
        self.built = True

    def call(self):
        return None

    @property
    def batch_shape(self):
        return self._batch_shape

    @property
    def output(self):
        return self._input_tensor

    def get_config(self):
        # batch_input_shape rather than Keras 3's batch_shape: both Keras 3 and tf.keras accept
        # it, while tf.keras rejects batch_shape (keras-formats.md section 3.5).
        return {
            "batch_input_shape": list(self._batch_shape),
            "dtype": self.dtype,
            "sparse": self.sparse,
            "name": self.name,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("ragged", "optional", "trainable"):
            config.pop(key, None)
        return cls(**config)


def Input(  # noqa: N802 - Keras's spelling
    shape=None,
    batch_size=None,
    dtype=None,
    sparse=None,
    batch_shape=None,
    name=None,
    tensor=None,
    optional=False,
    ragged=None,
):
    """Start a functional model: return a symbolic tensor of the given shape.

    Example::

        inputs = gpuk.Input(shape=(None, 42), name="main_input")
        inputs.shape  # (None, None, 42)

    Args:
        shape: shape without the batch axis; ``None`` entries are unknown sizes.
        batch_size: fixed batch size, or None.
        dtype: dtype of the data fed (``floatx()`` by default).
        sparse: accepted for compatibility.
        batch_shape: full shape including the batch axis.
        name: name of the input (and of its InputLayer).
        tensor: an existing KerasTensor to wrap.
        optional, ragged: accepted for compatibility.

    Returns:
        A ``KerasTensor``.
    """
    layer = InputLayer(
        shape=shape,
        batch_size=batch_size,
        dtype=dtype,
        sparse=sparse,
        ragged=ragged,
        batch_shape=batch_shape,
        input_tensor=tensor,
        optional=optional,
        name=name,
    )
    return layer.output
