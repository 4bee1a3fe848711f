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


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(gradient_accumulation_steps=1),
        dict(use_ema=True, ema_momentum=1.5),
        dict(use_ema=True, ema_momentum=-0.1),
        dict(use_ema=True, ema_overwrite_frequency=-1),
        dict(clipnorm=1.0, clipvalue=1.0),
        dict(clipnorm=1.0, global_clipnorm=1.0),
    ],
)
def test_bad_arguments_raise(kwargs):
    with pytest.raises(ValueError):
        gpuk.optimizers.SGD(learning_rate=0.1, **kwargs)


@pytest.mark.parametrize("kwargs", [dict(use_ema=True, ema_momentum=1.0), dict(clipnorm=1.0)])
def test_boundary_arguments_accepted(kwargs):
    gpuk.optimizers.SGD(learning_rate=0.1, **kwargs)


def test_weights_get_set_and_store_round_trip():
    w = gpuk.Variable(np.ones((2, 3), dtype="float32"))
    opt = gpuk.optimizers.Adam(learning_rate=0.1)
    with pytest.raises(ValueError, match="not yet been built"):
        opt.set_weights([])
    opt.build([w])
    opt.apply_gradients([(np.full((2, 3), 0.5, "float32"), w)])
    assert len(opt.weights) == len(opt.variables) == 4
    values = opt.get_weights()
    assert int(values[0]) == 1 and values[2].shape == (2, 3)
    other = gpuk.optimizers.Adam(learning_rate=0.1)
    other.build([gpuk.Variable(np.zeros((2, 3), dtype="float32"))])
    other.set_weights(values)
    for a, b in zip(values, other.get_weights()):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="variables"):
        other.set_weights(values[:2])
    with pytest.raises(ValueError, match="shape"):
        other.set_weights(values[:2] + [np.zeros((3, 2))] * 2)
    store = {}
    opt.save_own_variables(store)
    third = gpuk.optimizers.Adam(learning_rate=0.1)
    third.build([gpuk.Variable(np.zeros((2, 3), dtype="float32"))])
    third.load_own_variables(store)
    for a, b in zip(values, third.get_weights()):
        np.testing.assert_array_equal(a, b)
    with pytest.warns(UserWarning, match="Skipping variable loading"):
        third.load_own_variables({"0": store["0"]})


def _dense_vars():
    model = gpuk.Sequential([gpuk.Input((3,)), gpuk.layers.Dense(2, name="dense")], name="seq")
    return model.trainable_variables


# Variable names Keras 3.15 gives (the part after "<optimizer name>/").
SLOTS = {
    "adam": ["kernel_momentum", "kernel_velocity", "bias_momentum", "bias_velocity"],
    "sgd_momentum": ["kernel_momentum", "bias_momentum"],
    "sgd_accum": ["kernel_gradient_accumulator", "bias_gradient_accumulator"],
    "adam_ema": [
        "kernel_average",
        "bias_average",
        "kernel_momentum",
        "kernel_velocity",
        "bias_momentum",
        "bias_velocity",
    ],
}


@pytest.mark.parametrize(
    "key,make",
    [
        ("adam", lambda: gpuk.optimizers.Adam()),
        ("sgd_momentum", lambda: gpuk.optimizers.SGD(momentum=0.9)),
        ("sgd_accum", lambda: gpuk.optimizers.SGD(gradient_accumulation_steps=2)),
        ("adam_ema", lambda: gpuk.optimizers.Adam(use_ema=True)),
    ],
)
def test_slot_variable_names_and_order(key, make):
    opt = make()
    variables = _dense_vars()
    opt.build(variables)
    # Keras: "<variable path with / as _>_<slot>"; the kernel and bias paths end in
    # "dense/kernel" and "dense/bias" ("seq/dense/kernel" in Keras 3.15).
    prefix = variables[0].path[: -len("dense/kernel")].replace("/", "_")
    expected = ["iteration", "learning_rate"] + [f"{prefix}dense_{s}" for s in SLOTS[key]]
    assert [v.name for v in opt.variables] == expected
    assert [v.path for v in opt.variables] == [f"{opt.name}/{n}" for n in expected]


def test_add_variable_and_add_optimizer_variables():
    opt = gpuk.optimizers.SGD()
    opt.build([])
    v = opt.add_variable((2,), initializer="ones", name="foo")
    assert v.path == f"{opt.name}/foo"
    np.testing.assert_array_equal(np.asarray(v.numpy()), [1.0, 1.0])
    c = opt.add_variable((3,), initializer=lambda shape, dtype: np.arange(3, dtype=dtype))
    np.testing.assert_array_equal(np.asarray(c.numpy()), [0.0, 1.0, 2.0])
    with pytest.raises(ValueError):
        opt.add_variable((2,), initializer="nonsense")
    variables = _dense_vars()
    a, b = opt.add_optimizer_variables(variables, ["a", "b"], initializer=["zeros", "ones"])
    k, bias = (v.path.replace("/", "_") for v in variables)
    names = [x.name for x in opt.variables[-4:]]
    assert names == [f"{k}_a", f"{k}_b", f"{bias}_a", f"{bias}_b"]
    assert (
        float(np.asarray(b[1].numpy()).sum()) == 2.0 and float(np.asarray(a[0].numpy()).sum()) == 0
    )
    with pytest.raises(ValueError, match="number of provided names"):
        opt.add_optimizer_variables(_dense_vars(), ["a", "b"], initializer=["zeros"])


def test_ema_finalize_overwrites_with_the_average():
    # Keras 3.15: three SGD steps then finalize_variable_values.
    v = gpuk.Variable(np.array([1.0, 2.0], "float32"))
    opt = gpuk.optimizers.SGD(0.1, use_ema=True, ema_momentum=0.5)
    for _ in range(3):
        opt.apply_gradients([(np.array([1.0, -1.0], "float32"), v)])
    np.testing.assert_allclose(np.asarray(v.numpy()), [0.7, 2.3], rtol=1e-6)
    opt.finalize_variable_values([v])
    np.testing.assert_allclose(np.asarray(v.numpy()), [0.775, 2.225], rtol=1e-6)


def test_exclude_from_weight_decay_by_variable():
    # Keras 3.15: zero gradients, so only the decay moves the variable that is not excluded.
    a = gpuk.Variable(np.array([1.0, 2.0], "float32"), name="a")
    b = gpuk.Variable(np.array([1.0, 2.0], "float32"), name="bb")
    opt = gpuk.optimizers.AdamW(0.1, weight_decay=0.5)
    opt.exclude_from_weight_decay(var_list=[a])
    opt.apply_gradients([(np.zeros(2, "float32"), a), (np.zeros(2, "float32"), b)])
    np.testing.assert_allclose(np.asarray(a.numpy()), [1.0, 2.0])
    np.testing.assert_allclose(np.asarray(b.numpy()), [0.95, 1.9], rtol=1e-6)
    with pytest.raises(ValueError, match="before the optimizer is built"):
        opt.exclude_from_weight_decay(var_names=["a"])
