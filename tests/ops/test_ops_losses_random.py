"""Crossentropies (Keras 3 numerics in gpuk.ops) and random ops."""

import numpy as np
import pytest

import gpuk
from gpuk import ops
from gpuk.utils import set_random_seed
from tests.gradcheck import assert_gradients_match

EPS = 1e-7
T = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
P = np.array([[0.2, 0.7, 0.1], [0.0, 0.5, 1.0]])

# Produced once with Keras 3.15 (keras.ops, float32, jax backend) on T and P above.
KERAS3_BCE = [[0.22314353, 0.35667497, 0.10536055], [16.118095, 0.6931472, 15.942385]]
KERAS3_CCE = [0.35667497, 16.118095]
KERAS3_SCCE = [0.35667497, 16.118095]  # labels [1, 0]
KERAS3_SCCE_LOGITS = [0.328173, 3.2413113]  # logits 3 * P


def test_keras3_reference_values(xp):
    t32, p32 = xp.asarray(T.astype("float32")), xp.asarray(P.astype("float32"))
    np.testing.assert_allclose(ops.binary_crossentropy(t32, p32).numpy(), KERAS3_BCE, rtol=1e-5)
    np.testing.assert_allclose(
        ops.categorical_crossentropy(t32, p32).numpy(), KERAS3_CCE, rtol=1e-5
    )
    labels = xp.asarray(np.array([1, 0]))
    np.testing.assert_allclose(
        ops.sparse_categorical_crossentropy(labels, p32).numpy(), KERAS3_SCCE, rtol=1e-5
    )
    np.testing.assert_allclose(
        ops.sparse_categorical_crossentropy(labels, p32 * 3, from_logits=True).numpy(),
        KERAS3_SCCE_LOGITS,
        rtol=1e-5,
    )


def test_binary_crossentropy_float64_formula(xp):
    o = np.clip(P, EPS, 1 - EPS)
    ref = -(T * np.log(o) + (1 - T) * np.log(1 - o))
    np.testing.assert_allclose(ops.binary_crossentropy(xp.asarray(T), xp.asarray(P)).numpy(), ref)
    legacy = -(T * np.log(o + EPS) + (1 - T) * np.log(1 - o + EPS))
    np.testing.assert_allclose(ops.legacy_binary_crossentropy(T, P).numpy(), legacy)


def test_binary_crossentropy_logits_stable_and_exact(xp):
    z = np.array([-800.0, -30.0, 0.0, 30.0, 800.0])
    t = np.array([1.0, 0.0, 0.5, 0.0, 0.0])
    out = ops.binary_crossentropy(xp.asarray(t), xp.asarray(z), from_logits=True).numpy()
    ref = np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z)))
    np.testing.assert_allclose(out, ref, rtol=1e-12)


@pytest.mark.parametrize(
    "fn",
    [
        lambda t, p: ops.binary_crossentropy(t, p),
        lambda t, p: ops.legacy_binary_crossentropy(t, p),
        lambda t, p: ops.binary_crossentropy(t, p * 4 - 2, from_logits=True),
        lambda t, p: ops.categorical_crossentropy(t, p),
        lambda t, p: ops.categorical_crossentropy(t, p, axis=0),
        lambda t, p: ops.categorical_crossentropy(t, p * 3, from_logits=True),
    ],
)
def test_crossentropy_gradients(fn, xp):
    rng = np.random.default_rng(0)
    t = rng.dirichlet(np.ones(3), 4)
    p = rng.uniform(0.05, 0.95, (4, 3))
    assert_gradients_match(lambda pred: fn(xp.asarray(t), pred), [p], xp)
    assert_gradients_match(fn, [t, p], xp)  # soft targets get gradients too


@pytest.mark.parametrize("legacy", [False, True])
@pytest.mark.parametrize("from_logits", [False, True])
def test_sparse_crossentropy_gradients_and_axis(legacy, from_logits, xp):
    fn = (
        ops.legacy_sparse_categorical_crossentropy
        if legacy
        else ops.sparse_categorical_crossentropy
    )
    rng = np.random.default_rng(1)
    p = rng.uniform(0.05, 0.95, (2, 4, 3))
    labels = rng.integers(0, 3, (2, 4))
    assert_gradients_match(lambda o: fn(labels, o, from_logits=from_logits), [p], xp)
    moved = np.moveaxis(p, -1, 1)
    np.testing.assert_allclose(
        fn(labels, moved, from_logits=from_logits, axis=1).numpy(),
        fn(labels[..., None], p, from_logits=from_logits).numpy(),
        rtol=1e-12,
    )


def test_crossentropy_shape_errors():
    with pytest.raises(ValueError, match=r"binary_crossentropy.*\(2, 3\).*\(2, 4\)"):
        ops.binary_crossentropy(np.ones((2, 3)), np.ones((2, 4)))
    with pytest.raises(ValueError, match="categorical_crossentropy"):
        ops.categorical_crossentropy(np.ones((2, 3)), np.ones((2, 4)))


def test_random_shapes_dtypes_and_seeds(xp):
    u = ops.random_uniform((3, 4), 1.0, 2.0, seed=7)
    assert u.shape == (3, 4) and u.dtype == "float32"
    assert isinstance(u.data, xp.ndarray)
    np.testing.assert_array_equal(u.numpy(), ops.random_uniform((3, 4), 1.0, 2.0, seed=7).numpy())
    assert ops.random_normal((5,), dtype="float64").dtype == "float64"
    b = ops.random_binomial((1000,), p=0.5, seed=1).numpy()
    assert set(np.unique(b)) == {0.0, 1.0}
    with pytest.raises(ValueError, match="float"):
        ops.random_uniform((2,), dtype="int32")


def test_set_random_seed_makes_draws_reproducible(xp):
    set_random_seed(123)
    first = ops.random_normal((4,)).numpy()
    set_random_seed(123)
    np.testing.assert_array_equal(first, ops.random_normal((4,)).numpy())
    assert not np.array_equal(first, ops.random_normal((4,)).numpy())


def test_dropout_scaling_mask_gradient_and_noise_shape(xp):
    x = gpuk.Variable(xp.asarray(np.ones((50, 40))))
    with gpuk.GradientTape() as tape:
        y = ops.dropout(x, 0.4, seed=3)
    out = y.numpy()
    assert set(np.unique(out)) <= {0.0, 1 / 0.6}
    assert abs((out == 0).mean() - 0.4) < 0.05
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), out)  # grad == mask * scale
    shared = ops.dropout(xp.asarray(np.ones((8, 5, 6))), 0.5, noise_shape=(8, 1, 6), seed=2)
    shared = shared.numpy()
    assert (shared == shared[:, :1, :]).all()
    assert ops.dropout(x, 0.0) is x
    with pytest.raises(ValueError, match="rate"):
        ops.dropout(x, 1.0)
    with pytest.raises(ValueError, match="noise_shape"):
        ops.dropout(x, 0.5, noise_shape=(3, 40))
