"""Keras 3 trajectories that pin the optimizer branches mutation testing found unchecked.

Run by hand with Keras 3 installed (not a test dependency):
    KERAS_BACKEND=jax /work/kvenv/bin/python tools/make_keras_fixtures_optimizers_mut.py

Writes tests/fixtures/keras/optimizers_more/mutation.json: for every case the optimizer class
and arguments (a ``learning_rate`` given as ``[schedule class, arguments]`` is a schedule), the
initial variables (name, values), the gradients of every step, the variables after every step
and the optimizer's config. Read by tests/optimizers/test_optimizers_more_vs_keras.py.
"""

import json
import os

import keras
import numpy as np

OUT = os.path.join(
    os.path.dirname(os.path.abspath(__file__)),
    "..",
    "tests",
    "fixtures",
    "keras",
    "optimizers_more",
    "mutation.json",
)

# name: (optimizer class, arguments, {variable name: shape}, steps)
CASES = {
    "adafactor_rank3": (
        "Adafactor",
        {"learning_rate": 0.05, "relative_step": False},
        {"kernel3": (2, 3, 4), "kernel": (3, 2), "bias": (2,)},
        3,
    ),
    "adafactor_schedule": (
        "Adafactor",
        {"learning_rate": ["ExponentialDecay", [0.9, 10, 0.5]], "beta_2_decay": -0.5},
        {"kernel": (4, 3), "bias": (3,)},
        3,
    ),
    "adafactor_clip": (
        "Adafactor",
        {"learning_rate": 0.2, "clip_threshold": 0.3, "epsilon_1": 1e-3, "epsilon_2": 0.5},
        {"kernel": (3, 3), "bias": (3,)},
        3,
    ),
    "lion_betas": (
        "Lion",
        {"learning_rate": 0.05, "beta_1": 0.5, "beta_2": 0.3},
        {"kernel": (3, 2), "bias": (2,)},
        4,
    ),
    "lamb_betas": (
        "Lamb",
        {"learning_rate": 0.05, "beta_1": 0.5, "beta_2": 0.7, "epsilon": 0.01},
        {"kernel": (3, 2), "bias": (2,)},
        3,
    ),
    "lamb_zero": (
        "Lamb",
        {"learning_rate": 0.05},
        {"zeros": (3, 2), "bias": (2,)},
        2,
    ),
    "adadelta": (
        "Adadelta",
        {"learning_rate": 0.5, "rho": 0.6, "epsilon": 1e-3},
        {"kernel": (3, 2), "bias": (2,)},
        3,
    ),
    "adagrad": (
        "Adagrad",
        {"learning_rate": 0.3, "initial_accumulator_value": 0.5, "epsilon": 1e-2},
        {"kernel": (3, 2), "bias": (2,)},
        3,
    ),
    "adamax": (
        "Adamax",
        {"learning_rate": 0.2, "beta_1": 0.6, "beta_2": 0.5, "epsilon": 1e-2},
        {"kernel": (3, 2), "bias": (2,)},
        3,
    ),
    "muon_tall": (
        "Muon",
        {
            "learning_rate": 0.05,
            "momentum": 0.7,
            "adam_beta_1": 0.5,
            "adam_beta_2": 0.6,
            "weight_decay": 0.3,
            "adam_weight_decay": 0.2,
            "adam_lr_ratio": 0.5,
            "epsilon": 1e-2,
        },
        {"tall": (4, 2), "wide": (2, 3), "bias": (3,), "embedding_table": (3, 2)},
        3,
    ),
    "muon_coeffs": (
        "Muon",
        {
            "learning_rate": 0.05,
            "muon_a": 2.0,
            "muon_b": -1.5,
            "muon_c": 0.5,
            "ns_steps": 2,
            "exclude_embeddings": False,
            "rms_rate": 0.5,
        },
        {"embedding_table": (3, 2), "bias": (2,)},
        3,
    ),
}


def make(class_name, kwargs):
    kwargs = dict(kwargs)
    lr = kwargs.get("learning_rate")
    if isinstance(lr, list):
        kwargs["learning_rate"] = getattr(keras.optimizers.schedules, lr[0])(*lr[1])
    return getattr(keras.optimizers, class_name)(**kwargs)


def main():
    rng = np.random.default_rng(18)
    out = {}
    for name, (class_name, kwargs, shapes, steps) in CASES.items():
        init = {}
        for vname, shape in shapes.items():
            values = rng.normal(size=shape).astype("float32")
            if vname == "zeros":
                values[:] = 0
            init[vname] = values
        variables = [keras.Variable(v, name=k) for k, v in init.items()]
        opt = make(class_name, kwargs)
        grads, trajectory = [], []
        for _ in range(steps):
            g = [rng.normal(size=v.shape).astype("float32") for v in variables]
            opt.apply_gradients(zip([keras.ops.convert_to_tensor(x) for x in g], variables))
            grads.append([x.tolist() for x in g])
            trajectory.append([np.asarray(v.numpy()).tolist() for v in variables])
        config = opt.get_config()
        config.pop("name", None)
        if not isinstance(config.get("learning_rate"), float):
            config.pop("learning_rate", None)
        out[name] = {
            "class": class_name,
            "kwargs": kwargs,
            "init": [[k, v.tolist()] for k, v in init.items()],
            "grads": grads,
            "trajectory": trajectory,
            "config": config,
            "optimizer_variables": [[v.path, list(v.shape), str(v.dtype)] for v in opt.variables],
        }
    with open(OUT, "w") as f:
        json.dump(out, f)
    print("wrote", OUT, os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
