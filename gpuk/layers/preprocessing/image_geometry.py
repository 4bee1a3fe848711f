"""Geometric image layers: Resizing, CenterCrop, RandomCrop, RandomFlip, RandomRotation,
RandomZoom, RandomTranslation (Keras 3's arguments, defaults and transforms)."""

import math

import numpy as np

from gpuk._array import get_array_module
from gpuk.layers.preprocessing.bounding_boxes import (
    center_crop_boxes,
    flip_boxes,
    resize_boxes,
    rotate_boxes,
    translate_boxes,
    zoom_boxes,
)
from gpuk.layers.preprocessing.image_base import (
    BaseImagePreprocessingLayer,
    affine_transform,
    from_channels_last,
    resize_images,
    to_channels_last,
)

__all__ = [
    "CenterCrop",
    "RandomCrop",
    "RandomFlip",
    "RandomRotation",
    "RandomTranslation",
    "RandomZoom",
    "Resizing",
]

_FILL_MODES = ("reflect", "wrap", "constant", "nearest")
_INTERPOLATIONS = ("nearest", "bilinear")


def _check_modes(layer, fill_mode, interpolation):
    if fill_mode not in _FILL_MODES:
        raise NotImplementedError(
            f"Unknown `fill_mode` {fill_mode}. Expected of one {_FILL_MODES}."
        )
    if interpolation not in _INTERPOLATIONS:
        raise NotImplementedError(
            f"Unknown `interpolation` {interpolation}. Expected of one {_INTERPOLATIONS}."
        )


def _resize(images, height, width, interpolation, data_format, crop=False, pad=False, fill=0.0):
    """Keras's ``ops.image.resize`` with ``crop_to_aspect_ratio``/``pad_to_aspect_ratio``."""
    xp = get_array_module(images)
    x = to_channels_last(images, data_format)
    h, w = x.shape[1], x.shape[2]
    if crop:
        crop_h = max(min(h, int(float(w * height) / width)), 1)
        crop_w = max(min(w, int(float(h * width) / height)), 1)
        top = int(float(h - crop_h) / 2)
        left = int(float(w - crop_w) / 2)
        x = x[:, top : top + crop_h, left : left + crop_w]
    elif pad:
        pad_h = max(h, int(float(w * height) / width))
        pad_w = max(w, int(float(h * width) / height))
        top = int(float(pad_h - h) / 2)
        left = int(float(pad_w - w) / 2)
        padded = xp.full((x.shape[0], pad_h, pad_w, x.shape[3]), fill, dtype=x.dtype)
        padded[:, top : top + h, left : left + w] = x
        x = padded
    out = resize_images(x, height, width, interpolation)
    return from_channels_last(out, data_format)


def _affine_matrix(angle, translate_x, translate_y, scale, shear_x, shear_y, height, width):
    """Keras's ``_compute_affine_matrix`` about the image centre (angles in degrees)."""
    rad = math.pi / 180.0
    angle = np.asarray(angle, np.float64) * rad
    shear_x = np.tan(np.asarray(shear_x, np.float64) * rad)
    shear_y = np.tan(np.asarray(shear_y, np.float64) * rad)
    cx = 0.5 * (width - 1)
    cy = 0.5 * (height - 1)
    cos, sin = np.cos(angle), np.sin(angle)
    a0 = scale * (cos + shear_x * sin)
    a1 = scale * (-sin + shear_x * cos)
    a2 = translate_x + cx - cx * a0 - cy * a1
    b0 = scale * (shear_y * cos + sin)
    b1 = scale * (shear_y * -sin + cos)
    b2 = translate_y + cy - cx * b0 - cy * b1
    zeros = np.zeros_like(a0)
    return np.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=1)


class _AffineLayer(BaseImagePreprocessingLayer):
    """Shared by the layers that resample through an affine transform."""

    def _apply(self, images, matrices, interpolation=None):
        x = to_channels_last(images, self.data_format)
        out = affine_transform(
            x, matrices, interpolation or self.interpolation, self.fill_mode, self.fill_value
        )
        return from_channels_last(out, self.data_format)

    def _size(self, images):
        h_axis, w_axis = self._hw_axes(images.ndim)
        return images.shape[h_axis], images.shape[w_axis]


class Resizing(BaseImagePreprocessingLayer):
    """Resize images to ``(height, width)``.

    Args:
        height, width: the output size.
        interpolation: ``"bilinear"`` (default) and ``"nearest"`` match Keras exactly;
            ``"bicubic"`` and the others use cubic splines.
        crop_to_aspect_ratio: crop the centre to the target aspect ratio first.
        pad_to_aspect_ratio: pad (with ``fill_value``) to the target aspect ratio first.
        fill_mode, fill_value: padding for ``pad_to_aspect_ratio`` (``"constant"`` only).
        antialias: accepted; gpuk does not low-pass filter when downsampling.
    """

    _USE_BASE_FACTOR = False

    def __init__(
        self,
        height,
        width,
        interpolation="bilinear",
        crop_to_aspect_ratio=False,
        pad_to_aspect_ratio=False,
        fill_mode="constant",
        fill_value=0.0,
        antialias=False,
        data_format=None,
        **kwargs,
    ):
        super().__init__(data_format=data_format, **kwargs)
        if crop_to_aspect_ratio and pad_to_aspect_ratio:
            raise ValueError(
                "Only one of `crop_to_aspect_ratio` and `pad_to_aspect_ratio` can be True."
            )
        self.height = int(height)
        self.width = int(width)
        self.interpolation = interpolation
        self.crop_to_aspect_ratio = crop_to_aspect_ratio
        self.pad_to_aspect_ratio = pad_to_aspect_ratio
        self.fill_mode = fill_mode
        self.fill_value = fill_value
        self.antialias = antialias

    def transform_images(self, images, transformation=None, training=True):
        return _resize(
            images,
            self.height,
            self.width,
            self.interpolation,
            self.data_format,
            self.crop_to_aspect_ratio,
            self.pad_to_aspect_ratio,
            self.fill_value,
        )

    def transform_segmentation_masks(self, segmentation_masks, transformation=None, training=True):
        return _resize(segmentation_masks, self.height, self.width, "nearest", self.data_format)

    def get_random_transformation(self, data, training=True, seed=None):
        h_axis, w_axis = self._hw_axes(data.ndim)
        return data.shape[h_axis], data.shape[w_axis]

    def transform_bounding_boxes(self, bounding_boxes, transformation, training=True):
        height, width = transformation
        return resize_boxes(bounding_boxes, self, self._box_format(), height, width)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        h_axis, w_axis = self._hw_axes(len(shape))
        shape[h_axis], shape[w_axis] = self.height, self.width
        return tuple(shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "height": self.height,
                "width": self.width,
                "interpolation": self.interpolation,
                "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
                "pad_to_aspect_ratio": self.pad_to_aspect_ratio,
                "fill_mode": self.fill_mode,
                "fill_value": self.fill_value,
                "antialias": self.antialias,
                "data_format": self.data_format,
            }
        )
        return config


class CenterCrop(BaseImagePreprocessingLayer):
    """Crop the central ``(height, width)`` window; smaller inputs are resized (Keras's rule)."""

    _USE_BASE_FACTOR = False

    def __init__(self, height, width, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.height = int(height)
        self.width = int(width)

    def transform_images(self, images, transformation=None, training=True):
        h_axis, w_axis = self._hw_axes(images.ndim)
        h, w = images.shape[h_axis], images.shape[w_axis]
        if h >= self.height and w >= self.width:
            top, left = (h - self.height) // 2, (w - self.width) // 2
            index = [slice(None)] * images.ndim
            index[h_axis] = slice(top, top + self.height)
            index[w_axis] = slice(left, left + self.width)
            return images[tuple(index)]
        return _resize(images, self.height, self.width, "bilinear", self.data_format, crop=True)

    def get_random_transformation(self, data, training=True, seed=None):
        h_axis, w_axis = self._hw_axes(data.ndim)
        return data.shape[h_axis], data.shape[w_axis]

    def transform_bounding_boxes(self, bounding_boxes, transformation, training=True):
        height, width = transformation
        return center_crop_boxes(bounding_boxes, self, self._box_format(), height, width)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        h_axis, w_axis = self._hw_axes(len(shape))
        shape[h_axis], shape[w_axis] = self.height, self.width
        return tuple(shape)

    def get_config(self):
        config = super().get_config()
        config.update({"height": self.height, "width": self.width, "data_format": self.data_format})
        return config


class RandomCrop(BaseImagePreprocessingLayer):
    """Crop a random ``(height, width)`` window in training (one window per batch, as Keras).

    Inputs smaller than the target are cropped to its aspect ratio and resized. Outside training
    the images pass unchanged, as in Keras 3.15.
    """

    _USE_BASE_FACTOR = False

    def __init__(self, height, width, seed=None, data_format=None, name=None, **kwargs):
        super().__init__(data_format=data_format, seed=seed, name=name, **kwargs)
        self.height = int(height)
        self.width = int(width)

    def get_random_transformation(self, data, training=True, seed=None):
        h_axis, w_axis = self._hw_axes(data.ndim)
        h, w = data.shape[h_axis], data.shape[w_axis]
        if training and h > self.height and w > self.width:
            top = int(self.rng.uniform(0, float(h - self.height + 1)))
            left = int(self.rng.uniform(0, float(w - self.width + 1)))
        else:
            crop_h = max(min(h, int(float(w * self.height) / self.width)), 1)
            crop_w = max(min(w, int(float(h * self.width) / self.height)), 1)
            top, left = int(float(h - crop_h) / 2), int(float(w - crop_w) / 2)
        return top, left

    def transform_images(self, images, transformation, training=True):
        if not training:
            return images
        top, left = transformation
        h_axis, w_axis = self._hw_axes(images.ndim)
        index = [slice(None)] * images.ndim
        index[h_axis] = slice(top, top + self.height)
        index[w_axis] = slice(left, left + self.width)
        out = images[tuple(index)]
        if out.shape[h_axis] != self.height or out.shape[w_axis] != self.width:
            out = _resize(out, self.height, self.width, "bilinear", self.data_format)
        return out

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        h_axis, w_axis = self._hw_axes(len(shape))
        shape[h_axis], shape[w_axis] = self.height, self.width
        return tuple(shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "height": self.height,
                "width": self.width,
                "seed": self.seed,
                "data_format": self.data_format,
            }
        )
        return config


class RandomFlip(BaseImagePreprocessingLayer):
    """Flip each image with probability 1/2 in training.

    Args:
        mode: ``"horizontal_and_vertical"`` (default), ``"horizontal"`` or ``"vertical"``.
        seed: seed of the layer's generator.
    """

    _USE_BASE_FACTOR = False

    def __init__(self, mode="horizontal_and_vertical", seed=None, data_format=None, **kwargs):
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        if mode not in ("horizontal", "vertical", "horizontal_and_vertical"):
            raise ValueError(
                f"RandomFlip layer {self.name} received an unknown mode argument {mode}"
            )
        self.mode = mode

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        h_axis, w_axis = self._hw_axes(data.ndim)
        return {
            "flips": self.rng.uniform(size=(data.shape[0], 1, 1, 1)) <= 0.5,
            "input_shape": tuple(data.shape),
        }

    def transform_bounding_boxes(self, bounding_boxes, transformation, training=True):
        if not training or transformation is None:
            return bounding_boxes
        shape = transformation["input_shape"]
        h_axis, w_axis = self._hw_axes(len(shape))
        return flip_boxes(
            bounding_boxes,
            np.asarray(transformation["flips"]).reshape(-1),
            self.mode,
            self._box_format(),
            shape[h_axis],
            shape[w_axis],
        )

    def transform_images(self, images, transformation, training=True):
        if not training or transformation is None:
            return images
        xp = get_array_module(images)
        flips = xp.asarray(np.asarray(transformation["flips"]).reshape(-1, 1, 1, 1))
        h_axis, w_axis = self._hw_axes(images.ndim)
        out = images
        if self.mode in ("horizontal", "horizontal_and_vertical"):
            out = xp.where(flips, xp.flip(out, axis=w_axis), out)
        if self.mode in ("vertical", "horizontal_and_vertical"):
            out = xp.where(flips, xp.flip(out, axis=h_axis), out)
        return out

    def get_config(self):
        config = super().get_config()
        config.update({"seed": self.seed, "mode": self.mode, "data_format": self.data_format})
        return config


class RandomRotation(_AffineLayer):
    """Rotate by a random angle of ``factor * 2pi`` (``factor`` a fraction of a full turn).

    Args:
        factor: ``f`` for angles in ``[-f, f] * 360`` degrees, or ``(low, high)``.
        fill_mode: ``"reflect"`` (default), ``"wrap"``, ``"constant"``, ``"nearest"``.
        interpolation: ``"bilinear"`` (default) or ``"nearest"``.
        seed, fill_value, data_format: as Keras.
    """

    def __init__(
        self,
        factor,
        fill_mode="reflect",
        interpolation="bilinear",
        seed=None,
        fill_value=0.0,
        data_format=None,
        **kwargs,
    ):
        super().__init__(factor=factor, data_format=data_format, seed=seed, **kwargs)
        _check_modes(self, fill_mode, interpolation)
        self.fill_mode = fill_mode
        self.interpolation = interpolation
        self.fill_value = fill_value

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        n = data.shape[0]
        h, w = self._size(data)
        angle = self.rng.uniform(self.factor[0] * 360.0, self.factor[1] * 360.0, size=n)
        zeros = np.zeros(n)
        matrix = _affine_matrix(angle, zeros, zeros, np.ones(n), zeros, zeros, h, w)
        return {"angle": angle, "rotation_matrix": matrix, "image_height": h, "image_width": w}

    def transform_bounding_boxes(self, bounding_boxes, transformation, training=True):
        if not training or transformation is None:
            return bounding_boxes
        return rotate_boxes(
            bounding_boxes,
            transformation["angle"],
            self._box_format(),
            transformation["image_height"],
            transformation["image_width"],
        )

    def transform_images(self, images, transformation, training=True):
        if not training or transformation is None:
            return images
        return self._apply(images, transformation["rotation_matrix"])

    def transform_segmentation_masks(self, segmentation_masks, transformation, training=True):
        if not training or transformation is None:
            return segmentation_masks
        return self._apply(segmentation_masks, transformation["rotation_matrix"], "nearest")

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "factor": self.factor,
                "data_format": self.data_format,
                "fill_mode": self.fill_mode,
                "fill_value": self.fill_value,
                "interpolation": self.interpolation,
                "seed": self.seed,
            }
        )
        return config


def _signed_range(factor, name):
    message = (
        f"The `{name}` argument should be a number (or a list of two numbers) in the range "
        f"(-1.0, 1.0]. Received: {name}={factor}"
    )
    if isinstance(factor, (tuple, list)):
        if len(factor) != 2 or any(f > 1.0 or f <= -1.0 for f in factor):
            raise ValueError(message)
        return tuple(sorted(factor))
    if isinstance(factor, (int, float)):
        if factor > 1.0 or factor <= -1.0:
            raise ValueError(message)
        return (-abs(factor), abs(factor))
    raise ValueError(message)


class RandomZoom(_AffineLayer):
    """Zoom by random factors: positive ``height_factor`` zooms out, negative zooms in.

    Args:
        height_factor: ``f`` (zoom in ``[1 - f, 1 + f]``) or ``(low, high)`` in ``(-1, 1]``.
        width_factor: the same for the width; None keeps the aspect ratio.
        fill_mode, interpolation, seed, fill_value, data_format: as :class:`RandomRotation`.
    """

    _USE_BASE_FACTOR = False

    def __init__(
        self,
        height_factor,
        width_factor=None,
        fill_mode="reflect",
        interpolation="bilinear",
        seed=None,
        fill_value=0.0,
        data_format=None,
        **kwargs,
    ):
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        self.height_factor = height_factor
        self.height_lower, self.height_upper = _signed_range(height_factor, "height_factor")
        self.width_factor = width_factor
        if width_factor is not None:
            self.width_lower, self.width_upper = _signed_range(width_factor, "width_factor")
        _check_modes(self, fill_mode, interpolation)
        self.fill_mode = fill_mode
        self.interpolation = interpolation
        self.fill_value = fill_value

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        n = data.shape[0]
        height_zoom = self.rng.uniform(1.0 + self.height_lower, 1.0 + self.height_upper, (n, 1))
        if self.width_factor is not None:
            width_zoom = self.rng.uniform(1.0 + self.width_lower, 1.0 + self.width_upper, (n, 1))
        else:
            width_zoom = height_zoom
        return {"height_zoom": height_zoom, "width_zoom": width_zoom, "input_shape": data.shape}

    def transform_bounding_boxes(self, bounding_boxes, transformation, training=True):
        if not training or transformation is None:
            return bounding_boxes
        shape = transformation["input_shape"]
        h_axis, w_axis = self._hw_axes(len(shape))
        return zoom_boxes(
            bounding_boxes,
            transformation["width_zoom"],
            transformation["height_zoom"],
            self._box_format(),
            shape[h_axis],
            shape[w_axis],
        )

    def transform_images(self, images, transformation, training=True):
        if not training or transformation is None:
            return images
        h, w = self._size(images)
        zx = np.asarray(transformation["width_zoom"], np.float32).reshape(-1).astype(np.float64)
        zy = np.asarray(transformation["height_zoom"], np.float32).reshape(-1).astype(np.float64)
        zeros = np.zeros_like(zx)
        matrix = np.stack(
            [zx, zeros, (w - 1.0) / 2.0 * (1.0 - zx), zeros, zy, (h - 1.0) / 2.0 * (1.0 - zy)]
            + [zeros, zeros],
            axis=1,
        )
        return self._apply(images, matrix)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "height_factor": self.height_factor,
                "width_factor": self.width_factor,
                "fill_mode": self.fill_mode,
                "interpolation": self.interpolation,
                "seed": self.seed,
                "fill_value": self.fill_value,
                "data_format": self.data_format,
            }
        )
        return config


class RandomTranslation(_AffineLayer):
    """Shift by random fractions of the height and width.

    Args:
        height_factor, width_factor: ``f`` (shift in ``[-f, f]`` of the size) or ``(low, high)``.
        fill_mode, interpolation, seed, fill_value, data_format: as :class:`RandomRotation`.
    """

    _USE_BASE_FACTOR = False

    def __init__(
        self,
        height_factor,
        width_factor,
        fill_mode="reflect",
        interpolation="bilinear",
        seed=None,
        fill_value=0.0,
        data_format=None,
        **kwargs,
    ):
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        self.height_factor = height_factor
        self.height_lower, self.height_upper = _signed_range(height_factor, "height_factor")
        self.width_factor = width_factor
        self.width_lower, self.width_upper = _signed_range(width_factor, "width_factor")
        _check_modes(self, fill_mode, interpolation)
        self.fill_mode = fill_mode
        self.interpolation = interpolation
        self.fill_value = fill_value

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        n = data.shape[0]
        h, w = self._size(data)
        dy = self.rng.uniform(self.height_lower, self.height_upper, (n, 1)) * h
        dx = self.rng.uniform(self.width_lower, self.width_upper, (n, 1)) * w
        return {
            "translations": np.concatenate([dx, dy], axis=1).astype(np.float32),
            "input_shape": tuple(data.shape),
        }

    def transform_bounding_boxes(self, bounding_boxes, transformation, training=True):
        if not training or transformation is None:
            return bounding_boxes
        shape = transformation["input_shape"]
        h_axis, w_axis = self._hw_axes(len(shape))
        return translate_boxes(
            bounding_boxes,
            transformation["translations"],
            self._box_format(),
            shape[h_axis],
            shape[w_axis],
        )

    def transform_images(self, images, transformation, training=True):
        if not training or transformation is None:
            return images
        t = np.asarray(transformation["translations"], np.float64)
        ones, zeros = np.ones(len(t)), np.zeros(len(t))
        matrix = np.stack([ones, zeros, -t[:, 0], zeros, ones, -t[:, 1], zeros, zeros], axis=1)
        return self._apply(images, matrix)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "height_factor": self.height_factor,
                "width_factor": self.width_factor,
                "fill_mode": self.fill_mode,
                "interpolation": self.interpolation,
                "seed": self.seed,
                "fill_value": self.fill_value,
                "data_format": self.data_format,
            }
        )
        return config
