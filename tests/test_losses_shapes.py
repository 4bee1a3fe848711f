"""Loss shape handling Keras 3 has: (N, 1) sparse labels, rank alignment, shape checks.

Expected values: tests/fixtures/keras/mutation/values.json (tools/make_keras_fixtures_mutation.py).
"""

import json
import os

import numpy as np
import pytest

import gpuk

REF = json.load(
    open(os.path.join(os.path.dirname(__file__), "fixtures", "keras", "mutation", "values.json"))
)["losses"]

PROBS = np.array([[0.1, 0.7, 0.2], [0.5, 0.25, 0.25], [0.05, 0.05, 0.9], [0.3, 0.3, 0.4]])
LOGITS = np.array([[1.0, -2.0, 0.5], [0.2, 0.1, 3.0], [-1.0, 2.0, 0.0], [0.0, 0.0, 0.0]])
LABELS = np.array([[1], [0], [2], [1]], dtype="int32")
YT = np.array([0.5, -1.0, 2.0, 0.0])
YP = np.array([[0.25], [1.0], [1.5], [-0.5]])


def _np(x):
    return np.asarray(gpuk.ops.convert_to_numpy(x), dtype="float64")


def test_sparse_crossentropy_with_n_by_1_integer_labels():
    f = gpuk.losses.sparse_categorical_crossentropy
    np.testing.assert_allclose(_np(f(LABELS, PROBS)), REF["sce_n1_probs"], rtol=1e-5)
    np.testing.assert_allclose(
        _np(f(LABELS, LOGITS, from_logits=True)), REF["sce_n1_logits"], rtol=1e-5
    )
    loss = gpuk.losses.SparseCategoricalCrossentropy()(LABELS, PROBS)
    np.testing.assert_allclose(float(_np(loss)), REF["sce_n1_mean"], rtol=1e-5)
    # The (N, 1) and (N,) spellings give the same per-sample values.
    np.testing.assert_allclose(_np(f(LABELS, PROBS)), _np(f(LABELS[:, 0], PROBS)), rtol=1e-6)


@pytest.mark.parametrize("name", ["mean_absolute_error", "log_cosh", "mean_squared_error"])
def test_rank_alignment_between_n_and_n_by_1(name):
    fn = getattr(gpuk.losses, name)
    np.testing.assert_allclose(_np(fn(YT, YP)), REF[f"{name}_rank_true1"], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(_np(fn(YP, YT)), REF[f"{name}_rank_pred1"], rtol=1e-5, atol=1e-7)
    assert _np(fn(YT, YP)).shape == (4,)


@pytest.mark.parametrize("cls", ["MeanAbsoluteError", "LogCosh"])
def test_rank_alignment_in_loss_classes(cls):
    value = getattr(gpuk.losses, cls)()(YT, YP)
    np.testing.assert_allclose(float(_np(value)), REF[f"{cls}_rank"], rtol=1e-5)


def test_binary_crossentropy_rejects_mismatched_shapes():
    assert REF["bce_shape_raises"]
    with pytest.raises(ValueError, match="shape"):
        gpuk.losses.binary_crossentropy(np.ones((4, 1)), np.full((4, 3), 0.5))
    with pytest.raises(ValueError, match="shape"):
        gpuk.losses.BinaryCrossentropy()(np.ones((4, 1)), np.full((4, 3), 0.5))


def test_categorical_crossentropy_rejects_a_bool_axis():
    with pytest.raises(ValueError, match="axis"):
        gpuk.losses.categorical_crossentropy(np.eye(3), np.full((3, 3), 1 / 3), axis=True)


def test_sparse_crossentropy_ignore_class_with_n_by_1_labels():
    f = gpuk.losses.sparse_categorical_crossentropy
    np.testing.assert_allclose(
        _np(f(LABELS, PROBS, ignore_class=1)), REF["sce_ignore1"], rtol=1e-5, atol=1e-7
    )
    loss = gpuk.losses.SparseCategoricalCrossentropy(ignore_class=1)(LABELS, PROBS)
    np.testing.assert_allclose(float(_np(loss)), REF["sce_ignore1_mean"], rtol=1e-5)


def test_sparse_crossentropy_rejects_labels_of_the_wrong_shape():
    assert REF["sce_shape_raises"]
    with pytest.raises(ValueError, match="shape"):
        gpuk.losses.sparse_categorical_crossentropy(np.array([1, 0, 2]), PROBS)
