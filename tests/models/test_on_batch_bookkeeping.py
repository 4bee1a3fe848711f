"""The bookkeeping around ``train_on_batch``/``predict_on_batch`` (issue 14).

Keras 3's semantics are kept (``reset_metrics=True`` resets every metric each call; the return
value is the loss, ``[loss, metrics...]`` or a dict), while the per-call work is small: under
the CuPy stand-in, a steady ``train_on_batch`` with several metrics copies its results to the
host once, not once per value.
"""

import numpy as np
import pytest

import gpuk
from tests import cupy_standin


def _mlp(metrics):
    gpuk.utils.set_random_seed(0)
    inputs = gpuk.Input((16,))
    hidden = gpuk.layers.Dense(64, activation="relu")(inputs)
    hidden = gpuk.layers.Dense(64, activation="relu")(hidden)
    model = gpuk.Model(inputs, gpuk.layers.Dense(10, activation="softmax")(hidden))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=metrics)
    return model


def _batch(seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((128, 16)).astype("float32"), np.arange(128) % 10


def test_train_on_batch_resets_metrics_and_returns_keras_values():
    model = _mlp(["accuracy"])
    x, y = _batch()
    loss, acc = model.train_on_batch(x, y)
    assert isinstance(loss, float) and isinstance(acc, float)
    logs = model.test_on_batch(x, y, return_dict=True)
    assert sorted(logs) == ["accuracy", "loss"]
    # reset_metrics=True: the value of one batch; False: the running mean over batches.
    one = model.test_on_batch(x, y, return_dict=True)
    x2, y2 = _batch(1)
    other = model.test_on_batch(x2, y2, return_dict=True)
    running = model.test_on_batch(x, y, reset_metrics=False, return_dict=True)
    assert running["loss"] == pytest.approx((one["loss"] + other["loss"]) / 2, rel=1e-6)
    assert running["accuracy"] == pytest.approx((one["accuracy"] + other["accuracy"]) / 2)
    assert model.test_on_batch(x, y, return_dict=True) == one
    only_loss = _mlp(None)
    assert isinstance(only_loss.train_on_batch(x, y), float)


def test_metric_reset_keeps_dtype_and_shape_and_zeroes():
    metric = gpuk.metrics.Mean(dtype="float64")
    metric.update_state([1.0, 2.0])
    vector = gpuk.metrics.TruePositives(thresholds=[0.2, 0.7])
    vector.update_state([1, 0, 1], [0.9, 0.1, 0.5])
    for m in (metric, vector):
        before = [(v.dtype, v.shape) for v in m.variables]
        m.reset_state()
        assert [(v.dtype, v.shape) for v in m.variables] == before
        assert all(not np.any(v.numpy()) for v in m.variables)
    assert float(metric.result()) == 0.0
    metric.update_state(3.0)
    assert float(metric.result()) == 3.0


def test_mean_result_is_zero_before_updates_and_exact_after():
    metric = gpuk.metrics.Mean()
    assert float(metric.result()) == 0.0
    metric.update_state(np.float32(0.1))
    metric.update_state(np.float32(0.2), sample_weight=3)
    expected = (np.float32(0.1) + np.float32(0.2) * np.float32(3)) / np.float32(4)
    assert metric.result().numpy() == expected
    assert metric.result().dtype == np.float32
    weighted = gpuk.metrics.Mean()
    weighted.update_state([1.0, 5.0], sample_weight=[1.0, -1.0])  # weights sum to 0
    assert float(weighted.result()) == 0.0


@pytest.mark.standin
def test_train_on_batch_copies_all_results_to_the_host_once(gpu):
    model = _mlp(["accuracy", "sparse_categorical_crossentropy"])
    x, y = _batch()
    x, y = gpuk.ops.convert_to_tensor(x), gpuk.ops.convert_to_tensor(y)
    model.train_on_batch(x, y)
    model.train_on_batch(x, y)
    with cupy_standin.counting() as counts:
        values = model.train_on_batch(x, y)
    assert len(values) == 3 and all(isinstance(v, float) for v in values)
    assert counts.snapshot()["syncs"] == 1, counts.snapshot()


@pytest.mark.parametrize("recurrent", [False, True])
def test_a_step_frees_its_autograd_graph_without_the_garbage_collector(recurrent):
    # Reference cycles kept each step's graph (and a GRU's training workspace) alive until
    # the cyclic collector ran, so the next step could not reuse the memory.
    import gc

    from gpuk.autograd.function import Function, Node

    rng = np.random.default_rng(0)
    if recurrent:
        inputs = gpuk.Input((5, 3))
        outputs = gpuk.layers.Dense(2)(gpuk.layers.GRU(4)(inputs))
        x = rng.standard_normal((8, 5, 3)).astype("float32")
    else:
        inputs = gpuk.Input((3,))
        outputs = gpuk.layers.Dense(2)(gpuk.layers.Dense(4, activation="relu")(inputs))
        x = rng.standard_normal((8, 3)).astype("float32")
    model = gpuk.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="mse")
    y = rng.standard_normal((8, 2)).astype("float32")
    model.train_on_batch(x, y)
    gc.collect()
    gc.disable()
    try:
        model.train_on_batch(x, y)
        model.predict_on_batch(x)
        # type(), not isinstance(): isinstance reads __class__, which loads lazy modules
        alive = [o for o in gc.get_objects() if issubclass(type(o), (Function, Node))]
        assert alive == []
    finally:
        gc.enable()


def test_predict_returns_c_contiguous_arrays_for_sequence_outputs():
    # the CPU GRU returns its sequence output as a transposed view of its states
    rng = np.random.default_rng(0)
    inputs = gpuk.Input((5, 3))
    sequence = gpuk.layers.GRU(4, return_sequences=True)(inputs)
    model = gpuk.Model(inputs, [sequence, gpuk.layers.Dense(2)(sequence)])
    x = rng.standard_normal((6, 5, 3)).astype("float32")
    for outputs in (model.predict_on_batch(x), model.predict(x, verbose=0)):
        assert all(o.flags.c_contiguous for o in outputs)
        assert outputs[0].shape == (6, 5, 4) and outputs[1].shape == (6, 5, 2)
    np.testing.assert_allclose(model.predict_on_batch(x)[0], model(x)[0].numpy(), rtol=1e-6)
