"""Keras 3's core ops whose behaviour a value table cannot show: control flow, structure
handling, conversion, custom gradients, jvp, factorizations' identities, and errors."""

import numpy as np
import pytest

import gpuk
from gpuk import ops


def _grad(fn, x, xp):
    v = gpuk.Variable(xp.asarray(np.asarray(x, dtype="float64")))
    with gpuk.GradientTape() as tape:
        out = fn(v)
    return out, tape.gradient(out, v).numpy()


def test_shape_size_ndim_dtype_is_tensor(xp):
    x = ops.zeros((2, 3, 4))
    assert ops.shape(x) == (2, 3, 4) and isinstance(ops.shape(x), tuple)
    assert ops.size(x) == 24 and ops.ndim(x) == 3
    assert ops.dtype(x) == "float32" and ops.dtype(ops.cast(x, "int32")) == "int32"
    assert ops.is_tensor(x) and not ops.is_tensor(np.zeros(2))
    assert isinstance(x.data, xp.ndarray)


def test_convert_to_tensor_and_numpy(xp):
    assert ops.convert_to_tensor(1.0).dtype == "float32"
    assert ops.convert_to_tensor(3).dtype == "int32"
    assert ops.convert_to_tensor(np.ones(2, "float64")).dtype == "float64"
    t = ops.convert_to_tensor([1, 2], dtype="float32")
    assert isinstance(t.data, xp.ndarray) and t.dtype == "float32"
    back = ops.convert_to_numpy(t)
    assert isinstance(back, np.ndarray) and back.tolist() == [1.0, 2.0]
    with pytest.raises(ValueError, match="sparse"):
        ops.convert_to_tensor([1], sparse=True)


def test_cond_switch_while_fori(xp):
    x = ops.convert_to_tensor([1.0, 2.0])
    assert ops.cond(ops.sum(x) > 2, lambda: "big", lambda: "small") == "big"
    assert ops.cond(ops.sum(x) > 5, lambda: "big", lambda: "small") == "small"
    assert ops.switch(5, [lambda v: v * 0, lambda v: v * 10], x).numpy().tolist() == [10, 20]
    assert ops.switch(-1, [lambda v: v * 0, lambda v: v * 10], x).numpy().tolist() == [0, 0]
    i, total = ops.while_loop(lambda i, t: i < 4, lambda i, t: (i + 1, t + i), (0, 0))
    assert (i, total) == (4, 6)
    only = ops.while_loop(lambda v: v < 100, lambda v: v * 3, 1)
    assert only == 243
    capped = ops.while_loop(lambda v: True, lambda v: (v + 1,), [0], maximum_iterations=7)
    assert capped == [7]
    assert ops.fori_loop(0, 5, lambda i, acc: acc + i, 10) == 20


def test_scan_structures_and_reverse(xp):
    xs = {"a": ops.arange(4.0), "b": ops.ones((4, 2))}

    def step(carry, x):
        carry = carry + x["a"]
        return carry, {"running": carry, "pair": x["b"] * carry}

    carry, ys = ops.scan(step, 0.0, xs)
    assert float(carry) == 6.0
    assert ys["running"].numpy().tolist() == [0, 1, 3, 6]
    assert ys["pair"].shape == (4, 2)
    carry, ys = ops.scan(lambda c, x: (c + x, c), 0.0, ops.arange(4.0), reverse=True)
    assert ys.numpy().tolist() == [6, 5, 3, 0]
    carry, ys = ops.scan(lambda c, _: (c * 2, None), 1.0, length=5)
    assert float(carry) == 32.0 and ys is None


def test_associative_scan_map_vectorize(xp):
    x = ops.convert_to_tensor(np.arange(1.0, 7.0).reshape(2, 3))
    np.testing.assert_allclose(
        ops.associative_scan(ops.add, x, axis=1).numpy(), np.cumsum(x.numpy(), axis=1)
    )
    np.testing.assert_allclose(
        ops.associative_scan(ops.multiply, x, reverse=True, axis=1).numpy(),
        np.cumprod(x.numpy()[:, ::-1], axis=1)[:, ::-1],
    )
    pair = ops.associative_scan(lambda a, b: (a[0] + b[0], a[1] * b[1]), (x[0], x[1]))
    assert pair[0].numpy().tolist() == [1, 3, 6] and pair[1].numpy().tolist() == [4, 20, 120]
    assert ops.map(lambda r: ops.sum(r), x).numpy().tolist() == [6, 15]
    both = ops.vectorized_map(lambda r: (r[0], r[1:]), x)
    assert both[0].numpy().tolist() == [1, 4] and both[1].shape == (2, 2)
    dot = ops.vectorize(lambda a, b: ops.sum(a * b), signature="(n),(n)->()")
    assert dot(x, x[0]).numpy().tolist() == [14, 32]
    add3 = ops.vectorize(lambda a: a + 3)
    assert add3(x).numpy().tolist() == (x.numpy() + 3).tolist()


def test_custom_gradient_replaces_the_derivative(xp):
    @ops.custom_gradient
    def clipped_identity(x):
        def grad(*args, upstream=None):
            upstream = args[0] if upstream is None else upstream
            return ops.clip(upstream, -0.5, 0.5)

        return x * 1.0, grad

    out, g = _grad(lambda v: ops.sum(clipped_identity(v) * 4.0), [1.0, 2.0], xp)
    assert float(out) == 12.0
    assert g.tolist() == [0.5, 0.5]


def test_jvp(xp):
    x = ops.convert_to_tensor(np.array([0.5, -1.0, 2.0]))
    t = ops.convert_to_tensor(np.array([1.0, 2.0, -1.0]))
    out, tangent = ops.jvp(lambda v: ops.sin(v) * v, (x,), (t,))
    xs = x.numpy()
    np.testing.assert_allclose(out.numpy(), np.sin(xs) * xs)
    np.testing.assert_allclose(tangent.numpy(), (np.cos(xs) * xs + np.sin(xs)) * t.numpy())
    out, tangent, aux = ops.jvp(lambda v: (ops.sum(v * v), "aux"), (x,), (t,), has_aux=True)
    assert aux == "aux" and float(tangent) == pytest.approx(float(np.sum(2 * xs * t.numpy())))


def test_factorizations_reconstruct(xp):
    rng = np.random.default_rng(0)
    a = rng.normal(size=(4, 3))
    q, r = ops.qr(a)
    np.testing.assert_allclose((q.numpy() @ r.numpy()), a, atol=1e-12)
    q, r = ops.qr(a, mode="complete")
    assert q.shape == (4, 4) and r.shape == (4, 3)
    u, s, vh = ops.svd(a, full_matrices=False)
    np.testing.assert_allclose(u.numpy() * s.numpy() @ vh.numpy(), a, atol=1e-12)
    assert ops.svd(a)[0].shape == (4, 4)
    sq = rng.normal(size=(3, 3))
    if xp is np:
        w, v = ops.eig(sq)
        np.testing.assert_allclose(sq @ v.numpy(), v.numpy() * w.numpy(), atol=1e-10)
    lu, piv = ops.lu_factor(sq)
    import scipy.linalg  # noqa: F401  (in the test env through scikit-learn)

    ref_lu, ref_piv = scipy.linalg.lu_factor(sq)
    np.testing.assert_allclose(lu.numpy(), ref_lu, atol=1e-12)
    assert piv.numpy().tolist() == ref_piv.tolist()


def test_unique_fixed_size_and_where_one_argument(xp):
    values = ops.unique(np.array([3, 1, 1, 2]), size=5, fill_value=-1)
    assert values.numpy().tolist() == [1, 2, 3, -1, -1]
    assert ops.unique(np.array([3, 1, 1, 2]), size=2).numpy().tolist() == [1, 2]
    rows, cols = ops.where(np.array([[0, 1], [1, 0]]))
    assert rows.numpy().tolist() == [0, 1] and cols.numpy().tolist() == [1, 0]


def test_view_saturate_and_errors(xp):
    bits = ops.view(np.array([1.0], dtype="float32"), "int32")
    assert bits.numpy().tolist() == [1065353216]
    assert ops.saturate_cast(np.array([-5.0, 300.0]), "uint8").numpy().tolist() == [0, 255]
    with pytest.raises(ValueError, match="einsum"):
        ops.einsum("ij,jk->ik", np.ones((2, 3)))
    with pytest.raises(ValueError, match="broadcast_to"):
        ops.broadcast_to(np.ones(3), (2, 4))
    with pytest.raises(ValueError, match="top_k"):
        ops.top_k(np.ones(3), 4)
    with pytest.raises(ValueError, match="quantile"):
        ops.quantile(np.ones(3), 0.5, method="cubic")
    with pytest.raises(ValueError, match="pad"):
        ops.pad(np.ones(3), 1, mode="median")
    with pytest.raises(ValueError, match="scatter_update"):
        ops.scatter_update(np.ones(3), [[0]], [1.0], reduction="sub")
    with pytest.raises(ValueError, match="cholesky"):
        ops.cholesky(-np.eye(2))
    with pytest.raises(ValueError, match="square"):
        ops.inv(np.ones((2, 3)))
    with pytest.raises(NotImplementedError, match="greedy"):
        ops.ctc_decode(np.ones((1, 2, 3)), [2], strategy="beam_search")
    with pytest.raises(ValueError, match="flash"):
        q = np.ones((1, 2, 1, 2))
        ops.dot_product_attention(q, q, q, flash_attention=True)


def test_tensor_operators_floordiv_mod_bitwise_logical(xp):
    a = ops.convert_to_tensor(np.array([5, -3, 7]))
    b = ops.convert_to_tensor(np.array([True, False, True]))
    assert (a // 2).numpy().tolist() == [2, -2, 3] and (7 // a).numpy().tolist() == [1, -3, 1]
    assert (a % 2).numpy().tolist() == [1, 1, 1]
    assert (b & np.array([True, True, False])).numpy().tolist() == [True, False, False]
    assert (b | False).numpy().tolist() == [True, False, True]
    assert (~b).numpy().tolist() == [False, True, False]
    assert (a ^ 1).numpy().tolist() == [4, -4, 6] and (~a).numpy().tolist() == [-6, 2, -8]
    x = ops.convert_to_tensor(np.array([2.5, -1.5]))
    _, g = _grad(lambda v: ops.sum((v % 1.0) * 3.0), [2.5, -1.5], xp)
    assert g.tolist() == [3.0, 3.0] and (x // 1.0).numpy().tolist() == [2.0, -2.0]


def test_segment_prod_by_logs_matches_the_exact_product():
    from gpuk.ops.slicing import _product_by_logs

    x = np.array([[2.0, -1.0], [3.0, 4.0], [0.0, 5.0], [-2.0, -2.0], [-1.5, 0.5]])
    ids = np.array([0, 0, 1, 2, 2])
    np.testing.assert_allclose(
        _product_by_logs(np, x, ids, (4, 2)), ops.segment_prod(x, ids, 4).numpy()
    )
