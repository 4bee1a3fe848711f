"""gpuk.saving's own functions: ``get_registered_object`` (Keras's lookup order), and the
model methods that call them."""

import numpy as np

import gpuk
import gpuk.saving
from gpuk import layers, models


def test_get_registered_object_order_is_keras():
    def mine():
        return "custom"

    def module_fn():
        return "module"

    get = gpuk.saving.get_registered_object
    # Keras 3: scope / registered objects, then custom_objects, then module_objects
    assert get("fn_x", {"fn_x": mine}, {"fn_x": module_fn}) is mine
    assert get("fn_x", None, {"fn_x": module_fn}) is module_fn
    assert get("fn_x", {"other": mine}, {"fn_x": module_fn}) is module_fn
    assert get("fn_x", {"fn_x": mine}) is mine
    assert get("fn_x") is None
    assert get("fn_x", None, {}) is None

    @gpuk.saving.register_keras_serializable(package="regpkg")
    def registered():
        return 1

    assert get("regpkg>registered") is registered
    with gpuk.saving.custom_object_scope({"scoped_fn": mine}):
        assert get("scoped_fn", None, {"scoped_fn": module_fn}) is mine


def test_model_methods_call_the_saving_api(tmp_path):
    inputs = layers.Input((2,))
    model = models.Model(inputs, layers.Dense(1, name="d")(inputs))
    model.set_weights([np.ones((2, 1), "float32"), np.zeros((1,), "float32")])
    path = str(tmp_path / "m.keras")
    model.save(path, overwrite=True, include_optimizer=False)
    model.save_weights(str(tmp_path / "w.weights.h5"), overwrite=True)
    other = models.Model.from_config(model.get_config())
    other.load_weights(str(tmp_path / "w.weights.h5"), by_name=False, skip_mismatch=False)
    np.testing.assert_array_equal(other.get_weights()[0], np.ones((2, 1)))
    assert '"class_name"' in model.to_json()
    assert gpuk.models.load_model(path).get_layer("d").units == 1
    for name in ("load_model", "save_model", "model_from_json", "model_from_config"):
        assert callable(getattr(gpuk.models, name))


def test_model_method_defaults_are_keras(tmp_path):
    import pytest

    inputs = layers.Input((2,))
    model = models.Model(inputs, layers.Dense(1, name="d")(inputs))
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.ones((4, 2)), np.ones((4, 1)), verbose=0)
    path = str(tmp_path / "m.keras")
    model.save(path)
    model.save(path)  # overwrite=True
    assert int(np.asarray(gpuk.models.load_model(path).optimizer.iterations)) == 1
    weights = str(tmp_path / "w.h5")
    model.save_weights(weights)
    model.save_weights(weights)  # overwrite=True
    other_inputs = layers.Input((2,))
    renamed = models.Model(other_inputs, layers.Dense(1, name="zz")(other_inputs))
    renamed.load_weights(weights)  # by_name=False: paired by position
    np.testing.assert_array_equal(renamed.get_weights()[0], model.get_weights()[0])
    wide = models.Model(other_inputs, layers.Dense(3, name="d")(other_inputs))
    with pytest.raises(ValueError, match="shape mismatch"):  # skip_mismatch=False
        wide.load_weights(weights)
