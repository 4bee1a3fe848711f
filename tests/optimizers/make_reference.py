"""Write Keras 3 optimizer trajectories that tests/optimizers/test_vs_keras.py replays.

Run by hand with Keras 3 installed (not a test dependency):
    KERAS_BACKEND=jax /work/kvenv/bin/python tests/optimizers/make_reference.py

For each case of CASES: two float32 variables ("kernel" (2, 3) and "bias" (3,)) with fixed
values, five steps of ``apply_gradients`` with fixed gradients; the variables after every step,
the optimizer's variables (values and paths) and its config at the end are stored in
``data/reference.npz``; the case list itself is stored there too, so both sides share it.
"""

import json
import os

import keras
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
STEPS = 5

CASES = {
    "sgd": ("SGD", {"learning_rate": 0.1}, None),
    "sgd_momentum": ("SGD", {"learning_rate": 0.1, "momentum": 0.9}, None),
    "sgd_nesterov": ("SGD", {"learning_rate": 0.05, "momentum": 0.9, "nesterov": True}, None),
    "sgd_defaults": ("SGD", {}, None),
    "rmsprop": ("RMSprop", {"learning_rate": 0.01}, None),
    "rmsprop_momentum": ("RMSprop", {"learning_rate": 0.01, "momentum": 0.5}, None),
    "rmsprop_centered": (
        "RMSprop",
        {"learning_rate": 0.01, "momentum": 0.5, "centered": True},
        None,
    ),
    "rmsprop_centered_nomomentum": ("RMSprop", {"learning_rate": 0.01, "centered": True}, None),
    "adagrad": ("Adagrad", {"learning_rate": 0.1}, None),
    "adagrad_defaults": ("Adagrad", {}, None),
    "adadelta": ("Adadelta", {"learning_rate": 1.0}, None),
    "adadelta_defaults": ("Adadelta", {}, None),
    "adam": ("Adam", {"learning_rate": 0.01}, None),
    "adam_defaults": ("Adam", {}, None),
    "adam_amsgrad": ("Adam", {"learning_rate": 0.01, "amsgrad": True}, None),
    "adamw": ("AdamW", {"learning_rate": 0.01, "weight_decay": 0.1}, None),
    "adamw_defaults": ("AdamW", {}, None),
    "adamax": ("Adamax", {"learning_rate": 0.01}, None),
    "nadam": ("Nadam", {"learning_rate": 0.01}, None),
    "nadam_defaults": ("Nadam", {}, None),
    "adam_clipnorm": ("Adam", {"learning_rate": 0.01, "clipnorm": 0.5}, None),
    "sgd_clipnorm": ("SGD", {"learning_rate": 0.1, "clipnorm": 0.5}, None),
    "sgd_clipvalue": ("SGD", {"learning_rate": 0.1, "momentum": 0.5, "clipvalue": 0.3}, None),
    "sgd_global_clipnorm": ("SGD", {"learning_rate": 0.1, "global_clipnorm": 1.0}, None),
    "rmsprop_global_clipnorm": ("RMSprop", {"learning_rate": 0.01, "global_clipnorm": 0.5}, None),
    "sgd_weight_decay": ("SGD", {"learning_rate": 0.1, "weight_decay": 0.05}, None),
    "adam_weight_decay": ("Adam", {"learning_rate": 0.01, "weight_decay": 0.2}, None),
    "rmsprop_weight_decay_clipvalue": (
        "RMSprop",
        {"learning_rate": 0.01, "weight_decay": 0.1, "clipvalue": 0.5},
        None,
    ),
    "sgd_exponential": (
        "SGD",
        {"momentum": 0.5},
        ("ExponentialDecay", {"initial_learning_rate": 0.1, "decay_steps": 2, "decay_rate": 0.5}),
    ),
    "sgd_exponential_staircase": (
        "SGD",
        {},
        (
            "ExponentialDecay",
            {"initial_learning_rate": 0.1, "decay_steps": 2, "decay_rate": 0.5, "staircase": True},
        ),
    ),
    "adam_piecewise": (
        "Adam",
        {},
        ("PiecewiseConstantDecay", {"boundaries": [1, 3], "values": [0.1, 0.05, 0.01]}),
    ),
    "rmsprop_inverse_time": (
        "RMSprop",
        {},
        ("InverseTimeDecay", {"initial_learning_rate": 0.05, "decay_steps": 1, "decay_rate": 0.5}),
    ),
    "adam_cosine": (
        "Adam",
        {},
        ("CosineDecay", {"initial_learning_rate": 0.05, "decay_steps": 4}),
    ),
    "adam_cosine_warmup": (
        "Adam",
        {},
        (
            "CosineDecay",
            {
                "initial_learning_rate": 0.0,
                "decay_steps": 3,
                "alpha": 0.1,
                "warmup_target": 0.05,
                "warmup_steps": 2,
            },
        ),
    ),
    "sgd_polynomial": (
        "SGD",
        {},
        ("PolynomialDecay", {"initial_learning_rate": 0.1, "decay_steps": 3, "power": 2.0}),
    ),
    "sgd_cosine_restarts": (
        "SGD",
        {},
        ("CosineDecayRestarts", {"initial_learning_rate": 0.1, "first_decay_steps": 2}),
    ),
    "sgd_ema": (
        "SGD",
        {"learning_rate": 0.1, "use_ema": True, "ema_momentum": 0.9, "ema_overwrite_frequency": 2},
        None,
    ),
    "adam_ema": ("Adam", {"learning_rate": 0.01, "use_ema": True}, None),
    "adam_accumulation": ("Adam", {"learning_rate": 0.01, "gradient_accumulation_steps": 2}, None),
    "sgd_loss_scale": ("SGD", {"learning_rate": 0.1, "loss_scale_factor": 4.0}, None),
}


def make_optimizer(module, class_name, kwargs, schedule):
    kwargs = dict(kwargs)
    if schedule is not None:
        kwargs["learning_rate"] = getattr(module.optimizers.schedules, schedule[0])(**schedule[1])
    return getattr(module.optimizers, class_name)(**kwargs)


def main():
    rng = np.random.default_rng(7)
    init = [rng.normal(size=(2, 3)).astype("float32"), rng.normal(size=(3,)).astype("float32")]
    grads = [
        [rng.normal(size=(2, 3)).astype("float32"), rng.normal(size=(3,)).astype("float32")]
        for _ in range(STEPS)
    ]
    out = {"init/0": init[0], "init/1": init[1]}
    for s, pair in enumerate(grads):
        for i, g in enumerate(pair):
            out[f"grads/{s}/{i}"] = g
    meta = {"keras": keras.__version__, "steps": STEPS, "cases": {}, "paths": {}, "configs": {}}
    for name, (class_name, kwargs, schedule) in CASES.items():
        variables = [
            keras.Variable(init[0], name="kernel"),
            keras.Variable(init[1], name="bias"),
        ]
        opt = make_optimizer(keras, class_name, kwargs, schedule)
        for s in range(STEPS):
            opt.apply_gradients(zip(grads[s], variables))
            for i, v in enumerate(variables):
                out[f"{name}/step{s}/{i}"] = np.asarray(v.numpy())
        for j, w in enumerate(opt.variables):
            out[f"{name}/opt/{j}"] = np.asarray(w.numpy())
        meta["cases"][name] = [class_name, kwargs, schedule]
        meta["paths"][name] = [w.path.split("/", 1)[1] for w in opt.variables]
        config = opt.get_config()
        config.pop("name")
        if isinstance(config["learning_rate"], dict):
            config["learning_rate"] = {
                k: config["learning_rate"][k] for k in ("class_name", "config")
            }
        meta["configs"][name] = config
    out["meta"] = np.array(json.dumps(meta))
    np.savez_compressed(os.path.join(HERE, "data", "reference.npz"), **out)
    print("wrote", len(CASES), "cases")


if __name__ == "__main__":
    main()
