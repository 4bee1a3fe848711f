"""Reductions and matrix products: values against NumPy, float64 gradients."""

import numpy as np
import pytest

import gpuk
from gpuk import ops
from tests.gradcheck import assert_gradients_match


def _np_logsumexp(x, axis=None, keepdims=False):
    m = np.max(x, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


REDUCTIONS = {
    "sum": np.sum,
    "mean": np.mean,
    "max": np.max,
    "min": np.min,
    "prod": np.prod,
    "var": np.var,
    "std": np.std,
    "logsumexp": _np_logsumexp,
}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@pytest.mark.parametrize("axis", [None, 0, -1, (0, 2)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_reduction_value_and_gradient(name, axis, keepdims, xp):
    x = np.random.default_rng(0).uniform(0.5, 1.5, size=(2, 3, 4))
    op, ref = getattr(ops, name), REDUCTIONS[name]
    out = op(xp.asarray(x), axis=axis, keepdims=keepdims)
    expected = ref(x, axis=axis, keepdims=keepdims)
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)
    weights = np.random.default_rng(1).normal(size=np.shape(expected))
    assert_gradients_match(lambda t: op(t, axis=axis, keepdims=keepdims) * weights, [x], xp)


def test_prod_gradient_with_zeros(xp):
    x = np.array([[0.0, 2.0, 3.0], [0.0, 0.0, 4.0], [1.0, 2.0, 5.0]])
    assert_gradients_match(lambda t: ops.prod(t, axis=1), [x], xp)
    assert_gradients_match(lambda t: ops.prod(t, axis=0), [x], xp)


def test_max_ties_share_gradient(xp):
    v = gpuk.Variable(xp.asarray(np.array([1.0, 3.0, 3.0])))
    with gpuk.GradientTape() as tape:
        y = ops.max(v)
    np.testing.assert_allclose(tape.gradient(y, v).numpy(), [0, 0.5, 0.5])


def test_logsumexp_is_stable(xp):
    x = xp.asarray(np.array([[1000.0, 1000.0], [-1000.0, -1000.0]]))
    np.testing.assert_allclose(
        ops.logsumexp(x, axis=1).numpy(), [1000 + np.log(2), -1000 + np.log(2)]
    )


@pytest.mark.parametrize("name, ref", [("argmax", np.argmax), ("argmin", np.argmin)])
def test_argmax_argmin(name, ref, xp):
    x = np.random.default_rng(2).normal(size=(3, 4, 5))
    op = getattr(ops, name)
    np.testing.assert_array_equal(op(xp.asarray(x), axis=-1).numpy(), ref(x, axis=-1))
    np.testing.assert_array_equal(op(xp.asarray(x), axis=1).numpy(), ref(x, axis=1))
    assert op(xp.asarray(x), axis=None).numpy() == ref(x)


def test_any_all(xp):
    x = np.array([[0.0, 1.0], [0.0, 0.0]])
    np.testing.assert_array_equal(ops.any(xp.asarray(x), axis=1).numpy(), [True, False])
    np.testing.assert_array_equal(ops.all(xp.asarray(x > -1), axis=0).numpy(), [True, True])
    assert not bool(ops.all(xp.asarray(x)))
    assert ops.any(xp.asarray(x), keepdims=True).shape == (1, 1)


def test_reduction_axis_out_of_range(xp):
    with pytest.raises(ValueError, match="axis 3"):
        ops.sum(xp.ones((2, 3)), axis=3)


MATMUL_SHAPES = [
    ((3, 4), (4, 5)),
    ((4,), (4, 2)),
    ((3, 4), (4,)),
    ((2, 3, 4), (4, 5)),
    ((2, 3, 4), (1, 4, 2)),
    ((4,), (4,)),
]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES)
def test_matmul_value_and_gradient(shapes, xp):
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=shapes[0]), rng.normal(size=shapes[1])
    np.testing.assert_allclose(ops.matmul(xp.asarray(a), xp.asarray(b)).numpy(), a @ b)
    assert_gradients_match(ops.matmul, [a, b], xp)


@pytest.mark.parametrize("x_shape", [(5, 4), (2, 3, 4)])
def test_affine_value_and_gradient(x_shape, xp):
    """Dense's fused op equals matmul then add, and has the same float64 gradients."""
    from gpuk.ops.linalg import affine

    rng = np.random.default_rng(4)
    x, kernel, bias = rng.normal(size=x_shape), rng.normal(size=(4, 3)), rng.normal(size=(3,))
    args = [xp.asarray(a) for a in (x, kernel, bias)]
    np.testing.assert_array_equal(
        affine(*args).numpy(), ops.add(ops.matmul(*args[:2]), args[2]).numpy()
    )
    assert_gradients_match(affine, [x, kernel, bias], xp)


def test_matmul_incompatible_shapes(xp):
    with pytest.raises(ValueError, match=r"matmul.*\(3, 4\).*\(5, 2\)"):
        ops.matmul(xp.ones((3, 4)), xp.ones((5, 2)))


def _keras_dot(x, y):
    """Keras's documented K.dot for N-D: contract x's last axis with y's second-to-last."""
    if y.ndim == 1:
        return np.tensordot(x, y, axes=([-1], [0]))
    return np.tensordot(x, y, axes=([-1], [-2]))


@pytest.mark.parametrize(
    "shapes", [((3, 4), (4, 5)), ((2, 3, 4), (4, 5)), ((2, 3, 4), (3, 4, 5)), ((3, 4), (4,))]
)
def test_dot_keras_semantics(shapes, xp):
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=shapes[0]), rng.normal(size=shapes[1])
    out = ops.dot(xp.asarray(a), xp.asarray(b))
    np.testing.assert_allclose(out.numpy(), _keras_dot(a, b), rtol=1e-12)
    assert_gradients_match(ops.dot, [a, b], xp)


def test_dot_documented_shape(xp):
    # Keras docs: dot of (2, 3) and (4, 3, 5) has shape (2, 4, 5)
    assert ops.dot(xp.ones((2, 3)), xp.ones((4, 3, 5))).shape == (2, 4, 5)
    assert ops.dot(xp.ones((32, 28, 3)), xp.ones((3,))).shape == (32, 28)


def test_dot_incompatible(xp):
    with pytest.raises(ValueError, match=r"dot.*\(2, 3\).*\(4, 5\)"):
        ops.dot(xp.ones((2, 3)), xp.ones((4, 5)))


@pytest.mark.parametrize(
    "shape_x, shape_y, axes, expected_shape",
    [
        ((32, 20), (32, 20), 1, (32, 1)),
        ((32, 20), (32, 20), None, (32, 1)),
        ((32, 20), (32, 30, 20), (1, 2), (32, 30)),
        ((4, 3, 5), (4, 5, 6), None, (4, 3, 6)),
        ((4, 3, 5), (4, 3, 6), (1, 1), (4, 5, 6)),
        ((4, 5), (4, 5, 6), None, (4, 6)),
        ((4, 2, 3, 5), (4, 5, 2), (3, 1), (4, 2, 3, 2)),
    ],
)
def test_batch_dot_keras_semantics(shape_x, shape_y, axes, expected_shape, xp):
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=shape_x), rng.normal(size=shape_y)
    out = ops.batch_dot(xp.asarray(x), xp.asarray(y), axes=axes)
    assert out.shape == expected_shape
    if axes is None:
        axes = (x.ndim - 1, y.ndim - 1 if y.ndim == 2 else y.ndim - 2)
    elif isinstance(axes, int):
        axes = (axes, axes)
    ref = np.stack(
        [np.tensordot(x[i], y[i], axes=(axes[0] - 1, axes[1] - 1)) for i in range(len(x))]
    )
    np.testing.assert_allclose(out.numpy(), ref.reshape(expected_shape), rtol=1e-12)
    if x.size < 200:
        assert_gradients_match(lambda a, b: ops.batch_dot(a, b, axes=axes), [x, y], xp)


def test_batch_dot_errors(xp):
    with pytest.raises(ValueError, match="batch axis"):
        ops.batch_dot(xp.ones((2, 3)), xp.ones((2, 3)), axes=0)
    with pytest.raises(ValueError, match=r"batch_dot.*\(2, 3\).*\(2, 4\)"):
        ops.batch_dot(xp.ones((2, 3)), xp.ones((2, 4)))


@pytest.mark.parametrize("axes", [1, 2, ([0, 2], [1, 0]), ([1], [2])])
def test_tensordot(axes, xp):
    rng = np.random.default_rng(6)
    a = rng.normal(size=(3, 4, 2))
    b = {1: (2, 5), 2: (4, 2, 3)}.get(axes, (2, 3, 4)) if isinstance(axes, int) else (2, 3, 4)
    if axes == ([1], [2]):
        b = (2, 3, 4)
    b = rng.normal(size=b)
    np.testing.assert_allclose(
        ops.tensordot(xp.asarray(a), xp.asarray(b), axes=axes).numpy(),
        np.tensordot(a, b, axes=axes),
        rtol=1e-12,
    )
    assert_gradients_match(lambda s, t: ops.tensordot(s, t, axes=axes), [a, b], xp)
