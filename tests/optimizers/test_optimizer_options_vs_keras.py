"""The Optimizer base class's options (clipping, weight decay with exclusions, EMA with
overwrites, loss scale, accumulation) against trajectories Keras 3 computed, plus the small
public helpers (``assign*``, ``apply_gradients([])``, callable rates, legacy ``decay``).

Expected values: tests/fixtures/keras/mutoc/values.json (tools/make_keras_fixtures_mutoc.py).
"""

import json
import os

import numpy as np
import pytest

import gpuk

REF = json.load(
    open(os.path.join(os.path.dirname(__file__), "..", "fixtures", "keras", "mutoc", "values.json"))
)


def _start():
    return [
        gpuk.Variable(np.asarray(v, "float32"), name=n)
        for v, n in zip(REF["optimizer_start"], ("kernel", "bias"))
    ]


@pytest.mark.parametrize("name", sorted(REF["optimizers"]))
def test_option_trajectories_match_keras(name):
    case = REF["optimizers"][name]
    variables = _start()
    opt = getattr(gpuk.optimizers, case["class_name"])(**case["kwargs"])
    if "weight_decay" in case["kwargs"]:
        opt.exclude_from_weight_decay(var_names=["bias"])
    for step, (grads, expected) in enumerate(zip(REF["optimizer_grads"], case["trajectory"])):
        grads = [np.asarray(g, "float32") for g in grads]
        opt.apply_gradients(zip(grads, variables))
        for variable, want in zip(variables, expected):
            np.testing.assert_allclose(
                np.asarray(variable.numpy()), want, rtol=2e-5, atol=1e-6, err_msg=f"step {step}"
            )
    assert int(np.asarray(opt.iterations)) == case["iterations"]
    assert [v.name.split("_", 1)[-1] if "_" in v.name else v.name for v in opt.variables] == [
        n.split("_", 1)[-1] if "_" in n else n for n in case["variable_names"]
    ]
    if case["finalized"] is not None:
        opt.finalize_variable_values(variables)
        for variable, want in zip(variables, case["finalized"]):
            np.testing.assert_allclose(np.asarray(variable.numpy()), want, rtol=2e-5, atol=1e-6)


def test_global_clipnorm_of_a_non_finite_gradient_makes_every_update_nan():
    # Keras 3.15: SGD(0.1, global_clipnorm=1) with gradient [inf, 1] -> [nan, nan].
    v = gpuk.Variable(np.array([1.0, 2.0], "float32"))
    w = gpuk.Variable(np.array([3.0], "float32"))
    opt = gpuk.optimizers.SGD(0.1, global_clipnorm=1.0)
    with np.errstate(invalid="ignore"):
        opt.apply_gradients([(np.array([np.inf, 1.0], "float32"), v), (np.ones(1, "float32"), w)])
    assert np.isnan(np.asarray(v.numpy())).all() and np.isnan(np.asarray(w.numpy())).all()


def test_assign_helpers_like_keras():
    # Keras 3.15: assign [3, 4], assign_add [1, 1], assign_sub [0.5, 0.5].
    opt = gpuk.optimizers.SGD(0.1)
    w = gpuk.Variable(np.array([1.0, 2.0], "float32"))
    opt.build([w])
    opt.assign(w, np.array([3.0, 4.0], "float32"))
    np.testing.assert_array_equal(np.asarray(w.numpy()), [3.0, 4.0])
    opt.assign_add(w, gpuk.ops.convert_to_tensor(np.array([1.0, 1.0], "float32")))
    np.testing.assert_array_equal(np.asarray(w.numpy()), [4.0, 5.0])
    opt.assign_sub(w, np.array([0.5, 0.5], "float32"))
    np.testing.assert_array_equal(np.asarray(w.numpy()), [3.5, 4.5])


def test_apply_gradients_of_nothing_returns_iterations_and_changes_nothing():
    opt = gpuk.optimizers.SGD(0.1)
    assert opt.apply_gradients([]) is opt.iterations
    assert int(np.asarray(opt.iterations)) == 0 and not opt.built
    assert opt.apply([]) is None
    v = gpuk.Variable(np.ones(2, "float32"))
    assert opt.apply_gradients([(np.ones(2, "float32"), v)]) is opt.iterations
    assert int(np.asarray(opt.iterations)) == 1


def test_legacy_decay_with_an_integer_learning_rate_is_computed_in_floats():
    # tf.keras 2's rule lr / (1 + decay * iterations); an int rate from a callable is a float.
    v = gpuk.Variable(np.zeros(1, "float32"))
    opt = gpuk.optimizers.SGD(learning_rate=lambda: 1, decay=0.5)
    rates = []
    for _ in range(3):
        before = float(np.asarray(v.numpy())[0])
        opt.apply_gradients([(np.ones(1, "float32"), v)])
        rates.append(before - float(np.asarray(v.numpy())[0]))
    np.testing.assert_allclose(rates, [1.0, 1 / 1.5, 1 / 2.0], rtol=1e-6)
    assert opt.get_config()["decay"] == 0.5
    assert "decay" not in gpuk.optimizers.SGD(0.1).get_config()
    with pytest.raises(ValueError, match=r"`decay` must be >= 0.*decay=-1"):
        gpuk.optimizers.SGD(0.1, decay=-1)


def test_callable_learning_rates_with_and_without_the_step():
    v = gpuk.Variable(np.zeros(1, "float32"))
    steps = []

    def with_step(step):
        steps.append(int(np.asarray(step)))
        return 0.5

    opt = gpuk.optimizers.SGD(learning_rate=with_step)
    for _ in range(2):
        opt.apply_gradients([(np.ones(1, "float32"), v)])
    assert steps[-2:] == [0, 1]
    np.testing.assert_allclose(np.asarray(v.numpy()), [-1.0])
    assert opt.get_config()["learning_rate"] == "with_step"
    opt = gpuk.optimizers.SGD(learning_rate=lambda: 0.25)
    assert float(np.asarray(opt.learning_rate)) == 0.25
    opt.learning_rate = 0.125  # a float replaces the callable with a variable
    assert float(np.asarray(opt.learning_rate)) == 0.125
    assert [x.name for x in opt.variables] == ["iteration", "learning_rate"]
    opt.learning_rate = lambda: 0.5  # and back: the variable goes away
    assert [x.name for x in opt.variables] == ["iteration"]
    assert float(np.asarray(opt.learning_rate)) == 0.5


def test_bad_learning_rate_and_unknown_arguments_are_named():
    with pytest.raises(ValueError, match=r"`learning_rate` should be a float.*'fast'"):
        gpuk.optimizers.SGD(learning_rate="fast")
    with pytest.raises(ValueError, match=r"SGD: argument\(s\) not recognized.*'colour'"):
        gpuk.optimizers.SGD(0.1, colour=1)
    gpuk.optimizers.SGD(0.1, jit_compile=True, is_legacy_optimizer=False, mesh=None)
    opt = gpuk.optimizers.SGD(lr=0.3)
    assert float(np.asarray(opt.learning_rate)) == pytest.approx(0.3)
    assert float(np.asarray(opt.lr)) == pytest.approx(0.3)


def test_apply_without_variables_and_with_wrong_variables():
    v = gpuk.Variable(np.zeros(2, "float32"))
    opt = gpuk.optimizers.SGD(1.0)
    with pytest.raises(ValueError, match="must already be built"):
        opt.apply([np.ones(2, "float32")])
    opt.build([v])
    with pytest.raises(ValueError, match=r"Received a list of 2 gradients.*tracking 1"):
        opt.apply([np.ones(2, "float32")] * 2)
    opt.apply([np.ones(2, "float32")])
    np.testing.assert_array_equal(np.asarray(v.numpy()), [-1.0, -1.0])
    with pytest.raises(ValueError, match="received 1 gradients for 2 variables"):
        opt.apply([np.ones(2, "float32")], [v, v])
    with pytest.raises(TypeError, match="can only update gpuk Variables; received ndarray"):
        opt.apply([np.ones(2, "float32")], [np.zeros(2)])
    with pytest.raises(ValueError, match="Unknown variable"):
        opt.apply([np.ones(2, "float32")], [gpuk.Variable(np.zeros(2, "float32"))])
    with pytest.raises(ValueError, match="No gradients provided for any variable"):
        opt.apply([None], [v])
    with pytest.warns(UserWarning, match="Gradients do not exist for variables"):
        w = gpuk.Variable(np.zeros(1, "float32"))
        opt2 = gpuk.optimizers.SGD(1.0)
        opt2.apply([np.ones(2, "float32"), None], [v, w])


def test_minimize_with_a_callable_and_with_a_tape():
    v = gpuk.Variable(np.array([2.0], "float32"))
    opt = gpuk.optimizers.SGD(0.25)
    opt.minimize(lambda: gpuk.ops.sum(v * v), [v])
    np.testing.assert_allclose(np.asarray(v.numpy()), [1.0])  # 2 - 0.25 * 4
    with gpuk.GradientTape() as tape:
        loss = gpuk.ops.sum(v * v)
    opt.minimize(loss, lambda: [v], tape=tape)
    np.testing.assert_allclose(np.asarray(v.numpy()), [0.5])
    with pytest.raises(ValueError, match="`tape` is required"):
        opt.minimize(loss, [v])


def test_set_weights_and_overwrite_checks():
    v = gpuk.Variable(np.zeros(2, "float32"))
    opt = gpuk.optimizers.SGD(0.1, use_ema=True)
    opt.build([v])
    with pytest.raises(ValueError, match=r"The length of model variables \(2\) to override"):
        opt.finalize_variable_values([v, v])
    plain = gpuk.optimizers.SGD(0.1)
    plain.build([v])
    plain.finalize_variable_values([v, v])  # no EMA: nothing to do
    assert plain.scale_loss(3.0) == 3.0
    assert gpuk.optimizers.SGD(0.1, loss_scale_factor=4.0).scale_loss(3.0) == 12.0


def test_config_round_trip_of_every_base_option():
    opt = gpuk.optimizers.Adam(
        0.01,
        weight_decay=0.1,
        clipnorm=1.5,
        use_ema=True,
        ema_momentum=0.9,
        ema_overwrite_frequency=3,
        loss_scale_factor=2.0,
        gradient_accumulation_steps=4,
        name="adam_x",
    )
    config = opt.get_config()
    for key, value in dict(
        name="adam_x",
        learning_rate=0.01,
        weight_decay=0.1,
        clipnorm=1.5,
        global_clipnorm=None,
        clipvalue=None,
        use_ema=True,
        ema_momentum=0.9,
        ema_overwrite_frequency=3,
        loss_scale_factor=2.0,
        gradient_accumulation_steps=4,
    ).items():
        assert config[key] == (pytest.approx(value) if isinstance(value, float) else value), key
    clone = gpuk.optimizers.Adam.from_config(
        dict(config, lr=0.5, jit_compile=False, is_legacy_optimizer=False)
    )
    assert float(np.asarray(clone.learning_rate)) == 0.5
    assert clone.get_config()["gradient_accumulation_steps"] == 4
    assert repr(clone) == "<gpuk.optimizers.Adam name='adam_x'>"


def test_loss_scale_optimizer_skips_halves_and_doubles_like_keras():
    ref = REF["loss_scale"]
    v = gpuk.Variable(np.array([1.0, -1.0], "float32"))
    opt = gpuk.optimizers.LossScaleOptimizer(
        gpuk.optimizers.SGD(0.1), initial_scale=4.0, dynamic_growth_steps=2
    )
    assert float(opt.scale_loss(1.0)) == ref["before"]
    for g, want in zip(ref["grads"], ref["rows"]):
        opt.apply_gradients([(np.array([g, 1.0], "float32") * np.float32(8.0), v)])
        np.testing.assert_allclose(np.asarray(v.numpy()), want["value"], rtol=1e-6)
        assert float(np.asarray(opt.dynamic_scale.numpy())) == want["scale"]
        assert int(np.asarray(opt.step_counter.numpy())) == want["counter"]
        assert int(np.asarray(opt.iterations)) == want["iterations"]
        assert float(opt.scale_loss(1.0)) == want["scaled_loss"]
    assert [x.name for x in opt.variables] == ref["variable_names"]


def test_loss_scale_optimizer_arguments_are_checked():
    sgd = gpuk.optimizers.SGD(0.1, loss_scale_factor=3.0)
    with pytest.raises(ValueError, match="no longer supports `dynamic=False`"):
        gpuk.optimizers.LossScaleOptimizer(sgd, dynamic=False)
    with pytest.raises(ValueError, match="does not support `clipnorm`. Instead, set `clipnorm`"):
        gpuk.optimizers.LossScaleOptimizer(sgd, clipnorm=1.0)
    with pytest.raises(ValueError, match="does not support arguments: `foo`, `bar`"):
        gpuk.optimizers.LossScaleOptimizer(sgd, foo=1, bar=2)
    with pytest.raises(TypeError, match="must be an Optimizer instance"):
        gpuk.optimizers.LossScaleOptimizer("sgd")
    opt = gpuk.optimizers.LossScaleOptimizer(sgd, clipnorm=None, use_ema=False, dynamic=True)
    assert sgd.loss_scale_factor is None  # the wrapper owns the scaling
    with pytest.raises(ValueError, match="must already be built"):
        opt.apply([np.ones(2, "float32")])
    v = gpuk.Variable(np.zeros(2, "float32"))
    opt.build([v])
    opt.build([v])  # twice: no new variables
    assert len(opt.variables) == 6
    assert opt.check_finite([None]) and not opt.check_finite([np.array([np.nan]), None])
    opt.apply([np.full(2, 2.0**15, "float32")])  # without variables, once built
    np.testing.assert_allclose(np.asarray(v.numpy()), [-0.1, -0.1], rtol=1e-6)
    opt.learning_rate = 0.5
    assert float(np.asarray(sgd.learning_rate)) == 0.5
    clone = gpuk.optimizers.LossScaleOptimizer.from_config(opt.get_config())
    assert clone.initial_scale == 2.0**15 and clone.dynamic_growth_steps == 2000
    assert isinstance(clone.inner_optimizer, gpuk.optimizers.SGD)


def test_from_config_leaves_the_callers_config_alone():
    legacy = {"lr": 0.3, "decay": 0.0, "jit_compile": True, "name": "old"}
    opt = gpuk.optimizers.SGD.from_config(legacy)
    assert float(np.asarray(opt.learning_rate)) == pytest.approx(0.3)
    assert legacy == {"lr": 0.3, "decay": 0.0, "jit_compile": True, "name": "old"}
    config = gpuk.optimizers.Adam(
        gpuk.optimizers.schedules.ExponentialDecay(0.1, 2, 0.5)
    ).get_config()
    gpuk.optimizers.Adam.from_config(config)
    assert isinstance(config["learning_rate"], dict)  # still the serialized schedule
