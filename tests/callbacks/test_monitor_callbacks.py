"""EarlyStopping, ReduceLROnPlateau, LearningRateScheduler, TerminateOnNaN, CSVLogger.

The expected epochs and learning rates were produced by Keras 3.15 (JAX backend) with the same
scripted monitor values (a callback before the tested one overwrites ``logs["val_loss"]``).
"""

import warnings

import numpy as np
import pytest

import gpuk as keras

SEQ = [1.0, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1]

# name, scripted values, EarlyStopping kwargs, Keras 3: (epochs run, stopped_epoch,
# best_epoch, wait, best)
EARLY_STOPPING_CASES = [
    ("patience2", SEQ, dict(patience=2), (4, 3, 1, 2, 0.5)),
    ("patience0", SEQ, dict(patience=0), (3, 2, 1, 1, 0.5)),
    (
        "min_delta",
        [1.0, 0.9, 0.85, 0.84, 0.83, 0.82, 0.81, 0.8],
        dict(patience=2, min_delta=0.05),
        (6, 5, 3, 2, 0.84),
    ),
    (
        "max",
        [0.1, 0.2, 0.3, 0.25, 0.2, 0.1, 0.1, 0.1],
        dict(patience=2, monitor="val_acc", mode="max"),
        (5, 4, 2, 2, 0.3),
    ),
    (
        "baseline",
        [1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3],
        dict(patience=2, baseline=0.55),
        (8, 0, 7, 0, 0.3),
    ),
    (
        "start_from_epoch",
        [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0],
        dict(patience=1, start_from_epoch=3),
        (5, 4, 3, 1, 4.0),
    ),
    (
        "restore_not_stopped",
        [1.0, 0.9, 0.8, 0.85, 0.7, 0.6, 0.65, 0.66],
        dict(patience=3, restore_best_weights=True),
        (8, 0, 5, 2, 0.6),
    ),
    (
        "restore_stopped",
        [1.0, 0.9, 0.8, 0.85, 0.86, 0.6, 0.65, 0.66],
        dict(patience=2, restore_best_weights=True),
        (5, 4, 2, 2, 0.8),
    ),
]


class WeightsAtEpochEnd(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(self.model.get_weights())


@pytest.mark.parametrize("name, values, kwargs, expected", EARLY_STOPPING_CASES)
def test_early_stopping_matches_keras(name, values, kwargs, expected, data, make_model, script):
    x, y = data
    model = make_model(keras.optimizers.SGD(0.1))
    stopper = keras.callbacks.EarlyStopping(**kwargs)
    snapshots = WeightsAtEpochEnd()
    key = kwargs.get("monitor", "val_loss")
    history = model.fit(
        x,
        y,
        batch_size=4,
        epochs=8,
        shuffle=False,
        verbose=0,
        callbacks=[script(values, key), snapshots, stopper],
    )
    epochs, stopped, best_epoch, wait, best = expected
    assert len(history.history["loss"]) == epochs
    assert (stopper.stopped_epoch, stopper.best_epoch, stopper.wait) == (stopped, best_epoch, wait)
    assert stopper.best == pytest.approx(best)
    final = model.get_weights()
    if kwargs.get("restore_best_weights"):
        wanted = snapshots.weights[best_epoch]
    else:
        wanted = snapshots.weights[-1]
    for got, want in zip(final, wanted):
        np.testing.assert_array_equal(got, want)


def test_early_stopping_stops_after_exactly_patience_epochs(data, make_model, script):
    x, y = data
    for patience in (1, 2, 3):
        # Best at epoch 1, never better afterwards.
        values = [1.0, 0.1] + [0.5] * 10
        stopper = keras.callbacks.EarlyStopping(patience=patience)
        history = make_model().fit(x, y, epochs=12, verbose=0, callbacks=[script(values), stopper])
        assert len(history.history["loss"]) == 2 + patience
        assert stopper.stopped_epoch == 1 + patience


def test_early_stopping_prints_when_verbose(data, make_model, script, capsys):
    x, y = data
    stopper = keras.callbacks.EarlyStopping(patience=1, verbose=1, restore_best_weights=True)
    make_model().fit(x, y, epochs=8, verbose=0, callbacks=[script(SEQ), stopper])
    out = capsys.readouterr().out
    assert "Epoch 3: early stopping" in out
    assert "Restoring model weights from the end of the best epoch: 2." in out


def test_missing_monitor_warns_once_and_trains_all_epochs(data, make_model):
    x, y = data
    stopper = keras.callbacks.EarlyStopping(monitor="val_loss", patience=0)
    reducer = keras.callbacks.ReduceLROnPlateau(monitor="nope", patience=0)
    model = make_model(keras.optimizers.SGD(0.05))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = model.fit(x, y, epochs=4, verbose=0, callbacks=[stopper, reducer])
    messages = [str(w.message) for w in caught]
    assert len(history.history["loss"]) == 4
    assert sum("Early stopping conditioned on metric `val_loss`" in m for m in messages) == 1
    assert sum("conditioned on metric `nope`" in m for m in messages) == 1
    assert history.history["learning_rate"] == pytest.approx([0.05] * 4)


def test_unknown_mode_warns_and_falls_back_to_auto():
    with pytest.warns(UserWarning, match="mode 'bogus' is unknown"):
        stopper = keras.callbacks.EarlyStopping(mode="bogus")
    assert stopper.mode == "auto"


def test_auto_mode_reads_the_direction_from_the_metric_name(make_model):
    model = make_model()
    for monitor, better in [
        ("val_loss", np.less),
        ("val_accuracy", np.greater),
        ("acc", np.greater),
        ("val_mae", np.less),
        ("out_1_loss", np.less),
        ("val_auc", np.greater),
    ]:
        stopper = keras.callbacks.EarlyStopping(monitor=monitor)
        stopper.set_model(model)
        stopper._set_monitor_op()
        assert stopper.monitor_op is better, monitor


def test_auto_mode_follows_a_metric_direction_even_for_a_loss_suffix(make_model):
    # Keras 3 fixes the direction only for "loss"; a metric named "*_loss" that declares
    # _direction "up" is maximized.
    class ScoreLoss(keras.metrics.Mean):
        def __init__(self, **kwargs):
            super().__init__(name="score_loss", **kwargs)
            self._direction = "up"

    model = make_model()
    model.score_tracker = ScoreLoss()
    for monitor in ("score_loss", "val_score_loss"):
        stopper = keras.callbacks.EarlyStopping(monitor=monitor)
        stopper.set_model(model)
        stopper._set_monitor_op()
        assert stopper.monitor_op is np.greater, monitor


# ReduceLROnPlateau: scripted val_loss over 10 epochs, SGD(0.1); Keras 3's learning_rate log.
RLROP_VALUES = [1.0, 0.9, 0.95, 0.96, 0.97, 0.5, 0.6, 0.7, 0.8, 0.9]
RLROP_CASES = [
    (dict(patience=2), [0.1, 0.1, 0.1, 0.1, 0.01, 0.01, 0.01, 0.01, 0.001, 0.001]),
    (
        dict(patience=1, cooldown=2),
        [0.1, 0.1, 0.1, 0.01, 0.01, 0.001, 0.001, 0.0001, 0.0001, 1e-05],
    ),
    (
        dict(patience=1, factor=0.5, min_lr=0.02),
        [0.1, 0.1, 0.1, 0.05, 0.025, 0.02, 0.02, 0.02, 0.02, 0.02],
    ),
    (dict(patience=1, min_delta=0.2), [0.1, 0.1, 0.01, 0.001, 1e-4, 1e-5, 1e-5, 1e-6, 1e-7, 1e-8]),
]


@pytest.mark.parametrize("kwargs, expected", RLROP_CASES)
def test_reduce_lr_on_plateau_matches_keras(kwargs, expected, data, make_model, script):
    x, y = data
    model = make_model(keras.optimizers.SGD(0.1))
    reducer = keras.callbacks.ReduceLROnPlateau(**kwargs)
    history = model.fit(x, y, epochs=10, verbose=0, callbacks=[script(RLROP_VALUES), reducer])
    assert history.history["learning_rate"] == pytest.approx(expected, rel=1e-5)
    # The logged rate is the one the epoch trained with (recorded before any reduction).
    assert float(model.optimizer.learning_rate.numpy()) <= expected[-1] * (1 + 1e-5)


def test_reduce_lr_on_plateau_rejects_factor_ge_1():
    with pytest.raises(ValueError, match="factor"):
        keras.callbacks.ReduceLROnPlateau(factor=1.0)


def test_learning_rate_scheduler_one_and_two_arguments(data, make_model):
    x, y = data
    model = make_model(keras.optimizers.SGD(0.1))
    seen = []

    def halve(epoch, lr):
        seen.append(lr)
        return lr * 0.5

    history = model.fit(
        x, y, epochs=3, verbose=0, callbacks=[keras.callbacks.LearningRateScheduler(halve)]
    )
    assert seen == pytest.approx([0.1, 0.05, 0.025])
    assert history.history["learning_rate"] == pytest.approx([0.05, 0.025, 0.0125])

    schedule = keras.callbacks.LearningRateScheduler(lambda epoch: 0.01 * (epoch + 1))
    history = model.fit(x, y, epochs=3, verbose=0, callbacks=[schedule])
    assert history.history["learning_rate"] == pytest.approx([0.01, 0.02, 0.03])


def test_learning_rate_scheduler_changes_the_update(data, make_model):
    x, y = data
    frozen = make_model(keras.optimizers.SGD(0.1))
    before = frozen.get_weights()
    frozen.fit(
        x,
        y,
        epochs=2,
        verbose=0,
        callbacks=[keras.callbacks.LearningRateScheduler(lambda epoch: 0.0)],
    )
    for got, want in zip(frozen.get_weights(), before):
        np.testing.assert_array_equal(got, want)


def test_learning_rate_scheduler_verbose_and_bad_output(data, make_model, capsys):
    x, y = data
    model = make_model(keras.optimizers.SGD(0.1))
    model.fit(
        x,
        y,
        epochs=1,
        verbose=0,
        callbacks=[keras.callbacks.LearningRateScheduler(lambda e: 0.5, verbose=1)],
    )
    assert "Epoch 1: LearningRateScheduler setting learning rate to 0.5." in capsys.readouterr().out
    with pytest.raises(ValueError, match="should be a float"):
        model.fit(
            x,
            y,
            epochs=1,
            verbose=0,
            callbacks=[keras.callbacks.LearningRateScheduler(lambda e: "fast")],
        )


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_terminate_on_nan_stops_at_the_first_bad_batch(data, make_model):
    x, y = data
    y = y.copy()
    y[0] = np.nan
    counter = []
    history = make_model().fit(
        x,
        y,
        batch_size=2,
        epochs=3,
        shuffle=False,
        verbose=0,
        callbacks=[
            keras.callbacks.TerminateOnNaN(),
            keras.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: counter.append(b)),
        ],
    )
    assert counter == [0]
    assert len(history.history["loss"]) == 1 and np.isnan(history.history["loss"][0])


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_terminate_on_nan_can_raise(data, make_model):
    x, y = data
    y = np.full_like(y, np.inf)
    with pytest.raises(RuntimeError, match="NaN or Inf loss"):
        make_model().fit(
            x, y, epochs=1, verbose=0, callbacks=[keras.callbacks.TerminateOnNaN(raise_error=True)]
        )


def test_csv_logger_rows_and_columns(data, make_model, tmp_path):
    x, y = data
    path = tmp_path / "sub" / "log.csv"
    model = make_model()
    history = model.fit(
        x,
        y,
        epochs=2,
        verbose=0,
        validation_data=(x, y),
        callbacks=[keras.callbacks.CSVLogger(path, separator=";")],
    )
    lines = path.read_text().splitlines()
    assert lines[0] == "epoch;loss;mae;val_loss;val_mae"
    assert len(lines) == 3
    first = lines[1].split(";")
    assert first[0] == "0"
    assert float(first[1]) == pytest.approx(history.history["loss"][0])
    assert float(first[3]) == pytest.approx(history.history["val_loss"][0])


def test_csv_logger_without_validation_and_append(data, make_model, tmp_path):
    x, y = data
    path = tmp_path / "log.csv"
    model = make_model()
    model.fit(x, y, epochs=2, verbose=0, callbacks=[keras.callbacks.CSVLogger(str(path))])
    lines = path.read_text().splitlines()
    # Keras 3 writes the val_ columns even without validation data.
    assert lines[0] == "epoch,loss,mae,val_loss,val_mae"
    assert lines[1].endswith(",NA,NA")
    model.fit(
        x, y, epochs=1, verbose=0, callbacks=[keras.callbacks.CSVLogger(str(path), append=True)]
    )
    lines = path.read_text().splitlines()
    assert len(lines) == 4 and lines[3].startswith("0,")
    model.fit(x, y, epochs=1, verbose=0, callbacks=[keras.callbacks.CSVLogger(str(path))])
    assert len(path.read_text().splitlines()) == 2
