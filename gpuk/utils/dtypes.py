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


def policy_dtype_name(dtype, default=None):
    """The name inside a Keras ``DTypePolicy`` config dict (``default``, else ``floatx()``, when
    it has none) or object; any other value unchanged."""
    if isinstance(dtype, dict):
        config = dtype.get("config")
        name = config.get("name") if isinstance(config, dict) else config
        return name or default or floatx()
    if hasattr(dtype, "name") and not isinstance(dtype, np.dtype) and isinstance(dtype.name, str):
        return dtype.name
    return dtype


def standardize_layer_dtype(dtype):
    """A layer's ``dtype=`` as a NumPy dtype name: a string, NumPy dtype, or a ``DTypePolicy``
    config/object (``mixed_*`` policies give their float32 variable dtype).

    Unlike :func:`standardize_dtype` (Keras's public rule, ``ValueError`` for names outside
    :data:`ALLOWED_DTYPES`) it accepts every NumPy spelling and raises ``TypeError``.
    """
    if dtype is None:
        return floatx()
    dtype = policy_dtype_name(dtype)
    if is_string_dtype(dtype):
        return "string"  # strings (preprocessing inputs) stay NumPy arrays on the host
    if isinstance(dtype, str) and dtype.startswith("mixed_"):
        # Mixed precision keeps float32 variables; gpuk computes in the variable dtype.
        return "float32"
    try:
        return np.dtype(dtype).name
    except TypeError:
        raise TypeError(f"Invalid dtype: {dtype!r}") from None


def is_string_dtype(dtype):
    """Whether ``dtype`` names strings (``"string"``, ``str``, ``bytes``, NumPy kinds O/U/S)."""
    if isinstance(dtype, str):
        return dtype in ("string", "str", "object")
    return dtype in (str, bytes, object) or (isinstance(dtype, np.dtype) and dtype.kind in "OUS")
