"""Record how Keras 3 feeds data to the steps: tests/fixtures/keras/data_path/batches.json.

For each scenario (arrays, steps_per_epoch shorter and longer than the data, batch size
from steps, generators, PyDataset, evaluate with steps, class_weight) it records the batches
the model was called on (the first feature of each sample; ``"t"`` marks evaluation), the
History length, how many "ran out of data" warnings Keras gave, the loss values, and the
error messages for arguments a generator does not take. Run with:

    KERAS_BACKEND=jax /work/kvenv/bin/python tools/make_keras_fixtures_data_path.py

Generator scenarios stop where Keras replays the batches it peeked at to infer shapes (a
Keras artifact gpuk does not copy), see docs/data-path.md.
"""

import json
import pathlib
import warnings

import keras
import numpy as np

OUT = pathlib.Path(__file__).resolve().parents[1] / "tests/fixtures/keras/data_path"


class Recorder(keras.Model):
    """Dense(1) that records the first feature of each sample of every batch it sees."""

    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(1, kernel_initializer="ones")
        self.seen = []

    def call(self, x, training=False):
        try:
            values = [int(round(float(v))) for v in keras.ops.convert_to_numpy(x)[:, 0]]
        except Exception:  # symbolic build: no values
            values = None
        if values is not None and len(values) > 1:
            self.seen.append(values if training else ["t"] + values)
        return self.dense(x)


X = np.arange(10, dtype="float32").reshape(10, 1)
Y = (X % 3).astype("float32")


def generator(batches):
    for i in range(batches):
        yield X[2 * i : 2 * i + 2], Y[2 * i : 2 * i + 2]


class Batches(keras.utils.PyDataset):
    def __len__(self):
        return 3

    def __getitem__(self, i):
        return X[3 * i : 3 * i + 3], Y[3 * i : 3 * i + 3]


SCENARIOS = {
    "arrays": lambda m: m.fit(X, Y, batch_size=4, epochs=2, shuffle=False, verbose=0),
    "arrays_steps_short": lambda m: m.fit(
        X, Y, batch_size=4, steps_per_epoch=2, epochs=3, shuffle=False, verbose=0
    ),
    "arrays_steps_long": lambda m: m.fit(
        X, Y, batch_size=4, steps_per_epoch=5, epochs=2, shuffle=False, verbose=0
    ),
    "arrays_steps_no_batch_size": lambda m: m.fit(
        X, Y, steps_per_epoch=5, epochs=1, shuffle=False, verbose=0
    ),
    "generator_steps": lambda m: m.fit(
        generator(5), steps_per_epoch=2, epochs=3, shuffle=False, verbose=0
    ),
    "pydataset_steps_short": lambda m: m.fit(
        Batches(), steps_per_epoch=2, epochs=3, shuffle=False, verbose=0
    ),
    "pydataset_steps_long": lambda m: m.fit(
        Batches(), steps_per_epoch=5, epochs=1, shuffle=False, verbose=0
    ),
    "validation_split": lambda m: m.fit(
        X, Y, batch_size=3, validation_split=0.3, epochs=1, shuffle=False, verbose=0
    ),
    "evaluate_steps": lambda m: m.evaluate(X, Y, batch_size=4, steps=2, verbose=0),
    "evaluate_steps_long": lambda m: m.evaluate(X, Y, batch_size=4, steps=5, verbose=0),
    "class_weight_arrays": lambda m: m.fit(
        X, Y, batch_size=4, class_weight={0: 2.0, 2: 0.25}, shuffle=False, verbose=0
    ),
    "class_weight_pydataset": lambda m: m.fit(
        Batches(), class_weight={0: 2.0, 2: 0.25}, shuffle=False, verbose=0
    ),
    "class_weight_on_batch": lambda m: m.train_on_batch(X, Y, class_weight={0: 2.0, 2: 0.25}),
}

ERRORS = {
    "generator_y": dict(y=Y),
    "generator_sample_weight": dict(sample_weight=Y[:, 0]),
    "generator_class_weight": dict(class_weight={0: 1.0}),
    "generator_validation_split": dict(validation_split=0.2),
}


def run(fn):
    keras.utils.set_random_seed(0)
    model = Recorder()
    model.compile(keras.optimizers.SGD(0.0), "mse", run_eagerly=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fn(model)
    ran_out = sum("ran out of data" in str(w.message) for w in caught)
    record = {"seen": model.seen, "ran_out_warnings": ran_out}
    if isinstance(result, keras.callbacks.History):
        record["history"] = {k: [float(v) for v in vs] for k, vs in result.history.items()}
    else:
        record["result"] = float(np.asarray(result).reshape(-1)[0])
    return record


def main():
    records = {name: run(fn) for name, fn in SCENARIOS.items()}
    errors = {}
    for name, kwargs in ERRORS.items():
        model = Recorder()
        model.compile("sgd", "mse")
        try:
            model.fit(generator(2), epochs=1, verbose=0, **kwargs)
        except ValueError as error:
            errors[name] = str(error)
    OUT.mkdir(parents=True, exist_ok=True)
    payload = {"keras_version": keras.__version__, "scenarios": records, "errors": errors}
    (OUT / "batches.json").write_text(json.dumps(payload, indent=1) + "\n")
    print(f"wrote {OUT / 'batches.json'}")


if __name__ == "__main__":
    main()
