"""Sparse categorical crossentropy of probabilities as one op: the same bits as the op chain it
replaces (sum, divide, clip, log, one-hot product, sum, negate), forward and backward, and a
float64 numerical-gradient check."""

import numpy as np
import pytest

import gpuk
from gpuk import ops
from gpuk._array import to_numpy
from gpuk._config import epsilon
from gpuk.ops.crossentropy import SparseCrossentropyOfProbabilities
from tests.gradcheck import assert_gradients_match

pytestmark = pytest.mark.standin


def _chain(labels, output):
    """The op chain ``ops.sparse_categorical_crossentropy`` ran before the fused op."""
    eps = epsilon()
    o = ops.divide(output, ops.sum(output, axis=-1, keepdims=True))
    log_prob = ops.log(ops.clip(o, eps, 1.0 - eps))
    mask = ops.one_hot(labels, output.shape[-1], dtype=output.dtype)
    return ops.negative(ops.sum(ops.multiply(mask, log_prob), axis=-1))


def _probabilities(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    p = rng.uniform(size=shape) ** 3
    p[..., 0] = 0.0  # clipped low end
    p[(0,) * (len(shape) - 1)] = [1.0] + [0.0] * (shape[-1] - 1)  # clipped high end
    return p.astype(dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(16, 5), (3, 4, 7)])
def test_fused_op_equals_the_chain_bitwise(xp, dtype, shape):
    p = _probabilities(shape, dtype)
    labels = np.random.default_rng(1).integers(0, shape[-1], size=shape[:-1])
    labels.flat[-1] = shape[-1] + 3  # out of range: an all-zero one-hot row, loss 0
    labels = xp.asarray(labels)
    results = []
    for fn in (_chain, ops.sparse_categorical_crossentropy):
        x = gpuk.Variable(xp.asarray(p))
        with gpuk.GradientTape() as tape:
            loss = fn(gpuk.Tensor(labels), x)
            total = ops.mean(loss * loss)
        results.append((to_numpy(loss.data), to_numpy(tape.gradient(total, x).data)))
    (value_a, grad_a), (value_b, grad_b) = results
    assert value_a.dtype == value_b.dtype == dtype
    np.testing.assert_array_equal(value_a, value_b)
    np.testing.assert_array_equal(grad_a, grad_b)


def test_one_op_in_the_graph(xp):
    x = gpuk.Variable(xp.asarray(_probabilities((4, 3), "float32")))
    with gpuk.GradientTape():
        loss = ops.sparse_categorical_crossentropy(xp.asarray(np.array([0, 1, 2, 1])), x)
    assert isinstance(loss.node.function, SparseCrossentropyOfProbabilities)


def test_fused_op_gradient_float64(xp):
    rng = np.random.default_rng(2)
    p = rng.uniform(0.05, 1.0, size=(6, 4))
    labels = xp.asarray(rng.integers(0, 4, size=6))
    assert_gradients_match(
        lambda out: ops.sparse_categorical_crossentropy(gpuk.Tensor(labels), out), [p], xp
    )
