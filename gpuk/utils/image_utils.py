"""Images on the host as Keras 3's ``keras.utils`` has them: ``load_img``, ``img_to_array``,
``array_to_img``, ``save_img``, and the resizing the directory data sets use.

Pillow reads and writes the files (``pip install gpuk[data]``). Resizing for data sets follows
TensorFlow's ``tf.image.resize`` (half-pixel centres, no antialiasing) for ``bilinear`` and
``nearest``, which is what Keras's ``image_dataset_from_directory`` computes, so the arrays
match Keras's; the other methods go through Pillow.
"""

import io
import os
import pathlib
import warnings

import numpy as np

from gpuk._array import to_numpy
from gpuk._config import floatx, image_data_format

#: Pillow resampling filters by Keras's names for ``load_img``.
PIL_INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "hamming", "box", "lanczos")
#: ``interpolation`` values the directory data sets accept (Keras's list).
DATASET_INTERPOLATIONS = (
    "bilinear",
    "nearest",
    "bicubic",
    "area",
    "lanczos3",
    "lanczos5",
    "gaussian",
    "mitchellcubic",
)
_DATASET_TO_PIL = {
    "bicubic": "bicubic",
    "area": "box",
    "lanczos3": "lanczos",
    "lanczos5": "lanczos",
    "gaussian": "bilinear",
    "mitchellcubic": "bicubic",
}


def _pil():
    try:
        from PIL import Image
    except ImportError as error:
        raise ImportError(
            "Reading and writing images needs Pillow: pip install 'gpuk[data]' (or pillow)"
        ) from error
    return Image


def _resample(image_module, name):
    if name not in PIL_INTERPOLATIONS:
        raise ValueError(
            f"Invalid interpolation method {name!r} specified. Supported methods are "
            f"{', '.join(PIL_INTERPOLATIONS)}"
        )
    return getattr(image_module.Resampling, name.upper())


def _data_format(data_format):
    data_format = data_format or image_data_format()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(
            "data_format must be 'channels_last' or 'channels_first'; "
            f"received data_format={data_format!r}"
        )
    return data_format


_MODES = {"grayscale": ("L", ("L", "I;16", "I")), "rgb": ("RGB", ("RGB",))}
_MODES["rgba"] = ("RGBA", ("RGBA",))


def _open_image(path):
    """Open and decode an image file (or ``io.BytesIO``) with Pillow; a file Pillow cannot
    decode raises ``ValueError`` naming it."""
    image_module = _pil()
    if isinstance(path, io.BytesIO):
        source, label = path, "<BytesIO>"
    elif isinstance(path, (str, bytes, pathlib.Path)):
        label = os.fsdecode(path) if isinstance(path, bytes) else str(path)
        with open(path, "rb") as file:
            source = io.BytesIO(file.read())
    else:
        raise TypeError(f"path should be path-like or io.BytesIO, not {type(path)}")
    try:
        img = image_module.open(source)
        img.load()
    except Exception as error:  # Pillow raises several types for damaged files
        raise ValueError(f"Could not read the image file {label}: {error}") from error
    return img


def _check_color_mode(color_mode):
    if color_mode not in _MODES:
        raise ValueError(
            f'color_mode must be "grayscale", "rgb", or "rgba"; received {color_mode!r}'
        )


def _convert(img, color_mode):
    _check_color_mode(color_mode)
    target_mode, kept = _MODES[color_mode]
    return img if img.mode in kept else img.convert(target_mode)


def load_img(
    path, color_mode="rgb", target_size=None, interpolation="nearest", keep_aspect_ratio=False
):
    """Load an image file into a Pillow image, as Keras's ``load_img``.

    Args:
        path: a path (str, bytes, ``pathlib.Path``) or an ``io.BytesIO``.
        color_mode: ``"grayscale"``, ``"rgb"`` or ``"rgba"``.
        target_size: ``(height, width)`` to resize to, or None to keep the size.
        interpolation: Pillow filter name used when resizing (``"nearest"`` by default).
        keep_aspect_ratio: crop the centre to the target aspect ratio before resizing.

    Raises:
        ValueError: for an unknown ``color_mode``/``interpolation`` or a file Pillow cannot
            decode (the message names the file).
    """
    img = _convert(_open_image(path), color_mode)
    if target_size is not None:
        size = (int(target_size[1]), int(target_size[0]))
        if img.size != size:
            resample = _resample(_pil(), interpolation)
            box = _centre_crop_box(img.size[1], img.size[0], size[1], size[0])
            box = (box[1], box[0], box[3], box[2]) if keep_aspect_ratio else None
            img = img.resize(size, resample, box=box)
    return img


def decode_image(path, color_mode):
    """An image file as a float32 ``(height, width, channels)`` array with the values
    TensorFlow's decoders give Keras's data sets: a colour PNG/BMP/GIF turned grey uses
    libpng's fixed-point weights ``(9797 R + 19234 G + 3737 B) >> 15``; JPEG and the other
    modes use Pillow's conversions."""
    _check_color_mode(color_mode)
    img = _open_image(path)
    if color_mode == "grayscale" and img.format != "JPEG":
        rgb = np.asarray(img.convert("RGB"), dtype=np.int64)
        grey = (9797 * rgb[..., 0] + 19234 * rgb[..., 1] + 3737 * rgb[..., 2]) >> 15
        return grey.astype(np.float32)[:, :, None]
    array = np.asarray(_convert(img, color_mode), dtype=np.float32)
    return array[:, :, None] if array.ndim == 2 else array


def img_to_array(img, data_format=None, dtype=None):
    """A Pillow image (or anything array-like) as a float array, ``(height, width, channels)``
    for ``channels_last``."""
    data_format = _data_format(data_format)
    x = np.asarray(img, dtype=dtype or floatx())
    if x.ndim == 2:
        x = x[None] if data_format == "channels_first" else x[:, :, None]
    elif x.ndim == 3:
        if data_format == "channels_first":
            x = x.transpose(2, 0, 1)
    else:
        raise ValueError(f"Unsupported image shape: {x.shape}; expected rank 2 or 3")
    return x


def array_to_img(x, data_format=None, scale=True, dtype=None):
    """A rank-3 array as a Pillow image; ``scale`` maps its range onto 0-255 (Keras's rule)."""
    image_module = _pil()
    x = np.array(_host(x), dtype=dtype or floatx())
    if x.ndim != 3:
        raise ValueError(
            f"Expected image array to have rank 3 (single image). Got array with shape: {x.shape}"
        )
    if _data_format(data_format) == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:
        x = x - np.min(x)
        peak = np.max(x)
        if peak != 0:
            x /= peak
        x *= 255
    channels = x.shape[2]
    if channels == 4:
        return image_module.fromarray(x.astype("uint8"), "RGBA")
    if channels == 3:
        return image_module.fromarray(x.astype("uint8"), "RGB")
    if channels == 1:
        if np.max(x) > 255:  # 32-bit integer grayscale
            return image_module.fromarray(x[:, :, 0].astype("int32"), "I")
        return image_module.fromarray(x[:, :, 0].astype("uint8"), "L")
    raise ValueError(f"Unsupported channel number: {channels}; expected 1, 3 or 4")


def save_img(path, x, data_format=None, file_format=None, scale=True, **kwargs):
    """Write a rank-3 array as an image file; the format comes from the suffix by default."""
    if file_format is None and isinstance(path, (str, pathlib.Path)):
        file_format = pathlib.Path(path).suffix[1:].lower()
    if file_format and file_format.lower() == "jpg":
        file_format = "jpeg"
    img = array_to_img(x, data_format=data_format, scale=scale)
    if img.mode == "RGBA" and file_format == "jpeg":
        warnings.warn(
            "The JPEG format does not support RGBA images, converting to RGB.", stacklevel=2
        )
        img = img.convert("RGB")
    img.save(path, format=file_format, **kwargs)


def _host(x):
    """NumPy copy of a host array, a gpuk Tensor or a device array."""
    return to_numpy(getattr(x, "data", x))


def _centre_crop_box(height, width, target_height, target_width):
    """(top, left, bottom, right) of the largest centred box with the target aspect ratio."""
    crop_height = min(height, (width * target_height) // target_width)
    crop_width = min(width, (height * target_width) // target_height)
    top = (height - crop_height) // 2
    left = (width - crop_width) // 2
    return top, left, top + crop_height, left + crop_width


def _resize_axis(image, axis, size, method):
    """Resize one spatial axis with TensorFlow's half-pixel-centre rule."""
    old = image.shape[axis]
    if old == size:
        return image
    scale = old / size
    centres = (np.arange(size) + 0.5) * scale
    if method == "nearest":
        index = np.minimum(np.floor(centres).astype(np.int64), old - 1)
        return np.take(image, index, axis=axis)
    position = np.clip(centres - 0.5, 0, old - 1)
    low = np.floor(position).astype(np.int64)
    high = np.minimum(low + 1, old - 1)
    shape = [1] * image.ndim
    shape[axis] = size
    weight = (position - low).reshape(shape)
    return np.take(image, low, axis=axis) * (1 - weight) + np.take(image, high, axis=axis) * weight


def resize_image(image, size, interpolation="bilinear"):
    """Resize an ``(height, width, channels)`` float array to ``size`` = (height, width).

    ``bilinear`` and ``nearest`` reproduce ``tf.image.resize`` (what Keras's data sets use);
    the other Keras names are approximated by the closest Pillow filter.
    """
    height, width = int(size[0]), int(size[1])
    if interpolation in ("bilinear", "nearest"):
        out = _resize_axis(image.astype(np.float32), 0, height, interpolation)
        return _resize_axis(out, 1, width, interpolation)
    image_module = _pil()
    resample = getattr(image_module.Resampling, _DATASET_TO_PIL[interpolation].upper())
    channels = [
        np.asarray(
            image_module.fromarray(image[:, :, c].astype(np.float32), "F").resize(
                (width, height), resample
            )
        )
        for c in range(image.shape[2])
    ]
    return np.stack(channels, axis=-1)


def _aspect_crop(height, width, target_height, target_width):
    """Slices of the centred crop with the target aspect ratio (``smart_resize``'s rule)."""
    crop_height = max(min(height, int(width * target_height / target_width)), 1)
    crop_width = max(min(width, int(height * target_width / target_height)), 1)
    top, left = (height - crop_height) // 2, (width - crop_width) // 2
    return slice(top, top + crop_height), slice(left, left + crop_width)


def smart_resize(x, size, interpolation="bilinear", data_format="channels_last", **kwargs):
    """Resize an image (rank 3) or a batch (rank 4) to ``size`` without distorting it: crop the
    centre to the target aspect ratio, then resize (Keras's ``smart_resize``, on the host).

    Returns:
        a float32 NumPy array.
    """
    kwargs.pop("backend_module", None)
    if kwargs:
        raise TypeError(f"smart_resize() got unexpected keyword arguments: {list(kwargs)}")
    if len(size) != 2:
        raise ValueError(f"Expected `size` to be a tuple of 2 integers, but got: {size}.")
    images = np.asarray(_host(x), dtype=np.float32)
    if images.ndim not in (3, 4):
        raise ValueError(
            "Expected an image array with shape `(height, width, channels)`, or "
            "`(batch_size, height, width, channels)`, but got input with incorrect rank, of "
            f"shape {images.shape}."
        )
    batch = images if images.ndim == 4 else images[None]
    if _data_format(data_format) == "channels_first":
        batch = batch.transpose(0, 2, 3, 1)
    rows, cols = _aspect_crop(batch.shape[1], batch.shape[2], int(size[0]), int(size[1]))
    out = np.stack([resize_image(image[rows, cols], size, interpolation) for image in batch])
    if _data_format(data_format) == "channels_first":
        out = out.transpose(0, 3, 1, 2)
    return out if images.ndim == 4 else out[0]


def fit_image(image, size, interpolation, crop_to_aspect_ratio, pad_to_aspect_ratio):
    """Resize as ``image_dataset_from_directory`` does: with ``crop_to_aspect_ratio``, crop the
    centre to the target aspect ratio first (``smart_resize``); with ``pad_to_aspect_ratio``,
    shrink to fit and zero-pad around (``tf.image.resize_with_pad``)."""
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError(
            "Only one of crop_to_aspect_ratio and pad_to_aspect_ratio can be True; got both"
        )
    height, width = image.shape[:2]
    target_height, target_width = int(size[0]), int(size[1])
    if crop_to_aspect_ratio:
        image = image[_aspect_crop(height, width, target_height, target_width)]
    elif pad_to_aspect_ratio:
        # tf.image.resize_with_pad, in its float32 arithmetic.
        h, w = np.float32(height), np.float32(width)
        ratio = max(w / np.float32(target_width), h / np.float32(target_height))
        inner_height, inner_width = h / ratio, w / ratio
        top = max(0, int(np.floor((np.float32(target_height) - inner_height) / 2)))
        left = max(0, int(np.floor((np.float32(target_width) - inner_width) / 2)))
        inner = resize_image(
            image, (int(np.floor(inner_height)), int(np.floor(inner_width))), interpolation
        )
        canvas = np.zeros((target_height, target_width, image.shape[2]), np.float32)
        canvas[top : top + inner.shape[0], left : left + inner.shape[1]] = inner
        return canvas
    return resize_image(image, (target_height, target_width), interpolation)
