"""Keras 3's top-level context managers ``keras.device`` and ``keras.name_scope``."""

import contextlib

from gpuk import _array


@contextlib.contextmanager
def device(device_name):
    """Create arrays on ``device_name`` inside the block, as ``keras.device("gpu:0")``:
    ``"cpu"``/``"cpu:N"`` or ``"gpu"``/``"gpu:N"``/``"cuda:N"`` (gpuk uses one GPU per process;
    the number is accepted and ignored)."""
    kind = str(device_name).lower().split(":")[0]
    if kind not in ("cpu", "gpu", "cuda"):
        raise ValueError(f"Invalid device name {device_name!r}: expected 'cpu:N' or 'gpu:N'")
    previous = _array.device()
    _array.set_device("cpu" if kind == "cpu" else "gpu")
    try:
        yield
    finally:
        _array.set_device(previous)


class name_scope:  # noqa: N801 - Keras's spelling
    """``with keras.name_scope("block"):`` is accepted; gpuk names layers itself, so the scope
    only records its name (``name``) and nesting (``parent``)."""

    _stack = []

    def __init__(self, name, **kwargs):
        if not isinstance(name, str) or not name:
            raise ValueError(f"name_scope takes a non-empty string; received {name!r}")
        self.name = name
        self.parent = None

    def __enter__(self):
        self.parent = name_scope._stack[-1] if name_scope._stack else None
        name_scope._stack.append(self)
        return self

    def __exit__(self, *exc):
        name_scope._stack.pop()
        return False
