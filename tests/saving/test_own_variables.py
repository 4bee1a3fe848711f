"""Layers' ``save_own_variables``/``load_own_variables`` (Keras 3's saving hooks) and the
``.keras``/``.weights.h5`` writer and reader going through them.

The fixture (``tools/make_keras_fixtures_custom_saveable.py``) is a Keras 3 model with a user
layer that saves under its own keys (``kernel``, ``bias``, ``calls``, ``scale``) and keeps
``scale`` as plain Python state: it loads only if the reader calls the layer's hook.
"""

import json
import os

import h5py
import numpy as np
import pytest

import gpuk
from gpuk import layers, ops
from gpuk.saving import load_model

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "fixtures", "keras", "custom_saveable")


class ScaledLinear(layers.Layer):
    """The fixture's layer, written for gpuk (the same code as Keras's)."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.scale = 1.0
        self.loads = 0

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")
        self.bias = self.add_weight(shape=(self.units,), name="bias", initializer="zeros")
        self.calls = self.add_weight(shape=(), name="calls", initializer="zeros", trainable=False)

    def call(self, inputs):
        return (ops.matmul(inputs, self.kernel) + self.bias) * self.scale

    def get_config(self):
        return {**super().get_config(), "units": self.units}

    def save_own_variables(self, store):
        store["kernel"] = self.kernel
        store["bias"] = self.bias
        store["calls"] = self.calls
        store["scale"] = np.array(self.scale, dtype="float32")

    def load_own_variables(self, store):
        self.kernel.assign(store["kernel"])
        self.bias.assign(store["bias"])
        self.calls.assign(store["calls"])
        self.scale = float(np.asarray(store["scale"]))
        self.loads += 1


CUSTOM = {"ScaledLinear": ScaledLinear}


@pytest.fixture(scope="module")
def values():
    with np.load(os.path.join(FIXTURES, "values.npz")) as data:
        return {k: data[k] for k in data.files}


def _model():
    inputs = gpuk.Input((4,), name="x")
    hidden = layers.Dense(3, name="pre")(inputs)
    return gpuk.Model(inputs, ScaledLinear(2, name="scaled")(hidden), name="custom_saveable")


def _layout(path):
    out = {}
    with h5py.File(path, "r") as f:

        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                out[name] = list(obj.shape)

        f.visititems(visit)
    return out


def _check(model, values):
    scaled = model.get_layer("scaled")
    assert scaled.scale == 2.5  # not in the config: only load_own_variables restores it
    assert float(scaled.calls.numpy()) == 7.0
    np.testing.assert_allclose(
        model.predict(values["x"], verbose=0), values["y"], rtol=1e-5, atol=1e-6
    )


def test_keras_archive_with_custom_keys_loads_through_the_layer_hook(values):
    model = load_model(os.path.join(FIXTURES, "model.keras"), custom_objects=CUSTOM)
    assert model.get_layer("scaled").loads == 1
    _check(model, values)


def test_keras_weights_file_with_custom_keys_loads_through_the_layer_hook(values):
    model = _model()
    model.load_weights(os.path.join(FIXTURES, "model.weights.h5"))
    _check(model, values)


def write_gpuk_files(folder, values):
    """gpuk's ``m.keras`` and ``m.weights.h5`` of the fixture's model (Keras loads them too:
    ``tools/make_keras_fixtures_custom_saveable.py check <folder>``)."""
    model = _model()
    model.set_weights([values[f"w{i}"] for i in range(5)])
    model.get_layer("scaled").scale = 2.5
    model.get_layer("scaled").calls.assign(7.0)
    model.save_weights(os.path.join(folder, "m.weights.h5"))
    model.save(os.path.join(folder, "m.keras"))


def test_gpuk_writes_the_custom_keys_where_keras_does(tmp_path, values):
    write_gpuk_files(tmp_path, values)
    assert _layout(tmp_path / "m.weights.h5") == json.loads(str(values["layout"]))
    again = _model()
    again.load_weights(tmp_path / "m.weights.h5")
    _check(again, values)
    _check(load_model(tmp_path / "m.keras", custom_objects=CUSTOM), values)


def test_skip_mismatch_turns_a_failing_custom_load_into_a_warning(tmp_path):
    class Strict(ScaledLinear):
        def load_own_variables(self, store):
            raise ValueError("refused by the layer")

    inputs = gpuk.Input((4,))
    model = gpuk.Model(inputs, Strict(2, name="scaled")(inputs))
    model.save_weights(tmp_path / "s.weights.h5")
    with pytest.raises(ValueError, match="refused by the layer"):
        model.load_weights(tmp_path / "s.weights.h5")
    with pytest.warns(UserWarning, match="Skipping.*'scaled'.*refused by the layer"):
        model.load_weights(tmp_path / "s.weights.h5", skip_mismatch=True)


def test_default_hooks_use_keras_keys_and_order():
    norm = layers.BatchNormalization()
    norm.build((None, 3))
    store = {}
    norm.save_own_variables(store)
    assert list(store) == ["0", "1", "2", "3"]
    assert [v.name for v in store.values()] == ["gamma", "beta", "moving_mean", "moving_variance"]
    gru = layers.GRU(2)
    gru.build((None, 5, 3))
    store = {}
    gru.save_own_variables(store)
    assert store == {}  # Keras: the cell saves the GRU's variables, under cell/vars
    gru.cell.save_own_variables(store)
    assert [v.name for v in store.values()] == ["kernel", "recurrent_kernel", "bias"]
    other = layers.BatchNormalization()
    other.build((None, 3))
    values = {k: np.arange(3.0) + float(k) for k in ("0", "1", "2", "3")}
    other.load_own_variables(values)
    for k, variable in enumerate(other.weights):
        np.testing.assert_allclose(variable.numpy(), values[str(k)])


def test_default_load_checks_count_and_shapes_before_assigning():
    dense = layers.Dense(2, name="d")
    dense.build((None, 3))
    before = [w.copy() for w in dense.get_weights()]
    with pytest.raises(ValueError, match="'d' expected 2 variables, but received 1"):
        dense.load_own_variables({"0": np.zeros((3, 2))})
    with pytest.raises(ValueError, match=r"'d'.*shape \(2,\).*\(3,\)"):
        dense.load_own_variables({"0": np.ones((3, 2)), "1": np.ones(3)})
    for w, b in zip(dense.get_weights(), before):
        np.testing.assert_array_equal(w, b)  # nothing assigned
    unbuilt = layers.Dense(2, name="u")
    with pytest.raises(ValueError, match="'u' was never built"):
        unbuilt.load_own_variables({"0": np.zeros((3, 2))})


def test_skip_mismatch_never_skips_an_unsafe_dataset_of_a_custom_layer(tmp_path, values):
    write_gpuk_files(tmp_path, values)
    raw = tmp_path / "secret.bin"
    raw.write_bytes(np.arange(6, dtype="float32").tobytes())
    with h5py.File(tmp_path / "m.weights.h5", "a") as f:
        group = f["layers/scaled_linear/vars"]
        del group["kernel"]
        group.create_dataset("kernel", shape=(3, 2), dtype="float32", external=[(str(raw), 0, 24)])
    model = _model()
    for skip in (False, True):
        with pytest.raises(ValueError, match="external file"):
            model.load_weights(tmp_path / "m.weights.h5", skip_mismatch=skip)
    assert model.get_layer("scaled").loads == 0
