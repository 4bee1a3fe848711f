"""The cached walks of a layer tree (gpuk/layers/layer_tracking.py) follow every change.

``trainable_weights``, ``losses`` and ``metrics`` are asked for on every training step; they
are cached per structure version. These tests change the structure in each way a layer can
(lazily created weights, sub-layers and metrics, add_loss per call, Sequential add/pop,
freezing) and check that the caches see it, and that a run with the caches forced cold gives
bit-identical results.
"""

import copy

import numpy as np
import pytest

import gpuk as keras
from gpuk.layers import layer_tracking


def _data(seed=0, n=32):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 4)).astype("float32"), (np.arange(n) % 3)


class LazyBias(keras.layers.Layer):
    """Creates a second weight in the first call after ``grow`` is set (after training)."""

    grow = False

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], 3), name="kernel")

    def call(self, x):
        if self.grow and not hasattr(self, "extra"):
            self.extra = self.add_weight(shape=(3,), initializer="zeros", name="extra")
        y = keras.ops.matmul(x, self.kernel)
        return y + self.extra if hasattr(self, "extra") else y


def test_a_weight_created_lazily_after_the_first_step_is_trained():
    layer = LazyBias()
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Activation("softmax")(layer(inputs)))
    model.compile("sgd", "sparse_categorical_crossentropy")
    x, y = _data()
    model.train_on_batch(x, y)
    assert [v.name for v in model.trainable_weights] == ["kernel"]
    layer.grow = True
    # The step that creates `extra` takes its gradient; the built optimizer refuses a new
    # variable, as Keras 3's does, which shows that the step saw it.
    with pytest.raises(ValueError, match="Unknown variable: 'lazy_bias/extra'"):
        model.train_on_batch(x, y)
    assert [v.name for v in model.trainable_weights] == ["kernel", "extra"]
    model.compile("sgd", "sparse_categorical_crossentropy")
    before = layer.extra.numpy().copy()
    model.train_on_batch(x, y)
    assert not np.array_equal(layer.extra.numpy(), before)
    assert len(model.weights) == 2


class AttrVariable(keras.layers.Layer):
    def call(self, x):
        if not hasattr(self, "scale"):
            self.scale = keras.Variable(np.ones((4,), "float32"), name="scale")
        return x * self.scale


def test_a_variable_assigned_as_attribute_during_a_call_is_tracked():
    inputs = keras.Input((4,))
    layer = AttrVariable()
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(layer(inputs)))
    model.compile("sgd", "sparse_categorical_crossentropy")
    x, y = _data()
    model.train_on_batch(x, y)
    assert any(v is layer.scale for v in model.trainable_weights)
    model.train_on_batch(x, y)
    assert not np.array_equal(layer.scale.numpy(), np.ones(4, "float32"))


class ActivityLoss(keras.layers.Layer):
    def call(self, x):
        self.add_loss(keras.ops.mean(keras.ops.square(x)))
        return x


def test_add_loss_values_change_per_call_and_enter_the_loss():
    inputs = keras.Input((4,))
    hidden = ActivityLoss()(keras.layers.Dense(4)(inputs))
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(hidden))
    model.compile("sgd", "sparse_categorical_crossentropy")
    x1, y = _data(1)
    x2, _ = _data(2)
    model(x1)
    first = [float(v) for v in model.losses]
    model(x2)
    second = [float(v) for v in model.losses]
    assert len(first) == len(second) == 1
    assert first != second
    model(x2)
    assert [float(v) for v in model.losses] == second  # cleared per call, not accumulated
    compiled = keras.losses.SparseCategoricalCrossentropy()
    expected = float(compiled(y, model(x1))) + float(model.losses[0])
    assert model.test_on_batch(x1, y) == pytest.approx(expected, rel=1e-6)


def test_regularizer_losses_follow_the_current_weights():
    model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(3, kernel_regularizer=keras.regularizers.L2(0.1))]
    )
    model.compile("sgd", "mse")
    x, _ = _data()
    first = float(model.losses[0])
    model.train_on_batch(x, np.ones((32, 3), "float32"))
    assert float(model.losses[0]) != first
    kernel = model.layers[0].kernel.numpy()
    assert float(model.losses[0]) == pytest.approx(0.1 * float(np.sum(kernel**2)), rel=1e-5)


class Tracked(keras.Model):
    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(3, activation="softmax")

    def call(self, x):
        if hasattr(self, "late"):
            x = self.late(x)
        return self.dense(x)


def test_metrics_and_sublayers_added_after_compile_appear():
    model = Tracked()
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    x, y = _data()
    logs = model.train_on_batch(x, y, return_dict=True)
    assert sorted(logs) == ["accuracy", "loss"]
    model.extra = keras.metrics.Mean(name="extra")
    assert any(m is model.extra for m in model.metrics)
    model.extra.update_state(np.float32(5.0))
    logs = model.train_on_batch(x, y, return_dict=True, reset_metrics=False)
    assert logs["extra"] == 5.0
    logs = model.train_on_batch(x, y, return_dict=True)  # reset_metrics=True resets it too
    assert logs["extra"] == 0.0
    assert "extra" in model.metrics_names
    n = len(model.trainable_weights)
    model.late = keras.layers.Dense(4)
    model.compile("sgd", "sparse_categorical_crossentropy")
    model.train_on_batch(x, y)
    assert len(model.trainable_weights) == n + 2
    assert any(v is model.late.kernel for v in model.trainable_weights)


def test_weights_built_by_the_first_step_are_trained():
    model = Tracked()
    model.compile("sgd", "sparse_categorical_crossentropy")
    assert model.trainable_weights == []  # asked before the layers exist
    x, y = _data()
    model.train_on_batch(x, y)
    assert len(model.trainable_weights) == 2
    before = [v.numpy().copy() for v in model.trainable_weights]
    model.train_on_batch(x, y)
    assert all(not np.array_equal(v.numpy(), b) for v, b in zip(model.trainable_weights, before))


class MetricInCall(keras.layers.Layer):
    def call(self, x):
        if not hasattr(self, "seen"):
            self.seen = keras.metrics.Sum(name="seen")
        self.seen.update_state(keras.ops.cast(keras.ops.shape(x)[0], "float32"))
        return x


def test_a_metric_created_by_a_layer_in_call_is_reported():
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(MetricInCall()(inputs)))
    model.compile("sgd", "sparse_categorical_crossentropy")
    x, y = _data()
    logs = model.train_on_batch(x, y, return_dict=True)
    assert logs["seen"] == 32.0
    logs = model.train_on_batch(x, y, return_dict=True, reset_metrics=False)
    assert logs["seen"] == 64.0


def test_sequential_add_and_pop_after_use_change_the_weights():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(5)])
    assert len(model.weights) == 2
    model.add(keras.layers.Dense(2))
    assert len(model.weights) == 4
    model.pop()
    model(np.zeros((1, 4), "float32"))
    assert len(model.weights) == 2
    unbuilt = keras.Sequential()
    unbuilt.add(keras.layers.Dense(2, input_shape=(3,)))
    assert len(unbuilt.weights) == 2
    unbuilt.add(keras.layers.Dense(2))
    assert len(unbuilt.weights) == 4


def test_freezing_a_layer_after_a_step_removes_its_weights_from_training():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(5), keras.layers.Dense(3)])
    model.compile("sgd", "mse")
    x, _ = _data()
    y = np.ones((32, 3), "float32")
    model.train_on_batch(x, y)
    assert len(model.trainable_weights) == 4
    model.layers[0].trainable = False
    assert len(model.trainable_weights) == 2
    assert len(model.non_trainable_weights) == 2
    model.compile("sgd", "mse")
    frozen = model.layers[0].kernel.numpy().copy()
    model.train_on_batch(x, y)
    np.testing.assert_array_equal(model.layers[0].kernel.numpy(), frozen)
    model.layers[0].layers  # noqa: B018  (the list property still works)
    model.layers[0].trainable = True
    assert len(model.trainable_weights) == 4


def test_returned_lists_are_copies():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(5)])
    weights = model.weights
    weights.clear()
    model.trainable_weights.clear()
    model._flatten_layers().clear()
    assert len(model.weights) == 2
    assert len(model._flatten_layers()) == 3


def test_copies_of_a_layer_walk_themselves():
    layer = keras.layers.Dense(2)
    layer.build((None, 3))
    assert layer._flatten_layers()[0] is layer
    shallow = copy.copy(layer)
    assert shallow._flatten_layers()[0] is shallow
    deep = copy.deepcopy(layer)
    assert deep._flatten_layers()[0] is deep
    assert all(a is not b for a, b in zip(deep.weights, layer.weights))


class CustomWeights(keras.layers.Layer):
    """A layer whose weights property is computed its own way: never cached."""

    def __init__(self):
        super().__init__()
        self.pool = []

    @property
    def weights(self):
        return list(self.pool)


def test_a_layer_overriding_weights_is_not_frozen_by_the_cache():
    outer = keras.layers.Layer()
    outer.inner = CustomWeights()
    assert outer.weights == []
    outer.inner.pool.append(keras.Variable(np.zeros(2, "float32")))
    assert len(outer.weights) == 1


def _train(cold, metrics):
    keras.utils.set_random_seed(3)
    inputs = keras.Input((4,))
    hidden = ActivityLoss()(keras.layers.Dense(8, activation="relu")(inputs))
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(hidden))
    model.compile("adam", "sparse_categorical_crossentropy", metrics=metrics)
    out = []
    for step in range(4):
        if cold:
            layer_tracking.structure_changed()
        x, y = _data(step)
        out.append(model.train_on_batch(x, y, reset_metrics=step % 2 == 0))
        out.append(model.test_on_batch(x, y))
        out.append(model.predict_on_batch(x).tolist())
    return out, [w.numpy().tolist() for w in model.weights]


@pytest.mark.parametrize("metrics", [None, ["accuracy"]])
def test_cached_and_cold_walks_give_identical_results(metrics):
    assert _train(True, metrics) == _train(False, metrics)


def test_a_fresh_sequential_lists_its_weights_before_any_call():
    # Sequential's own `weights` builds its graph; trainable/non_trainable go through it.
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="dense")])
    assert [v.path for v in model.trainable_variables] == ["dense/kernel", "dense/bias"]
    fresh = keras.Sequential([keras.Input((3,)), keras.layers.BatchNormalization()])
    assert len(fresh.non_trainable_weights) == 2
