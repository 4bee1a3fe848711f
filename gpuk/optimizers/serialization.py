"""``serialize``/``deserialize``/``get`` of optimizers over the registry of built-in classes.

``gpuk/optimizers/__init__.py`` registers the built-in classes once every optimizer module is
imported; the wrappers that (de)serialize an inner optimizer (``LossScaleOptimizer``,
``MultiOptimizer``) import this module, so no optimizer module imports its own package.
"""

import inspect

from gpuk.optimizers.base import Optimizer
from gpuk.utils.serialization import (
    deserialize_keras_object,
    get_registered_name,
    lookup_custom_object,
)

_CLASSES = []
# Keras 3 resolves built-in names case-insensitively through their lower-case spelling.
_BUILTINS = {}


def register_builtin_classes(*classes):
    """Make optimizer classes resolvable by name (any case) and serialize as built-ins."""
    for cls in classes:
        _CLASSES.append(cls)
        _BUILTINS[cls.__name__.lower()] = cls


def serialize(optimizer):
    """Keras 3's form: ``{"module", "class_name", "config", "registered_name"}``."""
    cls = type(optimizer)
    builtin = _BUILTINS.get(cls.__name__.lower()) is cls
    return {
        "module": "keras.optimizers" if builtin else cls.__module__,
        "class_name": cls.__name__,
        "config": optimizer.get_config(),
        "registered_name": None if builtin else get_registered_name(cls),
    }


def deserialize(config, custom_objects=None):
    """An optimizer from a config dict (Keras 3, tf.keras or Keras 2 form).

    Built-in names are case-insensitive; tf.keras's ``"Custom>Adam"`` resolves to ``Adam`` when
    no user object of that name exists.

    Raises:
        ValueError: for unknown names (listing the known ones).
    """
    if isinstance(config, str):
        config = {"class_name": config, "config": {}}
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            f"Could not interpret optimizer config: {config!r} (expected a dict with "
            "'class_name' and 'config')"
        )
    config = dict(config)
    class_name = str(config["class_name"])
    if class_name.lower() in _BUILTINS:
        config["class_name"] = class_name.lower()
    elif ">" in class_name:
        if (
            lookup_custom_object([config.get("registered_name"), class_name], custom_objects)
            is None
            and class_name.split(">")[-1].lower() in _BUILTINS
        ):
            config["class_name"] = class_name.split(">")[-1].lower()
            config["registered_name"] = None
    config["config"] = dict(config.get("config") or {})
    known = dict(_BUILTINS)
    known.update({cls.__name__: cls for cls in _CLASSES})
    try:
        return deserialize_keras_object(config, known, custom_objects, "optimizer")
    except ValueError as error:
        if str(error).startswith("Unknown optimizer"):
            raise ValueError(
                f"Unknown optimizer: {class_name!r}. Known: "
                f"{', '.join(sorted(_BUILTINS))}. Pass user objects with custom_objects="
            ) from None
        raise


def get(identifier):
    """Resolve an optimizer identifier.

    Args:
        identifier: an ``Optimizer`` instance (returned as it is), a name (``"adam"``,
            ``"Adam"``, ``"rmsprop"``, ...; created with its defaults), a config dict, an optimizer
            class, or None (returned as None).

    Raises:
        ValueError: for unknown names (listing the known ones) and other identifiers.
    """
    if identifier is None or isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, (str, dict)):
        obj = deserialize(identifier)
    elif inspect.isclass(identifier) and issubclass(identifier, Optimizer):
        obj = identifier()
    else:
        obj = identifier
    if isinstance(obj, Optimizer):
        return obj
    raise ValueError(f"Could not interpret optimizer identifier: {identifier!r}")
