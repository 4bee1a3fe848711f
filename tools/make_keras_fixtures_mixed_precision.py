"""A Keras 3 mixed_float16 model file (trained two steps) and its predictions, for issue 17.

Run by hand:
    KERAS_BACKEND=jax /work/kvenv/bin/python tools/make_keras_fixtures_mixed_precision.py
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
    "mixed_precision",
)


def main():
    keras.utils.set_random_seed(1)
    keras.mixed_precision.set_global_policy("mixed_float16")
    inputs = keras.Input((6,), name="x")
    hidden = keras.layers.Dense(8, activation="relu", name="hidden")(inputs)
    outputs = keras.layers.Dense(3, activation="softmax", dtype="float32", name="out")(hidden)
    model = keras.Model(inputs, outputs, name="mixed")
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 6)).astype("float32")
    y = rng.integers(0, 3, size=16)
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    os.makedirs(OUT, exist_ok=True)
    model.save(os.path.join(OUT, "mixed_float16.keras"))
    meta = {
        "policies": [layer.dtype_policy.name for layer in model.layers],
        "configs": [layer.get_config().get("dtype") for layer in model.layers],
        "optimizer": [v.path for v in model.optimizer.variables],
        "compute_dtypes": [layer.compute_dtype for layer in model.layers],
        "hidden_output_dtype": str(model.get_layer("hidden")(x).dtype),
    }
    np.savez(
        os.path.join(OUT, "mixed_float16.npz"),
        x=x,
        y=y,
        pred=np.asarray(model.predict(x, verbose=0)),
        opt=np.array(
            [
                np.asarray(v.numpy(), dtype="float64").ravel()[0] if v.shape == () else 0.0
                for v in model.optimizer.variables
            ]
        ),
        meta=np.array(json.dumps(meta)),
    )
    keras.mixed_precision.set_global_policy("float32")
    print(meta)


if __name__ == "__main__":
    main()
