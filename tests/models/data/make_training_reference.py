"""Write Keras 3 training trajectories that tests/models/test_training_vs_keras.py replays.

Run by hand with Keras 3 installed (not a test dependency):
    KERAS_BACKEND=jax python tests/models/data/make_training_reference.py

For each case: fixed data and initial weights, ``fit(shuffle=False)`` for 3 epochs, then the
per-epoch history and the final weights are stored in ``training_reference.npz``.
"""

import json
import os

import keras
import numpy as np
from keras import layers
from keras import ops as K

HERE = os.path.dirname(os.path.abspath(__file__))


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


def two_output_model():
    inputs = keras.Input((4, 6), name="main_input")
    h = layers.Dense(
        5, activation="tanh", name="shared", kernel_regularizer=keras.regularizers.l2(1e-3)
    )(inputs)
    a = layers.Dense(2, activation="sigmoid", name="denoise_output")(h)
    b = layers.Dense(1, activation="sigmoid", name="vad_output")(h)
    return keras.Model(inputs, [a, b])


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


def main():
    rng = np.random.default_rng(0)
    out = {}
    x = rng.normal(size=(40, 6)).astype("float32")
    y = rng.integers(0, 3, size=(40,))
    y_onehot = np.eye(3, dtype="float32")[y]
    out["single/x"], out["single/y"] = x, y_onehot
    base = single_model()
    init = base.get_weights()
    for i, w in enumerate(init):
        out[f"single/init/{i}"] = w
    for name, make in OPTIMIZERS.items():
        model = single_model()
        model.set_weights(init)
        model.compile(make(), "categorical_crossentropy", metrics=["accuracy"])
        history = model.fit(x, y_onehot, batch_size=16, epochs=3, shuffle=False, verbose=0)
        for key, values in history.history.items():
            out[f"single/{name}/history/{key}"] = np.array(values)
        for i, w in enumerate(model.get_weights()):
            out[f"single/{name}/final/{i}"] = w

    x2 = rng.uniform(size=(30, 4, 6)).astype("float32")
    y_a = rng.uniform(size=(30, 4, 2)).astype("float32")
    y_b = (rng.uniform(size=(30, 4, 1)) > 0.5).astype("float32")
    model = two_output_model()
    for i, w in enumerate(model.get_weights()):
        out[f"two/init/{i}"] = w
    out["two/x"], out["two/y_a"], out["two/y_b"] = x2, y_a, y_b
    model.compile(
        keras.optimizers.Adam(0.01),
        loss=[my_cost, my_crossentropy],
        loss_weights=[10, 0.5],
        metrics=[["mae"], ["binary_accuracy"]],
    )
    history = model.fit(
        x2, [y_a, y_b], batch_size=8, epochs=3, shuffle=False, verbose=0, validation_split=0.2
    )
    keys = sorted(history.history)
    for key in keys:
        out[f"two/history/{key}"] = np.array(history.history[key])
    for i, w in enumerate(model.get_weights()):
        out[f"two/final/{i}"] = w
    out["meta"] = np.array(json.dumps({"keras": keras.__version__, "keys": keys}))
    np.savez(os.path.join(HERE, "training_reference.npz"), **out)
    print("wrote", len(out), "arrays; two-output history keys:", keys)


if __name__ == "__main__":
    main()
