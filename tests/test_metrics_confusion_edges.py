"""Confusion metrics with NaN predictions, AUC thresholds and multi-label label_weights.

Expected values: tests/fixtures/keras/mutation/values.json (tools/make_keras_fixtures_mutation.py).
"""

import json
import os

import numpy as np
import pytest

import gpuk

REF = json.load(
    open(os.path.join(os.path.dirname(__file__), "fixtures", "keras", "mutation", "values.json"))
)["metrics"]


@pytest.mark.parametrize(
    "name",
    ["TruePositives", "FalsePositives", "TrueNegatives", "FalseNegatives", "Precision", "Recall"],
)
def test_nan_predictions_are_not_counted_as_positives(name):
    y_true = np.array([1, 1, 0, 0, 1, 0], dtype="float32")
    y_pred = np.array([np.nan, 0.9, np.nan, 0.2, 0.6, 0.7], dtype="float32")
    m = getattr(gpuk.metrics, name)()
    m.update_state(y_true, y_pred)
    np.testing.assert_allclose(float(m.result()), REF[f"nan_{name}"], rtol=1e-6)


@pytest.mark.parametrize("n", [3, 5, 7, 200])
def test_auc_thresholds(n):
    got = np.asarray(gpuk.metrics.AUC(num_thresholds=n).thresholds, dtype="float64")
    np.testing.assert_allclose(got, REF[f"auc_thresholds_{n}"], rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("curve", ["ROC", "PR"])
@pytest.mark.parametrize("weights", [None, [0.2, 0.5, 1.0]])
def test_auc_multi_label_with_label_weights(curve, weights):
    yt = np.array([[1, 0, 1], [0, 1, 1], [1, 1, 0], [0, 0, 1], [1, 0, 0]], dtype="float32")
    yp = np.array(
        [[0.8, 0.3, 0.6], [0.1, 0.7, 0.9], [0.6, 0.4, 0.2], [0.3, 0.2, 0.7], [0.9, 0.6, 0.4]],
        dtype="float32",
    )
    m = gpuk.metrics.AUC(num_thresholds=11, multi_label=True, curve=curve, label_weights=weights)
    m.update_state(yt, yp)
    key = f"auc_multi_{curve}_{'w' if weights else 'nw'}"
    np.testing.assert_allclose(float(m.result()), REF[key], rtol=1e-5)


def _case_id(case):
    name, kwargs, _ = case
    return name + "-" + "-".join(f"{k}={v}" for k, v in kwargs.items())


@pytest.mark.parametrize("case", REF["cases"], ids=_case_id)
def test_confusion_metric_matches_keras(case):
    name, kwargs, expected = case
    kwargs = dict(kwargs)
    weighted = kwargs.pop("_weighted")
    rng = np.random.RandomState(3)
    yt = (rng.rand(12, 3) > 0.5).astype("float32")
    yp = rng.rand(12, 3).astype("float32")
    sw = rng.rand(12).astype("float32") if weighted else None
    m = getattr(gpuk.metrics, name)(**kwargs)
    m.update_state(yt[:6], yp[:6], sample_weight=None if sw is None else sw[:6])
    m.update_state(yt[6:], yp[6:], sample_weight=None if sw is None else sw[6:])
    np.testing.assert_allclose(float(m.result()), expected, rtol=1e-5, atol=1e-6)


def test_predictions_exactly_on_thresholds():
    grid = np.array([i / 8 for i in range(9)] * 2, dtype="float32")
    labels = (np.arange(18) % 3 == 0).astype("float32")
    m = gpuk.metrics.TruePositives(thresholds=[i / 4 for i in range(5)])
    m.update_state(labels, grid)
    np.testing.assert_allclose(np.asarray(m.result()), REF["tp_on_grid_even"])
    m = gpuk.metrics.FalsePositives(thresholds=[0.0, 0.3, 0.5, 1.0])
    m.update_state(labels, grid)
    np.testing.assert_allclose(np.asarray(m.result()), REF["fp_on_grid_uneven"])
    fine = np.array([i / 199 for i in range(200)], dtype="float32")
    m = gpuk.metrics.AUC(num_thresholds=200)
    m.update_state((np.arange(200) % 2).astype("float32"), fine)
    np.testing.assert_allclose(float(m.result()), REF["auc_on_grid"], rtol=1e-6)
    np.testing.assert_allclose(np.asarray(m.true_positives), REF["auc_tp_on_grid"])


@pytest.mark.parametrize("kwargs", [dict(curve="XY"), dict(summation_method="trapezoid")])
def test_auc_rejects_unknown_curve_or_summation(kwargs):
    with pytest.raises(ValueError):
        gpuk.metrics.AUC(**kwargs)


def test_auc_config_keeps_its_arguments():
    config = gpuk.metrics.AUC(num_labels=3, multi_label=True, curve="PR").get_config()
    assert config["num_labels"] == 3 and config["multi_label"] is True
    assert config["curve"] == "PR"
    assert gpuk.metrics.AUC(multi_label=True).get_config()["num_labels"] is None
