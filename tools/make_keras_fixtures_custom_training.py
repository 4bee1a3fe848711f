"""Training trajectories of Keras 3's customisation surface, for
tests/models/test_custom_training_vs_keras.py: a custom train_step (keras-io "Customizing what
happens in fit()"), an endpoint layer trained by add_loss alone, a
subclassed model with add_loss in call plus a compiled loss, and a subclassed model with tuple
outputs (per-output loss names).

Run with ``KERAS_BACKEND=jax /work/kvenv/bin/python tools/make_keras_fixtures_custom_training.py``.
"""

import os

import keras
import numpy as np
from keras import ops

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "keras", "custom_training")


class LogisticEndpoint(keras.layers.Layer):
    def __init__(self, name=None):
        super().__init__(name=name)
        self.loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)

    def call(self, targets, logits, sample_weights=None):
        # The keras-io layer also updates a BinaryAccuracy here; Keras's JAX backend refuses
        # metric updates inside a layer's call (that is checked analytically in the tests).
        loss = self.loss_fn(targets, logits, sample_weights)
        self.add_loss(loss)
        return ops.softmax(logits)


class AddLossModel(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.encode = keras.layers.Dense(4, activation="tanh")
        self.decode = keras.layers.Dense(6)

    def call(self, inputs):
        code = self.encode(inputs)
        self.add_loss(0.1 * ops.mean(ops.square(code)))
        return self.decode(code)


class TwoHeads(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.a = keras.layers.Dense(1)
        self.b = keras.layers.Dense(2)

    def call(self, x):
        return self.a(x), self.b(x)


def main():
    os.makedirs(OUT, exist_ok=True)
    keras.utils.set_random_seed(11)
    rng = np.random.default_rng(5)
    out = {}
    x = rng.random((40, 6)).astype("float32")
    targets = (rng.random((40, 10)) > 0.5).astype("float32")
    out["x"], out["targets"] = x, targets

    # endpoint layer: no compiled loss, add_loss + a layer-owned metric
    inputs = keras.Input(shape=(6,), name="inputs")
    target_in = keras.Input(shape=(10,), name="targets")
    logits = keras.layers.Dense(10)(inputs)
    predictions = LogisticEndpoint(name="predictions")(target_in, logits)
    model = keras.Model(inputs=[inputs, target_in], outputs=predictions)
    model.compile(optimizer=keras.optimizers.Adam(0.01))
    for i, w in enumerate(model.get_weights()):
        out[f"endpoint/init/{i}"] = w
    history = model.fit(
        {"inputs": x, "targets": targets}, batch_size=8, epochs=3, shuffle=False, verbose=0
    )
    for key, values in history.history.items():
        out[f"endpoint/history/{key}"] = np.asarray(values)
    for i, w in enumerate(model.get_weights()):
        out[f"endpoint/final/{i}"] = w

    # subclassed model, add_loss in call plus compiled loss and metric
    sub = AddLossModel()
    sub(x[:1])
    sub.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse", metrics=["mae"])
    for i, w in enumerate(sub.get_weights()):
        out[f"addloss/init/{i}"] = w
    history = sub.fit(x, x, batch_size=10, epochs=3, shuffle=False, verbose=0)
    for key, values in history.history.items():
        out[f"addloss/history/{key}"] = np.asarray(values)
    out["addloss/evaluate"] = np.asarray(sub.evaluate(x, x, verbose=0))

    # tuple outputs: per-output losses named by loss
    heads = TwoHeads()
    heads(x[:1])
    heads.compile("sgd", ["mse", "mae"], metrics=[["mae"], ["mse"]])
    for i, w in enumerate(heads.get_weights()):
        out[f"heads/init/{i}"] = w
    y2 = (rng.random((40, 1)).astype("float32"), rng.random((40, 2)).astype("float32"))
    out["heads/y0"], out["heads/y1"] = y2
    history = heads.fit(x, y2, batch_size=10, epochs=2, shuffle=False, verbose=0)
    for key, values in history.history.items():
        out[f"heads/history/{key}"] = np.asarray(values)
    np.savez(os.path.join(OUT, "reference.npz"), **out)


if __name__ == "__main__":
    main()
