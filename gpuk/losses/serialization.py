"""``serialize``/``deserialize`` of losses over the table of built-in names.

``gpuk/losses/__init__.py`` fills the table (functions, aliases, classes) once every loss
module is imported; ``LossFunctionWrapper.from_config`` rebuilds its function through this
module, so no loss module imports its own package.
"""

from gpuk.utils.serialization import deserialize_keras_object, serialize_keras_object

_BUILTINS = {}


def register_builtins(objects):
    """Add ``{name: function or class}`` to the names :func:`deserialize` resolves."""
    _BUILTINS.update(objects)


def serialize(loss):
    """The config of a loss: its name for a function, ``{'class_name', 'config'}`` for a class."""
    return serialize_keras_object(loss)


def deserialize(config, custom_objects=None):
    """Rebuild a loss from a name or a config dict (Keras 2 or Keras 3 form)."""
    return deserialize_keras_object(config, _BUILTINS, custom_objects, "loss function")
