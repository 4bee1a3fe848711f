"""Measure single-process training step times and gradient sizes for the scaling estimate
in docs/distribution.md: the rnnoise denoiser (examples/rnnoise_train.py) and a large MLP.

    PYTHONPATH=. python tools/measure_distribution_scaling.py
"""

import importlib.util
import pathlib
import time

import numpy as np

import gpuk as keras

ROOT = pathlib.Path(__file__).resolve().parents[1]


def step_time(model, x, y, repeats=3):
    model.train_on_batch(x, y)  # builds the optimizer
    start = time.perf_counter()
    for _ in range(repeats):
        model.train_on_batch(x, y)
    return (time.perf_counter() - start) / repeats


def main():
    spec = importlib.util.spec_from_file_location("rnnoise", ROOT / "examples/rnnoise_train.py")
    rnnoise = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(rnnoise)
    rng = np.random.default_rng(0)
    model = rnnoise.build_model()
    batch, window = 32, 100
    x = rng.uniform(size=(batch, window, 42)).astype("float32")
    y = [
        rng.uniform(size=(batch, window, 22)).astype("float32"),
        rng.uniform(size=(batch, window, 1)).astype("float32"),
    ]
    params = model.count_params()
    print(
        f"denoiser: {params} parameters ({params * 4 / 1e6:.2f} MB float32 gradients), "
        f"batch {batch} x {window} frames: {step_time(model, x, y) * 1e3:.0f} ms/step"
    )
    inputs = keras.Input((1024,))
    h = inputs
    for _ in range(3):
        h = keras.layers.Dense(4096, activation="relu")(h)
    mlp = keras.Model(inputs, keras.layers.Dense(10)(h))
    mlp.compile("adam", "sparse_categorical_crossentropy")
    x = rng.normal(size=(256, 1024)).astype("float32")
    y = rng.integers(0, 10, size=256)
    params = mlp.count_params()
    print(
        f"MLP 1024-4096x3-10: {params} parameters ({params * 4 / 1e6:.1f} MB float32 "
        f"gradients), batch 256: {step_time(mlp, x, y, repeats=2) * 1e3:.0f} ms/step"
    )


if __name__ == "__main__":
    main()
