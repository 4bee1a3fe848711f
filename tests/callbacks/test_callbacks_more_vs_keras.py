"""SwapEMAWeights, TerminateOnNaN, LambdaCallback, RemoteMonitor and TensorBoard edges against
Keras 3.15 (fixtures from tools/make_keras_fixtures_callbacks_more.py); written to kill the
mutants tools/mutate.py found surviving (docs/mutation-testing.md, issue 18)."""

import json
import os
import types
import urllib.request

import numpy as np
import pytest

import gpuk
from gpuk import callbacks, optimizers

HERE = os.path.join(os.path.dirname(__file__), "..", "fixtures", "keras", "callbacks_more")
REFERENCE = np.load(os.path.join(HERE, "swap_ema.npz"))
with open(os.path.join(HERE, "swap_ema_more.json")) as f:
    MORE = json.load(f)


def _model(optimizer):
    model = gpuk.Sequential([gpuk.Input((3,)), gpuk.layers.Dense(2)])
    model.set_weights([REFERENCE["kernel"], REFERENCE["bias"]])
    model.compile(optimizer=optimizer, loss="mse")
    return model


def test_swap_on_epoch_callbacks_after_it_see_the_averages_at_epoch_end():
    model = _model(optimizers.SGD(0.1, use_ema=True, ema_momentum=0.5))
    seen = {"begin": [], "end": []}
    probe = callbacks.LambdaCallback(
        on_epoch_begin=lambda e, logs: seen["begin"].append(model.get_weights()[0]),
        on_epoch_end=lambda e, logs: seen["end"].append(model.get_weights()[0]),
    )
    model.fit(REFERENCE["x"], REFERENCE["y"], batch_size=4, epochs=3, shuffle=False,
              validation_data=(REFERENCE["xv"], REFERENCE["yv"]), verbose=0,
              callbacks=[callbacks.SwapEMAWeights(swap_on_epoch=True), probe])  # fmt: skip
    for when in ("begin", "end"):
        np.testing.assert_allclose(
            seen[when], MORE["swap_on_epoch_seen"][when], rtol=1e-5, atol=1e-6, err_msg=when
        )


def test_predict_leaves_the_averages_in_the_model_as_keras():
    model = _model(optimizers.SGD(0.1, use_ema=True, ema_momentum=0.5))
    model.fit(REFERENCE["x"], REFERENCE["y"], batch_size=4, epochs=3, shuffle=False,
              validation_data=(REFERENCE["xv"], REFERENCE["yv"]), verbose=0,
              callbacks=[callbacks.SwapEMAWeights(swap_on_epoch=True)])  # fmt: skip
    model.train_on_batch(REFERENCE["x"], REFERENCE["y"])
    for w, ref in zip(model.get_weights(), MORE["before_predict"]):
        np.testing.assert_allclose(w, ref, rtol=1e-5, atol=1e-6)
    predicted = model.predict(REFERENCE["xv"], verbose=0, callbacks=[callbacks.SwapEMAWeights()])
    np.testing.assert_allclose(predicted, MORE["predict"], rtol=1e-5, atol=1e-6)
    # Keras's on_predict_end swaps back only when the averages are *not* in the model: they stay.
    for w, ref in zip(model.get_weights(), MORE["after_predict"]):
        np.testing.assert_allclose(w, ref, rtol=1e-5, atol=1e-6)
    for w, ref in zip(MORE["after_predict"], MORE["averages"]):
        np.testing.assert_allclose(w, ref)


def _multi(*opts):
    """A MultiOptimizer-shaped stand-in (Keras 3 names the case; it has no such class)."""
    model = types.SimpleNamespace(optimizer=types.SimpleNamespace(optimizers=list(opts)))
    return model


def _ema_opt(weights, averages, use_ema=True):
    opt = types.SimpleNamespace(use_ema=use_ema)
    opt._trainable_variables = [gpuk.Variable(np.array(w, "float32")) for w in weights]
    if use_ema:
        opt._model_variables_moving_average = [
            gpuk.Variable(np.array(a, "float32")) for a in averages
        ]
    return opt


def test_multi_optimizer_without_any_ema_is_rejected():
    callback = callbacks.SwapEMAWeights()
    callback.set_model(_multi(_ema_opt([1.0], None, use_ema=False)))
    with pytest.raises(ValueError, match="at least one inner optimizer has `use_ema=True`"):
        callback.on_test_begin()


def test_multi_optimizer_swaps_only_the_ema_inner_optimizers():
    with_ema = _ema_opt([[1.0, 2.0]], [[5.0, 6.0]])
    without = _ema_opt([[3.0]], None, use_ema=False)
    callback = callbacks.SwapEMAWeights()
    callback.set_model(_multi(with_ema, without))
    callback.on_test_begin()
    np.testing.assert_array_equal(with_ema._trainable_variables[0].numpy(), [5.0, 6.0])
    np.testing.assert_array_equal(with_ema._model_variables_moving_average[0].numpy(), [1, 2])
    np.testing.assert_array_equal(without._trainable_variables[0].numpy(), [3.0])
    callback.on_test_end()
    np.testing.assert_array_equal(with_ema._trainable_variables[0].numpy(), [1.0, 2.0])


def test_terminate_on_nan_starts_as_a_plain_callback():
    callback = callbacks.TerminateOnNaN()
    assert callback.model is None
    assert callback.raise_error is False


def test_lambda_callback_keeps_every_keyword_even_none():
    # Keras: ``self.__dict__.update(kwargs)`` before the named hooks; a None keyword is kept.
    callback = callbacks.LambdaCallback(note=None, tag="run-1", on_test_end=print)
    assert callback.note is None and callback.tag == "run-1"
    assert callback.on_test_end is print
    assert callback.model is None


def test_remote_monitor_turns_tensors_and_numpy_values_into_json_numbers(monkeypatch):
    # Keras sends ``v.item()`` for NumPy scalars and the value itself otherwise.
    sent = []

    class _Response:
        def __enter__(self):
            return self

        def __exit__(self, *args):
            return False

        def read(self):
            return b"ok"

    def urlopen(request, timeout):
        sent.append((request, timeout))
        return _Response()

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    monitor = callbacks.RemoteMonitor(root="http://example.invalid", send_as_json=True)
    logs = {
        "loss": gpuk.ops.convert_to_tensor(np.float32(0.5)),
        "acc": np.float32(0.25),
        "lr": 1.5,
        "n": np.int64(3),
        "w": np.array([2.0], "float32"),  # Keras: ``v.item()``, a number, not a list
    }
    monitor.on_epoch_end(4, logs)
    request, timeout = sent[0]
    assert timeout == 10 and request.get_method() == "POST"
    payload = json.loads(request.data)
    assert payload == {"epoch": 4, "loss": 0.5, "acc": 0.25, "lr": 1.5, "n": 3, "w": 2.0}
    assert isinstance(payload["n"], int) and isinstance(payload["loss"], float)
    assert callbacks.RemoteMonitor().model is None


def test_tensorboard_defaults_are_keras_defaults(tmp_path):
    pytest.importorskip("tensorboardX")
    board = callbacks.TensorBoard()
    for name, default in MORE["tensorboard_defaults"].items():
        assert getattr(board, name) == default, name


def _tensorboard_events(run_dir):
    accumulator = pytest.importorskip(
        "tensorboard.backend.event_processing.event_accumulator"
    ).EventAccumulator(str(run_dir), size_guidance={"scalars": 0, "tensors": 0, "images": 0})
    accumulator.Reload()
    return accumulator


def test_tensorboard_steps_per_second_with_a_fixed_clock(monkeypatch, tmp_path):
    pytest.importorskip("tensorboardX")
    from gpuk.callbacks import tensorboard

    ticks = iter(np.arange(1, 100) * 0.5)
    monkeypatch.setattr(tensorboard, "time", types.SimpleNamespace(time=lambda: next(ticks)))
    model = _model("sgd")
    board = callbacks.TensorBoard(log_dir=tmp_path, write_steps_per_second=True, update_freq=1)
    # clock: epoch begin 0.5; batches [1.0, 1.5] and [2.0, 2.5]; epoch end 3.0.
    model.fit(REFERENCE["x"], REFERENCE["y"], batch_size=4, epochs=1, verbose=0,
              callbacks=[board])  # fmt: skip
    train = _tensorboard_events(tmp_path / "train")
    batch = [(e.step, e.value) for e in train.Scalars("batch_steps_per_second")]
    assert batch == [(1, 2.0), (2, 2.0)]  # Keras: 1 / (time since the batch began)
    epoch = [(e.step, e.value) for e in train.Scalars("epoch_steps_per_second")]
    assert epoch == [(0, pytest.approx(2 / 2.5))]  # Keras: iterations this epoch / time
    assert [e.step for e in train.Tensors("keras")] == [0]  # Keras writes the graph at step 0


def test_tensorboard_weight_images_as_keras_lays_them_out(tmp_path):
    pytest.importorskip("tensorboardX")
    model = gpuk.Sequential(
        [
            gpuk.Input((5, 4)),
            gpuk.layers.Conv1D(3, 2, name="conv"),
            gpuk.layers.Flatten(),
            gpuk.layers.Dense(2, name="d"),
        ]
    )
    model.compile("sgd", "mse")
    x = np.linspace(-1, 1, 2 * 5 * 4, dtype="float32").reshape(2, 5, 4)
    board = callbacks.TensorBoard(tmp_path, histogram_freq=1, write_images=True)
    model.fit(x, np.zeros((2, 2), "float32"), epochs=1, verbose=0, callbacks=[board])
    train = _tensorboard_events(tmp_path / "train")
    assert {"conv/kernel/image", "conv/bias/image"} <= set(train.Tags()["images"])
    # Keras: a taller-than-wide Dense kernel (12, 2) is transposed to a 2 x 12 image; a bias
    # (2,) is a 2 x 1 column.
    kernel = train.Images("d/kernel/image")[0]
    assert (kernel.height, kernel.width) == (2, 12)
    bias = train.Images("d/bias/image")[0]
    assert (bias.height, bias.width) == (2, 1)
