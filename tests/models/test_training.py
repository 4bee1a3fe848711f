"""compile/fit/evaluate/predict behaviour a Keras user relies on."""

import numpy as np
import pytest

import gpuk as keras
from gpuk import layers


def regression_model(inputs=3, outputs=1, name=None):
    x = keras.Input((inputs,), name="features")
    y = layers.Dense(outputs, name="prediction")(x)
    return keras.Model(x, y, name=name)


def data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5]]) + 0.3).astype("float32")
    return x, y


def test_fit_reduces_loss_and_returns_history(xp):
    keras.utils.set_random_seed(1)
    model = regression_model()
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse", metrics=["mae"])
    x, y = data()
    history = model.fit(x, y, epochs=5, batch_size=16, verbose=0)
    assert sorted(history.history) == ["loss", "mae"]
    assert len(history.history["loss"]) == 5 and history.epoch == [0, 1, 2, 3, 4]
    assert history.history["loss"][-1] < 0.2 * history.history["loss"][0]
    assert model.history is history
    loss, mae = model.evaluate(x, y, verbose=0)
    # the epoch's loss is averaged while the weights improve, so evaluating after it is lower
    assert 0 < loss < history.history["loss"][-1]
    assert model.metrics_names == ["loss", "mae"]
    assert isinstance(model.predict(x, verbose=0), np.ndarray)


def test_validation_split_uses_last_fraction_before_shuffling():
    model = regression_model()
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")
    x, y = data(50)
    history = model.fit(x, y, epochs=1, batch_size=7, validation_split=0.2, verbose=0)
    expected = model.evaluate(x[40:], y[40:], verbose=0)
    assert history.history["val_loss"][0] == pytest.approx(expected, rel=1e-6)
    train_only = model.evaluate(x[:40], y[:40], verbose=0)
    assert history.history["loss"][0] == pytest.approx(train_only, rel=1e-5)


def test_validation_data_and_freq():
    model = regression_model()
    model.compile("adam", "mse")
    x, y = data()
    history = model.fit(
        x, y, epochs=4, validation_data=(x[:8], y[:8]), validation_freq=2, verbose=0
    )
    assert len(history.history["loss"]) == 4
    assert len(history.history["val_loss"]) == 2


def test_multi_output_names_follow_keras():
    x = keras.Input((3,), name="inp")
    a = layers.Dense(2, name="out_a")(x)
    b = layers.Dense(1, activation="sigmoid", name="out_b")(x)
    model = keras.Model(x, [a, b])
    model.compile(
        "adam",
        loss=["mse", "binary_crossentropy"],
        loss_weights=[1.0, 0.5],
        metrics=[["mae"], ["acc"]],
    )
    rng = np.random.default_rng(0)
    xs = rng.random((10, 3)).astype("float32")
    ys = [rng.random((10, 2)), (rng.random((10, 1)) > 0.5) * 1.0]
    history = model.fit(xs, ys, epochs=1, verbose=0, validation_split=0.2, batch_size=4)
    assert list(history.history) == [
        "loss",
        "out_a_loss",
        "out_a_mae",
        "out_b_acc",
        "out_b_loss",
        "val_loss",
        "val_out_a_loss",
        "val_out_a_mae",
        "val_out_b_acc",
        "val_out_b_loss",
    ]
    assert model.metrics_names == ["loss", "out_a_loss", "out_b_loss", "out_a_mae", "out_b_acc"]
    values = model.evaluate(xs, ys, verbose=0)
    as_dict = model.evaluate(xs, ys, verbose=0, return_dict=True)
    assert values[0] == pytest.approx(values[1] + 0.5 * values[2], rel=1e-5)
    assert as_dict["out_b_loss"] == pytest.approx(values[2])
    # dict forms by output name give the same thing
    model.compile(
        "adam",
        loss={"out_a": "mse", "out_b": "binary_crossentropy"},
        loss_weights={"out_a": 1.0, "out_b": 0.5},
        metrics={"out_a": "mae", "out_b": ["acc"]},
    )
    assert model.evaluate(xs, {"out_a": ys[0], "out_b": ys[1]}, verbose=0) == pytest.approx(values)


def test_regularization_is_added_to_the_loss():
    x = keras.Input((3,))
    y = layers.Dense(1, kernel_regularizer=keras.regularizers.l2(0.5), use_bias=False)(x)
    model = keras.Model(x, y)
    model.compile("sgd", "mse")
    xs, ys = data(8)
    model.set_weights([np.ones((3, 1), "float32")])
    plain = float(np.mean((xs.sum(axis=1, keepdims=True) - ys) ** 2))
    assert model.evaluate(xs, ys, verbose=0) == pytest.approx(plain + 0.5 * 3, rel=1e-5)


def test_sample_weight_and_class_weight():
    model = regression_model()
    model.compile("sgd", "mse")
    x, y = data(8)
    weights = np.array([1, 0, 0, 0, 0, 0, 0, 0], "float32")
    per_sample = ((model.predict(x, verbose=0) - y) ** 2)[:, 0]
    assert model.evaluate(x, y, sample_weight=weights, verbose=0) == pytest.approx(
        per_sample[0] / 8, rel=1e-5
    )
    clf = regression_model(outputs=2)
    clf.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    labels = np.array([0, 1] * 4)
    history = clf.fit(
        x, labels, class_weight={0: 1.0, 1: 0.0}, epochs=1, verbose=0, batch_size=8, shuffle=False
    )
    assert np.isfinite(history.history["loss"][0])


def test_generators_and_pydataset():
    model = regression_model()
    model.compile("adam", "mse")
    x, y = data(32)

    def gen():
        while True:
            for i in range(0, 32, 8):
                yield x[i : i + 8], y[i : i + 8]

    history = model.fit(gen(), steps_per_epoch=4, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2

    class Batches(keras.utils.PyDataset):
        def __init__(self):
            super().__init__()
            self.epochs_ended = 0

        def __len__(self):
            return 4

        def __getitem__(self, i):
            return x[i * 8 : (i + 1) * 8], y[i * 8 : (i + 1) * 8]

        def on_epoch_end(self):
            self.epochs_ended += 1

    batches = Batches()
    history = model.fit(batches, epochs=3, verbose=0, validation_data=batches)
    assert batches.epochs_ended >= 3 and len(history.history["val_loss"]) == 3
    assert model.predict(batches, verbose=0).shape == (32, 1)
    assert np.isfinite(model.evaluate(batches, verbose=0))


def test_on_batch_methods():
    model = regression_model()
    model.compile("sgd", "mse", metrics=["mae"])
    x, y = data(16)
    before = model.test_on_batch(x, y)
    after_step = model.train_on_batch(x, y)
    assert before[0] == pytest.approx(after_step[0], rel=1e-6)  # loss before the update
    assert model.test_on_batch(x, y)[0] < before[0]
    assert model.predict_on_batch(x).shape == (16, 1)
    assert set(model.train_on_batch(x, y, return_dict=True)) == {"loss", "mae"}


def test_custom_training_loop_like_the_keras_guide(xp):
    model = regression_model()
    optimizer = keras.optimizers.Adam(0.05)
    loss_fn = keras.losses.MeanSquaredError()
    metric = keras.metrics.MeanAbsoluteError()
    x, y = data(32)
    first = None
    for _ in range(30):
        with keras.GradientTape() as tape:
            pred = model(x, training=True)
            loss = loss_fn(y, pred)
        grads = tape.gradient(loss, model.trainable_weights)
        optimizer.apply_gradients(zip(grads, model.trainable_weights))
        metric.update_state(y, pred)
        first = float(loss) if first is None else first
    assert float(loss) < 0.5 * first
    assert int(optimizer.iterations.numpy()) == 30
    assert float(metric.result()) > 0
    metric.reset_state()


def test_bad_input_is_reported_before_training():
    model = regression_model(name="reg")
    x, y = data(10)
    with pytest.raises(ValueError, match="compile"):
        model.fit(x, y, verbose=0)
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match="10.*12|12.*10"):
        model.fit(x, np.zeros((12, 1)), verbose=0)
    with pytest.raises(ValueError, match="features"):
        model.fit(np.zeros((10, 4)), y, verbose=0)
    with pytest.raises(ValueError, match="validation_split"):
        model.fit((b for b in [(x, y)]), validation_split=0.5, verbose=0)
    with pytest.raises(ValueError, match="1 outputs.*2 entries"):
        model.compile("sgd", loss=["mse", "mae"])
    with pytest.raises(ValueError, match="not_a_loss"):
        model.compile("sgd", loss="not_a_loss")
    with pytest.raises(ValueError, match="not_an_optimizer"):
        model.compile("not_an_optimizer", loss="mse")


def test_stop_training_from_a_callback():
    class StopAfterTwo(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                self.model.stop_training = True

    model = regression_model()
    model.compile("sgd", "mse")
    x, y = data(16)
    history = model.fit(x, y, epochs=10, callbacks=[StopAfterTwo()], verbose=0)
    assert len(history.history["loss"]) == 2


def test_progress_output(capsys):
    model = regression_model()
    model.compile("sgd", "mse")
    x, y = data(16)
    model.fit(x, y, epochs=2, batch_size=8, verbose=2)
    out = capsys.readouterr().out
    assert "Epoch 1/2" in out and "Epoch 2/2" in out
    assert "2/2 - " in out and "loss: " in out
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert capsys.readouterr().out == ""


def test_trained_classifier_reaches_good_accuracy_on_digits():
    sklearn = pytest.importorskip("sklearn.datasets")
    digits = sklearn.load_digits()
    x = (digits.data / 16.0).astype("float32")
    y = digits.target
    keras.utils.set_random_seed(0)
    inputs = keras.Input((64,))
    h = layers.Dense(32, activation="relu")(inputs)
    out = layers.Dense(10, activation="softmax")(h)
    model = keras.Model(inputs, out)
    model.compile(
        keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    model.fit(x[:1400], y[:1400], epochs=10, batch_size=32, verbose=0)
    _, accuracy = model.evaluate(x[1400:], y[1400:], verbose=0)
    assert accuracy > 0.9


def test_empty_inputs_are_an_error_not_an_endless_loop():
    model = keras.Sequential([keras.Input((4,)), layers.Dense(2)])
    model.compile("adam", "mse")
    with pytest.raises(ValueError, match="non-empty"):
        model.predict(np.zeros((0, 4), "float32"), verbose=0)
    with pytest.raises(ValueError, match="non-empty"):
        model.fit(np.zeros((0, 4), "float32"), np.zeros((0, 2), "float32"), verbose=0)
