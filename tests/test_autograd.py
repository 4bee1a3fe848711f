import numpy as np
import pytest

import gpuk
from gpuk import ops
from tests.gradcheck import assert_gradients_match


def test_tape_watches_trainable_variables_and_returns_none_for_unused(xp):
    v = gpuk.Variable(xp.asarray([1.0, 2.0, 3.0]))
    unused = gpuk.Variable(xp.asarray([5.0]))
    frozen = gpuk.Variable(xp.asarray([1.0]), trainable=False)
    with gpuk.GradientTape() as tape:
        loss = ops.sum(v * v) + frozen
    g_v, g_unused, g_frozen = tape.gradient(loss, [v, unused, frozen])
    np.testing.assert_allclose(gpuk._array.to_numpy(g_v.data), [2.0, 4.0, 6.0])
    assert g_unused is None and g_frozen is None


def test_watch_constant_and_persistent_tape(xp):
    x = gpuk.Tensor(xp.asarray([3.0]))
    with gpuk.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x * x
        z = y * x
    assert float(tape.gradient(y, x).numpy()[0]) == pytest.approx(6.0)
    assert float(tape.gradient(z, x).numpy()[0]) == pytest.approx(27.0)
    assert float(tape.gradient(z, y).numpy()[0]) == pytest.approx(3.0)


def test_non_persistent_tape_refuses_second_call(xp):
    v = gpuk.Variable(xp.asarray([1.0]))
    with gpuk.GradientTape() as tape:
        y = v * 2
    tape.gradient(y, v)
    with pytest.raises(RuntimeError, match="persistent"):
        tape.gradient(y, v)


def test_nothing_recorded_outside_tape_or_under_no_grad(xp):
    v = gpuk.Variable(xp.asarray([1.0]))
    assert (v * 2).node is None
    with gpuk.GradientTape():
        with gpuk.no_grad():
            assert (v * 2).node is None
        assert (v * 2).node is not None


def test_long_chain_has_no_recursion_limit(xp):
    v = gpuk.Variable(xp.asarray([1.0]))
    with gpuk.GradientTape() as tape:
        y = v
        for _ in range(5000):
            y = y * 1.0001
    g = tape.gradient(y, v)
    assert float(g.numpy()[0]) == pytest.approx(1.0001**5000, rel=1e-6)


def test_gradients_accumulate_over_shared_uses(xp):
    rng = np.random.default_rng(0)
    a = rng.normal(size=(3, 4))
    assert_gradients_match(lambda x: ops.sum(x * x + ops.tanh(x) * x), [a], xp)


def test_nested_sources_keep_structure(xp):
    a = gpuk.Variable(xp.asarray([1.0]))
    b = gpuk.Variable(xp.asarray([2.0]))
    with gpuk.GradientTape() as tape:
        y = a * b
    grads = tape.gradient(y, {"a": a, "pair": (a, [b])})
    assert float(grads["a"].numpy()[0]) == 2.0
    assert float(grads["pair"][1][0].numpy()[0]) == 1.0


def test_variable_assign_keeps_dtype_and_checks_shape(xp):
    v = gpuk.Variable(xp.zeros((2, 2), dtype=xp.float32), name="w")
    v.assign_add(np.ones((2, 2)))
    assert v.dtype == "float32"
    np.testing.assert_array_equal(v.numpy(), np.ones((2, 2)))
    with pytest.raises(ValueError, match="'w'"):
        v.assign(np.ones(3))
