"""Depthwise and separable convolutions: ``DepthwiseConv1D/2D``, ``SeparableConv1D/2D`` (Keras 3's
arguments, weights and configs), computed by ``gpuk.ops.depthwise_conv``/``separable_conv``."""

from gpuk import activations, constraints, initializers, ops, regularizers
from gpuk.layers.base import InputSpec, Layer
from gpuk.layers.convolutional import (
    add_bias,
    apply_activation,
    bias_weight,
    check_rank,
    conv_output_spatial,
    join_channels,
    positive_int,
    set_window_args,
    split_channels,
)

# Keys tf.keras 2 wrote into these layers' configs (inherited from its Conv), not arguments here.
_LEGACY_KEYS = ("groups", "kernel_initializer", "kernel_regularizer", "kernel_constraint")


def _drop_legacy(kwargs, depthwise):
    for key in _LEGACY_KEYS:
        kwargs.pop(key, None)
    if depthwise and kwargs.get("filters") is None:
        kwargs.pop("filters", None)
    return kwargs


class _DepthwiseBase(Layer):
    """Arguments and output shapes shared by depthwise and separable convolutions."""

    rank = 2

    def _setup(self, kernel_size, strides, padding, data_format, dilation_rate, depth_multiplier):
        self.depth_multiplier = positive_int(self, depth_multiplier, "depth_multiplier")
        set_window_args(self, kernel_size, strides, dilation_rate, padding, data_format, False)
        self.input_spec = InputSpec(min_ndim=self.rank + 2)

    def _channels(self, input_shape):
        input_shape = check_rank(self, input_shape, self.rank)
        _, channels = split_channels(input_shape, self.data_format)
        if channels is None:
            raise ValueError(
                f"Layer {self.name!r} ({type(self).__name__}) needs the channel dimension of its "
                f"input to be known, received input shape {input_shape}."
            )
        self.compute_output_shape(input_shape)
        return channels

    def _channel_spec(self, channels):
        axis = 1 if self.data_format == "channels_first" else -1
        self.input_spec = InputSpec(min_ndim=self.rank + 2, axes={axis: channels})

    def _output_channels(self, channels):
        raise NotImplementedError

    def compute_output_shape(self, input_shape):
        input_shape, channels, out = conv_output_spatial(self, input_shape)
        return join_channels(input_shape[0], out, self._output_channels(channels), self.data_format)

    def _base_config(self):
        return {
            "depth_multiplier": self.depth_multiplier,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
        }


class BaseDepthwiseConv(_DepthwiseBase):
    """Shared machinery of ``DepthwiseConv1D/2D``."""

    def __init__(
        self,
        kernel_size,
        strides=1,
        padding="valid",
        depth_multiplier=1,
        data_format=None,
        dilation_rate=1,
        activation=None,
        use_bias=True,
        depthwise_initializer="glorot_uniform",
        bias_initializer="zeros",
        depthwise_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        depthwise_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(activity_regularizer=activity_regularizer, **_drop_legacy(kwargs, True))
        self._setup(kernel_size, strides, padding, data_format, dilation_rate, depth_multiplier)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

    def _output_channels(self, channels):
        return None if channels is None else channels * self.depth_multiplier

    def build(self, input_shape):
        channels = self._channels(input_shape)
        # Keras 3 names the depthwise weight "kernel" (tf.keras: "depthwise_kernel").
        self.kernel = self.add_weight(
            name="kernel",
            shape=(*self.kernel_size, channels, self.depth_multiplier),
            initializer=self.depthwise_initializer,
            regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint,
        )
        self.bias = bias_weight(self, channels * self.depth_multiplier)
        self._channel_spec(channels)
        self.built = True

    def call(self, inputs):
        x = ops.depthwise_conv(
            inputs,
            self.kernel,
            strides=self.strides,
            padding=self.padding,
            data_format=self.data_format,
            dilation_rate=self.dilation_rate,
        )
        if self.use_bias:
            x = add_bias(x, self.bias, self.data_format, self.rank)
        return apply_activation(self.activation, x)

    def get_config(self):
        config = super().get_config()
        config.update(self._base_config())
        config.update(
            {
                "depthwise_initializer": initializers.serialize(self.depthwise_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "depthwise_regularizer": regularizers.serialize(self.depthwise_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                "activity_regularizer": regularizers.serialize(self.activity_regularizer),
                "depthwise_constraint": constraints.serialize(self.depthwise_constraint),
                "bias_constraint": constraints.serialize(self.bias_constraint),
            }
        )
        return config


class DepthwiseConv1D(BaseDepthwiseConv):
    """1-D depthwise convolution (see :class:`DepthwiseConv2D`)."""

    rank = 1


class DepthwiseConv2D(BaseDepthwiseConv):
    """Depthwise 2-D convolution: each input channel convolved with its own
    ``depth_multiplier`` filters.

    Args:
        kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias: as
        :class:`Conv2D`. depth_multiplier: filters per input channel (1).
        depthwise_initializer/regularizer/constraint, bias_*: for the two weights.

    Weights: ``kernel`` ``(*kernel_size, channels, depth_multiplier)``, ``bias``
    ``(channels * depth_multiplier,)``; output channel ``c * depth_multiplier + m``.
    """

    rank = 2


class BaseSeparableConv(_DepthwiseBase):
    """Shared machinery of ``SeparableConv1D/2D``."""

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        depth_multiplier=1,
        activation=None,
        use_bias=True,
        depthwise_initializer="glorot_uniform",
        pointwise_initializer="glorot_uniform",
        bias_initializer="zeros",
        depthwise_regularizer=None,
        pointwise_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        depthwise_constraint=None,
        pointwise_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(activity_regularizer=activity_regularizer, **_drop_legacy(kwargs, False))
        self.filters = positive_int(self, filters, "filters")
        self._setup(kernel_size, strides, padding, data_format, dilation_rate, depth_multiplier)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)
        self.pointwise_constraint = constraints.get(pointwise_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

    def _output_channels(self, channels):
        return self.filters

    def build(self, input_shape):
        channels = self._channels(input_shape)
        self.depthwise_kernel = self.add_weight(
            name="depthwise_kernel",
            shape=(*self.kernel_size, channels, self.depth_multiplier),
            initializer=self.depthwise_initializer,
            regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint,
        )
        self.pointwise_kernel = self.add_weight(
            name="pointwise_kernel",
            shape=((1,) * self.rank + (self.depth_multiplier * channels, self.filters)),
            initializer=self.pointwise_initializer,
            regularizer=self.pointwise_regularizer,
            constraint=self.pointwise_constraint,
        )
        self.bias = bias_weight(self, self.filters)
        self._channel_spec(channels)
        self.built = True

    def call(self, inputs):
        x = ops.separable_conv(
            inputs,
            self.depthwise_kernel,
            self.pointwise_kernel,
            strides=self.strides,
            padding=self.padding,
            data_format=self.data_format,
            dilation_rate=self.dilation_rate,
        )
        if self.use_bias:
            x = add_bias(x, self.bias, self.data_format, self.rank)
        return apply_activation(self.activation, x)

    def get_config(self):
        config = super().get_config()
        config.update(self._base_config())
        config["filters"] = self.filters
        config.update(
            {
                "depthwise_initializer": initializers.serialize(self.depthwise_initializer),
                "pointwise_initializer": initializers.serialize(self.pointwise_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "depthwise_regularizer": regularizers.serialize(self.depthwise_regularizer),
                "pointwise_regularizer": regularizers.serialize(self.pointwise_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                "activity_regularizer": regularizers.serialize(self.activity_regularizer),
                "depthwise_constraint": constraints.serialize(self.depthwise_constraint),
                "pointwise_constraint": constraints.serialize(self.pointwise_constraint),
                "bias_constraint": constraints.serialize(self.bias_constraint),
            }
        )
        return config


class SeparableConv1D(BaseSeparableConv):
    """1-D separable convolution (see :class:`SeparableConv2D`)."""

    rank = 1


class SeparableConv2D(BaseSeparableConv):
    """Depthwise convolution followed by a pointwise (1x1) convolution.

    Args: as :class:`Conv2D`, plus ``depth_multiplier`` and separate
    ``depthwise_*``/``pointwise_*`` initializers, regularizers and constraints.

    Weights: ``depthwise_kernel`` ``(*kernel_size, channels, depth_multiplier)``,
    ``pointwise_kernel`` ``(1, 1, channels * depth_multiplier, filters)``, ``bias``
    ``(filters,)``.
    """

    rank = 2
