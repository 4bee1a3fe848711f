"""Keras-written files of Model subclasses, for tests/models/test_keras_io_subclassing.py.

Run with ``KERAS_BACKEND=jax /work/kvenv/bin/python tools/make_keras_fixtures_subclass.py``.
Writes tests/fixtures/keras/subclass/: a subclassed model (.keras and .weights.h5), a
functional subclass (.keras), and the inputs/predictions in reference.npz.
"""

import os

import keras
import numpy as np

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "keras", "subclass")


@keras.saving.register_keras_serializable(package="fixtures")
class StackModel(keras.Model):
    def __init__(self, hidden_units, **kwargs):
        super().__init__(**kwargs)
        self.hidden_units = hidden_units
        self.dense_layers = [keras.layers.Dense(u, activation="tanh") for u in hidden_units]
        self.head = keras.layers.Dense(2)

    def call(self, inputs):
        x = inputs
        for layer in self.dense_layers:
            x = layer(x)
        return self.head(x)

    def get_config(self):
        return {"hidden_units": self.hidden_units}


@keras.saving.register_keras_serializable(package="fixtures")
class FunctionalSub(keras.Model):
    pass


def main():
    os.makedirs(OUT, exist_ok=True)
    keras.utils.set_random_seed(3)
    x = np.random.default_rng(0).random((6, 5)).astype("float32")
    stack = StackModel([8, 4])
    stack(x)
    stack.compile("adam", "mse")
    stack.fit(x, np.ones((6, 2), "float32"), verbose=0)
    stack.save(os.path.join(OUT, "stack.keras"))
    stack.save_weights(os.path.join(OUT, "stack.weights.h5"))

    inputs = keras.Input((5,), name="features")
    hidden = keras.layers.Dense(3, activation="relu", name="hidden")(inputs)
    outputs = keras.layers.Dense(1, name="out")(hidden)
    functional = FunctionalSub(inputs, outputs, name="functional_sub")
    functional.save(os.path.join(OUT, "functional_sub.keras"))

    np.savez(
        os.path.join(OUT, "reference.npz"),
        x=x,
        stack=stack.predict(x, verbose=0),
        functional=functional.predict(x, verbose=0),
    )


if __name__ == "__main__":
    main()
