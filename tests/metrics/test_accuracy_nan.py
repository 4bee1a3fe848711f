"""Accuracy functions on NaN scores: the values Keras 3.15 (JAX backend) returns for the same
inputs (issue 18). A NaN at the label never counts as in the top k; argmax treats NaN as the
largest score."""

import numpy as np

from gpuk import metrics

SCORES = np.array(
    [[np.nan, 0.2, 0.7], [0.1, np.nan, 0.3], [0.5, 0.5, np.nan], [0.2, 0.3, 0.5]], "float32"
)
LABELS = np.array([0, 2, 2, 1])
ONEHOT = np.eye(3, dtype="float32")[LABELS]


def test_top_k_with_nan_scores_matches_keras():
    got = metrics.sparse_top_k_categorical_accuracy(LABELS, SCORES, k=1)
    np.testing.assert_array_equal(got.numpy(), [0, 1, 0, 0])
    got = metrics.sparse_top_k_categorical_accuracy(LABELS, SCORES, k=2)
    np.testing.assert_array_equal(got.numpy(), [0, 1, 0, 1])
    got = metrics.top_k_categorical_accuracy(ONEHOT, SCORES, k=2)
    np.testing.assert_array_equal(got.numpy(), [0, 1, 0, 1])


def test_argmax_accuracy_with_nan_scores_matches_keras():
    np.testing.assert_array_equal(
        metrics.sparse_categorical_accuracy(LABELS, SCORES).numpy(), [1, 0, 1, 0]
    )
    np.testing.assert_array_equal(
        metrics.categorical_accuracy(ONEHOT, SCORES).numpy(), [1, 0, 1, 0]
    )
