"""Keras 3 runs of fit with SwapEMAWeights (optimizers with use_ema), for issue 17.

Run by hand:
    KERAS_BACKEND=jax /work/kvenv/bin/python tools/make_keras_fixtures_callbacks_more.py
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
    "callbacks_more",
)


def main():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(8, 3)).astype("float32")
    y = rng.normal(size=(8, 2)).astype("float32")
    xv = rng.normal(size=(4, 3)).astype("float32")
    yv = rng.normal(size=(4, 2)).astype("float32")
    kernel = rng.normal(size=(3, 2)).astype("float32")
    bias = rng.normal(size=(2,)).astype("float32")
    out = {"x": x, "y": y, "xv": xv, "yv": yv, "kernel": kernel, "bias": bias}
    meta = {}
    for name, swap_on_epoch in (("swap", False), ("swap_on_epoch", True)):
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
        model.set_weights([kernel, bias])
        model.compile(
            optimizer=keras.optimizers.SGD(0.1, use_ema=True, ema_momentum=0.5), loss="mse"
        )
        history = model.fit(
            x,
            y,
            batch_size=4,
            epochs=3,
            shuffle=False,
            validation_data=(xv, yv),
            verbose=0,
            callbacks=[keras.callbacks.SwapEMAWeights(swap_on_epoch=swap_on_epoch)],
        )
        meta[name] = {k: [float(v) for v in vals] for k, vals in history.history.items()}
        for i, w in enumerate(model.get_weights()):
            out[f"{name}/final/{i}"] = w
        out[f"{name}/evaluate"] = np.asarray(
            model.evaluate(xv, yv, verbose=0, callbacks=[keras.callbacks.SwapEMAWeights()])
        )
    out["meta"] = np.array(json.dumps(meta))
    os.makedirs(OUT, exist_ok=True)
    np.savez(os.path.join(OUT, "swap_ema.npz"), **out)
    print(meta)


if __name__ == "__main__":
    main()
