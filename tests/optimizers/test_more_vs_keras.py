"""The optimizers added for issue 17 follow Keras 3's trajectories step by step.

Fixtures: tools/make_keras_fixtures_optimizers_more.py (Keras 3.15, JAX backend).
"""

import json
import os

import numpy as np
import pytest

import gpuk
from gpuk import optimizers

HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCE = np.load(
    os.path.join(HERE, "..", "fixtures", "keras", "optimizers_more", "reference.npz")
)
META = json.loads(str(REFERENCE["meta"]))
CASES = META["cases"]
STEPS = META["steps"]
# Muon's Newton-Schulz products and Ftrl's float32 pow round differently from XLA's.
TOLERANCE = {"muon": dict(rtol=2e-5, atol=2e-6), "ftrl": dict(rtol=1e-5, atol=1e-6)}


def make_optimizer(class_name, kwargs):
    kwargs = dict(kwargs)
    if class_name == "LossScaleOptimizer":
        inner = kwargs.pop("inner")
        return optimizers.LossScaleOptimizer(getattr(optimizers, inner[0])(**inner[1]), **kwargs)
    if class_name == "MultiOptimizer":
        default = getattr(optimizers, kwargs["default"][0])(**kwargs["default"][1])
        mapping = {k: getattr(optimizers, v[0])(**v[1]) for k, v in kwargs["map"].items()}
        return optimizers.MultiOptimizer(optimizers.OptimizerMap(default, mapping))
    return getattr(optimizers, class_name)(**kwargs)


def run_case(name, xp, steps=STEPS, opt=None, variables=None):
    class_name, kwargs = CASES[name]
    if variables is None:
        variables = [
            gpuk.Variable(xp.asarray(REFERENCE["init/0"]), name="kernel"),
            gpuk.Variable(xp.asarray(REFERENCE["init/1"]), name="bias"),
        ]
    opt = opt or make_optimizer(class_name, kwargs)
    trajectory = []
    for s in range(steps):
        grads = [REFERENCE[f"grads/{s}/{i}"].copy() for i in range(2)]
        if name.startswith("lso"):
            if s == 2:
                grads[1][0] = np.inf
            grads = [g * float(opt.scale_loss(1.0)) for g in grads]
        opt.apply_gradients(zip([xp.asarray(g) for g in grads], variables))
        trajectory.append([v.numpy() for v in variables])
    return opt, variables, trajectory


def tolerance(name):
    return TOLERANCE.get(name.split("_")[0], dict(rtol=1e-6, atol=1e-7))


@pytest.mark.parametrize("name", sorted(CASES))
def test_trajectory_matches_keras(name, xp):
    opt, _, trajectory = run_case(name, xp)
    for s in range(STEPS):
        for i in range(2):
            np.testing.assert_allclose(
                trajectory[s][i],
                REFERENCE[f"{name}/step{s}/{i}"],
                err_msg=f"{name} step {s} variable {i}",
                **tolerance(name),
            )
    keras_paths = [p.split("/", 1)[1] for p in META["paths"][name]]
    assert [v.path.split("/", 1)[1] for v in opt.variables] == keras_paths
    weights = opt.get_weights()
    assert len(weights) == len(keras_paths)
    for j, w in enumerate(weights):
        np.testing.assert_allclose(
            w, REFERENCE[f"{name}/opt/{j}"], err_msg=f"{name} slot {j}", **tolerance(name)
        )


def _strip_names(config):
    if isinstance(config, dict):
        return {k: _strip_names(v) for k, v in config.items() if k != "name"}
    return config


@pytest.mark.parametrize("name", sorted(CASES))
def test_config_matches_keras(name):
    opt = make_optimizer(*CASES[name])
    config = json.loads(json.dumps(opt.get_config()))
    assert _strip_names(config) == _strip_names(META["configs"][name])
    clone = type(opt).from_config(opt.get_config())
    assert _strip_names(clone.get_config()) == _strip_names(opt.get_config())
    assert type(optimizers.deserialize(optimizers.serialize(opt))) is type(opt)


@pytest.mark.parametrize(
    "name",
    [
        "adafactor",
        "ftrl_regularized",
        "lion_ema",
        "lso_adam_growth",
        "muon",
        "multi",
        "schedule_free_adamw_warmup",
    ],
)
def test_state_restores_and_continues(name):
    """set_weights(get_weights()) after three steps, then two more, equals five steps."""
    opt, variables, _ = run_case(name, np, steps=3)
    fresh = make_optimizer(*CASES[name])
    copies = [gpuk.Variable(v.numpy(), name=v.name) for v in variables]
    fresh.build(copies)
    fresh.set_weights(opt.get_weights())
    class_name = CASES[name][0]
    for s in range(3, STEPS):
        grads = [REFERENCE[f"grads/{s}/{i}"].copy() for i in range(2)]
        if class_name == "LossScaleOptimizer":
            grads = [g * float(fresh.scale_loss(1.0)) for g in grads]
        fresh.apply_gradients(zip(grads, copies))
    for i in range(2):
        np.testing.assert_allclose(
            copies[i].numpy(), REFERENCE[f"{name}/step{STEPS - 1}/{i}"], **tolerance(name)
        )


def test_argument_errors():
    with pytest.raises(ValueError, match="beta_1"):
        optimizers.Lion(beta_1=0.0)
    with pytest.raises(ValueError, match="initial_accumulator_value"):
        optimizers.Ftrl(initial_accumulator_value=-1.0)
    with pytest.raises(ValueError, match="dynamic=False"):
        optimizers.LossScaleOptimizer(optimizers.SGD(), dynamic=False)
    with pytest.raises(ValueError, match="clipnorm"):
        optimizers.LossScaleOptimizer(optimizers.SGD(), clipnorm=1.0)
    with pytest.raises(TypeError, match="inner_optimizer"):
        optimizers.LossScaleOptimizer("sgd")
    with pytest.raises(TypeError, match="default_optimizer"):
        optimizers.OptimizerMap("sgd")
    opt_map = optimizers.OptimizerMap(optimizers.SGD())
    with pytest.raises(ValueError, match="LossScaleOptimizer"):
        opt_map["x"] = optimizers.LossScaleOptimizer(optimizers.SGD())
    with pytest.raises(AttributeError, match="sub-optimizers"):
        optimizers.MultiOptimizer(opt_map).learning_rate  # noqa: B018


def test_optimizer_map_lookup():
    adam, sgd, rms = optimizers.Adam(), optimizers.SGD(), optimizers.RMSprop()
    opt_map = optimizers.OptimizerMap(default_optimizer=rms)
    opt_map["encoder/layer_0/dense"] = adam
    opt_map["encoder/.*"] = sgd
    assert opt_map["encoder/layer_0/dense"] is adam
    assert opt_map["encoder/layer_0/attention/query"] is sgd
    assert opt_map["decoder/layer_0/dense"] is rms
    with pytest.raises(ValueError, match="already exists"):
        opt_map["encoder/.*"] = adam


def test_multi_optimizer_with_a_selector_function():
    kernel = gpuk.Variable(np.ones((2, 2), "float32"), name="kernel")
    bias = gpuk.Variable(np.ones((2,), "float32"), name="bias")
    sgd, adam = optimizers.SGD(0.5), optimizers.Adam(0.1)
    opt = optimizers.MultiOptimizer(lambda v: sgd if v.name == "kernel" else adam)
    opt.apply_gradients([(np.ones((2, 2), "float32"), kernel), (np.ones(2, "float32"), bias)])
    np.testing.assert_allclose(kernel.numpy(), 0.5)
    np.testing.assert_allclose(bias.numpy(), 0.9, rtol=1e-5)
    assert opt.optimizers == [sgd, adam]
    assert int(opt.iterations.numpy()) == 1


@pytest.mark.parametrize(
    "make",
    [
        lambda: optimizers.Adafactor(0.01),
        lambda: optimizers.Muon(0.01),
        lambda: optimizers.Lion(0.001, use_ema=True),
        lambda: optimizers.ScheduleFreeAdamW(0.01),
        lambda: optimizers.MultiOptimizer(
            optimizers.OptimizerMap(optimizers.SGD(0.1), {".*kernel": optimizers.Ftrl(0.1)})
        ),
        lambda: optimizers.LossScaleOptimizer(optimizers.Lamb(0.01), initial_scale=64.0),
    ],
)
def test_state_saved_and_restored_in_keras_files(make, tmp_path):
    model = gpuk.Sequential([gpuk.Input((3,)), gpuk.layers.Dense(4), gpuk.layers.Dense(1)])
    model.compile(optimizer=make(), loss="mse")
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(16, 3)).astype("float32"), rng.normal(size=(16, 1)).astype("float32")
    model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    path = str(tmp_path / "model.keras")
    model.save(path)
    loaded = gpuk.saving.load_model(path)
    assert type(loaded.optimizer) is type(model.optimizer)
    saved, restored = model.optimizer.variables, loaded.optimizer.variables
    assert [v.path for v in restored] == [v.path for v in saved]
    for a, b in zip(saved, restored):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=a.path)
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    loaded.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
