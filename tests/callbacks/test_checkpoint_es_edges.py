"""ModelCheckpoint's integer save_freq and tf.keras ``period``; EarlyStopping's baseline.

Expected values: tests/fixtures/keras/mutation/values.json (tools/make_keras_fixtures_mutation.py).
"""

import json
import os

import numpy as np
import pytest

import gpuk

REF = json.load(
    open(
        os.path.join(
            os.path.dirname(__file__), "..", "fixtures", "keras", "mutation", "values.json"
        )
    )
)["callbacks"]

X = np.random.default_rng(0).random((8, 3)).astype("float32")
Y = X.sum(1, keepdims=True)


def _model():
    model = gpuk.Sequential([gpuk.Input((3,)), gpuk.layers.Dense(1)])
    model.compile("sgd", "mse")
    return model


def test_integer_save_freq_with_one_batch_per_epoch(tmp_path):
    cb = gpuk.callbacks.ModelCheckpoint(
        str(tmp_path / "w.{epoch:02d}.weights.h5"), save_weights_only=True, save_freq=2
    )
    _model().fit(X, Y, batch_size=8, epochs=5, verbose=0, callbacks=[cb])
    assert sorted(os.listdir(tmp_path)) == REF["ckpt_int_freq_one_batch"]


@pytest.mark.parametrize("period,epochs", [(2, 5), (3, 7), (1, 3)])
def test_period_saves_every_n_epochs(tmp_path, period, epochs):
    # tf.keras 2's `period`: save at the end of every `period`-th epoch.
    cb = gpuk.callbacks.ModelCheckpoint(
        str(tmp_path / "w.{epoch:02d}.weights.h5"), save_weights_only=True, period=period
    )
    _model().fit(X, Y, batch_size=4, epochs=epochs, verbose=0, callbacks=[cb])
    expected = [f"w.{e:02d}.weights.h5" for e in range(1, epochs + 1) if e % period == 0]
    assert sorted(os.listdir(tmp_path)) == expected


SEQS = {
    "a": [1.0, 0.9, 0.95, 0.96, 0.97, 0.98, 0.99],
    "b": [2.0, 1.5, 1.2, 1.1, 1.05, 1.0, 0.99, 0.98],
    "c": [0.5, 0.6, 0.4, 0.45, 0.46, 0.47, 0.48],
}


@pytest.mark.parametrize("patience", [0, 1, 3, 4])
@pytest.mark.parametrize("baseline", [None, 1.0, 0.45])
@pytest.mark.parametrize("key", sorted(SEQS))
def test_early_stopping_baseline_and_patience(patience, baseline, key):
    model = gpuk.Sequential([gpuk.Input((1,)), gpuk.layers.Dense(1)])
    model.stop_training = False
    es = gpuk.callbacks.EarlyStopping(patience=patience, baseline=baseline)
    es.set_model(model)
    es.on_train_begin()
    stopped_at = None
    for epoch, value in enumerate(SEQS[key]):
        es.on_epoch_end(epoch, {"val_loss": value})
        if model.stop_training:
            stopped_at = epoch
            break
    assert [stopped_at, es.wait] == REF[f"es_{key}_p{patience}_b{baseline}"]
    if stopped_at is not None:
        assert es.stopped_epoch == stopped_at


def test_period_zero_saves_every_epoch_and_options_is_accepted(tmp_path):
    cb = gpuk.callbacks.ModelCheckpoint(
        str(tmp_path / "w.{epoch:02d}.weights.h5"), save_weights_only=True, period=0, options=None
    )
    _model().fit(X, Y, batch_size=4, epochs=2, verbose=0, callbacks=[cb])
    assert sorted(os.listdir(tmp_path)) == ["w.01.weights.h5", "w.02.weights.h5"]


def test_verbose_checkpoint_says_where_it_saves(tmp_path, capsys):
    path = str(tmp_path / "w.weights.h5")
    cb = gpuk.callbacks.ModelCheckpoint(path, save_weights_only=True, verbose=1)
    _model().fit(X, Y, batch_size=8, epochs=1, verbose=0, callbacks=[cb])
    assert f"Epoch 1: saving model to {path}" in capsys.readouterr().out


@pytest.mark.parametrize("value", [None, np.array([1.0, 2.0])])
def test_save_best_only_falls_back_to_saving(tmp_path, value):
    # Keras: a missing or non-scalar monitored value warns and saves anyway.
    path = str(tmp_path / "w.{epoch:02d}.weights.h5")
    cb = gpuk.callbacks.ModelCheckpoint(path, save_weights_only=True, save_best_only=True)
    cb.set_model(_model())
    cb.on_train_begin()
    logs = {} if value is None else {"val_loss": value}
    for epoch in range(2):
        with pytest.warns(UserWarning, match="save best model only"):
            cb.on_epoch_end(epoch, logs)
    assert sorted(os.listdir(tmp_path)) == ["w.01.weights.h5", "w.02.weights.h5"]


@pytest.mark.parametrize("start", [0, 2])
@pytest.mark.parametrize("baseline", [None, 0.45])
@pytest.mark.parametrize("key", sorted(SEQS))
def test_early_stopping_restore_best_weights_and_start_from_epoch(start, baseline, key):
    model = gpuk.Sequential([gpuk.Input((1,)), gpuk.layers.Dense(1)])
    model.stop_training = False
    es = gpuk.callbacks.EarlyStopping(
        patience=2, baseline=baseline, restore_best_weights=True, start_from_epoch=start
    )
    es.set_model(model)
    es.on_train_begin()
    for epoch, value in enumerate(SEQS[key]):
        model.set_weights([np.full((1, 1), epoch, "float32"), np.zeros(1, "float32")])
        es.on_epoch_end(epoch, {"val_loss": value})
        if model.stop_training:
            break
    es.on_train_end()
    got = [float(model.get_weights()[0][0, 0]), es.best_epoch, es.stopped_epoch, es.wait]
    assert got == REF[f"es_restore_{key}_s{start}_b{baseline}"]


def test_early_stopping_verbose_message(capsys):
    model = gpuk.Sequential([gpuk.Input((1,)), gpuk.layers.Dense(1)])
    model.stop_training = False
    es = gpuk.callbacks.EarlyStopping(patience=1, verbose=1, restore_best_weights=True)
    es.set_model(model)
    es.on_train_begin()
    for epoch, value in enumerate([1.0, 2.0, 3.0]):
        es.on_epoch_end(epoch, {"val_loss": value})
        if model.stop_training:
            break
    es.on_train_end()
    out = capsys.readouterr().out
    assert "Epoch 2: early stopping" in out
    assert "Restoring model weights from the end of the best epoch: 1." in out


def test_early_stopping_defaults_stop_at_the_first_worse_epoch():
    model = gpuk.Sequential([gpuk.Input((1,)), gpuk.layers.Dense(1)])
    model.stop_training = False
    es = gpuk.callbacks.EarlyStopping()
    es.set_model(model)
    es.on_train_begin()
    es.on_epoch_end(0, {"val_loss": 1.0})
    assert not model.stop_training
    es.on_epoch_end(1, {"val_loss": 1.0})  # no improvement (min_delta 0), patience 0
    assert model.stop_training and es.stopped_epoch == 1


def test_fresh_callbacks_state():
    es = gpuk.callbacks.EarlyStopping()
    assert es.model is None and es.wait == 0 and es.stopped_epoch == 0
    assert es.best_weights is None and es.start_from_epoch == 0 and es.best_epoch == 0


def test_early_stopping_reused_for_a_second_fit_starts_afresh():
    model = gpuk.Sequential([gpuk.Input((1,)), gpuk.layers.Dense(1)])
    es = gpuk.callbacks.EarlyStopping(patience=3, baseline=1.0)
    es.set_model(model)
    results = []
    for _ in range(2):
        model.stop_training = False
        es.on_train_begin()
        assert es.wait == 0 and es.stopped_epoch == 0
        stopped_at = None
        for epoch, value in enumerate(SEQS["a"]):
            es.on_epoch_end(epoch, {"val_loss": value})
            if model.stop_training:
                stopped_at = epoch
                break
        results.append([stopped_at, es.wait, es.stopped_epoch])
    assert results[0] == results[1]
    assert results[0][:2] == REF["es_a_p3_b1.0"]


def test_early_stopping_is_silent_by_default(capsys):
    model = gpuk.Sequential([gpuk.Input((1,)), gpuk.layers.Dense(1)])
    model.stop_training = False
    es = gpuk.callbacks.EarlyStopping(restore_best_weights=True)
    es.set_model(model)
    es.on_train_begin()
    for epoch, value in enumerate([1.0, 2.0]):
        es.on_epoch_end(epoch, {"val_loss": value})
    es.on_train_end()
    assert model.stop_training and capsys.readouterr().out == ""


def test_fresh_checkpoint_state_and_batch_saves_without_epoch_hooks(tmp_path):
    # A custom loop may call only the batch hooks: the epoch in the file name is then 1.
    cb = gpuk.callbacks.ModelCheckpoint(
        str(tmp_path / "w.{epoch:02d}.weights.h5"), save_weights_only=True, save_freq=1
    )
    assert cb.model is None
    cb.set_model(_model())
    cb.on_train_batch_end(0)
    assert os.listdir(tmp_path) == ["w.01.weights.h5"]


def test_early_stopping_warns_about_a_missing_monitor_in_each_fit():
    model = gpuk.Sequential([gpuk.Input((1,)), gpuk.layers.Dense(1)])
    model.stop_training = False
    es = gpuk.callbacks.EarlyStopping(monitor="val_nope")
    es.set_model(model)
    for _ in range(2):
        es.on_train_begin()
        with pytest.warns(UserWarning, match="val_nope"):
            es.on_epoch_end(0, {"loss": 1.0})
    assert not model.stop_training
