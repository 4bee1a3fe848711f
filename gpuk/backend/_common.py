"""Shared state and helpers of the ``K`` namespace: allowed dtypes, argument conversion, the
learning phase and ``clear_session``, ``eval``."""

import builtins

import numpy as np

from gpuk import ops
from gpuk._array import to_numpy
from gpuk._config import (
    floatx,
)
from gpuk.autograd import Tensor, as_tensor
from gpuk.utils.dtypes import standardize_dtype
from gpuk.utils.session import clear_session as utils_clear_session
from gpuk.utils.session import register_clear_session_hook

_ALLOWED_DTYPES = (
    "float16",
    "float32",
    "float64",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "bool",
)
_state = {"learning_phase": 0}


# ----------------------------------------------------------------------------- helpers


def _dtype(dtype, default=None):
    """Validate a dtype and return its name; None gives ``default`` (floatx by default)."""
    if dtype is None:
        return default or floatx()
    name = getattr(dtype, "name", dtype)
    try:
        name = np.dtype(name).name
    except TypeError:
        name = None
    if name not in _ALLOWED_DTYPES:
        raise ValueError(f"Unknown dtype: {dtype!r}. Allowed: {', '.join(_ALLOWED_DTYPES)}")
    return name


def _tensor(x):
    """``x`` as a Tensor; Python floats and float lists take ``floatx()``."""
    return as_tensor(x)


def _float_if_bool(x):
    x = _tensor(x)
    return ops.cast(x, floatx()) if x.dtype == bool else x


# ----------------------------------------------------------------------------- settings


def learning_phase():
    """The global learning phase: 0 (test) unless set to 1 (train)."""
    return _state["learning_phase"]


def set_learning_phase(value):
    """Set the global learning phase to 0 (test) or 1 (train)."""
    if value not in (0, 1, True, False):
        raise ValueError(f"Expected learning phase to be 0 or 1, got {value!r}")
    _state["learning_phase"] = int(value)


def _reset_learning_phase():
    _state["learning_phase"] = 0


register_clear_session_hook(_reset_learning_phase)


def clear_session(free_memory=True):
    """Reset global state (learning phase, layer and model name counters): see
    ``gpuk.utils.clear_session``."""
    utils_clear_session(free_memory=free_memory)


def backend():
    """The name of the backend, ``'gpuk'``."""
    return "gpuk"


def eval(x):
    """The value of ``x`` as a NumPy array."""
    if isinstance(x, Tensor):
        return x.numpy()
    return np.asarray(to_numpy(x) if hasattr(x, "shape") else x)


_uids = {}


def get_uid(prefix=""):
    """1, 2, 3, ... for each ``prefix``, as Keras's ``backend.get_uid`` (reset by
    ``clear_session``)."""
    _uids[prefix] = _uids.get(prefix, 0) + 1
    return _uids[prefix]


register_clear_session_hook(_uids.clear)


def is_float_dtype(dtype):
    """True for floating-point dtypes (``float16``/``bfloat16``/``float32``/``float64``...)."""
    return standardize_dtype(dtype).startswith(("float", "bfloat"))


def is_int_dtype(dtype):
    """True for signed and unsigned integer dtypes."""
    return standardize_dtype(dtype).startswith(("int", "uint"))


def result_type(*dtypes):
    """The dtype an operation on ``dtypes`` produces, by Keras 3's rule (JAX's lattice): a
    float meets an integer at the float's width, so ``int32`` and ``float32`` give
    ``float32`` (NumPy would say ``float64``); no dtypes give ``floatx()``."""
    if not dtypes:
        return floatx()
    names = [standardize_dtype(d) for d in dtypes]
    floats = [n for n in names if is_float_dtype(n)]
    if floats:
        if "bfloat16" in floats and all(f in ("bfloat16", "float16") for f in floats):
            return "bfloat16" if floats == ["bfloat16"] * len(floats) else "float32"
        return builtins.max(floats, key=lambda n: np.dtype(n).itemsize if n != "bfloat16" else 2)
    return np.result_type(*names).name
