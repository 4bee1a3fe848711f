"""Base of the image preprocessing layers and the transforms they share.

Layers follow Keras 3's structure: ``get_random_transformation(data, training, seed)`` draws the
parameters (on the host, from the layer's seeded generator), ``transform_images(images,
transformation, training)`` applies them on the images' device. Inputs are ``(H, W, C)`` or
``(N, H, W, C)`` (``data_format="channels_first"`` also), or a dict with ``"images"`` and
optionally ``"labels"``/``"segmentation_masks"``. Augmentation happens only when ``training``
is true; a direct call without ``training`` counts as training, as in Keras.

Interpolation goes through ``scipy.ndimage.map_coordinates`` on the CPU and
``cupyx.scipy.ndimage.map_coordinates`` on the GPU, with Keras's fill modes mapped to the
equivalent SciPy modes (``constant`` -> ``grid-constant``, ``wrap`` -> ``grid-wrap``).
"""

import numpy as np

from gpuk._array import get_array_module, ndimage
from gpuk.autograd import Tensor
from gpuk.backend import image_data_format
from gpuk.layers.preprocessing.base import PreprocessingLayer, SeededLayerMixin, raw

__all__ = ["BaseImagePreprocessingLayer", "affine_transform", "resize_images"]

_SCIPY_MODES = {
    "constant": "grid-constant",
    "nearest": "nearest",
    "reflect": "reflect",
    "wrap": "grid-wrap",
    "mirror": "mirror",
}
_ORDERS = {"nearest": 0, "bilinear": 1, "cubic": 3}


def to_channels_last(images, data_format):
    return images if data_format == "channels_last" else images.transpose(0, 2, 3, 1)


def from_channels_last(images, data_format):
    return images if data_format == "channels_last" else images.transpose(0, 3, 1, 2)


def affine_transform(
    images, transforms, interpolation="bilinear", fill_mode="constant", fill_value=0.0
):
    """Keras's ``ops.image.affine_transform`` on ``(N, H, W, C)`` arrays of any module.

    ``transforms`` is ``(N, 8)``: ``[a0, a1, a2, b0, b1, b2, c0, c1]`` maps an output pixel
    ``(x, y)`` to the input point ``((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k)`` with
    ``k = c0 x + c1 y + 1`` (x is the column, y the row). The sampling grid is built on the
    images' device; one ``map_coordinates`` call per image.
    """
    xp = get_array_module(images)
    n, h, w, c = images.shape
    transforms = np.asarray(transforms, dtype=np.float64).reshape(n, 8)
    ys, xs = xp.meshgrid(
        xp.arange(h, dtype=np.float64), xp.arange(w, dtype=np.float64), indexing="ij"
    )
    coords = []
    for a0, a1, a2, b0, b1, b2, c0, c1 in transforms.tolist():
        k = c0 * xs + c1 * ys + 1.0
        coords.append(((b0 * xs + b1 * ys + b2) / k, (a0 * xs + a1 * ys + a2) / k))
    return sample(images, coords, interpolation, fill_mode, fill_value)


def sample(
    images, coords, interpolation="bilinear", fill_mode="constant", fill_value=0.0, per_channel=None
):
    """Resample each image ``i`` at ``coords[i] = (rows, cols)`` (``(H', W')`` arrays).

    ``per_channel`` (default: on NumPy) makes one 2-D call per channel instead of one 3-D call
    per image; both give the same values.
    """
    xp = get_array_module(images)
    nd = ndimage(xp)
    n, _, _, c = images.shape
    order = _ORDERS.get(interpolation, 1)
    mode = _SCIPY_MODES[fill_mode]
    dtype = images.dtype if images.dtype.kind == "f" else np.dtype("float32")
    source = images.astype(dtype, copy=False)
    out = None
    for i, (rows, cols) in enumerate(coords):
        shape = (*rows.shape, c)
        if order > 1 or (xp is np if per_channel is None else per_channel):
            # Per channel: SciPy is faster in 2-D than with a 3-D grid, and spline prefiltering
            # (order > 1) must not run across channels. CuPy gets one launch per image instead.
            if out is None:
                out = xp.empty((n, *shape), dtype=dtype)
            for ch in range(c):
                out[i, ..., ch] = nd.map_coordinates(
                    source[i, ..., ch],
                    xp.stack([rows, cols]),
                    order=order,
                    mode=mode,
                    cval=float(fill_value),
                )
            continue
        channels = xp.broadcast_to(xp.arange(c, dtype=rows.dtype), shape)
        grid = xp.stack(
            [
                xp.broadcast_to(rows[..., None], shape),
                xp.broadcast_to(cols[..., None], shape),
                channels,
            ]
        )
        result = nd.map_coordinates(source[i], grid, order=order, mode=mode, cval=float(fill_value))
        if out is None:
            out = xp.empty((n, *shape), dtype=dtype)
        out[i] = result
    return out


def resize_images(images, height, width, interpolation="bilinear"):
    """Resize ``(N, H, W, C)`` images with half-pixel centres (as ``jax.image.resize``)."""
    xp = get_array_module(images)
    n, h, w, c = images.shape
    if (h, w) == (height, width):
        return images
    if interpolation == "nearest":
        rows = np.floor((np.arange(height) + 0.5) * (h / height))
        cols = np.floor((np.arange(width) + 0.5) * (w / width))
        rows = np.clip(rows, 0, h - 1).astype(np.int64)
        cols = np.clip(cols, 0, w - 1).astype(np.int64)
        return images[:, xp.asarray(rows)][:, :, xp.asarray(cols)]
    rows = (xp.arange(height, dtype=np.float64) + 0.5) * (h / height) - 0.5
    cols = (xp.arange(width, dtype=np.float64) + 0.5) * (w / width) - 0.5
    grid = xp.meshgrid(rows, cols, indexing="ij")
    order = "bilinear" if interpolation in ("bilinear", "linear") else "cubic"
    return sample(images, [grid] * n, order, "nearest")


class BaseImagePreprocessingLayer(SeededLayerMixin, PreprocessingLayer):
    """Keras 3's ``BaseImagePreprocessingLayer``: factor handling, dict inputs, training rule."""

    _USE_BASE_FACTOR = True
    _FACTOR_BOUNDS = (-1, 1)

    def __init__(
        self, factor=None, bounding_box_format=None, data_format=None, seed=None, **kwargs
    ):
        super().__init__(**kwargs)
        self.bounding_box_format = bounding_box_format
        self.data_format = data_format or image_data_format()
        if self.data_format not in ("channels_last", "channels_first"):
            raise ValueError(
                "The `data_format` argument must be one of 'channels_first', 'channels_last'. "
                f"Received: data_format={data_format}"
            )
        if self._USE_BASE_FACTOR:
            self._set_factor(factor or 0.0)
        elif factor is not None:
            raise ValueError(
                f"Layer {type(self).__name__} does not take a `factor` argument. "
                f"Received: factor={factor}"
            )
        self._init_seed(seed)

    def _set_factor(self, factor):
        low, high = self._FACTOR_BOUNDS
        message = (
            "The `factor` argument should be a number (or a list of two numbers) in the range "
            f"[{low}, {high}]. Received: factor={factor}"
        )
        if isinstance(factor, (tuple, list)):
            if len(factor) != 2 or factor[0] > high or factor[1] < low:
                raise ValueError(message)
            lower, upper = sorted(factor)
        elif isinstance(factor, (int, float)):
            if factor < low or factor > high:
                raise ValueError(message)
            factor = abs(factor)
            lower, upper = max(-factor, low), factor
        else:
            raise ValueError(message)
        self.factor = (lower, upper)

    # ------------------------------------------------------------------ Keras's hooks

    def get_random_transformation(self, data, training=True, seed=None):
        return None

    def transform_images(self, images, transformation, training=True):
        """Apply ``transformation`` to ``(N, H, W, C)`` (or channels-first) images."""
        return images

    def transform_labels(self, labels, transformation, training=True):
        return labels

    def transform_segmentation_masks(self, segmentation_masks, transformation, training=True):
        return self.transform_images(segmentation_masks, transformation, training=training)

    def transform_bounding_boxes(self, bounding_boxes, transformation, training=True):
        raise NotImplementedError(
            f"{type(self).__name__}: gpuk transforms bounding boxes only in RandomFlip, "
            "CenterCrop, RandomTranslation, RandomZoom, RandomRotation, Resizing and "
            "MaxNumBoundingBoxes so far."
        )

    def _box_format(self):
        if not self.bounding_box_format:
            raise ValueError(
                "You passed an input with a 'bounding_boxes' key, but you didn't specify a "
                "bounding box format. Pass a `bounding_box_format` argument to your "
                f"{type(self).__name__} layer, e.g. `bounding_box_format='xyxy'`."
            )
        return self.bounding_box_format

    # ------------------------------------------------------------------ call

    def _images(self, value):
        images = raw(value)
        if images.dtype.kind != "f" or images.dtype.name != self.compute_dtype:
            images = images.astype(self.compute_dtype)
        if images.ndim not in (3, 4):
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: expected images of rank 3 (single image) "
                f"or 4 (batch of images). Received input with shape: {tuple(images.shape)}"
            )
        return images

    def call(self, data, training=True):
        training = True if training is None else bool(training)
        if isinstance(data, dict):
            data = dict(data)
            images = self._images(data["images"])
        else:
            images = self._images(data)
        batched = images.ndim == 4
        if not batched:
            images = images[None]
        transformation = self.get_random_transformation(images, training=training)
        out = self.transform_images(images, transformation, training=training)
        if not batched:
            out = out[0]
        if not isinstance(data, dict):
            return Tensor(out)
        data["images"] = Tensor(out)
        if "labels" in data:
            labels = raw(data["labels"])
            data["labels"] = Tensor(self.transform_labels(labels, transformation, training))
        if "segmentation_masks" in data:
            masks = self._images(data["segmentation_masks"])
            masks = masks if batched else masks[None]
            masks = self.transform_segmentation_masks(masks, transformation, training)
            data["segmentation_masks"] = Tensor(masks if batched else masks[0])
        if "bounding_boxes" in data:
            boxes = self.transform_bounding_boxes(
                dict(data["bounding_boxes"]), transformation, training
            )
            data["bounding_boxes"] = {
                k: Tensor(v) if isinstance(v, np.ndarray) else v for k, v in boxes.items()
            }
        return data

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def compute_output_spec(self, *args, **kwargs):
        from gpuk.layers.base import KerasTensor, map_structure

        data = args[0]
        if isinstance(data, dict):
            return map_structure(
                lambda t: KerasTensor(self.compute_output_shape(t.shape), self.compute_dtype), data
            )
        return KerasTensor(
            self.compute_output_shape(data.shape), self.compute_dtype, name=self.name
        )

    def _hw_axes(self, rank):
        """Height and width axes for images of ``rank`` (3 or 4) in this data format."""
        if self.data_format == "channels_last":
            return (rank - 3, rank - 2)
        return (rank - 2, rank - 1)

    def get_config(self):
        config = super().get_config()
        config["data_format"] = self.data_format
        if self.bounding_box_format is not None:
            config["bounding_box_format"] = self.bounding_box_format
        return config
