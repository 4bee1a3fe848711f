"""Noise and regularization layers (GaussianNoise, GaussianDropout, AlphaDropout,
ActivityRegularization) and the stateless Rescaling and Identity layers, as Keras 3."""

import math

import numpy as np

from gpuk import backend, ops, regularizers
from gpuk.autograd import Tensor, as_array
from gpuk.layers.base import Layer
from gpuk.ops.random import random_normal, random_uniform

__all__ = [
    "ActivityRegularization",
    "AlphaDropout",
    "GaussianDropout",
    "GaussianNoise",
    "Identity",
    "Rescaling",
]

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


class _ShapePreserving(Layer):
    supports_masking = True

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.built = True

    def compute_output_shape(self, input_shape):
        return input_shape


def _check_rate(name, value):
    if not 0 <= value <= 1:
        raise ValueError(
            f"Invalid value received for argument `{name}`. Expected a float value between 0 "
            f"and 1. Received: {name}={value}"
        )


class GaussianNoise(_ShapePreserving):
    """Add zero-mean Gaussian noise of standard deviation ``stddev`` during training."""

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(**kwargs)
        _check_rate("stddev", stddev)
        self.stddev = stddev
        self.seed = seed

    def call(self, inputs, training=False):
        if training and self.stddev > 0:
            noise = random_normal(inputs.shape, 0.0, self.stddev, dtype=inputs.dtype)
            return inputs + noise
        return inputs

    def get_config(self):
        config = super().get_config()
        config.update({"stddev": self.stddev, "seed": self.seed})
        return config


class GaussianDropout(_ShapePreserving):
    """Multiply by ``N(1, sqrt(rate / (1 - rate)))`` noise during training."""

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        _check_rate("rate", rate)
        self.rate = rate
        self.seed = seed

    def call(self, inputs, training=False):
        if training and self.rate > 0:
            stddev = math.sqrt(self.rate / (1.0 - self.rate))
            return inputs * random_normal(inputs.shape, 1.0, stddev, dtype=inputs.dtype)
        return inputs

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "seed": self.seed})
        return config


class AlphaDropout(_ShapePreserving):
    """Dropout that keeps the mean and variance of SELU activations: dropped units are set to
    SELU's negative saturation, then an affine map restores the statistics (training only)."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        _check_rate("rate", rate)
        self.rate = rate
        self.noise_shape = noise_shape
        self.seed = seed

    def call(self, inputs, training=False):
        if not (training and self.rate > 0):
            return inputs
        shape = inputs.shape
        if self.noise_shape is not None:
            shape = tuple(shape[i] if s is None else s for i, s in enumerate(self.noise_shape))
        keep = as_array(random_uniform(shape, dtype=inputs.dtype)) >= self.rate
        kept = Tensor(keep.astype(inputs.dtype))
        alpha_p = -_SELU_ALPHA * _SELU_SCALE
        a = ((1 - self.rate) * (1 + self.rate * alpha_p**2)) ** -0.5
        b = -a * alpha_p * self.rate
        x = inputs * kept + alpha_p * (1 - kept)
        return a * x + b

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "seed": self.seed, "noise_shape": self.noise_shape})
        return config


class ActivityRegularization(_ShapePreserving):
    """Identity that adds ``l1 * sum(|x|) + l2 * sum(x**2)`` (over the batch size) to the
    model's losses."""

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        kwargs.pop("activity_regularizer", None)
        super().__init__(activity_regularizer=regularizers.L1L2(l1=l1, l2=l2), **kwargs)
        self.l1 = l1
        self.l2 = l2

    def call(self, inputs):
        return inputs

    def get_config(self):
        config = super().get_config()
        config.pop("activity_regularizer", None)
        config.update({"l1": self.l1, "l2": self.l2})
        return config


class Identity(_ShapePreserving):
    """Return the inputs unchanged (a placeholder layer)."""

    def call(self, inputs):
        return inputs

    def _output_dtype(self, input_dtypes):
        return input_dtypes[0]

    def _convert_input(self, value):
        return value if isinstance(value, Tensor) else Tensor(as_array(value))


class Rescaling(_ShapePreserving):
    """``inputs * scale + offset`` in the layer's dtype (e.g. ``Rescaling(1 / 255)``).

    ``scale``/``offset`` may be numbers or per-channel lists.
    """

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = _from_config_value(scale)
        self.offset = _from_config_value(offset)

    def _convert_input(self, value):
        if isinstance(value, Tensor):
            return (
                ops.cast(value, self.compute_dtype) if value.dtype != self.compute_dtype else value
            )
        return Tensor(as_array(value).astype(self.compute_dtype))

    def call(self, inputs):
        dtype = np.dtype(self.compute_dtype)
        scale = np.asarray(self.scale, dtype=dtype)
        offset = np.asarray(self.offset, dtype=dtype)
        x = ops.cast(inputs, dtype.name) if inputs.dtype != dtype else inputs
        if scale.ndim > 0 and backend.image_data_format() == "channels_first":
            scale = scale.reshape(scale.shape + (1,) * (3 - scale.ndim))
        return x * scale + offset

    def get_config(self):
        config = super().get_config()
        config.update(
            {"scale": _to_config_value(self.scale), "offset": _to_config_value(self.offset)}
        )
        return config


def _to_config_value(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _from_config_value(value):
    if isinstance(value, dict) and value.get("class_name") == "__numpy__":
        return np.asarray(value["config"]["value"], dtype=value["config"].get("dtype"))
    return value
