"""Five steps of every optimizer and option match Keras 3's numbers (make_reference.py)."""

import json
import os
import re

import numpy as np
import pytest

import gpuk
from gpuk import optimizers

# Part of the GPU-branch subset CI runs under the CuPy stand-in (docs/gpu-standin.md).
pytestmark = pytest.mark.standin

REFERENCE = np.load(os.path.join(os.path.dirname(__file__), "data", "reference.npz"))
META = json.loads(str(REFERENCE["meta"]))
CASES = META["cases"]
STEPS = META["steps"]


def make_optimizer(class_name, kwargs, schedule):
    kwargs = dict(kwargs)
    if schedule is not None:
        kwargs["learning_rate"] = getattr(optimizers.schedules, schedule[0])(**schedule[1])
    return getattr(optimizers, class_name)(**kwargs)


def run_case(name, xp, dtype="float32"):
    class_name, kwargs, schedule = CASES[name]
    variables = [
        gpuk.Variable(xp.asarray(REFERENCE["init/0"], dtype=dtype), name="kernel"),
        gpuk.Variable(xp.asarray(REFERENCE["init/1"], dtype=dtype), name="bias"),
    ]
    opt = make_optimizer(class_name, kwargs, schedule)
    trajectory = []
    for s in range(STEPS):
        grads = [xp.asarray(REFERENCE[f"grads/{s}/{i}"], dtype=dtype) for i in range(2)]
        opt.apply_gradients(zip(grads, variables))
        trajectory.append([v.numpy() for v in variables])
    return opt, variables, trajectory


@pytest.mark.parametrize("name", sorted(CASES))
def test_trajectory_matches_keras(name, xp):
    opt, variables, trajectory = run_case(name, xp)
    for s in range(STEPS):
        for i in range(2):
            np.testing.assert_allclose(
                trajectory[s][i],
                REFERENCE[f"{name}/step{s}/{i}"],
                rtol=1e-6,
                atol=1e-7,
                err_msg=f"{name} step {s} variable {i}",
            )
            assert trajectory[s][i].dtype == np.float32
    # The optimizer's own variables: same count, order, names, shapes and values as Keras 3.
    # Nadam's momentum-cache product is an unnamed Keras variable: "variable", "variable_1", ...
    keras_paths = [re.sub(r"^variable_\d+$", "variable", p) for p in META["paths"][name]]
    assert [v.path.split("/", 1)[1] for v in opt.variables] == keras_paths
    weights = opt.get_weights()
    assert len(weights) == len(META["paths"][name])
    for j, w in enumerate(weights):
        np.testing.assert_allclose(
            w, REFERENCE[f"{name}/opt/{j}"], rtol=1e-6, atol=1e-7, err_msg=f"{name} slot {j}"
        )
    assert int(opt.iterations.numpy()) == STEPS or opt.gradient_accumulation_steps


@pytest.mark.parametrize("name", sorted(CASES))
def test_config_matches_keras(name):
    opt = make_optimizer(*CASES[name])
    config = opt.get_config()
    assert config.pop("name")
    if isinstance(config["learning_rate"], dict):
        config["learning_rate"] = {k: config["learning_rate"][k] for k in ("class_name", "config")}
    assert config == META["configs"][name]
    clone = type(opt).from_config(opt.get_config())
    assert clone.get_config() == opt.get_config()


@pytest.mark.parametrize("name", ["adam", "nadam", "rmsprop_centered", "sgd_nesterov", "adadelta"])
def test_float64_variables_follow_the_same_trajectory(name, xp):
    _, variables, trajectory = run_case(name, xp, dtype="float64")
    for i in range(2):
        assert variables[i].dtype == np.float64
        np.testing.assert_allclose(
            trajectory[-1][i], REFERENCE[f"{name}/step{STEPS - 1}/{i}"], rtol=1e-5, atol=1e-6
        )
