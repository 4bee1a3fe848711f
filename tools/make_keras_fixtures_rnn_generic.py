"""Keras 3 models with the generic ``RNN(cell)`` layer (built-in cells, StackedRNNCells, a
user-written cell), saved as .keras with inputs and outputs, for issue 17.

Run by hand:
    KERAS_BACKEND=jax /work/kvenv/bin/python tools/make_keras_fixtures_rnn_generic.py
"""

import json
import os

import keras
import numpy as np

OUT = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "keras", "rnn_generic"
)


@keras.saving.register_keras_serializable(package="gpuk_tests")
class MinimalRNNCell(keras.layers.Layer):
    """The cell of Keras's RNN docstring: ``h = x @ W + h_prev @ U``."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight(
            shape=(input_shape[-1], self.units), initializer="uniform", name="kernel"
        )
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, self.units), initializer="uniform", name="recurrent_kernel"
        )

    def call(self, inputs, states):
        prev_output = states[0]
        h = keras.ops.matmul(inputs, self.kernel)
        output = h + keras.ops.matmul(prev_output, self.recurrent_kernel)
        return output, [output]

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def models():
    L = keras.layers
    x = keras.Input((5, 3))
    yield "simple_seq", keras.Model(x, L.RNN(L.SimpleRNNCell(4), return_sequences=True)(x))
    x = keras.Input((5, 3))
    outs = L.RNN([L.LSTMCell(3), L.GRUCell(2)], return_state=True)(x)
    yield "stacked_state", keras.Model(x, outs)
    x = keras.Input((5, 3))
    masked = L.Masking()(x)
    y = L.RNN(L.LSTMCell(3), go_backwards=True, return_sequences=True)(masked)
    yield "lstm_backwards_masked", keras.Model(x, y)
    x = keras.Input((5, 3))
    y = L.RNN(MinimalRNNCell(4), return_sequences=True, zero_output_for_mask=True)(L.Masking()(x))
    yield "custom_cell_masked", keras.Model(x, y)
    x = keras.Input((5, 3))
    y = L.RNN([MinimalRNNCell(3), MinimalRNNCell(2)])(x)
    yield "custom_stacked", keras.Model(x, y)


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 5, 3)).astype("float32")
    x[0, 3:] = 0.0  # masked tail for the Masking models
    x[1, 1] = 0.0  # a masked step in the middle
    out = {"x": x}
    meta = {}
    for name, model in models():
        keras.utils.set_random_seed(3)
        weights = [rng.normal(size=w.shape).astype("float32") * 0.5 for w in model.weights]
        model.set_weights(weights)
        result = model.predict(x, verbose=0)
        results = keras.tree.flatten(result)
        meta_structure = str(keras.tree.map_structure(lambda a: list(a.shape), result))
        for i, r in enumerate(results):
            out[f"{name}/out{i}"] = np.asarray(r)
        for i, w in enumerate(weights):
            out[f"{name}/w{i}"] = w
        meta[name] = {
            "paths": [w.path for w in model.weights],
            "outputs": len(results),
            "structure": meta_structure,
            "rnn_config": model.layers[-1].get_config(),
        }
        model.save(os.path.join(OUT, f"{name}.keras"))
    out["meta"] = np.array(json.dumps(meta))
    np.savez(os.path.join(OUT, "values.npz"), **out)
    print(json.dumps({k: v["paths"] for k, v in meta.items()}, indent=1))


if __name__ == "__main__":
    main()
