"""ReduceLROnPlateau, LearningRateScheduler, CSVLogger and BackupAndRestore driven hook by hook
with scripted logs, against what Keras 3's callbacks did with the same calls (exact values,
file texts and backup metadata, no training noise).

Expected values: tests/fixtures/keras/mutoc/values.json (tools/make_keras_fixtures_mutoc.py).
"""

import json
import os

import numpy as np
import pytest

import gpuk as keras

REF = json.load(
    open(os.path.join(os.path.dirname(__file__), "..", "fixtures", "keras", "mutoc", "values.json"))
)


def _model(learning_rate=1.0, optimizer=None):
    inputs = keras.Input((2,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    model.compile(optimizer=optimizer or keras.optimizers.SGD(learning_rate), loss="mse")
    return model


def _rate(model):
    return float(np.asarray(model.optimizer.learning_rate))


@pytest.mark.parametrize("case", REF["reduce_lr"], ids=lambda c: str(sorted(c["kwargs"].items())))
def test_reduce_lr_on_plateau_scripted_like_keras(case):
    model = _model(1.0)
    callback = keras.callbacks.ReduceLROnPlateau(**case["kwargs"])
    callback.set_model(model)
    for _run in range(2):  # a second fit starts afresh (on_train_begin resets the state)
        model.optimizer.learning_rate = 1.0
        callback.on_train_begin()
        rates, logged = [], []
        for epoch, (key, value) in enumerate(case["script"]):
            logs = {key: value}
            callback.on_epoch_end(epoch, logs)
            logged.append(logs["learning_rate"])
            rates.append(_rate(model))
        np.testing.assert_allclose(rates, case["rates"], rtol=1e-6)
        np.testing.assert_allclose(logged, case["logged"], rtol=1e-6)


def test_reduce_lr_on_plateau_verbose_message_and_min_lr_floor(capsys):
    model = _model(1.0)
    callback = keras.callbacks.ReduceLROnPlateau(
        monitor="loss", factor=0.25, patience=1, verbose=1, min_lr=0.1
    )
    callback.set_model(model)
    callback.on_train_begin()
    for epoch in range(4):
        callback.on_epoch_end(epoch, {"loss": 1.0})
    out = capsys.readouterr().out
    assert "Epoch 2: ReduceLROnPlateau reducing learning rate to 0.25." in out
    assert "Epoch 3: ReduceLROnPlateau reducing learning rate to 0.1." in out
    assert out.count("reducing") == 2  # at min_lr nothing more is reduced or printed
    assert _rate(model) == pytest.approx(0.1)


def test_reduce_lr_on_plateau_epsilon_spelling_and_unknown_arguments():
    callback = keras.callbacks.ReduceLROnPlateau(epsilon=0.5)
    assert callback.min_delta == 0.5
    with pytest.raises(TypeError, match="unexpected keyword arguments.*'colour'"):
        keras.callbacks.ReduceLROnPlateau(colour=1)
    with pytest.raises(ValueError, match=r"factor >= 1.0.*factor=1.0"):
        keras.callbacks.ReduceLROnPlateau(factor=1.0)
    keras.callbacks.ReduceLROnPlateau(factor=0.99)


def test_reduce_lr_on_plateau_missing_monitor_warns_and_still_logs_the_rate():
    model = _model(0.5)
    callback = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", patience=0)
    callback.set_model(model)
    callback.on_train_begin()
    logs = {"loss": 1.0}
    with pytest.warns(UserWarning, match=r"Learning rate reduction is conditioned on.*val_loss"):
        callback.on_epoch_end(0, logs)
    assert logs["learning_rate"] == pytest.approx(0.5)
    assert _rate(model) == pytest.approx(0.5)
    callback.on_epoch_end(1, None)  # no logs at all: nothing to watch, no error


@pytest.mark.parametrize("form", ["two", "one"])
def test_learning_rate_scheduler_scripted_like_keras(form):
    expected = REF["lr_scheduler"][form]

    def two(epoch, lr):
        return lr * 0.5 if epoch >= 2 else lr

    def one(epoch):
        return 0.1 / (epoch + 1)

    model = _model(0.8)
    callback = keras.callbacks.LearningRateScheduler(two if form == "two" else one)
    callback.set_model(model)
    rates, logged = [], []
    for epoch in range(5):
        callback.on_epoch_begin(epoch)
        rates.append(_rate(model))
        logs = {"loss": 1.0}
        callback.on_epoch_end(epoch, logs)
        logged.append(logs)
    np.testing.assert_allclose(rates, expected["rates"], rtol=1e-6)
    assert [sorted(logs) for logs in logged] == [sorted(logs) for logs in expected["logs"]]
    np.testing.assert_allclose(
        [logs["learning_rate"] for logs in logged],
        [logs["learning_rate"] for logs in expected["logs"]],
        rtol=1e-6,
    )


def test_learning_rate_scheduler_schedule_of_varargs_and_builtins():
    model = _model(0.8)
    seen = []

    def varargs(*args):
        seen.append(args)
        return 0.25

    callback = keras.callbacks.LearningRateScheduler(varargs)
    callback.set_model(model)
    callback.on_epoch_begin(3)
    assert len(seen[0]) == 2 and seen[0][0] == 3 and seen[0][1] == pytest.approx(0.8)
    assert _rate(model) == pytest.approx(0.25)
    # A callable without a signature gets (epoch, lr) first: max(3, 0.25) is 3.
    callback = keras.callbacks.LearningRateScheduler(max)
    callback.set_model(model)
    callback.on_epoch_begin(3)
    assert _rate(model) == pytest.approx(3.0)
    # A schedule returning a 0-d array or a Tensor is accepted.
    for value in (np.float32(0.5), np.asarray(0.125), keras.ops.convert_to_tensor(0.375)):
        callback = keras.callbacks.LearningRateScheduler((lambda v: lambda epoch: v)(value))
        callback.set_model(model)
        callback.on_epoch_begin(0)
        assert _rate(model) == pytest.approx(float(value))
    on_end = {}
    callback.on_epoch_end(0, None)  # no logs: nothing recorded, no error
    callback.on_epoch_end(0, on_end)
    assert on_end == {"learning_rate": pytest.approx(0.375)}


def test_learning_rate_scheduler_errors():
    with pytest.raises(TypeError, match="`schedule` must be callable"):
        keras.callbacks.LearningRateScheduler(0.1)
    model = _model(0.8)
    callback = keras.callbacks.LearningRateScheduler(lambda epoch: True)
    callback.set_model(model)
    with pytest.raises(ValueError, match="should be a float. Got: True"):
        callback.on_epoch_begin(0)
    callback = keras.callbacks.LearningRateScheduler(lambda epoch: "fast")
    callback.set_model(model)
    with pytest.raises(ValueError, match="should be a float. Got: 'fast'"):
        callback.on_epoch_begin(0)

    class NoRate:
        name = "norate"

    model.optimizer = NoRate()
    callback = keras.callbacks.LearningRateScheduler(lambda epoch: 0.1)
    callback.set_model(model)
    with pytest.raises(ValueError, match='must have a "learning_rate" attribute'):
        callback.on_epoch_begin(0)


def test_learning_rate_callbacks_need_an_optimizer():
    inputs = keras.Input((2,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    callback = keras.callbacks.LearningRateScheduler(lambda epoch: 0.1)
    callback.set_model(model)
    with pytest.raises(ValueError, match="no optimizer"):
        callback.on_epoch_begin(0)


def test_learning_rate_callbacks_with_several_optimizers_log_each_rate(capsys):
    class Pair:
        def __init__(self):
            self.optimizers = [keras.optimizers.SGD(0.5, name="a"), keras.optimizers.SGD(0.2)]
            self.optimizers[1].name = "b"

    model = _model(1.0)
    model.optimizer = Pair()
    callback = keras.callbacks.LearningRateScheduler(lambda epoch, lr: lr / 2, verbose=1)
    callback.set_model(model)
    callback.on_epoch_begin(0)
    logs = {}
    callback.on_epoch_end(0, logs)
    assert logs == {
        "learning_rate_a": pytest.approx(0.25),
        "learning_rate_b": pytest.approx(0.1),
    }
    out = capsys.readouterr().out
    assert "Epoch 1: LearningRateScheduler setting a learning rate to 0.25." in out
    assert "Epoch 1: LearningRateScheduler setting b learning rate to 0.1000000" in out

    reduce = keras.callbacks.ReduceLROnPlateau(monitor="loss", patience=1, factor=0.5, verbose=1)
    reduce.set_model(model)
    reduce.on_train_begin()
    for epoch in range(2):
        logs = {"loss": 1.0}
        reduce.on_epoch_end(epoch, logs)
    assert sorted(logs) == ["learning_rate_a", "learning_rate_b", "loss"]
    rates = [float(np.asarray(o.learning_rate)) for o in model.optimizer.optimizers]
    assert rates == pytest.approx([0.125, 0.05])
    out = capsys.readouterr().out
    assert "Epoch 2: ReduceLROnPlateau reducing a learning rate to 0.125." in out
    assert "reducing b learning rate" in out


def test_learning_rate_scheduler_verbose_single_optimizer(capsys):
    model = _model(1.0)
    callback = keras.callbacks.LearningRateScheduler(lambda epoch: 0.5, verbose=1)
    callback.set_model(model)
    callback.on_epoch_begin(4)
    assert "\nEpoch 5: LearningRateScheduler setting learning rate to 0.5.\n" in (
        capsys.readouterr().out
    )
    quiet = keras.callbacks.LearningRateScheduler(lambda epoch: 0.5)
    quiet.set_model(model)
    quiet.on_epoch_begin(0)
    assert capsys.readouterr().out == ""


def _drive_csv(path, runs, **kwargs):
    model = _model()
    for logs_per_epoch in runs:
        callback = keras.callbacks.CSVLogger(path, **kwargs)
        callback.set_model(model)
        callback.on_train_begin()
        for epoch, logs in enumerate(logs_per_epoch):
            callback.on_epoch_end(epoch, logs)
        callback.on_train_end()
        assert callback.csv_file.closed
    with open(path) as f:
        return f.read()


def test_csv_logger_missing_and_validation_columns_like_keras(tmp_path):
    runs = [[{"loss": 0.5, "acc": 0.25}, {"loss": 0.25, "acc": 0.5, "val_loss": 0.75}]]
    runs[0].append({"loss": 0.125})
    assert _drive_csv(str(tmp_path / "log.csv"), runs) == REF["csv_logger"]["plain"]


def test_csv_logger_separator_lists_strings_and_append_like_keras(tmp_path):
    path = str(tmp_path / "sub" / "log.csv")
    first = [
        {"loss": 1.5, "val_loss": 2.5, "lst": [1, 2, 3], "txt": "a b"},
        {"loss": 1.25, "val_loss": 2.25, "lst": [4], "txt": "c"},
    ]
    assert _drive_csv(path, [first], separator=";") == REF["csv_logger"]["separator"]
    second = [{"loss": 1.0, "val_loss": 2.0, "lst": [5, 6], "txt": "d"}]
    got = _drive_csv(path, [second], separator=";", append=True)
    assert got == REF["csv_logger"]["appended"]
    # Without append the file is rewritten.
    assert _drive_csv(path, [first], separator=";") == REF["csv_logger"]["separator"]


def test_csv_logger_append_to_a_new_file_and_empty_logs_like_keras(tmp_path):
    got = _drive_csv(str(tmp_path / "new.csv"), [[{"loss": 3.0, "val_loss": 4.0}]], append=True)
    assert got == REF["csv_logger"]["append_new"]
    assert _drive_csv(str(tmp_path / "e.csv"), [[{}, {}]]) == REF["csv_logger"]["empty"]
    # An empty existing file still gets its header when appending.
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    got = _drive_csv(str(empty), [[{"loss": 3.0, "val_loss": 4.0}]], append=True)
    assert got == REF["csv_logger"]["append_new"]


def test_csv_logger_writes_rows_without_on_train_begin_and_zero_d_arrays(tmp_path):
    path = str(tmp_path / "log.csv")
    callback = keras.callbacks.CSVLogger(path)
    callback.set_model(_model())
    callback.on_epoch_end(0, {"loss": np.asarray(0.5), "val_loss": np.float32(0.25)})
    callback.on_epoch_end(1, None)
    callback.on_train_end()
    with open(path) as f:
        assert f.read() == "epoch,loss,val_loss\n0,0.5,0.25\n1,NA,NA\n"
    # A second on_train_begin closes the file of the first run before reopening.
    callback.on_train_begin()
    first = callback.csv_file
    callback.on_train_begin()
    assert first.closed and not callback.csv_file.closed
    callback.on_train_end()
    callback.on_train_end()  # twice: no error


@pytest.mark.parametrize("save_freq", ["epoch", 3, 1, 5])
def test_backup_and_restore_saves_when_keras_does(tmp_path, save_freq):
    folder = str(tmp_path / "backup")
    model = _model()
    callback = keras.callbacks.BackupAndRestore(
        folder, save_freq=save_freq, delete_checkpoint=False
    )
    callback.set_model(model)
    callback.on_train_begin()
    meta_path = os.path.join(folder, "training_metadata.json")
    seen = []
    for kind, n in REF["backup_script"]:
        if kind == "batch":
            callback.on_train_batch_begin(n)
            callback.on_train_batch_end(n)
        else:
            callback.on_epoch_end(n)
        if os.path.exists(meta_path):
            with open(meta_path) as f:
                seen.append(json.load(f))
            os.remove(meta_path)
        else:
            seen.append(None)
    assert seen == REF["backup"][str(save_freq)]
    callback.on_train_end()
    assert os.path.isdir(folder)  # delete_checkpoint=False keeps it


def test_backup_and_restore_epoch_and_weights_restored(tmp_path):
    folder = str(tmp_path / "backup")
    model = _model(optimizer=keras.optimizers.Adam(0.1))
    model.fit(np.ones((4, 2), "float32"), np.ones((4, 1), "float32"), epochs=1, verbose=0)
    callback = keras.callbacks.BackupAndRestore(folder)
    callback.set_model(model)
    callback.on_train_begin()
    callback.on_epoch_end(0)
    callback.on_epoch_end(1)
    weights, slots = model.get_weights(), model.optimizer.get_weights()

    fresh = _model(optimizer=keras.optimizers.Adam(0.1))
    restore = keras.callbacks.BackupAndRestore(folder)
    restore.set_model(fresh)
    restore.on_train_begin()  # the optimizer is built from the backup
    assert fresh._initial_epoch == 2
    for got, want in zip(fresh.get_weights() + fresh.optimizer.get_weights(), weights + slots):
        np.testing.assert_array_equal(got, want)
    assert int(np.asarray(fresh.optimizer.iterations)) == 1
    restore.on_train_end()
    assert not os.path.exists(folder)


def test_backup_and_restore_falls_back_to_the_previous_backup(tmp_path):
    folder = tmp_path / "backup"
    model = _model()
    callback = keras.callbacks.BackupAndRestore(str(folder), double_checkpoint=True)
    callback.set_model(model)
    callback.on_train_begin()
    callback.on_epoch_end(0)
    assert not (folder / "latest.npz.bkp").exists()  # nothing to keep before the first save
    first = model.get_weights()
    model.set_weights([w + 1 for w in first])
    callback.on_epoch_end(1)
    assert (folder / "latest.npz.bkp").exists()
    (folder / "latest.npz").write_bytes(b"not a backup")
    fresh = _model()
    restore = keras.callbacks.BackupAndRestore(str(folder))
    restore.set_model(fresh)
    restore.on_train_begin()
    assert fresh._initial_epoch == 1
    for got, want in zip(fresh.get_weights(), first):
        np.testing.assert_array_equal(got, want)
    # Without a usable file the error is raised.
    (folder / "latest.npz.bkp").write_bytes(b"not a backup either")
    with pytest.raises((OSError, ValueError)):
        restore.on_train_begin()


def test_backup_and_restore_needs_a_built_model_and_valid_save_freq(tmp_path):
    with pytest.raises(ValueError, match=r"save_freq=True"):
        keras.callbacks.BackupAndRestore(str(tmp_path), save_freq=True)
    with pytest.raises(ValueError, match=r"save_freq=1.5"):
        keras.callbacks.BackupAndRestore(str(tmp_path), save_freq=1.5)
    keras.callbacks.BackupAndRestore(str(tmp_path), save_freq=2)
    model = keras.Sequential([keras.layers.Dense(1)])
    callback = keras.callbacks.BackupAndRestore(str(tmp_path / "b"))
    callback.set_model(model)
    with pytest.raises(ValueError, match="must be built before you call `fit"):
        callback.on_train_begin()


def test_reduce_lr_on_plateau_is_silent_by_default_and_resets_its_state(capsys):
    model = _model(1.0)
    callback = keras.callbacks.ReduceLROnPlateau(monitor="loss", patience=1, cooldown=3)
    callback.set_model(model)
    callback.on_train_begin()
    for epoch in range(3):
        callback.on_epoch_end(epoch, {"loss": 1.0})
    assert _rate(model) == pytest.approx(0.1)
    assert capsys.readouterr().out == ""
    assert callback.in_cooldown() and callback.cooldown_counter == 2
    callback.on_train_begin()  # Keras's _reset: no cooldown, no wait, no best
    assert (callback.cooldown_counter, callback.wait, callback.best) == (0, 0, None)
    assert not callback.in_cooldown()


def test_early_stopping_without_logs_warns_once_and_keeps_training():
    model = _model()
    callback = keras.callbacks.EarlyStopping(monitor="val_loss", patience=0)
    callback.set_model(model)
    callback.on_train_begin()
    with pytest.warns(UserWarning, match=r"Early stopping conditioned on metric `val_loss`"):
        callback.on_epoch_end(0, None)
    assert callback.get_monitor_value(None) is None
    assert not getattr(model, "stop_training", False)
