"""Keras-written files for the h5_format edge tests (issue 18): tests/fixtures/keras/saving_h5/.

Run by hand, never by tests::

    /work/tfvenv/bin/python tools/make_keras_fixtures_saving_h5.py tf_keras
    KERAS_BACKEND=jax /work/kvenv/bin/python tools/make_keras_fixtures_saving_h5.py keras3

``tf_keras`` (tf-keras 2.21, the "new" 2.11+ optimizers):

* ``tfk_cudnngru_w.h5``: ``save_weights`` of a model holding a ``CuDNNGRU(4)`` (the layer
  tf.keras 1.x / Keras 2 trained on GPUs; bias stored flat, ``(6u,)``), seeded weights;
  ``tfk_cudnngru.npz``: the weights a ``GRU(4, reset_after=True)`` gets when tf-keras loads that
  file (its CuDNNGRU -> GRU conversion), an input ``x`` and the GRU's prediction ``pred``.
* ``tfk_sgd.h5``: a model trained 3 steps with plain ``SGD`` (no momentum): the optimizer's
  only variable is its step counter (``optimizer_weights`` = ``[iteration:0]``, value 3).

``keras3`` (Keras 3.15): ``k3_sgd.h5``: the same with Keras 3 (``[iteration, learning_rate]``).

``keras3`` also: ``k3_multi_optimizer.weights.h5``: ``save_weights`` of a model trained two
steps with a ``MultiOptimizer`` (Adam default, SGD(momentum) for layer ``b``'s variables), and
``k3_loss_scale.weights.h5``: the same model with a ``LossScaleOptimizer`` around Adam.

Both: ``<prefix>compile.json``: the compile state Keras writes for a model compiled with a loss
object, a metric name, a registered metric function, a metric object, a plain weighted-metric
function and loss weights (Keras 3: the ``.keras`` ``compile_config``; tf-keras: the ``.h5``
``training_config``).
"""

import os
import sys

import numpy as np

FLAVOR = sys.argv[1] if len(sys.argv) > 1 else "keras3"
OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "keras", "saving_h5")
if FLAVOR == "keras3":
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import keras
else:
    import tf_keras as keras


def seeded(model, seed):
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(size=w.shape).astype("float32") for w in model.get_weights()])


def sgd_model(path):
    inputs = keras.Input((3,))
    x = keras.layers.Dense(4, name="d1")(inputs)
    outputs = keras.layers.Dense(1, name="d2")(x)
    model = keras.Model(inputs, outputs)
    seeded(model, 1)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05), loss="mse")
    rng = np.random.default_rng(2)
    x = rng.normal(size=(12, 3)).astype("float32")
    y = rng.normal(size=(12, 1)).astype("float32")
    model.fit(x, y, batch_size=4, epochs=1, verbose=0, shuffle=False)
    model.save(path)


def cudnn_gru():
    from tf_keras.src.layers.rnn.cudnn_gru import CuDNNGRU

    inputs = keras.Input((5, 3))
    source = keras.Model(inputs, CuDNNGRU(4, name="cgru")(inputs))
    seeded(source, 3)
    source.save_weights(os.path.join(OUT, "tfk_cudnngru_w.h5"))
    inputs = keras.Input((5, 3))
    gru = keras.layers.GRU(4, reset_after=True, recurrent_activation="sigmoid", name="gru")
    target = keras.Model(inputs, gru(inputs))
    target.load_weights(os.path.join(OUT, "tfk_cudnngru_w.h5"))
    x = np.random.default_rng(4).normal(size=(2, 5, 3)).astype("float32")
    kernel, recurrent, bias = target.get_weights()
    np.savez(
        os.path.join(OUT, "tfk_cudnngru.npz"),
        kernel=kernel,
        recurrent_kernel=recurrent,
        bias=bias,
        x=x,
        pred=target.predict(x, verbose=0),
    )


def compile_state(prefix):
    import json
    import tempfile
    import zipfile

    @keras.utils.register_keras_serializable(package="pkg")
    def my_metric(y_true, y_pred):
        return keras.ops.mean(y_pred) if FLAVOR == "keras3" else keras.backend.mean(y_pred)

    def plain_fn(y_true, y_pred):
        return keras.ops.mean(y_true) if FLAVOR == "keras3" else keras.backend.mean(y_true)

    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Dense(2, name="out")(inputs))
    model.compile(
        optimizer=keras.optimizers.SGD(0.1),
        loss=keras.losses.MeanSquaredError(),
        metrics=["mae", my_metric, keras.metrics.MeanAbsoluteError(name="mae2")],
        weighted_metrics=[plain_fn],
        loss_weights=[2.0],
    )
    with tempfile.TemporaryDirectory() as folder:
        if FLAVOR == "keras3":
            model.save(os.path.join(folder, "m.keras"))
            with zipfile.ZipFile(os.path.join(folder, "m.keras")) as archive:
                state = json.loads(archive.read("config.json"))["compile_config"]
        else:
            import h5py

            model.save(os.path.join(folder, "m.h5"))
            with h5py.File(os.path.join(folder, "m.h5"), "r") as f:
                state = json.loads(f.attrs["training_config"])
    with open(os.path.join(OUT, prefix + "compile.json"), "w") as f:
        json.dump(state, f, indent=1, sort_keys=True)


def optimizer_layouts():
    def model_with(optimizer, path):
        inputs = keras.Input((3,))
        x = keras.layers.Dense(4, name="a")(inputs)
        outputs = keras.layers.Dense(2, name="b")(x)
        model = keras.Model(inputs, outputs)
        seeded(model, 7)
        model.compile(optimizer=optimizer, loss="mse")
        rng = np.random.default_rng(8)
        x = rng.normal(size=(8, 3)).astype("float32")
        y = rng.normal(size=(8, 2)).astype("float32")
        model.fit(x, y, batch_size=4, epochs=1, verbose=0, shuffle=False)
        model.save_weights(os.path.join(OUT, path))

    optimizer_map = keras.optimizers.OptimizerMap(default_optimizer=keras.optimizers.Adam(0.01))
    optimizer_map["b/.*"] = keras.optimizers.SGD(0.1, momentum=0.9)
    model_with(keras.optimizers.MultiOptimizer(optimizer_map), "k3_multi_optimizer.weights.h5")
    scaled = keras.optimizers.LossScaleOptimizer(keras.optimizers.Adam(0.01))
    model_with(scaled, "k3_loss_scale.weights.h5")


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    if FLAVOR == "keras3":
        sgd_model(os.path.join(OUT, "k3_sgd.h5"))
        compile_state("k3_")
        optimizer_layouts()
    else:
        sgd_model(os.path.join(OUT, "tfk_sgd.h5"))
        cudnn_gru()
        compile_state("tfk_")
