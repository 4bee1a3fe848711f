"""Shape ops and indexing: values against NumPy, float64 gradients, errors naming shapes."""

import numpy as np
import pytest

import gpuk
from gpuk import ops
from tests.gradcheck import assert_gradients_match

X = np.random.default_rng(0).normal(size=(2, 3, 4))

# name -> (op on a tensor, NumPy reference)
SHAPE_OPS = {
    "reshape": (lambda t: ops.reshape(t, (4, -1)), lambda a: a.reshape(4, -1)),
    "transpose": (lambda t: ops.transpose(t, (2, 0, 1)), lambda a: a.transpose(2, 0, 1)),
    "transpose_default": (ops.transpose, lambda a: a.T),
    "expand_dims": (lambda t: ops.expand_dims(t, 1), lambda a: np.expand_dims(a, 1)),
    "expand_dims_neg": (lambda t: ops.expand_dims(t, -1), lambda a: np.expand_dims(a, -1)),
    "squeeze": (
        lambda t: ops.squeeze(ops.expand_dims(t, 0)),
        lambda a: a,
    ),
    "squeeze_axis": (
        lambda t: ops.squeeze(ops.reshape(t, (2, 1, 12)), axis=1),
        lambda a: a.reshape(2, 12),
    ),
    "concatenate": (
        lambda t: ops.concatenate([t, t * 2], axis=1),
        lambda a: np.concatenate([a, a * 2], axis=1),
    ),
    "concatenate_default_last": (
        lambda t: ops.concatenate([t, t[..., :2]], axis=-1),
        lambda a: np.concatenate([a, a[..., :2]], axis=-1),
    ),
    "stack": (lambda t: ops.stack([t, t * 3], axis=1), lambda a: np.stack([a, a * 3], axis=1)),
    "stack_last": (lambda t: ops.stack([t, t], axis=-1), lambda a: np.stack([a, a], axis=-1)),
    "split_equal": (
        lambda t: ops.split(t, 2, axis=2)[1] * 5,
        lambda a: np.split(a, 2, axis=2)[1] * 5,
    ),
    "split_sizes": (
        lambda t: ops.concatenate(ops.split(t, [1], axis=-1)[::-1], axis=-1),
        lambda a: np.concatenate([a[..., 1:], a[..., :1]], axis=-1),
    ),
    "tile": (lambda t: ops.tile(t, (2, 1, 3)), lambda a: np.tile(a, (2, 1, 3))),
    "tile_longer_reps": (lambda t: ops.tile(t, (2, 1, 1, 2)), lambda a: np.tile(a, (2, 1, 1, 2))),
    "repeat": (lambda t: ops.repeat(t, 3, axis=1), lambda a: np.repeat(a, 3, axis=1)),
    "repeat_list": (
        lambda t: ops.repeat(t, [1, 0, 2], axis=1),
        lambda a: np.repeat(a, [1, 0, 2], axis=1),
    ),
    "repeat_flat": (lambda t: ops.repeat(t, 2), lambda a: np.repeat(a, 2)),
    "gather": (lambda t: ops.gather(t, [2, 0, 2], axis=1), lambda a: a[:, [2, 0, 2]]),
    "gather_2d_idx": (
        lambda t: ops.gather(t, np.array([[0, 3], [3, 3]]), axis=2),
        lambda a: np.take(a, np.array([[0, 3], [3, 3]]), axis=2),
    ),
    "cumsum": (lambda t: ops.cumsum(t, axis=1), lambda a: np.cumsum(a, axis=1)),
    "cumsum_neg": (lambda t: ops.cumsum(t, axis=-1), lambda a: np.cumsum(a, axis=-1)),
    "flatten": (ops.flatten, lambda a: a.reshape(-1)),
    "pad": (
        lambda t: ops.pad(t, [(0, 0), (1, 2), (0, 1)], constant_values=0.5),
        lambda a: np.pad(a, [(0, 0), (1, 2), (0, 1)], constant_values=0.5),
    ),
    "cast": (lambda t: ops.cast(t, "float32"), lambda a: a.astype("float32")),
    "getitem_column": (lambda t: t[:, 1], lambda a: a[:, 1]),
    "getitem_ellipsis": (lambda t: t[..., -1], lambda a: a[..., -1]),
    "getitem_slices": (lambda t: t[1:, ::2, None, 1:3], lambda a: a[1:, ::2, None, 1:3]),
    "getitem_int_array": (lambda t: t[[0, 1, 1]], lambda a: a[[0, 1, 1]]),
    "getitem_int_arrays": (
        lambda t: t[:, [0, 2, 0], [1, 1, 3]],
        lambda a: a[:, [0, 2, 0], [1, 1, 3]],
    ),
    "getitem_bool_mask": (lambda t: t[t > 0], lambda a: a[a > 0]),
    "getitem_np_mask": (
        lambda t: t[np.array([True, False])],
        lambda a: a[np.array([True, False])],
    ),
    "getitem_tensor_index": (
        lambda t: t[ops.argmax(t[:, 0, 0], axis=0)],
        lambda a: a[np.argmax(a[:, 0, 0])],
    ),
}


@pytest.mark.parametrize("name", sorted(SHAPE_OPS))
def test_shape_op_value(name, xp):
    op, ref = SHAPE_OPS[name]
    out = op(gpuk.Tensor(xp.asarray(X)))
    expected = ref(X)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)


# cast to float32 is checked in test_cast_dtypes_and_gradient_rules (float32 rounding would
# swamp a central difference)
@pytest.mark.parametrize("name", sorted(set(SHAPE_OPS) - {"cast"}))
def test_shape_op_gradient(name, xp):
    op, _ = SHAPE_OPS[name]
    weights = None

    def weighted(t):
        nonlocal weights
        out = op(t)
        if weights is None:
            weights = np.random.default_rng(1).normal(size=out.shape)
        return out * weights

    assert_gradients_match(weighted, [X], xp)


def test_getitem_repeated_indices_accumulate(xp):
    v = gpuk.Variable(xp.asarray(np.array([1.0, 2.0, 3.0])))
    with gpuk.GradientTape() as tape:
        y = ops.sum(v[[0, 0, 2]])
    np.testing.assert_allclose(tape.gradient(y, v).numpy(), [2, 0, 1])


def test_gather_repeated_indices_accumulate(xp):
    v = gpuk.Variable(xp.asarray(np.arange(6.0).reshape(3, 2)))
    with gpuk.GradientTape() as tape:
        y = ops.sum(ops.gather(v, [1, 1, 2]))
    np.testing.assert_allclose(tape.gradient(y, v).numpy(), [[0, 0], [2, 2], [1, 1]])


def test_gather_bad_indices(xp):
    """NumPy: checked, with errors naming gather. CuPy: checking would read a flag back from
    the GPU every call, so out-of-range indices wrap (CuPy's take) and float indices are
    truncated, unchecked."""
    x = xp.asarray(np.arange(6.0).reshape(3, 2))
    if xp is np:
        with pytest.raises(ValueError, match="gather"):
            ops.gather(x, [3])
        with pytest.raises(TypeError, match="integers"):
            ops.gather(x, [0.5])
        return
    np.testing.assert_array_equal(ops.gather(x, [3, -4]).numpy(), [[0.0, 1.0], [4.0, 5.0]])
    np.testing.assert_array_equal(ops.gather(x, xp.asarray([1.5])).numpy(), [[2.0, 3.0]])


def test_concatenate_mismatch_names_op_and_all_shapes(xp):
    with pytest.raises(ValueError, match=r"concatenate.*\(2, 3\).*\(2, 4\).*\(3, 3\)"):
        ops.concatenate([xp.ones((2, 3)), xp.ones((2, 4)), xp.ones((3, 3))], axis=1)
    with pytest.raises(ValueError, match=r"concatenate.*\(2, 3\).*\(2, 3, 1\)"):
        ops.concatenate([xp.ones((2, 3)), xp.ones((2, 3, 1))])


def test_stack_split_reshape_errors(xp):
    with pytest.raises(ValueError, match=r"stack.*\(2,\).*\(3,\)"):
        ops.stack([xp.ones(2), xp.ones(3)])
    with pytest.raises(ValueError, match="split"):
        ops.split(xp.ones((2, 5)), 2, axis=1)
    with pytest.raises(ValueError, match=r"reshape.*\(2, 5\).*\(3, -1\)"):
        ops.reshape(xp.ones((2, 5)), (3, -1))
    with pytest.raises(ValueError, match="squeeze"):
        ops.squeeze(xp.ones((2, 5)), axis=1)
    with pytest.raises(ValueError, match="transpose"):
        ops.transpose(xp.ones((2, 5)), (0, 0))


def test_one_hot(xp):
    out = ops.one_hot(xp.asarray(np.array([[0, 2], [1, 5]])), 3)
    assert out.dtype == "float32" and out.shape == (2, 2, 3)
    np.testing.assert_array_equal(out.numpy(), [[[1, 0, 0], [0, 0, 1]], [[0, 1, 0], [0, 0, 0]]])
    assert ops.one_hot([1.0, 0.0], 2).numpy().tolist() == [[0, 1], [1, 0]]


def test_cast_dtypes_and_gradient_rules(xp):
    v = gpuk.Variable(xp.asarray(np.array([1.5, -2.5], dtype="float32")))
    with gpuk.GradientTape(persistent=True) as tape:
        as64 = ops.cast(v, "float64")
        as_int = ops.cast(v, "int32")
        back = ops.cast(as_int, "float32")
    assert as64.dtype == "float64" and as_int.dtype == "int32"
    np.testing.assert_array_equal(as_int.numpy(), [1, -2])
    g = tape.gradient(as64, v)
    assert g.dtype == "float32"
    np.testing.assert_allclose(g.numpy(), [1, 1])
    assert tape.gradient(back, v) is None
    assert ops.cast(v, np.float32) is v  # same dtype: no copy, no node
    with pytest.raises(TypeError, match="cast"):
        ops.cast(v, "not-a-dtype")


def test_stop_gradient_and_like_helpers(xp):
    v = gpuk.Variable(xp.asarray(np.array([1.0, 2.0])))
    with gpuk.GradientTape() as tape:
        y = ops.sum(ops.stop_gradient(v) * v)
    np.testing.assert_allclose(tape.gradient(y, v).numpy(), [1, 2])
    np.testing.assert_array_equal(ops.zeros_like(v).numpy(), [0, 0])
    assert ops.ones_like(v, dtype="int32").dtype == "int32"


def test_ops_accept_numbers_lists_and_numpy(xp):
    assert ops.concatenate([[1.0, 2.0], np.array([3.0])], axis=0).numpy().tolist() == [1, 2, 3]
    assert ops.expand_dims(3.0, 0).shape == (1,)
    assert ops.sum([1, 2, 3]).numpy() == 6
    assert ops.mean(np.array([1.0, 3.0])).numpy() == 2.0
