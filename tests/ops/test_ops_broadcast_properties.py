"""Property tests: gradients of broadcasting binary ops reduce to the input shapes and match
central differences, for random compatible shapes."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import gpuk
from gpuk import ops
from tests.gradcheck import numerical_gradient, tape_gradients

OPS = {
    "add": ops.add,
    "subtract": ops.subtract,
    "multiply": ops.multiply,
    "divide": ops.divide,
    "pow": ops.pow,
    "minimum": ops.minimum,
    "maximum": ops.maximum,
    "where": lambda a, b: ops.where(ops.greater(a, 1.2), a, b),
    "operator_mix": lambda a, b: (a * b - b / a) ** 2,
}


@st.composite
def broadcast_pair(draw):
    """Two shapes that broadcast: start from one shape, drop leading axes and set some to 1."""
    full = draw(st.lists(st.integers(1, 3), min_size=0, max_size=3))
    shapes = []
    for _ in range(2):
        drop = draw(st.integers(0, len(full)))
        shape = [1 if draw(st.booleans()) else n for n in full[drop:]]
        shapes.append(tuple(shape))
    return shapes


@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from(sorted(OPS)), shapes=broadcast_pair(), seed=st.integers(0, 1000))
def test_broadcast_gradients_reduce_to_input_shapes(name, shapes, seed):
    op = OPS[name]
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.5, 2.0, size=shapes[0])
    b = rng.uniform(0.5, 2.0, size=shapes[1])
    # keep minimum/maximum/where away from ties within the difference step
    b = np.where(np.abs(b - a.mean()) < 1e-3, b + 0.1, b)
    expected_shape = np.broadcast_shapes(a.shape, b.shape)
    out = op(gpuk.Tensor(a), gpuk.Tensor(b))
    assert out.shape == expected_shape
    grads = tape_gradients(op, [a, b], np)
    for i, (arr, grad) in enumerate(zip((a, b), grads)):
        if name == "where" and grad is None:
            continue
        assert grad is not None
        assert grad.shape == arr.shape
        numeric = numerical_gradient(lambda *v: op(*[gpuk.Tensor(x) for x in v]), [a, b], i)
        np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-6)


@settings(max_examples=30, deadline=None)
@given(shapes=broadcast_pair())
def test_incompatible_shapes_always_name_op_and_shapes(shapes):
    a = np.ones(shapes[0] + (2,))
    b = np.ones(shapes[1] + (3,))
    for name in ("add", "multiply", "maximum"):
        try:
            getattr(ops, name)(a, b)
        except ValueError as error:
            message = str(error)
            assert name in message and str(a.shape) in message and str(b.shape) in message
        else:
            raise AssertionError(f"{name} accepted {a.shape} and {b.shape}")
