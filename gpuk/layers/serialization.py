"""``serialize``/``deserialize``/``get`` for layers, with a registry of layer classes.

Layer classes defined in ``gpuk.layers`` are found by class name; ``gpuk.models`` registers
``Functional``/``Model``/``Sequential`` here on import (models sit above layers).
"""

import inspect

from gpuk.utils.serialization import lookup_custom_object, serialize_keras_object

_LAYER_CLASSES = {}


def register_layer_class(cls, *names):
    """Make ``cls`` resolvable by its class name (and ``names``) in layer configs."""
    for name in (cls.__name__, *names):
        _LAYER_CLASSES[name] = cls
    return cls


def registered_layer_class(name):
    """The class registered as ``name`` (built-in layers, and the model classes once
    ``gpuk.models`` is imported), or None."""
    return _LAYER_CLASSES.get(name)


def serialize(layer):
    """``{"class_name", "config"}`` of a layer (``module``/``registered_name`` as Keras 3)."""
    config = serialize_keras_object(layer)
    registered = getattr(layer, "_registered_name", None)
    config["module"] = None if registered else "keras.layers"
    config["registered_name"] = registered
    return config


def deserialize(config, custom_objects=None):
    """Build a layer from a ``{"class_name", "config"}`` dict (legacy or Keras 3 form)."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"Cannot deserialize a layer from {config!r}: expected a class_name")
    class_name = config["class_name"]
    if str(config.get("module") or "").startswith("keras.src.ops"):
        # a keras.ops call Keras 3 recorded in a functional graph (not a layer class); OpLayer
        # registers itself (gpuk.layers imports gpuk.layers.op_layer before any of this runs)
        return _LAYER_CLASSES["OpLayer"].from_keras_operation(config)
    names = [config.get("registered_name"), class_name]
    cls = lookup_custom_object(names, custom_objects) or _LAYER_CLASSES.get(class_name)
    if cls is None:
        raise ValueError(
            f"Unknown layer: {class_name!r}. Please ensure you are using a gpuk.layers.Layer "
            "subclass and pass custom classes with custom_objects= (or register them with "
            "gpuk.utils.register_keras_serializable)."
        )
    layer_config = config.get("config", {})
    params = inspect.signature(cls.from_config).parameters
    if "custom_objects" in params:
        return cls.from_config(layer_config, custom_objects=custom_objects)
    return cls.from_config(layer_config)


def get(identifier):
    """A layer from a Layer instance, a config dict or a class name."""
    from gpuk.layers.base import Layer

    if isinstance(identifier, Layer):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        return deserialize({"class_name": identifier, "config": {}})
    raise ValueError(f"Could not interpret layer identifier: {identifier!r}")
