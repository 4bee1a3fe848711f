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


def test_builtin_objects_come_from_the_right_module():
    config = {"class_name": "MeanAbsoluteError", "config": {"name": "m", "dtype": "float32"}}
    metric = compile_utils._builtin_object(config, "metric")
    assert isinstance(metric, gpuk.metrics.Metric) and metric.name == "m"
    loss = compile_utils._builtin_object(
        {"class_name": "MeanAbsoluteError", "config": {"name": "l", "reduction": "auto"}}, "loss"
    )
    assert isinstance(loss, gpuk.losses.Loss) and loss.name == "l"
    assert loss.reduction == "sum_over_batch_size"
    unknown = {"class_name": "NoSuchLoss", "config": {}}
    assert compile_utils._builtin_object(unknown, "loss") is unknown
    assert compile_utils._builtin_object({"class_name": "MeanSquaredError"}, "loss").name == (
        "mean_squared_error"
    )


class ScaledLoss(gpuk.losses.Loss):
    def __init__(self, scale=1.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale

    def call(self, y_true, y_pred):
        return self.scale * gpuk.ops.mean(gpuk.ops.abs(y_true - y_pred), axis=-1)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


def test_custom_classes_and_names_resolve():
    custom = {"ScaledLoss": ScaledLoss, "my_acc": plain_fn}
    loss = compile_utils._resolve_function_entry(
        {"class_name": "ScaledLoss", "config": {"scale": 3.0, "name": "s"}}, custom
    )
    assert isinstance(loss, ScaledLoss) and loss.scale == 3.0
    loss = compile_utils._resolve_function_entry(
        {"class_name": "X", "registered_name": "ScaledLoss", "config": None}, custom
    )
    assert isinstance(loss, ScaledLoss) and loss.scale == 1.0
    fn = {"module": "builtins", "class_name": "function", "config": "my_acc"}
    assert compile_utils._resolve_function_entry(fn, custom) is plain_fn
    fn = {"class_name": "x", "registered_name": "function", "config": "my_acc"}
    assert compile_utils._resolve_function_entry(fn, custom) is plain_fn
    assert compile_utils._resolve_function_entry("my_acc", custom) is plain_fn
    assert compile_utils._resolve_function_entry("mse", custom) == "mse"
    assert compile_utils._resolve_function_entry(None, custom) is None
    assert compile_utils._resolve_function_entry(5, custom) == 5
    assert compile_utils._resolve_function_entry({"a": 1}, custom) == {"a": 1}


def _wrapper(name, fn):
    return {"class_name": "MeanMetricWrapper", "config": {"name": name, "fn": fn}}


def test_tf_keras_metric_wrappers():
    entry = compile_utils._metric_entry
    outputs = ["out", "out_b"]
    # the longest output name is stripped first
    assert entry(_wrapper("out_b_mae", "mean_absolute_error"), None, outputs) == "mae"
    assert entry(_wrapper("out_mae", "mean_absolute_error"), None, outputs) == "mae"
    assert entry(_wrapper("out_accuracy", "categorical_accuracy"), None, outputs) == "accuracy"
    assert entry(_wrapper("acc", "binary_accuracy"), None, []) == "acc"
    assert entry(_wrapper("out_b_ce", "binary_crossentropy"), None, outputs) == "ce"
    # a user's function keeps its own object, whatever the name
    assert entry(_wrapper("acc", "my_acc"), {"my_acc": plain_fn}, []) is plain_fn
    assert entry(_wrapper("mae", "my_acc"), {"my_acc": plain_fn}, []) is plain_fn
    # a name that is not the function's alias resolves the function
    assert entry(_wrapper("renamed", "mean_absolute_error"), None, []) == "mean_absolute_error"
    fn_dict = {"class_name": "function", "config": "mean_absolute_error"}
    assert entry(_wrapper("mae", fn_dict), None, []) == "mae"
    assert entry({"class_name": "MeanMetricWrapper"}, None, []) is None
    assert entry("mse", None, []) == "mse"
    assert compile_utils._same_builtin("mae", "mean_absolute_error") is True
    assert compile_utils._same_builtin("mse", "mean_absolute_error") is False
    assert compile_utils._same_builtin("not_a_metric_xyz", "mean_absolute_error") is False


def test_optimizer_configs_of_every_generation():
    adam = compile_utils.optimizer_from_config("adam", None)
    assert type(adam).__name__ == "Adam"
    old = {"class_name": "Adam", "config": {"lr": 0.5, "decay": 0.0, "is_legacy_optimizer": True}}
    adam = compile_utils.optimizer_from_config(old, None)
    np.testing.assert_allclose(float(np.asarray(adam.learning_rate)), 0.5)
    both = {"class_name": "SGD", "config": {"lr": 0.5, "learning_rate": 0.25}}
    sgd = compile_utils.optimizer_from_config(both, None)
    np.testing.assert_allclose(float(np.asarray(sgd.learning_rate)), 0.25)
    assert old["config"]["lr"] == 0.5  # the caller's dict is not changed


def test_conservative_optimizer_config_drops_only_defaults():
    config = compile_utils.conservative_optimizer_config(gpuk.optimizers.Adam(0.01))
    assert config["class_name"] == "Adam"
    for key in compile_utils._OPTIONAL_OPTIMIZER_KEYS:
        assert key not in config["config"], key
    custom = gpuk.optimizers.Adam(0.01, clipnorm=1.0, use_ema=True, ema_momentum=0.5)
    config = compile_utils.conservative_optimizer_config(custom)["config"]
    assert config["clipnorm"] == 1.0 and config["use_ema"] is True
    assert config["ema_momentum"] == 0.5


def test_training_config_names_and_flags():
    model = _model()
    assert compile_utils.training_config(model) is None
    assert compile_utils.keras3_compile_config(model) is None
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"], weighted_metrics=["mse"])
    legacy = compile_utils.training_config(model)
    assert legacy["loss"] == "mean_squared_error"  # full names for losses
    assert legacy["metrics"] == ["mae"] and legacy["weighted_metrics"] == ["mse"]
    state = compile_utils.keras3_compile_config(model)
    assert state["loss"] == "mse" and state["metrics"] == ["mae"]
    assert state["jit_compile"] is False and state["run_eagerly"] is False
    assert state["steps_per_execution"] == 1
    assert compile_utils._legacy_entry(None, True) is None
    assert compile_utils._legacy_entry("cce", True) == "categorical_crossentropy"
    assert compile_utils._legacy_entry("cce", False) == "cce"
    assert compile_utils._legacy_entry(plain_fn, True) == "plain_fn"
    assert compile_utils._legacy_entry(ScaledLoss, True) is not None
    assert compile_utils._legacy_entry(3, True) == 3
    assert compile_utils._keras3_entry(None) is None
    entry = compile_utils._keras3_entry(ScaledLoss(2.0))
    assert entry["class_name"] == "ScaledLoss" and entry["config"]["scale"] == 2.0
    assert entry["module"] == "keras.losses" and entry["registered_name"] is None


def test_a_broken_compile_state_warns_and_leaves_the_model_uncompiled():
    model = _model()
    state = {"optimizer_config": {"class_name": "NoSuchOptimizer", "config": {}}, "loss": "mse"}
    with pytest.warns(UserWarning, match=r"f.h5: could not restore the compile state \(") as w:
        assert compile_utils.restore_compile(model, state, None, "f.h5") is False
    assert w[0].filename == __file__
    assert model.optimizer is None
