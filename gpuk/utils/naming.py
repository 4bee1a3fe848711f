"""Automatic object names, one home for every object kind (layers, models, optimizers, losses,
metrics, saved-file keys): Keras's snake case and the per-prefix counters behind ``dense``,
``dense_1``, ... Like Keras's ``keras.src.utils.naming``, one counter serves every kind, and
every ``clear_session`` resets it."""

import re

from gpuk.utils.session import register_clear_session_hook

_NAME_COUNTS = {}


def to_snake_case(name):
    """Keras's snake case: ``Dense -> dense``, ``GRUCell -> gru_cell``, ``ReLU -> re_lu``,
    ``Conv2D -> conv2d``, ``AUC -> auc``."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def unique_name(prefix):
    """Return ``prefix`` the first time, then ``prefix_1``, ``prefix_2``, ... (Keras's rule)."""
    count = _NAME_COUNTS.get(prefix, 0)
    _NAME_COUNTS[prefix] = count + 1
    return prefix if count == 0 else f"{prefix}_{count}"


def auto_name(class_name):
    """The default name of an object of class ``class_name``: ``Adam`` -> ``adam``, ``adam_1``."""
    return unique_name(to_snake_case(class_name))


def clear_session():
    """Reset the automatic names, so the next Dense is ``dense`` again (a clear_session hook)."""
    _NAME_COUNTS.clear()


register_clear_session_hook(clear_session)
