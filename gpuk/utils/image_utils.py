"""Images on the host as Keras 3's ``keras.utils`` has them: ``load_img``, ``img_to_array``,
``array_to_img``, ``save_img``, and the resizing the directory data sets use.

Pillow reads and writes the files (``pip install gpuk[data]``). Resizing for data sets follows
TensorFlow's ``tf.image.resize`` (half-pixel centres, no antialiasing) for ``bilinear`` and
``nearest``, which is what Keras's ``image_dataset_from_directory`` computes, so the arrays
match Keras's; the other methods go through Pillow.
"""

import io
import pathlib
import warnings

import numpy as np

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
    image_module = _pil()
    if isinstance(path, io.BytesIO):
        source, label = path, "<BytesIO>"
    elif isinstance(path, (str, bytes, pathlib.Path)):
        label = str(path)
        with open(path, "rb") as file:
            source = io.BytesIO(file.read())
    else:
        raise TypeError(f"path should be path-like or io.BytesIO, not {type(path)}")
    try:
        img = image_module.open(source)
        img.load()
    except Exception as error:  # Pillow raises several types for damaged files
        raise ValueError(f"Could not read the image file {label}: {error}") from error
    modes = {"grayscale": ("L", ("L", "I;16", "I")), "rgb": ("RGB", ("RGB",))}
    modes["rgba"] = ("RGBA", ("RGBA",))
    if color_mode not in modes:
        raise ValueError(
            f'color_mode must be "grayscale", "rgb", or "rgba"; received {color_mode!r}'
        )
    target_mode, kept = modes[color_mode]
    if img.mode not in kept:
        img = img.convert(target_mode)
    if target_size is not None:
        size = (int(target_size[1]), int(target_size[0]))
        if img.size != size:
            resample = _resample(image_module, interpolation)
            box = _centre_crop_box(img.size[1], img.size[0], size[1], size[0])
            box = (box[1], box[0], box[3], box[2]) if keep_aspect_ratio else None
            img = img.resize(size, resample, box=box)
    return img


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
    """NumPy view of a host array, a gpuk Tensor or a device array (explicit copy)."""
    if hasattr(x, "numpy") and callable(x.numpy):
        return x.numpy()
    if hasattr(x, "get") and callable(x.get) and not isinstance(x, dict):
        return x.get()
    return x


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


def fit_image(image, size, interpolation, crop_to_aspect_ratio, pad_to_aspect_ratio):
    """Resize as ``image_dataset_from_directory`` does: optionally centre-crop or zero-pad to the
    target aspect ratio first, so the image is not distorted."""
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError(
            "Only one of crop_to_aspect_ratio and pad_to_aspect_ratio can be True; got both"
        )
    height, width = image.shape[:2]
    target_height, target_width = int(size[0]), int(size[1])
    if crop_to_aspect_ratio:
        top, left, bottom, right = _centre_crop_box(height, width, target_height, target_width)
        image = image[top:bottom, left:right]
    elif pad_to_aspect_ratio:
        padded_height = max(height, (width * target_height) // target_width)
        padded_width = max(width, (height * target_width) // target_height)
        top = (padded_height - height) // 2
        left = (padded_width - width) // 2
        canvas = np.zeros((padded_height, padded_width, image.shape[2]), image.dtype)
        canvas[top : top + height, left : left + width] = image
        image = canvas
    return resize_image(image, (target_height, target_width), interpolation)
