"""Mixing, erasing, blurring, perspective and histogram image layers, and Pipeline.

MixUp, CutMix, RandomErasing, RandomGaussianBlur, RandomPerspective, RandomElasticTransform,
Equalization, ContrastLimitedAdaptiveHistogramEqualization, MaxNumBoundingBoxes, Pipeline.
Transforms follow Keras 3's formulas; random parameters come from the layer's seeded generator.
"""

import numpy as np

from gpuk._array import get_array_module, ndimage
from gpuk.autograd import Tensor
from gpuk.layers.base import Layer
from gpuk.layers.preprocessing.base import raw
from gpuk.layers.preprocessing.image_base import (
    BaseImagePreprocessingLayer,
    from_channels_last,
    to_channels_last,
)

__all__ = [
    "ContrastLimitedAdaptiveHistogramEqualization",
    "CutMix",
    "Equalization",
    "MaxNumBoundingBoxes",
    "MixUp",
    "Pipeline",
    "RandomErasing",
    "RandomGaussianBlur",
]


def _range(factor, bounds, name):
    message = (
        f"The `{name}` argument should be a number (or a list of two numbers) in the range "
        f"[{bounds[0]}, {bounds[1]}]. Received: {name}={factor}"
    )
    if isinstance(factor, (tuple, list)):
        if len(factor) != 2 or factor[0] > bounds[1] or factor[1] < bounds[0]:
            raise ValueError(message)
        return tuple(sorted(factor))
    if isinstance(factor, (int, float)):
        if factor < bounds[0] or factor > bounds[1]:
            raise ValueError(message)
        return (max(-abs(factor), bounds[0]), abs(factor))
    raise ValueError(message)


class _ChannelsLast(BaseImagePreprocessingLayer):
    def transform_images(self, images, transformation, training=True):
        if not training or transformation is None:
            return images
        x = to_channels_last(images, self.data_format)
        return from_channels_last(self._apply(x, transformation), self.data_format)


class MixUp(_ChannelsLast):
    """Blend each image (and label) with another of the batch: weight ~ Beta(alpha, alpha)."""

    _USE_BASE_FACTOR = False

    def __init__(self, alpha=0.2, data_format=None, seed=None, **kwargs):
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        self.alpha = alpha

    def get_random_transformation(self, data, training=True, seed=None):
        n = data.shape[0]
        return {
            "mix_weight": self.rng.beta(self.alpha, self.alpha, n),
            "permutation_order": self.rng.permutation(n),
        }

    def _apply(self, x, t):
        xp = get_array_module(x)
        weight = xp.asarray(np.asarray(t["mix_weight"], x.dtype).reshape(-1, 1, 1, 1))
        other = x[xp.asarray(np.asarray(t["permutation_order"]))]
        return weight * x + (1.0 - weight) * other

    def transform_labels(self, labels, transformation, training=True):
        if not training or transformation is None:
            return labels
        xp = get_array_module(labels)
        labels = labels.astype(self.compute_dtype)
        weight = xp.asarray(np.asarray(transformation["mix_weight"], labels.dtype).reshape(-1, 1))
        other = labels[xp.asarray(np.asarray(transformation["permutation_order"]))]
        return weight * labels + (1.0 - weight) * other

    def get_config(self):
        config = super().get_config()
        config.update({"alpha": self.alpha, "seed": self.seed})
        return config


def _box_masks(shape, x0, x1, y0, y1):
    n, h, w, _ = shape
    ys, xs = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    return (
        (xs[None] >= x0[:, None, None])
        & (xs[None] < x1[:, None, None])
        & (ys[None] >= y0[:, None, None])
        & (ys[None] < y1[:, None, None])
    )[..., None]


def _crop_bounds(rng, n, length, ratio):
    crop = ratio * length
    start = rng.uniform(0, 1, n) * (length - crop)
    return start, start + crop


class CutMix(_ChannelsLast):
    """Paste a random box from another image of the batch; labels mix by the box's area."""

    _USE_BASE_FACTOR = False

    def __init__(self, factor=1.0, seed=None, data_format=None, **kwargs):
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        self.factor = _range(factor, (0, 1), "factor")

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        x = to_channels_last(data, self.data_format)
        n, h, w = x.shape[:3]
        alpha = self.rng.uniform(self.factor[0], self.factor[1]) + 1e-6
        ratio = np.sqrt(1.0 - self.rng.beta(alpha, alpha, n))
        x0, x1 = _crop_bounds(self.rng, n, w, ratio)
        y0, y1 = _crop_bounds(self.rng, n, h, ratio)
        return {
            "permutation_order": self.rng.permutation(n),
            "batch_masks": _box_masks(x.shape, x0, x1, y0, y1),
            "mix_weight": 1.0 - (x1 - x0) * (y1 - y0) / (w * h),
        }

    def _apply(self, x, t):
        xp = get_array_module(x)
        other = x[xp.asarray(np.asarray(t["permutation_order"]))]
        return xp.where(xp.asarray(np.asarray(t["batch_masks"])), other, x)

    def transform_labels(self, labels, transformation, training=True):
        return MixUp.transform_labels(self, labels, transformation, training)

    def get_config(self):
        config = super().get_config()
        config.update({"factor": self.factor, "seed": self.seed})
        return config


class RandomErasing(_ChannelsLast):
    """Erase a random box of each image (with probability drawn from ``factor``).

    ``fill_value`` None fills with Gaussian noise times the range maximum, as Keras.
    """

    _USE_BASE_FACTOR = False

    def __init__(
        self,
        factor=1.0,
        scale=(0.02, 0.33),
        fill_value=None,
        value_range=(0, 255),
        seed=None,
        data_format=None,
        **kwargs,
    ):
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        self.factor = _range(factor, (0, 1), "factor")
        self.scale = _range(scale, (0, 1), "scale")
        self.fill_value = fill_value
        self.value_range = value_range

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        x = to_channels_last(data, self.data_format)
        n, h, w = x.shape[:3]
        weight = np.sqrt(self.rng.uniform(self.scale[0], self.scale[1], (n, 2)))
        x0, x1 = _crop_bounds(self.rng, n, w, weight[:, 0])
        y0, y1 = _crop_bounds(self.rng, n, h, weight[:, 1])
        probability = self.rng.uniform(self.factor[0], self.factor[1], n)
        apply = self.rng.uniform(0, 1, n) < probability
        if self.fill_value is None:
            fill = self.rng.normal(size=x.shape) * self.value_range[1]
        else:
            fill = np.broadcast_to(np.asarray(self.fill_value, np.float64), x.shape)
        fill = np.clip(fill, self.value_range[0], self.value_range[1])
        return {
            "apply_erasing": apply,
            "batch_masks": _box_masks(x.shape, x0, x1, y0, y1),
            "fill_value": fill.astype(self.compute_dtype),
        }

    def _apply(self, x, t):
        xp = get_array_module(x)
        masks = xp.asarray(np.asarray(t["batch_masks"]))
        erased = xp.where(masks, xp.asarray(np.asarray(t["fill_value"], x.dtype)), x)
        apply = xp.asarray(np.asarray(t["apply_erasing"]).reshape(-1, 1, 1, 1))
        return xp.where(apply, erased, x)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "factor": self.factor,
                "scale": self.scale,
                "fill_value": self.fill_value,
                "value_range": self.value_range,
                "seed": self.seed,
            }
        )
        return config


def gaussian_blur(x, kernel_size, sigma):
    """Keras's ``ops.image.gaussian_blur`` (zero padding) on ``(N, H, W, C)``."""
    xp = get_array_module(x)

    def kernel1d(size, s):
        t = np.arange(size, dtype=x.dtype) - (size - 1) / 2
        k = np.exp(-0.5 * (t / s) ** 2)
        return k / k.sum()

    kernel = np.outer(kernel1d(kernel_size[1], sigma[1]), kernel1d(kernel_size[0], sigma[0]))
    kernel = xp.asarray(kernel.astype(x.dtype)[None, :, :, None])
    return ndimage(xp).correlate(x, kernel, mode="constant", cval=0.0)


class RandomGaussianBlur(_ChannelsLast):
    """Blur each image (with probability from ``factor``) by a Gaussian of random sigma."""

    _USE_BASE_FACTOR = False

    def __init__(
        self,
        factor=1.0,
        kernel_size=3,
        sigma=1.0,
        value_range=(0, 255),
        data_format=None,
        seed=None,
        **kwargs,
    ):
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        self.factor = _range(factor, (0, 1), "factor")
        if isinstance(kernel_size, (tuple, list)):
            if len(kernel_size) != 2 or any(k % 2 == 0 for k in kernel_size):
                raise ValueError(
                    f"`kernel_size` must be odd numbers. Received: kernel_size={kernel_size}"
                )
            self.kernel_size = tuple(kernel_size)
        else:
            if kernel_size % 2 == 0:
                raise ValueError(f"`kernel_size` must be odd. Received: kernel_size={kernel_size}")
            self.kernel_size = (kernel_size, kernel_size)
        self.sigma = (
            _range(sigma, (0, 1), "sigma")
            if not isinstance(sigma, (int, float)) or (sigma <= 1)
            else (0.0, float(sigma))
        )
        self.value_range = value_range

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        n = data.shape[0]
        probability = self.rng.uniform(self.factor[0], self.factor[1], n)
        apply = self.rng.uniform(0, 1, n) < probability
        blur = self.rng.uniform(self.sigma[0], self.sigma[1], 2) + 1e-6
        return {"should_apply_blur": apply, "blur_factor": blur}

    def _apply(self, x, t):
        xp = get_array_module(x)
        blurred = gaussian_blur(x, self.kernel_size, np.asarray(t["blur_factor"], np.float64))
        apply = xp.asarray(np.asarray(t["should_apply_blur"]).reshape(-1, 1, 1, 1))
        return xp.clip(xp.where(apply, blurred, x), self.value_range[0], self.value_range[1])

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "factor": self.factor,
                "kernel_size": self.kernel_size,
                "sigma": self.sigma,
                "value_range": self.value_range,
                "seed": self.seed,
            }
        )
        return config


class Equalization(_ChannelsLast):
    """Histogram equalization per channel (over the whole batch, as Keras), ``bins`` bins."""

    _USE_BASE_FACTOR = False

    def __init__(self, value_range=(0, 255), bins=256, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.bins = bins
        self.value_range = tuple(value_range)

    def get_random_transformation(self, data, training=True, seed=None):
        return {} if training else None

    def _equalize(self, channel):
        xp = get_array_module(channel)
        lo, hi = self.value_range
        if (lo, hi) != (0, 255):
            channel = (channel - lo) * (255.0 / (hi - lo))
        index = xp.clip((channel * ((self.bins - 1) / 255.0)).astype(np.int32), 0, self.bins - 1)
        hist = xp.bincount(index.reshape(-1), minlength=self.bins)
        if int(xp.count_nonzero(hist)) <= 1:
            out = channel
        else:
            cdf = xp.cumsum(hist)
            cdf_min = cdf[xp.nonzero(cdf)[0][0]]
            denominator = cdf[-1] - cdf_min
            denominator = denominator if int(denominator) != 0 else 1
            table = xp.clip(xp.round((cdf - cdf_min) * 255 / denominator), 0, 255)
            scaled = xp.clip(channel / 255.0 * (self.bins - 1), 0, self.bins - 1).astype(np.int32)
            out = table[scaled]
        if (lo, hi) != (0, 255):
            out = out * ((hi - lo) / 255.0) + lo
        return out

    def _apply(self, x, t):
        xp = get_array_module(x)
        channels = [self._equalize(x[..., i]) for i in range(x.shape[-1])]
        return xp.stack(channels, axis=-1).astype(x.dtype)

    def get_config(self):
        config = super().get_config()
        config.update({"bins": self.bins, "value_range": self.value_range})
        return config


class ContrastLimitedAdaptiveHistogramEqualization(_ChannelsLast):
    """CLAHE: per-tile histogram equalization with clipped histograms, blended bilinearly
    between tile centres, as Keras computes it (on the host)."""

    _USE_BASE_FACTOR = False

    def __init__(
        self,
        value_range=(0, 255),
        clip_limit=4.0,
        tile_grid_size=(8, 8),
        data_format=None,
        **kwargs,
    ):
        super().__init__(data_format=data_format, **kwargs)
        self.value_range = value_range
        self.clip_limit = clip_limit
        self.tile_grid_size = tuple(tile_grid_size)

    def get_random_transformation(self, data, training=True, seed=None):
        return {}

    def transform_images(self, images, transformation=None, training=True):
        x = to_channels_last(images, self.data_format)
        return from_channels_last(self._apply(x, {}), self.data_format)

    def _apply(self, x, t):
        xp = get_array_module(x)
        host = np.asarray(x.get() if hasattr(x, "get") else x, np.float32)
        lo, hi = self.value_range
        if (lo, hi) != (0, 255):
            host = (host - lo) * (255.0 / (hi - lo))
        out = self._clahe(host)
        if (lo, hi) != (0, 255):
            out = out * ((hi - lo) / 255.0) + lo
        return xp.asarray(out.astype(x.dtype))

    def _clahe(self, images):
        """Keras's CLAHE on ``(N, H, W, C)`` values in [0, 255]: tile LUTs from clipped
        histograms, edge-replicated, blended bilinearly between tile centres."""
        n, h, w, c = images.shape
        gh, gw = self.tile_grid_size
        th, tw = -(-h // gh), -(-w // gw)
        padded = np.pad(images, ((0, 0), (0, th * gh - h), (0, tw * gw - w), (0, 0)), "symmetric")
        tiles = padded.reshape(n, gh, th, gw, tw, c).transpose(0, 1, 3, 5, 2, 4)
        values = np.clip(tiles.reshape(n, gh, gw, c, th * tw).astype(np.int32), 0, 255)
        flat = values.reshape(-1, th * tw)
        hists = np.zeros((flat.shape[0], 256), np.float32)
        np.add.at(hists, (np.arange(flat.shape[0])[:, None], flat), 1.0)
        hists = hists.reshape(n, gh, gw, c, 256)
        if self.clip_limit > 0:
            limit = np.float32(self.clip_limit * (th * tw) / 256.0)
            clipped = np.clip(hists, 0, limit)
            hists = clipped + (hists - clipped).sum(axis=-1, keepdims=True) / 256.0
        cdf = np.cumsum(hists, axis=-1)
        cdf_min = cdf.min(axis=-1, keepdims=True)
        denominator = np.float32(th * tw) - cdf_min
        denominator = np.where(denominator == 0, 1.0, denominator)
        lut = np.clip((cdf - cdf_min) * 255.0 / denominator, 0, 255)
        lut = np.pad(lut, ((0, 0), (1, 1), (1, 1), (0, 0), (0, 0)), mode="edge")
        y = (np.arange(th * gh, dtype=np.float32) - th / 2.0) / th + 1.0
        x = (np.arange(tw * gw, dtype=np.float32) - tw / 2.0) / tw + 1.0
        y0, x0 = np.floor(y), np.floor(x)
        wy, wx = (y - y0)[None, :, None, None], (x - x0)[None, None, :, None]
        y1 = np.clip(y0 + 1, 0, gh + 1).astype(int)[None, :, None, None]
        x1 = np.clip(x0 + 1, 0, gw + 1).astype(int)[None, None, :, None]
        y0 = np.clip(y0, 0, gh + 1).astype(int)[None, :, None, None]
        x0 = np.clip(x0, 0, gw + 1).astype(int)[None, None, :, None]
        b = np.arange(n)[:, None, None, None]
        ch = np.arange(c)[None, None, None, :]
        v = np.clip(padded, 0, 255).astype(np.int32)
        top = lut[b, y0, x0, ch, v] * (1 - wx) + lut[b, y0, x1, ch, v] * wx
        bottom = lut[b, y1, x0, ch, v] * (1 - wx) + lut[b, y1, x1, ch, v] * wx
        return (top * (1 - wy) + bottom * wy)[:, :h, :w, :]

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "value_range": self.value_range,
                "clip_limit": self.clip_limit,
                "tile_grid_size": self.tile_grid_size,
            }
        )
        return config


class MaxNumBoundingBoxes(BaseImagePreprocessingLayer):
    """Pad or truncate the ``bounding_boxes`` of a dict input to ``max_number`` boxes."""

    _USE_BASE_FACTOR = False

    def __init__(self, max_number, fill_value=-1, **kwargs):
        super().__init__(**kwargs)
        self.max_number = int(max_number)
        self.fill_value = int(fill_value)

    def transform_bounding_boxes(self, bounding_boxes, transformation, training=True):
        boxes = np.asarray(raw(bounding_boxes["boxes"]))
        labels = np.asarray(raw(bounding_boxes["labels"]))
        count = boxes.shape[-2]
        if count >= self.max_number:
            boxes = boxes[..., : self.max_number, :]
            labels = labels[..., : self.max_number]
        else:
            extra = self.max_number - count
            boxes = np.concatenate(
                [
                    boxes,
                    np.full(
                        (*boxes.shape[:-2], extra, boxes.shape[-1]), self.fill_value, boxes.dtype
                    ),
                ],
                axis=-2,
            )
            labels = np.concatenate(
                [labels, np.full((*labels.shape[:-1], extra), self.fill_value, labels.dtype)],
                axis=-1,
            )
        return {**bounding_boxes, "boxes": Tensor(boxes), "labels": Tensor(labels)}

    def get_config(self):
        config = super().get_config()
        config["max_number"] = self.max_number  # Keras 3.15 leaves fill_value out too
        return config


class Pipeline(Layer):
    """Apply preprocessing ``layers`` in order (Keras 3's ``Pipeline``; dict inputs pass along).

    Unlike Sequential it is a single layer, usable inside other preprocessing stages.
    """

    def __init__(self, layers, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self._pipeline_layers = list(layers)

    @property
    def layers(self):
        return self._pipeline_layers

    def _convert_input(self, value):
        return value

    def call(self, inputs, training=True, mask=None):
        for layer in self._pipeline_layers:
            kwargs = {}
            if layer._call_has_mask:
                kwargs["mask"] = mask
            if layer._call_has_training:
                kwargs["training"] = training
            inputs = layer(inputs, **kwargs)
            mask = getattr(inputs, "_keras_mask", None)
        return inputs

    def compute_output_shape(self, input_shape):
        for layer in self._pipeline_layers:
            input_shape = layer.compute_output_shape(input_shape)
        return input_shape

    def get_config(self):
        from gpuk.layers.serialization import serialize

        return {"layers": [serialize(layer) for layer in self._pipeline_layers], "name": self.name}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from gpuk.layers.serialization import deserialize

        config = dict(config)
        config["layers"] = [deserialize(c) for c in config["layers"]]
        config.pop("dtype", None)
        config.pop("trainable", None)
        return cls(**config)
