"""Spatial reshaping layers: ``ZeroPadding1D/2D/3D``, ``Cropping1D/2D/3D``,
``UpSampling1D/2D/3D`` and ``SpatialDropout1D/2D/3D`` (Keras 3's arguments and configs)."""

import numpy as np

from gpuk import ops
from gpuk._array import asarray, get_array_module
from gpuk.autograd import Tensor
from gpuk.layers.base import InputSpec, Layer
from gpuk.layers.convolutional import (
    check_rank,
    join_channels,
    layer_data_format,
    positive_tuple,
    split_channels,
)


class _SpatialLayer(Layer):
    """Data-moving layers keep the input dtype."""

    rank = 2

    def _output_dtype(self, input_dtypes):
        return input_dtypes[0]

    def _spatial_axes(self):
        start = 2 if self.data_format == "channels_first" else 1
        return tuple(range(start, start + self.rank))


def _pairs(layer, value, rank, name):
    """Keras's padding/cropping spellings as ``((before, after), ...)`` of ``rank`` pairs."""
    label = f"{type(layer).__name__} {layer.name!r}"
    try:
        if isinstance(value, (int, np.integer)):
            pairs = ((int(value), int(value)),) * rank
        elif rank == 1:
            values = tuple(int(v) for v in value)
            if len(values) != 2:
                raise ValueError
            pairs = (values,)
        elif all(isinstance(v, (int, np.integer)) for v in value):
            if len(value) != rank:
                raise ValueError
            pairs = tuple((int(v), int(v)) for v in value)
        else:
            pairs = tuple((int(a), int(b)) for a, b in value)
            if len(pairs) != rank:
                raise ValueError
    except (TypeError, ValueError):
        shape = (
            "an int or a tuple of 2 ints"
            if rank == 1
            else (f"an int, a tuple of {rank} ints or a tuple of {rank} tuples of 2 ints")
        )
        raise ValueError(
            f"{label}: `{name}` should be {shape}. Received: {name}={value!r}."
        ) from None
    if any(v < 0 for pair in pairs for v in pair):
        raise ValueError(f"{label}: `{name}` cannot be negative. Received: {name}={value!r}.")
    return pairs


class _ZeroPadding(_SpatialLayer):
    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = layer_data_format(self, data_format)
        self.padding = _pairs(self, padding, self.rank, "padding")
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def call(self, inputs):
        width = [(0, 0)] * inputs.ndim
        for axis, pair in zip(self._spatial_axes(), self.padding):
            width[axis] = pair
        return ops.pad(inputs, width)

    def compute_output_shape(self, input_shape):
        input_shape = check_rank(self, input_shape, self.rank)
        spatial, channels = split_channels(input_shape, self.data_format)
        out = [None if n is None else n + a + b for n, (a, b) in zip(spatial, self.padding)]
        return join_channels(input_shape[0], out, channels, self.data_format)

    def get_config(self):
        config = super().get_config()
        padding = self.padding[0] if self.rank == 1 else self.padding
        config.update({"padding": padding, "data_format": self.data_format})
        return config


class ZeroPadding1D(_ZeroPadding):
    """Pad the steps axis with zeros: ``padding`` is an int or ``(before, after)``."""

    rank = 1


class ZeroPadding2D(_ZeroPadding):
    """Pad height and width with zeros: ``padding`` is an int, ``(rows, cols)`` (symmetric) or
    ``((top, bottom), (left, right))``."""

    rank = 2

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class ZeroPadding3D(_ZeroPadding):
    """Pad three spatial axes with zeros (spellings as :class:`ZeroPadding2D`)."""

    rank = 3

    def __init__(self, padding=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class _Cropping(_SpatialLayer):
    def __init__(self, cropping, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = layer_data_format(self, data_format)
        self.cropping = _pairs(self, cropping, self.rank, "cropping")
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def call(self, inputs):
        key = [slice(None)] * inputs.ndim
        for axis, (a, b) in zip(self._spatial_axes(), self.cropping):
            key[axis] = slice(a, inputs.shape[axis] - b)
        return inputs[tuple(key)]

    def compute_output_shape(self, input_shape):
        input_shape = check_rank(self, input_shape, self.rank)
        spatial, channels = split_channels(input_shape, self.data_format)
        out = []
        for n, (a, b) in zip(spatial, self.cropping):
            if n is not None and n - a - b <= 0:
                raise ValueError(
                    f"Layer {self.name!r} ({type(self).__name__}): cropping {self.cropping} "
                    f"leaves nothing of input shape {input_shape}."
                )
            out.append(None if n is None else n - a - b)
        return join_channels(input_shape[0], out, channels, self.data_format)

    def build(self, input_shape):
        self.compute_output_shape(input_shape)
        self.built = True

    def get_config(self):
        config = super().get_config()
        if self.rank == 1:
            config["cropping"] = self.cropping[0]
        else:
            config.update({"cropping": self.cropping, "data_format": self.data_format})
        return config


class Cropping1D(_Cropping):
    """Remove ``cropping = (before, after)`` steps (an int crops both ends)."""

    rank = 1

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(cropping, "channels_last", **kwargs)


class Cropping2D(_Cropping):
    """Remove rows and columns: ``cropping`` is an int, ``(rows, cols)`` or
    ``((top, bottom), (left, right))``."""

    rank = 2

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)


class Cropping3D(_Cropping):
    """Crop three spatial axes (spellings as :class:`Cropping2D`)."""

    rank = 3

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)


def _bilinear_matrix(n, scale, dtype):
    """``(n * scale, n)`` linear-interpolation weights, half-pixel centres, clamped edges."""
    out = n * scale
    src = np.clip((np.arange(out) + 0.5) / scale - 0.5, 0, n - 1)
    low = np.floor(src).astype(int)
    high = np.minimum(low + 1, n - 1)
    frac = src - low
    weights = np.zeros((out, n))
    np.add.at(weights, (np.arange(out), low), 1 - frac)
    np.add.at(weights, (np.arange(out), high), frac)
    return weights.astype(dtype)


class _UpSampling(_SpatialLayer):
    interpolations = ("nearest",)

    def __init__(self, size, data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        self.data_format = layer_data_format(self, data_format)
        self.size = positive_tuple(self, size, self.rank, "size")
        if interpolation not in self.interpolations:
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: interpolation must be one of "
                f"{', '.join(self.interpolations)}, received interpolation={interpolation!r}"
            )
        self.interpolation = interpolation
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def call(self, inputs):
        x = inputs
        for axis, factor in zip(self._spatial_axes(), self.size):
            if factor == 1:
                continue
            if self.interpolation == "nearest":
                x = ops.repeat(x, factor, axis=axis)
            else:
                weights = _bilinear_matrix(x.shape[axis], factor, x.dtype)
                weights = Tensor(asarray(weights, xp=get_array_module(x.data)))
                moved = ops.tensordot(x, ops.transpose(weights), axes=[[axis], [0]])
                order = list(range(moved.ndim))
                order.insert(axis, order.pop())
                x = ops.transpose(moved, order)
        return x

    def compute_output_shape(self, input_shape):
        input_shape = check_rank(self, input_shape, self.rank)
        spatial, channels = split_channels(input_shape, self.data_format)
        out = [None if n is None else n * f for n, f in zip(spatial, self.size)]
        return join_channels(input_shape[0], out, channels, self.data_format)


class UpSampling1D(_UpSampling):
    """Repeat each step ``size`` times."""

    rank = 1

    def __init__(self, size=2, **kwargs):
        super().__init__(size, "channels_last", **kwargs)

    def get_config(self):
        config = super().get_config()
        config["size"] = self.size[0]
        return config


class UpSampling2D(_UpSampling):
    """Upsample rows and columns by ``size`` with ``"nearest"`` (repeat) or ``"bilinear"``
    interpolation (half-pixel centres, as Keras 3's ``image.resize``)."""

    rank = 2
    interpolations = ("nearest", "bilinear")

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(size, data_format, interpolation, **kwargs)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "size": self.size,
                "data_format": self.data_format,
                "interpolation": self.interpolation,
            }
        )
        return config


class UpSampling3D(_UpSampling):
    """Repeat along three spatial axes by ``size``."""

    rank = 3

    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        super().__init__(size, data_format, **kwargs)

    def get_config(self):
        config = super().get_config()
        config.update({"size": self.size, "data_format": self.data_format})
        return config


class _SpatialDropout(_SpatialLayer):
    def __init__(self, rate, data_format=None, seed=None, **kwargs):
        kwargs.pop("noise_shape", None)  # tf.keras 2 configs carry it; the channels decide
        super().__init__(**kwargs)
        if not 0 <= rate <= 1:
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: rate must be a float in [0, 1], "
                f"received rate={rate!r}"
            )
        self.rate = rate
        self.seed = seed
        self.data_format = layer_data_format(self, data_format)
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        noise = [1] * inputs.ndim
        noise[0] = inputs.shape[0]
        channel_axis = 1 if self.data_format == "channels_first" else -1
        noise[channel_axis] = inputs.shape[channel_axis]
        return ops.dropout(inputs, self.rate, noise_shape=tuple(noise), seed=self.seed)

    def compute_output_shape(self, input_shape):
        return tuple(check_rank(self, input_shape, self.rank))

    def get_config(self):
        config = super().get_config()
        # Keras 3's SpatialDropout takes no `trainable` argument: a config carrying it would
        # not load there.
        config.pop("trainable", None)
        config.update({"rate": self.rate, "seed": self.seed})
        if self.rank > 1:
            config["data_format"] = self.data_format
        return config


class SpatialDropout1D(_SpatialDropout):
    """Drop whole channels (the same ones at every step) during training."""

    rank = 1

    def __init__(self, rate, seed=None, **kwargs):
        kwargs.pop("data_format", None)
        super().__init__(rate, "channels_last", seed, **kwargs)


class SpatialDropout2D(_SpatialDropout):
    """Drop whole feature maps during training (``rate`` of the channels, per sample)."""

    rank = 2


class SpatialDropout3D(_SpatialDropout):
    """Drop whole 3-D feature maps during training."""

    rank = 3
