"""Logs stay device values during fit: they are copied to the host once per epoch, and per
batch only when a callback implements a batch hook (Keras 3 skips the others)."""

import numpy as np
import pytest

import gpuk as keras
from gpuk.autograd import Tensor
from gpuk.callbacks import base as callbacks_base
from gpuk.models import training_loops as training


@pytest.fixture
def copies(monkeypatch):
    """Count the calls of logs_to_host that had device values to copy."""
    counted = []
    real = callbacks_base.logs_to_host

    def counting(logs):
        flat = callbacks_base._flat_logs(dict(logs or {}), {})
        if any(isinstance(v, Tensor) for v in flat.values()):
            counted.append(sorted(flat))
        return real(logs)

    monkeypatch.setattr(callbacks_base, "logs_to_host", counting)
    monkeypatch.setattr(training, "logs_to_host", counting)
    return counted


def _model():
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    model.compile("sgd", "mse", metrics=["mae"])
    return model


def _data():
    rng = np.random.default_rng(0)
    return rng.random((32, 4)).astype("float32"), rng.random((32, 1)).astype("float32")


def test_silent_fit_copies_logs_once_per_epoch(copies, xp):
    x, y = _data()
    history = _model().fit(x, y, batch_size=8, epochs=3, verbose=0)
    assert len(copies) == 3  # 4 batches per epoch, one copy per epoch
    assert copies[0] == ["loss", "mae"]
    assert all(isinstance(v, float) for v in history.history["loss"])


def test_epoch_level_callbacks_add_no_batch_copies(copies, xp):
    x, y = _data()
    seen = []
    callbacks = [
        keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(logs)),
        keras.callbacks.EarlyStopping(monitor="loss", patience=5),
    ]
    _model().fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=callbacks)
    assert len(copies) == 2 and len(seen) == 2


def test_batch_hook_gets_host_floats_and_costs_one_copy_per_batch(copies, xp):
    x, y = _data()
    batch_logs = []

    class Batches(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            batch_logs.append(logs)

    _model().fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=[Batches()])
    assert len(batch_logs) == 8
    assert all(isinstance(v, float) for logs in batch_logs for v in logs.values())
    assert len(copies) == 8 + 2


def test_train_step_returns_device_values(xp):
    x, y = _data()
    model = _model()
    logs = model.train_step((keras.Tensor(xp.asarray(x)), keras.Tensor(xp.asarray(y))))
    assert sorted(logs) == ["loss", "mae"]
    assert all(isinstance(v, Tensor) and v.ndim == 0 for v in logs.values())
    assert all(type(v.data) is type(xp.zeros(())) for v in logs.values())  # on the device
