"""The ``Metric`` base, ``Mean``/``Sum`` rank rules and ``MeanMetricWrapper`` (gpuk/metrics/
base.py): state variables, initializers, spellings Keras 3 and tf.keras accept, masks with
sample weights, config round trips and errors (issue 18)."""

import numpy as np
import pytest

import gpuk
from gpuk import metrics
from gpuk.autograd import Tensor
from gpuk.metrics import base


class Counter(gpuk.metrics.Metric):
    def __init__(self, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.zeros = self.add_variable((2,), "zeros", name="z")
        self.ones = self.add_variable(3, "Ones")
        self.full = self.add_variable((), 2.5, name="full")
        self.called = self.add_variable((2,), lambda shape, dtype: np.arange(2), dtype="int32")
        self.legacy = self.add_weight("legacy", shape=(1,), initializer="ones")  # tf.keras
        self.keras3 = self.add_weight(shape=(2,), initializer="zeros", name="k3")  # Keras 3
        self.positional = self.add_variable("named_by_string")

    def update_state(self, values):
        self.full.assign(self.full.data + np.float32(values))

    def result(self):
        return Tensor(self.full.data.copy())


def test_add_variable_initializers_names_and_paths():
    m = Counter(name="c")
    assert [v.name for v in m.variables] == [
        "z",
        "variable_1",
        "full",
        "variable_3",
        "legacy",
        "k3",
        "named_by_string",
    ]
    assert [tuple(v.shape) for v in m.variables] == [(2,), (3,), (), (2,), (1,), (2,), ()]
    np.testing.assert_array_equal(m.ones.numpy(), [1, 1, 1])
    assert float(m.full.numpy()) == 2.5
    assert m.called.numpy().tolist() == [0, 1] and m.called.numpy().dtype == np.int32
    assert m.legacy.numpy().tolist() == [1.0] and m.zeros.numpy().dtype == np.float32
    assert m.zeros.path == "c/z" and m.zeros.aggregation == "sum"
    assert m.weights == m.variables == m.non_trainable_weights
    assert m.trainable_weights == []
    assert not any(v.trainable for v in m.variables)
    assert repr(m) == "<Counter name=c>"
    assert Counter().name == "counter" and Counter(dtype="float64").dtype == "float64"


def test_call_updates_then_returns_the_result_and_reset_zeroes_every_variable():
    m = Counter()
    assert float(m(1.5)) == 4.0
    m.reset_states()
    assert all(not np.any(v.numpy()) for v in m.variables)


def test_unsupported_initializer_is_an_error():
    class Bad(gpuk.metrics.Metric):
        def __init__(self):
            super().__init__()
            self.add_variable((), "glorot_uniform")

    with pytest.raises(ValueError, match="unsupported initializer 'glorot_uniform'"):
        Bad()


def test_base_metric_update_and_result_are_abstract():
    m = gpuk.metrics.Metric(name="m")
    with pytest.raises(NotImplementedError, match="Metric must implement update_state"):
        m.update_state(1)
    with pytest.raises(NotImplementedError, match="Metric must implement result"):
        m.result()
    assert m.get_config() == {"name": "m", "dtype": "float32"}


def test_mean_aligns_trailing_unit_axes_like_keras():
    values = np.arange(8, dtype="float32").reshape(2, 4)
    weight = np.array([[1.0, 0.0, 2.0, 1.0], [0.5, 0.5, 0.0, 1.0]], "float32")
    expected = (values * weight).sum() / weight.sum()
    for v, w in ((values[..., None], weight), (values, weight[..., None])):
        m = metrics.Mean()
        m.update_state(v, sample_weight=w)
        assert float(m.result()) == pytest.approx(expected)
        s = metrics.Sum()
        s.update_state(v, sample_weight=w)
        assert float(s.result()) == pytest.approx((values * weight).sum())


def test_mean_rejects_weights_that_cannot_broadcast():
    with pytest.raises(ValueError, match=r"sample_weight of shape \(3,\) cannot be broadcast"):
        metrics.Mean().update_state(np.ones(4), sample_weight=np.ones(3))


def test_mean_of_scalars_weighted_by_numbers_and_zero_count_result():
    m = metrics.Mean()
    assert float(m.result()) == 0.0
    m.update_state(2.0)
    m.update_state(5.0, sample_weight=2)
    assert float(m.result()) == pytest.approx(12.0 / 3.0)
    m.update_state(np.array([1.0, 3.0]), sample_weight=0)
    assert float(m.result()) == pytest.approx(12.0 / 3.0)
    m.update_state(np.array([1.0, 3.0]))
    assert float(m.result()) == pytest.approx(16.0 / 5.0)


def test_masked_elementwise_metric_with_per_sample_weights():
    y_true = np.array([[1, 0, 1], [0, 0, 1]], "float32")
    y_pred = Tensor(np.array([[0.9, 0.8, 0.2], [0.1, 0.3, 0.7]], "float32"))
    y_pred._keras_mask = np.array([[True, True, False], [True, False, True]])
    weight = np.array([2.0, 1.0], "float32")
    m = metrics.BinaryAccuracy()
    m.update_state(y_true, y_pred, sample_weight=weight)
    correct = np.array([[1, 0, 0], [1, 1, 1]], "float32")
    w = weight[:, None] * y_pred._keras_mask
    assert float(m.result()) == pytest.approx((correct * w).sum() / w.sum())


def test_mean_metric_wrapper_config_names_the_function_and_rebuilds_it():
    m = metrics.MeanMetricWrapper(gpuk.losses.mean_absolute_error, name="mae_w")
    config = m.get_config()
    assert config == {"name": "mae_w", "dtype": "float32", "fn": "mean_absolute_error"}
    again = metrics.MeanMetricWrapper.from_config(config)
    again.update_state(np.array([[1.0, 2.0]]), np.array([[2.0, 4.0]]))
    assert float(again.result()) == pytest.approx(1.5)
    # A name that resolves to a Metric class (class beats function): its function is used.
    acc = metrics.MeanMetricWrapper.from_config(
        {"fn": "binary_accuracy", "name": "b", "dtype": "float32", "threshold": 0.7}
    )
    acc.update_state(np.array([1.0, 1.0, 0.0]), np.array([0.8, 0.6, 0.1]))
    assert float(acc.result()) == pytest.approx(2 / 3)
    assert acc.get_config()["threshold"] == 0.7
    sub = metrics.BinaryAccuracy(threshold=0.2)
    assert "fn" not in sub.get_config()


def test_squeeze_or_expand_on_arrays():
    a, b = base.squeeze_or_expand(np.ones((3, 1)), np.ones(3))
    assert a.shape == b.shape == (3, 1)
    a, b = base.squeeze_or_expand(np.ones((2, 3, 1)), np.ones((2, 3)))
    assert a.shape == b.shape == (2, 3)
    a, b = base.squeeze_or_expand(np.ones(3), np.ones((3, 1)), expand_rank_1=False)
    assert a.shape == b.shape == (3,)
    a, b = base.squeeze_or_expand(np.ones((2, 3)), np.ones((2, 3, 1)))
    assert a.shape == b.shape == (2, 3)


def test_mask_carried_by_values_joins_sample_weights_only():
    # Keras 3.15 (JAX): Mean 2.6, Sum 6.5 with the weights; the mask is ignored without them.
    values = Tensor(np.array([[1.0], [2.0], [3.0], [4.0], [5.0]], "float32"))
    values._keras_mask = np.array([[True], [False], [True], [True], [False]])
    weight = np.array([0.5, 1.0, 2.0, 0.0, 1.5], "float32")
    m = metrics.Mean()
    m.update_state(values, sample_weight=weight)
    assert float(m.result()) == pytest.approx(2.6)
    s = metrics.Sum()
    s.update_state(values, sample_weight=weight)
    assert float(s.result()) == pytest.approx(6.5)
    m = metrics.Mean()
    m.update_state(values)
    assert float(m.result()) == pytest.approx(3.0)


def test_callable_initializers_receive_a_shape_tuple():
    seen = []

    class Shaped(gpuk.metrics.Metric):
        def __init__(self):
            super().__init__()
            self.a = self.add_variable(3, lambda shape, dtype: seen.append(shape) or np.zeros(3))
            self.b = self.add_variable(None, "zeros")

    m = Shaped()
    assert seen == [(3,)] and m.b.shape == ()
