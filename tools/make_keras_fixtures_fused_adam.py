"""Write long Keras 3 Adam trajectories for the fused multi-tensor Adam kernel's tests.

Run by hand (Keras is not a dependency of gpuk or of its tests):
    KERAS_BACKEND=jax /work/kvenv/bin/python tools/make_keras_fixtures_fused_adam.py

For each case (plain Adam and AMSGrad, learning rate 0.01), one float32 variable of 96
elements takes STEPS steps of ``apply_gradients`` with fixed random gradients; the gradients,
the initial value, and the variable and slots after the last step are written to
``tests/fixtures/keras/fused_adam/adam_trajectories.npz``. A trajectory this long shows a
per-step bias of a few ulp (for instance ``1 - beta_2`` rounded in float32 on the device
instead of computed on the host) that five steps hide.
"""

import json
import os

import keras
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "fixtures", "keras", "fused_adam", "adam_trajectories.npz")
STEPS = 60
SIZE = 96
CASES = {
    "adam": {"learning_rate": 0.01},
    "adam_amsgrad": {"learning_rate": 0.01, "amsgrad": True},
}


def main():
    rng = np.random.default_rng(2026)
    init = rng.normal(size=SIZE).astype("float32")
    grads = (rng.normal(size=(STEPS, SIZE)) * rng.uniform(0.01, 2.0, size=SIZE)).astype("float32")
    arrays = {"init": init, "grads": grads}
    for name, kwargs in CASES.items():
        variable = keras.Variable(init.copy(), dtype="float32", name="w")
        optimizer = keras.optimizers.Adam(**kwargs)
        for step in range(STEPS):
            optimizer.apply_gradients([(keras.ops.convert_to_tensor(grads[step]), variable)])
        arrays[f"{name}/param"] = np.asarray(variable.numpy())
        for slot in optimizer.variables[2:]:
            arrays[f"{name}/{slot.name}"] = np.asarray(slot.numpy())
    arrays["meta"] = np.asarray(
        json.dumps({"steps": STEPS, "cases": CASES, "keras": keras.__version__})
    )
    np.savez_compressed(OUT, **arrays)
    print("wrote", OUT, sorted(arrays))


if __name__ == "__main__":
    main()
