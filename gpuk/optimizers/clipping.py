"""Gradient clipping by global norm (Keras 3's ``clip_by_global_norm``), on any ``xp``."""

from gpuk._array import get_array_module


def global_norm(values):
    """The L2 norm of all ``values`` together (an xp 0-d array: no host sync)."""
    xp = get_array_module(*values)
    squared = [xp.sum(xp.square(v)) for v in values if v is not None]
    return xp.sqrt(xp.sum(xp.stack(squared)))


def clip_by_global_norm(values, clip_norm):
    """Rescale ``values`` so their global norm is at most ``clip_norm`` (Keras 3's formula)."""
    norm = global_norm(values)
    xp = get_array_module(norm)
    scale = clip_norm * xp.minimum(1.0 / norm, 1.0 / clip_norm)
    # A non-finite norm makes the scale NaN (Keras's rule) instead of silently zeroing.
    scale = scale + (norm - norm)
    return [v * scale if v is not None else v for v in values]
