"""Write the Keras-made test fixtures of ``tests/fixtures/keras/`` (run by hand, never by tests).

The files are produced by real Keras so that gpuk's readers are tested against what Keras
actually writes (see ``shared/keras-formats.md`` §9). Keras is *not* a dependency of gpuk: run
this script in throw-away virtual environments outside the repository::

    # Keras 3 (JAX backend, CPU), about 0.7 GB
    python3 -m venv /work/kvenv && /work/kvenv/bin/pip install keras jax jaxlib h5py
    KERAS_BACKEND=jax /work/kvenv/bin/python tools/make_keras_fixtures.py keras3

    # tf.keras 2 (tf-keras on TensorFlow), about 2.2 GB
    python3 -m venv /work/tfvenv
    /work/tfvenv/bin/pip install tensorflow-cpu==2.21.0 tf-keras h5py
    /work/tfvenv/bin/python tools/make_keras_fixtures.py tf_keras

    # hand-written Keras 2.1-style files (needs only numpy + h5py; reads tfk_rnnoise_ra0_w.h5,
    # so run it after the tf_keras step)
    python3 tools/make_keras_fixtures_k21.py

Models (``shared/keras-formats.md`` "Models used in the experiments"):

* ``rnnoise``: the topology of xiph/rnnoise ``training/rnn_train.py`` (GRUs 24/48/96, custom
  ``WeightClip`` constraint whose config carries a stray ``name`` key, ``l2(1e-6)`` regularizers,
  custom losses ``mycost``/``my_crossentropy``, custom metric ``msse``, ``loss_weights=[10,
  0.5]``), built with ``reset_after=False`` (``ra0``) and ``reset_after=True`` (``ra1``).
* ``multi``: two inputs, two outputs, dict losses/loss_weights/metrics, ``L1L2``, ``MaxNorm``,
  ``NonNeg``, ``Orthogonal``, ``l1`` activity regularizer, ``Add``, ``Activation``,
  ``Dropout``, ``Adam(0.003)``.

Each model is fitted for one epoch on small seeded random data (batch 4, T=8). Outputs, with
prefix ``k3_`` (Keras 3) or ``tfk_`` (tf-keras):

* ``<model>.h5`` full legacy HDF5 (``model.save``), ``<model>.json`` (``to_json()``),
  ``<model>.npz`` (input ``x*``, ``predict`` outputs ``pred_<i>``, ``evaluate`` results
  ``eval`` with names ``eval_names``, fitted data ``fit_*``).
* ``multi``: also ``.weights.h5`` (W3), ``_w.h5`` (legacy ``save_weights``, tf-keras only),
  ``.keras`` (Keras 3 only); these keep the full optimizer state.
* ``rnnoise``: to keep the fixtures small (the Adam state triples an 88k-parameter model), the
  rnnoise ``.h5``/``.keras`` files are saved from a copy of the fitted model that carries the
  fitted weights and was compiled with the same arguments but never trained, so the file holds
  the full ``training_config``/``compile_config`` but an unbuilt optimizer. Keras 3 also writes
  ``rnnoise_ra0.weights.h5`` and ``rnnoise_ra1.keras``; tf-keras ``rnnoise_ra0_w.h5``.
"""

import json
import os
import sys

import numpy as np

FLAVOR = sys.argv[1] if len(sys.argv) > 1 else "keras3"
if FLAVOR == "keras3":
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import keras
    from keras import ops as K

    PREFIX = "k3_"

    def bce(target, output):  # keras.ops order is (target, output), as old K.binary_crossentropy
        return K.binary_crossentropy(target, output)

    register = keras.saving.register_keras_serializable(package="rnnoise")
elif FLAVOR == "tf_keras":
    import tf_keras as keras
    from tf_keras import backend as K

    PREFIX = "tfk_"

    def bce(target, output):
        return K.binary_crossentropy(target, output)

    def register(cls):  # the rnnoise script never registered it: tf-keras writes module null
        return cls

else:
    raise SystemExit(f"usage: {sys.argv[0]} keras3|tf_keras (got {FLAVOR!r})")

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "keras")
os.makedirs(OUT, exist_ok=True)
layers = keras.layers


# -- rnnoise's custom objects, as in xiph/rnnoise training/rnn_train.py --------------------------
def my_crossentropy(y_true, y_pred):
    # rnnoise passes (y_pred, y_true) to the old (target, output) function; kept as written there
    return K.mean(2 * K.abs(y_true - 0.5) * bce(y_pred, y_true), axis=-1)


def mymask(y_true):
    return K.minimum(y_true + 1.0, 1.0)


def msse(y_true, y_pred):
    return K.mean(mymask(y_true) * K.square(K.sqrt(y_pred) - K.sqrt(y_true)), axis=-1)


def mycost(y_true, y_pred):
    d = K.sqrt(y_pred) - K.sqrt(y_true)
    return K.mean(
        mymask(y_true) * (10 * K.square(K.square(d)) + K.square(d) + 0.01 * bce(y_pred, y_true)),
        axis=-1,
    )


@register
class WeightClip(keras.constraints.Constraint):
    def __init__(self, c=2):
        self.c = c

    def __call__(self, p):
        return K.clip(p, -self.c, self.c)

    def get_config(self):
        return {"name": self.__class__.__name__, "c": self.c}


CUSTOM = {
    "WeightClip": WeightClip,
    "mycost": mycost,
    "my_crossentropy": my_crossentropy,
    "msse": msse,
}


def build_rnnoise(reset_after):
    reg = 0.000001
    constraint = WeightClip(0.499)
    gru_kw = dict(
        recurrent_activation="sigmoid",
        return_sequences=True,
        reset_after=reset_after,
        kernel_regularizer=keras.regularizers.l2(reg),
        recurrent_regularizer=keras.regularizers.l2(reg),
        kernel_constraint=constraint,
        recurrent_constraint=constraint,
        bias_constraint=constraint,
    )
    main_input = keras.Input(shape=(None, 42), name="main_input")
    tmp = layers.Dense(
        24,
        activation="tanh",
        name="input_dense",
        kernel_constraint=constraint,
        bias_constraint=constraint,
    )(main_input)
    vad_gru = layers.GRU(24, activation="tanh", name="vad_gru", **gru_kw)(tmp)
    vad_output = layers.Dense(
        1,
        activation="sigmoid",
        name="vad_output",
        kernel_constraint=constraint,
        bias_constraint=constraint,
    )(vad_gru)
    noise_input = layers.concatenate([tmp, vad_gru, main_input])
    noise_gru = layers.GRU(48, activation="relu", name="noise_gru", **gru_kw)(noise_input)
    denoise_input = layers.concatenate([vad_gru, noise_gru, main_input])
    denoise_gru = layers.GRU(96, activation="tanh", name="denoise_gru", **gru_kw)(denoise_input)
    denoise_output = layers.Dense(
        22,
        activation="sigmoid",
        name="denoise_output",
        kernel_constraint=constraint,
        bias_constraint=constraint,
    )(denoise_gru)
    return keras.Model(inputs=main_input, outputs=[denoise_output, vad_output])


def compile_rnnoise(model):
    # Keras 3 wants one metrics entry per output; tf-keras applies a flat list to every output
    metrics = [[msse], []] if FLAVOR == "keras3" else [msse]
    model.compile(
        loss=[mycost, my_crossentropy], metrics=metrics, optimizer="adam", loss_weights=[10, 0.5]
    )


def build_multi():
    a = keras.Input(shape=(8,), name="in_a")
    b = keras.Input(shape=(6,), name="in_b")
    ha = layers.Dense(
        16,
        name="dense_a",
        kernel_initializer=keras.initializers.Orthogonal(seed=1),
        kernel_regularizer=keras.regularizers.L1L2(l1=0.01, l2=0.001),
        kernel_constraint=keras.constraints.MaxNorm(3.0),
    )(a)
    hb = layers.Dense(
        16,
        name="dense_b",
        bias_constraint=keras.constraints.NonNeg(),
        activity_regularizer=keras.regularizers.l1(1e-4),
    )(b)
    h = layers.Add(name="add")([ha, hb])
    h = layers.Activation("relu", name="relu")(h)
    h = layers.Dropout(0.25, name="dropout")(h)
    cls = layers.Dense(3, activation="softmax", name="cls")(h)
    reg = layers.Dense(2, name="reg")(h)
    model = keras.Model(inputs=[a, b], outputs=[cls, reg], name="multi")
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=0.003),
        loss={"cls": "categorical_crossentropy", "reg": "mse"},
        loss_weights={"cls": 1.0, "reg": 0.5},
        metrics={"cls": ["accuracy"], "reg": ["mae"]},
    )
    return model


def save_npz(name, x, preds, model, y, fit_x, fit_y):
    results = model.evaluate(x, y, batch_size=4, verbose=0, return_dict=True)
    names = sorted(results)
    arrays = {f"x{i}": v for i, v in enumerate(x if isinstance(x, list) else [x])}
    arrays.update({f"y{i}": v for i, v in enumerate(y)})
    arrays.update({f"pred_{i}": np.asarray(p) for i, p in enumerate(preds)})
    arrays.update(
        {f"fit_x{i}": v for i, v in enumerate(fit_x if isinstance(fit_x, list) else [fit_x])}
    )
    arrays.update({f"fit_y{i}": v for i, v in enumerate(fit_y)})
    arrays["eval"] = np.array([float(results[k]) for k in names], dtype=np.float64)
    arrays["eval_names"] = np.array(names)
    arrays["keras_version"] = np.array(keras.__version__)
    np.savez(os.path.join(OUT, PREFIX + name + ".npz"), **arrays)


def write_json(name, model):
    with open(os.path.join(OUT, PREFIX + name + ".json"), "w") as f:
        f.write(model.to_json())


def rnnoise(reset_after):
    name = f"rnnoise_ra{int(reset_after)}"
    keras.utils.set_random_seed(10 + reset_after)
    rng = np.random.default_rng(100 + reset_after)
    model = build_rnnoise(reset_after)
    compile_rnnoise(model)
    fit_x = rng.uniform(-1, 1, (8, 8, 42)).astype("float32")
    fit_y = [
        rng.uniform(0.01, 0.99, (8, 8, 22)).astype("float32"),
        rng.uniform(0.01, 0.99, (8, 8, 1)).astype("float32"),
    ]
    model.fit(fit_x, fit_y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    x = rng.uniform(-1, 1, (2, 8, 42)).astype("float32")
    y = [
        rng.uniform(0.01, 0.99, (2, 8, 22)).astype("float32"),
        rng.uniform(0.01, 0.99, (2, 8, 1)).astype("float32"),
    ]
    preds = model.predict(x, verbose=0)
    save_npz(name, x, preds, model, y, fit_x, fit_y)
    # A copy with the fitted weights, compiled but never trained: full training config, tiny
    # optimizer state (see the module docstring).
    small = build_rnnoise(reset_after)  # clone_model chokes on WeightClip's stray 'name' key
    small.set_weights(model.get_weights())
    compile_rnnoise(small)
    write_json(name, small)
    if FLAVOR == "keras3":
        if reset_after:
            small.save(os.path.join(OUT, PREFIX + name + ".keras"))
        else:
            small.save_weights(os.path.join(OUT, PREFIX + name + ".weights.h5"))
        compile_rnnoise(small)  # Keras 3 .h5 save drops the optimizer from compile_config
        if reset_after:  # one Keras 3 legacy .h5 of rnnoise is enough (size)
            small.save(os.path.join(OUT, PREFIX + name + ".h5"))
    else:
        if not reset_after:
            small.save_weights(os.path.join(OUT, PREFIX + name + "_w.h5"))
        small.save(os.path.join(OUT, PREFIX + name + ".h5"))


def multi():
    keras.utils.set_random_seed(3)
    rng = np.random.default_rng(7)
    model = build_multi()
    fit_x = [rng.normal(size=(8, 8)).astype("float32"), rng.normal(size=(8, 6)).astype("float32")]
    fit_y = [
        np.eye(3, dtype="float32")[rng.integers(0, 3, 8)],
        rng.normal(size=(8, 2)).astype("float32"),
    ]
    model.fit(fit_x, fit_y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    x = [rng.normal(size=(4, 8)).astype("float32"), rng.normal(size=(4, 6)).astype("float32")]
    y = [
        np.eye(3, dtype="float32")[rng.integers(0, 3, 4)],
        rng.normal(size=(4, 2)).astype("float32"),
    ]
    preds = model.predict(x, verbose=0)
    save_npz("multi", x, preds, model, y, fit_x, fit_y)
    write_json("multi", model)
    model.save_weights(os.path.join(OUT, PREFIX + "multi.weights.h5"))
    if FLAVOR == "keras3":
        model.save(os.path.join(OUT, PREFIX + "multi.keras"))
        # rebuild the optimizer part of compile_config that the .keras save needs (§5.2 bug)
    else:
        model.save_weights(os.path.join(OUT, PREFIX + "multi_w.h5"))
    model.save(os.path.join(OUT, PREFIX + "multi.h5"))
    # the optimizer's learning rate and step count, for compile-restoration tests
    with open(os.path.join(OUT, PREFIX + "multi_optimizer.json"), "w") as f:
        json.dump(
            {
                "iterations": int(np.asarray(model.optimizer.iterations)),
                "learning_rate": float(np.asarray(model.optimizer.learning_rate)),
                "n_variables": len(
                    model.optimizer.variables if FLAVOR == "keras3" else model.optimizer.variables()
                ),
            },
            f,
        )


if __name__ == "__main__":
    rnnoise(False)
    rnnoise(True)
    multi()
    print("wrote", sorted(f for f in os.listdir(OUT) if f.startswith(PREFIX)))
