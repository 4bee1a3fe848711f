"""Constructor arguments of the issue-17 loss classes (gpuk/losses/more.py): positional
arguments in Keras's order, the ``q`` range check, unknown arguments (issue 18). The configs
below are what Keras 3.15 returns for the same calls."""

import numpy as np
import pytest

from gpuk import losses


def test_positional_arguments_follow_keras_order():
    assert losses.Tversky(0.3, 0.7).get_config() == {
        "name": "tversky",
        "reduction": "sum_over_batch_size",
        "alpha": 0.3,
        "beta": 0.7,
        "axis": None,
    }
    assert losses.CategoricalGeneralizedCrossEntropy(0.2).get_config() == {
        "name": "categorical_generalized_cross_entropy",
        "reduction": "sum_over_batch_size",
        "q": 0.2,
    }
    assert losses.Circle(10.0, 0.3).get_config() == {
        "name": "circle",
        "reduction": "sum_over_batch_size",
        "gamma": 10.0,
        "margin": 0.3,
        "remove_diagonal": True,
    }
    bfc = losses.BinaryFocalCrossentropy(True, 0.3)
    assert (bfc.apply_class_balancing, bfc.alpha, bfc.gamma) == (True, 0.3, 2.0)
    # The positional values reach the function: alpha = 0.3 weighs the positives.
    y_true, y_pred = np.array([[1.0, 0.0]]), np.array([[0.6, 0.2]], "float32")
    expected = losses.binary_focal_crossentropy(
        y_true, y_pred, apply_class_balancing=True, alpha=0.3
    )
    assert float(bfc(y_true, y_pred)) == pytest.approx(float(expected.numpy()[0]))


@pytest.mark.parametrize("q", [0.0, 1.0, 1.5, -0.2])
def test_generalized_crossentropy_q_must_be_in_the_open_interval(q):
    with pytest.raises(ValueError, match=r"q must be in the interval \(0, 1\)"):
        losses.CategoricalGeneralizedCrossEntropy(q=q)


def test_unknown_or_too_many_arguments_are_type_errors():
    with pytest.raises(TypeError, match=r"Tversky: unexpected arguments \['gamma'\]"):
        losses.Tversky(gamma=2.0)
    with pytest.raises(TypeError, match="Dice: unexpected arguments"):
        losses.Dice(None, 1)
    with pytest.raises(TypeError, match="CTC: unexpected arguments"):
        losses.CTC(1)


def test_ctc_rejects_wrong_ranks():
    with pytest.raises(ValueError, match=r"`y_true`.*\(batch_size, max_length\).*\(2,\)"):
        losses.ctc(np.zeros(2), np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match=r"`y_pred`.*num_classes.*\(2, 3\)"):
        losses.ctc(np.zeros((2, 3)), np.zeros((2, 3)))


def _embeddings():
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(6, 4))
    return (emb / np.linalg.norm(emb, axis=1, keepdims=True)).astype("float32")


def test_circle_accepts_python_lists_like_arrays():
    labels = [0, 1, 0, 2, 1, 0]
    emb = _embeddings()
    expected = losses.circle(np.array(labels), emb).numpy()
    got = losses.circle(labels, emb.tolist())
    assert got.dtype == np.float32
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-6)


def test_circle_without_positive_pairs_raises_no_floating_point_warnings():
    # Label 2 has no partner: its row has no positive pair. A finite stand-in for -inf keeps
    # the loss and its gradient free of overflow and inf - inf.
    import warnings

    from tests.gradcheck import tape_gradients

    labels = np.array([0, 1, 0, 2, 1, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = losses.Circle()(labels, _embeddings())
        grads = tape_gradients(lambda e: losses.Circle()(labels, e), [_embeddings()], np)
    assert np.isfinite(float(value)) and np.isfinite(grads[0]).all()
