"""TensorBoard writes event files that TensorBoard's own reader understands."""

import sys

import numpy as np
import pytest

import gpuk as keras

pytest.importorskip("tensorboardX", reason="the TensorBoard callback needs tensorboardX")
event_accumulator = pytest.importorskip(
    "tensorboard.backend.event_processing.event_accumulator",
    reason="reading the event files needs the tensorboard package",
)


def _read(run_dir):
    accumulator = event_accumulator.EventAccumulator(
        str(run_dir), size_guidance={"scalars": 0, "histograms": 0, "tensors": 0}
    )
    accumulator.Reload()
    return accumulator


def _scalars(accumulator, tag):
    return [(e.step, e.value) for e in accumulator.Scalars(tag)]


def test_epoch_scalars_for_train_and_validation_runs(data, make_model, tmp_path):
    x, y = data
    model = make_model(keras.optimizers.SGD(0.05))
    history = model.fit(
        x,
        y,
        epochs=3,
        verbose=0,
        validation_data=(x[:4], y[:4]),
        callbacks=[keras.callbacks.TensorBoard(log_dir=tmp_path)],
    )
    train = _read(tmp_path / "train")
    validation = _read(tmp_path / "validation")
    assert {"epoch_loss", "epoch_mae", "epoch_learning_rate"} <= set(train.Tags()["scalars"])
    assert {"epoch_loss", "epoch_mae"} <= set(validation.Tags()["scalars"])
    steps, values = zip(*_scalars(train, "epoch_loss"))
    assert steps == (0, 1, 2)
    np.testing.assert_allclose(values, history.history["loss"], rtol=1e-6)
    steps, values = zip(*_scalars(validation, "epoch_loss"))
    assert steps == (0, 1, 2)
    np.testing.assert_allclose(values, history.history["val_loss"], rtol=1e-6)
    _, rates = zip(*_scalars(train, "epoch_learning_rate"))
    np.testing.assert_allclose(rates, [0.05] * 3, rtol=1e-6)
    assert not any(tag.startswith("batch_") for tag in train.Tags()["scalars"])
    assert "keras" in train.Tags()["tensors"]  # the model graph, as Keras writes it


def test_batch_scalars_with_update_freq(data, make_model, tmp_path):
    x, y = data
    make_model().fit(
        x,
        y,
        batch_size=2,
        epochs=2,
        verbose=0,  # 5 batches per epoch
        callbacks=[keras.callbacks.TensorBoard(log_dir=tmp_path / "every", update_freq="batch")],
    )
    make_model().fit(
        x,
        y,
        batch_size=2,
        epochs=2,
        verbose=0,
        callbacks=[keras.callbacks.TensorBoard(log_dir=tmp_path / "third", update_freq=3)],
    )
    every = _read(tmp_path / "every" / "train")
    assert [s for s, _ in _scalars(every, "batch_loss")] == list(range(1, 11))
    assert "batch_mae" in every.Tags()["scalars"]
    third = _read(tmp_path / "third" / "train")
    assert [s for s, _ in _scalars(third, "batch_loss")] == [3, 6, 9]


def test_weight_histograms_and_images(data, make_model, tmp_path):
    x, y = data
    make_model().fit(
        x,
        y,
        epochs=3,
        verbose=0,
        callbacks=[
            keras.callbacks.TensorBoard(log_dir=tmp_path, histogram_freq=2, write_images=True)
        ],
    )
    train = _read(tmp_path / "train")
    tags = set(train.Tags()["histograms"])
    assert {"dense/kernel/histogram", "dense/bias/histogram"} <= tags
    assert [e.step for e in train.Histograms("dense/kernel/histogram")] == [0, 2]
    assert "dense/kernel/image" in train.Tags()["images"]


def test_steps_per_second_and_evaluation_scalars(data, make_model, tmp_path):
    x, y = data
    model = make_model()
    board = keras.callbacks.TensorBoard(
        log_dir=tmp_path, write_steps_per_second=True, update_freq="batch"
    )
    model.fit(x, y, batch_size=5, epochs=1, verbose=0, callbacks=[board])
    model.evaluate(x, y, verbose=0, callbacks=[board])
    train = _read(tmp_path / "train")
    assert {"epoch_steps_per_second", "batch_steps_per_second"} <= set(train.Tags()["scalars"])
    validation = _read(tmp_path / "validation")
    assert _scalars(validation, "evaluation_loss_vs_iterations")[0][0] == 2


def test_missing_tensorboardx_names_the_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboardX", None)
    with pytest.raises(ImportError, match=r"pip install gpuk\[tensorboard\]"):
        keras.callbacks.TensorBoard()


def test_bad_update_freq():
    with pytest.raises(ValueError, match="update_freq"):
        keras.callbacks.TensorBoard(update_freq="often")


def test_two_fits_in_one_log_dir_keep_both(data, make_model, tmp_path):
    x, y = data
    model = make_model()
    for _ in range(2):
        model.fit(
            x, y, epochs=2, verbose=0, callbacks=[keras.callbacks.TensorBoard(log_dir=tmp_path)]
        )
    train = _read(tmp_path / "train")
    assert [s for s, _ in _scalars(train, "epoch_loss")] == [0, 1, 0, 1]
