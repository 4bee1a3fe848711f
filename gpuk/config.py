"""Public settings, as Keras 3's ``keras.config``: float type, epsilon, image layout, dtype
policy, the compute device, logging, limits on ``fit``, unsafe deserialization.

Example::

    import gpuk
    gpuk.config.set_floatx("float64")
    gpuk.config.set_device("cpu")
    gpuk.config.device()  # 'cpu'

Keras's switches for machinery gpuk does not have (flash attention, traceback filtering, NNX)
are kept as plain flags so scripts that set them run; they change nothing in gpuk.
"""

from gpuk._array import DEVICES, device, set_device
from gpuk._config import (
    enable_unsafe_deserialization,
    epsilon,
    floatx,
    image_data_format,
    max_epochs,
    max_steps_per_epoch,
    set_epsilon,
    set_floatx,
    set_image_data_format,
    set_max_epochs,
    set_max_steps_per_epoch,
)
from gpuk.dtype_policies import global_policy as dtype_policy
from gpuk.dtype_policies import set_global_policy as set_dtype_policy
from gpuk.utils.logging import (
    disable_interactive_logging,
    enable_interactive_logging,
    is_interactive_logging_enabled,
)

_flags = {"flash_attention": None, "traceback_filtering": True}


def backend():
    """The backend's name: ``'gpuk'`` (gpuk is its own backend, NumPy or CuPy underneath)."""
    return "gpuk"


def set_backend(backend):
    """Keras switches backends here; gpuk has one. ``'gpuk'`` is accepted, anything else is a
    clear error."""
    if backend != "gpuk":
        raise ValueError(
            f"gpuk is its own backend and cannot switch to {backend!r}; for Keras on {backend}, "
            "import keras instead of gpuk"
        )


def enable_flash_attention():
    """Accepted for Keras scripts; gpuk's attention has no flash kernel (a flag only)."""
    _flags["flash_attention"] = True


def disable_flash_attention():
    """Accepted for Keras scripts (a flag only)."""
    _flags["flash_attention"] = False


def is_flash_attention_enabled():
    """The flag set by :func:`enable_flash_attention` (None when never set)."""
    return _flags["flash_attention"]


def enable_traceback_filtering():
    """Accepted for Keras scripts: gpuk never filters tracebacks (a flag only)."""
    _flags["traceback_filtering"] = True


def disable_traceback_filtering():
    """Accepted for Keras scripts (a flag only)."""
    _flags["traceback_filtering"] = False


def is_traceback_filtering_enabled():
    """The flag set by the traceback-filtering switches."""
    return _flags["traceback_filtering"]


def is_nnx_enabled():
    """Flax NNX is a JAX-backend feature: always False in gpuk."""
    return False


__all__ = [
    "DEVICES",
    "backend",
    "device",
    "disable_flash_attention",
    "disable_interactive_logging",
    "disable_traceback_filtering",
    "dtype_policy",
    "enable_flash_attention",
    "enable_interactive_logging",
    "enable_traceback_filtering",
    "enable_unsafe_deserialization",
    "epsilon",
    "floatx",
    "image_data_format",
    "is_flash_attention_enabled",
    "is_interactive_logging_enabled",
    "is_nnx_enabled",
    "is_traceback_filtering_enabled",
    "max_epochs",
    "max_steps_per_epoch",
    "set_backend",
    "set_device",
    "set_dtype_policy",
    "set_epsilon",
    "set_floatx",
    "set_image_data_format",
    "set_max_epochs",
    "set_max_steps_per_epoch",
]
