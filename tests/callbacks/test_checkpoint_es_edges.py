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
