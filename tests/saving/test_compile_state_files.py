"""Compile state in files: what Keras 3.15 (``.keras`` ``compile_config``) and tf-keras 2.21
(``.h5`` ``training_config``) write for a loss object, metric names, registered and plain
metric functions, a metric object and loss weights (fixtures from
tools/make_keras_fixtures_saving_h5.py), read and written by gpuk/saving/compile_utils.py."""

import json
import os
import warnings

import numpy as np
import pytest

import gpuk
import gpuk.saving  # noqa: F401
from gpuk import layers, models
from gpuk.saving import compile_utils

FIX = os.path.join(os.path.dirname(__file__), "..", "fixtures", "keras", "saving_h5")


def _state(prefix):
    with open(os.path.join(FIX, prefix + "compile.json")) as f:
        return json.load(f)


@gpuk.saving.register_keras_serializable(package="pkg")
def my_metric(y_true, y_pred):
    return gpuk.ops.mean(y_pred)


def plain_fn(y_true, y_pred):
    return gpuk.ops.mean(y_true)


def _model():
    inputs = layers.Input((3,))
    model = models.Model(inputs, layers.Dense(2, name="out")(inputs))
    rng = np.random.default_rng(0)
    model.set_weights([rng.normal(size=w.shape).astype("float32") for w in model.get_weights()])
    return model


X = np.random.default_rng(1).normal(size=(6, 3)).astype("float32")
Y = np.random.default_rng(2).normal(size=(6, 2)).astype("float32")


def _expected(model):
    pred = model.predict(X, verbose=0)
    mse = float(np.mean((pred - Y) ** 2))
    mae = float(np.mean(np.abs(pred - Y)))
    return {
        "loss": 2.0 * mse,
        "mae": mae,
        "my_metric": float(np.mean(pred)),
        "mae2": mae,
        "plain_fn": float(np.mean(Y)),
    }


@pytest.mark.parametrize("prefix", ["k3_", "tfk_"])
def test_compile_state_written_by_keras_restores(prefix):
    model = _model()
    custom = {"plain_fn": plain_fn}
    assert compile_utils.restore_compile(model, _state(prefix), custom, "f") is True
    assert type(model.optimizer).__name__ == "SGD"
    np.testing.assert_allclose(float(np.asarray(model.optimizer.learning_rate)), 0.1, rtol=1e-6)
    assert type(model.loss).__name__ == "MeanSquaredError"
    results = model.evaluate(X, Y, verbose=0, return_dict=True)
    expected = _expected(model)
    assert sorted(results) == sorted(expected)
    for key, value in expected.items():
        np.testing.assert_allclose(results[key], value, rtol=1e-5, err_msg=key)


def test_keras3_compile_config_is_written_like_keras():
    model = _model()
    model.compile(
        optimizer=gpuk.optimizers.SGD(0.1),
        loss=gpuk.losses.MeanSquaredError(),
        metrics=["mae", my_metric, gpuk.metrics.MeanAbsoluteError(name="mae2")],
        weighted_metrics=[plain_fn],
        loss_weights=[2.0],
    )
    keras_state = _state("k3_")
    state = json.loads(json.dumps(compile_utils.keras3_compile_config(model)))
    for key in ("loss", "metrics", "weighted_metrics", "loss_weights"):
        assert state[key] == keras_state[key], key
    assert state["optimizer"]["class_name"] == "SGD"
    assert state["run_eagerly"] is False and state["steps_per_execution"] == 1


def test_legacy_training_config_is_written_like_tf_keras():
    model = _model()
    model.compile(
        optimizer=gpuk.optimizers.SGD(0.1),
        loss=gpuk.losses.MeanSquaredError(),
        metrics=["mae", my_metric, gpuk.metrics.MeanAbsoluteError(name="mae2")],
        weighted_metrics=[plain_fn],
        loss_weights=[2.0],
    )
    state = json.loads(json.dumps(compile_utils.training_config(model)))
    tfk = _state("tfk_")
    assert state["loss"]["class_name"] == tfk["loss"]["class_name"]
    assert state["loss"]["config"]["name"] == tfk["loss"]["config"]["name"]
    assert state["loss_weights"] == tfk["loss_weights"]
    assert state["metrics"][0] == "mae"
    assert state["metrics"][1] == "pkg>my_metric"
    assert state["metrics"][2] == {
        "class_name": "MeanAbsoluteError",
        "config": tfk["metrics"][0][2]["config"],
    }
    assert state["weighted_metrics"] == ["plain_fn"]
    optimizer = state["optimizer_config"]
    assert optimizer["class_name"] == "SGD"
    # defaults of the optional arguments are left out (tf.keras 2.x rejects some of them)
    assert "loss_scale_factor" not in optimizer["config"]
    assert "gradient_accumulation_steps" not in optimizer["config"]
    np.testing.assert_allclose(optimizer["config"]["learning_rate"], 0.1, rtol=1e-6)
    # and the file loads back into a compiled model
    loaded = _model()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert compile_utils.restore_compile(loaded, state, {"plain_fn": plain_fn}, "f")
    assert sorted(loaded.evaluate(X, Y, verbose=0, return_dict=True)) == sorted(_expected(loaded))
