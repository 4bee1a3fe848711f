"""Callbacks fire in Keras 3's order with Keras 3's arguments (recorded from Keras 3.15)."""

import numpy as np
import pytest

import gpuk as keras

HOOKS = [name for name in dir(keras.callbacks.Callback) if name.startswith("on_")]


class Recorder(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.events = []


def _recording(name):
    def hook(self, *args, **kwargs):
        self.events.append((name, args, kwargs))

    return hook


for _name in HOOKS:
    setattr(Recorder, _name, _recording(_name))


def _shape(events):
    """(hook, positional args with logs reduced to their keys, keyword logs' keys)."""
    out = []
    for name, args, kwargs in events:
        args = tuple(sorted(a) if isinstance(a, dict) else a for a in args)
        kwargs = {k: sorted(v) if isinstance(v, dict) else v for k, v in kwargs.items()}
        out.append((name, args, kwargs))
    return out


def _train_epoch(epoch, keys):
    return [
        ("on_epoch_begin", (epoch, []), {}),
        ("on_train_batch_begin", (0,), {"logs": []}),
        ("on_train_batch_end", (0,), {"logs": ["loss", "mae"]}),
        ("on_train_batch_begin", (1,), {"logs": []}),
        ("on_train_batch_end", (1,), {"logs": ["loss", "mae"]}),
        ("on_epoch_end", (epoch, keys), {}),
    ]


def test_fit_hook_order_and_arguments_match_keras(data, make_model):
    x, y = data
    recorder = Recorder()
    make_model().fit(x, y, batch_size=5, epochs=2, callbacks=[recorder], verbose=0)
    expected = (
        [("on_train_begin", ([],), {})]
        + _train_epoch(0, ["loss", "mae"])
        + _train_epoch(1, ["loss", "mae"])
        + [("on_train_end", (["loss", "mae"],), {})]
    )
    assert _shape(recorder.events) == expected
    assert recorder.params == {"verbose": 0, "epochs": 2, "steps": 2}


def test_fit_logs_values_are_floats_and_train_end_gets_last_epoch_logs(data, make_model):
    x, y = data
    recorder = Recorder()
    history = make_model().fit(x, y, batch_size=5, epochs=2, callbacks=[recorder], verbose=0)
    epoch_logs = [args[1] for name, args, _ in recorder.events if name == "on_epoch_end"]
    assert [logs["loss"] for logs in epoch_logs] == history.history["loss"]
    assert all(isinstance(v, float) for logs in epoch_logs for v in logs.values())
    train_end = [args[0] for name, args, _ in recorder.events if name == "on_train_end"]
    assert train_end == [epoch_logs[-1]]
    batch_logs = [kw["logs"] for name, _, kw in recorder.events if name == "on_train_batch_end"]
    # The last batch's running logs are the epoch's logs (no validation here).
    assert batch_logs[-1] == epoch_logs[-1]


def test_validation_inside_fit_fires_test_hooks_like_keras(data, make_model):
    x, y = data
    recorder = Recorder()
    make_model().fit(
        x,
        y,
        batch_size=5,
        epochs=1,
        validation_data=(x[:4], y[:4]),
        callbacks=[recorder],
        verbose=0,
    )
    val_keys = ["loss", "mae", "val_loss", "val_mae"]
    expected = (
        [("on_train_begin", ([],), {})]
        + _train_epoch(0, val_keys)[:-1]
        + [
            ("on_test_begin", ([],), {}),
            ("on_test_batch_begin", (0,), {"logs": []}),
            ("on_test_batch_end", (0,), {"logs": ["loss", "mae"]}),
            ("on_test_end", (["loss", "mae"],), {}),
            ("on_epoch_end", (0, val_keys), {}),
            ("on_train_end", (val_keys,), {}),
        ]
    )
    assert _shape(recorder.events) == expected


def test_epoch_end_logs_hold_validation_keys(data, make_model):
    x, y = data
    recorder = Recorder()
    make_model().fit(
        x,
        y,
        batch_size=5,
        epochs=2,
        validation_data=(x[:4], y[:4]),
        callbacks=[recorder],
        verbose=0,
    )
    epoch_ends = [args for name, args, _ in recorder.events if name == "on_epoch_end"]
    assert [(e, sorted(logs)) for e, logs in epoch_ends] == [
        (0, ["loss", "mae", "val_loss", "val_mae"]),
        (1, ["loss", "mae", "val_loss", "val_mae"]),
    ]


def test_evaluate_hooks_match_keras(data, make_model):
    x, y = data
    recorder = Recorder()
    model = make_model()
    model.evaluate(x, y, batch_size=5, callbacks=[recorder], verbose=0)
    assert _shape(recorder.events) == [
        ("on_test_begin", ([],), {}),
        ("on_test_batch_begin", (0,), {"logs": []}),
        ("on_test_batch_end", (0,), {"logs": ["loss", "mae"]}),
        ("on_test_batch_begin", (1,), {"logs": []}),
        ("on_test_batch_end", (1,), {"logs": ["loss", "mae"]}),
        ("on_test_end", (["loss", "mae"],), {}),
    ]


def test_predict_hooks_match_keras(data, make_model):
    x, _ = data
    recorder = Recorder()
    make_model().predict(x, batch_size=5, callbacks=[recorder], verbose=0)
    assert [(name, args[:1]) for name, args, _ in recorder.events] == [
        ("on_predict_begin", ({},)),
        ("on_predict_batch_begin", (0,)),
        ("on_predict_batch_end", (0,)),
        ("on_predict_batch_begin", (1,)),
        ("on_predict_batch_end", (1,)),
        ("on_predict_end", ({},)),
    ]
    outputs = [kw["logs"]["outputs"] for name, _, kw in recorder.events if "batch_end" in name]
    assert isinstance(outputs[0], np.ndarray)
    assert [o.shape for o in outputs] == [(5, 1), (5, 1)]


def test_legacy_batch_hooks_are_called_from_train_batch_hooks(data, make_model):
    x, y = data
    calls = []

    class Legacy(keras.callbacks.Callback):
        def on_batch_begin(self, batch, logs=None):
            calls.append(("begin", batch, dict(logs)))

        def on_batch_end(self, batch, logs=None):
            calls.append(("end", batch, sorted(logs)))

    make_model().fit(x, y, batch_size=5, epochs=1, callbacks=[Legacy()], verbose=0)
    assert calls == [
        ("begin", 0, {}),
        ("end", 0, ["loss", "mae"]),
        ("begin", 1, {}),
        ("end", 1, ["loss", "mae"]),
    ]


def test_callbacks_get_model_and_params_and_history_is_last(data, make_model):
    x, y = data
    seen = {}

    class Check(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            seen["model"] = self.model
            seen["params"] = dict(self.params)

        def on_epoch_end(self, epoch, logs=None):
            logs["extra"] = 1.5  # a later callback (History) sees what an earlier one adds

    model = make_model()
    history = model.fit(x, y, batch_size=4, epochs=2, callbacks=[Check()], verbose=0)
    assert seen["model"] is model
    assert seen["params"] == {"verbose": 0, "epochs": 2, "steps": 3}
    assert history.history["extra"] == [1.5, 1.5]
    assert model.history is history
    assert history.epoch == [0, 1]


def test_stop_training_in_batch_end_stops_the_epoch(data, make_model):
    x, y = data

    class Stop(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 0:
                self.model.stop_training = True

    recorder = Recorder()
    history = make_model().fit(
        x, y, batch_size=2, epochs=3, callbacks=[Stop(), recorder], verbose=0
    )
    names = [name for name, _, _ in recorder.events]
    assert names.count("on_train_batch_end") == 1
    assert names[-2:] == ["on_epoch_end", "on_train_end"]
    assert len(history.history["loss"]) == 1


def test_lambda_callback_positional_arguments(data, make_model):
    x, y = data
    calls = []
    callback = keras.callbacks.LambdaCallback(
        on_train_begin=lambda logs: calls.append(("train_begin", logs)),
        on_epoch_begin=lambda epoch, logs: calls.append(("epoch_begin", epoch, logs)),
        on_train_batch_begin=lambda batch, logs: calls.append(("batch_begin", batch)),
        on_train_batch_end=lambda batch, logs: calls.append(("batch_end", batch, sorted(logs))),
        on_epoch_end=lambda epoch, logs: calls.append(("epoch_end", epoch, sorted(logs))),
        on_train_end=lambda logs: calls.append(("train_end", sorted(logs))),
    )
    make_model().fit(x, y, batch_size=10, epochs=2, callbacks=[callback], verbose=0)
    assert calls == [
        ("train_begin", {}),
        ("epoch_begin", 0, {}),
        ("batch_begin", 0),
        ("batch_end", 0, ["loss", "mae"]),
        ("epoch_end", 0, ["loss", "mae"]),
        ("epoch_begin", 1, {}),
        ("batch_begin", 0),
        ("batch_end", 0, ["loss", "mae"]),
        ("epoch_end", 1, ["loss", "mae"]),
        ("train_end", ["loss", "mae"]),
    ]


def test_lambda_callback_legacy_batch_aliases_and_other_hooks(data, make_model):
    x, y = data
    calls = []
    callback = keras.callbacks.LambdaCallback(
        on_batch_begin=lambda batch, logs: calls.append(("begin", batch)),
        on_batch_end=lambda batch, logs: calls.append(("end", batch, round(logs["loss"], 6))),
        on_test_end=lambda logs: calls.append(("test_end", sorted(logs))),
    )
    model = make_model()
    history = model.fit(x, y, batch_size=10, epochs=1, callbacks=[callback], verbose=0)
    model.evaluate(x, y, callbacks=[callback], verbose=0)
    assert calls == [
        ("begin", 0),
        ("end", 0, round(history.history["loss"][0], 6)),
        ("test_end", ["loss", "mae"]),
    ]


def test_lambda_callback_rejects_non_callables():
    with pytest.raises(TypeError, match="on_epoch_end"):
        keras.callbacks.LambdaCallback(on_epoch_end=3)


def test_callback_list_accepts_nested_lists_and_rejects_other_objects(make_model):
    inner = keras.callbacks.History()
    callbacks = keras.callbacks.CallbackList([[inner], None], add_history=True, add_progbar=True)
    assert callbacks.callbacks[0] is inner and callbacks.history is inner
    assert isinstance(callbacks.callbacks[-1], keras.callbacks.ProgbarLogger)
    with pytest.raises(TypeError, match="Callback"):
        keras.callbacks.CallbackList([object()])


def test_history_is_reused_across_fits_like_keras(data, make_model):
    x, y = data
    model = make_model()
    history = keras.callbacks.History()
    model.fit(x, y, epochs=2, callbacks=[history], verbose=0)
    returned = model.fit(x, y, epochs=1, callbacks=[history], verbose=0)
    assert returned is history
    assert len(history.history["loss"]) == 3
    assert history.epoch == [0]
