"""Optimizer API: legacy spellings, get/serialize, iterations, constraints, None gradients,
learning-rate handling, variables, and a custom training loop with GradientTape."""

import warnings

import numpy as np
import pytest

import gpuk
from gpuk import optimizers
from gpuk.optimizers import schedules


def _variables(xp, dtype="float32"):
    return [
        gpuk.Variable(xp.asarray([[1.0, -2.0], [3.0, 0.5]], dtype=dtype), name="kernel"),
        gpuk.Variable(xp.asarray([0.1, -0.1], dtype=dtype), name="bias"),
    ]


def _grads(xp, dtype="float32"):
    return [
        xp.asarray([[0.5, -1.0], [0.25, 2.0]], dtype=dtype),
        xp.asarray([1.0, -0.5], dtype=dtype),
    ]


ALL = ["SGD", "RMSprop", "Adagrad", "Adadelta", "Adam", "AdamW", "Adamax", "Nadam"]
DEFAULT_LR = {"SGD": 0.01}


# ---------------------------------------------------------------- construction, legacy spellings
@pytest.mark.parametrize("class_name", ALL)
def test_defaults_and_legacy_lr_keyword(class_name):
    cls = getattr(optimizers, class_name)
    assert float(cls().learning_rate) == pytest.approx(DEFAULT_LR.get(class_name, 0.001))
    opt = cls(lr=0.25)
    assert float(opt.learning_rate) == 0.25
    assert float(opt.lr) == 0.25
    assert opt.get_config()["learning_rate"] == 0.25


def test_keras_defaults():
    assert optimizers.AdamW().weight_decay == 0.004
    adam = optimizers.Adam()
    assert (adam.beta_1, adam.beta_2, adam.epsilon, adam.amsgrad) == (0.9, 0.999, 1e-7, False)
    rms = optimizers.RMSprop()
    assert (rms.rho, rms.momentum, rms.epsilon, rms.centered) == (0.9, 0.0, 1e-7, False)
    assert optimizers.Adagrad().initial_accumulator_value == 0.1
    assert optimizers.Adadelta().rho == 0.95
    sgd = optimizers.SGD()
    assert (sgd.momentum, sgd.nesterov) == (0.0, False)


def test_keras2_epsilon_none_means_backend_epsilon():
    assert optimizers.Adam(epsilon=None).epsilon == 1e-7


def test_learning_rate_is_settable_like_keras():
    opt = optimizers.Adam(0.1)
    opt.learning_rate = 0.01
    assert float(opt.learning_rate) == pytest.approx(0.01)
    opt.learning_rate.assign(0.02)
    assert float(opt.learning_rate) == pytest.approx(0.02)
    opt.lr = 0.5  # tf.keras attribute
    assert float(opt.learning_rate) == 0.5
    opt.lr.assign(0.3)  # what K.set_value(opt.lr, 0.3) does
    assert opt.get_config()["learning_rate"] == pytest.approx(0.3)
    # The rate variable is one of the optimizer's variables (Keras 3: index 1).
    assert opt.variables[1] is opt.learning_rate


def test_learning_rate_of_a_schedule_is_not_settable_to_a_float():
    opt = optimizers.SGD(schedules.ExponentialDecay(0.1, 10, 0.5))
    assert [v.path.split("/")[-1] for v in opt.variables] == ["iteration"]
    with pytest.raises(TypeError, match="not settable"):
        opt.learning_rate = 0.1
    opt.learning_rate = schedules.InverseTimeDecay(0.2, 1, 1.0)
    assert float(opt.learning_rate) == pytest.approx(0.2)


def test_callable_learning_rate_with_or_without_step(xp):
    for fn in (lambda: 0.5, lambda step: 0.5 / (1 + int(step))):
        variables = [gpuk.Variable(xp.asarray([1.0], dtype="float32"))]
        opt = optimizers.SGD(fn)
        opt.apply_gradients([(xp.asarray([1.0], dtype="float32"), variables[0])])
        opt.apply_gradients([(xp.asarray([1.0], dtype="float32"), variables[0])])
        expected = 1.0 - 0.5 - (0.5 if fn.__code__.co_argcount == 0 else 0.25)
        np.testing.assert_allclose(variables[0].numpy(), [expected], rtol=1e-6)


def test_legacy_decay_is_inverse_time_decay(xp):
    v = gpuk.Variable(xp.asarray([0.0], dtype="float32"))
    opt = optimizers.SGD(lr=0.1, decay=0.5)
    for _ in range(3):
        opt.apply_gradients([(xp.asarray([1.0], dtype="float32"), v)])
    # tf.keras 2: lr_t = lr / (1 + decay * iterations), iterations before the update.
    expected = -(0.1 / 1.0 + 0.1 / 1.5 + 0.1 / 2.0)
    np.testing.assert_allclose(v.numpy(), [expected], rtol=1e-6)
    assert optimizers.SGD.from_config(opt.get_config()).decay == 0.5


def test_bad_arguments_are_clear_errors():
    with pytest.raises(ValueError, match="not recognized"):
        optimizers.Adam(learning_rat=0.1)
    with pytest.raises(ValueError, match="Only one of|only one of"):
        optimizers.SGD(clipnorm=1.0, clipvalue=1.0)
    with pytest.raises(ValueError, match="momentum"):
        optimizers.SGD(momentum=2.0)
    with pytest.raises(ValueError, match="weight_decay"):
        optimizers.AdamW(weight_decay=None)
    with pytest.raises(ValueError, match="learning_rate"):
        optimizers.Adam(learning_rate="fast")
    with pytest.raises(ValueError, match="gradient_accumulation_steps"):
        optimizers.Adam(gradient_accumulation_steps=1)
    with pytest.raises(ValueError, match="decay_steps"):
        schedules.ExponentialDecay(0.1, 0, 0.5)
    with pytest.raises(ValueError, match="boundaries"):
        schedules.PiecewiseConstantDecay([1, 2], [0.1])


def test_default_names_are_keras_snake_case_and_unique():
    names = [optimizers.RMSprop().name, optimizers.RMSprop().name, optimizers.AdamW().name]
    assert names[0].startswith("rm_sprop") and names[0] != names[1]
    assert names[2].startswith("adam_w")
    assert optimizers.Adam(name="opt").variables[0].path == "opt/iteration"


# ---------------------------------------------------------------- get / serialize
@pytest.mark.parametrize("identifier", ["adam", "Adam", "ADAM", "sgd", "SGD", "rmsprop"])
def test_get_by_name_any_case(identifier):
    opt = optimizers.get(identifier)
    assert type(opt).__name__.lower() == identifier.lower()


def test_get_returns_instances_and_none_unchanged():
    opt = optimizers.Nadam()
    assert optimizers.get(opt) is opt
    assert optimizers.get(None) is None
    assert isinstance(optimizers.get(optimizers.Adamax), optimizers.Adamax)


def test_get_unknown_name_lists_known_ones():
    with pytest.raises(ValueError, match="adam.*sgd"):
        optimizers.get("adamm")
    with pytest.raises(ValueError, match="Could not interpret"):
        optimizers.get(42)


@pytest.mark.parametrize("class_name", ALL)
def test_serialize_round_trip(class_name):
    opt = getattr(optimizers, class_name)(learning_rate=0.05, clipnorm=1.5)
    config = optimizers.serialize(opt)
    assert config["class_name"] == class_name
    assert config["module"] == "keras.optimizers"
    clone = optimizers.deserialize(config)
    assert type(clone) is type(opt)
    assert clone.get_config() == opt.get_config()
    assert optimizers.get(config).get_config() == opt.get_config()


def test_schedule_round_trips_inside_the_optimizer_config():
    schedule = schedules.CosineDecay(0.1, 100, alpha=0.1, warmup_target=0.2, warmup_steps=5)
    opt = optimizers.Adam(schedule)
    config = optimizers.serialize(opt)
    assert config["config"]["learning_rate"]["class_name"] == "CosineDecay"
    clone = optimizers.deserialize(config)
    assert isinstance(clone._learning_rate, schedules.CosineDecay)
    assert clone._learning_rate.get_config() == schedule.get_config()


def test_deserialize_tf_keras_and_keras2_configs():
    tf_keras = {
        "class_name": "Custom>Adam",
        "config": {
            "name": "Adam",
            "weight_decay": None,
            "clipnorm": None,
            "global_clipnorm": None,
            "clipvalue": None,
            "use_ema": False,
            "ema_momentum": 0.99,
            "ema_overwrite_frequency": None,
            "jit_compile": True,
            "is_legacy_optimizer": False,
            "learning_rate": 0.0010000000474974513,
            "beta_1": 0.9,
            "beta_2": 0.999,
            "epsilon": 1e-07,
            "amsgrad": False,
        },
    }
    opt = optimizers.get(tf_keras)
    assert isinstance(opt, optimizers.Adam) and opt.name == "Adam"
    keras2 = {
        "class_name": "Adam",
        "config": {
            "lr": 0.01,
            "beta_1": 0.9,
            "beta_2": 0.999,
            "decay": 0.0,
            "epsilon": 1e-07,
            "amsgrad": False,
        },
    }
    opt = optimizers.deserialize(keras2)
    assert float(opt.learning_rate) == pytest.approx(0.01)
    keras3 = {
        "module": "keras.optimizers",
        "class_name": "RMSprop",
        "registered_name": None,
        "config": {"name": "rmsprop", "learning_rate": 0.01, "rho": 0.8},
    }
    assert optimizers.get(keras3).rho == 0.8
    legacy_schedule = {
        "class_name": "SGD",
        "config": {
            "learning_rate": {
                "class_name": "ExponentialDecay",
                "config": {"initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.9},
            }
        },
    }
    assert isinstance(optimizers.get(legacy_schedule)._learning_rate, schedules.ExponentialDecay)


def test_custom_optimizer_subclass_resolves_through_custom_objects(xp):
    class HalfSGD(optimizers.Optimizer):
        def __init__(self, learning_rate=0.1, **kwargs):
            super().__init__(learning_rate=learning_rate, **kwargs)

        def update_step(self, gradient, variable, learning_rate):
            lr = variable.dtype.type(learning_rate)
            self.assign_sub(variable, gradient * lr * 0.5)

    opt = optimizers.deserialize(
        {"class_name": "HalfSGD", "config": {"learning_rate": 0.2}},
        custom_objects={"HalfSGD": HalfSGD},
    )
    v = gpuk.Variable(xp.asarray([1.0], dtype="float32"))
    opt.apply_gradients([(xp.asarray([1.0], dtype="float32"), v)])
    np.testing.assert_allclose(v.numpy(), [0.9], rtol=1e-6)


# ---------------------------------------------------------------- applying
def test_iterations_increment_per_apply(xp):
    variables = _variables(xp)
    opt = optimizers.SGD(0.1)
    assert opt.iterations.dtype == np.int64
    assert int(opt.iterations.numpy()) == 0
    for step in range(1, 4):
        result = opt.apply_gradients(zip(_grads(xp), variables))
        assert int(opt.iterations.numpy()) == step
        assert result is opt.iterations
    opt.apply(_grads(xp))  # built already: grads only
    assert int(opt.iterations.numpy()) == 4


def test_apply_with_grads_only_needs_a_built_optimizer(xp):
    opt = optimizers.Adam()
    with pytest.raises(ValueError, match="build"):
        opt.apply(_grads(xp))
    opt.build(_variables(xp))
    with pytest.raises(ValueError, match="one-to-one"):
        opt.apply(_grads(xp)[:1])


def test_unknown_variable_after_build_is_an_error(xp):
    variables = _variables(xp)
    opt = optimizers.Adam()
    opt.apply_gradients(zip(_grads(xp), variables))
    stranger = gpuk.Variable(xp.zeros((2,), dtype="float32"), name="stranger")
    with pytest.raises(ValueError, match="stranger"):
        opt.apply_gradients([(xp.ones((2,), dtype="float32"), stranger)])


def test_none_gradients_are_skipped_with_a_warning(xp):
    variables = _variables(xp)
    before = variables[1].numpy()
    opt = optimizers.Adam(0.1)
    with pytest.warns(UserWarning, match="bias"):
        opt.apply_gradients([(_grads(xp)[0], variables[0]), (None, variables[1])])
    np.testing.assert_array_equal(variables[1].numpy(), before)
    assert not np.allclose(variables[0].numpy(), _variables(np)[0].numpy())
    assert int(opt.iterations.numpy()) == 1
    with pytest.raises(ValueError, match="No gradients"):
        opt.apply_gradients([(None, variables[0])])


def test_gradients_may_be_tensors_or_arrays(xp):
    a, b = _variables(xp), _variables(xp)
    optimizers.SGD(0.1).apply_gradients(zip([gpuk.Tensor(g) for g in _grads(xp)], a))
    optimizers.SGD(0.1).apply_gradients(zip(_grads(xp), b))
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.numpy(), y.numpy())


def test_constraint_is_applied_right_after_the_update(xp):
    seen = []

    def clip_to_unit(w):
        seen.append(w.numpy().copy())  # the value the optimizer just wrote
        return gpuk.ops.clip(w, -1.0, 1.0)

    v = gpuk.Variable(xp.asarray([0.95, -0.5], dtype="float32"), constraint=clip_to_unit)
    opt = optimizers.SGD(0.1)
    opt.apply_gradients([(xp.asarray([-1.0, 1.0], dtype="float32"), v)])
    np.testing.assert_allclose(seen[0], [1.05, -0.6], rtol=1e-6)
    np.testing.assert_allclose(v.numpy(), [1.0, -0.6], rtol=1e-6)


def test_float64_variables_keep_their_dtype(xp):
    for class_name in ALL:
        variables = _variables(xp, "float64")
        opt = getattr(optimizers, class_name)(learning_rate=0.01)
        for _ in range(2):
            opt.apply_gradients(zip(_grads(xp, "float64"), variables))
        assert all(v.dtype == np.float64 for v in variables)
        assert all(w.dtype == np.float64 for w in opt.get_weights()[2:])


def test_sgd_by_hand(xp):
    v = gpuk.Variable(xp.asarray([1.0, 2.0], dtype="float64"))
    opt = optimizers.SGD(0.1, momentum=0.9, nesterov=True)
    g = xp.asarray([1.0, -1.0], dtype="float64")
    opt.apply_gradients([(g, v)])
    opt.apply_gradients([(g, v)])
    lr = float(np.float32(0.1))  # the rate variable is float32 (floatx), as in Keras
    g = np.array([1.0, -1.0])
    m1 = -lr * g
    x1 = np.array([1.0, 2.0]) + (0.9 * m1 - lr * g)
    m2 = 0.9 * m1 - lr * g
    x2 = x1 + (0.9 * m2 - lr * g)
    np.testing.assert_allclose(v.numpy(), x2, rtol=1e-12)


def test_adam_update_is_a_pure_function():
    param = np.array([1.0, 2.0], dtype=np.float32)
    grad = np.array([0.5, -0.5], dtype=np.float32)
    m = np.zeros(2, np.float32)
    v = np.zeros(2, np.float32)
    out = optimizers.adam_update(np, param, grad, m, v, None, 0.1, 0.9, 0.999, 1e-7, False, 1)
    assert np.all(m == 0) and np.all(param == [1.0, 2.0])  # inputs untouched
    new_param, new_m, new_v, vhat = out
    np.testing.assert_allclose(new_param, param - 0.1 * np.sign(grad), rtol=1e-5)
    np.testing.assert_allclose(new_m, 0.1 * grad, rtol=1e-6)
    assert vhat is None


# ---------------------------------------------------------------- variables and weights
def test_adam_variables_in_keras3_order(xp):
    kernel, bias = _variables(xp)
    kernel.path, bias.path = "dense/kernel", "dense/bias"
    opt = optimizers.Adam(amsgrad=True, name="adam")
    opt.build([kernel, bias])
    assert [v.path for v in opt.variables] == [
        "adam/iteration",
        "adam/learning_rate",
        "adam/dense_kernel_momentum",
        "adam/dense_kernel_velocity",
        "adam/dense_bias_momentum",
        "adam/dense_bias_velocity",
        "adam/dense_kernel_velocity_hat",
        "adam/dense_bias_velocity_hat",
    ]
    assert opt.variables[2].shape == (2, 2) and opt.variables[4].shape == (2,)


def test_get_and_set_weights_restore_the_state(xp):
    a, b = _variables(xp), _variables(xp)
    first = optimizers.Adam(0.1)
    for _ in range(3):
        first.apply_gradients(zip(_grads(xp), a))
    second = optimizers.Adam(0.1)
    with pytest.raises(ValueError, match="built"):
        second.set_weights(first.get_weights())
    second.build(b)
    second.set_weights(first.get_weights())
    for v, w in zip(b, a):
        v.assign(w.numpy())
    assert int(second.iterations.numpy()) == 3
    first.apply_gradients(zip(_grads(xp), a))
    second.apply_gradients(zip(_grads(xp), b))
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.numpy(), y.numpy())
    with pytest.raises(ValueError, match="shape"):
        second.set_weights([w[..., None] for w in first.get_weights()])


def test_slots_live_on_the_variables_device(xp):
    variables = _variables(xp)
    opt = optimizers.RMSprop(momentum=0.5, centered=True)
    opt.apply_gradients(zip(_grads(xp), variables))
    for slot in opt.variables[2:]:
        assert type(slot.data).__module__.split(".")[0] == xp.__name__


def test_exclude_from_weight_decay(xp):
    kernel, bias = _variables(xp)
    opt = optimizers.AdamW(learning_rate=0.1, weight_decay=0.5)
    opt.exclude_from_weight_decay(var_names=["bias"])
    zero = [xp.zeros_like(kernel.data), xp.zeros_like(bias.data)]
    start = [kernel.numpy(), bias.numpy()]
    opt.apply_gradients(zip(zero, [kernel, bias]))
    np.testing.assert_allclose(kernel.numpy(), start[0] * (1 - 0.5 * 0.1), rtol=1e-6)
    np.testing.assert_allclose(bias.numpy(), start[1], rtol=1e-6)


# ---------------------------------------------------------------- schedules
def test_schedule_values():
    exp = schedules.ExponentialDecay(0.1, 10, 0.5)
    assert float(exp(10)) == pytest.approx(0.05)
    assert float(schedules.ExponentialDecay(0.1, 10, 0.5, staircase=True)(15)) == pytest.approx(
        0.05
    )
    pw = schedules.PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1])
    assert [float(pw(s)) for s in (0, 10, 11, 20, 21)] == pytest.approx([1, 1, 0.5, 0.5, 0.1])
    assert float(schedules.InverseTimeDecay(0.1, 1, 0.5)(2)) == pytest.approx(0.05)
    cos = schedules.CosineDecay(0.1, 100, alpha=0.1)
    assert float(cos(50)) == pytest.approx(0.1 * (0.9 * 0.5 + 0.1))
    assert float(cos(500)) == pytest.approx(0.01)
    warm = schedules.CosineDecay(0.0, 10, warmup_target=1.0, warmup_steps=4)
    assert float(warm(2)) == pytest.approx(0.5)
    assert float(warm(4)) == pytest.approx(1.0)
    assert float(schedules.PolynomialDecay(0.1, 10, 0.0)(5)) == pytest.approx(0.05)
    step = gpuk.Variable(np.asarray(10, dtype=np.int64))
    assert float(exp(step)) == pytest.approx(0.05)


def test_schedule_serialization():
    schedule = schedules.PiecewiseConstantDecay([5], [0.1, 0.01])
    config = schedules.serialize(schedule)
    assert config["class_name"] == "PiecewiseConstantDecay"
    assert schedules.deserialize(config).get_config() == schedule.get_config()
    with pytest.raises(ValueError, match="ExponentialDecay"):
        schedules.deserialize({"class_name": "Nope", "config": {}})


# ---------------------------------------------------------------- custom training loop
def test_custom_training_loop_with_gradient_tape(xp):
    rng = np.random.default_rng(0)
    x = xp.asarray(rng.normal(size=(32, 3)), dtype="float32")
    true_w = xp.asarray([[1.0], [-2.0], [0.5]], dtype="float32")
    y = x @ true_w + 0.3
    w = gpuk.Variable(xp.zeros((3, 1), dtype="float32"), name="w")
    b = gpuk.Variable(xp.zeros((1,), dtype="float32"), name="b")
    opt = optimizers.Adam(0.1)
    losses = []
    for _ in range(150):
        with gpuk.GradientTape() as tape:
            pred = gpuk.ops.add(gpuk.ops.matmul(x, w), b)
            loss = gpuk.ops.mean(gpuk.ops.square(gpuk.ops.subtract(pred, y)))
        grads = tape.gradient(loss, [w, b])
        opt.apply_gradients(zip(grads, [w, b]))
        losses.append(float(loss))
    assert losses[-1] < 1e-3 * losses[0]
    np.testing.assert_allclose(w.numpy().ravel(), [1.0, -2.0, 0.5], atol=2e-2)
    assert int(opt.iterations.numpy()) == 150


def test_minimize_with_a_callable_loss(xp):
    w = gpuk.Variable(xp.asarray([3.0], dtype="float32"))
    opt = optimizers.SGD(0.25)
    for _ in range(20):
        opt.minimize(lambda: gpuk.ops.sum(gpuk.ops.square(w)), [w])
    assert abs(float(w.numpy()[0])) < 1e-3


def test_no_warnings_in_a_plain_step(xp):
    variables = _variables(xp)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        optimizers.Nadam().apply_gradients(zip(_grads(xp), variables))


def test_tf_keras_legacy_and_experimental_namespaces():
    opt = optimizers.legacy.Adam(lr=0.01, decay=1e-6)
    assert isinstance(opt, optimizers.Adam) and opt.decay == 1e-6
    assert optimizers.experimental.AdamW is optimizers.AdamW


def test_fused_true_needs_the_gpu(xp):
    """NumPy: fused=True is an error that says why. CuPy: it takes the fused kernel."""
    v = gpuk.Variable(xp.zeros((2,), dtype="float32"))
    opt = optimizers.Adam(learning_rate=0.5)
    opt.fused = True
    grads = [(xp.ones((2,), dtype="float32"), v)]
    if xp is np:
        with pytest.raises(RuntimeError, match="fused"):
            opt.apply_gradients(grads)
        return
    opt.apply_gradients(grads)
    np.testing.assert_allclose(v.numpy(), [-0.5, -0.5], rtol=1e-5)
