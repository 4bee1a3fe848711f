"""Training trajectories match Keras 3's (tests/models/data/make_training_reference.py)."""

import json
import os

import numpy as np
import pytest

import gpuk as keras
from gpuk import backend as K
from gpuk import layers

REFERENCE = np.load(os.path.join(os.path.dirname(__file__), "data", "training_reference.npz"))


def _weights(prefix):
    keys = sorted(
        (k for k in REFERENCE.files if k.startswith(prefix)), key=lambda k: int(k.rsplit("/", 1)[1])
    )
    return [REFERENCE[k] for k in keys]


def my_cost(y_true, y_pred):
    return K.mean(K.square(K.sqrt(y_pred + 1e-3) - K.sqrt(y_true + 1e-3)), axis=-1)


def my_crossentropy(y_true, y_pred):
    mask = K.minimum(y_true + 1.0, 1.0)
    return K.mean(mask * K.binary_crossentropy(y_true, y_pred), axis=-1)


def single_model():
    inputs = keras.Input((6,), name="x")
    h = layers.Dense(5, activation="tanh", name="hidden")(inputs)
    out = layers.Dense(3, activation="softmax", name="out")(h)
    return keras.Model(inputs, out)


OPTIMIZERS = {
    "sgd": lambda: keras.optimizers.SGD(0.1),
    "sgd_nesterov": lambda: keras.optimizers.SGD(0.05, momentum=0.9, nesterov=True),
    "rmsprop": lambda: keras.optimizers.RMSprop(0.01),
    "rmsprop_centered": lambda: keras.optimizers.RMSprop(0.01, momentum=0.5, centered=True),
    "adagrad": lambda: keras.optimizers.Adagrad(0.1),
    "adadelta": lambda: keras.optimizers.Adadelta(1.0),
    "adam": lambda: keras.optimizers.Adam(0.01),
    "adam_amsgrad": lambda: keras.optimizers.Adam(0.01, amsgrad=True),
    "adamw": lambda: keras.optimizers.AdamW(0.01, weight_decay=0.1),
    "adamax": lambda: keras.optimizers.Adamax(0.01),
    "nadam": lambda: keras.optimizers.Nadam(0.01),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_single_output_trajectory_matches_keras(name):
    model = single_model()
    model.set_weights(_weights("single/init/"))
    model.compile(OPTIMIZERS[name](), "categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(
        REFERENCE["single/x"],
        REFERENCE["single/y"],
        batch_size=16,
        epochs=3,
        shuffle=False,
        verbose=0,
    )
    assert sorted(history.history) == ["accuracy", "loss"]
    for key in ("loss", "accuracy"):
        np.testing.assert_allclose(
            history.history[key], REFERENCE[f"single/{name}/history/{key}"], rtol=2e-5, atol=1e-6
        )
    for got, want in zip(model.get_weights(), _weights(f"single/{name}/final/")):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=2e-6)


def test_two_output_custom_losses_and_loss_weights_match_keras():
    inputs = keras.Input((4, 6), name="main_input")
    h = layers.Dense(
        5, activation="tanh", name="shared", kernel_regularizer=keras.regularizers.l2(1e-3)
    )(inputs)
    a = layers.Dense(2, activation="sigmoid", name="denoise_output")(h)
    b = layers.Dense(1, activation="sigmoid", name="vad_output")(h)
    model = keras.Model(inputs, [a, b])
    model.set_weights(_weights("two/init/"))
    model.compile(
        keras.optimizers.Adam(0.01),
        loss=[my_cost, my_crossentropy],
        loss_weights=[10, 0.5],
        metrics=[["mae"], ["binary_accuracy"]],
    )
    history = model.fit(
        REFERENCE["two/x"],
        [REFERENCE["two/y_a"], REFERENCE["two/y_b"]],
        batch_size=8,
        epochs=3,
        shuffle=False,
        verbose=0,
        validation_split=0.2,
    )
    meta = json.loads(str(REFERENCE["meta"]))
    assert list(history.history) == meta["keys"]
    for key in meta["keys"]:
        np.testing.assert_allclose(
            history.history[key],
            REFERENCE[f"two/history/{key}"],
            rtol=2e-5,
            atol=1e-6,
            err_msg=key,
        )
    for got, want in zip(model.get_weights(), _weights("two/final/")):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=2e-6)
