"""Dense's fused op ``activation(x @ kernel + bias)`` (relu, softmax): the same bits as the
affine op followed by the activation op, forward and backward, and a float64 gradcheck."""

import numpy as np
import pytest

import gpuk
from gpuk import ops
from gpuk._array import to_numpy
from gpuk.ops.linalg import affine, affine_activation
from tests.gradcheck import assert_gradients_match

pytestmark = pytest.mark.standin

_SEPARATE = {"relu": ops.relu, "softmax": ops.softmax}


@pytest.mark.parametrize("activation", ["relu", "softmax"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(32, 6), (3, 5, 6)])
def test_fused_equals_the_two_ops_bitwise(xp, activation, dtype, shape):
    rng = np.random.default_rng(0)
    arrays = [
        rng.standard_normal(shape).astype(dtype),
        rng.standard_normal((shape[-1], 7)).astype(dtype),
        rng.standard_normal(7).astype(dtype),
    ]
    arrays[0][0, 0] = np.nan if activation == "relu" else arrays[0][0, 0]
    upstream = xp.asarray(rng.standard_normal(shape[:-1] + (7,)).astype(dtype))
    results = []
    for fused in (False, True):
        tensors = [gpuk.Variable(xp.asarray(a)) for a in arrays]
        with gpuk.GradientTape() as tape:
            if fused:
                out = affine_activation(*tensors, activation)
            else:
                out = _SEPARATE[activation](affine(*tensors))
            total = ops.sum(out * gpuk.Tensor(upstream))
        grads = tape.gradient(total, tensors)
        results.append([to_numpy(out.data)] + [to_numpy(g.data) for g in grads])
    for a, b in zip(*results):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("activation", ["relu", "softmax"])
def test_fused_gradient_float64(xp, activation):
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal((4, 3)), rng.standard_normal((3, 5)), rng.standard_normal(5)]
    assert_gradients_match(lambda x, k, b: affine_activation(x, k, b, activation), arrays, xp)


def test_dense_uses_one_op_for_relu_and_softmax(xp):
    x = gpuk.Tensor(xp.asarray(np.ones((2, 3), "float32")))
    for name in ("relu", "softmax"):
        dense = gpuk.layers.Dense(4, activation=name)
        with gpuk.GradientTape():
            out = dense(x)
        assert out.node.function.activation == name
