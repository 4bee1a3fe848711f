"""Automatic object names: Keras's snake case and the per-prefix counters behind ``dense``,
``dense_1``, ... (one home for every object kind; ``clear_session`` resets the counters)."""

import re

_NAME_COUNTS = {}


def to_snake_case(name):
    """Keras's snake case: ``Dense -> dense``, ``GRUCell -> gru_cell``, ``ReLU -> re_lu``."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def unique_name(prefix):
    """Return ``prefix`` the first time, then ``prefix_1``, ``prefix_2``, ... (Keras's rule)."""
    count = _NAME_COUNTS.get(prefix, 0)
    _NAME_COUNTS[prefix] = count + 1
    return prefix if count == 0 else f"{prefix}_{count}"


def clear_session():
    """Reset automatic layer and model names, so the next Dense is ``dense`` again."""
    _NAME_COUNTS.clear()
