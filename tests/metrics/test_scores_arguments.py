"""Argument checks and edge cases of FBetaScore/F1Score, R2Score and the correlation
functions (gpuk/metrics/scores.py), with Keras 3's messages (issue 18)."""

import numpy as np
import pytest

from gpuk import metrics

Y_TRUE = np.array([[1, 0, 1], [0, 1, 1], [1, 1, 0], [0, 0, 1]], "float32")
Y_PRED = np.array([[0.9, 0.2, 0.4], [0.3, 0.8, 0.6], [0.6, 0.3, 0.1], [0.2, 0.1, 0.7]], "float32")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"average": "mean"}, r"Invalid `average` argument value.*Received: average=mean"),
        ({"beta": 1}, r"`beta` argument value. It should be a Python float"),
        ({"beta": 0.0}, r"`beta` argument value. It should be > 0. Received: 0.0"),
        ({"beta": -1.0}, r"It should be > 0"),
        ({"threshold": 1}, r"`threshold` argument value. It should be a Python float"),
        ({"threshold": 0.0}, r"It should verify 0 < threshold <= 1. Received: threshold=0.0"),
        ({"threshold": 1.5}, r"0 < threshold <= 1. Received: threshold=1.5"),
    ],
)
def test_fbeta_argument_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        metrics.FBetaScore(**kwargs)


def test_fbeta_boundary_values_are_accepted():
    assert metrics.FBetaScore(threshold=1.0, beta=1e-3).threshold == 1.0
    for average in (None, "micro", "macro", "weighted"):
        assert metrics.F1Score(average=average).get_config()["average"] == average


def test_fbeta_needs_2d_inputs_and_an_update_before_result():
    with pytest.raises(ValueError, match=r"FBetaScore expects 2D inputs.*y_pred.shape=\(4,\)"):
        metrics.FBetaScore().update_state(Y_TRUE[:, 0], Y_PRED[:, 0])
    with pytest.raises(ValueError, match=r"F1Score expects 2D inputs"):
        metrics.F1Score().update_state(Y_TRUE, Y_PRED[..., None])
    with pytest.raises(ValueError, match="before any update_state"):
        metrics.F1Score().result()
    m = metrics.F1Score()
    m.reset_state()  # before the state exists: nothing to do
    m.update_state(Y_TRUE, Y_PRED)
    m.reset_state()
    np.testing.assert_array_equal(m.result().numpy(), [0.0, 0.0, 0.0])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"class_aggregation": "mean"}, r"`class_aggregation`. Expected one of"),
        (
            {"num_regressors": -1},
            r"`num_regressors`. Expected a value >= 0. Received: num_regressors=-1",
        ),
    ],
)
def test_r2_argument_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        metrics.R2Score(**kwargs)


def test_r2_needs_2d_inputs_and_an_update_before_result():
    with pytest.raises(ValueError, match=r"R2Score expects 2D inputs.*y_pred.shape=\(2, 2, 3\)"):
        metrics.R2Score().update_state(np.ones((2, 2, 3)), np.ones((2, 2, 3)))
    with pytest.raises(ValueError, match="before any update_state"):
        metrics.R2Score().result()


def test_adjusted_r2_falls_back_with_keras_warnings():
    plain = metrics.R2Score()
    plain.update_state(Y_TRUE, Y_PRED)
    # 12 samples (every element counts): p = 11 divides by zero, p = 12 exceeds them.
    for p, message in ((11, "Division by zero"), (12, "More independent predictors")):
        m = metrics.R2Score(num_regressors=p)
        m.update_state(Y_TRUE, Y_PRED)
        with pytest.warns(UserWarning, match=message):
            value = m.result()
        assert float(value) == pytest.approx(float(plain.result()))
    m = metrics.R2Score(num_regressors=10)
    m.update_state(Y_TRUE, Y_PRED)
    n, p, r2 = 12.0, 10.0, float(plain.result())
    assert float(m.result()) == pytest.approx(1 - (1 - r2) * (n - 1) / (n - p - 1), rel=1e-5)


def test_correlations_of_integer_inputs_compute_in_floatx():
    y_true = np.array([[1, 2, 3], [3, 1, 2]], "int32")
    y_pred = np.array([[2, 4, 7], [1, 1, 5]], "int64")
    got = metrics.pearson_correlation(y_true, y_pred)
    ref = metrics.pearson_correlation(y_true.astype("float32"), y_pred.astype("float32"))
    assert got.dtype == np.float32
    np.testing.assert_allclose(got.numpy(), ref.numpy(), rtol=1e-6)
