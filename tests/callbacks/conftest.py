"""Fixtures for the callback tests: a tiny Dense regression model and its data."""

import numpy as np
import pytest

import gpuk as keras


@pytest.fixture
def data():
    rng = np.random.RandomState(0)
    x = rng.rand(10, 3).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5]], dtype="float32") + 0.3).astype("float32")
    return x, y


@pytest.fixture
def make_model():
    """``make_model(optimizer="sgd", metrics=("mae",))``: a compiled Dense(1) on 3 inputs."""

    def make(optimizer="sgd", metrics=("mae",), seed=0):
        keras.utils.set_random_seed(seed)
        inputs = keras.Input((3,))
        outputs = keras.layers.Dense(1, name="dense")(inputs)
        model = keras.Model(inputs, outputs)
        model.compile(optimizer, "mse", metrics=list(metrics))
        return model

    return make


class Script(keras.callbacks.Callback):
    """Overwrites ``logs[key]`` at each epoch end with a scripted value (callbacks after it
    see the scripted value, as they share the logs dict)."""

    def __init__(self, values, key="val_loss"):
        super().__init__()
        self.values = values
        self.key = key

    def on_epoch_end(self, epoch, logs=None):
        logs[self.key] = self.values[epoch]


@pytest.fixture
def script():
    return Script
