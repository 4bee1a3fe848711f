"""Convolution layers: ``Conv1D/2D/3D`` and ``Conv1D/2D/3DTranspose`` (Keras 3's arguments,
defaults, weights ``kernel``/``bias`` and configs), computed by ``gpuk.ops.conv`` (module
``gpuk.ops.convolution``)."""

import numpy as np

from gpuk import activations, constraints, initializers, ops, regularizers
from gpuk.layers.base import InputSpec, Layer
from gpuk.ops import _windows as W
from gpuk.ops.convolution import conv_bias_relu, conv_transpose_length

_LINEAR = getattr(activations, "linear", None)


def _is_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def positive_tuple(layer, value, rank, name, allow_zero=False):
    """``value`` as ``rank`` ints, each > 0 (>= 0 with ``allow_zero``), or a clear error."""
    values = W.normalize_tuple(value, rank, name, f"{type(layer).__name__} {layer.name!r}")
    if any(v < 0 or (v == 0 and not allow_zero) for v in values):
        raise ValueError(
            f"{type(layer).__name__} {layer.name!r}: the argument `{name}` cannot contain "
            f"{'negative values' if allow_zero else '0 or negative values'}. "
            f"Received {name}={value!r}."
        )
    return values


def layer_data_format(layer, data_format):
    return W.normalize_data_format(data_format, f"{type(layer).__name__} {layer.name!r}")


def layer_padding(layer, padding, allow_causal=False):
    return W.normalize_padding(
        padding, f"{type(layer).__name__} {layer.name!r}", allow_causal=allow_causal
    )


def check_rank(layer, input_shape, rank):
    """Raise a ValueError naming the layer when the input is not ``rank + 2``-D."""
    input_shape = tuple(input_shape)
    if len(input_shape) != rank + 2:
        raise ValueError(
            f"Input 0 of layer {layer.name!r} ({type(layer).__name__}) is incompatible with the "
            f"layer: expected ndim={rank + 2}, found ndim={len(input_shape)}. Full shape "
            f"received: {input_shape}"
        )
    return input_shape


def split_channels(input_shape, data_format):
    """``(spatial sizes, channels)`` of a shape."""
    if data_format == "channels_first":
        return tuple(input_shape[2:]), input_shape[1]
    return tuple(input_shape[1:-1]), input_shape[-1]


def join_channels(batch, spatial, channels, data_format):
    if data_format == "channels_first":
        return (batch, channels, *spatial)
    return (batch, *spatial, channels)


def add_bias(x, bias, data_format, rank):
    if data_format == "channels_first":
        bias = ops.reshape(bias, (bias.shape[0],) + (1,) * rank)
    return ops.add(x, bias)


def apply_activation(activation, x):
    if activation is not None and activation is not _LINEAR:
        return activation(x)
    return x


def positive_int(layer, value, name):
    """``value`` as an int > 0, or a ValueError naming the layer and the argument."""
    if not _is_int(value) or value <= 0:
        raise ValueError(
            f"{type(layer).__name__} {layer.name!r}: invalid value for argument `{name}`. "
            f"Expected a strictly positive integer. Received {name}={value!r}."
        )
    return int(value)


def set_window_args(layer, kernel_size, strides, dilation_rate, padding, data_format, causal):
    """Validate and set a convolution's window arguments on ``layer`` (``rank`` from it)."""
    rank = layer.rank
    layer.kernel_size = positive_tuple(layer, kernel_size, rank, "kernel_size")
    layer.strides = positive_tuple(layer, strides, rank, "strides")
    layer.dilation_rate = positive_tuple(layer, dilation_rate, rank, "dilation_rate")
    layer.padding = layer_padding(layer, padding, allow_causal=causal)
    layer.data_format = layer_data_format(layer, data_format)
    if max(layer.strides) > 1 and max(layer.dilation_rate) > 1:
        raise ValueError(
            f"{type(layer).__name__} {layer.name!r}: `strides > 1` not supported in conjunction "
            f"with `dilation_rate > 1`. Received: strides={layer.strides} and "
            f"dilation_rate={layer.dilation_rate}"
        )


def conv_output_spatial(layer, input_shape):
    """``(input_shape, input channels, output spatial sizes)`` of a strided convolution."""
    input_shape = check_rank(layer, input_shape, layer.rank)
    spatial, channels = split_channels(input_shape, layer.data_format)
    out = []
    for n, k, s, d in zip(spatial, layer.kernel_size, layer.strides, layer.dilation_rate):
        length = W.output_length(n, k, s, d, layer.padding)
        if length is not None and length <= 0:
            raise ValueError(
                f"Layer {layer.name!r} ({type(layer).__name__}): the kernel "
                f"(kernel_size={layer.kernel_size}, dilation_rate={layer.dilation_rate}) is "
                f"larger than the input with padding={layer.padding!r}: input shape "
                f"{input_shape} would give a non-positive output size."
            )
        out.append(length)
    return input_shape, channels, out


def bias_weight(layer, size):
    """The layer's ``bias`` weight of shape ``(size,)``, or None without ``use_bias``."""
    if not layer.use_bias:
        return None
    return layer.add_weight(
        name="bias",
        shape=(size,),
        initializer=layer.bias_initializer,
        regularizer=layer.bias_regularizer,
        constraint=layer.bias_constraint,
    )


class BaseConv(Layer):
    """Shared machinery of ``Conv1D/2D/3D``; subclasses set ``rank``."""

    rank = 2

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        groups=1,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        lora_rank=None,
        lora_alpha=None,
        **kwargs,
    ):
        kwargs.pop("quantization_config", None)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        rank = self.rank
        label = f"{type(self).__name__} {self.name!r}"
        if filters is not None and (not _is_int(filters) or filters <= 0):
            raise ValueError(
                f"{label}: invalid value for argument `filters`. Expected a strictly positive "
                f"integer. Received filters={filters!r}."
            )
        if not _is_int(groups) or groups <= 0:
            raise ValueError(
                f"{label}: the number of groups must be a positive integer. "
                f"Received: groups={groups!r}."
            )
        if filters is not None and filters % groups:
            raise ValueError(
                f"{label}: the number of filters must be evenly divisible by the number of "
                f"groups. Received: groups={groups}, filters={filters}."
            )
        self.filters = None if filters is None else int(filters)
        self.groups = int(groups)
        set_window_args(self, kernel_size, strides, dilation_rate, padding, data_format, rank == 1)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.lora_rank = lora_rank
        self.lora_alpha = lora_alpha if lora_alpha is not None else lora_rank
        self.input_spec = InputSpec(min_ndim=rank + 2)

    def _channel_axis(self):
        return 1 if self.data_format == "channels_first" else -1

    def _input_channels(self, input_shape):
        input_shape = check_rank(self, input_shape, self.rank)
        channels = input_shape[self._channel_axis()]
        if channels is None:
            raise ValueError(
                f"Layer {self.name!r} ({type(self).__name__}) needs the channel dimension of its "
                f"input to be known ({self.data_format}), received input shape {input_shape}."
            )
        return channels

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        if channels % self.groups:
            raise ValueError(
                f"Layer {self.name!r} ({type(self).__name__}): the number of input channels "
                f"must be evenly divisible by the number of groups. Received groups="
                f"{self.groups}, but the input has {channels} channels (full input shape is "
                f"{tuple(input_shape)})."
            )
        self.compute_output_shape(input_shape)
        self.kernel = self.add_weight(
            name="kernel",
            shape=(*self.kernel_size, channels // self.groups, self.filters),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.bias = bias_weight(self, self.filters)
        self.input_spec = InputSpec(min_ndim=self.rank + 2, axes={self._channel_axis(): channels})
        self.built = True

    def convolution_op(self, inputs, kernel):
        return ops.conv(
            inputs,
            kernel,
            strides=self.strides,
            padding=self.padding,
            data_format=self.data_format,
            dilation_rate=self.dilation_rate,
        )

    def call(self, inputs):
        if type(self).convolution_op is not BaseConv.convolution_op:
            x = self.convolution_op(inputs, self.kernel)  # a subclass's own convolution
            if self.use_bias:
                x = add_bias(x, self.bias, self.data_format, self.rank)
            return apply_activation(self.activation, x)
        # bias and ReLU are applied in place on the convolution's output (one graph node)
        relu = self.activation is activations.relu
        x = conv_bias_relu(
            inputs,
            self.kernel,
            self.bias if self.use_bias else None,
            relu,
            strides=self.strides,
            padding=self.padding,
            data_format=self.data_format,
            dilation_rate=self.dilation_rate,
        )
        return x if relu else apply_activation(self.activation, x)

    def compute_output_shape(self, input_shape):
        input_shape, _, out = conv_output_spatial(self, input_shape)
        return join_channels(input_shape[0], out, self.filters, self.data_format)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "filters": self.filters,
                "kernel_size": self.kernel_size,
                "strides": self.strides,
                "padding": self.padding,
                "data_format": self.data_format,
                "dilation_rate": self.dilation_rate,
                "groups": self.groups,
                "activation": activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                "activity_regularizer": regularizers.serialize(self.activity_regularizer),
                "kernel_constraint": constraints.serialize(self.kernel_constraint),
                "bias_constraint": constraints.serialize(self.bias_constraint),
            }
        )
        if self.lora_rank:
            config["lora_rank"] = self.lora_rank
            config["lora_alpha"] = self.lora_alpha
        return config


class Conv1D(BaseConv):
    """1-D convolution over ``(batch, steps, channels)`` (``channels_last``).

    Args:
        filters: number of output channels.
        kernel_size, strides, dilation_rate: int or 1-tuple.
        padding: ``"valid"``, ``"same"`` or ``"causal"`` (left padding only, so output ``t``
            sees inputs up to ``t``).
        data_format, groups, activation, use_bias, initializers, regularizers, constraints:
            as :class:`Conv2D`.

    Weights: ``kernel`` ``(kernel_size, channels // groups, filters)`` and ``bias``
    ``(filters,)``.
    """

    rank = 1


class Conv2D(BaseConv):
    """2-D convolution over ``(batch, height, width, channels)`` (``channels_last``) or
    ``(batch, channels, height, width)`` (``channels_first``).

    Args:
        filters: number of output channels.
        kernel_size: int or 2-tuple.
        strides: int or 2-tuple (1).
        padding: ``"valid"`` (default) or ``"same"``.
        data_format: ``"channels_last"`` (default: ``keras.config.image_data_format()``) or
            ``"channels_first"``.
        dilation_rate: int or 2-tuple (1).
        groups: splits the channels into independent groups (must divide both the input
            channels and ``filters``).
        activation: applied to the output (``None``: linear).
        use_bias, kernel_initializer (``glorot_uniform``), bias_initializer (``zeros``),
        kernel_regularizer, bias_regularizer, activity_regularizer, kernel_constraint,
        bias_constraint: as :class:`gpuk.layers.Dense`.

    Weights: ``kernel`` ``(*kernel_size, channels // groups, filters)``, ``bias``
    ``(filters,)``. Computed as one matrix product per call (im2col).
    """

    rank = 2


class Conv3D(BaseConv):
    """3-D convolution over ``(batch, depth, height, width, channels)`` (see :class:`Conv2D`)."""

    rank = 3


class BaseConvTranspose(Layer):
    """Shared machinery of ``Conv1D/2D/3DTranspose``; subclasses set ``rank``."""

    rank = 2

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        output_padding=None,
        data_format=None,
        dilation_rate=1,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        groups = kwargs.pop("groups", 1)  # tf.keras 2 configs of transposed convs carry it
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        rank = self.rank
        label = f"{type(self).__name__} {self.name!r}"
        if groups not in (1, None):
            raise ValueError(f"{label}: transposed convolutions support only groups=1")
        self.filters = positive_int(self, filters, "filters")
        self.kernel_size = positive_tuple(self, kernel_size, rank, "kernel_size")
        self.strides = positive_tuple(self, strides, rank, "strides")
        self.dilation_rate = positive_tuple(self, dilation_rate, rank, "dilation_rate")
        self.padding = layer_padding(self, padding)
        self.output_padding = None
        if output_padding is not None:
            self.output_padding = positive_tuple(
                self, output_padding, rank, "output_padding", allow_zero=True
            )
            for op, s in zip(self.output_padding, self.strides):
                if op >= s:
                    raise ValueError(
                        f"{label}: strides {self.strides} must be greater than output padding "
                        f"{self.output_padding}."
                    )
        self.data_format = layer_data_format(self, data_format)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = InputSpec(min_ndim=rank + 2)

    def build(self, input_shape):
        input_shape = check_rank(self, input_shape, self.rank)
        axis = 1 if self.data_format == "channels_first" else -1
        channels = input_shape[axis]
        if channels is None:
            raise ValueError(
                f"Layer {self.name!r} ({type(self).__name__}) needs the channel dimension of its "
                f"input to be known, received input shape {input_shape}."
            )
        self.kernel = self.add_weight(
            name="kernel",
            shape=(*self.kernel_size, self.filters, channels),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.bias = bias_weight(self, self.filters)
        self.input_spec = InputSpec(min_ndim=self.rank + 2, axes={axis: channels})
        self.built = True

    def call(self, inputs):
        x = ops.conv_transpose(
            inputs,
            self.kernel,
            strides=self.strides,
            padding=self.padding,
            output_padding=self.output_padding,
            data_format=self.data_format,
            dilation_rate=self.dilation_rate,
        )
        if self.use_bias:
            x = add_bias(x, self.bias, self.data_format, self.rank)
        return apply_activation(self.activation, x)

    def compute_output_shape(self, input_shape):
        input_shape = check_rank(self, input_shape, self.rank)
        spatial, _ = split_channels(input_shape, self.data_format)
        paddings = self.output_padding or (None,) * self.rank
        out = [
            conv_transpose_length(n, k, s, d, self.padding, op)
            for n, k, s, d, op in zip(
                spatial, self.kernel_size, self.strides, self.dilation_rate, paddings
            )
        ]
        return join_channels(input_shape[0], out, self.filters, self.data_format)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "filters": self.filters,
                "kernel_size": self.kernel_size,
                "strides": self.strides,
                "padding": self.padding,
                "output_padding": self.output_padding,
                "data_format": self.data_format,
                "dilation_rate": self.dilation_rate,
                "activation": activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                "activity_regularizer": regularizers.serialize(self.activity_regularizer),
                "kernel_constraint": constraints.serialize(self.kernel_constraint),
                "bias_constraint": constraints.serialize(self.bias_constraint),
            }
        )
        return config


class Conv1DTranspose(BaseConvTranspose):
    """1-D transposed convolution (see :class:`Conv2DTranspose`)."""

    rank = 1


class Conv2DTranspose(BaseConvTranspose):
    """2-D transposed convolution ("deconvolution"), the gradient of :class:`Conv2D`.

    Args:
        filters, kernel_size, strides, padding (``"valid"``/``"same"``), data_format,
        dilation_rate, activation, use_bias, initializers, regularizers, constraints: as
        :class:`Conv2D`.
        output_padding: int or tuple added to the end of each spatial axis (each < its
            stride); ``None`` lets Keras's rule choose the output size (``input * stride`` for
            ``"same"``).

    Weights: ``kernel`` ``(*kernel_size, filters, in_channels)``, ``bias`` ``(filters,)``.
    """

    rank = 2


class Conv3DTranspose(BaseConvTranspose):
    """3-D transposed convolution (see :class:`Conv2DTranspose`)."""

    rank = 3
