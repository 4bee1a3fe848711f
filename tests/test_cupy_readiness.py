"""Patterns that break or stall on CuPy, checked on every device the ``xp`` fixture offers.

On the CPU they pin the behaviour; on a GPU they run against CuPy for real: NumPy operands
meeting CuPy ones, ``np.asarray`` on device arrays at API boundaries, and the scatter-add that
replaces ``bincount`` (which reads values back to the host on CuPy).
"""

import math
import types

import numpy as np
import pytest

import gpuk
from gpuk import _array, ops
from gpuk import backend as K
from gpuk.autograd import GradientTape, Tensor, Variable
from gpuk.callbacks.monitor import scalar
from gpuk.metrics.confusion import weighted_bincount

# Part of the GPU-branch subset CI runs under the CuPy stand-in (docs/gpu-standin.md).
pytestmark = pytest.mark.standin


def test_weighted_bincount_scatter_branch_matches_numpy():
    index = np.array([0, 3, 3, 1, 5, 3])
    weights = np.array([0.5, 1.0, 2.0, 0.25, 4.0, 1.0], dtype=np.float32)
    # A stand-in module that is not numpy takes the scatter-add branch CuPy uses.
    shim = types.SimpleNamespace(zeros=np.zeros, add=np.add)
    got = weighted_bincount(shim, index, weights, 7)
    expected = np.bincount(index, weights=weights, minlength=7)
    np.testing.assert_array_equal(got, expected)
    assert got.dtype == np.float64


def test_weighted_bincount_on_device(xp):
    index = xp.asarray([2, 0, 2, 4])
    weights = xp.asarray([1.0, 2.0, 3.0, 0.5], dtype=np.float32)
    got = _array.to_numpy(weighted_bincount(xp, index, weights, 6))
    np.testing.assert_array_equal(got, [2.0, 0.0, 4.0, 0.0, 0.5, 0.0])


def test_precision_recall_with_unsorted_thresholds(xp):
    y_true = xp.asarray([1.0, 0.0, 1.0, 1.0, 0.0])
    y_pred = xp.asarray([0.9, 0.6, 0.4, 0.2, 0.1])
    precision = gpuk.metrics.Precision(thresholds=[0.5, 0.15, 0.35])
    recall = gpuk.metrics.Recall(thresholds=[0.5, 0.15, 0.35])
    precision.update_state(y_true, y_pred)
    recall.update_state(y_true, y_pred)
    # Predicted positive above 0.5: {0.9, 0.6}; above 0.15: four; above 0.35: three.
    np.testing.assert_allclose(precision.result().numpy(), [1 / 2, 3 / 4, 2 / 3], rtol=1e-6)
    np.testing.assert_allclose(recall.result().numpy(), [1 / 3, 3 / 3, 2 / 3], rtol=1e-6)


def test_precision_top_k_uses_a_stable_rank(xp):
    metric = gpuk.metrics.Precision(top_k=1)
    metric.update_state(xp.asarray([[0.0, 1.0, 0.0]]), xp.asarray([[0.5, 0.5, 0.2]]))
    # Tied scores: the lower index ranks first (as top_k), so class 0 is the prediction.
    assert float(metric.result()) == 0.0


def test_auc_counts_match_keras(xp):
    auc = gpuk.metrics.AUC(num_thresholds=3)
    auc.update_state(xp.asarray([0.0, 0.0, 1.0, 1.0]), xp.asarray([0.0, 0.5, 0.3, 0.9]))
    np.testing.assert_allclose(auc.true_positives.numpy(), [2, 1, 0])
    np.testing.assert_allclose(auc.false_positives.numpy(), [2, 0, 0])
    assert math.isclose(float(auc.result()), 0.75, rel_tol=1e-6)


def test_getitem_of_a_raw_device_array(xp):
    out = ops.getitem(xp.arange(5.0), [1, 1, 3])
    np.testing.assert_array_equal(out.numpy(), [1.0, 1.0, 3.0])


def test_getitem_with_a_numpy_index_accumulates_on_the_device(xp):
    x = Variable(xp.arange(4.0))
    with GradientTape() as tape:
        y = ops.sum(x[np.array([0, 0, 2])])
    (grad,) = tape.gradient(y, [x])
    np.testing.assert_array_equal(_array.to_numpy(grad), [2.0, 0.0, 1.0, 0.0])


def test_gather_takes_whole_float_indices(xp):
    out = ops.gather(Tensor(xp.arange(6.0).reshape(3, 2)), xp.asarray([2.0, 0.0]))
    np.testing.assert_array_equal(out.numpy(), [[4.0, 5.0], [0.0, 1.0]])


def test_host_tensors_meet_device_tensors(xp):
    # K.shape is a host tensor; the optimizer's counter too. Ops must accept them next to
    # device tensors (CuPy refuses NumPy operands).
    x = Tensor(xp.ones((2, 3), dtype=np.float32))
    host = Tensor(np.full((3,), 2.0, dtype=np.float32))
    np.testing.assert_array_equal(ops.add(x, host).numpy(), np.full((2, 3), 3.0))
    n = K.cast(K.shape(x)[1], "float32")
    np.testing.assert_allclose((x / n).numpy(), np.full((2, 3), 1 / 3), rtol=1e-6)
    np.testing.assert_array_equal(ops.equal(x, host).numpy(), np.zeros((2, 3), dtype=bool))


def test_set_weights_and_set_value_accept_device_arrays(xp):
    layer = gpuk.layers.Dense(2)
    layer.build((None, 3))
    kernel = xp.asarray(np.arange(6.0, dtype=np.float32).reshape(3, 2))
    layer.set_weights([kernel, xp.zeros((2,), dtype=np.float32)])
    np.testing.assert_array_equal(layer.get_weights()[0], _array.to_numpy(kernel))
    variable = K.variable(np.zeros((2,)))
    K.set_value(variable, xp.asarray([1.0, 2.0]))
    np.testing.assert_array_equal(K.get_value(variable), [1.0, 2.0])


def test_api_boundaries_convert_device_values(xp):
    assert scalar(xp.asarray(0.25)) == 0.25
    constant = gpuk.initializers.Constant(xp.asarray([1.0, 2.0]))
    assert constant.get_config() == {"value": [1.0, 2.0]}
    one_hot = gpuk.utils.to_categorical(xp.asarray([2, 0]), 3)
    assert isinstance(one_hot, np.ndarray)
    np.testing.assert_array_equal(one_hot, [[0, 0, 1], [1, 0, 0]])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_exact_gelu_on_device(xp, dtype):
    x = np.linspace(-5, 5, 41).astype(dtype)
    got = ops.gelu(Tensor(xp.asarray(x)), approximate=False).numpy()
    expected = 0.5 * x * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))
    assert got.dtype == np.dtype(dtype)
    np.testing.assert_allclose(got, expected, rtol=1e-6 if dtype == "float32" else 1e-12, atol=1e-7)


def test_variables_are_c_contiguous(xp):
    fortran = xp.asfortranarray(xp.asarray(np.arange(6.0).reshape(2, 3)))
    for variable in (Variable(fortran), Variable(fortran, dtype="float32")):
        assert variable.data.flags.c_contiguous
        np.testing.assert_array_equal(variable.numpy(), np.arange(6.0).reshape(2, 3))
    variable = Variable(xp.zeros((2, 3)))
    variable.assign(fortran)
    assert variable.data.flags.c_contiguous


def test_orthogonal_recurrent_kernels_are_c_contiguous(xp):
    layer = gpuk.layers.GRU(3, recurrent_initializer="orthogonal")  # (units, 3 units): q.T
    layer.build((None, 4, 5))
    for weight in layer.weights:
        assert weight.data.flags.c_contiguous, weight.path
