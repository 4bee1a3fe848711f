"""Elementwise ops and activations: values against NumPy references, float64 gradients."""

import math

import numpy as np
import pytest

import gpuk
from gpuk import ops
from gpuk._array import to_numpy
from tests.gradcheck import assert_gradients_match

_erf = np.vectorize(math.erf)


def _np_sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _np_softplus(x):
    return np.log1p(np.exp(-np.abs(x))) + np.maximum(x, 0)


_SELU_A, _SELU_S = 1.6732632423543772, 1.0507009873554805

# name -> (op, NumPy reference, input sampler avoiding kinks by >= 0.05)
UNARY = {
    "negative": (ops.negative, np.negative, "any"),
    "abs": (ops.abs, np.abs, "nonzero"),
    "square": (ops.square, np.square, "any"),
    "sqrt": (ops.sqrt, np.sqrt, "positive"),
    "exp": (ops.exp, np.exp, "any"),
    "log": (ops.log, np.log, "positive"),
    "log1p": (ops.log1p, np.log1p, "positive"),
    "tanh": (ops.tanh, np.tanh, "any"),
    "sigmoid": (ops.sigmoid, _np_sigmoid, "any"),
    "hard_sigmoid": (ops.hard_sigmoid, lambda x: np.clip(x / 6 + 0.5, 0, 1), "wide"),
    "hard_sigmoid_k2": (
        lambda x: ops.hard_sigmoid(x, slope=0.2),
        lambda x: np.clip(0.2 * x + 0.5, 0, 1),
        "wide",
    ),
    "relu": (ops.relu, lambda x: np.maximum(x, 0), "nonzero"),
    "relu6": (ops.relu6, lambda x: np.clip(x, 0, 6), "wide"),
    "relu_opts": (
        lambda x: ops.relu(x, negative_slope=0.1, max_value=2.0, threshold=0.5),
        lambda x: np.where(x > 0.5, np.minimum(x, 2.0), 0.1 * (x - 0.5)),
        "wide",
    ),
    "leaky_relu": (ops.leaky_relu, lambda x: np.where(x >= 0, x, 0.2 * x), "nonzero"),
    "elu": (ops.elu, lambda x: np.where(x > 0, x, np.exp(x) - 1), "nonzero"),
    "elu_alpha": (
        lambda x: ops.elu(x, alpha=0.5),
        lambda x: np.where(x > 0, x, 0.5 * (np.exp(x) - 1)),
        "nonzero",
    ),
    "selu": (ops.selu, lambda x: _SELU_S * np.where(x > 0, x, _SELU_A * np.expm1(x)), "nonzero"),
    "softplus": (ops.softplus, _np_softplus, "any"),
    "softsign": (ops.softsign, lambda x: x / (1 + np.abs(x)), "nonzero"),
    "swish": (ops.swish, lambda x: x * _np_sigmoid(x), "any"),
    "silu": (ops.silu, lambda x: x * _np_sigmoid(x), "any"),
    "mish": (ops.mish, lambda x: x * np.tanh(_np_softplus(x)), "any"),
    "gelu": (
        lambda x: ops.gelu(x, approximate=False),
        lambda x: 0.5 * x * (1 + _erf(x / np.sqrt(2))),
        "any",
    ),
    "gelu_tanh": (
        lambda x: ops.gelu(x, approximate=True),
        lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3))),
        "any",
    ),
    "exponential": (ops.exponential, np.exp, "any"),
    "linear": (ops.linear, lambda x: x, "any"),
}


def _sample(kind, shape=(3, 4), seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-3, 3, size=shape)
    if kind == "positive":
        return np.abs(x) + 0.1
    if kind == "nonzero":
        return np.where(np.abs(x) < 0.1, 0.3, x)
    if kind == "wide":
        x = rng.uniform(-8, 8, size=shape)
        # keep away from every kink used above (0, +-3, 0.5, 2, 6, +-2.5)
        for kink in (-3, -2.5, 0, 0.5, 2, 2.5, 3, 6):
            x = np.where(np.abs(x - kink) < 0.1, kink + 0.3, x)
        return x
    return x


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_value(name, xp):
    op, ref, kind = UNARY[name]
    x = _sample(kind)
    for dtype in ("float32", "float64"):
        out = op(gpuk.Tensor(xp.asarray(x.astype(dtype))))
        assert isinstance(out, gpuk.Tensor)
        assert out.dtype == dtype, name
        tol = 1e-6 if dtype == "float32" else 1e-12
        np.testing.assert_allclose(out.numpy(), ref(x), rtol=tol * 10, atol=tol)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_gradient(name, xp):
    op, _, kind = UNARY[name]
    assert_gradients_match(op, [_sample(kind, seed=1)], xp)


def test_activations_are_stable_for_large_inputs(xp):
    x = xp.asarray(np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0], dtype="float32"))
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        s = ops.sigmoid(x).numpy()
        sp = ops.softplus(x).numpy()
        sm = ops.softmax(x).numpy()
        ls = ops.log_softmax(x).numpy()
    np.testing.assert_allclose(s, [0, 0, 0.5, 1, 1], atol=1e-7)
    np.testing.assert_allclose(sp, [0, 0, np.log(2), 50, 1000], rtol=1e-6, atol=1e-7)
    assert np.isfinite(sm).all() and np.isfinite(ls).all()
    assert sm[-1] == pytest.approx(1.0)


def test_relu_defaults_match_keras(xp):
    x = xp.asarray(np.array([-2.0, -0.5, 0.0, 0.5, 7.0]))
    np.testing.assert_allclose(ops.relu(x).numpy(), [0, 0, 0, 0.5, 7])
    np.testing.assert_allclose(ops.relu(x, max_value=1.0).numpy(), [0, 0, 0, 0.5, 1])
    np.testing.assert_allclose(ops.relu(x, threshold=0.5).numpy(), [0, 0, 0, 0, 7])
    np.testing.assert_allclose(ops.relu(x, negative_slope=0.1).numpy(), [-0.2, -0.05, 0, 0.5, 7])
    np.testing.assert_allclose(ops.leaky_relu(x).numpy(), [-0.4, -0.1, 0, 0.5, 7])


@pytest.mark.parametrize("axis", [-1, 0, (0, 1)])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_value_and_gradient(name, axis, xp):
    x = np.random.default_rng(2).normal(size=(3, 4))
    shifted = x - x.max(axis=axis, keepdims=True)
    ref = np.exp(shifted) / np.exp(shifted).sum(axis=axis, keepdims=True)
    if name == "log_softmax":
        ref = np.log(ref)
    op = getattr(ops, name)
    np.testing.assert_allclose(op(xp.asarray(x), axis=axis).numpy(), ref, rtol=1e-12)
    weights = np.random.default_rng(3).normal(size=x.shape)
    assert_gradients_match(lambda t: op(t, axis=axis) * weights, [x], xp)


# Binary broadcasting ops: op, NumPy reference, sampler for b
BINARY = {
    "add": (ops.add, np.add),
    "subtract": (ops.subtract, np.subtract),
    "multiply": (ops.multiply, np.multiply),
    "divide": (ops.divide, np.divide),
    "pow": (ops.pow, np.power),
    "minimum": (ops.minimum, np.minimum),
    "maximum": (ops.maximum, np.maximum),
}


def _binary_inputs(name, shape_a, shape_b, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.5, 2.0, size=shape_a)
    b = rng.uniform(-1.5, 1.5, size=shape_b)
    if name == "divide":
        b = np.where(np.abs(b) < 0.2, 0.7, b)
    if name in ("minimum", "maximum"):
        b = b + 1.25  # a and b overlap but no exact ties
    return a, b


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize(
    "shapes", [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 1), (1, 4)), ((2, 3, 4), ())]
)
def test_binary_value_and_gradient(name, shapes, xp):
    op, ref = BINARY[name]
    a, b = _binary_inputs(name, *shapes)
    out = op(xp.asarray(a), xp.asarray(b))
    np.testing.assert_allclose(out.numpy(), ref(a, b), rtol=1e-12)
    assert_gradients_match(op, [a, b], xp)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_incompatible_shapes_name_op_and_shapes(name, xp):
    op, _ = BINARY[name]
    with pytest.raises(ValueError, match=rf"{name}.*\(3, 4\).*\(5,\)"):
        op(xp.ones((3, 4)), xp.ones((5,)))


def test_python_operators_and_scalars_keep_dtype(xp):
    x = gpuk.Tensor(xp.asarray(np.array([1.0, 2.0, 4.0], dtype="float32")))
    for out in (x + 1, 1 + x, x * 0.5, 2.0 - x, 1 / x, x / 2, x**2, 2**x, -x, abs(-x)):
        assert out.dtype == "float32"
    np.testing.assert_allclose((2.0 - x).numpy(), [1, 0, -2])
    np.testing.assert_allclose((1 / x).numpy(), [1, 0.5, 0.25])
    np.testing.assert_allclose((2**x).numpy(), [2, 4, 16])
    np.testing.assert_allclose(abs(-x).numpy(), [1, 2, 4])
    m = gpuk.Tensor(xp.asarray(np.arange(6.0).reshape(2, 3)))
    ref = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose((m @ m.T).numpy(), ref @ ref.T)


def test_where_value_and_gradient(xp):
    rng = np.random.default_rng(4)
    cond = rng.uniform(size=(3, 4)) > 0.5
    a, b = rng.normal(size=(3, 4)), rng.normal(size=(4,))
    out = ops.where(xp.asarray(cond), xp.asarray(a), xp.asarray(b))
    np.testing.assert_allclose(out.numpy(), np.where(cond, a, b))
    assert_gradients_match(lambda x, y: ops.where(xp.asarray(cond), x, y), [a, b], xp)


def test_clip_value_and_gradient(xp):
    x = np.array([-2.0, -0.5, 0.3, 0.9, 3.0])
    np.testing.assert_allclose(ops.clip(xp.asarray(x), -1, 1).numpy(), np.clip(x, -1, 1))
    assert_gradients_match(lambda t: ops.clip(t, -1.0, 1.0), [x], xp)


def test_minimum_maximum_ties_send_gradient_to_first(xp):
    a = gpuk.Variable(xp.asarray([1.0, 2.0]))
    b = gpuk.Variable(xp.asarray([1.0, 3.0]))
    with gpuk.GradientTape(persistent=True) as tape:
        lo = ops.minimum(a, b)
        hi = ops.maximum(a, b)
    ga, gb = tape.gradient(lo, [a, b])
    np.testing.assert_allclose(ga.numpy(), [1, 1])
    np.testing.assert_allclose(gb.numpy(), [0, 0])
    ga, gb = tape.gradient(hi, [a, b])
    np.testing.assert_allclose(ga.numpy(), [1, 0])
    np.testing.assert_allclose(gb.numpy(), [0, 1])


@pytest.mark.parametrize(
    "fn",
    [
        lambda v: ops.round(v),
        lambda v: ops.sign(v),
        lambda v: ops.argmax(v),
        lambda v: ops.argmin(v, axis=0),
        lambda v: ops.greater(v, 0.5),
        lambda v: v < 0.5,
        lambda v: ops.equal(v, v),
        lambda v: ops.cast(ops.greater_equal(v, 0.1), "float64"),
        lambda v: ops.one_hot(ops.argmax(v), 3),
        lambda v: ops.stop_gradient(v),
        lambda v: ops.any(v > 0),
        lambda v: ops.cast(v, "int32"),
    ],
)
def test_ops_without_gradient_give_none(fn, xp):
    v = gpuk.Variable(xp.asarray(np.array([[0.2, 1.5, -0.7], [2.5, 0.1, 0.4]])))
    with gpuk.GradientTape() as tape:
        out = fn(v)
    assert tape.gradient(out, v) is None


def test_gradient_through_mixed_graph_with_non_differentiable_branch(xp):
    v = gpuk.Variable(xp.asarray(np.array([0.2, 1.5, -0.7])))
    with gpuk.GradientTape() as tape:
        mask = ops.cast(ops.greater(v, 0.0), "float64")
        loss = ops.sum(v * v * mask + ops.round(v))
    np.testing.assert_allclose(tape.gradient(loss, v).numpy(), [0.4, 3.0, 0.0])


def test_round_is_half_to_even_and_sign(xp):
    x = xp.asarray(np.array([-1.5, -0.5, 0.5, 1.5, 2.5, 2.4]))
    np.testing.assert_array_equal(ops.round(x).numpy(), [-2, -0, 0, 2, 2, 2])
    np.testing.assert_array_equal(ops.sign(x).numpy(), [-1, -1, 1, 1, 1, 1])


@pytest.mark.parametrize(
    "name, ref",
    [
        ("equal", np.equal),
        ("not_equal", np.not_equal),
        ("greater", np.greater),
        ("greater_equal", np.greater_equal),
        ("less", np.less),
        ("less_equal", np.less_equal),
    ],
)
def test_comparisons(name, ref, xp):
    a = np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]])
    b = np.array([2.0, 2.0, 2.0])
    out = getattr(ops, name)(xp.asarray(a), xp.asarray(b))
    assert out.dtype == bool
    np.testing.assert_array_equal(out.numpy(), ref(a, b))
    np.testing.assert_array_equal(getattr(ops, name)(xp.asarray(a), 2).numpy(), ref(a, 2))
    with pytest.raises(ValueError, match=name):
        getattr(ops, name)(xp.ones((2, 3)), xp.ones((4,)))


def test_operator_comparisons(xp):
    x = gpuk.Tensor(xp.asarray(np.array([1.0, 2.0, 3.0])))
    np.testing.assert_array_equal((x < 2).numpy(), [True, False, False])
    np.testing.assert_array_equal((x >= 2).numpy(), [False, True, True])
    np.testing.assert_array_equal((x == 2).numpy(), [False, True, False])
    np.testing.assert_array_equal((x != 2).numpy(), [True, False, True])


def test_gelu_exact_erf_matches_math_erf():
    from gpuk.ops._special import erf

    x = np.linspace(-8, 8, 4001)
    np.testing.assert_allclose(erf(np, x), _erf(x), rtol=0, atol=2e-15)
    np.testing.assert_allclose(to_numpy(erf(np, x.astype("float32"))), _erf(x), atol=1e-6)
