"""Keras 3 files of a model with a user layer that overrides ``save_own_variables`` /
``load_own_variables`` (its own keys, and state that is not a variable), for issue 16.

Writes ``tests/fixtures/keras/custom_saveable/``: ``model.keras``, ``model.weights.h5`` and
``values.npz`` (input, Keras's output, the weights, the ``.weights.h5`` layout as Keras wrote it).

Run by hand:
    KERAS_BACKEND=jax /work/kvenv/bin/python tools/make_keras_fixtures_custom_saveable.py

The other direction (Keras loads gpuk's files with the custom keys): write them with gpuk, then
check them in Keras::

    python -c "import sys, numpy as np; sys.path.insert(0, '.'); \
        from tests.saving.test_own_variables import write_gpuk_files as w; \
        w('/tmp/gpuk_saveable', dict(np.load('tests/fixtures/keras/custom_saveable/values.npz')))"
    KERAS_BACKEND=jax /work/kvenv/bin/python tools/make_keras_fixtures_custom_saveable.py \
        check /tmp/gpuk_saveable
"""

import json
import os
import sys

import h5py
import keras
import numpy as np

OUT = os.path.join(
    os.path.dirname(os.path.abspath(__file__)),
    "..",
    "tests",
    "fixtures",
    "keras",
    "custom_saveable",
)


@keras.saving.register_keras_serializable(package="gpuk_fixture")
class ScaledLinear(keras.layers.Layer):
    """``(x @ kernel + bias) * scale``; ``scale`` is plain Python state saved beside the
    variables, under the keys ``kernel``, ``bias``, ``scale`` (not ``0``, ``1``)."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.scale = 1.0

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")
        self.bias = self.add_weight(shape=(self.units,), name="bias", initializer="zeros")
        self.calls = self.add_weight(shape=(), name="calls", initializer="zeros", trainable=False)

    def call(self, inputs):
        return (keras.ops.matmul(inputs, self.kernel) + self.bias) * self.scale

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


def _layout(path):
    """``{dataset path: shape}`` of an HDF5 file."""
    out = {}
    with h5py.File(path, "r") as f:
        f.visititems(
            lambda name, obj: (
                out.__setitem__(name, list(obj.shape)) if isinstance(obj, h5py.Dataset) else None
            )
        )
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(16)
    inputs = keras.Input((4,), name="x")
    hidden = keras.layers.Dense(3, name="pre")(inputs)
    outputs = ScaledLinear(2, name="scaled")(hidden)
    model = keras.Model(inputs, outputs, name="custom_saveable")
    weights = [rng.normal(size=w.shape).astype("float32") for w in model.weights]
    model.set_weights(weights)
    scaled = model.get_layer("scaled")
    scaled.scale = 2.5
    scaled.calls.assign(7.0)
    x = rng.normal(size=(5, 4)).astype("float32")
    y = np.asarray(model.predict(x, verbose=0))
    model.save(os.path.join(OUT, "model.keras"))
    model.save_weights(os.path.join(OUT, "model.weights.h5"))
    layout = _layout(os.path.join(OUT, "model.weights.h5"))
    # Keras reads its own files back through the hooks: the check that the fixture is sound.
    loaded = keras.models.load_model(os.path.join(OUT, "model.keras"))
    np.testing.assert_allclose(np.asarray(loaded.predict(x, verbose=0)), y, rtol=1e-6)
    assert loaded.get_layer("scaled").scale == 2.5
    np.savez(
        os.path.join(OUT, "values.npz"),
        x=x,
        y=y,
        **{f"w{i}": w for i, w in enumerate(weights)},
        layout=np.array(json.dumps(layout, sort_keys=True)),
        keras_version=np.array(keras.__version__),
    )
    print(json.dumps(layout, indent=1, sort_keys=True))


def check(folder):
    """Load gpuk's ``m.keras`` and ``m.weights.h5`` in Keras; outputs and ``scale`` must match."""
    values = np.load(os.path.join(OUT, "values.npz"))
    objects = {"ScaledLinear": ScaledLinear}
    model = keras.models.load_model(os.path.join(folder, "m.keras"), custom_objects=objects)
    inputs = keras.Input((4,), name="x")
    other = keras.Model(inputs, ScaledLinear(2, name="scaled")(keras.layers.Dense(3)(inputs)))
    other.load_weights(os.path.join(folder, "m.weights.h5"))
    for label, loaded in (("m.keras", model), ("m.weights.h5", other)):
        assert loaded.get_layer("scaled").scale == 2.5, label
        np.testing.assert_allclose(loaded.predict(values["x"], verbose=0), values["y"], rtol=1e-6)
        print(f"ok: Keras {keras.__version__} loads gpuk's {label}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["check"]:
        check(sys.argv[2])
    else:
        main()
