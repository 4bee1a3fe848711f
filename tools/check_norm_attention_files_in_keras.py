"""Check by hand that gpuk's files of a model with normalization/attention layers load in Keras 3.

    /work/venv/bin/python tools/check_norm_attention_files_in_keras.py write /tmp/gpuk_na
    KERAS_BACKEND=jax /work/kvenv/bin/python tools/check_norm_attention_files_in_keras.py \
        check /tmp/gpuk_na

``write`` (gpuk) loads the Keras fixture model, fits it one epoch, and saves ``m.keras``,
``m.h5``, ``m.weights.h5`` and gpuk's predictions; ``check`` (Keras) loads each file (the
weights file into the model built by ``tools/make_keras_fixtures_norm_attention.py``), compares
the predictions and the BatchNormalization statistics, and runs one ``fit`` epoch.
"""

import os
import sys
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, "..", "tests", "fixtures", "keras", "norm_attention")


def write(out):
    sys.path.insert(0, os.path.join(HERE, ".."))
    import gpuk.saving  # noqa: F401
    from gpuk.models import load_model

    os.makedirs(out, exist_ok=True)
    ref = np.load(os.path.join(FIX, "model.npz"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = load_model(os.path.join(FIX, "model.keras"))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(ref["x"], ref["y"], batch_size=8, epochs=1, verbose=0)
    model.save(os.path.join(out, "m.keras"))
    model.save(os.path.join(out, "m.h5"))
    model.save_weights(os.path.join(out, "m.weights.h5"))
    np.savez(
        os.path.join(out, "m.npz"),
        x=ref["x"],
        y=ref["y"],
        pred=model.predict(ref["x"], verbose=0),
        bn_moving_variance=model.get_layer("bn").moving_variance.numpy(),
    )
    print("wrote", out)


def check(out):
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import keras

    sys.path.insert(0, HERE)
    from make_keras_fixtures_norm_attention import build_model

    ref = np.load(os.path.join(out, "m.npz"))
    failures = 0

    def report(label, fn):
        nonlocal failures
        try:
            model = fn()
            diff = float(np.abs(model.predict(ref["x"], verbose=0) - ref["pred"]).max())
            bn = np.asarray(model.get_layer("bn").moving_variance.value)
            bn_diff = float(np.abs(bn - ref["bn_moving_variance"]).max())
            ok = diff < 1e-5 and bn_diff < 1e-7
            if getattr(model, "optimizer", None) is None:
                model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
            model.fit(ref["x"], ref["y"], epochs=1, verbose=0)
            print(
                f"{'OK  ' if ok else 'FAIL'} {label}: max |pred diff| {diff:.2e}, bn {bn_diff:.1e}"
            )
            failures += not ok
        except Exception as error:  # noqa: BLE001 - report every check
            print(f"FAIL {label}: {type(error).__name__}: {error}")
            failures += 1

    report("load_model(m.keras)", lambda: keras.models.load_model(os.path.join(out, "m.keras")))
    report("load_model(m.h5)", lambda: keras.models.load_model(os.path.join(out, "m.h5")))

    def weights():
        model = build_model()
        model.load_weights(os.path.join(out, "m.weights.h5"))
        return model

    report("load_weights(m.weights.h5)", weights)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    {"write": write, "check": check}[sys.argv[1]](sys.argv[2])
