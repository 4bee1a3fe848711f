"""CallbackList, History and ProgbarLogger hook by hook: which callbacks get batch hooks, how
logs reach them, where the History goes, and what the progress bar counts when ``fit`` /
``evaluate`` / ``predict`` drive it (Keras 3's rules)."""

import numpy as np
import pytest

import gpuk as keras
from gpuk.callbacks import Callback, CallbackList, History, ProgbarLogger
from gpuk.callbacks.base import logs_to_host


class _Spy:
    """A log value that records each host conversion."""

    def __init__(self, value):
        self.value = value
        self.calls = 0

    def numpy(self):
        self.calls += 1
        return np.asarray(self.value)


def test_batch_hooks_skip_callbacks_that_do_not_implement_them():
    spy = _Spy(0.5)
    callbacks = CallbackList([Callback(), History()])
    callbacks.on_train_batch_end(0, {"loss": spy})
    callbacks.on_test_batch_end(0, {"loss": spy})
    assert spy.calls == 0  # nobody listens: the logs are never copied to the host

    seen = []

    class Legacy(Callback):
        def on_batch_end(self, batch, logs=None):
            seen.append((batch, logs))

    callbacks = CallbackList([Callback(), Legacy()])
    callbacks.on_train_batch_end(3, {"loss": spy})
    assert spy.calls == 1
    assert seen == [(3, {"loss": 0.5})]


def test_set_model_hands_the_history_to_the_model():
    class Model:
        history = "untouched"

    model = Model()
    callbacks = CallbackList([Callback()], add_history=True, model=model)
    assert isinstance(callbacks.history, History)
    assert model.history is callbacks.history
    assert callbacks.callbacks[-1] is callbacks.history
    other = Model()
    CallbackList([Callback()], model=other)
    assert other.history == "untouched"  # no History in the list: the model keeps its own
    given = History()
    listed = CallbackList([given], add_history=True, model=other)
    assert listed.history is given and len(listed) == 1 and other.history is given


def test_append_passes_model_and_params():
    class Model:
        history = None

    model = Model()
    callbacks = CallbackList([], model=model, epochs=3, verbose=0)
    late = Callback()
    callbacks.append(late)
    assert late.model is model and late.params == {"epochs": 3, "verbose": 0}
    assert list(callbacks) == [late]


def test_logs_to_host_flattens_sorts_and_converts():
    logs = {"b": np.float32(0.5), "a": {"c": np.asarray(2), "d": [np.float64(1.0)]}, "s": "x"}
    host = logs_to_host(logs)
    assert list(host) == ["b", "c", "d", "s"]
    assert host["b"] == 0.5 and type(host["b"]) is float
    assert host["c"] == 2.0 and type(host["c"]) is float
    assert host["d"] == [1.0]
    assert host["s"] == "x"
    assert logs_to_host(None) == {} and logs_to_host({}) == {}
    arr = np.arange(3.0)
    assert logs_to_host({"v": arr})["v"] is arr  # arrays stay arrays


def test_history_records_each_epoch_and_resets_epochs_per_fit():
    history = History()
    history.on_train_begin()
    history.on_epoch_end(0, {"loss": 1.0})
    history.on_epoch_end(1, {"loss": 0.5, "val_loss": 0.75})
    history.on_epoch_end(2, None)
    assert history.epoch == [0, 1, 2]
    assert history.history == {"loss": [1.0, 0.5], "val_loss": [0.75]}
    history.on_train_begin()
    assert history.epoch == [] and history.history["loss"] == [1.0, 0.5]


def _bar_lines(capsys):
    return [line for line in capsys.readouterr().out.splitlines() if line.strip()]


def test_progbar_evaluate_after_fit_is_shown_and_counts_unknown_steps(capsys):
    logger = ProgbarLogger()
    logger.set_params({"verbose": 1, "epochs": 1, "steps": None})
    logger.on_train_begin()
    logger.on_test_begin()
    logger.on_test_batch_end(0, {"loss": 1.0})
    logger.on_test_end({"loss": 1.0})
    assert _bar_lines(capsys) == []  # validation inside fit is silent
    logger.on_train_end()
    for run in range(2):
        logger.on_test_begin()
        for batch in range(3):
            logger.on_test_batch_end(batch, {"loss": 1.0 + batch})
        logger.on_test_end({"loss": 2.5 + run})
    lines = _bar_lines(capsys)
    assert len(lines) == 2
    assert lines[0].startswith("3/3 ") and lines[0].endswith("loss: 2.5000")
    assert lines[1].startswith("3/3 ") and lines[1].endswith("loss: 3.5000")


def test_progbar_predict_counts_batches_without_metrics(capsys):
    logger = ProgbarLogger()
    logger.set_params({"verbose": 1, "epochs": 1, "steps": 4})
    logger.on_test_begin()
    logger.on_test_batch_end(3, {"loss": 0.5})
    logger.on_test_end({"loss": 0.5})
    assert _bar_lines(capsys)[0].endswith("loss: 0.5000")
    for _run in range(2):
        logger.on_predict_begin()
        for batch in range(4):
            logger.on_predict_batch_end(batch, {"outputs": np.ones(2)})
        logger.on_predict_end()
    lines = _bar_lines(capsys)
    assert len(lines) == 2  # each predict gets a new bar, without evaluate's metrics
    assert all(line.startswith("4/4 ") and " - " not in line[10:] for line in lines)


def test_progbar_fit_counts_unknown_steps_from_the_batches(capsys):
    logger = ProgbarLogger()
    logger.set_params({"verbose": 1, "epochs": 1, "steps": None})
    logger.on_train_begin()
    logger.on_epoch_begin(0)
    for batch in range(3):
        logger.on_train_batch_end(batch, {"loss": 0.25})
    logger.on_epoch_end(0, {"loss": 0.25})
    lines = _bar_lines(capsys)
    assert len(lines) == 1 and lines[0].startswith("3/3 ") and lines[0].endswith("loss: 0.2500")


def test_progbar_epoch_headers_and_verbose_auto(capsys):
    logger = ProgbarLogger()
    logger.set_params({"verbose": "auto", "epochs": 2, "steps": 1})
    assert logger.verbose == 1
    logger.on_train_begin()
    for epoch in range(2):
        logger.on_epoch_begin(epoch)
        logger.on_train_batch_end(0, {"loss": 0.5})
        logger.on_epoch_end(epoch, {"loss": 0.5})
    lines = _bar_lines(capsys)
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2"
    assert lines[1].startswith("1/1 ") and lines[1].endswith("loss: 0.5000")
    logger.set_params({"verbose": 0})
    assert logger.verbose == 0 and logger.epochs == 1
    with pytest.raises(ValueError, match="count_mode"):
        ProgbarLogger(count_mode="batches")
    ProgbarLogger(count_mode="samples")


def test_fit_with_an_explicit_progbar_logger_does_not_add_another(capsys):
    x = np.ones((4, 2), "float32")
    inputs = keras.Input((2,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    model.compile("sgd", "mse")
    model.fit(x, x[:, :1], epochs=1, verbose=2, callbacks=[ProgbarLogger()])
    assert len(_bar_lines(capsys)) == 1


def test_terminate_on_nan_hook_by_hook(capsys):
    class Model:
        stop_training = False

    model = Model()
    callback = keras.callbacks.TerminateOnNaN()
    callback.set_model(model)
    callback.on_batch_end(0, None)
    callback.on_batch_end(1, {"mae": float("nan")})  # only the loss is watched
    callback.on_batch_end(2, {"loss": np.float32(1.5)})
    assert not model.stop_training and capsys.readouterr().out == ""
    callback.on_batch_end(3, {"loss": float("-inf")})
    assert model.stop_training
    assert capsys.readouterr().out == "Batch 3: Invalid loss, terminating training\n"
    strict = keras.callbacks.TerminateOnNaN(raise_error=True)
    strict.set_model(Model())
    with pytest.raises(RuntimeError, match=r"at batch 7\. Loss value: nan\. Terminating"):
        strict.on_batch_end(7, {"loss": keras.ops.convert_to_tensor(float("nan"))})
