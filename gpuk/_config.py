"""Global settings, under Keras's names: the default float type, the fuzz factor epsilon and
the default image layout."""

import threading

import numpy as np

_ALLOWED_FLOATX = ("float16", "float32", "float64")
_state = {
    "floatx": "float32",
    "epsilon": 1e-7,
    "image_data_format": "channels_last",
    "max_epochs": None,
    "max_steps_per_epoch": None,
    "unsafe_deserialization": False,
}


def floatx():
    """Return the default float type as a string, ``'float32'`` unless changed."""
    return _state["floatx"]


def set_floatx(value):
    """Set the default float type: one of ``'float16'``, ``'float32'``, ``'float64'``."""
    name = np.dtype(value).name if _is_dtype_like(value) else value
    if name not in _ALLOWED_FLOATX:
        raise ValueError(f"Unknown floatx type: {value!r}. Allowed: {', '.join(_ALLOWED_FLOATX)}")
    _state["floatx"] = name


def epsilon():
    """Return the fuzz factor used to keep logs and divisions finite (1e-7 by default)."""
    return _state["epsilon"]


def set_epsilon(value):
    """Set the fuzz factor returned by :func:`epsilon`."""
    _state["epsilon"] = float(value)


def image_data_format():
    """Return ``'channels_last'`` unless changed with :func:`set_image_data_format`."""
    return _state["image_data_format"]


def set_image_data_format(data_format):
    """Set the default image layout, ``'channels_last'`` or ``'channels_first'``."""
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(
            f"Unknown data_format: {data_format!r}. Allowed: channels_last, channels_first"
        )
    _state["image_data_format"] = data_format


def max_epochs():
    """The cap on the epochs of every ``fit`` (None: no cap)."""
    return _state["max_epochs"]


def set_max_epochs(max_epochs):
    """Cap the number of epochs of every later ``fit`` (None removes the cap)."""
    _state["max_epochs"] = None if max_epochs is None else int(max_epochs)


def max_steps_per_epoch():
    """The cap on the batches of each epoch of ``fit`` (None: no cap)."""
    return _state["max_steps_per_epoch"]


def set_max_steps_per_epoch(max_steps_per_epoch):
    """Cap the batches of every later ``fit`` epoch (None removes the cap)."""
    value = max_steps_per_epoch
    _state["max_steps_per_epoch"] = None if value is None else int(value)


def unsafe_deserialization_enabled():
    """True after ``enable_unsafe_deserialization()``: Lambda bytecode loads without
    ``safe_mode=False``."""
    return _state["unsafe_deserialization"]


def enable_unsafe_deserialization():
    """Let every later load run Lambda bytecode from files, as Keras's function does. Only
    for files you trust."""
    _state["unsafe_deserialization"] = True


def _is_dtype_like(value):
    try:
        np.dtype(value)
    except TypeError:
        return False
    return not isinstance(value, str) or value in _ALLOWED_FLOATX


# ----------------------------------------------------------------------------- file-load limits
# Sizes a model file may ask for (docs/file-safety.md). Layers check them while a file is being
# loaded (inside ``loading_budget``), so a config asking for Dense(units=10**12) is refused
# before anything is allocated; models built in code are not limited.

_LOAD_LIMIT_DEFAULTS = {
    "max_variable_elements": 2**31,
    "max_total_elements": 2**34,
    "max_config_bytes": 32 * 2**20,
    "max_metadata_bytes": 2**20,
    "max_config_depth": 100,
    "max_compression_ratio": 100,
}
# Trial inputs (zero batches some layers run to infer their output shape) may have at most
# max_variable_elements / _TRIAL_FRACTION elements while a file is loaded.
_TRIAL_FRACTION = 32
_load_limits = dict(_LOAD_LIMIT_DEFAULTS)
_loading = threading.local()


def load_limits():
    """The current file-load limits as a dict (see ``gpuk.saving.set_load_limits``)."""
    return dict(_load_limits)


def set_load_limits(**limits):
    """Change file-load limits by name; ``None`` restores a limit's default."""
    unknown = sorted(set(limits) - set(_LOAD_LIMIT_DEFAULTS))
    if unknown:
        raise ValueError(f"Unknown load limits {unknown}; known: {sorted(_LOAD_LIMIT_DEFAULTS)}")
    for name, value in limits.items():
        if value is None:
            value = _LOAD_LIMIT_DEFAULTS[name]
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"Load limit {name!r} must be a positive int, received {value!r}")
        _load_limits[name] = int(value)


class loading_budget:  # noqa: N801 - used like a function
    """Context in which layers being built check their weights against the load limits.

    Args:
        filename: named in the errors.
        max_elements: the total number of weight elements the file can account for (its
            stored weights); ``None`` means only ``max_total_elements``.
    """

    def __init__(self, filename, max_elements=None):
        self.filename = filename
        self.max_elements = max_elements
        self.used = 0

    def __enter__(self):
        self._outer = getattr(_loading, "budget", None)
        _loading.budget = self
        return self

    def __exit__(self, *exc_info):
        _loading.budget = self._outer
        return False


def current_budget():
    """The innermost active :class:`loading_budget`, or None."""
    return getattr(_loading, "budget", None)


def check_new_array(owner, what, shape):
    """Raise ValueError when a file being loaded makes ``owner`` create a too-large array.

    ``what`` names the weight (``"kernel"``) or the purpose (``"trial input"``); nothing
    happens outside :class:`loading_budget`.
    """
    budget = getattr(_loading, "budget", None)
    if budget is None:
        return
    size = 1
    for dim in shape:
        size *= int(dim)
    limit = _load_limits["max_variable_elements"]
    trial = what.startswith("trial")
    if trial:
        # A few dummy samples to infer an output shape: far below a weight's limit.
        limit = max(limit // _TRIAL_FRACTION, 1)
    if size > limit:
        raise ValueError(
            f"{budget.filename}: layer {owner!r} asks for {what} of shape {tuple(shape)} "
            f"({size} elements), over the load limit of {limit} elements per array "
            "(gpuk.saving.set_load_limits(max_variable_elements=...) raises it)"
        )
    if trial:
        return
    budget.used += size
    total = _load_limits["max_total_elements"]
    if budget.max_elements is not None:
        total = min(total, budget.max_elements)
    if budget.used > total:
        raise ValueError(
            f"{budget.filename}: layer {owner!r} weight {what!r} of shape {tuple(shape)} brings "
            f"the model to {budget.used} weight elements, more than the file can hold or the "
            f"load limit allows ({total}; gpuk.saving.set_load_limits(max_total_elements=...))"
        )
