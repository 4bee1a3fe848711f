"""``compile(jit_compile=True)``: the training step captured as a CUDA graph and replayed.

Under the CuPy stand-in (whose capture executes nothing and refuses host syncs and uploads, see
tests/test_cupy_standin_capture.py) a replayed step must give the same bits as the eager step:
weights, optimizer state and the logs fit/train_on_batch return. What cannot be captured falls
back to eager steps with one warning. On the NumPy backend ``jit_compile=True`` is accepted and
runs eagerly, as Keras's jit_compile does where there is nothing to compile for.
"""

import types
import warnings

import numpy as np
import pytest

import gpuk
from gpuk import _array
from gpuk._array import graphs
from gpuk.models import training_graph
from tests import cupy_standin

REAL_GPU = _array.gpu_unavailable_reason() is None and not cupy_standin.installed()


def _data(shape=(16,), outputs=10, samples=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(samples, *shape)).astype("float32")
    y = rng.normal(size=(samples, outputs)).astype("float32")
    return x, y


def _mlp(dropout=None, seed=None):
    layers = [gpuk.Input((16,)), gpuk.layers.Dense(32, activation="relu")]
    if dropout:
        layers.append(gpuk.layers.Dropout(dropout, seed=seed))
    return gpuk.Sequential([*layers, gpuk.layers.Dense(10)])


def _gru():
    return gpuk.Sequential([gpuk.Input((5, 8)), gpuk.layers.GRU(12), gpuk.layers.Dense(4)])


def _adam():
    return gpuk.optimizers.Adam(1e-2)


def _sgd_schedule():
    schedule = gpuk.optimizers.schedules.ExponentialDecay(0.05, decay_steps=3, decay_rate=0.5)
    return gpuk.optimizers.SGD(schedule, momentum=0.9)


def _adam_warmup_schedule():  # branches on the host: the rate is refilled per step
    schedule = gpuk.optimizers.schedules.CosineDecay(
        0.01, decay_steps=4, warmup_target=0.05, warmup_steps=3
    )
    return gpuk.optimizers.Adam(schedule)


def _compiled(build, optimizer, jit, **compile_kwargs):
    gpuk.utils.set_random_seed(1)
    model = build()
    model.compile(
        optimizer=optimizer(), loss="mse", metrics=["mae"], jit_compile=jit, **compile_kwargs
    )
    return model


def _fit(model, x, y, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = model.fit(x, y, verbose=0, shuffle=False, **kwargs)
    jit_warnings = [str(w.message) for w in caught if "jit_compile" in str(w.message)]
    return history.history, jit_warnings


def _assert_same_state(eager, jit):
    for a, b in zip(eager.get_weights(), jit.get_weights()):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(eager.optimizer.variables, jit.optimizer.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=a.path)


def _runner(model):
    return model.__dict__.get("_graph_train_step")


# ----------------------------------------------------------------------------- GPU branch
@pytest.mark.standin
@pytest.mark.parametrize(
    "optimizer",
    [_adam, _sgd_schedule, _adam_warmup_schedule],
    ids=["adam", "sgd-momentum-decay", "adam-warmup-cosine"],
)
def test_replayed_train_on_batch_steps_equal_eager_bit_for_bit(gpu, optimizer):
    x, y = _data()
    eager = _compiled(_mlp, optimizer, False)
    jit = _compiled(_mlp, optimizer, True)
    graph_launches = []
    for _ in range(training_graph.WARMUP_STEPS + 4):
        expected = eager.train_on_batch(x, y, return_dict=True)
        with cupy_standin.counting() as counts:
            got = jit.train_on_batch(x, y, return_dict=True)
        graph_launches.append(counts.graph_launches)
        assert got == expected
    # warm-up steps run eagerly, then one capture and one graph launch per step
    assert graph_launches == [0] * training_graph.WARMUP_STEPS + [1] * 4
    assert _runner(jit).disabled is None and len(_runner(jit).graphs) == 1
    # ExponentialDecay is computed inside the graph; the warmup schedule is refilled per step
    graph = next(iter(_runner(jit).graphs.values()))
    assert graph.device_schedule is (optimizer is _sgd_schedule)
    assert graph.captured.pool.used_bytes() > 0  # the step's buffers: from the private pool
    assert int(jit.optimizer.iterations.numpy()) == int(eager.optimizer.iterations.numpy())
    _assert_same_state(eager, jit)


@pytest.mark.standin
@pytest.mark.parametrize(
    "build, shape, outputs, optimizer",
    [(_mlp, (16,), 10, _sgd_schedule), (_gru, (5, 8), 4, _adam)],
    ids=["mlp-sgd-schedule", "gru-adam"],
)
def test_fit_history_and_weights_equal_eager(gpu, build, shape, outputs, optimizer):
    x, y = _data(shape, outputs, samples=40)
    # batch 16 over 40 samples: batches of 16, 16 and 8, two input signatures
    eager = _compiled(build, optimizer, False)
    eager_history, _ = _fit(eager, x, y, batch_size=16, epochs=4)
    jit = _compiled(build, optimizer, True)
    jit_history, jit_warnings = _fit(jit, x, y, batch_size=16, epochs=4)
    assert jit_warnings == []
    assert jit_history == eager_history
    assert len(_runner(jit).graphs) == 2
    _assert_same_state(eager, jit)


@pytest.mark.standin
def test_a_replayed_step_makes_no_host_sync_and_one_graph_launch(gpu):
    x, y = _data(samples=128)
    model = _compiled(_mlp, _adam, True)
    per_step = []

    class Counter(gpuk.callbacks.Callback):  # overrides a batch-begin hook: consumes no logs
        def on_train_batch_begin(self, batch, logs=None):
            per_step.append(dict(cupy_standin.TOTAL.snapshot()))

    model.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False, callbacks=[Counter()])
    steps = [{k: b[k] - a[k] for k in a} for a, b in zip(per_step, per_step[1:])]
    replayed = steps[training_graph.WARMUP_STEPS + 1 :]  # after the warm-up and the capture
    assert replayed
    for counts in replayed:
        assert counts["syncs"] == 0, counts
        assert counts["graph_launches"] == 1, counts
        assert counts["uploads"] == 0, counts  # fit uploads the arrays once, not per batch
        # slicing x and y, copying them into the static inputs, and the graph launch
        assert counts["launches"] == 5, counts


@pytest.mark.standin
def test_learning_rate_set_between_steps_reaches_the_graph(gpu):
    x, y = _data()
    eager, jit = (_compiled(_mlp, _adam, jit) for jit in (False, True))
    for step in range(6):
        for model in (eager, jit):
            if step == 4:
                model.optimizer.learning_rate = 0.5
            model.train_on_batch(x, y)
    _assert_same_state(eager, jit)
    assert len(_runner(jit).graphs) == 1


@pytest.mark.standin
def test_weights_set_between_replays_are_used(gpu):
    x, y = _data()
    eager, jit = (_compiled(_mlp, _adam, jit) for jit in (False, True))
    for step in range(6):
        for model in (eager, jit):
            if step == 4:
                model.set_weights([w * 0.5 for w in model.get_weights()])
            model.train_on_batch(x, y)
    _assert_same_state(eager, jit)


@pytest.mark.standin
def test_seeded_random_draws_fall_back_to_eager_with_one_warning(gpu):
    x, y = _data()
    eager_history, _ = _fit(
        _compiled(lambda: _mlp(0.5, seed=3), _adam, False), x, y, batch_size=16, epochs=2
    )
    jit = _compiled(lambda: _mlp(0.5, seed=3), _adam, True)
    history, jit_warnings = _fit(jit, x, y, batch_size=16, epochs=2)
    assert len(jit_warnings) == 1 and "seeded random draw" in jit_warnings[0], jit_warnings
    assert history == eager_history  # the refused capture drew nothing
    assert _runner(jit).disabled is not None


@pytest.mark.standin
def test_dropout_is_captured_with_a_device_random_stream(gpu):
    """Unseeded dropout draws from a counter-based device stream advanced inside the graph:
    new masks every replayed step (other numbers than the eager generator's), reproducible
    from the seed."""
    x, y = _data()

    def run():
        model = _compiled(lambda: _mlp(0.5), lambda: gpuk.optimizers.SGD(0.0), True)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no fallback
            return [model.train_on_batch(x, y) for _ in range(8)], model

    losses, model = run()
    assert _runner(model).disabled is None and len(_runner(model).graphs) == 1
    replayed = [loss for loss, _ in losses[training_graph.WARMUP_STEPS :]]
    assert len(set(replayed)) == len(replayed)  # fixed weights: only the masks differ
    assert run()[0] == losses  # set_random_seed reproduces the replayed draws too


@pytest.mark.standin
def test_a_host_sync_inside_the_step_falls_back_with_a_warning(gpu):
    class Syncing(gpuk.Sequential):
        def train_step(self, data):
            logs = super().train_step(data)
            logs["host"] = float(logs["loss"])  # a device-to-host copy inside the step
            return logs

    def build():
        return Syncing([gpuk.Input((16,)), gpuk.layers.Dense(8), gpuk.layers.Dense(10)])

    x, y = _data()
    eager, jit = (_compiled(build, _adam, jit) for jit in (False, True))
    with pytest.warns(RuntimeWarning, match="syncs with the host"):
        for _ in range(training_graph.WARMUP_STEPS + 2):
            expected = eager.train_on_batch(x, y, return_dict=True)
            assert jit.train_on_batch(x, y, return_dict=True) == expected
    _assert_same_state(eager, jit)


@pytest.mark.standin
@pytest.mark.parametrize("name", ["rmsprop", "adagrad", "adadelta", "adamw", "lion"])
def test_other_optimizers_replay_equal_eager(gpu, name):
    x, y = _data()
    eager, jit = (_compiled(_mlp, lambda: gpuk.optimizers.get(name), jit) for jit in (False, True))
    for _ in range(training_graph.WARMUP_STEPS + 2):
        assert jit.train_on_batch(x, y) == eager.train_on_batch(x, y)
    assert _runner(jit).disabled is None and len(_runner(jit).graphs) == 1
    _assert_same_state(eager, jit)


@pytest.mark.standin
@pytest.mark.parametrize(
    "optimizer",
    [
        lambda: gpuk.optimizers.Adam(global_clipnorm=0.1, amsgrad=True, loss_scale_factor=8.0),
        lambda: gpuk.optimizers.SGD(0.1, clipnorm=0.1, decay=0.1),
        lambda: gpuk.optimizers.SGD(0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
        lambda: gpuk.optimizers.RMSprop(clipvalue=0.01, centered=True, momentum=0.5),
    ],
    ids=["adam-gclip-amsgrad-scale", "sgd-clipnorm-legacy-decay", "nesterov-wd", "rmsprop-clip"],
)
def test_clipping_decay_constraints_and_regularizers_replay_equal_eager(gpu, optimizer):
    def build():
        return gpuk.Sequential(
            [
                gpuk.Input((16,)),
                gpuk.layers.Dense(32, "relu", kernel_constraint=gpuk.constraints.MaxNorm(1.0)),
                gpuk.layers.Dense(10, kernel_regularizer="l2"),
            ]
        )

    x, y = _data()
    eager, jit = (_compiled(build, optimizer, jit) for jit in (False, True))
    assert _fit(jit, x, y, batch_size=16, epochs=2) == _fit(eager, x, y, batch_size=16, epochs=2)
    assert _runner(jit).disabled is None
    _assert_same_state(eager, jit)


@pytest.mark.standin
@pytest.mark.parametrize(
    "name, reason",
    [("nadam", "reads the step count on the host"), ("adamax", "to a host value"), ("ftrl", "")],
)
def test_optimizers_reading_host_values_fall_back(gpu, name, reason):
    x, y = _data()
    eager, jit = (_compiled(_mlp, lambda: gpuk.optimizers.get(name), jit) for jit in (False, True))
    with pytest.warns(RuntimeWarning, match=f"trains eagerly .*{reason}"):
        for _ in range(training_graph.WARMUP_STEPS + 2):
            assert jit.train_on_batch(x, y) == eager.train_on_batch(x, y)
    _assert_same_state(eager, jit)


@pytest.mark.standin
def test_a_second_optimizer_in_a_custom_step_falls_back(gpu):
    class TwoOptimizers(gpuk.Sequential):  # a GAN-like step with its own optimizer
        def train_step(self, data):
            x, y = data
            if not hasattr(self, "second"):
                self.second = gpuk.optimizers.Adam(1e-3)
            with gpuk.GradientTape() as tape:
                loss = self.compute_loss(x, y, self(x, training=True))
            grads = tape.gradient(loss, self.trainable_weights)
            self.second.apply_gradients(zip(grads, self.trainable_weights))
            return {"loss": loss}

    def build():
        return TwoOptimizers([gpuk.Input((16,)), gpuk.layers.Dense(10)])

    x, y = _data()
    eager, jit = (_compiled(build, _adam, jit) for jit in (False, True))
    with pytest.warns(RuntimeWarning, match="is not the model's optimizer"):
        for _ in range(training_graph.WARMUP_STEPS + 2):
            assert jit.train_on_batch(x, y) == eager.train_on_batch(x, y)
    for a, b in zip(eager.second.variables, jit.second.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.standin
def test_stateful_recurrent_layers_fall_back(gpu):
    def build():
        return gpuk.Sequential(
            [
                gpuk.Input((5, 8), batch_size=32),
                gpuk.layers.GRU(6, stateful=True),
                gpuk.layers.Dense(4),
            ]
        )

    x, y = _data((5, 8), 4, samples=32)
    eager, jit = (_compiled(build, _adam, jit) for jit in (False, True))
    with pytest.warns(RuntimeWarning, match="is stateful"):
        for _ in range(training_graph.WARMUP_STEPS + 2):
            assert jit.train_on_batch(x, y) == eager.train_on_batch(x, y)
    _assert_same_state(eager, jit)


@pytest.mark.standin
def test_optimizers_keeping_host_state_fall_back(gpu):
    x, y = _data()
    model = _compiled(_mlp, lambda: gpuk.optimizers.Adam(gradient_accumulation_steps=2), True)
    with pytest.warns(RuntimeWarning, match="gradient_accumulation_steps"):
        model.train_on_batch(x, y)


@pytest.mark.standin
def test_a_cupy_without_stream_capture_falls_back(gpu, monkeypatch):
    monkeypatch.delattr(gpu.cuda.Stream, "begin_capture")
    x, y = _data()
    eager, jit = (_compiled(_mlp, _adam, jit) for jit in (False, True))
    with pytest.warns(RuntimeWarning, match="has no stream capture"):
        for _ in range(training_graph.WARMUP_STEPS + 2):
            assert jit.train_on_batch(x, y) == eager.train_on_batch(x, y)
    _assert_same_state(eager, jit)


class _NoOpLaunch:
    def __init__(self, captured):
        self.pool = captured.pool

    def launch(self):
        pass


def _capture_that_runs_the_step(function):
    """A CuPy whose "capture" executes the step and whose graph replays nothing."""
    result = function()
    return _NoOpLaunch(types.SimpleNamespace(pool=None)), result


_REAL_CAPTURE = graphs.capture


def _capture_whose_graph_does_nothing(function):
    captured, result = _REAL_CAPTURE(function)
    return _NoOpLaunch(captured), result


@pytest.mark.standin
@pytest.mark.parametrize(
    "fake_capture, reason",
    [
        (_capture_that_runs_the_step, "executed the step instead of recording it"),
        (_capture_whose_graph_does_nothing, "did not run the step"),
    ],
    ids=["capture-runs-the-step", "launch-runs-nothing"],
)
def test_a_capture_that_does_not_record_falls_back_after_one_check(
    gpu, monkeypatch, fake_capture, reason
):
    # an independent CuPy or stand-in may take the capture calls without recording: the first
    # launch checks the device step counter, so the model trains eagerly instead of wrongly
    monkeypatch.setattr(training_graph.graphs, "capture", fake_capture)
    x, y = _data()
    eager, jit = (_compiled(_mlp, _adam, jit) for jit in (False, True))
    with pytest.warns(RuntimeWarning, match=reason):
        for _ in range(training_graph.WARMUP_STEPS + 3):
            assert jit.train_on_batch(x, y) == eager.train_on_batch(x, y)
    assert _runner(jit).disabled is not None
    assert int(jit.optimizer.iterations.numpy()) == int(eager.optimizer.iterations.numpy())
    _assert_same_state(eager, jit)


@pytest.mark.standin
def test_signature_cache_is_bounded(gpu, monkeypatch):
    monkeypatch.setattr(training_graph, "WARMUP_STEPS", 0)  # still one eager step
    monkeypatch.setattr(training_graph, "MAX_GRAPHS", 2)
    model = _compiled(_mlp, _adam, True)
    for samples in (8, 8, 9, 9, 10, 10):  # one warm-up step, then a capture, per signature
        model.train_on_batch(*_data(samples=samples))
    kept = [key[0][1][0][0][0] for key in _runner(model).graphs]  # the batch sizes
    assert kept == [9, 10]  # the least recently used graph was dropped


@pytest.mark.gpu
@pytest.mark.skipif(not REAL_GPU, reason="needs the real CuPy and a CUDA GPU")
def test_real_cuda_graph_replay_equals_eager():
    previous = _array.device()
    _array.set_device("gpu")
    try:
        x, y = _data()
        eager, jit = (_compiled(_mlp, _adam, jit) for jit in (False, True))
        for _ in range(training_graph.WARMUP_STEPS + 4):
            expected = eager.train_on_batch(x, y, return_dict=True)
            got = jit.train_on_batch(x, y, return_dict=True)
            np.testing.assert_allclose(list(got.values()), list(expected.values()), rtol=1e-5)
        assert _runner(jit).disabled is None
        for a, b in zip(eager.get_weights(), jit.get_weights()):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)  # GPU powf vs fused kernel
    finally:
        _array.set_device(previous)


# ----------------------------------------------------------------------------- arguments
def test_jit_compile_on_the_cpu_runs_eagerly_and_silently(on_cpu):
    x, y = _data()
    eager = _compiled(_mlp, _adam, False)
    jit = _compiled(_mlp, _adam, True)
    assert jit.jit_compile is True and eager.jit_compile is False
    eager_history, _ = _fit(eager, x, y, batch_size=16, epochs=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        jit_history = jit.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False).history
    assert jit_history == eager_history
    _assert_same_state(eager, jit)


@pytest.mark.parametrize("value, expected", [("auto", False), (None, False), (False, False)])
def test_auto_and_false_stay_eager(on_cpu, value, expected):
    model = _compiled(_mlp, _adam, value)
    assert model.jit_compile is expected
    assert model._train_function() == model.train_step


def test_jit_compile_setter_and_bad_values(on_cpu):
    model = _compiled(_mlp, _adam, False)
    model.jit_compile = True
    assert model.jit_compile is True
    with pytest.raises(ValueError, match="jit_compile"):
        model.compile(optimizer="adam", loss="mse", jit_compile="xla")


def test_run_eagerly_disables_jit_compile_with_keras_warning(on_cpu):
    with pytest.warns(UserWarning, match="If `run_eagerly` is True, then `jit_compile`"):
        model = _compiled(_mlp, _adam, True, run_eagerly=True)
    assert model.jit_compile is False


@pytest.mark.standin
def test_rnnoise_denoiser_replays_equal_eager_in_seven_launches(gpu):
    """The issue's denoiser (two outputs, GRUs, a weight constraint): the same history and
    weights, and a replayed step is 7 launches (the graph, 3 batch slices, 3 input copies)
    instead of ~500."""
    from tests.models.test_gpu_budgets import StepCounter, _data, _example

    example = _example()
    x, y = _data(samples=16, steps=5)
    runs = []
    for jit in (False, True):
        gpuk.utils.set_random_seed(0)
        model = example.build_model()
        model.jit_compile = jit
        with cupy_standin.counting() as counts:
            counter = StepCounter(counts)
            history = model.fit(
                x, y, batch_size=4, epochs=2, verbose=0, shuffle=False, callbacks=[counter]
            )
        runs.append((history.history, model.get_weights(), counter.steps[-1]))
    assert runs[1][0] == runs[0][0]
    for a, b in zip(runs[0][1], runs[1][1]):
        np.testing.assert_array_equal(a, b)
    assert runs[0][2]["launches"] > 100 and runs[0][2]["graph_launches"] == 0
    assert runs[1][2] == dict(runs[1][2], syncs=0, uploads=0, launches=7, graph_launches=1)
