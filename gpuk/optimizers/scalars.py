"""Scalars of an optimizer step that may be host numbers or 0-d device arrays."""

import numpy as np

from gpuk._array import is_array


def cast_scalar(value, dtype):
    """A host scalar, or a 0-d device array (the rate of a step captured as a CUDA graph, see
    ``gpuk.models.training_graph``), in ``dtype``: ``dtype.type(value)`` would read a device
    array back to the host, which a capture refuses."""
    dtype = np.dtype(dtype)
    if is_array(value) and not isinstance(value, np.ndarray):
        return value.astype(dtype, copy=False)
    return dtype.type(value)
