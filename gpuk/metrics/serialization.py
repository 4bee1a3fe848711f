"""``serialize``/``deserialize`` of metrics over Keras 3's table of built-in names.

``gpuk/metrics/__init__.py`` fills the table once every metric module is imported;
``MeanMetricWrapper.from_config`` rebuilds its function through this module, so no metric
module imports its own package.
"""

from gpuk.utils.serialization import deserialize_keras_object, serialize_keras_object

_BUILTINS = {}


def register_builtins(objects):
    """Add ``{name: function or class}`` to the names :func:`deserialize` resolves."""
    _BUILTINS.update(objects)


def serialize(metric):
    """The config of a metric: a name for a function, ``{'class_name', 'config'}`` otherwise."""
    return serialize_keras_object(metric)


def deserialize(config, custom_objects=None):
    """Rebuild a metric from a name or a config dict."""
    return deserialize_keras_object(config, _BUILTINS, custom_objects, "metric")
