"""Keras 3 ``ReversibleEmbedding`` values and a saved model, for issue 17.

Run by hand:
    KERAS_BACKEND=jax /work/kvenv/bin/python tools/make_keras_fixtures_reversible_embedding.py
"""

import json
import os

import keras
import numpy as np

OUT = os.path.join(
    os.path.dirname(os.path.abspath(__file__)),
    "..",
    "tests",
    "fixtures",
    "keras",
    "reversible_embedding",
)


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(0)
    ids = np.array([[1, 4, 0], [3, 0, 0]], dtype="int32")
    hidden = rng.normal(size=(2, 3, 5)).astype("float32")
    out = {"ids": ids, "hidden": hidden}
    meta = {}
    cases = {
        "tied": {},
        "untied_cap": {"tie_weights": False, "logit_soft_cap": 2.0, "mask_zero": True},
    }
    for name, kwargs in cases.items():
        layer = keras.layers.ReversibleEmbedding(7, 5, **kwargs)
        layer.build()
        weights = [rng.normal(size=w.shape).astype("float32") for w in layer.weights]
        layer.set_weights(weights)
        for i, w in enumerate(weights):
            out[f"{name}/w{i}"] = w
        out[f"{name}/forward"] = np.asarray(layer(ids))
        out[f"{name}/reverse"] = np.asarray(layer(hidden, reverse=True))
        meta[name] = {
            "config": layer.get_config(),
            "paths": [w.path for w in layer.weights],
            "kwargs": kwargs,
        }
    inputs = keras.Input((3,), dtype="int32")
    embedding = keras.layers.ReversibleEmbedding(7, 5, tie_weights=False, name="rev")
    logits = embedding(keras.layers.Dense(5)(embedding(inputs)), reverse=True)
    model = keras.Model(inputs, logits)
    model.save(os.path.join(OUT, "model.keras"))
    out["model/out"] = np.asarray(model.predict(ids, verbose=0))
    out["meta"] = np.array(json.dumps(meta))
    np.savez(os.path.join(OUT, "values.npz"), **out)
    print(meta)


if __name__ == "__main__":
    main()
