"""Keras 3 trajectories of the optimizers added for issue 17 (Adafactor ... MultiOptimizer).

Run by hand with Keras 3 installed (not a test dependency):
    KERAS_BACKEND=jax /work/kvenv/bin/python tools/make_keras_fixtures_optimizers_more.py

Same layout as tests/optimizers/make_reference.py: two float32 variables ("kernel" (3, 4),
"bias" (4,)), five steps of fixed gradients; after every step the variables, at the end the
optimizer's variables (values and paths) and its config. Step 2 of the "lso_*" cases has an
infinite gradient (a skipped step for LossScaleOptimizer).
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
)
STEPS = 5

CASES = {
    "adafactor": ("Adafactor", {"learning_rate": 0.01}),
    "adafactor_defaults": ("Adafactor", {}),
    "adafactor_options": (
        "Adafactor",
        {"learning_rate": 0.5, "relative_step": False, "clip_threshold": 0.5, "epsilon_2": 0.1},
    ),
    "ftrl": ("Ftrl", {"learning_rate": 0.1}),
    "ftrl_defaults": ("Ftrl", {}),
    "ftrl_regularized": (
        "Ftrl",
        {
            "learning_rate": 0.1,
            "learning_rate_power": -0.7,
            "initial_accumulator_value": 0.3,
            "l1_regularization_strength": 0.01,
            "l2_regularization_strength": 0.02,
            "l2_shrinkage_regularization_strength": 0.03,
            "beta": 0.1,
        },
    ),
    "lamb": ("Lamb", {"learning_rate": 0.01}),
    "lamb_defaults": ("Lamb", {}),
    "lion": ("Lion", {"learning_rate": 0.01}),
    "lion_defaults": ("Lion", {"weight_decay": 0.1}),
    "muon": ("Muon", {"learning_rate": 0.01}),
    "muon_defaults": ("Muon", {}),
    "muon_plain": (
        "Muon",
        {"learning_rate": 0.02, "nesterov": False, "rms_rate": None, "ns_steps": 3},
    ),
    "muon_exclude": ("Muon", {"learning_rate": 0.01, "exclude_layers": ["kern"]}),
    "schedule_free_adamw": ("ScheduleFreeAdamW", {"learning_rate": 0.01}),
    "schedule_free_adamw_defaults": ("ScheduleFreeAdamW", {}),
    "schedule_free_adamw_warmup": (
        "ScheduleFreeAdamW",
        {"learning_rate": 0.01, "warmup_steps": 3, "weight_decay": 0.1},
    ),
    "lso_sgd": ("LossScaleOptimizer", {"inner": ("SGD", {"learning_rate": 0.1})}),
    "lso_adam_growth": (
        "LossScaleOptimizer",
        {
            "inner": ("Adam", {"learning_rate": 0.01}),
            "initial_scale": 8.0,
            "dynamic_growth_steps": 2,
        },
    ),
    "multi": (
        "MultiOptimizer",
        {"default": ("SGD", {"learning_rate": 0.1}), "map": {"kern.*": ("Adam", {})}},
    ),
    "lion_ema": ("Lion", {"learning_rate": 0.01, "use_ema": True, "ema_momentum": 0.5}),
}


def make_optimizer(module, class_name, kwargs):
    opts = module.optimizers
    kwargs = dict(kwargs)
    if class_name == "LossScaleOptimizer":
        inner = kwargs.pop("inner")
        return opts.LossScaleOptimizer(getattr(opts, inner[0])(**inner[1]), **kwargs)
    if class_name == "MultiOptimizer":
        default = getattr(opts, kwargs["default"][0])(**kwargs["default"][1])
        mapping = {k: getattr(opts, v[0])(**v[1]) for k, v in kwargs["map"].items()}
        return opts.MultiOptimizer(opts.OptimizerMap(default, mapping))
    return getattr(opts, class_name)(**kwargs)


def gradients(rng):
    grads = [
        [rng.normal(size=(3, 4)).astype("float32"), rng.normal(size=(4,)).astype("float32")]
        for _ in range(STEPS)
    ]
    return grads


def main():
    rng = np.random.default_rng(11)
    init = [rng.normal(size=(3, 4)).astype("float32"), rng.normal(size=(4,)).astype("float32")]
    grads = gradients(rng)
    out = {"init/0": init[0], "init/1": init[1]}
    for s, pair in enumerate(grads):
        for i, g in enumerate(pair):
            out[f"grads/{s}/{i}"] = g
    meta = {"keras": keras.__version__, "steps": STEPS, "cases": {}, "paths": {}, "configs": {}}
    for name, (class_name, kwargs) in CASES.items():
        variables = [
            keras.Variable(init[0], name="kernel"),
            keras.Variable(init[1], name="bias"),
        ]
        opt = make_optimizer(keras, class_name, kwargs)
        for s in range(STEPS):
            step_grads = [g.copy() for g in grads[s]]
            if name.startswith("lso") and s == 2:
                step_grads[1][0] = np.inf
            if name.startswith("lso"):
                step_grads = [g * float(opt.scale_loss(1.0)) for g in step_grads]
            if name.startswith("lso"):
                # JAX cannot run the stateful branch of LossScaleOptimizer eagerly.
                if not opt.built:
                    opt.build(variables)
                new_vars, new_opt = opt.stateless_apply(
                    [v.value for v in opt.variables], step_grads, [v.value for v in variables]
                )
                for v, value in zip(variables, new_vars):
                    v.assign(value)
                for v, value in zip(opt.variables, new_opt):
                    v.assign(value)
            else:
                opt.apply_gradients(zip(step_grads, variables))
            for i, v in enumerate(variables):
                out[f"{name}/step{s}/{i}"] = np.asarray(v.numpy())
        for j, w in enumerate(opt.variables):
            out[f"{name}/opt/{j}"] = np.asarray(w.numpy())
        meta["cases"][name] = [class_name, kwargs]
        meta["paths"][name] = [w.path for w in opt.variables]
        config = opt.get_config()
        config.pop("name", None)
        meta["configs"][name] = json.loads(json.dumps(config, default=str))
        print(name, meta["paths"][name])
    out["meta"] = np.array(json.dumps(meta))
    os.makedirs(OUT, exist_ok=True)
    np.savez_compressed(os.path.join(OUT, "reference.npz"), **out)
    print("wrote", len(CASES), "cases")


if __name__ == "__main__":
    main()
