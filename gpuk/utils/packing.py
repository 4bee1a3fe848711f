"""Keras's data-tuple helpers: ``pack_x_y_sample_weight`` / ``unpack_x_y_sample_weight``.

A batch reaches ``Model.train_step``/``test_step``/``predict_step`` packed this way, so a
custom step unpacks it with :func:`unpack_x_y_sample_weight` exactly as in Keras 3.
"""


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    """Pack user data into the tuple a step function receives.

    ``x`` alone is returned as it is (wrapped in a 1-tuple when it is itself a list or tuple,
    so that unpacking it again gives it back); otherwise ``(x, y)`` or
    ``(x, y, sample_weight)``.
    """
    if y is None:
        return (x,) if isinstance(x, (tuple, list)) else x
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


def unpack_x_y_sample_weight(data):
    """Split ``data`` into ``(x, y, sample_weight)``, with ``None`` for what is absent.

    Args:
        data: ``x``, ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)`` (lists count as tuples).

    Raises:
        ValueError: for a tuple of more than three elements.
    """
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return (data, None, None)
    if len(data) == 1:
        return (data[0], None, None)
    if len(data) == 2:
        return (data[0], data[1], None)
    if len(data) == 3:
        return (data[0], data[1], data[2])
    raise ValueError(
        "Data is expected to be in format `x`, `(x,)`, `(x, y)`, or `(x, y, sample_weight)`, "
        f"found a tuple of {len(data)} elements: {data!r}"
    )


__all__ = ["pack_x_y_sample_weight", "unpack_x_y_sample_weight"]
