"""Write hand-built Keras 2.1-era rnnoise files (``tests/fixtures/keras/k21_*.h5``); run by hand.

Multi-backend Keras 2.0-2.3 cannot be installed on current Python, so its files are emulated in
its layout (``shared/keras-formats.md`` §1 "L2K" and §9): fixed-length byte-string attributes
(``numpy.bytes_`` scalars, ``|S`` arrays, as h5py 2 wrote them), ``class_name: "Model"``,
``VarianceScaling``/``L1L2`` objects, GRU with ``implementation: 1``, weight names
``vad_gru/kernel:0``, Adam config with ``lr``/``decay``, ``metrics: ["msse"]``,
``sample_weight_mode: null``, Keras 2 layer names (``concatenate_1``, ``concatenate_2``) and
the Keras layer order of §1.4. No ``optimizer_weights`` group (kept small).

* ``k21_rnnoise.h5``: with ``"reset_after": false``.
* ``k21_rnnoise_noreset.h5``: the same without the ``reset_after`` key (Keras 2 before
  keras-team/keras#9112); neither real Keras generation loads it, gpuk infers False from the
  ``(72,)`` bias.

The weights are those of ``tfk_rnnoise_ra0_w.h5`` (written by ``make_keras_fixtures.py
tf_keras``, run that first), so the expected predictions are ``tfk_rnnoise_ra0.npz``.
Needs only numpy and h5py::

    python3 tools/make_keras_fixtures_k21.py
"""

import json
import os

import h5py
import numpy as np

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "keras")

CLIP = {"class_name": "WeightClip", "config": {"name": "WeightClip", "c": 0.499}}
GLOROT = {
    "class_name": "VarianceScaling",
    "config": {"scale": 1.0, "mode": "fan_avg", "distribution": "uniform", "seed": None},
}
ZEROS = {"class_name": "Zeros", "config": {}}
L2 = {"class_name": "L1L2", "config": {"l1": 0.0, "l2": 9.999999974752427e-07}}


def dense(name, units, activation, inbound):
    return {
        "name": name,
        "class_name": "Dense",
        "config": {
            "name": name,
            "trainable": True,
            "units": units,
            "activation": activation,
            "use_bias": True,
            "kernel_initializer": GLOROT,
            "bias_initializer": ZEROS,
            "kernel_regularizer": None,
            "bias_regularizer": None,
            "activity_regularizer": None,
            "kernel_constraint": CLIP,
            "bias_constraint": CLIP,
        },
        "inbound_nodes": [[[inbound, 0, 0, {}]]],
    }


def gru(name, units, activation, inbound, with_reset_after):
    config = {
        "name": name,
        "trainable": True,
        "return_sequences": True,
        "return_state": False,
        "go_backwards": False,
        "stateful": False,
        "unroll": False,
        "units": units,
        "activation": activation,
        "recurrent_activation": "sigmoid",
        "use_bias": True,
        "kernel_initializer": GLOROT,
        "recurrent_initializer": {
            "class_name": "Orthogonal",
            "config": {"gain": 1.0, "seed": None},
        },
        "bias_initializer": ZEROS,
        "kernel_regularizer": L2,
        "recurrent_regularizer": L2,
        "bias_regularizer": None,
        "activity_regularizer": None,
        "kernel_constraint": CLIP,
        "recurrent_constraint": CLIP,
        "bias_constraint": CLIP,
        "dropout": 0.0,
        "recurrent_dropout": 0.0,
        "implementation": 1,
    }
    if with_reset_after:
        config["reset_after"] = False
    return {
        "name": name,
        "class_name": "GRU",
        "config": config,
        "inbound_nodes": [[[inbound, 0, 0, {}]]],
    }


def concat(name, inbound):
    return {
        "name": name,
        "class_name": "Concatenate",
        "config": {"name": name, "trainable": True, "axis": -1},
        "inbound_nodes": [[[n, 0, 0, {}] for n in inbound]],
    }


def model_config(with_reset_after):
    layers = [
        {
            "name": "main_input",
            "class_name": "InputLayer",
            "config": {
                "batch_input_shape": [None, None, 42],
                "dtype": "float32",
                "sparse": False,
                "name": "main_input",
            },
            "inbound_nodes": [],
        },
        dense("input_dense", 24, "tanh", "main_input"),
        gru("vad_gru", 24, "tanh", "input_dense", with_reset_after),
        concat("concatenate_1", ["input_dense", "vad_gru", "main_input"]),
        gru("noise_gru", 48, "relu", "concatenate_1", with_reset_after),
        concat("concatenate_2", ["vad_gru", "noise_gru", "main_input"]),
        gru("denoise_gru", 96, "tanh", "concatenate_2", with_reset_after),
        dense("denoise_output", 22, "sigmoid", "denoise_gru"),
        dense("vad_output", 1, "sigmoid", "vad_gru"),
    ]
    return {
        "class_name": "Model",
        "config": {
            "name": "model_1",
            "layers": layers,
            "input_layers": [["main_input", 0, 0]],
            "output_layers": [["denoise_output", 0, 0], ["vad_output", 0, 0]],
        },
    }


TRAINING_CONFIG = {
    "optimizer_config": {
        "class_name": "Adam",
        "config": {
            "lr": 0.0010000000474974513,
            "beta_1": 0.8999999761581421,
            "beta_2": 0.9990000128746033,
            "decay": 0.0,
            "epsilon": 1e-07,
            "amsgrad": False,
        },
    },
    "loss": ["mycost", "my_crossentropy"],
    "metrics": ["msse"],
    "sample_weight_mode": None,
    "loss_weights": [10, 0.5],
}


def fixed(strings):
    return np.array([s.encode("utf8") for s in strings], dtype=f"S{max(map(len, strings))}")


def write(path, with_reset_after, weights):
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = np.bytes_(b"2.1.6")
        f.attrs["backend"] = np.bytes_(b"tensorflow")
        f.attrs["model_config"] = np.bytes_(json.dumps(model_config(with_reset_after)).encode())
        f.attrs["training_config"] = np.bytes_(json.dumps(TRAINING_CONFIG).encode())
        g = f.create_group("model_weights")
        order = [
            "main_input",
            "input_dense",
            "vad_gru",
            "concatenate_1",
            "noise_gru",
            "concatenate_2",
            "denoise_gru",
            "denoise_output",
            "vad_output",
        ]
        g.attrs["layer_names"] = fixed(order)
        g.attrs["backend"] = np.bytes_(b"tensorflow")
        g.attrs["keras_version"] = np.bytes_(b"2.1.6")
        for layer in order:
            lg = g.create_group(layer)
            values = weights.get(layer, [])
            kinds = (
                ["kernel", "recurrent_kernel", "bias"] if len(values) == 3 else ["kernel", "bias"]
            )
            names = [f"{layer}/{k}:0" for k in kinds[: len(values)]]
            lg.attrs["weight_names"] = fixed(names) if names else np.array([])
            for name, value in zip(names, values):
                lg.create_dataset(name, data=value)


def main():
    weights = {}
    with h5py.File(os.path.join(HERE, "tfk_rnnoise_ra0_w.h5"), "r") as f:
        for layer in f.attrs["layer_names"]:
            layer = layer.decode() if isinstance(layer, bytes) else layer
            names = f[layer].attrs["weight_names"]
            weights[layer] = [
                np.asarray(f[layer][n.decode() if isinstance(n, bytes) else n]) for n in names
            ]
    weights = {k: v for k, v in weights.items() if v}
    write(os.path.join(HERE, "k21_rnnoise.h5"), True, weights)
    write(os.path.join(HERE, "k21_rnnoise_noreset.h5"), False, weights)
    print("wrote k21_rnnoise.h5, k21_rnnoise_noreset.h5")


if __name__ == "__main__":
    main()
