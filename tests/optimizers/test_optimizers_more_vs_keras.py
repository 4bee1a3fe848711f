"""Optimizer branches that mutation testing (issue 18) found unchecked, against Keras 3.

Fixtures: tools/make_keras_fixtures_optimizers_mut.py (Keras 3.15, JAX backend): rank-3
Adafactor variables, schedules, clipping, non-default betas/epsilons, zero-norm LAMB
variables, tall and excluded Muon matrices.
"""

import json
import os

import numpy as np
import pytest

import gpuk
from gpuk import optimizers

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "..", "fixtures", "keras", "optimizers_more", "mutation.json")) as f:
    CASES = json.load(f)
TOLERANCE = {"Muon": dict(rtol=2e-5, atol=2e-6)}


def make(case):
    kwargs = dict(case["kwargs"])
    lr = kwargs.get("learning_rate")
    if isinstance(lr, list):
        kwargs["learning_rate"] = getattr(optimizers.schedules, lr[0])(*lr[1])
    return getattr(optimizers, case["class"])(**kwargs)


@pytest.mark.parametrize("name", sorted(CASES))
def test_trajectory_matches_keras(name, xp):
    case = CASES[name]
    variables = [
        gpuk.Variable(xp.asarray(np.asarray(v, "float32")), name=k) for k, v in case["init"]
    ]
    opt = make(case)
    tol = TOLERANCE.get(case["class"], dict(rtol=1e-6, atol=1e-7))
    for step, (grads, expected) in enumerate(zip(case["grads"], case["trajectory"])):
        opt.apply_gradients(zip([xp.asarray(np.asarray(g, "float32")) for g in grads], variables))
        for variable, want in zip(variables, expected):
            np.testing.assert_allclose(
                variable.numpy(), np.asarray(want, "float32"), err_msg=f"step {step}", **tol
            )


@pytest.mark.parametrize("name", sorted(CASES))
def test_config_matches_keras_and_round_trips(name):
    case = CASES[name]
    opt = make(case)
    config = opt.get_config()
    for key, want in case["config"].items():
        assert (
            config[key] == pytest.approx(want) if isinstance(want, float) else config[key] == want
        ), key
    again = type(opt).from_config(config).get_config()
    assert again == config
