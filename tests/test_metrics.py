"""gpuk.metrics: Keras 3 reference numbers, accumulation across batches with sample weights,
accuracy resolution, naming, get()/configs, and the device-only state.

``KERAS_METRIC_REFERENCE`` was produced with Keras 3.15 (JAX backend): each metric updated
with the two batches ``D[key][0]`` and ``D[key][1]`` of :func:`_data` (with the per-sample
weights named in the case, if any), then ``result()``.
"""

import numpy as np
import pytest

import gpuk
from gpuk import losses, metrics

# Part of the GPU-branch subset CI runs under the CuPy stand-in (docs/gpu-standin.md).
pytestmark = pytest.mark.standin


def _data():
    rng = np.random.default_rng(1)
    d = {}
    d["bin_true"] = rng.integers(0, 2, size=(2, 8, 1)).astype("float32")
    d["bin_pred"] = np.round(rng.uniform(0, 1, size=(2, 8, 1)), 2).astype("float32")
    d["ml_true"] = rng.integers(0, 2, size=(2, 6, 3)).astype("float32")
    d["ml_pred"] = np.round(rng.uniform(0, 1, size=(2, 6, 3)), 2).astype("float32")
    d["sw"] = np.round(rng.uniform(0, 2, size=(2, 8)), 2).astype("float32")
    d["sw6"] = np.round(rng.uniform(0, 2, size=(2, 6)), 2).astype("float32")
    d["cls_pred"] = np.round(rng.uniform(0, 1, size=(2, 6, 5)), 2).astype("float32")
    d["cls_sparse"] = rng.integers(0, 5, size=(2, 6)).astype("int32")
    d["cls_onehot"] = np.eye(5, dtype="float32")[d["cls_sparse"]]
    return d


D = _data()

KERAS_METRIC_REFERENCE = [
    ("AUC", {}, "bin_true", "bin_pred", None, 0.3253968),
    ("AUC", {}, "bin_true", "bin_pred", "sw", 0.3382715),
    ("AUC", {"num_thresholds": 7}, "bin_true", "bin_pred", "sw", 0.4100023),
    ("AUC", {"curve": "PR"}, "bin_true", "bin_pred", None, 0.3295029),
    ("AUC", {"curve": "PR"}, "bin_true", "bin_pred", "sw", 0.3524857),
    ("AUC", {"summation_method": "minoring"}, "bin_true", "bin_pred", None, 0.3174603),
    (
        "AUC",
        {"summation_method": "majoring", "curve": "PR"},
        "bin_true",
        "bin_pred",
        None,
        0.3721011,
    ),
    ("AUC", {"thresholds": [0.3, 0.5, 0.7]}, "bin_true", "bin_pred", "sw", 0.3373594),
    ("AUC", {}, "ml_true", "ml_pred", "sw6", 0.4603226),
    ("AUC", {"multi_label": True}, "ml_true", "ml_pred", None, 0.3933862),
    ("AUC", {"multi_label": True, "curve": "PR"}, "ml_true", "ml_pred", "sw6", 0.4956913),
    ("AUC", {"from_logits": True}, "bin_true", "bin_pred", None, 0.3253968),
    ("Precision", {}, "bin_true", "bin_pred", None, 0.3333333),
    ("Precision", {}, "bin_true", "bin_pred", "sw", 0.3434535),
    (
        "Precision",
        {"thresholds": [0.2, 0.5, 0.8]},
        "bin_true",
        "bin_pred",
        "sw",
        [0.3697479, 0.3434535, 0.0],
    ),
    ("Precision", {"thresholds": 0.0}, "bin_true", "bin_pred", None, 0.4375),
    ("Precision", {}, "ml_true", "ml_pred", "sw6", 0.4327563),
    ("Precision", {"top_k": 1}, "ml_true", "ml_pred", None, 0.5),
    ("Precision", {"class_id": 1}, "ml_true", "ml_pred", "sw6", 0.2668977),
    ("Recall", {}, "bin_true", "bin_pred", None, 0.2857143),
    ("Recall", {}, "bin_true", "bin_pred", "sw", 0.279321),
    (
        "Recall",
        {"thresholds": [0.8, 0.2, 0.5]},
        "bin_true",
        "bin_pred",
        "sw",
        [0.0, 0.6111111, 0.279321],
    ),
    ("Recall", {"top_k": 2}, "ml_true", "ml_pred", "sw6", 0.5803572),
    ("Recall", {"class_id": 2}, "ml_true", "ml_pred", None, 0.7142857),
    ("BinaryAccuracy", {}, "bin_true", "bin_pred", "sw", 0.453629),
    ("BinaryAccuracy", {"threshold": 0.7}, "ml_true", "ml_pred", "sw6", 0.5582201),
    ("CategoricalAccuracy", {}, "cls_onehot", "cls_pred", "sw6", 0.1846523),
    ("SparseCategoricalAccuracy", {}, "cls_sparse", "cls_pred", "sw6", 0.1846523),
    ("TopKCategoricalAccuracy", {"k": 2}, "cls_onehot", "cls_pred", "sw6", 0.4164668),
    ("SparseTopKCategoricalAccuracy", {"k": 3}, "cls_sparse", "cls_pred", None, 0.75),
    ("MeanSquaredError", {}, "ml_true", "ml_pred", "sw6", 0.3634647),
    ("MeanAbsoluteError", {}, "ml_true", "ml_pred", None, 0.5397223),
    ("RootMeanSquaredError", {}, "ml_true", "ml_pred", "sw6", 0.6028804),
    ("CategoricalCrossentropy", {}, "cls_onehot", "cls_pred", "sw6", 1.901275),
    ("SparseCategoricalCrossentropy", {}, "cls_sparse", "cls_pred", None, 1.795568),
    ("BinaryCrossentropy", {}, "ml_true", "ml_pred", "sw6", 1.102257),
    ("CosineSimilarity", {}, "ml_true", "ml_pred", None, 0.5309672),
]


def _ids(case):
    return case[0] + "".join(f"-{k}={v}" for k, v in case[1].items()) + f"-{case[2]}-{case[4]}"


@pytest.mark.parametrize("case", KERAS_METRIC_REFERENCE, ids=_ids)
def test_metrics_match_keras3_over_two_batches(case, xp):
    cls, kwargs, true_key, pred_key, weight_key, expected = case
    metric = getattr(metrics, cls)(**kwargs)
    for b in range(2):
        weight = None if weight_key is None else xp.asarray(D[weight_key][b])
        metric.update_state(xp.asarray(D[true_key][b]), xp.asarray(D[pred_key][b]), weight)
    np.testing.assert_allclose(metric.result().numpy(), expected, rtol=1e-5, atol=1e-6)
    metric.reset_state()
    assert all(float(np.abs(v.numpy()).sum()) == 0 for v in metric.variables)


def test_state_stays_on_the_device(xp):
    for metric in (metrics.Mean(), metrics.AUC(), metrics.Precision(), metrics.BinaryAccuracy()):
        metric.update_state(xp.asarray([0.0, 1.0, 1.0]), xp.asarray([0.2, 0.7, 0.4]))
        assert all(isinstance(v.data, xp.ndarray) for v in metric.variables)
        assert isinstance(metric.result().data, xp.ndarray)


def test_mean_and_sum_accumulate_with_weights(xp):
    mean = metrics.Mean()
    mean.update_state(xp.asarray([1.0, 2.0, 3.0]))
    mean.update_state(xp.asarray([4.0]), sample_weight=xp.asarray([2.0]))
    assert float(mean.result()) == pytest.approx((6 + 8) / 5)
    assert [v.path for v in mean.variables] == ["mean/total", "mean/count"]
    assert metrics.Mean().result().numpy() == 0.0  # no NaN before any update
    total = metrics.Sum()
    total.update_state(xp.asarray([[1.0, 2.0], [3.0, 4.0]]), sample_weight=xp.asarray([1.0, 0.5]))
    assert float(total.result()) == pytest.approx(3 + 3.5)
    mean.reset_states()
    assert float(mean.result()) == 0.0


def test_user_function_is_averaged_over_samples_not_batches(xp):
    def my_metric(y_true, y_pred):
        return gpuk.ops.mean(gpuk.ops.abs(y_true - y_pred), axis=-1)

    metric, name = metrics.resolve_metric(my_metric)
    assert name == "my_metric" and isinstance(metric, metrics.MeanMetricWrapper)
    metric.update_state(xp.zeros((3, 1)), xp.ones((3, 1)))  # three samples of 1
    metric.update_state(xp.zeros((1, 1)), xp.zeros((1, 1)))  # one sample of 0
    assert float(metric.result()) == pytest.approx(0.75)  # not (1 + 0) / 2
    metric.reset_state()
    metric.update_state(xp.zeros((2, 1)), xp.ones((2, 1)), sample_weight=xp.asarray([3.0, 1.0]))
    metric.update_state(xp.zeros((1, 1)), xp.zeros((1, 1)), sample_weight=xp.asarray([4.0]))
    assert float(metric.result()) == pytest.approx(4 / 8)


def test_accuracy_functions(xp):
    y_true = xp.asarray([[1.0, 0.0], [0.0, 1.0]])
    y_pred = xp.asarray([[0.7, 0.2], [0.6, 0.4]])
    np.testing.assert_array_equal(metrics.binary_accuracy(y_true, y_pred).numpy(), [[1, 1], [0, 0]])
    np.testing.assert_array_equal(metrics.categorical_accuracy(y_true, y_pred).numpy(), [1, 0])
    labels = xp.asarray([[0], [1]])
    np.testing.assert_array_equal(
        metrics.sparse_categorical_accuracy(labels, y_pred).numpy(), [1, 0]
    )
    scores = xp.asarray([[0.1, 0.5, 0.5, 0.2], [0.4, 0.3, 0.2, 0.1]])
    # ties count as in the top k (fewer than k scores beat the target's)
    np.testing.assert_array_equal(
        metrics.sparse_top_k_categorical_accuracy(xp.asarray([2, 2]), scores, k=2).numpy(), [1, 0]
    )
    onehot = xp.asarray([[0, 0, 1, 0], [0, 0, 1, 0]])
    np.testing.assert_array_equal(
        metrics.top_k_categorical_accuracy(onehot, scores, k=3).numpy(), [1, 1]
    )
    assert metrics.accuracy(xp.asarray([1, 2]), xp.asarray([1.0, 3.0])).numpy().tolist() == [1, 0]


@pytest.mark.parametrize(
    "identifier,loss,true_shape,pred_shape,expected",
    [
        ("accuracy", None, (8, 1), (8, 1), "binary_accuracy"),
        ("acc", "binary_crossentropy", (8, 4), (8, 4), "binary_accuracy"),
        ("acc", losses.BinaryCrossentropy(from_logits=True), None, None, "binary_accuracy"),
        (
            "accuracy",
            "sparse_categorical_crossentropy",
            (8, 4),
            (8, 4),
            "sparse_categorical_accuracy",
        ),
        ("accuracy", None, (8,), (8, 4), "sparse_categorical_accuracy"),
        ("accuracy", None, (8, 1), (8, 4), "sparse_categorical_accuracy"),
        ("accuracy", "categorical_crossentropy", (8, 4), (8, 4), "categorical_accuracy"),
        ("Accuracy", "mse", (8, 4), (8, 4), "categorical_accuracy"),
        ("crossentropy", None, (8, 1), (8, 1), "binary_crossentropy"),
        (
            "ce",
            losses.sparse_categorical_crossentropy,
            None,
            None,
            "sparse_categorical_crossentropy",
        ),
        ("ce", None, (8, 3), (8, 3), "categorical_crossentropy"),
    ],
)
def test_accuracy_and_crossentropy_resolution(identifier, loss, true_shape, pred_shape, expected):
    metric, name = metrics.resolve_metric(identifier, loss, true_shape, pred_shape)
    assert name == identifier and metric.name == identifier
    if metric._fn is None:  # decided at the first batch
        labels = np.zeros((2,)) if expected.startswith("sparse") else np.zeros((2, 4))
        metric.update_state(labels, np.full((2, 4), 0.25))
    assert metric._fn.__name__ == expected
    resolved = metrics.get(identifier, true_shape, pred_shape, loss)
    assert resolved.name == identifier


def test_deferred_accuracy_uses_first_batch_shapes(xp):
    metric, name = metrics.resolve_metric("acc")
    metric.update_state(xp.asarray([1, 2]), xp.asarray([[0.1, 0.2, 0.7], [0.1, 0.8, 0.1]]))
    assert metric._fn is metrics.sparse_categorical_accuracy and name == "acc"
    assert float(metric.result()) == 0.0
    binary, _ = metrics.resolve_metric("accuracy")
    binary.update_state(xp.asarray([[1.0], [0.0]]), xp.asarray([[0.9], [0.2]]))
    assert binary._fn is metrics.binary_accuracy and float(binary.result()) == 1.0


def test_names_for_logs():
    assert metrics.metric_name("acc") == "acc"
    assert metrics.metric_name("mse") == "mse"
    assert metrics.metric_name(metrics.mean_absolute_error) == "mean_absolute_error"
    assert metrics.metric_name(losses.mse) == "mean_squared_error"
    assert metrics.metric_name(metrics.AUC(name="my_auc")) == "my_auc"
    metric, name = metrics.resolve_metric("mse")
    assert name == "mse" and isinstance(metric, metrics.MeanSquaredError)
    metric, name = metrics.resolve_metric(metrics.Precision())
    assert name == "precision"


def test_every_loss_is_usable_as_a_metric(xp):
    y_true, y_pred = xp.asarray([[0.0, 1.0]]), xp.asarray([[0.2, 0.6]])
    for name in ["mse", "mae", "mape", "msle", "kld", "logcosh", "hinge", "squared_hinge",
                 "categorical_hinge", "poisson", "binary_crossentropy",
                 "categorical_crossentropy", "cosine_similarity", "huber", "log_cosh"]:  # fmt: skip
        metric, log_name = metrics.resolve_metric(name)
        assert log_name == name
        metric.update_state(y_true, y_pred)
        fn = losses.get(name)
        expected = float(gpuk.ops.mean(fn(y_true, y_pred)))
        if name == "cosine_similarity":  # the metric is the (positive) similarity itself
            expected = -expected
        assert float(metric.result()) == pytest.approx(expected, rel=1e-6), name


def test_get_forms_and_errors():
    assert isinstance(metrics.get("mse"), metrics.MeanSquaredError)
    assert isinstance(metrics.get("AUC"), metrics.AUC)
    assert isinstance(metrics.get("binary_accuracy"), metrics.BinaryAccuracy)
    assert isinstance(metrics.get("accuracy"), metrics.Accuracy)
    assert metrics.get(metrics.top_k_categorical_accuracy) is metrics.top_k_categorical_accuracy
    with pytest.raises(ValueError, match="Unknown metric.*nope.*binary_accuracy"):
        metrics.get("nope")
    with pytest.raises(TypeError):
        metrics.resolve_metric(5)


@pytest.mark.parametrize(
    "metric",
    [
        metrics.Mean(name="m"),
        metrics.BinaryAccuracy(threshold=0.3),
        metrics.TopKCategoricalAccuracy(k=2),
        metrics.Precision(thresholds=[0.2, 0.6], top_k=2, class_id=1, name="p"),
        metrics.Recall(),
        metrics.AUC(num_thresholds=50, curve="PR", summation_method="minoring"),
        metrics.AUC(thresholds=[0.25, 0.5, 0.75]),
        metrics.MeanMetricWrapper(losses.huber, name="hub", delta=0.5),
        metrics.SparseCategoricalCrossentropy(from_logits=True),
    ],
    ids=lambda m: type(m).__name__,
)
def test_config_round_trip(metric):
    rebuilt = metrics.deserialize(metrics.serialize(metric))
    assert type(rebuilt) is type(metric)
    assert rebuilt.get_config() == metric.get_config()
    assert [v.path for v in rebuilt.variables] == [v.path for v in metric.variables]


def test_keras3_configs():
    assert metrics.BinaryAccuracy().get_config() == {
        "name": "binary_accuracy",
        "dtype": "float32",
        "threshold": 0.5,
    }
    assert metrics.Precision().get_config() == {
        "name": "precision",
        "dtype": "float32",
        "thresholds": None,
        "top_k": None,
        "class_id": None,
    }
    assert metrics.AUC().get_config() == {
        "name": "auc",
        "dtype": "float32",
        "num_thresholds": 200,
        "curve": "ROC",
        "summation_method": "interpolation",
        "multi_label": False,
        "num_labels": None,
        "label_weights": None,
        "from_logits": False,
    }
    assert [v.path for v in metrics.AUC().variables] == [
        "auc/true_positives",
        "auc/false_positives",
        "auc/true_negatives",
        "auc/false_negatives",
    ]


def test_user_metric_subclass(xp):
    class CountPositives(metrics.Metric):
        def __init__(self, name="count_positives", **kwargs):
            super().__init__(name=name, **kwargs)
            self.positives = self.add_weight(name="positives", initializer="zeros")

        def update_state(self, y_true, y_pred, sample_weight=None):
            self.positives.assign_add(gpuk.ops.sum(gpuk.ops.cast(y_pred > 0.5, "float32")))

        def result(self):
            return self.positives

    metric = CountPositives()
    assert float(metric(None, xp.asarray([0.2, 0.7, 0.9]))) == 2.0
    metric.reset_state()
    assert float(metric.result()) == 0.0
    assert metric.get_config() == {"name": "count_positives", "dtype": "float32"}


def test_masked_predictions_are_left_out(xp):
    metric = metrics.MeanAbsoluteError()
    y_pred = gpuk.Tensor(xp.zeros((1, 3, 1), np.float32))
    y_pred._keras_mask = xp.asarray([[True, True, False]])
    metric.update_state(xp.asarray([[[1.0], [1.0], [5.0]]]), y_pred)
    assert float(metric.result()) == pytest.approx(1.0)
