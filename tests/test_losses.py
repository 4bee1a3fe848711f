"""gpuk.losses: Keras 3 reference values, NumPy references, float64 gradients, reductions,
sample weights, get()/aliases/errors and config round trips.

``KERAS_LOSS_REFERENCE`` was produced with Keras 3.15 (JAX backend, float32) by calling each
loss class with reductions 'none', 'sum_over_batch_size' and 'sum', with and without the
sample weights ``SW``, on the inputs made by :func:`_data` (same seed, same rounding).
tf.keras 2 differs in binary crossentropy without logits (``log(p + eps)`` after clipping)
and accepted per-sample weights on (batch, time) losses; gpuk follows Keras 3 and accepts
the latter too.
"""

import numpy as np
import pytest

import gpuk
from gpuk import losses
from tests.gradcheck import assert_gradients_match

# Part of the GPU-branch subset CI runs under the CuPy stand-in (docs/gpu-standin.md).
pytestmark = pytest.mark.standin


def _data():
    rng = np.random.default_rng(0)
    d = {}
    d["reg_true"] = np.round(rng.normal(size=(4, 3)), 3).astype("float32")
    d["reg_pred"] = np.round(rng.normal(size=(4, 3)), 3).astype("float32")
    d["pos_true"] = np.round(rng.uniform(0.1, 2, size=(4, 3)), 3).astype("float32")
    d["pos_pred"] = np.round(rng.uniform(0.1, 2, size=(4, 3)), 3).astype("float32")
    d["bin_true"] = rng.integers(0, 2, size=(4, 3)).astype("float32")
    d["prob"] = np.round(rng.uniform(0.02, 0.98, size=(4, 3)), 3).astype("float32")
    logits = np.round(rng.normal(size=(4, 3)) * 2, 3).astype("float32")
    d["logits"] = logits
    d["onehot"] = np.eye(3, dtype="float32")[[0, 2, 1, 2]]
    d["sparse"] = np.array([0, 2, 1, 2], dtype="int32")
    p = np.exp(logits)
    d["softmax"] = np.round(p / p.sum(-1, keepdims=True), 4).astype("float32")
    d["pm1_true"] = np.array([[1, -1, 1], [-1, -1, 1], [1, 1, -1], [-1, 1, 1]], "float32")
    d["sw"] = np.array([0.5, 1.0, 2.0, 0.0], "float32")
    return d


D = _data()

KERAS_LOSS_REFERENCE = [
    (
        "MeanSquaredError",
        {},
        "reg_true",
        "reg_pred",
        {
            "none": [3.190655, 0.3867723, 0.3785017, 2.340215],
            "none_sw": [1.595328, 0.3867723, 0.7570033, 0.0],
            "sum_over_batch_size": 1.574036,
            "sum_over_batch_size_sw": 0.6847758,
            "sum": 6.296145,
            "sum_sw": 2.739103,
        },
    ),
    (
        "MeanAbsoluteError",
        {},
        "reg_true",
        "reg_pred",
        {
            "none": [1.474667, 0.5076667, 0.521, 0.9946668],
            "none_sw": [0.7373333, 0.5076667, 1.042, 0.0],
            "sum_over_batch_size": 0.8745,
            "sum_over_batch_size_sw": 0.57175,
            "sum": 3.498,
            "sum_sw": 2.287,
        },
    ),
    (
        "MeanAbsolutePercentageError",
        {},
        "reg_true",
        "reg_pred",
        {
            "none": [768.6115, 328.6428, 53.40611, 324.4208],
            "none_sw": [384.3058, 328.6428, 106.8122, 0.0],
            "sum_over_batch_size": 368.7703,
            "sum_over_batch_size_sw": 204.9402,
            "sum": 1475.081,
            "sum_sw": 819.7607,
        },
    ),
    (
        "MeanSquaredLogarithmicError",
        {},
        "pos_true",
        "pos_pred",
        {
            "none": [0.06438507, 0.1218551, 0.03431457, 0.06828305],
            "none_sw": [0.03219254, 0.1218551, 0.06862913, 0.0],
            "sum_over_batch_size": 0.07220945,
            "sum_over_batch_size_sw": 0.05566919,
            "sum": 0.2888378,
            "sum_sw": 0.2226768,
        },
    ),
    (
        "KLDivergence",
        {},
        "prob",
        "softmax",
        {
            "none": [0.4543086, 4.392062, 0.898325, 2.713143],
            "none_sw": [0.2271543, 4.392062, 1.79665, 0.0],
            "sum_over_batch_size": 2.11446,
            "sum_over_batch_size_sw": 1.603966,
            "sum": 8.457838,
            "sum_sw": 6.415866,
        },
    ),
    (
        "CosineSimilarity",
        {},
        "reg_true",
        "reg_pred",
        {
            "none": [0.6025895, -0.1586382, -0.8139171, 0.5905781],
            "none_sw": [0.3012947, -0.1586382, -1.627834, 0.0],
            "sum_over_batch_size": 0.05515307,
            "sum_over_batch_size_sw": -0.3712944,
            "sum": 0.2206123,
            "sum_sw": -1.485178,
        },
    ),
    (
        "CosineSimilarity",
        {"axis": 0},
        "reg_true",
        "reg_pred",
        {
            "none": [0.3028954, -0.9979941, 0.5912663],
            "sum_over_batch_size": -0.03461079,
            "sum": -0.1038324,
        },
    ),
    (
        "Hinge",
        {},
        "bin_true",
        "reg_pred",
        {
            "none": [0.2603334, 1.168, 1.528, 0.5623333],
            "none_sw": [0.1301667, 1.168, 3.056, 0.0],
            "sum_over_batch_size": 0.8796666,
            "sum_over_batch_size_sw": 1.088542,
            "sum": 3.518667,
            "sum_sw": 4.354167,
        },
    ),
    (
        "Hinge",
        {},
        "pm1_true",
        "reg_pred",
        {
            "none": [2.117333, 0.68, 0.4863333, 1.559667],
            "none_sw": [1.058667, 0.68, 0.9726667, 0.0],
            "sum_over_batch_size": 1.210833,
            "sum_over_batch_size_sw": 0.6778334,
            "sum": 4.843333,
            "sum_sw": 2.711334,
        },
    ),
    (
        "SquaredHinge",
        {},
        "bin_true",
        "reg_pred",
        {
            "none": [0.2033204, 1.646539, 2.480745, 0.6467097],
            "none_sw": [0.1016602, 1.646539, 4.96149, 0.0],
            "sum_over_batch_size": 1.244328,
            "sum_over_batch_size_sw": 1.677422,
            "sum": 4.977314,
            "sum_sw": 6.709689,
        },
    ),
    (
        "CategoricalHinge",
        {},
        "onehot",
        "reg_pred",
        {
            "none": [3.325, 1.316, 0.369, 2.014],
            "none_sw": [1.6625, 1.316, 0.738, 0.0],
            "sum_over_batch_size": 1.756,
            "sum_over_batch_size_sw": 0.929125,
            "sum": 7.024,
            "sum_sw": 3.7165,
        },
    ),
    (
        "LogCosh",
        {},
        "reg_true",
        "reg_pred",
        {
            "none": [0.9948783, 0.1766202, 0.1718833, 0.6638355],
            "none_sw": [0.4974391, 0.1766202, 0.3437667, 0.0],
            "sum_over_batch_size": 0.5018044,
            "sum_over_batch_size_sw": 0.2544565,
            "sum": 2.007217,
            "sum_sw": 1.017826,
        },
    ),
    (
        "Huber",
        {},
        "reg_true",
        "reg_pred",
        {
            "none": [1.113595, 0.1933862, 0.1892508, 0.7267475],
            "none_sw": [0.5567974, 0.1933862, 0.3785017, 0.0],
            "sum_over_batch_size": 0.5557449,
            "sum_over_batch_size_sw": 0.2821713,
            "sum": 2.22298,
            "sum_sw": 1.128685,
        },
    ),
    (
        "Huber",
        {"delta": 0.5},
        "reg_true",
        "reg_pred",
        {
            "none": [0.6407616, 0.1691773, 0.1627027, 0.4132475],
            "none_sw": [0.3203808, 0.1691773, 0.3254054, 0.0],
            "sum_over_batch_size": 0.3464723,
            "sum_over_batch_size_sw": 0.2037409,
            "sum": 1.385889,
            "sum_sw": 0.8149635,
        },
    ),
    (
        "Poisson",
        {},
        "pos_true",
        "pos_pred",
        {
            "none": [0.9741375, 1.126818, 0.9451933, 1.090214],
            "none_sw": [0.4870687, 1.126818, 1.890387, 0.0],
            "sum_over_batch_size": 1.034091,
            "sum_over_batch_size_sw": 0.8760684,
            "sum": 4.136363,
            "sum_sw": 3.504273,
        },
    ),
    (
        "BinaryCrossentropy",
        {},
        "bin_true",
        "prob",
        {
            "none": [0.400226, 1.059453, 0.9987213, 0.6700878],
            "none_sw": [0.200113, 1.059453, 1.997443, 0.0],
            "sum_over_batch_size": 0.7821221,
            "sum_over_batch_size_sw": 0.8142522,
            "sum": 3.128488,
            "sum_sw": 3.257009,
        },
    ),
    (
        "BinaryCrossentropy",
        {"from_logits": True},
        "bin_true",
        "logits",
        {
            "none": [2.477766, 1.79755, 0.804951, 1.653111],
            "none_sw": [1.238883, 1.79755, 1.609902, 0.0],
            "sum_over_batch_size": 1.683344,
            "sum_over_batch_size_sw": 1.161584,
            "sum": 6.733377,
            "sum_sw": 4.646335,
        },
    ),
    (
        "BinaryCrossentropy",
        {"label_smoothing": 0.2},
        "bin_true",
        "prob",
        {
            "none": [0.482603, 1.054441, 0.9843676, 0.6847209],
            "none_sw": [0.2413015, 1.054441, 1.968735, 0.0],
            "sum_over_batch_size": 0.8015332,
            "sum_over_batch_size_sw": 0.8161196,
            "sum": 3.206133,
            "sum_sw": 3.264478,
        },
    ),
    (
        "BinaryCrossentropy",
        {"from_logits": True, "label_smoothing": 0.1},
        "bin_true",
        "logits",
        {
            "none": [2.359849, 1.74515, 0.8528177, 1.599977],
            "none_sw": [1.179925, 1.74515, 1.705635, 0.0],
            "sum_over_batch_size": 1.639449,
            "sum_over_batch_size_sw": 1.157678,
            "sum": 6.557795,
            "sum_sw": 4.63071,
        },
    ),
    (
        "CategoricalCrossentropy",
        {},
        "onehot",
        "softmax",
        {
            "none": [0.5541551, 0.2514144, 5.067205, 0.05066709],
            "none_sw": [0.2770776, 0.2514144, 10.13441, 0.0],
            "sum_over_batch_size": 1.480861,
            "sum_over_batch_size_sw": 2.665726,
            "sum": 5.923442,
            "sum_sw": 10.6629,
        },
    ),
    (
        "CategoricalCrossentropy",
        {"from_logits": True},
        "onehot",
        "logits",
        {
            "none": [0.5541912, 0.2514679, 5.064282, 0.05072738],
            "none_sw": [0.2770956, 0.2514679, 10.12856, 0.0],
            "sum_over_batch_size": 1.480167,
            "sum_over_batch_size_sw": 2.664282,
            "sum": 5.920669,
            "sum_sw": 10.65713,
        },
    ),
    (
        "CategoricalCrossentropy",
        {"label_smoothing": 0.3},
        "onehot",
        "softmax",
        {
            "none": [0.7967894, 0.9558185, 4.254209, 0.821528],
            "none_sw": [0.3983947, 0.9558185, 8.508417, 0.0],
            "sum_over_batch_size": 1.707086,
            "sum_over_batch_size_sw": 2.465658,
            "sum": 6.828344,
            "sum_sw": 9.862631,
        },
    ),
    (
        "CategoricalCrossentropy",
        {"from_logits": True, "label_smoothing": 0.1},
        "onehot",
        "logits",
        {
            "none": [0.6350579, 0.4860346, 4.793482, 0.3075274],
            "none_sw": [0.3175289, 0.4860346, 9.586964, 0.0],
            "sum_over_batch_size": 1.555526,
            "sum_over_batch_size_sw": 2.597632,
            "sum": 6.222102,
            "sum_sw": 10.39053,
        },
    ),
    (
        "SparseCategoricalCrossentropy",
        {},
        "sparse",
        "softmax",
        {
            "none": [0.5541551, 0.2514144, 5.067205, 0.05066709],
            "none_sw": [0.2770776, 0.2514144, 10.13441, 0.0],
            "sum_over_batch_size": 1.480861,
            "sum_over_batch_size_sw": 2.665726,
            "sum": 5.923442,
            "sum_sw": 10.6629,
        },
    ),
    (
        "SparseCategoricalCrossentropy",
        {"from_logits": True},
        "sparse",
        "logits",
        {
            "none": [0.5541912, 0.2514679, 5.064282, 0.05072738],
            "none_sw": [0.2770956, 0.2514679, 10.12856, 0.0],
            "sum_over_batch_size": 1.480167,
            "sum_over_batch_size_sw": 2.664282,
            "sum": 5.920669,
            "sum_sw": 10.65713,
        },
    ),
    (
        "SparseCategoricalCrossentropy",
        {"from_logits": True, "ignore_class": 2},
        "sparse",
        "logits",
        {
            "none": [0.5541912, 0.0, 5.064282, 0.0],
            "none_sw": [0.2770956, 0.0, 10.12856, 0.0],
            "sum_over_batch_size": 2.809237,
            "sum_over_batch_size_sw": 5.20283,
            "sum": 5.618473,
            "sum_sw": 10.40566,
        },
    ),
]


def _ids(case):
    cls, kwargs = case[0], case[1]
    return cls + "".join(f"-{k}={v}" for k, v in kwargs.items()) + f"-{case[2]}"


@pytest.mark.parametrize("case", KERAS_LOSS_REFERENCE, ids=_ids)
def test_loss_classes_match_keras3(case, xp):
    cls, kwargs, true_key, pred_key, expected = case
    for key, value in expected.items():
        reduction = key.replace("_sw", "")
        loss = getattr(losses, cls)(reduction=reduction, **kwargs)
        weight = D["sw"] if key.endswith("_sw") else None
        got = loss(D[true_key], xp.asarray(D[pred_key]), sample_weight=weight)
        assert got.dtype == np.float32
        np.testing.assert_allclose(got.numpy(), value, rtol=2e-5, atol=2e-6, err_msg=key)


# NumPy references for the functions (float64), Keras's formulas written out.
EPS = 1e-7


def _np_l2n(x, axis=-1):
    return x / np.sqrt(np.maximum((x * x).sum(axis, keepdims=True), EPS * EPS))


def _np_hinge_labels(t):
    return 2 * t - 1 if np.all((t == 0) | (t == 1)) else t


NUMPY_REFERENCES = {
    "mean_squared_error": lambda t, p: ((t - p) ** 2).mean(-1),
    "mean_absolute_error": lambda t, p: np.abs(t - p).mean(-1),
    "mean_absolute_percentage_error": lambda t, p: (
        100 * np.abs((t - p) / np.maximum(np.abs(t), EPS)).mean(-1)
    ),
    "mean_squared_logarithmic_error": lambda t, p: (
        (np.log(np.maximum(p, EPS) + 1) - np.log(np.maximum(t, EPS) + 1)) ** 2
    ).mean(-1),
    "cosine_similarity": lambda t, p: -(_np_l2n(t) * _np_l2n(p)).sum(-1),
    "hinge": lambda t, p: np.maximum(1 - _np_hinge_labels(t) * p, 0).mean(-1),
    "squared_hinge": lambda t, p: (np.maximum(1 - _np_hinge_labels(t) * p, 0) ** 2).mean(-1),
    "categorical_hinge": lambda t, p: np.maximum(((1 - t) * p).max(-1) - (t * p).sum(-1) + 1, 0),
    "log_cosh": lambda t, p: np.log(np.cosh(p - t)).mean(-1),
    "huber": lambda t, p: np.where(
        np.abs(p - t) <= 1, 0.5 * (p - t) ** 2, np.abs(p - t) - 0.5
    ).mean(-1),
    "poisson": lambda t, p: (p - t * np.log(p + EPS)).mean(-1),
    "kl_divergence": lambda t, p: (
        np.clip(t, EPS, 1) * np.log(np.clip(t, EPS, 1) / np.clip(p, EPS, 1))
    ).sum(-1),
    "binary_crossentropy": lambda t, p: (
        -(
            t * np.log(np.clip(p, EPS, 1 - EPS)) + (1 - t) * np.log(1 - np.clip(p, EPS, 1 - EPS))
        ).mean(-1)
    ),
    "categorical_crossentropy": lambda t, p: (
        -(t * np.log(np.clip(p / p.sum(-1, keepdims=True), EPS, 1 - EPS))).sum(-1)
    ),
}

# (function, y_true key, y_pred key, input indices to skip in the gradient check)
FUNCTION_CASES = [
    ("mean_squared_error", "reg_true", "reg_pred", ()),
    ("mean_absolute_error", "reg_true", "reg_pred", ()),
    ("mean_absolute_percentage_error", "reg_true", "reg_pred", ()),
    ("mean_squared_logarithmic_error", "pos_true", "pos_pred", ()),
    ("cosine_similarity", "reg_true", "reg_pred", ()),
    ("hinge", "bin_true", "reg_pred", (0,)),  # {0,1} labels: a step in y_true
    ("hinge", "pm1_true", "reg_pred", (0,)),
    ("squared_hinge", "bin_true", "reg_pred", (0,)),
    ("categorical_hinge", "onehot", "reg_pred", ()),
    ("log_cosh", "reg_true", "reg_pred", ()),
    ("huber", "reg_true", "reg_pred", ()),
    ("poisson", "pos_true", "pos_pred", ()),
    ("kl_divergence", "prob", "softmax", ()),
    ("binary_crossentropy", "bin_true", "prob", ()),
    ("categorical_crossentropy", "onehot", "softmax", ()),
]


@pytest.mark.parametrize("name,true_key,pred_key,skip", FUNCTION_CASES)
def test_functions_match_numpy(name, true_key, pred_key, skip, xp):
    t, p = D[true_key].astype(np.float64), D[pred_key].astype(np.float64)
    got = getattr(losses, name)(xp.asarray(t), xp.asarray(p))
    assert got.shape == (4,) and got.dtype == np.float64
    np.testing.assert_allclose(got.numpy(), NUMPY_REFERENCES[name](t, p), rtol=1e-10)


@pytest.mark.parametrize("name,true_key,pred_key,skip", FUNCTION_CASES)
def test_functions_gradients_float64(name, true_key, pred_key, skip, xp):
    fn = getattr(losses, name)
    arrays = [D[true_key].astype(np.float64), D[pred_key].astype(np.float64)]
    assert_gradients_match(fn, arrays, xp, rtol=1e-5, atol=1e-7, skip=skip)


@pytest.mark.parametrize(
    "kwargs,pred_key",
    [
        ({}, "softmax"),
        ({"from_logits": True}, "logits"),
        ({"from_logits": True, "ignore_class": 2}, "logits"),
    ],
)
def test_sparse_categorical_crossentropy_gradients_float64(kwargs, pred_key, xp):
    labels = D["sparse"]

    def fn(y_pred):
        return losses.sparse_categorical_crossentropy(labels, y_pred, **kwargs)

    assert_gradients_match(fn, [D[pred_key].astype(np.float64)], xp, rtol=1e-5)


@pytest.mark.parametrize(
    "cls,kwargs,true_key,pred_key",
    [
        (
            losses.BinaryCrossentropy,
            {"from_logits": True, "label_smoothing": 0.1},
            "bin_true",
            "logits",
        ),
        (
            losses.CategoricalCrossentropy,
            {"from_logits": True, "label_smoothing": 0.2},
            "onehot",
            "logits",
        ),
        (losses.Huber, {"delta": 0.5}, "reg_true", "reg_pred"),
        (losses.CosineSimilarity, {"axis": 0}, "reg_true", "reg_pred"),
    ],
)
def test_loss_objects_gradients_float64(cls, kwargs, true_key, pred_key, xp):
    loss = cls(**kwargs)
    arrays = [D[true_key].astype(np.float64), D[pred_key].astype(np.float64)]
    assert_gradients_match(lambda t, p: loss(t, p), arrays, xp, rtol=1e-5, skip=(0,))


def test_rank_alignment_and_dtype(xp):
    y_true = np.array([1.0, 0.0], np.float32)
    y_pred = xp.asarray(np.array([[0.7], [0.2]], np.float32))
    np.testing.assert_allclose(losses.mse(y_true, y_pred).numpy(), [0.09, 0.04], rtol=1e-6)
    np.testing.assert_allclose(losses.mse(y_pred, y_true).numpy(), [0.09, 0.04], rtol=1e-6)
    # integer labels follow the predictions' dtype
    out = losses.binary_crossentropy(np.array([[1], [0]]), xp.asarray([[0.9], [0.1]], "float64"))
    assert out.dtype == np.float64


def test_incompatible_shapes_name_the_loss_and_shapes(xp):
    with pytest.raises(ValueError, match=r"mean_squared_error.*\(4, 3\).*\(4, 2\)"):
        losses.mean_squared_error(np.ones((4, 3)), xp.ones((4, 2)))
    with pytest.raises(ValueError, match=r"categorical_crossentropy.*\(4, 2\).*\(4, 3\)"):
        losses.CategoricalCrossentropy()(np.ones((4, 2)), xp.ones((4, 3)) / 3)
    with pytest.raises(ValueError, match=r"sparse_categorical_crossentropy.*\(4, 2\)"):
        losses.SparseCategoricalCrossentropy()(np.ones((4, 2)), xp.ones((4, 3)) / 3)


def test_reductions_and_sample_weight_rules(xp):
    ones, zeros = np.ones((4, 3), np.float32), xp.zeros((4, 3), np.float32)
    sw = np.array([1.0, 2.0, 3.0, 4.0], np.float32)
    # Keras 3 divides by the number of loss elements, not by the sum of weights.
    assert float(losses.MeanSquaredError()(ones, zeros, sample_weight=sw)) == pytest.approx(2.5)
    assert float(losses.MeanSquaredError()(ones, zeros, sample_weight=sw[:, None])) == 2.5
    assert float(losses.MeanSquaredError(reduction="sum")(ones, zeros, sample_weight=sw)) == 10
    assert float(losses.MeanSquaredError(reduction="auto")(ones, zeros)) == 1.0
    weighted = losses.MeanSquaredError(reduction="mean_with_sample_weight")
    assert float(weighted(ones, zeros, sample_weight=sw)) == pytest.approx(1.0)
    none = losses.MeanSquaredError(reduction=None)(ones, zeros, sample_weight=sw)
    np.testing.assert_allclose(none.numpy(), sw)
    assert float(losses.MeanSquaredError()(ones, zeros, sample_weight=2.0)) == 2.0
    # (batch,) weights on (batch, time) losses weight every step (tf.keras 2's rule).
    seq_true, seq_pred = np.ones((4, 3, 2), np.float32), xp.zeros((4, 3, 2), np.float32)
    got = losses.MeanSquaredError()(seq_true, seq_pred, sample_weight=sw)
    assert float(got) == pytest.approx(2.5)
    got = losses.MeanSquaredError()(seq_true, seq_pred, sample_weight=np.arange(12.0).reshape(4, 3))
    assert float(got) == pytest.approx(5.5)
    with pytest.raises(ValueError, match="sample_weight"):
        losses.MeanSquaredError()(ones, zeros, sample_weight=np.ones((3,)))
    with pytest.raises(ValueError, match="reduction"):
        losses.MeanSquaredError(reduction="bad")


def test_mask_on_predictions_is_respected(xp):
    y_true = np.ones((2, 3, 1), np.float32)
    y_pred = gpuk.Tensor(xp.zeros((2, 3, 1), np.float32))
    y_pred._keras_mask = xp.asarray([[True, True, False], [True, False, False]])
    value = losses.MeanSquaredError()(y_true, y_pred)
    assert float(value) == pytest.approx(1.0, rel=1e-5)  # the mean over valid steps only


def test_gradient_flows_through_loss_object(xp):
    w = gpuk.Variable(xp.asarray([[0.5, -0.5]], np.float32))
    with gpuk.GradientTape() as tape:
        value = losses.CategoricalCrossentropy(from_logits=True)([[1.0, 0.0]], w)
    (grad,) = tape.gradient(value, [w])
    e = np.exp([0.5, -0.5])
    np.testing.assert_allclose(grad.numpy(), [e / e.sum() - [1, 0]], rtol=1e-5)


ALIASES = {
    "mse": "mean_squared_error",
    "MSE": "mean_squared_error",
    "mae": "mean_absolute_error",
    "MAE": "mean_absolute_error",
    "mape": "mean_absolute_percentage_error",
    "MAPE": "mean_absolute_percentage_error",
    "msle": "mean_squared_logarithmic_error",
    "MSLE": "mean_squared_logarithmic_error",
    "kld": "kl_divergence",
    "KLD": "kl_divergence",
    "kullback_leibler_divergence": "kl_divergence",
    "logcosh": "log_cosh",
    "cosine_proximity": "cosine_similarity",
}


@pytest.mark.parametrize("alias,name", ALIASES.items())
def test_aliases_resolve_to_the_same_function(alias, name):
    assert losses.get(alias) is getattr(losses, name)
    assert getattr(losses, alias) is getattr(losses, name)


def test_get_forms_and_errors():
    assert losses.get(None) is None
    assert isinstance(losses.get("MeanSquaredError"), losses.MeanSquaredError)
    loss = losses.get({"class_name": "Huber", "config": {"delta": 2.0, "reduction": "sum"}})
    assert isinstance(loss, losses.Huber) and loss.reduction == "sum"
    assert loss.get_config() == {"name": "huber_loss", "reduction": "sum", "delta": 2.0}
    instance = losses.BinaryCrossentropy()
    assert losses.get(instance) is instance
    assert isinstance(losses.get(losses.Poisson), losses.Poisson)
    user = lambda t, p: t  # noqa: E731
    assert losses.get(user) is user
    with pytest.raises(ValueError, match="Unknown loss.*nope.*mean_squared_error"):
        losses.get("nope")
    with pytest.raises(TypeError):
        losses.get(3)


@pytest.mark.parametrize(
    "loss",
    [
        losses.MeanSquaredError(),
        losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.1, name="bce"),
        losses.CategoricalCrossentropy(label_smoothing=0.2, axis=-1, reduction="sum"),
        losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0),
        losses.Huber(delta=0.3),
        losses.CosineSimilarity(axis=0),
        losses.KLDivergence(reduction=None),
    ],
    ids=lambda loss: type(loss).__name__,
)
def test_config_round_trip(loss):
    config = losses.serialize(loss)
    rebuilt = losses.deserialize(config)
    assert type(rebuilt) is type(loss)
    assert rebuilt.get_config() == loss.get_config()
    assert losses.serialize(losses.mse) == "mean_squared_error"
    assert losses.deserialize("mse") is losses.mean_squared_error


def test_keras3_configs():
    assert losses.BinaryCrossentropy().get_config() == {
        "name": "binary_crossentropy",
        "reduction": "sum_over_batch_size",
        "from_logits": False,
        "label_smoothing": 0.0,
        "axis": -1,
    }
    assert losses.SparseCategoricalCrossentropy().get_config() == {
        "name": "sparse_categorical_crossentropy",
        "reduction": "sum_over_batch_size",
        "from_logits": False,
        "ignore_class": None,
    }
    assert losses.MeanSquaredError().get_config() == {
        "name": "mean_squared_error",
        "reduction": "sum_over_batch_size",
    }


def test_user_subclass_and_wrapper():
    class Scaled(losses.Loss):
        def call(self, y_true, y_pred):
            return 2.0 * losses.mean_squared_error(y_true, y_pred)

    loss = Scaled()
    assert loss.name == "scaled"
    assert float(loss(np.ones((2, 2)), np.zeros((2, 2)))) == 2.0
    wrapper = losses.LossFunctionWrapper(losses.huber, delta=0.5, reduction="sum")
    assert float(wrapper([[0.0]], [[2.0]])) == pytest.approx(0.875)
    rebuilt = losses.LossFunctionWrapper.from_config(wrapper.get_config())
    assert rebuilt.fn is losses.huber and float(rebuilt([[0.0]], [[2.0]])) == 0.875
