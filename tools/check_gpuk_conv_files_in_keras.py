"""Check that gpuk's files of models with convolution layers load in Keras 3 (run by hand)::

    python3 tools/check_gpuk_conv_files_in_keras.py write /tmp/gpuk_conv    # gpuk's Python
    KERAS_BACKEND=jax /work/kvenv/bin/python tools/check_gpuk_conv_files_in_keras.py \
        check /tmp/gpuk_conv

``write`` builds each model of ``tests/saving/conv_models.py`` in gpuk, trains it one epoch on
seeded data (so the weights are gpuk's own) and saves ``.keras``, ``.h5`` and ``.weights.h5``
files with gpuk's predictions. ``check`` loads them in Keras (``load_model`` for the first two,
``load_weights`` into the same model built in Keras for the last) and compares predictions.
Prints one line per check; exits non-zero if any failed.
"""

import os
import sys
import traceback

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)

from tests.saving.conv_models import MODELS  # noqa: E402


def write(out):
    import gpuk
    import gpuk.saving  # noqa: F401

    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(5)
    gpuk.utils.set_random_seed(5)
    for name, build in MODELS.items():
        model = build(gpuk)
        shape = (8, *model.inputs[0].shape[1:])
        x = rng.normal(size=shape).astype("float32")
        y = rng.normal(size=(8, *model.outputs[0].shape[1:])).astype("float32")
        model.compile(optimizer="adam", loss="mse")
        model.fit(x, y, batch_size=4, epochs=1, verbose=0)
        np.savez(os.path.join(out, f"{name}.npz"), x=x, pred=model.predict(x, verbose=0))
        model.save(os.path.join(out, f"{name}.keras"))
        model.save(os.path.join(out, f"{name}.h5"))
        model.save_weights(os.path.join(out, f"{name}.weights.h5"))
    print("wrote", out)


def check(out):
    import keras

    failures = 0
    for name, build in MODELS.items():
        ref = np.load(os.path.join(out, f"{name}.npz"))
        for ext in (".keras", ".h5", ".weights.h5"):
            path = os.path.join(out, name + ext)
            try:
                if ext == ".weights.h5":
                    model = build(keras)
                    model.load_weights(path)
                else:
                    model = keras.models.load_model(path)
                pred = model.predict(ref["x"], verbose=0)
                error = float(np.max(np.abs(pred - ref["pred"])))
                ok = error < 1e-4
                print(f"{'ok  ' if ok else 'FAIL'} {name}{ext}: max |keras - gpuk| = {error:.2e}")
            except Exception:  # noqa: BLE001 - report every failure, keep checking
                ok = False
                print(f"FAIL {name}{ext}:")
                traceback.print_exc()
            failures += not ok
    print(f"{failures} failure(s)")
    return failures


if __name__ == "__main__":
    command, directory = sys.argv[1], sys.argv[2]
    if command == "write":
        write(directory)
    else:
        sys.exit(1 if check(directory) else 0)
