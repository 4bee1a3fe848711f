"""Adam's in-place update loop (``Adam._backend_update_step``): the same bits as the pure
``adam_update``, and arrays a caller handed over are never written."""

import numpy as np
import pytest

from gpuk import optimizers
from gpuk._array import to_numpy
from gpuk.autograd import Variable
from gpuk.optimizers.adam import adam_alpha, adam_update, adam_update_inplace

pytestmark = pytest.mark.standin


def _problem(xp, seed=0):
    rng = np.random.default_rng(seed)
    shapes = [(5, 3), (3,), (4, 4, 2)]
    params = [rng.standard_normal(s).astype("float32") for s in shapes]
    grads = [[rng.standard_normal(s).astype("float32") for s in shapes] for _ in range(4)]
    return params, [[xp.asarray(g) for g in step] for step in grads]


@pytest.mark.parametrize("amsgrad", [False, True])
def test_in_place_update_equals_the_pure_update_bitwise(xp, amsgrad):
    rng = np.random.default_rng(1)
    param, grad, m, v = (xp.asarray(rng.standard_normal((6, 7)).astype("float32")) for _ in "pgmv")
    v = v * v
    vhat = v * 0.5 if amsgrad else None
    expected = adam_update(xp, param, grad, m, v, vhat, 0.01, 0.9, 0.999, 1e-7, amsgrad, 3)
    alpha = adam_alpha(0.01, 0.9, 0.999, 3, param.dtype)
    param, m, v = param.copy(), m.copy(), v.copy()
    vhat = None if vhat is None else vhat.copy()
    adam_update_inplace(xp, param, grad, m, v, vhat, alpha, 0.9, 0.999, 1e-7, amsgrad)
    for got, want in zip((param, m, v, vhat), expected):
        if want is not None:
            np.testing.assert_array_equal(to_numpy(got), to_numpy(want))


@pytest.mark.parametrize("amsgrad", [False, True])
def test_optimizer_steps_match_the_per_variable_rule(xp, amsgrad):
    params, steps = _problem(xp)

    class PerVariable(optimizers.Adam):
        """Adam through the base per-variable loop (update_step overridden, same rule)."""

        def update_step(self, gradient, variable, learning_rate):
            super().update_step(gradient, variable, learning_rate)

    results = []
    for cls in (optimizers.Adam, PerVariable):
        variables = [Variable(xp.asarray(p)) for p in params]
        opt = cls(learning_rate=0.01, amsgrad=amsgrad)
        opt.fused = False
        for grads in steps:
            opt.apply_gradients(zip(grads, variables))
        results.append([to_numpy(v.data) for v in variables + opt.variables[2:]])
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_arrays_handed_over_by_the_caller_are_not_written(xp):
    params, steps = _problem(xp)
    variables = [Variable(xp.asarray(p)) for p in params]
    opt = optimizers.Adam(learning_rate=0.01)
    opt.fused = False
    opt.apply_gradients(zip(steps[0], variables))
    opt.apply_gradients(zip(steps[1], variables))
    # The caller's arrays become the variables' and slots' values ...
    mine = [np.array(to_numpy(v.data)) for v in variables]
    slots = [np.array(to_numpy(v.data)) for v in opt.variables]
    for variable, value in zip(variables, mine):
        variable.assign(value)
    opt.set_weights(slots)
    held = [v.data for v in variables] + [v.data for v in opt.variables[2:]]
    snapshot = [np.array(to_numpy(a)) for a in held]
    opt.apply_gradients(zip(steps[2], variables))
    opt.apply_gradients(zip(steps[3], variables))
    for array, before in zip(held, snapshot):
        np.testing.assert_array_equal(to_numpy(array), before)
    assert not np.array_equal(to_numpy(variables[0].data), mine[0])


def test_slots_become_views_of_one_buffer_and_survive_saving(xp):
    params, steps = _problem(xp)
    variables = [Variable(xp.asarray(p)) for p in params]
    opt = optimizers.Adam(learning_rate=0.01)
    opt.fused = False
    for grads in steps[:3]:
        opt.apply_gradients(zip(grads, variables))
    flat = opt._flat_slots
    assert flat.valid_for(variables)
    assert all(m.data is view for m, view in zip(opt._momentums, flat.views[0]))
    saved = opt.get_weights()
    opt.apply_gradients(zip(steps[3], variables))
    again = optimizers.Adam(learning_rate=0.01)
    again.build(variables)
    again.set_weights(saved)
    np.testing.assert_array_equal(to_numpy(again.variables[2].data), saved[2])
