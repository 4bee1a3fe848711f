"""What Layer caches for its calls is refreshed when the layer changes: the list of nested
layers (``_flatten_layers``, behind ``metrics``/``losses``) and the compute dtype."""

import numpy as np

import gpuk
from gpuk import layers
from gpuk.models import Sequential


class _Holder(layers.Layer):
    def call(self, x):
        return x


def test_nested_layers_added_later_are_seen():
    outer = _Holder()
    outer.first = layers.Dense(2)
    assert [la.name for la in outer._flatten_layers()][1:] == [outer.first.name]
    outer.second = _Holder()
    outer.second.inner = layers.Dense(3)
    names = [la.name for la in outer._flatten_layers(include_self=False)]
    assert names == [outer.first.name, outer.second.name, outer.second.inner.name]
    outer.second.inner.add_loss(gpuk.Tensor(np.float32(2.0)))
    assert len(outer.losses) == 1


def test_sequential_add_after_a_call_reaches_metrics_and_losses():
    model = Sequential([layers.Input((4,)), layers.Dense(2)])
    model(np.ones((1, 4), "float32"))
    assert len(model._flatten_layers()) == 3
    model.add(layers.Dense(1, activity_regularizer="l2"))
    model(np.ones((1, 4), "float32"))
    assert len(model._flatten_layers()) == 4
    assert len(model.losses) == 1


def test_compute_dtype_follows_the_policy():
    dense = layers.Dense(2)
    assert dense.compute_dtype == "float32"
    dense.dtype_policy = "mixed_float16"
    assert dense.compute_dtype == "float16"
    out = dense(np.ones((1, 3), "float32"))
    assert out.dtype == "float16"
    dense.dtype_policy = "float32"
    assert dense.compute_dtype == "float32"
