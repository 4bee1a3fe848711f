"""The metrics of Keras 3's namespace that gpuk added, against values Keras computed
(tools/make_keras_fixtures_metrics.py): two update_state calls, result(), get_config()."""

import json
import os
import warnings

import numpy as np
import pytest

import gpuk
from gpuk import metrics

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "keras", "metrics")
with open(os.path.join(FIXTURES, "expected.json")) as _f:
    EXPECTED = json.load(_f)
DATA = dict(np.load(os.path.join(FIXTURES, "inputs.npz")))

# Keras 3.15's keras.metrics namespace (dir(), public names).
KERAS_NAMES = """AUC Accuracy BinaryAccuracy BinaryCrossentropy BinaryIoU CategoricalAccuracy
CategoricalCrossentropy CategoricalHinge ConcordanceCorrelation CosineSimilarity F1Score
FBetaScore FalseNegatives FalsePositives Hinge IoU KLDivergence LogCoshError Mean
MeanAbsoluteError MeanAbsolutePercentageError MeanIoU MeanMetricWrapper MeanSquaredError
MeanSquaredLogarithmicError Metric OneHotIoU OneHotMeanIoU PearsonCorrelation Poisson Precision
PrecisionAtRecall R2Score Recall RecallAtPrecision RootMeanSquaredError SensitivityAtSpecificity
SparseCategoricalAccuracy SparseCategoricalCrossentropy SparseTopKCategoricalAccuracy
SpecificityAtSensitivity SquaredHinge Sum TopKCategoricalAccuracy TrueNegatives TruePositives
binary_accuracy binary_crossentropy binary_focal_crossentropy categorical_accuracy
categorical_crossentropy categorical_focal_crossentropy categorical_hinge concordance_correlation
deserialize get hinge huber kl_divergence log_cosh mean_absolute_error
mean_absolute_percentage_error mean_squared_error mean_squared_logarithmic_error
pearson_correlation poisson serialize sparse_categorical_accuracy sparse_categorical_crossentropy
sparse_top_k_categorical_accuracy squared_hinge top_k_categorical_accuracy""".split()


def test_namespace_has_every_keras_3_metric():
    missing = [name for name in KERAS_NAMES if not hasattr(metrics, name)]
    assert missing == []


def _run(case, xp_module=None):
    cls = getattr(metrics, case["class"])
    metric = cls(**case["kwargs"])
    true_key, pred_key, weight_key = case["inputs"]
    y_true, y_pred = DATA[true_key], DATA[pred_key]
    weights = None if weight_key is None else DATA[weight_key]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for part in (slice(0, 12), slice(12, None)):
            metric.update_state(
                y_true[part], y_pred[part], None if weights is None else weights[part]
            )
        return metric, np.asarray(metric.result().numpy(), dtype=np.float64)


@pytest.mark.parametrize("name", sorted(EXPECTED["metrics"]))
def test_metric_matches_keras(name):
    case = EXPECTED["metrics"][name]
    metric, result = _run(case)
    np.testing.assert_allclose(result, np.asarray(case["result"]), rtol=2e-5, atol=2e-6)
    # Keras numbers repeated automatic names (``io_u_1``); gpuk keeps the plain name.
    expected = {**case["config"], "name": case["config"]["name"].rstrip("_0123456789")}
    assert metric.get_config() == expected
    rebuilt = type(metric).from_config(metric.get_config())
    assert rebuilt.get_config() == expected


@pytest.mark.parametrize("name", sorted(EXPECTED["functions"]))
def test_metric_function_matches_keras(name):
    case = EXPECTED["functions"][name]
    fn = getattr(metrics, case["function"])
    true_key, pred_key = case["inputs"]
    value = fn(DATA[true_key], DATA[pred_key], **case["kwargs"])
    np.testing.assert_allclose(
        np.asarray(value.numpy(), np.float64), case["result"], rtol=2e-5, atol=2e-6
    )


@pytest.mark.parametrize("name", ["tp_thresholds_w", "p_at_r_class_w", "f1_macro_w", "r2", "iou"])
def test_reset_state_and_device_arrays(name, xp):
    case = EXPECTED["metrics"][name]
    metric, first = _run(case)
    metric.reset_state()
    with np.errstate(all="ignore"):  # R2 of no data is 0/0, nan as in Keras
        assert np.all(np.asarray(metric.result().numpy()) == 0) or name == "r2"
    true_key, pred_key, weight_key = case["inputs"]
    args = [xp.asarray(DATA[true_key]), xp.asarray(DATA[pred_key])]
    weights = None if weight_key is None else xp.asarray(DATA[weight_key])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        metric.update_state(*args, sample_weight=weights)
    np.testing.assert_allclose(np.asarray(metric.result().numpy()), first, rtol=2e-5, atol=2e-6)


def test_new_metrics_work_in_compile_and_resolve_by_name():
    inputs = gpuk.Input((3,))
    outputs = gpuk.layers.Dense(3, activation="sigmoid")(inputs)
    model = gpuk.Model(inputs, outputs)
    model.compile(
        "sgd",
        "binary_crossentropy",
        metrics=[
            metrics.F1Score(average="macro", threshold=0.5),
            metrics.TruePositives(),
            metrics.PrecisionAtRecall(0.5),
            "r2_score",
        ],
    )
    x, y = DATA["bin_pred"], DATA["bin_true"]
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert sorted(logs) == [
        "f1_score", "loss", "precision_at_recall", "r2_score", "true_positives"
    ]  # fmt: skip
    assert metrics.get("f1_score").name == "f1_score"
    assert isinstance(metrics.get("TruePositives"), metrics.TruePositives)


def test_invalid_arguments_fail_clearly():
    with pytest.raises(ValueError, match="recall"):
        metrics.PrecisionAtRecall(1.5)
    with pytest.raises(ValueError, match="beta"):
        metrics.FBetaScore(beta=2)
    with pytest.raises(ValueError, match="class_aggregation"):
        metrics.R2Score(class_aggregation="median")
    with pytest.raises(ValueError, match="out of range"):
        metrics.IoU(num_classes=2, target_class_ids=[2])
    with pytest.raises(ValueError, match="2D inputs"):
        metrics.F1Score().update_state(np.ones(3), np.ones(3))


@pytest.mark.parametrize(
    "fn, kwargs",
    [
        (metrics.binary_focal_crossentropy, {"apply_class_balancing": True, "gamma": 1.5}),
        (metrics.binary_focal_crossentropy, {"from_logits": True, "label_smoothing": 0.1}),
        (metrics.categorical_focal_crossentropy, {"gamma": 2.0}),
        (metrics.categorical_focal_crossentropy, {"from_logits": True, "label_smoothing": 0.2}),
    ],
)
def test_focal_crossentropies_have_exact_gradients(fn, kwargs, xp):
    from tests.gradcheck import assert_gradients_match

    rng = np.random.default_rng(3)
    y_true = (rng.random((4, 3)) > 0.5).astype("float64")
    y_pred = rng.uniform(0.1, 0.9, (4, 3))
    assert_gradients_match(lambda p: fn(y_true, p, **kwargs), [y_pred], xp, rtol=1e-5, atol=1e-7)
