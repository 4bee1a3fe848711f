"""Metrics on the GPU branch (CuPy stand-in) fed what users pass: host labels, NumPy scalars,
Python numbers, predictions carrying a host mask."""

import numpy as np
import pytest

from gpuk import losses, metrics
from gpuk.autograd import Tensor

pytestmark = pytest.mark.standin


def test_mean_of_numbers_weighted_by_numbers(gpu):
    mean = metrics.Mean()
    mean.update_state(3.0, sample_weight=2)
    mean.update_state(np.float32(6.0), sample_weight=1.0)
    mean.update_state(np.array([1.0, 3.0]), sample_weight=0)
    assert float(mean.result()) == pytest.approx(4.0)


def test_sparse_crossentropy_metric_with_host_labels_and_a_masked_host_prediction(gpu):
    metric = metrics.SparseCategoricalCrossentropy()
    prediction = Tensor(np.array([[0.2, 0.3, 0.5]] * 4, dtype="float32"))
    prediction._keras_mask = np.array([True, True, False, True])
    metric.update_state(np.array([0, 1, 2, 2]), prediction)
    expected = -(np.log(0.2) + np.log(0.3) + np.log(0.5)) / 3
    assert float(metric.result()) == pytest.approx(expected, rel=1e-6)


def test_sparse_crossentropy_of_device_predictions_with_host_labels(gpu):
    prediction = gpu.asarray(np.array([[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]], dtype="float32"))
    values = losses.sparse_categorical_crossentropy(np.array([2, 0]), prediction)
    np.testing.assert_allclose(values.numpy(), -np.log([0.5, 0.6]), rtol=1e-6)
