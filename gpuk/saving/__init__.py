"""Saving and loading, interchangeable with Keras (``.h5``, ``.keras``, ``.weights.h5``, JSON).

Importing this package attaches ``save``, ``save_weights``, ``load_weights`` and ``to_json`` to
``gpuk.models.Model`` and makes ``gpuk.models.load_model`` / ``save_model`` /
``model_from_json`` / ``clone_model`` reachable (``gpuk.models`` sits below ``gpuk.saving`` in
the import levels, see ARCHITECTURE.md). ``import gpuk`` does this.
"""

import gpuk.models as _models
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


def _save(self, filepath, overwrite=True, include_optimizer=True, **kwargs):
    """Save the model: ``.keras`` (Keras 3 archive) or ``.h5``/``.hdf5`` (legacy HDF5).

    See :func:`gpuk.saving.save_model`.
    """
    save_model(self, filepath, overwrite=overwrite, include_optimizer=include_optimizer, **kwargs)


def _save_weights(self, filepath, overwrite=True, **kwargs):
    """Save the weights (``.weights.h5``: Keras 3 layout; ``.h5``: legacy layout)."""
    save_weights(self, filepath, overwrite=overwrite, **kwargs)


def _load_weights(self, filepath, by_name=False, skip_mismatch=False, **kwargs):
    """Load weights saved by gpuk or Keras (see :func:`gpuk.saving.load_weights`)."""
    load_weights(self, filepath, by_name=by_name, skip_mismatch=skip_mismatch, **kwargs)


def _to_json(self, **kwargs):
    """The model's config as JSON (loads in Keras 3 and tf.keras 2; see
    :func:`gpuk.saving.to_json`)."""
    return to_json(self, **kwargs)


_models.Model.save = _save
_models.Model.save_weights = _save_weights
_models.Model.load_weights = _load_weights
_models.Model.to_json = _to_json
# FeatureSpace (a layer, below gpuk.saving) saves through save_model, as in Keras.
_FeatureSpace._archive_saver = lambda space, path: save_model(space, path, include_optimizer=False)
for _fn in (load_model, save_model, model_from_json, model_from_config, clone_model):
    if not hasattr(_models, _fn.__name__):
        setattr(_models, _fn.__name__, _fn)
del _fn

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
