"""The ``Loss`` base class and its helpers (gpuk/losses/loss.py): reduction names, dtype rules,
rank alignment of labels and sample weights, masks, config and errors (issue 18)."""

import numpy as np
import pytest

import gpuk
from gpuk import losses, ops
from gpuk.autograd import Tensor
from gpuk.losses import loss as L

Y_TRUE = np.array([[0.0, 1.0, 2.0], [1.0, 1.0, 0.5]], "float32")
Y_PRED = np.array([[0.5, 1.0, 1.0], [0.0, 2.0, 0.5]], "float32")
# mean((y_true - y_pred)**2, axis=-1)
MSE_ROWS = np.array([(0.25 + 0 + 1) / 3, (1 + 1 + 0) / 3])


def test_tf_keras_reduction_names():
    assert L.Reduction.all() == ("auto", "none", "sum", "sum_over_batch_size")
    assert (L.Reduction.NONE, L.Reduction.SUM) == ("none", "sum")
    L.Reduction.validate("auto")
    L.Reduction.validate(L.Reduction.SUM_OVER_BATCH_SIZE)
    with pytest.raises(ValueError, match="reduction"):
        L.Reduction.validate("average")


def test_auto_reduction_is_sum_over_batch_size_and_bad_names_are_rejected():
    assert L.standardize_reduction("auto") == "sum_over_batch_size"
    assert losses.MeanSquaredError(reduction="auto").reduction == "sum_over_batch_size"
    for good in ("sum", "none", None, "mean", "mean_with_sample_weight"):
        assert L.standardize_reduction(good) == good
    with pytest.raises(ValueError, match=r"Expected one of .*'sum'.*Received: reduction='avg'"):
        losses.MeanSquaredError(reduction="avg")


def test_integer_predictions_compute_in_floatx():
    y_true = np.array([[1, 2], [3, 4]], "int32")
    y_pred = np.array([[2, 4], [3, 3]], "int64")
    value = losses.MeanSquaredError()(y_true, y_pred)
    assert value.dtype == np.float32
    assert float(value) == pytest.approx((1 + 4 + 0 + 1) / 4)
    values = losses.reduce_weighted_values(np.array([1, 2, 3]), reduction="none")
    assert values.dtype == np.float32


def test_float16_predictions_compute_in_floatx_and_explicit_dtype_wins():
    y_pred = Y_PRED.astype("float16")
    assert losses.MeanSquaredError()(Y_TRUE, y_pred).dtype == np.float32
    loss = losses.MeanSquaredError(dtype="float64")
    value = loss(Y_TRUE, Y_PRED)
    assert value.dtype == np.float64
    assert float(value) == pytest.approx(MSE_ROWS.mean())
    config = loss.get_config()
    assert config["dtype"] == "float64"
    assert losses.MeanSquaredError.from_config(config).dtype == "float64"
    assert "dtype" not in losses.MeanSquaredError().get_config()


def test_labels_follow_the_prediction_dtype_in_a_custom_loss():
    class Diff(gpuk.losses.Loss):
        def call(self, y_true, y_pred):
            return ops.mean(ops.square(y_true - y_pred), axis=-1)

    value = Diff()(Y_TRUE.astype("float64"), Y_PRED)
    assert value.dtype == np.float32
    assert float(value) == pytest.approx(MSE_ROWS.mean())
    labels = np.array([[0, 1, 2], [1, 1, 0]], "int64")
    value = Diff()(labels, Y_PRED)
    assert value.dtype == np.float32
    assert float(value) == pytest.approx(((labels - Y_PRED) ** 2).mean())
    assert Diff().name == "diff"
    assert Diff(name="d", reduction="sum").get_config() == {"name": "d", "reduction": "sum"}
    again = Diff.from_config({"name": "d", "reduction": "none"})
    np.testing.assert_allclose(again(Y_TRUE, Y_PRED).numpy(), MSE_ROWS, rtol=1e-6)
    assert repr(again) == "<Diff name='d' reduction='none'>"


def test_loss_without_call_raises():
    with pytest.raises(NotImplementedError, match="must implement call"):
        gpuk.losses.Loss()(Y_TRUE, Y_PRED)


@pytest.mark.parametrize("fn", [losses.mean_squared_error, losses.mean_absolute_error])
def test_trailing_length_one_axis_is_dropped_from_the_higher_rank_side(fn):
    # Keras 3's squeeze_or_expand_to_same_rank: (2, 3, 1) against (2, 3) -> (2, 3) both.
    a = Y_TRUE[..., None]
    expected = fn(Y_TRUE, Y_PRED).numpy()
    np.testing.assert_allclose(fn(a, Y_PRED).numpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(fn(Y_PRED, a).numpy(), expected, rtol=1e-6)
    x1, x2 = L.squeeze_or_expand_to_same_rank(Tensor(a), Tensor(Y_PRED))
    assert x1.shape == x2.shape == (2, 3)
    x1, x2 = L.squeeze_or_expand_to_same_rank(Tensor(Y_PRED), Tensor(a))
    assert x1.shape == x2.shape == (2, 3)
    # Rank 1 against (n, 1): the rank-1 side is expanded instead, unless told not to.
    x1, x2 = L.squeeze_or_expand_to_same_rank(Tensor(np.ones((4, 1))), Tensor(np.ones(4)))
    assert x1.shape == x2.shape == (4, 1)
    x1, x2 = L.squeeze_or_expand_to_same_rank(Tensor(np.ones(4)), Tensor(np.ones((4, 1))), False)
    assert x1.shape == x2.shape == (4,)


def test_lower_rank_sample_weight_gets_trailing_axes_as_in_tf_keras():
    values = np.arange(8, dtype="float32").reshape(2, 4)
    weight = np.array([0.5, 2.0], "float32")
    got = losses.reduce_weighted_values(values, weight, reduction="sum")
    assert float(got) == pytest.approx(float((values * weight[:, None]).sum()))
    got = losses.reduce_weighted_values(values, weight, reduction="none")
    np.testing.assert_allclose(got.numpy(), values * weight[:, None])


def test_higher_rank_sample_weight_loses_trailing_unit_axes():
    values = np.array([1.0, 2.0, 3.0], "float32")
    weight = np.array([2.0, 0.0, 1.0], "float32").reshape(3, 1, 1)
    got = losses.reduce_weighted_values(values, weight, reduction="none")
    np.testing.assert_allclose(got.numpy(), [2.0, 0.0, 3.0])


def test_sample_weight_that_cannot_broadcast_is_an_error_naming_the_loss():
    with pytest.raises(ValueError, match=r"my_loss: sample_weight of shape \(3,\) cannot be"):
        losses.MeanSquaredError(name="my_loss")(Y_TRUE, Y_PRED, sample_weight=np.ones(3))
    with pytest.raises(ValueError, match="cannot be broadcast"):
        losses.reduce_weighted_values(np.ones((2, 3)), np.ones((2, 3, 2)), reduction="sum")


def test_empty_batch_and_scalar_values_are_returned_unreduced():
    empty = losses.reduce_weighted_values(np.zeros((0,), "float32"))
    assert empty.shape == (0,)
    scalar = losses.reduce_weighted_values(np.float32(3.0), reduction="sum_over_batch_size")
    assert scalar.shape == () and float(scalar) == 3.0


def test_mean_with_sample_weight_of_zero_weights_is_zero():
    got = losses.reduce_weighted_values(
        np.ones(3, "float32"), np.zeros(3, "float32"), reduction="mean_with_sample_weight"
    )
    assert float(got) == 0.0
    got = losses.reduce_weighted_values(
        np.array([1.0, 3.0], "float32"), None, reduction="mean_with_sample_weight"
    )
    assert float(got) == 2.0


def test_masks_of_different_shapes_fall_back_to_the_loss_mask():
    a, b = np.array([True, False, True]), np.array([True, True])
    assert L._combine_masks(a, b) is b
    np.testing.assert_array_equal(L._combine_masks(Tensor(a), None), a)
    np.testing.assert_array_equal(L._combine_masks(None, Tensor(a)), a)
    np.testing.assert_array_equal(L._combine_masks(a, ~a), [False, False, False])


def test_function_wrapper_aligns_ranks_before_a_user_function():
    # As Keras's LossFunctionWrapper.call: (4,) labels against (4, 1) predictions.
    def squared(y_true, y_pred):
        return ops.mean(ops.square(y_true - y_pred), axis=-1)

    loss = losses.LossFunctionWrapper(squared, reduction="none")
    got = loss(np.array([1.0, 2.0, 3.0, 4.0]), np.array([[1.5], [2.0], [2.0], [5.0]], "float32"))
    np.testing.assert_allclose(got.numpy(), [0.25, 0.0, 1.0, 1.0])
    assert loss.name == "squared"
    assert repr(loss) == "<LossFunctionWrapper(squared, kwargs={})>"
    assert repr(losses.Huber(delta=2.0)) == "<Huber(huber, kwargs={'delta': 2.0})>"


def test_crossentropy_classes_expose_their_arguments_like_keras():
    bce = losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.1, axis=0)
    assert (bce.from_logits, bce.label_smoothing, bce.axis) == (True, 0.1, 0)
    cce = losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.2, axis=1)
    assert (cce.from_logits, cce.label_smoothing, cce.axis) == (True, 0.2, 1)
    scce = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=3)
    assert (scce.from_logits, scce.ignore_class) == (True, 3)


def test_shapes_that_cannot_broadcast_are_named_in_the_error():
    with pytest.raises(
        ValueError,
        match=r"mean_squared_error: y_true and y_pred have incompatible shapes \(cannot be "
        r"broadcast together\). Received: y_true.shape=\(4, 3\), y_pred.shape=\(4, 2\)",
    ):
        losses.mean_squared_error(np.ones((4, 3)), np.ones((4, 2)))
    with pytest.raises(ValueError, match=r"binary_crossentropy: .*they must be equal"):
        losses.binary_crossentropy(np.ones((4, 1)), np.full((4, 3), 0.5))


def test_categorical_crossentropy_rejects_a_boolean_axis():
    with pytest.raises(ValueError, match="axis must be an int, received axis=True"):
        losses.categorical_crossentropy(np.eye(3), np.full((3, 3), 1 / 3), axis=True)


def test_scalar_inputs_become_one_sample():
    got = losses.mean_squared_error(2.0, 3.5)
    assert got.shape == ()
    np.testing.assert_allclose(np.ravel(got.numpy()), [2.25])
    got = losses.mean_absolute_error(np.float32(1.0), np.float32(-1.0))
    np.testing.assert_allclose(np.ravel(got.numpy()), [2.0])


def test_reduce_weighted_values_standardizes_its_reduction():
    values = np.array([1.0, 2.0, 3.0, 6.0], "float32")
    mask = np.array([True, False, True, True])
    auto = losses.reduce_weighted_values(values, mask=mask, reduction="auto")
    mean = losses.reduce_weighted_values(values, mask=mask, reduction="sum_over_batch_size")
    assert float(auto) == pytest.approx(float(mean)) == pytest.approx(10.0 / 3.0)
    with pytest.raises(ValueError, match="Invalid value for argument `reduction`"):
        losses.reduce_weighted_values(values, reduction="bogus")
