"""ModelCheckpoint (formatted names, best-only, batches, loading back, atomic writes) and
BackupAndRestore (an interrupted fit resumes and ends with the weights of an uninterrupted
one)."""

import os

import numpy as np
import pytest

import gpuk as keras


def _assert_same_weights(a, b):
    assert len(a) == len(b)
    for got, want in zip(a, b):
        np.testing.assert_array_equal(got, want)


def test_checkpoint_names_are_formatted_and_folders_created(data, make_model, tmp_path):
    x, y = data
    pattern = str(tmp_path / "new" / "dir" / "w.{epoch:02d}-{val_loss:.2f}.weights.h5")
    history = make_model().fit(
        x,
        y,
        epochs=3,
        verbose=0,
        validation_data=(x, y),
        callbacks=[keras.callbacks.ModelCheckpoint(pattern, save_weights_only=True)],
    )
    expected = sorted(
        f"w.{e + 1:02d}-{v:.2f}.weights.h5" for e, v in enumerate(history.history["val_loss"])
    )
    assert sorted(os.listdir(tmp_path / "new" / "dir")) == expected


def test_weights_checkpoint_loads_back(data, make_model, tmp_path):
    x, y = data
    path = tmp_path / "best.weights.h5"
    model = make_model()
    model.fit(
        x,
        y,
        epochs=2,
        verbose=0,
        callbacks=[keras.callbacks.ModelCheckpoint(path, monitor="loss", save_weights_only=True)],
    )
    fresh = make_model(seed=1)
    fresh.load_weights(str(path))
    _assert_same_weights(fresh.get_weights(), model.get_weights())


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_model_checkpoint_loads_back_as_a_model(data, make_model, tmp_path, suffix):
    x, y = data
    path = str(tmp_path / f"model{suffix}")
    model = make_model()
    model.fit(
        x,
        y,
        epochs=2,
        verbose=0,
        callbacks=[keras.callbacks.ModelCheckpoint(path, monitor="loss")],
    )
    loaded = keras.models.load_model(path)
    _assert_same_weights(loaded.get_weights(), model.get_weights())
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_save_best_only_keeps_the_best_epoch(data, make_model, script, tmp_path):
    x, y = data
    path = str(tmp_path / "best.weights.h5")
    snapshots = []
    model = make_model()
    checkpoint = keras.callbacks.ModelCheckpoint(
        path, save_best_only=True, save_weights_only=True, verbose=1
    )
    model.fit(
        x,
        y,
        epochs=5,
        verbose=0,
        callbacks=[
            script([0.5, 0.4, 0.45, 0.3, 0.35]),
            keras.callbacks.LambdaCallback(
                on_epoch_end=lambda e, logs: snapshots.append(model.get_weights())
            ),
            checkpoint,
        ],
    )
    assert checkpoint.best == pytest.approx(0.3)
    fresh = make_model(seed=3)
    fresh.load_weights(path)
    _assert_same_weights(fresh.get_weights(), snapshots[3])


def test_save_best_only_mode_max_and_threshold(data, make_model, script, tmp_path, capsys):
    x, y = data
    path = str(tmp_path / "m.{epoch}.weights.h5")
    checkpoint = keras.callbacks.ModelCheckpoint(
        path,
        monitor="val_acc",
        mode="max",
        save_best_only=True,
        save_weights_only=True,
        initial_value_threshold=0.6,
        verbose=1,
    )
    make_model().fit(
        x,
        y,
        epochs=4,
        verbose=0,
        callbacks=[script([0.5, 0.7, 0.65, 0.8], key="val_acc"), checkpoint],
    )
    assert sorted(os.listdir(tmp_path)) == ["m.2.weights.h5", "m.4.weights.h5"]
    out = capsys.readouterr().out
    assert "Epoch 1: val_acc did not improve from 0.60000" in out
    assert "Epoch 2: val_acc improved from 0.60000 to 0.70000, saving model to" in out


def test_integer_save_freq_counts_batches_across_epochs(data, make_model, tmp_path):
    x, y = data
    path = str(tmp_path / "e{epoch}-b{batch}.weights.h5")
    make_model().fit(
        x,
        y,
        batch_size=4,
        epochs=2,
        verbose=0,  # 3 batches per epoch
        callbacks=[keras.callbacks.ModelCheckpoint(path, save_freq=2, save_weights_only=True)],
    )
    assert sorted(os.listdir(tmp_path)) == [
        "e1-b2.weights.h5",
        "e2-b1.weights.h5",
        "e2-b3.weights.h5",
    ]


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="save_freq"):
        keras.callbacks.ModelCheckpoint("m.keras", save_freq="sometimes")
    with pytest.raises(ValueError, match="weights.h5"):
        keras.callbacks.ModelCheckpoint("m.keras", save_weights_only=True)


def test_missing_format_key_names_the_filepath(data, make_model, tmp_path):
    x, y = data
    checkpoint = keras.callbacks.ModelCheckpoint(str(tmp_path / "{val_loss:.2f}.keras"))
    with pytest.raises(KeyError, match="Failed to format this callback filepath"):
        make_model().fit(x, y, epochs=1, verbose=0, callbacks=[checkpoint])


def test_failed_write_keeps_the_previous_checkpoint(data, make_model, tmp_path):
    x, y = data
    path = tmp_path / "model.weights.h5"
    model = make_model()
    checkpoint = keras.callbacks.ModelCheckpoint(str(path), monitor="loss", save_weights_only=True)
    model.fit(x, y, epochs=1, verbose=0, callbacks=[checkpoint])
    before = path.read_bytes()
    saved_weights = model.get_weights()

    real_save_weights = model.save_weights

    def broken(filepath, overwrite=True):
        with open(filepath, "wb") as f:
            f.write(b"half a file")
        raise OSError("disk full")

    model.save_weights = broken
    with pytest.raises(OSError, match="disk full"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[checkpoint])
    model.save_weights = real_save_weights
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.weights.h5"]  # no temporary left behind
    fresh = make_model(seed=5)
    fresh.load_weights(str(path))
    _assert_same_weights(fresh.get_weights(), saved_weights)


def test_directory_as_filepath_is_an_error(data, make_model, tmp_path):
    x, y = data
    (tmp_path / "d.keras").mkdir()
    with pytest.raises(IsADirectoryError, match="non-directory"):
        make_model().fit(
            x,
            y,
            epochs=1,
            verbose=0,
            callbacks=[keras.callbacks.ModelCheckpoint(str(tmp_path / "d.keras"))],
        )


# ------------------------------------------------------------------ BackupAndRestore


class Interrupt(keras.callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise RuntimeError("interrupted")


def test_backup_files_are_written_and_deleted(data, make_model, tmp_path):
    x, y = data
    backup = tmp_path / "backup"
    seen = []
    model = make_model("adam")
    model.fit(
        x,
        y,
        epochs=2,
        verbose=0,
        callbacks=[
            keras.callbacks.BackupAndRestore(str(backup)),
            keras.callbacks.LambdaCallback(
                on_epoch_end=lambda e, logs: seen.append(sorted(os.listdir(backup)))
            ),
        ],
    )
    assert seen[0] == ["latest.npz", "training_metadata.json"]
    assert not backup.exists()


def test_interrupted_fit_keeps_the_backup_and_restores_weights_and_optimizer(
    data, make_model, tmp_path
):
    x, y = data
    backup = str(tmp_path / "backup")
    model = make_model("adam")
    snapshots = []
    with pytest.raises(RuntimeError, match="interrupted"):
        model.fit(
            x,
            y,
            epochs=5,
            batch_size=4,
            shuffle=False,
            verbose=0,
            callbacks=[
                keras.callbacks.BackupAndRestore(backup),
                keras.callbacks.LambdaCallback(
                    on_epoch_end=lambda e, logs: snapshots.append(
                        (model.get_weights(), model.optimizer.get_weights())
                    )
                ),
                Interrupt(3),
            ],
        )
    assert os.path.exists(os.path.join(backup, "latest.npz"))
    fresh = make_model("adam", seed=7)
    callback = keras.callbacks.BackupAndRestore(backup)
    callback.set_model(fresh)
    callback.on_train_begin()
    _assert_same_weights(fresh.get_weights(), snapshots[2][0])
    _assert_same_weights(fresh.optimizer.get_weights(), snapshots[2][1])
    assert fresh._initial_epoch == 3


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_interrupted_fit_resumes_to_the_uninterrupted_result(data, make_model, tmp_path, optimizer):
    x, y = data
    reference = make_model(optimizer)
    full = reference.fit(x, y, epochs=5, batch_size=4, shuffle=False, verbose=0)

    backup = str(tmp_path / "backup")
    model = make_model(optimizer)
    with pytest.raises(RuntimeError, match="interrupted"):
        model.fit(
            x,
            y,
            epochs=5,
            batch_size=4,
            shuffle=False,
            verbose=0,
            callbacks=[keras.callbacks.BackupAndRestore(backup), Interrupt(3)],
        )
    resumed_model = make_model(optimizer, seed=11)  # a new process: fresh weights
    resumed = resumed_model.fit(
        x,
        y,
        epochs=5,
        batch_size=4,
        shuffle=False,
        verbose=0,
        callbacks=[keras.callbacks.BackupAndRestore(backup)],
    )
    assert resumed.epoch == [3, 4]
    assert resumed.history["loss"] == pytest.approx(full.history["loss"][3:], rel=1e-6)
    for got, want in zip(resumed_model.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
    assert not os.path.exists(backup)
    # The next fit starts from epoch 0 again.
    again = resumed_model.fit(x, y, epochs=1, verbose=0)
    assert again.epoch == [0]


def test_backup_and_restore_bad_arguments():
    with pytest.raises(ValueError, match="backup_dir"):
        keras.callbacks.BackupAndRestore("")
    with pytest.raises(ValueError, match="save_freq"):
        keras.callbacks.BackupAndRestore("b", save_freq="often")
