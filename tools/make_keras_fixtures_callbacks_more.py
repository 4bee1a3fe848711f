"""Keras 3 runs of fit with SwapEMAWeights (optimizers with use_ema), for issue 17.

Run by hand:
    KERAS_BACKEND=jax /work/kvenv/bin/python tools/make_keras_fixtures_callbacks_more.py
"""

import inspect
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


def swap_ema_more(x, y, xv, yv, kernel, bias):
    """Epoch-end weights a later callback sees with swap_on_epoch, and predict's leftover swap."""
    out = {}
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.set_weights([kernel, bias])
    model.compile(
        optimizer=keras.optimizers.SGD(0.1, use_ema=True, ema_momentum=0.5),
        loss="mse",
        jit_compile=False,
    )  # jax donates the shared EMA/variable buffer twice otherwise
    seen = {"begin": [], "end": []}
    probe = keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda e, logs: seen["begin"].append(model.get_weights()[0].tolist()),
        on_epoch_end=lambda e, logs: seen["end"].append(model.get_weights()[0].tolist()),
    )
    model.fit(
        x,
        y,
        batch_size=4,
        epochs=3,
        shuffle=False,
        validation_data=(xv, yv),
        verbose=0,
        callbacks=[keras.callbacks.SwapEMAWeights(swap_on_epoch=True), probe],
    )
    out["swap_on_epoch_seen"] = seen
    model.train_on_batch(x, y)
    out["before_predict"] = [w.tolist() for w in model.get_weights()]
    out["averages"] = [
        np.asarray(a).tolist() for a in model.optimizer._model_variables_moving_average
    ]
    out["predict"] = model.predict(
        xv, verbose=0, callbacks=[keras.callbacks.SwapEMAWeights()]
    ).tolist()
    out["after_predict"] = [w.tolist() for w in model.get_weights()]
    return out


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
    more = swap_ema_more(x, y, xv, yv, kernel, bias)
    more["tensorboard_defaults"] = {
        name: p.default
        for name, p in inspect.signature(keras.callbacks.TensorBoard).parameters.items()
        if p.default is not inspect.Parameter.empty
    }
    with open(os.path.join(OUT, "swap_ema_more.json"), "w") as f:
        json.dump(more, f)
    print(meta)


if __name__ == "__main__":
    main()
