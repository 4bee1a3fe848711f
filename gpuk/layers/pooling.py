"""Pooling layers: ``MaxPooling1D/2D/3D``, ``AveragePooling1D/2D/3D``, the global poolings and
Keras 3.15's ``AdaptiveAveragePooling1D/2D/3D``/``AdaptiveMaxPooling1D/2D/3D``."""

from gpuk import ops
from gpuk.layers.base import InputSpec, Layer
from gpuk.layers.convolutional import (
    check_rank,
    join_channels,
    layer_data_format,
    layer_padding,
    positive_tuple,
    split_channels,
)
from gpuk.ops import _windows as W


class _KeepDtype(Layer):
    def _output_dtype(self, input_dtypes):
        return input_dtypes[0]


class BasePooling(_KeepDtype):
    """Shared machinery of the windowed poolings; subclasses set ``rank`` and ``mode``."""

    rank = 2
    mode = "max"

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.pool_size = positive_tuple(self, pool_size, self.rank, "pool_size")
        self.strides = (
            self.pool_size
            if strides is None
            else positive_tuple(self, strides, self.rank, "strides")
        )
        self.padding = layer_padding(self, padding)
        self.data_format = layer_data_format(self, data_format)
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def call(self, inputs):
        pool = ops.max_pool if self.mode == "max" else ops.average_pool
        return pool(inputs, self.pool_size, self.strides, self.padding, self.data_format)

    def compute_output_shape(self, input_shape):
        input_shape = check_rank(self, input_shape, self.rank)
        spatial, channels = split_channels(input_shape, self.data_format)
        out = []
        for n, k, s in zip(spatial, self.pool_size, self.strides):
            length = W.output_length(n, k, s, 1, self.padding)
            if length is not None and length <= 0:
                raise ValueError(
                    f"Layer {self.name!r} ({type(self).__name__}): pool_size {self.pool_size} is "
                    f"larger than the input with padding={self.padding!r} (input shape "
                    f"{input_shape}); the output would be empty."
                )
            out.append(length)
        return join_channels(input_shape[0], out, channels, self.data_format)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "pool_size": self.pool_size,
                "padding": self.padding,
                "strides": self.strides,
                "data_format": self.data_format,
            }
        )
        return config


class MaxPooling1D(BasePooling):
    """Max over windows of ``pool_size`` steps (``strides`` defaults to ``pool_size``)."""

    rank, mode = 1, "max"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class MaxPooling2D(BasePooling):
    """Max over ``pool_size`` windows of the two spatial axes.

    Args:
        pool_size: int or 2-tuple, ``(2, 2)`` by default.
        strides: int or 2-tuple; ``None`` (default) means ``pool_size``.
        padding: ``"valid"`` or ``"same"``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
    """

    rank, mode = 2, "max"

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class MaxPooling3D(BasePooling):
    """Max over ``pool_size`` windows of the three spatial axes (see :class:`MaxPooling2D`)."""

    rank, mode = 3, "max"

    def __init__(
        self, pool_size=(2, 2, 2), strides=None, padding="valid", data_format=None, **kwargs
    ):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class AveragePooling1D(BasePooling):
    """Average over windows of ``pool_size`` steps (``pool_size`` is required, as Keras 3)."""

    rank, mode = 1, "average"


class AveragePooling2D(BasePooling):
    """Average over ``pool_size`` windows; with ``"same"`` padding each window is averaged over
    its real elements only (as TensorFlow/JAX). Arguments as :class:`MaxPooling2D`, but
    ``pool_size`` is required, as in Keras 3."""

    rank, mode = 2, "average"


class AveragePooling3D(BasePooling):
    """Average over ``pool_size`` windows of three spatial axes (see :class:`AveragePooling2D`)."""

    rank, mode = 3, "average"


class BaseGlobalPooling(_KeepDtype):
    """Reduce every spatial axis: ``(batch, *spatial, channels) -> (batch, channels)``."""

    rank = 2
    mode = "max"

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = layer_data_format(self, data_format)
        self.keepdims = keepdims
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def _axes(self):
        start = 2 if self.data_format == "channels_first" else 1
        return tuple(range(start, start + self.rank))

    def call(self, inputs):
        reduce = ops.max if self.mode == "max" else ops.mean
        return reduce(inputs, axis=self._axes(), keepdims=self.keepdims)

    def compute_output_shape(self, input_shape):
        input_shape = check_rank(self, input_shape, self.rank)
        _, channels = split_channels(input_shape, self.data_format)
        if self.keepdims:
            return join_channels(input_shape[0], (1,) * self.rank, channels, self.data_format)
        return (input_shape[0], channels)

    def get_config(self):
        config = super().get_config()
        config.update({"data_format": self.data_format, "keepdims": self.keepdims})
        return config


class GlobalMaxPooling1D(BaseGlobalPooling):
    """Maximum over the steps axis (see :class:`GlobalMaxPooling2D`)."""

    rank, mode = 1, "max"


class GlobalMaxPooling2D(BaseGlobalPooling):
    """Maximum over the spatial axes.

    Args:
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        keepdims: keep the reduced axes with length 1.
    """

    rank, mode = 2, "max"


class GlobalMaxPooling3D(BaseGlobalPooling):
    """Maximum over the three spatial axes (see :class:`GlobalMaxPooling2D`)."""

    rank, mode = 3, "max"


class GlobalAveragePooling1D(BaseGlobalPooling):
    """Mean over the steps axis; with a mask (e.g. from ``Embedding(mask_zero=True)``), the mean
    of the unmasked steps only. Arguments as :class:`GlobalMaxPooling2D`."""

    rank, mode = 1, "average"
    supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            return super().call(inputs)
        axis = self._axes()[0]
        weights = ops.expand_dims(ops.cast(mask, inputs.dtype), 1 if axis == 2 else 2)
        total = ops.sum(ops.multiply(inputs, weights), axis=axis, keepdims=self.keepdims)
        return ops.divide(total, ops.sum(weights, axis=axis, keepdims=self.keepdims))

    def compute_mask(self, inputs, mask=None):
        return None


class GlobalAveragePooling2D(BaseGlobalPooling):
    """Mean over the spatial axes (see :class:`GlobalMaxPooling2D`)."""

    rank, mode = 2, "average"


class GlobalAveragePooling3D(BaseGlobalPooling):
    """Mean over the three spatial axes (see :class:`GlobalMaxPooling2D`)."""

    rank, mode = 3, "average"


class BaseAdaptivePooling(_KeepDtype):
    """Pool each spatial axis into ``output_size`` bins (PyTorch's bins, as Keras 3.15)."""

    rank = 2
    mode = "average"

    def __init__(self, output_size, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.output_size = positive_tuple(self, output_size, self.rank, "output_size")
        self.data_format = layer_data_format(self, data_format)
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def call(self, inputs):
        pool = ops.adaptive_max_pool if self.mode == "max" else ops.adaptive_average_pool
        return pool(inputs, self.output_size, data_format=self.data_format)

    def compute_output_shape(self, input_shape):
        input_shape = check_rank(self, input_shape, self.rank)
        _, channels = split_channels(input_shape, self.data_format)
        return join_channels(input_shape[0], self.output_size, channels, self.data_format)

    def get_config(self):
        config = super().get_config()
        config.update({"output_size": self.output_size, "data_format": self.data_format})
        return config


class AdaptiveAveragePooling1D(BaseAdaptivePooling):
    """Average into ``output_size`` bins along the steps axis."""

    rank, mode = 1, "average"


class AdaptiveAveragePooling2D(BaseAdaptivePooling):
    """Average into ``output_size`` (int or 2-tuple) bins along the spatial axes: bin ``i`` of
    an axis of length ``n`` covers ``floor(i * n / out)`` to ``ceil((i + 1) * n / out)``."""

    rank, mode = 2, "average"


class AdaptiveAveragePooling3D(BaseAdaptivePooling):
    """Average into ``output_size`` bins along three spatial axes."""

    rank, mode = 3, "average"


class AdaptiveMaxPooling1D(BaseAdaptivePooling):
    """Maximum over ``output_size`` bins along the steps axis."""

    rank, mode = 1, "max"


class AdaptiveMaxPooling2D(BaseAdaptivePooling):
    """Maximum over ``output_size`` bins along the spatial axes (see
    :class:`AdaptiveAveragePooling2D`)."""

    rank, mode = 2, "max"


class AdaptiveMaxPooling3D(BaseAdaptivePooling):
    """Maximum over ``output_size`` bins along three spatial axes."""

    rank, mode = 3, "max"
