"""Write the public callables of every Keras 3 namespace gpuk mirrors, and a few values of the
small functions added with them, for tests/test_keras_namespaces.py. Run by hand:

    KERAS_BACKEND=jax /work/kvenv/bin/python tools/keras_namespaces_all.py
"""

import json
import pathlib

import keras
import numpy as np

OUT = pathlib.Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "keras" / "namespaces"
NAMESPACES = [
    "activations",
    "backend",
    "callbacks",
    "config",
    "constraints",
    "distribution",
    "dtype_policies",
    "initializers",
    "layers",
    "losses",
    "metrics",
    "mixed_precision",
    "models",
    "ops",
    "optimizers",
    "preprocessing",
    "random",
    "regularizers",
    "saving",
    "utils",
]


def main():
    names = {"keras": sorted(n for n in dir(keras) if not n.startswith("_"))}
    for ns in NAMESPACES:
        module = getattr(keras, ns)
        names[ns] = sorted(
            n for n in dir(module) if not n.startswith("_") and callable(getattr(module, n))
        )
    names["keras"] = [n for n in names["keras"] if callable(getattr(keras, n))]
    (OUT / "all.json").write_text(json.dumps(names, indent=1, sort_keys=True) + "\n")
    pairs = [
        ("int32", "float32"),
        ("int8", "int32"),
        ("float16", "float32"),
        ("bool", "int8"),
        ("uint8", "int8"),
        ("float16", "int64"),
        ("bfloat16", "float16"),
    ]
    values = {
        "result_type": [[a, b, keras.backend.result_type(a, b)] for a, b in pairs],
        "stft_real": np.asarray(keras.initializers.STFT()((8, 1, 5))).tolist(),
        "stft_imag_spectrum": np.asarray(
            keras.initializers.STFT("imag", "hamming", "spectrum", True)((6, 2, 4))
        ).tolist(),
        "sparsemax": np.asarray(
            keras.activations.sparsemax(np.array([[0.1, 2.0, 1.5, -1.0], [0.0, 0.0, 0.0, 3.0]]))
        ).tolist(),
    }
    (OUT / "small_values.json").write_text(json.dumps(values) + "\n")
    print({k: len(v) for k, v in names.items()})


if __name__ == "__main__":
    main()
