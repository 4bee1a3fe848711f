"""Public settings: default float type, epsilon and the compute device.

Example::

    import gpuk
    gpuk.config.set_floatx("float64")
    gpuk.config.set_device("cpu")
    gpuk.config.device()  # 'cpu'
"""

from gpuk._array import DEVICES, device, set_device
from gpuk._config import (
    epsilon,
    floatx,
    image_data_format,
    set_epsilon,
    set_floatx,
    set_image_data_format,
)

__all__ = ["DEVICES", "device", "epsilon", "floatx", "set_device", "set_epsilon", "set_floatx"]
__all__ += ["image_data_format", "set_image_data_format"]
