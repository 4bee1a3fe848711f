"""Keras 3.15's Variable behaviour, recorded for tests/test_variable.py.

KERAS_BACKEND=jax /work/kvenv/bin/python tools/make_keras_fixtures_variable.py
"""

import json
import os

import keras
import numpy as np

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "keras", "variable")


def main():
    os.makedirs(OUT, exist_ok=True)
    cases = {}
    v = keras.Variable(initializer=keras.initializers.Constant(2.5), shape=(2, 3), name="w")
    cases["constant"] = {
        "dtype": v.dtype,
        "shape": list(v.shape),
        "name": v.name,
        "path": v.path,
        "trainable": v.trainable,
        "value": np.asarray(v.value).tolist(),
        "repr": repr(v),
    }
    v = keras.Variable(initializer="ones", shape=(2,), dtype="float64", trainable=False, name="b")
    v.assign_add(np.array([1.0, 2.0]))
    v.assign_sub([0.5, 0.5])
    cases["assign"] = {
        "dtype": v.dtype,
        "trainable": v.trainable,
        "value": v.numpy().tolist(),
        "float": float(v[1]),
        "asarray_dtype": str(np.asarray(v).dtype),
    }
    v = keras.Variable(3.0)
    cases["python_float"] = {"dtype": v.dtype, "shape": list(v.shape), "float": float(v)}
    v = keras.Variable(np.arange(6.0, dtype="float32").reshape(2, 3))
    cases["array"] = {
        "dtype": v.dtype,
        "times_two": np.asarray(v * 2.0).tolist(),
        "sum": float(keras.ops.sum(v)),
        "aggregation": v.aggregation,
        "synchronization": v.synchronization,
    }
    with open(os.path.join(OUT, "variable.json"), "w") as f:
        json.dump(cases, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
