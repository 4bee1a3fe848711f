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


@pytest.mark.parametrize("name", sorted(CASES))
def test_optimizer_variables_match_keras(name):
    """Paths, shapes and dtypes of the state, in Keras's order (they name weights in files).

    The optimizer's own name prefix (uniquified per process) and ``iteration``'s dtype (int32 on
    JAX without x64, int64 on TensorFlow) depend on the run, not on the optimizer.
    """
    case = CASES[name]
    variables = [gpuk.Variable(np.asarray(v, "float32"), name=k) for k, v in case["init"]]
    opt = make(case)
    opt.build(variables)
    got = [[v.path.split("/", 1)[1], list(v.shape), str(v.dtype)] for v in opt.variables]
    want = [[p.split("/", 1)[1], shape, dtype] for p, shape, dtype in case["optimizer_variables"]]
    assert want[0][0] == got[0][0] == "iteration"
    assert got[1:] == want[1:]


def test_muon_newton_schulz_rejects_vectors():
    """Keras's message, from keras/src/optimizers/muon.py."""
    muon = optimizers.Muon()
    with pytest.raises(ValueError, match=r"at least 2 dimensions\. Received: shape=\(3,\)"):
        muon.zeropower_via_newtonschulz5(np.ones(3, "float32"), 5)
    assert muon.zeropower_via_newtonschulz5(np.eye(2, dtype="float32"), 1).shape == (2, 2)


def test_lion_rejects_beta_1_outside_0_1():
    for beta_1 in (0.0, -0.1, 1.5):
        with pytest.raises(ValueError, match=rf"`beta_1` must be in .*beta_1={beta_1}"):
            optimizers.Lion(beta_1=beta_1)
    assert optimizers.Lion(beta_1=1.0).beta_1 == 1.0
