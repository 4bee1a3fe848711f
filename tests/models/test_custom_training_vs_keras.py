"""Trajectories of add_loss-driven and subclassed models match Keras 3's
(tools/make_keras_fixtures_custom_training.py)."""

import os

import numpy as np

import gpuk as keras
from gpuk import ops

REF = np.load(
    os.path.join(
        os.path.dirname(__file__), "..", "fixtures", "keras", "custom_training", "reference.npz"
    )
)


def _weights(prefix):
    keys = sorted(
        (k for k in REF.files if k.startswith(prefix)), key=lambda k: int(k.split("/")[-1])
    )
    return [REF[k] for k in keys]


def _history(prefix):
    return {k.split("/")[-1]: REF[k] for k in REF.files if k.startswith(prefix + "/history/")}


def _assert_history(history, prefix):
    expected = _history(prefix)
    assert sorted(history.history) == sorted(expected)
    for key, values in expected.items():
        np.testing.assert_allclose(history.history[key], values, rtol=3e-5, atol=1e-6)


class LogisticEndpoint(keras.layers.Layer):
    def __init__(self, name=None):
        super().__init__(name=name)
        self.loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)

    def call(self, targets, logits, sample_weights=None):
        loss = self.loss_fn(targets, logits, sample_weights)
        self.add_loss(loss)
        return ops.softmax(logits)


def test_endpoint_layer_trained_by_add_loss_alone_matches_keras():
    inputs = keras.Input(shape=(6,), name="inputs")
    target_in = keras.Input(shape=(10,), name="targets")
    logits = keras.layers.Dense(10)(inputs)
    predictions = LogisticEndpoint(name="predictions")(target_in, logits)
    model = keras.Model(inputs=[inputs, target_in], outputs=predictions)
    model.compile(optimizer=keras.optimizers.Adam(0.01))
    model.set_weights(_weights("endpoint/init/"))
    history = model.fit(
        {"inputs": REF["x"], "targets": REF["targets"]},
        batch_size=8,
        epochs=3,
        shuffle=False,
        verbose=0,
    )
    _assert_history(history, "endpoint")
    for got, want in zip(model.get_weights(), _weights("endpoint/final/")):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=2e-6)


class AddLossModel(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.encode = keras.layers.Dense(4, activation="tanh")
        self.decode = keras.layers.Dense(6)

    def call(self, inputs):
        code = self.encode(inputs)
        self.add_loss(0.1 * ops.mean(ops.square(code)))
        return self.decode(code)


def test_subclass_with_add_loss_in_call_and_compiled_loss_matches_keras(xp):
    x = REF["x"]
    model = AddLossModel()
    model(x[:1])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse", metrics=["mae"])
    model.set_weights(_weights("addloss/init/"))
    history = model.fit(x, x, batch_size=10, epochs=3, shuffle=False, verbose=0)
    _assert_history(history, "addloss")
    np.testing.assert_allclose(model.evaluate(x, x, verbose=0), REF["addloss/evaluate"], rtol=3e-5)


class TwoHeads(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.a = keras.layers.Dense(1)
        self.b = keras.layers.Dense(2)

    def call(self, x):
        return self.a(x), self.b(x)


def test_subclass_with_tuple_outputs_logs_like_keras():
    x = REF["x"]
    model = TwoHeads()
    model(x[:1])
    model.compile("sgd", ["mse", "mae"], metrics=[["mae"], ["mse"]])
    model.set_weights(_weights("heads/init/"))
    history = model.fit(
        x, (REF["heads/y0"], REF["heads/y1"]), batch_size=10, epochs=2, shuffle=False, verbose=0
    )
    _assert_history(history, "heads")
    assert isinstance(model.predict(x, verbose=0), tuple)
