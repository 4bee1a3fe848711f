"""Generate recurrent_reference.npz with Keras 3 (JAX backend). Run by hand only:

    KERAS_BACKEND=jax /work/kvenv/bin/python tests/layers/data/make_recurrent_reference.py

Each case builds one Keras layer from ``config``, sets seeded random weights, and records the
outputs (all of them when ``return_state``) for float32 inputs, with and without a mask.
"""

import json
import os

import keras
import numpy as np

CASES = [
    ("gru_after_tanh", "GRU", {"units": 4, "return_sequences": True, "return_state": True}),
    (
        "gru_before_relu",
        "GRU",
        {"units": 4, "activation": "relu", "reset_after": False, "return_sequences": True},
    ),
    ("gru_before_tanh_last", "GRU", {"units": 3, "reset_after": False}),
    ("gru_backwards", "GRU", {"units": 3, "go_backwards": True, "return_sequences": True}),
    ("gru_nobias", "GRU", {"units": 3, "use_bias": False, "return_state": True}),
    ("lstm", "LSTM", {"units": 4, "return_sequences": True, "return_state": True}),
    ("lstm_last_backwards", "LSTM", {"units": 3, "go_backwards": True}),
    ("simple_rnn", "SimpleRNN", {"units": 4, "return_sequences": True, "return_state": True}),
    (
        "simple_rnn_relu_zero",
        "SimpleRNN",
        {"units": 3, "activation": "relu", "return_sequences": True, "zero_output_for_mask": True},
    ),
]


def main():
    rng = np.random.default_rng(1234)
    x = rng.normal(size=(3, 6, 5)).astype("float32")
    mask = np.array([[1, 1, 0, 1, 0, 1], [0, 1, 1, 1, 1, 0], [1, 1, 1, 1, 1, 1]], dtype=bool)
    data = {"x": x, "mask": mask}
    meta = []
    for name, cls, config in CASES:
        layer = getattr(keras.layers, cls)(**config)
        layer.build((None, None, 5))
        weights = [rng.normal(size=w.shape).astype("float32") * 0.5 for w in layer.get_weights()]
        layer.set_weights(weights)
        for i, w in enumerate(weights):
            data[f"{name}/w{i}"] = w
        for masked in (False, True):
            outs = layer(x, mask=mask if masked else None)
            outs = outs if isinstance(outs, (list, tuple)) else [outs]
            for i, o in enumerate(outs):
                data[f"{name}/{'masked' if masked else 'plain'}/out{i}"] = np.asarray(o)
        meta.append(
            {
                "name": name,
                "class_name": cls,
                "config": config,
                "n_weights": len(weights),
                "n_outputs": len(outs),
                "count_params": layer.count_params(),
            }
        )
    data["cases"] = np.array(json.dumps(meta))
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "recurrent_reference.npz")
    np.savez_compressed(out, **data)
    print("wrote", out, keras.__version__)


if __name__ == "__main__":
    main()
