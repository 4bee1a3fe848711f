"""Colour image layers (Keras 3's formulas): contrast, brightness, grayscale, invert,
solarization, posterization, auto-contrast, colour degeneration, saturation, hue, sharpness and
colour jitter. Images are ``(N, H, W, C)`` in ``value_range`` (``(0, 255)`` by default)."""

import numpy as np

from gpuk._array import get_array_module, ndimage
from gpuk.layers.preprocessing.image_base import BaseImagePreprocessingLayer

__all__ = [
    "AutoContrast",
    "RandomBrightness",
    "RandomColorDegeneration",
    "RandomColorJitter",
    "RandomContrast",
    "RandomGrayscale",
    "RandomHue",
    "RandomInvert",
    "RandomPosterization",
    "RandomSaturation",
    "RandomSharpness",
    "Solarization",
]

_GRAY = (0.2989, 0.5870, 0.1140)


def _value_range(value_range):
    if not isinstance(value_range, (tuple, list)) or len(value_range) != 2:
        raise ValueError(
            "The `value_range` argument should be a list of two numbers. "
            f"Received: value_range={value_range}"
        )
    return sorted(value_range)


def _rescale(images, source, target):
    if tuple(source) == tuple(target):
        return images
    return (images - source[0]) * ((target[1] - target[0]) / (source[1] - source[0])) + target[0]


def _col(xp, values, dtype, ndim=4):
    return xp.asarray(np.asarray(values, dtype=dtype).reshape((-1,) + (1,) * (ndim - 1)))


class _ColorLayer(BaseImagePreprocessingLayer):
    """Colour layers compute channels-last; channels-first inputs are transposed around."""

    def transform_images(self, images, transformation, training=True):
        if not training or transformation is None:
            return images
        if self.data_format == "channels_first":
            return self._color(images.transpose(0, 2, 3, 1), transformation).transpose(0, 3, 1, 2)
        return self._color(images, transformation)

    def _color(self, images, transformation):
        raise NotImplementedError


def grayscale(images):
    """Keras's ``rgb_to_grayscale`` (ITU-R 601 weights), channels-last, keeps one channel."""
    xp = get_array_module(images)
    weights = xp.asarray(np.asarray(_GRAY, dtype=images.dtype))
    return xp.tensordot(images, weights, axes=([-1], [0]))[..., None]


def rgb_to_hsv(images):
    xp = get_array_module(images)
    eps = np.finfo(images.dtype).eps
    images = xp.where(xp.abs(images) < eps, 0.0, images).astype(images.dtype)
    r, g, b = images[..., 0], images[..., 1], images[..., 2]
    value = xp.maximum(xp.maximum(r, g), b)
    spread = value - xp.minimum(xp.minimum(r, g), b)
    safe_value = xp.where(value > 0, value, 1.0)
    safe_spread = xp.where(spread > 0, spread, 1.0)
    saturation = xp.where(value > 0, spread / safe_value, 0.0)
    norm = 1.0 / (6.0 * safe_spread)
    hue = xp.where(value == g, norm * (b - r) + 2.0 / 6.0, norm * (r - g) + 4.0 / 6.0)
    hue = xp.where(value == r, norm * (g - b), hue)
    hue = xp.where(spread > 0, hue, 0.0) + (hue < 0.0).astype(hue.dtype)
    return xp.stack([hue, saturation, value], axis=-1).astype(images.dtype)


def hsv_to_rgb(images):
    xp = get_array_module(images)
    hue, saturation, value = images[..., 0], images[..., 1], images[..., 2]
    dh = xp.mod(hue, 1.0) * 6.0
    dr = xp.clip(xp.abs(dh - 3.0) - 1.0, 0.0, 1.0)
    dg = xp.clip(2.0 - xp.abs(dh - 2.0), 0.0, 1.0)
    db = xp.clip(2.0 - xp.abs(dh - 4.0), 0.0, 1.0)
    base = 1.0 - saturation
    out = [value * (base + saturation * d) for d in (dr, dg, db)]
    return xp.stack(out, axis=-1).astype(images.dtype)


class RandomContrast(_ColorLayer):
    """Scale each image's deviation from its per-channel mean by ``1 + u``, ``u`` in
    ``[-factor, factor]``, then clip to ``value_range``."""

    _FACTOR_BOUNDS = (0, 1)

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(factor=factor, seed=seed, **kwargs)
        self.value_range = value_range

    def get_random_transformation(self, data, training=True, seed=None):
        n = data.shape[0]
        if not training:
            return {"contrast_factor": np.zeros((n, 1, 1, 1))}
        factor = self.rng.uniform(1.0 - self.factor[0], 1.0 + self.factor[1], (n, 1, 1, 1))
        return {"contrast_factor": factor.astype(self.compute_dtype)}

    def _color(self, images, transformation):
        xp = get_array_module(images)
        factor = _col(xp, transformation["contrast_factor"], images.dtype)
        mean = images.mean(axis=1, keepdims=True).mean(axis=2, keepdims=True)
        out = (images - mean) * factor + mean
        return xp.clip(out, self.value_range[0], self.value_range[1])

    def get_config(self):
        config = super().get_config()
        config.update({"factor": self.factor, "value_range": self.value_range, "seed": self.seed})
        return config


class RandomBrightness(_ColorLayer):
    """Add ``u * (max - min)`` of ``value_range``, ``u`` in ``factor``'s range; then clip."""

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(factor=factor, seed=seed, **kwargs)
        self.value_range = _value_range(value_range)

    def get_random_transformation(self, data, training=True, seed=None):
        n = data.shape[0]
        if not training:
            return {"rgb_delta": np.zeros((n, 1, 1, 1))}
        delta = self.rng.uniform(self.factor[0], self.factor[1], (n, 1, 1, 1))
        return {"rgb_delta": delta * (self.value_range[1] - self.value_range[0])}

    def _color(self, images, transformation):
        xp = get_array_module(images)
        out = images + _col(xp, transformation["rgb_delta"], images.dtype)
        return xp.clip(out, self.value_range[0], self.value_range[1])

    def get_config(self):
        config = super().get_config()
        config.update({"factor": self.factor, "value_range": self.value_range, "seed": self.seed})
        return config


class RandomGrayscale(_ColorLayer):
    """Turn each image grayscale (kept in 3 channels) with probability ``factor``."""

    _USE_BASE_FACTOR = False

    def __init__(self, factor=0.5, data_format=None, seed=None, **kwargs):
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        if factor < 0 or factor > 1:
            raise ValueError(f"`factor` should be between 0 and 1. Received: factor={factor}")
        self.factor = factor

    def get_random_transformation(self, data, training=True, seed=None):
        return (self.rng.uniform(0, 1, data.shape[0]) < self.factor).reshape(-1, 1, 1, 1)

    def _color(self, images, transformation):
        xp = get_array_module(images)
        return xp.where(xp.asarray(np.asarray(transformation)), grayscale(images), images)

    def get_config(self):
        config = super().get_config()
        config.update({"factor": self.factor, "data_format": self.data_format})
        return config


class RandomInvert(_ColorLayer):
    """Invert (``max - x``) each image with probability drawn from ``factor``."""

    _USE_BASE_FACTOR = False

    def __init__(self, factor=1.0, value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        self._FACTOR_BOUNDS = (0, 1)
        self._set_factor(factor)
        self.value_range = value_range

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        n = data.shape[0]
        probability = self.rng.uniform(self.factor[0], self.factor[1], n)
        return {"apply_inversion": self.rng.uniform(0, 1, n) < probability}

    def _color(self, images, transformation):
        xp = get_array_module(images)
        apply = _col(xp, transformation["apply_inversion"], bool)
        return xp.where(apply, self.value_range[1] - images, images)

    def get_config(self):
        config = super().get_config()
        config.update({"factor": self.factor, "value_range": self.value_range, "seed": self.seed})
        return config


class Solarization(_ColorLayer):
    """Add a random amount, then invert pixels above a random threshold (on a 0-255 scale).

    Args:
        addition_factor: fraction of 255 added (a number or a range in ``[0, 1]``).
        threshold_factor: fraction of 255 above which pixels are inverted.
    """

    _USE_BASE_FACTOR = False

    def __init__(
        self, addition_factor=0.0, threshold_factor=0.0, value_range=(0, 255), seed=None, **kwargs
    ):
        super().__init__(seed=seed, **kwargs)
        self._FACTOR_BOUNDS = (0, 1)
        self._set_factor(addition_factor)
        self.addition_factor = self.factor
        self._set_factor(threshold_factor)
        self.threshold_factor = self.factor
        self.value_range = value_range

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        shape = (data.shape[0], 1, 1, 1)
        additions = self.rng.uniform(self.addition_factor[0], self.addition_factor[1] * 255, shape)
        thresholds = self.rng.uniform(
            self.threshold_factor[0], self.threshold_factor[1] * 255, shape
        )
        return {"additions": additions, "thresholds": thresholds}

    def _color(self, images, transformation):
        xp = get_array_module(images)
        x = _rescale(images, self.value_range, (0, 255))
        out = xp.clip(x + _col(xp, transformation["additions"], images.dtype), 0, 255)
        out = xp.where(out < _col(xp, transformation["thresholds"], images.dtype), out, 255 - out)
        return _rescale(out, (0, 255), self.value_range).astype(images.dtype)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "value_range": self.value_range,
                "addition_factor": self.addition_factor,
                "threshold_factor": self.threshold_factor,
                "seed": self.seed,
            }
        )
        return config


class RandomPosterization(_ColorLayer):
    """Keep only ``factor`` bits (1-8) of each 8-bit colour value."""

    _USE_BASE_FACTOR = False

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        self._FACTOR_BOUNDS = (1, 8)
        self._set_factor(factor)
        self.value_range = _value_range(value_range)

    def get_random_transformation(self, data, training=True, seed=None):
        n = data.shape[0]
        low, high = int(self.factor[0]), int(self.factor[1])
        bits = self.rng.integers(low, high, n) if low != high else np.full(n, low)
        return {"shift_factor": (8 - bits).astype(np.uint8)}

    def _color(self, images, transformation):
        xp = get_array_module(images)
        shift = _col(xp, transformation["shift_factor"], np.uint8)
        x = _rescale(images, self.value_range, (0, 255)).astype(np.uint8)
        x = xp.left_shift(xp.right_shift(x, shift), shift).astype(images.dtype)
        return _rescale(x, (0, 255), self.value_range)

    def get_config(self):
        config = super().get_config()
        config.update({"factor": self.factor, "value_range": self.value_range, "seed": self.seed})
        return config


class AutoContrast(_ColorLayer):
    """Stretch each image's channels to span the whole ``value_range`` (deterministic)."""

    _USE_BASE_FACTOR = False

    def __init__(self, value_range=(0, 255), **kwargs):
        super().__init__(**kwargs)
        self.value_range = _value_range(value_range)

    def get_random_transformation(self, data, training=True, seed=None):
        return {}

    def transform_images(self, images, transformation=None, training=True):
        if self.data_format == "channels_first":
            return self._color(images.transpose(0, 2, 3, 1), {}).transpose(0, 3, 1, 2)
        return self._color(images, {})

    def _color(self, images, transformation):
        xp = get_array_module(images)
        x = _rescale(images, self.value_range, (0, 255))
        low = x.min(axis=(1, 2), keepdims=True)
        high = x.max(axis=(1, 2), keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = 255.0 / (high - low)
            out = xp.clip(x * scale - low * scale, 0.0, 255.0)
        out = _rescale(out, (0, 255), self.value_range)
        return xp.where(xp.isnan(out), images, out).astype(images.dtype)

    def get_config(self):
        config = super().get_config()
        config["value_range"] = self.value_range
        return config


class RandomColorDegeneration(_ColorLayer):
    """Blend each image towards its grayscale version by a random ``factor`` in ``[0, 1]``."""

    _USE_BASE_FACTOR = False

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        self._FACTOR_BOUNDS = (0, 1)
        self._set_factor(factor)
        self.value_range = _value_range(value_range)

    def get_random_transformation(self, data, training=True, seed=None):
        n = data.shape[0]
        return {"factor": self.rng.uniform(self.factor[0], self.factor[1], (n, 1, 1, 1))}

    def _color(self, images, transformation):
        xp = get_array_module(images)
        factor = _col(xp, transformation["factor"], images.dtype)
        out = images + factor * (grayscale(images) - images)
        return xp.clip(out, self.value_range[0], self.value_range[1]).astype(images.dtype)

    def get_config(self):
        config = super().get_config()
        config.update({"factor": self.factor, "value_range": self.value_range, "seed": self.seed})
        return config


class RandomSaturation(_ColorLayer):
    """Scale the HSV saturation by ``f / (1 - f)``, ``f`` drawn from ``factor`` in ``[0, 1]``
    (0.5 keeps the image, 0 makes it gray)."""

    _FACTOR_BOUNDS = (0, 1)

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(factor=factor, data_format=data_format, seed=seed, **kwargs)
        self.value_range = _value_range(value_range)

    def get_random_transformation(self, data, training=True, seed=None):
        factor = self.rng.uniform(self.factor[0], self.factor[1], data.shape[0])
        return {"factor": factor / (1 - factor + 1e-7)}

    def _color(self, images, transformation):
        xp = get_array_module(images)
        hsv = rgb_to_hsv(images)
        factor = _col(xp, transformation["factor"], images.dtype, 3)
        s = xp.clip(hsv[..., 1] * factor, self.value_range[0], self.value_range[1])
        return hsv_to_rgb(xp.stack([hsv[..., 0], s, hsv[..., 2]], axis=-1))

    def get_config(self):
        config = super().get_config()
        config.update({"factor": self.factor, "value_range": self.value_range, "seed": self.seed})
        return config


class RandomHue(_ColorLayer):
    """Rotate the HSV hue by up to ``factor / 2`` of a turn, in a random direction."""

    _FACTOR_BOUNDS = (0, 1)

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(factor=factor, data_format=data_format, seed=seed, **kwargs)
        self.value_range = value_range

    def get_random_transformation(self, data, training=True, seed=None):
        n = data.shape[0]
        invert = np.where(self.rng.uniform(size=n) > 0.5, -1.0, 1.0)
        factor = self.rng.uniform(self.factor[0], self.factor[1], n)
        return {"factor": invert * factor * 0.5}

    def _color(self, images, transformation):
        xp = get_array_module(images)
        x = _rescale(images, self.value_range, (0, 1)).astype(images.dtype)
        hsv = rgb_to_hsv(x)
        h = hsv[..., 0] + _col(xp, transformation["factor"], images.dtype, 3)
        h = xp.where(h > 1.0, h - 1.0, h)
        h = xp.where(h < 0.0, h + 1.0, h)
        out = xp.clip(hsv_to_rgb(xp.stack([h, hsv[..., 1], hsv[..., 2]], axis=-1)), 0, 1)
        return _rescale(out, (0, 1), self.value_range).astype(images.dtype)

    def get_config(self):
        config = super().get_config()
        config.update({"factor": self.factor, "value_range": self.value_range, "seed": self.seed})
        return config


class RandomSharpness(_ColorLayer):
    """Blend with a 3x3 smoothed image: ``factor`` 0 blurs, 0.5 keeps, 1 sharpens."""

    _USE_BASE_FACTOR = False

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        self._FACTOR_BOUNDS = (0, 1)
        self._set_factor(factor)
        self.value_range = _value_range(value_range)

    def get_random_transformation(self, data, training=True, seed=None):
        return {"factor": self.rng.uniform(self.factor[0], self.factor[1], data.shape[0])}

    def _color(self, images, transformation):
        xp = get_array_module(images)
        a, b = 1.0 / 13.0, 5.0 / 13.0
        kernel = np.array([[a, a, a], [a, b, a], [a, a, a]], dtype=images.dtype)
        kernel = xp.asarray(kernel[None, :, :, None])
        smoothed = ndimage(xp).correlate(images, kernel, mode="constant", cval=0.0)
        factor = _col(xp, np.asarray(transformation["factor"]) * 2, images.dtype)
        out = images + (1.0 - factor) * (smoothed - images)
        return xp.clip(out, self.value_range[0], self.value_range[1])

    def get_config(self):
        config = super().get_config()
        config.update({"factor": self.factor, "value_range": self.value_range, "seed": self.seed})
        return config


class RandomColorJitter(_ColorLayer):
    """Brightness, contrast, saturation and hue jitter in that order (each when its factor is
    given), through the corresponding layers, as Keras's ``RandomColorJitter``."""

    _USE_BASE_FACTOR = False

    def __init__(
        self,
        value_range=(0, 255),
        brightness_factor=None,
        contrast_factor=None,
        saturation_factor=None,
        hue_factor=None,
        seed=None,
        data_format=None,
        **kwargs,
    ):
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        self.value_range = value_range
        self.brightness_factor = brightness_factor
        self.contrast_factor = contrast_factor
        self.saturation_factor = saturation_factor
        self.hue_factor = hue_factor
        s = self.seed
        self._steps = [
            RandomBrightness(brightness_factor, value_range, seed=s) if brightness_factor else None,
            RandomContrast(contrast_factor, value_range, seed=s) if contrast_factor else None,
            RandomSaturation(saturation_factor, value_range, seed=s) if saturation_factor else None,
            RandomHue(hue_factor, value_range, seed=s) if hue_factor else None,
        ]

    def get_random_transformation(self, data, training=True, seed=None):
        return {} if training else None

    def _color(self, images, transformation):
        for step in self._steps:
            if step is not None:
                images = step._color(images, step.get_random_transformation(images))
        return images

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "value_range": self.value_range,
                "brightness_factor": self.brightness_factor,
                "contrast_factor": self.contrast_factor,
                "saturation_factor": self.saturation_factor,
                "hue_factor": self.hue_factor,
                "seed": self.seed,
            }
        )
        return config
