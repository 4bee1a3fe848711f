"""Global numeric settings: the default float type and the fuzz factor epsilon (Keras's names)."""

import numpy as np

_ALLOWED_FLOATX = ("float16", "float32", "float64")
_state = {"floatx": "float32", "epsilon": 1e-7, "image_data_format": "channels_last"}


def floatx():
    """Return the default float type as a string, ``'float32'`` unless changed."""
    return _state["floatx"]


def set_floatx(value):
    """Set the default float type: one of ``'float16'``, ``'float32'``, ``'float64'``."""
    name = np.dtype(value).name if _is_dtype_like(value) else value
    if name not in _ALLOWED_FLOATX:
        raise ValueError(f"Unknown floatx type: {value!r}. Allowed: {', '.join(_ALLOWED_FLOATX)}")
    _state["floatx"] = name


def epsilon():
    """Return the fuzz factor used to keep logs and divisions finite (1e-7 by default)."""
    return _state["epsilon"]


def set_epsilon(value):
    """Set the fuzz factor returned by :func:`epsilon`."""
    _state["epsilon"] = float(value)


def image_data_format():
    """Return the default image layout, ``'channels_last'`` unless changed."""
    return _state["image_data_format"]


def set_image_data_format(data_format):
    """Set the default image layout, ``'channels_last'`` or ``'channels_first'``."""
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(
            f"Unknown data_format: {data_format!r}. Allowed: channels_last, channels_first"
        )
    _state["image_data_format"] = data_format


def _is_dtype_like(value):
    try:
        np.dtype(value)
    except TypeError:
        return False
    return not isinstance(value, str) or value in _ALLOWED_FLOATX
