"""The only place that imports CuPy: array-module choice, conversions and the kernel loader."""

from gpuk._array.arrays import (
    asarray,
    cupy_erf,
    get_array_module,
    is_array,
    ndimage,
    to_numpy,
)
from gpuk._array.blas import serial_blas, threads_for_product
from gpuk._array.device import (
    DEVICES,
    cupy_module,
    default_module,
    device,
    gpu_unavailable_reason,
    set_device,
)
from gpuk._array.random import fresh_seed, generator, set_seed

__all__ = [
    "DEVICES",
    "asarray",
    "cupy_erf",
    "cupy_module",
    "default_module",
    "device",
    "fresh_seed",
    "generator",
    "set_seed",
    "get_array_module",
    "gpu_unavailable_reason",
    "is_array",
    "ndimage",
    "serial_blas",
    "threads_for_product",
    "set_device",
    "to_numpy",
]
