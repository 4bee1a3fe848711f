"""The Keras backend namespace: values against NumPy references of tf.keras's numerics, and
float64 gradients of custom losses written the way Keras users write them."""

import numpy as np
import pytest

import gpuk
from gpuk import backend as K
from tests.gradcheck import assert_gradients_match

EPS = 1e-7


def _np_bce_tf_keras(t, o):
    o = np.clip(o, EPS, 1 - EPS)
    return -(t * np.log(o + EPS) + (1 - t) * np.log(1 - o + EPS))


def _np_cce(t, o, axis=-1):
    o = o / o.sum(axis=axis, keepdims=True)
    return -(t * np.log(np.clip(o, EPS, 1 - EPS))).sum(axis=axis)


def _np_log_softmax(z, axis=-1):
    z = z - z.max(axis=axis, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


# -------------------------------------------------------------------- custom losses


def weighted_masked_loss(y_true, y_pred):
    """Mask from K.minimum of the targets, K.sqrt of targets, slices, K.binary_crossentropy."""
    mask = K.minimum(y_true[:, 0], 1.0)
    scale = K.sqrt(y_true[:, 1] + 1.0)
    bce = K.binary_crossentropy(y_true[:, 2:], y_pred[:, 2:])
    diff = K.square(y_pred[:, 1] - scale) + K.abs(y_pred[:, 0] - y_true[:, 0])
    return K.mean(bce, axis=-1) * mask + diff


def weighted_masked_loss_np(t, p):
    mask = np.minimum(t[:, 0], 1.0)
    scale = np.sqrt(t[:, 1] + 1.0)
    bce = _np_bce_tf_keras(t[:, 2:], p[:, 2:])
    diff = (p[:, 1] - scale) ** 2 + np.abs(p[:, 0] - t[:, 0])
    return bce.mean(axis=-1) * mask + diff


def focal_like_loss(y_true, y_pred):
    y_pred = K.clip(y_pred, K.epsilon(), 1 - K.epsilon())
    pt = K.switch(K.equal(y_true, 1.0), y_pred, 1 - y_pred)
    return -K.sum(K.pow(1.0 - pt, 2.0) * K.log(pt), axis=-1)


def focal_like_loss_np(t, p):
    p = np.clip(p, EPS, 1 - EPS)
    pt = np.where(t == 1.0, p, 1 - p)
    return -((1 - pt) ** 2 * np.log(pt)).sum(axis=-1)


def last_column_loss(y_true, y_pred):
    err = y_pred[..., -1] - y_true[..., -1]
    return K.mean(K.square(err)) + K.categorical_crossentropy(y_true, K.softmax(y_pred))


def last_column_loss_np(t, p):
    err = p[..., -1] - t[..., -1]
    sm = np.exp(_np_log_softmax(p))
    return np.mean(err**2) + _np_cce(t, sm)


def rmse_cosine_loss(y_true, y_pred):
    rmse = K.sqrt(K.mean(K.square(y_pred - y_true), axis=-1) + K.epsilon())
    cos = K.sum(K.l2_normalize(y_true, axis=-1) * K.l2_normalize(y_pred, axis=-1), axis=-1)
    return rmse - cos + K.max(y_pred, axis=-1) - K.logsumexp(y_pred, axis=-1)


def rmse_cosine_loss_np(t, p):
    rmse = np.sqrt(((p - t) ** 2).mean(axis=-1) + EPS)

    def norm(a):
        return a / np.sqrt(np.maximum((a**2).sum(axis=-1, keepdims=True), 1e-12))

    cos = (norm(t) * norm(p)).sum(axis=-1)
    lse = np.log(np.exp(p).sum(axis=-1))
    return rmse - cos + p.max(axis=-1) - lse


def sparse_loss(y_true, y_pred):
    return K.sparse_categorical_crossentropy(y_true, y_pred) + K.sparse_categorical_crossentropy(
        y_true, y_pred * 3.0, from_logits=True
    )


def sparse_loss_np(t, p):
    labels = t[:, 0].astype(int)
    clipped = np.log(np.clip(p, EPS, 1 - EPS))
    a = -_np_log_softmax(clipped)[np.arange(len(p)), labels]
    b = -_np_log_softmax(3 * p)[np.arange(len(p)), labels]
    return a + b


def _data(kind, seed=0):
    rng = np.random.default_rng(seed)
    if kind == "masked":
        t = np.column_stack(
            [
                rng.choice([0.0, 0.5, 2.0], 6),
                rng.uniform(0, 3, 6),
                rng.integers(0, 2, (6, 3)).astype(float),
            ]
        )
        p = rng.uniform(0.05, 0.95, (6, 5))
        p[:, 0] = t[:, 0] + rng.choice([-0.3, 0.3], 6)
        return t, p
    if kind == "focal":
        return rng.integers(0, 2, (4, 3)).astype(float), rng.uniform(0.05, 0.95, (4, 3))
    if kind == "sparse":
        return rng.integers(0, 4, (5, 1)).astype(float), rng.uniform(0.05, 0.95, (5, 4))
    t = rng.dirichlet(np.ones(4), 5)
    return t, rng.normal(size=(5, 4))


LOSSES = {
    "masked": (weighted_masked_loss, weighted_masked_loss_np, "masked"),
    "focal": (focal_like_loss, focal_like_loss_np, "focal"),
    "last_column": (last_column_loss, last_column_loss_np, "soft"),
    "rmse_cosine": (rmse_cosine_loss, rmse_cosine_loss_np, "soft"),
    "sparse": (sparse_loss, sparse_loss_np, "sparse"),
}


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_custom_loss_values(name, xp):
    loss, ref, kind = LOSSES[name]
    t, p = _data(kind)
    for dtype, tol in (("float64", 1e-10), ("float32", 2e-5)):
        out = loss(xp.asarray(t.astype(dtype)), gpuk.Tensor(xp.asarray(p.astype(dtype))))
        assert out.dtype == dtype
        np.testing.assert_allclose(out.numpy(), ref(t, p), rtol=tol, atol=tol)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_custom_loss_gradients_match_central_differences(name, xp):
    loss, _, kind = LOSSES[name]
    t, p = _data(kind)
    assert_gradients_match(lambda y_pred: loss(xp.asarray(t), y_pred), [p], xp)


def test_custom_loss_through_gradient_tape_on_variable(xp):
    t, p = _data("masked")
    v = K.variable(p, dtype="float64")
    with gpuk.GradientTape() as tape:
        value = K.mean(weighted_masked_loss(t, v))
    (g,) = tape.gradient(value, [v])
    assert g.shape == p.shape and g.dtype == "float64"
    assert np.isfinite(g.numpy()).all()


# -------------------------------------------------------------------- crossentropies


def test_binary_crossentropy_tf_keras_numerics(xp):
    t = np.array([[0.0, 1.0, 1.0, 0.0]])
    o = np.array([[0.0, 1.0, 0.3, 0.999]])
    np.testing.assert_allclose(
        K.binary_crossentropy(xp.asarray(t), xp.asarray(o)).numpy(), _np_bce_tf_keras(t, o)
    )
    z = np.array([[-30.0, 30.0, 0.5, 2.0]])
    ref = np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z)))
    np.testing.assert_allclose(
        K.binary_crossentropy(t, z, from_logits=True).numpy(), ref, rtol=1e-12
    )


def test_categorical_crossentropy_renormalises_and_clips(xp):
    t = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    o = np.array([[2.0, 6.0, 2.0], [0.0, 0.5, 1.0]])  # unnormalised; a zero probability
    out = K.categorical_crossentropy(xp.asarray(t), xp.asarray(o)).numpy()
    np.testing.assert_allclose(out, [-np.log(0.6), -np.log(EPS)])
    out = K.categorical_crossentropy(t.T, o.T, axis=0).numpy()
    np.testing.assert_allclose(out, [-np.log(0.6), -np.log(EPS)])
    z = np.array([[1.0, 2.0, 3.0]])
    np.testing.assert_allclose(
        K.categorical_crossentropy(t[:1], z, from_logits=True).numpy(),
        -_np_log_softmax(z)[:, 1],
    )


def test_sparse_categorical_crossentropy_labels_shapes(xp):
    p = np.array([[0.1, 0.7, 0.2], [0.5, 0.25, 0.25]])
    ref = -np.log(np.array([0.7, 0.5]))
    for labels in ([1, 0], [[1], [0]], np.array([1.0, 0.0])):
        np.testing.assert_allclose(
            K.sparse_categorical_crossentropy(labels, xp.asarray(p)).numpy(), ref, rtol=1e-6
        )
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy"):
        K.sparse_categorical_crossentropy([1, 0, 2], p)


def test_crossentropies_respect_set_epsilon(xp):
    K.set_epsilon(1e-3)
    out = K.binary_crossentropy(np.array([1.0]), np.array([0.0])).numpy()
    np.testing.assert_allclose(out, [-np.log(2e-3)])


# -------------------------------------------------------------------- values of K functions

X = np.array([[0.5, -1.5, 2.0], [3.0, 0.0, -0.25]])

VALUES = {
    "abs": (lambda x: K.abs(x), np.abs(X)),
    "square": (lambda x: K.square(x), X**2),
    "sqrt_clips_negatives": (lambda x: K.sqrt(x), np.sqrt(np.maximum(X, 0))),
    "exp": (lambda x: K.exp(x), np.exp(X)),
    "log_abs": (lambda x: K.log(K.abs(x) + 1), np.log(np.abs(X) + 1)),
    "pow": (lambda x: K.pow(K.abs(x), 3), np.abs(X) ** 3),
    "clip": (lambda x: K.clip(x, -1.0, 1.0), np.clip(X, -1, 1)),
    "clip_none": (lambda x: K.clip(x, None, 1.0), np.minimum(X, 1)),
    "clip_swapped": (lambda x: K.clip(x, 1.0, 0.0), np.ones_like(X)),
    "round": (lambda x: K.round(x * 2), np.round(X * 2)),
    "sign": (lambda x: K.sign(x), np.sign(X)),
    "mean": (lambda x: K.mean(x, axis=-1), X.mean(axis=-1)),
    "mean_bool": (lambda x: K.mean(K.greater(x, 0)), np.mean(X > 0)),
    "sum_keepdims": (lambda x: K.sum(x, axis=0, keepdims=True), X.sum(axis=0, keepdims=True)),
    "prod": (lambda x: K.prod(x, axis=1), X.prod(axis=1)),
    "max": (lambda x: K.max(x, axis=1), X.max(axis=1)),
    "min": (lambda x: K.min(x), X.min()),
    "std": (lambda x: K.std(x, axis=0), X.std(axis=0)),
    "var": (lambda x: K.var(x), X.var()),
    "logsumexp": (lambda x: K.logsumexp(x, axis=1), np.log(np.exp(X).sum(axis=1))),
    "argmax": (lambda x: K.argmax(x), X.argmax(axis=-1)),
    "argmin": (lambda x: K.argmin(x, axis=0), X.argmin(axis=0)),
    "any": (lambda x: K.any(K.less(x, -1)), True),
    "all": (lambda x: K.all(K.greater_equal(x, -2), axis=1), [True, True]),
    "equal": (lambda x: K.equal(x, 0.0), X == 0),
    "not_equal": (lambda x: K.not_equal(x, 0.0), X != 0),
    "less_equal": (lambda x: K.less_equal(x, 0.5), X <= 0.5),
    "minimum": (lambda x: K.minimum(x, 1.0), np.minimum(X, 1)),
    "maximum": (lambda x: K.maximum(x, 1.0), np.maximum(X, 1)),
    "dot": (lambda x: K.dot(x, K.transpose(x)), X @ X.T),
    "batch_dot": (lambda x: K.batch_dot(x, x, axes=1), (X * X).sum(axis=1, keepdims=True)),
    "transpose": (lambda x: K.transpose(x), X.T),
    "reshape": (lambda x: K.reshape(x, (3, 2)), X.reshape(3, 2)),
    "concatenate": (lambda x: K.concatenate([x, x]), np.concatenate([X, X], axis=-1)),
    "stack": (lambda x: K.stack([x, x], axis=1), np.stack([X, X], axis=1)),
    "expand_dims": (lambda x: K.expand_dims(x), X[..., None]),
    "squeeze": (lambda x: K.squeeze(K.expand_dims(x, 1), 1), X),
    "flatten": (lambda x: K.flatten(x), X.ravel()),
    "batch_flatten": (lambda x: K.batch_flatten(K.expand_dims(x)), X),
    "permute_dimensions": (
        lambda x: K.permute_dimensions(K.expand_dims(x), (2, 0, 1)),
        X[None],
    ),
    "repeat_elements": (lambda x: K.repeat_elements(x, 2, axis=1), np.repeat(X, 2, axis=1)),
    "repeat": (lambda x: K.repeat(x, 2), np.stack([X, X], axis=1)),
    "tile": (lambda x: K.tile(x, (2, 1)), np.tile(X, (2, 1))),
    "gather": (lambda x: K.gather(x, [1, 1, 0]), X[[1, 1, 0]]),
    "one_hot": (lambda x: K.one_hot(K.argmax(x), 3), np.eye(3)[X.argmax(-1)]),
    "switch": (lambda x: K.switch(K.greater(x, 0), x, -x), np.abs(X)),
    "switch_row": (
        lambda x: K.switch(K.greater(x[:, 0], 1), x, x * 0),
        np.where((X[:, 0] > 1)[:, None], X, 0),
    ),
    "switch_scalar": (lambda x: K.switch(True, lambda: x, lambda: -x), X),
    "relu": (lambda x: K.relu(x), np.maximum(X, 0)),
    "relu_alpha_max": (
        lambda x: K.relu(x, alpha=0.1, max_value=1.0),
        np.where(X > 0, np.minimum(X, 1), 0.1 * X),
    ),
    "relu_threshold": (lambda x: K.relu(x, threshold=0.6), np.where(X > 0.6, X, 0)),
    "elu": (lambda x: K.elu(x, 0.5), np.where(X > 0, X, 0.5 * np.expm1(X))),
    "sigmoid": (lambda x: K.sigmoid(x), 1 / (1 + np.exp(-X))),
    "hard_sigmoid": (lambda x: K.hard_sigmoid(x), np.clip(0.2 * X + 0.5, 0, 1)),
    "tanh": (lambda x: K.tanh(x), np.tanh(X)),
    "softmax": (
        lambda x: K.softmax(x, axis=0),
        np.exp(X) / np.exp(X).sum(axis=0, keepdims=True),
    ),
    "softplus": (lambda x: K.softplus(x), np.log1p(np.exp(X))),
    "softsign": (lambda x: K.softsign(x), X / (1 + np.abs(X))),
    "l2_normalize": (lambda x: K.l2_normalize(x, axis=1), X / np.linalg.norm(X, axis=1)[:, None]),
    "l2_normalize_all": (lambda x: K.l2_normalize(x), X / np.linalg.norm(X)),
    "cumsum": (lambda x: K.cumsum(x, axis=1), np.cumsum(X, axis=1)),
    "cast": (lambda x: K.cast(x, "int32"), X.astype("int32")),
    "stop_gradient": (lambda x: K.stop_gradient(x), X),
    "zeros_like": (lambda x: K.zeros_like(x), np.zeros_like(X)),
    "ones_like": (lambda x: K.ones_like(x), np.ones_like(X)),
}


@pytest.mark.parametrize("name", sorted(VALUES))
def test_backend_function_values(name, xp):
    fn, expected = VALUES[name]
    out = fn(gpuk.Tensor(xp.asarray(X)))
    np.testing.assert_allclose(K.eval(out), expected, rtol=1e-12)


@pytest.mark.parametrize("name", sorted(VALUES))
def test_backend_functions_accept_numpy_inputs(name):
    fn, expected = VALUES[name]
    np.testing.assert_allclose(K.eval(fn(X)), expected, rtol=1e-12)


DIFFERENTIABLE = [
    "abs",
    "square",
    "sqrt_clips_negatives",
    "exp",
    "log_abs",
    "pow",
    "clip",
    "mean",
    "prod",
    "max",
    "std",
    "var",
    "logsumexp",
    "minimum",
    "dot",
    "batch_dot",
    "concatenate",
    "stack",
    "repeat",
    "tile",
    "gather",
    "switch",
    "relu_alpha_max",
    "elu",
    "sigmoid",
    "hard_sigmoid",
    "softmax",
    "softplus",
    "softsign",
    "l2_normalize",
    "cumsum",
    "permute_dimensions",
]


@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_backend_function_gradients(name, xp):
    fn, _ = VALUES[name]
    weights = np.random.default_rng(7).normal(size=np.shape(VALUES[name][1]))
    x = X + 0.05  # away from the kinks at 0 and +-1
    assert_gradients_match(lambda t: fn(t) * weights, [x], xp)


# -------------------------------------------------------------------- variables and state


def test_variable_constant_and_values(xp):
    v = K.variable([[1, 2], [3, 4]], name="w")
    assert isinstance(v, gpuk.Variable) and v.dtype == "float32" and v.name == "w"
    assert K.dtype(v) == "float32" and K.int_shape(v) == (2, 2) and K.ndim(v) == 2
    K.set_value(v, np.ones((2, 2)))
    np.testing.assert_array_equal(K.get_value(v), np.ones((2, 2)))
    assert K.batch_get_value([v, v])[1].shape == (2, 2)
    K.batch_set_value([(v, np.zeros((2, 2)))])
    assert K.eval(v).sum() == 0
    K.update_add(v, np.ones((2, 2)))
    assert K.eval(v).sum() == 4
    c = K.constant(2.0, shape=(2, 3))
    assert c.dtype == "float32" and K.eval(c).tolist() == [[2.0] * 3] * 2
    assert K.constant([1, 2], dtype="float64").dtype == "float64"
    assert K.count_params(c) == 6
    np.testing.assert_array_equal(K.eval(K.shape(c)), [2, 3])
    assert K.eval(K.shape(c)).dtype == np.int32


def test_zeros_ones_eye_are_variables(xp):
    z, o, e = K.zeros((2, 3)), K.ones(4, dtype="float64"), K.eye(3)
    assert isinstance(z, gpuk.Variable) and K.eval(z).sum() == 0 and z.dtype == "float32"
    assert o.dtype == "float64" and K.eval(o).tolist() == [1, 1, 1, 1]
    np.testing.assert_array_equal(K.eval(e), np.eye(3))
    assert K.eval(K.eye((2, 3))).shape == (2, 3)
    assert K.ones_like(z, dtype="int32").dtype == "int32"


def test_unknown_dtype_lists_allowed():
    with pytest.raises(ValueError, match="Allowed: .*float32"):
        K.variable(1.0, dtype="float17")
    with pytest.raises(ValueError, match="Allowed"):
        K.cast(np.ones(2), "complex-ish")
    with pytest.raises(ValueError, match="Allowed: channels_last, channels_first"):
        K.set_image_data_format("nchw")
    with pytest.raises(TypeError, match="unexpected keyword"):
        K.mean(np.ones(2), axes=0)


def test_int_shape_of_symbolic_tensor():
    class FakeKerasTensor:
        shape = (None, 3)
        dtype = "float32"

    assert K.int_shape(FakeKerasTensor()) == (None, 3)
    assert K.ndim(FakeKerasTensor()) == 2
    assert K.dtype(FakeKerasTensor()) == "float32"
    assert K.int_shape(np.ones((4, 5))) == (4, 5)
    assert K.int_shape(3.0) == ()


def test_floatx_epsilon_roundtrip():
    assert K.floatx() == "float32" and K.epsilon() == 1e-7
    K.set_floatx("float64")
    assert K.floatx() == "float64" and K.variable(1.0).dtype == "float64"
    K.set_epsilon(1e-5)
    assert K.epsilon() == 1e-5


def test_learning_phase_and_in_train_phase():
    assert K.learning_phase() == 0
    assert K.in_train_phase(1, 2) == 2
    assert K.in_train_phase(lambda: "train", lambda: "test", training=True) == "train"
    assert K.in_test_phase(1, 2, training=False) == 1
    K.set_learning_phase(1)
    try:
        assert K.in_train_phase(1, 2) == 1
    finally:
        K.set_learning_phase(0)
    with pytest.raises(ValueError, match="0 or 1"):
        K.set_learning_phase(2)


def test_gradients_inside_tape(xp):
    v = K.variable(np.array([1.0, 2.0]), dtype="float64")
    unused = K.variable(np.array([1.0]), dtype="float64")
    with gpuk.GradientTape():
        loss = K.sum(K.square(v))
        g, none = K.gradients(loss, [v, unused])
    np.testing.assert_allclose(K.eval(g), [2.0, 4.0])
    assert none is None
    with pytest.raises(ValueError, match="GradientTape"):
        K.gradients(K.sum(K.square(v)), [v])


def test_random_functions(xp):
    u = K.random_uniform((1000,), -2.0, 3.0, seed=1)
    assert u.dtype == "float32" and u.shape == (1000,)
    assert -2 <= K.eval(u).min() and K.eval(u).max() < 3
    np.testing.assert_array_equal(K.eval(u), K.eval(K.random_uniform((1000,), -2.0, 3.0, seed=1)))
    n = K.eval(K.random_normal((4000,), 1.0, 2.0, dtype="float64", seed=2))
    assert abs(n.mean() - 1.0) < 0.15 and abs(n.std() - 2.0) < 0.15
    b = K.eval(K.random_binomial((4000,), p=0.3, seed=3))
    assert set(np.unique(b)) <= {0.0, 1.0} and abs(b.mean() - 0.3) < 0.05
    tn = K.eval(K.truncated_normal((2000,), 0.0, 1.0, seed=4))
    assert np.abs(tn).max() <= 2.0
    d = K.eval(K.dropout(np.ones((100, 100)), 0.25, seed=5))
    assert set(np.unique(d)) <= {0.0, 1 / 0.75}
    assert abs((d == 0).mean() - 0.25) < 0.03


def test_bias_add(xp):
    x = np.ones((2, 3, 4))
    np.testing.assert_allclose(K.eval(K.bias_add(x, np.arange(4.0))), x + np.arange(4.0))
    out = K.eval(K.bias_add(x, np.arange(3.0), data_format="channels_first"))
    np.testing.assert_allclose(out, x + np.arange(3.0)[:, None])
    with pytest.raises(ValueError, match="Allowed"):
        K.bias_add(x, np.arange(4.0), data_format="nhwc")


def test_float64_end_to_end(xp):
    K.set_floatx("float64")
    w = K.variable(np.random.default_rng(0).normal(size=(3, 2)))
    x = K.constant(np.random.default_rng(1).normal(size=(5, 3)))
    y = K.constant([[0, 1], [1, 0], [0, 1], [1, 0], [0, 1]])
    assert w.dtype == x.dtype == y.dtype == "float64"
    with gpuk.GradientTape() as tape:
        probs = K.softmax(K.dot(x, w))
        loss = K.mean(K.categorical_crossentropy(y, probs))
    g = tape.gradient(loss, w)
    assert loss.dtype == "float64" and g.dtype == "float64"
    assert_gradients_match(
        lambda ww: K.mean(K.categorical_crossentropy(y, K.softmax(K.dot(x, ww)))), [K.eval(w)], xp
    )
