"""Saving and loading, interchangeable with Keras (``.h5``, ``.keras``, ``.weights.h5``, JSON).

As in Keras 3, this package sits below ``gpuk.models`` (ARCHITECTURE.md): ``Model.save``,
``save_weights``, ``load_weights`` and ``to_json`` are ordinary methods of ``Model`` that call
the functions here, and ``gpuk.models.load_model``/``save_model``/... are these functions.
Layers are read and written through their ``save_own_variables``/``load_own_variables``; model
classes are found at load time through the layer registry, by class name.
"""

from gpuk._config import load_limits, set_load_limits
from gpuk.layers.preprocessing import FeatureSpace as _FeatureSpace
from gpuk.saving.saving_api import (
    clone_model,
    load_model,
    load_weights,
    model_from_config,
    model_from_json,
    save_model,
    save_weights,
    to_json,
)
from gpuk.utils.serialization import (
    CustomObjectScope,
    custom_object_scope,
    deserialize_keras_object,
    get_custom_objects,
    get_registered_name,
    lookup_custom_object,
    register_keras_serializable,
    serialize_keras_object,
)


def get_registered_object(name, custom_objects=None, module_objects=None):
    """The object registered (or given in ``custom_objects``, then ``module_objects``, Keras's
    order) as ``name``, or None."""
    found = lookup_custom_object([name], custom_objects)
    if found is None and module_objects and name in module_objects:
        return module_objects[name]
    return found


# FeatureSpace (a layer, below gpuk.saving) saves through save_model, as in Keras.
_FeatureSpace._archive_saver = lambda space, path: save_model(space, path, include_optimizer=False)

__all__ = [
    "CustomObjectScope",
    "custom_object_scope",
    "deserialize_keras_object",
    "get_custom_objects",
    "get_registered_name",
    "get_registered_object",
    "register_keras_serializable",
    "serialize_keras_object",
    "clone_model",
    "load_limits",
    "load_model",
    "load_weights",
    "model_from_config",
    "model_from_json",
    "save_model",
    "save_weights",
    "set_load_limits",
    "to_json",
]
