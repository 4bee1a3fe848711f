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


def test_sparse_accuracy_of_a_single_sample_keeps_its_batch_axis():
    # Keras squeezes a trailing length-1 axis only from a result of rank 2 or more.
    got = metrics.sparse_categorical_accuracy(np.array([2]), np.array([[0.1, 0.2, 0.7]]))
    assert got.shape == (1,) and float(got.numpy()[0]) == 1.0
    got = metrics.sparse_categorical_accuracy(np.array([[2]]), np.array([[0.1, 0.2, 0.7]]))
    assert got.shape == (1,)


def test_sparse_top_k_accepts_float_labels():
    # Keras casts the labels to int32 first.
    expected = metrics.sparse_top_k_categorical_accuracy(LABELS, SCORES, k=2).numpy()
    got = metrics.sparse_top_k_categorical_accuracy(LABELS.astype("float32"), SCORES, k=2)
    np.testing.assert_array_equal(got.numpy(), expected)


def test_exact_accuracy_aligns_ranks_like_keras():
    # keras.metrics.accuracy: (4,) labels against (4, 1) predictions give (4, 1).
    got = metrics.accuracy(np.array([1.0, 2.0, 3.0, 4.0]), np.array([[1.0], [0.0], [3.0], [4.5]]))
    assert got.shape == (4, 1)
    np.testing.assert_array_equal(got.numpy()[:, 0], [1, 0, 1, 0])


def test_sparse_accuracy_keeps_unit_axes_of_labels_with_a_lower_rank():
    # Keras: labels (2, 1) against scores (2, 1, 3) are not squeezed; the (2, 1) result is.
    scores = np.array([[[0.1, 0.7, 0.2]], [[0.5, 0.3, 0.2]]], "float32")
    got = metrics.sparse_categorical_accuracy(np.array([[1], [2]]), scores)
    assert got.shape == (2,)
    np.testing.assert_array_equal(got.numpy(), [1.0, 0.0])


def test_top_k_defaults_to_five_and_accepts_lists():
    # Seven classes; the label's score ranks sixth: outside Keras's default k=5.
    scores = [[0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1], [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]]
    onehot = np.eye(7)[[5, 2]].tolist()
    np.testing.assert_array_equal(
        metrics.top_k_categorical_accuracy(onehot, scores).numpy(), [0, 1]
    )
    np.testing.assert_array_equal(
        metrics.sparse_top_k_categorical_accuracy([5, 2], scores).numpy(), [0, 1]
    )
