"""Argument and shape checks of Precision, Recall and AUC (gpuk/metrics/confusion.py), with
Keras 3's rules (issue 18)."""

import numpy as np
import pytest

from gpuk import metrics

Y_TRUE = np.array([[1, 0, 1], [0, 1, 1], [1, 1, 0], [0, 0, 1]], "float32")
Y_PRED = np.array([[0.9, 0.2, 0.4], [0.3, 0.8, 0.6], [0.6, 0.3, 0.1], [0.2, 0.1, 0.7]], "float32")


@pytest.mark.parametrize("cls", [metrics.Precision, metrics.Recall, metrics.TruePositives])
def test_thresholds_outside_the_unit_interval_are_rejected(cls):
    with pytest.raises(ValueError, match=r"Threshold values must be in \[0, 1\]"):
        cls(thresholds=[0.5, 1.5])
    with pytest.raises(ValueError, match=r"Threshold values must be in \[0, 1\]"):
        cls(thresholds=-0.1)
    assert cls(thresholds=[0.0, 1.0]).thresholds == [0.0, 1.0]


def test_top_k_of_every_class_keeps_every_prediction():
    for cls in (metrics.Precision, metrics.Recall):
        plain, top = cls(thresholds=0.5), cls(top_k=3, thresholds=0.5)
        plain.update_state(Y_TRUE, Y_PRED)
        top.update_state(Y_TRUE, Y_PRED)
        assert float(top.result()) == pytest.approx(float(plain.result()))


def test_class_id_needs_a_class_axis():
    with pytest.raises(ValueError, match=r"When class_id is provided, y_pred must be a 2D"):
        metrics.Precision(class_id=1).update_state(Y_TRUE[:, 0], Y_PRED[:, 0])


def test_incompatible_shapes_name_the_metric_and_the_shapes():
    with pytest.raises(ValueError, match=r"recall: incompatible shapes y_true \(3,\), y_pred \(4,"):
        metrics.Recall().update_state(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match=r"incompatible shapes .*sample_weight \(3,\)"):
        metrics.Precision().update_state(np.ones(4), np.ones(4), sample_weight=np.ones(3))


def test_auc_argument_checks():
    with pytest.raises(ValueError, match="num_thresholds must be > 1. Received: num_thresholds=1"):
        metrics.AUC(num_thresholds=1)
    assert metrics.AUC(num_thresholds=2).thresholds[1:-1] == []
    with pytest.raises(ValueError, match="invalid curve"):
        metrics.AUC(curve="DET")
    with pytest.raises(ValueError, match="invalid summation_method"):
        metrics.AUC(summation_method="trapezoid")
    auc = metrics.AUC(curve="pr", summation_method="Minoring")
    assert (auc.curve, auc.summation_method) == ("PR", "minoring")


def test_auc_thresholds_include_the_epsilon_ends():
    eps = 1e-7
    got = metrics.AUC(num_thresholds=5).thresholds
    np.testing.assert_allclose(got, [-eps, 0.25, 0.5, 0.75, 1 + eps], rtol=0, atol=1e-12)


def test_zero_denominators_give_zero_without_floating_point_warnings():
    import warnings

    labels, scores = np.zeros(4), np.array([0.1, 0.6, 0.4, 0.9])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for metric in (metrics.AUC(), metrics.AUC(curve="PR"), metrics.PrecisionAtRecall(0.5)):
            metric.update_state(labels, scores)
            assert float(metric.result()) == 0.0
