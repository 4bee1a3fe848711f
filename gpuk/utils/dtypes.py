"""``standardize_dtype``: one spelling for every way a dtype can be written (Keras 3's rule)."""

import numpy as np

from gpuk._config import floatx

#: Every dtype name Keras 3 accepts.
ALLOWED_DTYPES = (
    "float16",
    "float32",
    "float64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "int8",
    "int16",
    "int32",
    "int64",
    "bfloat16",
    "bool",
    "string",
    "float8_e4m3fn",
    "float8_e5m2",
    "complex64",
    "complex128",
)
# Python types as Keras 3 maps them (its non-TensorFlow backends: int -> int32).
_PYTHON_DTYPES = {
    bool: "bool",
    int: "int32",
    float: "float32",
    str: "string",
    "int": "int32",
    complex: "complex64",
}


def standardize_dtype(dtype):
    """The dtype's name as a string (``None`` -> ``floatx()``), as Keras 3's function.

    Accepts names, NumPy/CuPy dtypes and scalar types, and Python types.

    Raises:
        ValueError: ``Invalid dtype: ...`` for anything Keras does not know.
    """
    if dtype is None:
        return floatx()
    dtype = _PYTHON_DTYPES.get(dtype, dtype) if isinstance(dtype, (type, str)) else dtype
    if isinstance(dtype, np.dtype):
        dtype = dtype.name
    elif hasattr(dtype, "name") and isinstance(dtype.name, str):
        dtype = dtype.name
    elif isinstance(dtype, type) and issubclass(dtype, np.generic):
        dtype = np.dtype(dtype).name
    elif hasattr(dtype, "__name__"):
        dtype = dtype.__name__
    if dtype not in ALLOWED_DTYPES:
        raise ValueError(f"Invalid dtype: {dtype}")
    return dtype


def standardize_layer_dtype(dtype):
    """A dtype name from a string, NumPy dtype, or a Keras ``DTypePolicy`` config/object."""
    if dtype is None:
        return floatx()
    if isinstance(dtype, dict):
        config = dtype.get("config", {})
        dtype = config.get("name", floatx()) if isinstance(config, dict) else config
    elif hasattr(dtype, "name") and not isinstance(dtype, np.dtype) and isinstance(dtype.name, str):
        dtype = dtype.name
    if isinstance(dtype, str) and dtype.startswith("mixed_"):
        # Mixed precision keeps float32 variables; gpuk computes in the variable dtype.
        return "float32"
    try:
        return np.dtype(dtype).name
    except TypeError:
        raise TypeError(f"Invalid dtype: {dtype!r}") from None
