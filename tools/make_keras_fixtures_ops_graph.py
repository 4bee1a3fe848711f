"""A functional model built with ``keras.ops`` calls on symbolic tensors, saved by Keras 3.

Run with the reference Keras (never a gpuk dependency)::

    KERAS_BACKEND=jax /work/kvenv/bin/python tools/make_keras_fixtures_ops_graph.py

Writes ``tests/fixtures/keras/ops/ops_graph.keras`` and ``ops_graph.npz`` (inputs and Keras's
predictions); ``tests/layers/test_op_layer.py`` loads the file in gpuk and compares.
"""

import pathlib

import keras
import numpy as np
from keras import ops

OUT = pathlib.Path(__file__).resolve().parents[1] / "tests/fixtures/keras/ops"


def main():
    keras.utils.set_random_seed(0)
    inp = keras.Input((6, 4), name="signal")
    x = ops.expand_dims(inp, -1)
    x = ops.concatenate([x, x * 2.0], axis=-1)
    x = keras.layers.Dense(3, name="mix")(ops.reshape(x, (-1, 6, 8)))
    x = ops.mean(x, axis=1) + 1.0
    pooled = ops.softmax(-x[:, :2] / 2.0)
    projected = ops.einsum("bij,jk->bik", inp, ops.ones((4, 2)))
    picked = ops.cast(inp[..., 0:1, None], "float16")
    stacked = ops.stack([ops.max(inp, axis=-1), ops.sqrt(ops.abs(ops.sum(inp, axis=-1)))], 1)
    model = keras.Model(inp, [pooled, projected, picked, stacked])
    x_in = np.random.default_rng(0).normal(size=(3, 6, 4)).astype("float32")
    outputs = model.predict(x_in, verbose=0)
    OUT.mkdir(parents=True, exist_ok=True)
    model.save(OUT / "ops_graph.keras")
    np.savez(OUT / "ops_graph.npz", x=x_in, **{f"out{i}": o for i, o in enumerate(outputs)})
    print("wrote", OUT / "ops_graph.keras")


if __name__ == "__main__":
    main()
