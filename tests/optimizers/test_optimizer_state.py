"""Optimizer state Keras 3 keeps: no duplicate variables, accumulation over 3 steps.

Expected values: tests/fixtures/keras/mutation/values.json (tools/make_keras_fixtures_mutation.py).
"""

import json
import os

import numpy as np
import pytest

import gpuk

REF = json.load(
    open(
        os.path.join(
            os.path.dirname(__file__), "..", "fixtures", "keras", "mutation", "values.json"
        )
    )
)["optimizers"]


def test_setting_learning_rate_on_a_built_optimizer_adds_no_variable():
    opt = gpuk.optimizers.Adam(learning_rate=0.01)
    w = gpuk.Variable(np.zeros(3, dtype="float32"))
    opt.build([w])
    before = len(opt.variables)
    opt.learning_rate = 0.5
    after = len(opt.variables)
    assert [before, after] == REF["adam_vars_before_after"]
    np.testing.assert_allclose(float(np.asarray(opt.learning_rate)), 0.5)
    opt.learning_rate = 0.25
    assert len(opt.variables) == before
    np.testing.assert_allclose(float(np.asarray(opt.learning_rate)), 0.25)


@pytest.mark.parametrize("name", ["SGD", "RMSprop", "Adagrad"])
def test_learning_rate_reassignment_keeps_variable_count(name):
    opt = getattr(gpuk.optimizers, name)(learning_rate=0.1)
    w = gpuk.Variable(np.ones((2, 2), dtype="float32"))
    opt.build([w])
    n = len(opt.variables)
    for lr in (0.2, 0.3):
        opt.learning_rate = lr
    assert len(opt.variables) == n


def test_gradient_accumulation_with_three_steps():
    v = gpuk.Variable(np.array([1.0, -2.0, 3.0], dtype="float32"))
    opt = gpuk.optimizers.SGD(learning_rate=0.1, gradient_accumulation_steps=3)
    for i, expected in enumerate(REF["sgd_accum3"]):
        g = np.array([0.5 * (i + 1), -1.0, 0.25 * i], dtype="float32")
        opt.apply_gradients([(g, v)])
        np.testing.assert_allclose(np.asarray(v.numpy()), expected, rtol=1e-6, atol=1e-7)
    assert int(np.asarray(opt.iterations)) == REF["sgd_accum3_iterations"]
