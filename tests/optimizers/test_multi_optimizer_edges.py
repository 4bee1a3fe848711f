"""MultiOptimizer / OptimizerMap rules beyond the Keras trajectories in test_more_vs_keras.py:
argument checks with their messages, regex lookups, loss_scale_factor propagation, partial
gradient lists, finalize with EMA, and config round trips (Keras 3's contract)."""

import numpy as np
import pytest

import gpuk
from gpuk import optimizers


def _vars():
    kernel = gpuk.Variable(np.ones((2, 2), "float32"), name="kernel")
    bias = gpuk.Variable(np.ones((2,), "float32"), name="bias")
    return kernel, bias


def test_optimizer_map_checks_keys_values_and_ambiguity():
    sgd = optimizers.SGD()
    with pytest.raises(TypeError, match="optimizer_map must be a dictionary. Received: \\[1\\]"):
        optimizers.OptimizerMap(sgd, [1])
    opt_map = optimizers.OptimizerMap(sgd, {"a.*": optimizers.Adam()})
    with pytest.raises(ValueError, match="key must be a string. Received: 3"):
        opt_map[3] = optimizers.Adam()
    with pytest.raises(ValueError, match="must be a Keras Optimizer instance. Received: adam"):
        opt_map["b"] = "adam"
    with pytest.raises(ValueError, match="optimizer cannot be MultiOptimizer"):
        opt_map["b"] = optimizers.MultiOptimizer(optimizers.OptimizerMap(optimizers.SGD()))
    opt_map[".*b"] = optimizers.RMSprop()
    with pytest.raises(ValueError, match="Multiple optimizers assigned to variable ab"):
        opt_map["ab"]  # noqa: B018
    assert opt_map["a"] is opt_map["a.*"] and opt_map["zzz"] is sgd
    assert len(opt_map) == 2 and list(opt_map) == ["a.*", ".*b"]
    del opt_map[".*b"]
    assert len(opt_map) == 1 and opt_map["ab"] is opt_map["a.*"]
    clone = optimizers.OptimizerMap.from_config(opt_map.get_config())
    assert isinstance(clone.default_optimizer, optimizers.SGD)
    assert isinstance(clone["abc"], optimizers.Adam)


def test_multi_optimizer_rejects_bad_selections_and_counts():
    kernel, bias = _vars()
    with pytest.raises(ValueError, match="is not an Optimizer instance"):
        optimizers.MultiOptimizer(lambda v: "sgd").build([kernel])
    lso = optimizers.LossScaleOptimizer(optimizers.SGD())
    with pytest.raises(ValueError, match="LossScaleOptimizer cannot be used inside"):
        optimizers.MultiOptimizer(lambda v: lso).build([kernel])
    inner = optimizers.MultiOptimizer(lambda v: optimizers.SGD())
    with pytest.raises(ValueError, match="MultiOptimizer cannot be used inside"):
        optimizers.MultiOptimizer(lambda v: inner).build([kernel])
    opt = optimizers.MultiOptimizer(optimizers.OptimizerMap(optimizers.SGD(0.5)))
    with pytest.raises(ValueError, match="must already be built"):
        opt.apply([np.ones((2, 2), "float32")])
    with pytest.raises(AttributeError, match="cannot be set on a MultiOptimizer"):
        opt.learning_rate = 0.1
    opt.apply([np.ones((2, 2), "float32"), np.ones(2, "float32")], [kernel, bias])
    with pytest.raises(ValueError, match="Received 1 gradients and 2 variables"):
        opt.apply([np.ones(2, "float32")], [kernel, bias])
    with pytest.raises(ValueError, match="Unknown variable"):
        opt.apply([np.ones(2, "float32")], [gpuk.Variable(np.ones(2, "float32"))])
    assert opt.apply([]) is None
    # Any iterable of variables, as on the base Optimizer.
    opt.apply([np.zeros((2, 2), "float32"), np.zeros(2, "float32")], iter([kernel, bias]))
    # Without variables once built: the built ones, in order.
    opt.apply([np.ones((2, 2), "float32"), np.zeros(2, "float32")])
    np.testing.assert_allclose(kernel.numpy(), 0.0)
    np.testing.assert_allclose(bias.numpy(), 0.5)
    assert int(opt.iterations.numpy()) == 3


def test_multi_optimizer_routes_partial_gradient_lists_and_builds_once():
    kernel, bias = _vars()
    sgd, adam = optimizers.SGD(0.5), optimizers.Adam(0.1)
    opt = optimizers.MultiOptimizer(optimizers.OptimizerMap(sgd, {"bias": adam}))
    opt.build([kernel, bias])
    n = len(opt.variables)
    opt.build([kernel, bias])
    assert len(opt.variables) == n
    assert opt.optimizers == [adam, sgd]
    opt.apply_gradients([(np.ones(2, "float32"), bias)])  # only the bias gets a gradient
    np.testing.assert_allclose(kernel.numpy(), 1.0)
    np.testing.assert_allclose(bias.numpy(), 0.9, rtol=1e-5)
    assert int(adam.iterations.numpy()) == 1 and int(sgd.iterations.numpy()) == 0


def test_multi_optimizer_loss_scale_factor_reaches_every_sub_optimizer():
    kernel, bias = _vars()
    late = optimizers.SGD(1.0)
    sgd = optimizers.SGD(1.0, loss_scale_factor=7.0)
    opt = optimizers.MultiOptimizer(
        lambda v: late if v.name == "bias" else sgd, loss_scale_factor=4.0
    )
    opt.build([kernel, bias])
    assert sgd.loss_scale_factor == 4.0 and late.loss_scale_factor == 4.0
    assert opt.optimizers == [sgd, late]
    opt.apply_gradients([(np.full((2, 2), 4.0, "float32"), kernel), (np.full(2, 8.0, "f4"), bias)])
    np.testing.assert_allclose(kernel.numpy(), 0.0)
    np.testing.assert_allclose(bias.numpy(), -1.0)
    opt.loss_scale_factor = None
    assert sgd.loss_scale_factor is None and late.loss_scale_factor is None
    mapped = optimizers.MultiOptimizer(
        optimizers.OptimizerMap(optimizers.SGD(), {"k": sgd}), loss_scale_factor=2.0
    )
    assert [o.loss_scale_factor for o in mapped.optimizers] == [2.0, 2.0]


def test_multi_optimizer_finalize_and_config_round_trip():
    kernel, bias = _vars()
    ema = optimizers.SGD(0.5, use_ema=True, ema_momentum=0.5)
    plain = optimizers.SGD(0.5)
    opt = optimizers.MultiOptimizer(optimizers.OptimizerMap(plain, {"kernel": ema}), name="mo")
    for _ in range(2):
        opt.apply_gradients([(np.ones((2, 2), "float32"), kernel), (np.ones(2, "float32"), bias)])
    # Keras's EMA: step 0 copies, step 1 averages: 0.5 * 0.5 + 0.5 * 0.0 = 0.25.
    opt.finalize_variable_values([kernel, bias])
    np.testing.assert_allclose(kernel.numpy(), 0.25)
    np.testing.assert_allclose(bias.numpy(), 0.0)
    config = opt.get_config()
    assert config["name"] == "mo" and config["loss_scale_factor"] is None
    assert config["optimizer_map"]["class_name"] == "OptimizerMap"
    clone = optimizers.MultiOptimizer.from_config(config)
    assert [type(o) for o in clone.optimizers] == [optimizers.SGD, optimizers.SGD]
    assert clone.optimizers[0].use_ema
