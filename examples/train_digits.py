"""Main job: train a classifier on scikit-learn's handwritten digits, save it, reload it.

Run: ``pip install -e ".[examples]" && python examples/train_digits.py``

The data ships inside scikit-learn (no download). The script trains a small Keras-style
model with gpuk, reports test accuracy, saves the model to HDF5 (Keras's layout), loads it
back and checks the reloaded model predicts exactly what the trained one did.
"""

import os
import sys
import tempfile

import numpy as np

import gpuk as keras
from gpuk import layers


def load_digits_split(seed=0):
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = (digits.data / 16.0).astype("float32")
    y = digits.target.astype("int64")
    order = np.random.default_rng(seed).permutation(len(x))
    x, y = x[order], y[order]
    cut = int(0.8 * len(x))
    return (x[:cut], y[:cut]), (x[cut:], y[cut:])


def build_model():
    inputs = keras.Input(shape=(64,), name="pixels")
    hidden = layers.Dense(64, activation="relu", name="hidden")(inputs)
    hidden = layers.Dropout(0.1)(hidden)
    outputs = layers.Dense(10, activation="softmax", name="digit")(hidden)
    model = keras.Model(inputs, outputs, name="digits")
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=3e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def main(output_dir=None):
    keras.utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = load_digits_split()
    model = build_model()
    model.summary()
    history = model.fit(x_train, y_train, batch_size=32, epochs=25, validation_split=0.1, verbose=2)
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"device={keras.config.device()} test loss={loss:.4f} test accuracy={accuracy:.4f}")
    print(f"history keys: {sorted(history.history)}")

    output_dir = output_dir or tempfile.mkdtemp(prefix="gpuk-digits-")
    path = os.path.join(output_dir, "digits.h5")
    model.save(path)
    reloaded = keras.models.load_model(path)
    before, after = model.predict(x_test, verbose=0), reloaded.predict(x_test, verbose=0)
    max_diff = float(np.max(np.abs(before - after)))
    print(f"saved to {path}; reloaded model max prediction difference: {max_diff:.2e}")
    reloaded_accuracy = float(np.mean(after.argmax(axis=-1) == y_test))
    if max_diff > 1e-6 or accuracy < 0.9 or abs(reloaded_accuracy - accuracy) > 1e-6:
        print("FAILED: accuracy below 0.9 or the reloaded model differs", file=sys.stderr)
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else None))
