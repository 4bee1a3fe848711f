# ruff: noqa: B023 - the per-model closures run inside their loop iteration
"""Check that files written by gpuk load in real Keras 3 and tf.keras 2 (run by hand).

Step 1 (gpuk, any Python with gpuk's requirements) writes gpuk files and gpuk's predictions::

    python3 tools/check_gpuk_files_in_keras.py write /tmp/gpuk_files

Step 2 loads them in each Keras (environments as in ``tools/make_keras_fixtures.py``)::

    KERAS_BACKEND=jax /work/kvenv/bin/python tools/check_gpuk_files_in_keras.py check \
        /tmp/gpuk_files keras3
    /work/tfvenv/bin/python tools/check_gpuk_files_in_keras.py check /tmp/gpuk_files tf_keras

For each model (rnnoise with reset_after False/True, multi) it checks: ``load_model(.h5)`` with
``compile=True`` (optimizer class and learning rate, predictions, one ``fit`` epoch),
``load_weights`` of gpuk's ``.weights.h5`` and legacy ``_w.h5`` into the same model built in
Keras, ``model_from_json(gpuk to_json())`` + weights, and (Keras 3) ``load_model(.keras)``.
It prints one line per check and exits non-zero if any failed.
"""

import os
import sys
import traceback

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "tests", "fixtures", "keras")
MODELS = {
    "rnnoise_ra0": "tfk_rnnoise_ra0",
    "rnnoise_ra1": "k3_rnnoise_ra1",
    "multi": "tfk_multi",
}


def _inputs(npz, prefix="x"):
    xs = [npz[k] for k in sorted(npz) if k.startswith(prefix) and k[len(prefix) :].isdigit()]
    return xs if len(xs) > 1 else xs[0]


def _targets(npz, prefix):
    return [npz[k] for k in sorted(npz) if k.startswith(prefix) and k[len(prefix) :].isdigit()]


def write(out):
    sys.path.insert(0, os.path.join(HERE, "..", "tests", "saving"))
    from rnnoise_objects import CUSTOM

    import gpuk  # noqa: F401
    import gpuk.saving  # noqa: F401
    from gpuk.models import load_model

    os.makedirs(out, exist_ok=True)
    for name, source in MODELS.items():
        npz = np.load(os.path.join(FIXTURES, source + ".npz"))
        model = load_model(os.path.join(FIXTURES, source + ".h5"), custom_objects=CUSTOM)
        model.fit(
            _inputs(npz, "fit_x"),
            _targets(npz, "fit_y"),
            batch_size=4,
            epochs=1,
            shuffle=False,
            verbose=0,
        )
        preds = model.predict(_inputs(npz), verbose=0)
        preds = preds if isinstance(preds, list) else [preds]
        model.save(os.path.join(out, name + ".h5"))
        model.save(os.path.join(out, name + ".keras"))
        model.save_weights(os.path.join(out, name + ".weights.h5"))
        model.save_weights(os.path.join(out, name + "_w.h5"))
        with open(os.path.join(out, name + ".json"), "w") as f:
            f.write(model.to_json())
        arrays = {f"pred_{i}": p for i, p in enumerate(preds)}
        arrays["lr"] = np.array(float(np.asarray(model.optimizer.learning_rate.numpy())))
        np.savez(os.path.join(out, name + ".npz"), **arrays)
        print("wrote", name)


def check(out, flavor):
    sys.argv = [sys.argv[0], flavor]
    sys.path.insert(0, HERE)
    import make_keras_fixtures as mk

    keras = mk.keras

    class WeightClip(mk.WeightClip):  # rnnoise's class rejects its own 'name' key in Keras
        def __init__(self, c=2, name=None):
            self.c = c

    custom = dict(mk.CUSTOM, WeightClip=WeightClip)
    failures = 0

    def report(label, fn):
        nonlocal failures
        try:
            print(f"{flavor:8s} {label:40s} OK {fn()}")
        except Exception as error:  # noqa: BLE001 - a report of every check
            failures += 1
            print(f"{flavor:8s} {label:40s} FAIL {type(error).__name__}: {str(error)[:300]}")
            if os.environ.get("VERBOSE"):
                traceback.print_exc()

    for name, source in MODELS.items():
        npz = np.load(os.path.join(FIXTURES, source + ".npz"))
        ref = np.load(os.path.join(out, name + ".npz"))
        x = _inputs(npz)
        expected = [ref[k] for k in sorted(ref) if k.startswith("pred_")]

        def err(model):
            preds = model.predict(x, verbose=0)
            preds = preds if isinstance(preds, list) else [preds]
            return max(float(np.abs(np.asarray(p) - e).max()) for p, e in zip(preds, expected))

        def build():
            if name == "multi":
                return mk.build_multi()
            model = mk.build_rnnoise(name.endswith("1"))
            mk.compile_rnnoise(model)
            return model

        def full_h5():
            model = keras.models.load_model(os.path.join(out, name + ".h5"), custom_objects=custom)
            lr = float(np.asarray(model.optimizer.learning_rate))
            assert abs(lr - float(ref["lr"])) < 1e-7, (lr, float(ref["lr"]))
            e = err(model)
            assert e < 1e-5, e
            model.fit(
                _inputs(npz, "fit_x"), _targets(npz, "fit_y"), batch_size=4, epochs=1, verbose=0
            )
            return f"max|diff|={e:.2e} {type(model.optimizer).__name__} lr={lr:.4g}, fit ran"

        def weights(suffix):
            def run():
                model = build()
                model.load_weights(os.path.join(out, name + suffix))
                e = err(model)
                assert e < 1e-5, e
                return f"max|diff|={e:.2e}"

            return run

        def from_json():
            with open(os.path.join(out, name + ".json")) as f:
                model = keras.models.model_from_json(f.read(), custom_objects=custom)
            model.load_weights(os.path.join(out, name + "_w.h5"))
            e = err(model)
            assert e < 1e-5, e
            return f"max|diff|={e:.2e} layers={[la.name for la in model.layers][-2:]}"

        def archive():
            model = keras.models.load_model(
                os.path.join(out, name + ".keras"), custom_objects=custom
            )
            e = err(model)
            assert e < 1e-5, e
            return f"max|diff|={e:.2e} lr={float(np.asarray(model.optimizer.learning_rate)):.4g}"

        report(f"{name}.h5 load_model", full_h5)
        if flavor == "keras3":
            report(f"{name}.weights.h5 load_weights", weights(".weights.h5"))
            report(f"{name}.keras load_model", archive)
        else:
            report(f"{name}.weights.h5 load_weights", weights(".weights.h5"))
        report(f"{name}_w.h5 load_weights", weights("_w.h5"))
        report(f"{name}.json model_from_json", from_json)
    return failures


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "write":
        write(sys.argv[2])
    elif len(sys.argv) >= 4 and sys.argv[1] == "check":
        sys.exit(1 if check(sys.argv[2], sys.argv[3]) else 0)
    else:
        raise SystemExit(__doc__)
