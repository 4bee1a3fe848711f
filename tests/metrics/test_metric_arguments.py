"""Constructor checks, docstrings and name resolution of the metric classes
(gpuk/metrics/thresholds.py, iou.py, classes.py, __init__.py), with Keras 3's messages
(issue 18)."""

import functools

import numpy as np
import pytest

from gpuk import metrics

FAMILY = [
    (metrics.SensitivityAtSpecificity, "specificity"),
    (metrics.SpecificityAtSensitivity, "sensitivity"),
    (metrics.PrecisionAtRecall, "recall"),
    (metrics.RecallAtPrecision, "precision"),
]


@pytest.mark.parametrize("cls, arg", FAMILY)
def test_sensitivity_family_checks_its_arguments(cls, arg):
    for bad in (-0.1, 1.5):
        with pytest.raises(
            ValueError, match=rf"Argument `{arg}` must be in the range \[0, 1\]. Received: {arg}="
        ):
            cls(bad)
    for bad in (0, -3):
        with pytest.raises(ValueError, match="`num_thresholds` must be an integer > 0"):
            cls(0.5, num_thresholds=bad)
    for edge in (0.0, 1.0):
        assert cls(edge).get_config()[arg] == edge
    one = cls(0.5, num_thresholds=1)
    assert one.thresholds == [0.5]
    three = cls(0.5, num_thresholds=3)
    assert three.thresholds == [0.0, 0.5, 1.0]
    assert len(cls(0.5).thresholds) == 200
    assert cls(0.5).get_config()["num_thresholds"] == 200
    assert f"{arg}: a scalar in [0, 1]" in cls.__doc__


def test_sensitivity_family_with_a_single_threshold_counts_at_one_half():
    m = metrics.PrecisionAtRecall(0.0, num_thresholds=1)
    m.update_state(np.array([1, 0, 1, 0]), np.array([0.6, 0.7, 0.4, 0.2]))
    assert float(m.result()) == pytest.approx(0.5)  # at 0.5: tp 1, fp 1


@pytest.mark.parametrize(
    "cls, what",
    [
        (metrics.TruePositives, "true positives"),
        (metrics.FalsePositives, "false positives"),
        (metrics.TrueNegatives, "true negatives"),
        (metrics.FalseNegatives, "false negatives"),
    ],
)
def test_count_metrics_document_what_they_count(cls, what):
    assert cls.__doc__.startswith(f"The number of {what}")


def test_iou_target_class_ids_must_be_in_range_and_float_weights_warn():
    with pytest.raises(ValueError, match=r"Target class id 3 is out of range, which is \[0, 3\)"):
        metrics.IoU(num_classes=3, target_class_ids=[0, 3])
    m = metrics.MeanIoU(num_classes=2)
    with pytest.warns(UserWarning, match="You are passing weight as `float`"):
        m.update_state(np.array([0, 1]), np.array([0, 1]), sample_weight=np.array([1.0, 1.0]))
    assert float(m.result()) == pytest.approx(1.0)
    m = metrics.MeanIoU(num_classes=2, dtype="float32")
    m.update_state(np.array([0, 1]), np.array([0, 0]), sample_weight=np.array([0.5, 2.0]))
    # cm = [[0.5, 0], [2, 0]]: iou(0) = 0.5 / 2.5, class 1 has tp 0 and counts.
    assert float(m.result()) == pytest.approx((0.5 / 2.5 + 0.0) / 2, rel=1e-5)


def test_mean_metric_wrapper_classes_reject_unknown_arguments_and_document_defaults():
    with pytest.raises(TypeError, match=r"BinaryAccuracy: unexpected arguments \['bogus'\]"):
        metrics.BinaryAccuracy(bogus=1)
    assert "threshold: defaults to 0.5." in metrics.BinaryAccuracy.__doc__
    assert "k: defaults to 5." in metrics.TopKCategoricalAccuracy.__doc__
    assert "ignore_class: defaults to None." in metrics.SparseCategoricalCrossentropy.__doc__
    for cls in (metrics.Accuracy, metrics.Hinge, metrics.Poisson, metrics.RootMeanSquaredError):
        assert "name, dtype: see Metric." in cls.__doc__


def test_metric_names_for_logs():
    assert metrics.metric_name({"class_name": "AUC", "config": {"name": "roc"}}) == "roc"
    assert metrics.metric_name({"class_name": "AUC", "config": {"curve": "PR"}}) == "AUC"
    assert metrics.metric_name({"class_name": "function", "config": "mae"}) == "mae"
    assert metrics.metric_name(metrics.PrecisionAtRecall) == "precision_at_recall"
    assert metrics.metric_name(functools.partial(metrics.binary_accuracy, threshold=0.3)) == (
        "binary_accuracy"
    )

    class Named:
        name = "named"

        def __call__(self, y_true, y_pred):
            return y_pred

    assert metrics.metric_name(Named()) == "named"

    class Anonymous:
        def __call__(self, y_true, y_pred):
            return y_pred

    assert metrics.metric_name(Anonymous()) == "Anonymous"


def test_get_builds_classes_and_deferred_metrics_have_keras_configs():
    assert type(metrics.get(metrics.Hinge)) is metrics.Hinge
    assert metrics.get(None) is None
    assert metrics.get("Accuracy").name == "accuracy"
    assert metrics.get("acc").name == "acc"
    deferred = metrics.get("ce")
    assert deferred.get_config() == {"name": "ce", "dtype": "float32"}
    deferred.update_state(np.array([[0.0, 1.0]]), np.array([[0.2, 0.8]]))
    assert float(deferred.result()) == pytest.approx(-np.log(0.8), rel=1e-5)
    with pytest.raises(TypeError, match="Could not interpret metric identifier: 3"):
        metrics.get(3)


def test_mean_and_sum_resolve_by_name_as_in_keras():
    # Keras 3.15: metrics.get("mean") is a Mean instance, "sum" a Sum.
    assert type(metrics.get("mean")) is metrics.Mean and metrics.get("mean").name == "mean"
    assert type(metrics.get("Sum")) is metrics.Sum and metrics.get("sum").name == "sum"
    with pytest.raises(TypeError):
        metrics.get("mean_metric_wrapper")  # needs fn, as in Keras


def test_iou_warns_only_for_float_weights_on_integer_counts_and_names_the_caller():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        metrics.MeanIoU(num_classes=2).update_state([0, 1], [0, 1], sample_weight=[1, 2])
        metrics.MeanIoU(num_classes=2, dtype="float32").update_state(
            [0, 1], [0, 1], sample_weight=[0.5, 2.0]
        )
    with pytest.warns(UserWarning, match="weight as `float`") as record:
        metrics.IoU(2, [0]).update_state([0, 1], [0, 1], sample_weight=np.array([1.0, 1.0]))
    assert record[0].filename == __file__


def test_any_single_hint_resolves_accuracy_like_keras_compile():
    by_loss = metrics.get("acc", loss="binary_crossentropy")  # decided at the first batch
    by_loss.update_state(np.array([[1.0, 0.0]]), np.array([[0.8, 0.6]]))
    assert by_loss._fn is metrics.binary_accuracy and by_loss.name == "acc"
    assert float(by_loss.result()) == 0.5
    by_pred = metrics.get("accuracy", y_pred_shape=(4, 1))
    assert by_pred._fn is metrics.binary_accuracy
    by_true = metrics.get("accuracy", y_true_shape=(4,))
    assert isinstance(by_true, metrics.MeanMetricWrapper)  # decided at the first batch
    assert type(metrics.get("accuracy")) is metrics.Accuracy
